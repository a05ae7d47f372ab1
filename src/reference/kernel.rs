//! Kernel values exactly as libsvm evaluates them at predict time (§1.2).

use crate::ir::Kernel;
use ndarray::{ArrayView1, ArrayView2, Axis};

/// libsvm's dense dot product: a plain left-to-right sum.
fn dot(x: ArrayView1<f64>, s: ArrayView1<f64>) -> f64 {
    let mut sum = 0.0;
    for (a, b) in x.iter().zip(s.iter()) {
        sum += a * b;
    }
    sum
}

/// libsvm's `powi`: integer power by repeated squaring (§1.2).
pub(crate) fn powi(base: f64, times: u32) -> f64 {
    let (mut tmp, mut ret) = (base, 1.0);
    let mut t = times;
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

/// `K(x, s)` exactly as libsvm evaluates it at predict time. RBF uses the
/// direct difference, not the ‖x‖²+‖s‖²−2x·s expansion (§1.2).
pub fn kernel_value(kernel: &Kernel, x: ArrayView1<f64>, s: ArrayView1<f64>) -> f64 {
    match *kernel {
        Kernel::Linear => dot(x, s),
        Kernel::Rbf { gamma } => {
            let mut sum = 0.0;
            for (a, b) in x.iter().zip(s.iter()) {
                let d = a - b;
                sum += d * d;
            }
            (-gamma * sum).exp()
        }
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => powi(gamma * dot(x, s) + coef0, degree),
        Kernel::Sigmoid { gamma, coef0 } => (gamma * dot(x, s) + coef0).tanh(),
    }
}

/// Rows per block in [`for_each_kernel_row`]: the block's kernel values stay
/// in cache while the support vectors stream past once per block instead of
/// once per row (a big model's vectors do not fit in cache; streaming them
/// once per row was the validator's bottleneck).
const ROW_BLOCK: usize = 64;

/// Calls `f(n, K(x_n, ·))` for every row of `x`, computing the kernel values
/// a block of rows at a time with [`kernel_rows`].
pub fn for_each_kernel_row(
    kernel: &Kernel,
    x: ArrayView2<f64>,
    svs: ArrayView2<f64>,
    mut f: impl FnMut(usize, &[f64]),
) {
    for_each_kernel_row_with_sums(kernel, x, svs, |n, values, _| f(n, values));
}

/// [`for_each_kernel_row`], also giving each value's sum before the kernel
/// finishes it (`‖x − s‖²` for RBF, `x·s` otherwise): the float32 error
/// model (`bound`) needs it.
pub(crate) fn for_each_kernel_row_with_sums(
    kernel: &Kernel,
    x: ArrayView2<f64>,
    svs: ArrayView2<f64>,
    mut f: impl FnMut(usize, &[f64], &[f64]),
) {
    let s = svs.nrows();
    let capacity = ROW_BLOCK.min(x.nrows()) * s;
    let (mut sums, mut values) = (vec![0.0; capacity], vec![0.0; capacity]);
    for (b, rows) in x.axis_chunks_iter(Axis(0), ROW_BLOCK).enumerate() {
        let (sums, values) = (
            &mut sums[..rows.nrows() * s],
            &mut values[..rows.nrows() * s],
        );
        kernel_sums(kernel, rows, svs, sums);
        for (v, &sum) in values.iter_mut().zip(sums.iter()) {
            *v = finish_kernel(kernel, sum);
        }
        for r in 0..rows.nrows() {
            let at = r * s..(r + 1) * s;
            f(b * ROW_BLOCK + r, &values[at.clone()], &sums[at]);
        }
    }
}

/// `K(x_r, s)` for a block of rows and every support vector, row-major
/// (`out[r·S + s]`), each value bit-identical to [`kernel_value`]: every
/// pair's sum still runs left to right from 0, only the pairs are
/// interleaved (8 rows × 4 support vectors, 32 independent chains).
pub fn kernel_rows(kernel: &Kernel, xs: ArrayView2<f64>, svs: ArrayView2<f64>, out: &mut [f64]) {
    kernel_sums(kernel, xs, svs, out);
    for v in out.iter_mut() {
        *v = finish_kernel(kernel, *v);
    }
}

/// The sums kernel values are finished from: Σ(x−s)² for RBF, x·s
/// otherwise, each left to right (libsvm's order).
fn kernel_sums(kernel: &Kernel, xs: ArrayView2<f64>, svs: ArrayView2<f64>, out: &mut [f64]) {
    match kernel {
        Kernel::Rbf { .. } => tile_sums(xs, svs, out, |a, b| (a - b) * (a - b)),
        _ => tile_sums(xs, svs, out, |a, b| a * b),
    }
}

/// The kernel from its sum: Σ(x−s)² for RBF, x·s otherwise (libsvm's order).
fn finish_kernel(kernel: &Kernel, sum: f64) -> f64 {
    match *kernel {
        Kernel::Linear => sum,
        Kernel::Rbf { gamma } => (-gamma * sum).exp(),
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => powi(gamma * sum + coef0, degree),
        Kernel::Sigmoid { gamma, coef0 } => (gamma * sum + coef0).tanh(),
    }
}

/// Rows per tile: the rows of a tile are packed feature-major, so that one
/// feature of all of them is one vector load.
const TILE_ROWS: usize = 8;
/// Support vectors per tile (each feature broadcast once per tile row set).
const TILE_SVS: usize = 4;

/// `out[r·S + s] = Σ_j term(x_r[j], s[j])`, left to right, in tiles of
/// 8 rows × 4 support vectors. Each lane performs the scalar loop's very
/// operations (no fused multiply-add: Rust never contracts), so the values
/// are bit-identical whatever the vector width; AVX2 only widens the lanes.
fn tile_sums(
    xs: ArrayView2<f64>,
    svs: ArrayView2<f64>,
    out: &mut [f64],
    term: impl Fn(f64, f64) -> f64 + Copy,
) {
    let (rows, d) = xs.dim();
    let n = svs.nrows();
    let Some(sall) = svs.as_slice() else {
        for (r, x) in xs.outer_iter().enumerate() {
            sums_by_four(x, svs, &mut out[r * n..(r + 1) * n], term);
        }
        return;
    };
    let full_rows = rows - rows % TILE_ROWS;
    let full_svs = n - n % TILE_SVS;
    // The tiled rows, feature-major per tile: packed[t·d·8 + j·8 + l].
    let mut packed = vec![0.0; full_rows * d];
    for (t, tile) in packed.chunks_exact_mut(d * TILE_ROWS).enumerate() {
        for l in 0..TILE_ROWS {
            for (j, &v) in xs.row(t * TILE_ROWS + l).iter().enumerate() {
                tile[j * TILE_ROWS + l] = v;
            }
        }
    }
    let tiles = Tiles {
        packed: &packed,
        svs: sall,
        d,
        n,
        full_svs,
    };
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            unsafe { tiles_avx512(&tiles, out, term) };
        } else if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { tiles_avx2(&tiles, out, term) };
        } else {
            tiles.run(out, term);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    tiles.run(out, term);

    // The edges: support vectors past the last full tile for the tiled
    // rows, every support vector for the rows past them.
    for r in 0..rows {
        let x = xs.row(r);
        let from = if r < full_rows { full_svs } else { 0 };
        for s in from..n {
            let mut acc = 0.0;
            for (&a, &b) in x.iter().zip(&sall[s * d..(s + 1) * d]) {
                acc += term(a, b);
            }
            out[r * n + s] = acc;
        }
    }
}

/// The full tiles of one [`tile_sums`] call.
struct Tiles<'a> {
    packed: &'a [f64],
    svs: &'a [f64],
    d: usize,
    n: usize,
    full_svs: usize,
}

impl Tiles<'_> {
    #[inline(always)]
    fn run(&self, out: &mut [f64], term: impl Fn(f64, f64) -> f64 + Copy) {
        let (d, n) = (self.d, self.n);
        for (t, tile) in self.packed.chunks_exact(d * TILE_ROWS).enumerate() {
            for s0 in (0..self.full_svs).step_by(TILE_SVS) {
                let sv: [&[f64]; TILE_SVS] =
                    std::array::from_fn(|k| &self.svs[(s0 + k) * d..(s0 + k + 1) * d]);
                let mut acc = [[0.0f64; TILE_ROWS]; TILE_SVS];
                for (j, x) in tile.chunks_exact(TILE_ROWS).enumerate() {
                    for (acc, sv) in acc.iter_mut().zip(&sv) {
                        let s = sv[j];
                        for (slot, &a) in acc.iter_mut().zip(x) {
                            *slot += term(a, s);
                        }
                    }
                }
                for (k, acc) in acc.iter().enumerate() {
                    for (l, &v) in acc.iter().enumerate() {
                        out[(t * TILE_ROWS + l) * n + s0 + k] = v;
                    }
                }
            }
        }
    }
}

/// [`Tiles::run`] compiled for AVX-512: the same operations eight lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tiles_avx512(tiles: &Tiles, out: &mut [f64], term: impl Fn(f64, f64) -> f64 + Copy) {
    tiles.run(out, term);
}

/// [`Tiles::run`] compiled for AVX2: the same operations four lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn tiles_avx2(tiles: &Tiles, out: &mut [f64], term: impl Fn(f64, f64) -> f64 + Copy) {
    tiles.run(out, term);
}

/// `K(x, s)` for every support vector, each value bit-identical to
/// [`kernel_value`]. Four support vectors are walked side by side so the four
/// left-to-right sums are independent chains the CPU can overlap: same
/// operations in the same order per value, about four times the throughput
/// (validating 10,000 rows of a large model in seconds).
pub fn kernel_row(kernel: &Kernel, x: ArrayView1<f64>, svs: ArrayView2<f64>, out: &mut [f64]) {
    let finish = |sum: f64| finish_kernel(kernel, sum);
    match kernel {
        Kernel::Rbf { .. } => sums_by_four(x, svs, out, |a, b| (a - b) * (a - b)),
        _ => sums_by_four(x, svs, out, |a, b| a * b),
    }
    for v in out.iter_mut() {
        *v = finish(*v);
    }
}

/// `out[s] = Σ_j term(x_j, s_j)`, left to right, four rows at a time.
fn sums_by_four(
    x: ArrayView1<f64>,
    svs: ArrayView2<f64>,
    out: &mut [f64],
    term: impl Fn(f64, f64) -> f64,
) {
    let n = svs.nrows();
    let mut full = n - n % 4;
    match (x.as_slice(), svs.as_slice()) {
        // Contiguous rows (the usual case): plain slices, no index checks.
        (Some(x), Some(all)) => {
            let d = x.len();
            for (block, chunk) in all.chunks_exact(4 * d).enumerate() {
                let (r0, rest) = chunk.split_at(d);
                let (r1, rest) = rest.split_at(d);
                let (r2, r3) = rest.split_at(d);
                let mut acc = [0.0f64; 4];
                for j in 0..d {
                    let a = x[j];
                    acc[0] += term(a, r0[j]);
                    acc[1] += term(a, r1[j]);
                    acc[2] += term(a, r2[j]);
                    acc[3] += term(a, r3[j]);
                }
                out[4 * block..4 * block + 4].copy_from_slice(&acc);
            }
        }
        _ => full = 0,
    }
    for (s, slot) in out.iter_mut().enumerate().take(n).skip(full) {
        let mut acc = 0.0;
        for (&a, &b) in x.iter().zip(svs.row(s).iter()) {
            acc += term(a, b);
        }
        *slot = acc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_row_is_bit_identical_to_kernel_value() {
        let svs = ndarray::Array2::from_shape_fn((11, 7), |(i, j)| {
            ((i * 7 + j) as f64 * 0.37).sin() * 10f64.powi((j % 4) as i32)
        });
        let x = ndarray::Array1::from_shape_fn(7, |j| (j as f64 * 1.3).cos() * 5.0);
        for kernel in [
            Kernel::Linear,
            Kernel::Rbf { gamma: 0.013 },
            Kernel::Poly {
                gamma: 0.2,
                coef0: 1.5,
                degree: 3,
            },
            Kernel::Sigmoid {
                gamma: 0.01,
                coef0: -0.3,
            },
        ] {
            let mut row = vec![0.0; 11];
            kernel_row(&kernel, x.view(), svs.view(), &mut row);
            for (s, v) in row.iter().enumerate() {
                let want = kernel_value(&kernel, x.view(), svs.row(s));
                assert_eq!(v.to_bits(), want.to_bits(), "{kernel:?} sv {s}");
            }
            // Blocks of 1..=17 rows: full 8×4 tiles and both edges.
            for rows in 1..=17 {
                let xs = ndarray::Array2::from_shape_fn((rows, 7), |(r, j)| {
                    ((r * 3 + j) as f64 * 0.71).cos() * 4.0 - r as f64
                });
                let mut block = vec![0.0; rows * 11];
                kernel_rows(&kernel, xs.view(), svs.view(), &mut block);
                // And a non-contiguous view (the per-row fallback).
                let t = xs.t().to_owned();
                let mut strided = vec![0.0; rows * 11];
                kernel_rows(&kernel, t.t(), svs.view(), &mut strided);
                for r in 0..rows {
                    for s in 0..11 {
                        let want = kernel_value(&kernel, xs.row(r), svs.row(s));
                        assert_eq!(
                            block[r * 11 + s].to_bits(),
                            want.to_bits(),
                            "{kernel:?} {r} {s}"
                        );
                        assert_eq!(strided[r * 11 + s].to_bits(), want.to_bits());
                    }
                }
            }
        }
    }

    /// `kernel_rows` runs whichever tile code the CPU allows; each one this
    /// CPU has must give the plain tiles' bits, for both sums.
    #[test]
    fn every_tile_code_path_gives_the_same_bits() {
        let (rows, n, d) = (16, 12, 37);
        let packed: Vec<f64> = (0..rows * d)
            .map(|i| ((i as f64) * 0.731).sin() * 10f64.powi((i % 5) as i32 - 2))
            .collect();
        let svs: Vec<f64> = (0..n * d)
            .map(|i| ((i as f64) * 1.37).cos() * 10f64.powi((i % 3) as i32 - 1))
            .collect();
        let tiles = Tiles {
            packed: &packed,
            svs: &svs,
            d,
            n,
            full_svs: n,
        };
        for term in [|a: f64, b: f64| (a - b) * (a - b), |a: f64, b: f64| a * b] {
            let mut plain = vec![0.0; rows * n];
            tiles.run(&mut plain, term);
            #[cfg(target_arch = "x86_64")]
            {
                let same_bits = |wide: &[f64]| {
                    plain
                        .iter()
                        .zip(wide)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                };
                let mut wide = vec![0.0; rows * n];
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 is present (checked above).
                    unsafe { tiles_avx2(&tiles, &mut wide, term) };
                    assert!(same_bits(&wide), "AVX2 tiles");
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: AVX-512F is present (checked above).
                    unsafe { tiles_avx512(&tiles, &mut wide, term) };
                    assert!(same_bits(&wide), "AVX-512 tiles");
                }
            }
            // And the plain tiles are the scalar left-to-right sums.
            for t in 0..rows / TILE_ROWS {
                for l in 0..TILE_ROWS {
                    for s in 0..n {
                        let mut acc = 0.0;
                        for j in 0..d {
                            acc += term(
                                packed[t * d * TILE_ROWS + j * TILE_ROWS + l],
                                svs[s * d + j],
                            );
                        }
                        assert_eq!(acc.to_bits(), plain[(t * TILE_ROWS + l) * n + s].to_bits());
                    }
                }
            }
        }
    }

    #[test]
    fn powi_matches_repeated_multiplication() {
        for d in 1..10u32 {
            let want = (0..d).fold(1.0, |acc, _| acc * 1.5);
            assert!((powi(1.5, d) - want).abs() <= 1e-12 * want);
        }
        assert_eq!(powi(-2.0, 3), -8.0);
        assert_eq!(powi(7.0, 0), 1.0);
    }
}
