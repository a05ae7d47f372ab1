//! Generated probe rows for validation when no data is given: the support
//! vectors themselves, midpoints between support vectors of different classes
//! (where decision values cross zero), and random rows in the support
//! vectors' bounding box. Deterministic, so reports are reproducible.

use crate::model::Model;
use ndarray::{Array2, Axis};

/// splitmix64: a tiny deterministic generator, enough for probe placement.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The fewest probe rows [`default_count`] gives, whatever the model's size.
pub const MIN_PROBES: usize = 256;
/// The most: small models get this many, which costs them nothing.
pub const MAX_PROBES: usize = 768;

/// How many probe rows to generate by default: [`MAX_PROBES`] for small
/// models, fewer for big ones so that the f64 reference stays around 4·10⁸
/// kernel multiply-adds, and never fewer than [`MIN_PROBES`].
pub fn default_count(model: &Model) -> usize {
    let (anchors, _) = model.anchor_points();
    let work = anchors.len().max(1);
    (400_000_000 / work).clamp(MIN_PROBES, MAX_PROBES)
}

/// Builds `count` probe rows (at least 4), a quarter of each kind: support
/// vectors, rows near them, midpoints between support vectors of different
/// classes, and uniform rows in their bounding box.
pub fn probes(model: &Model, count: usize) -> Array2<f64> {
    let (anchors, groups) = model.anchor_points();
    let svs = &anchors;
    let (s, d) = svs.dim();
    let n = count.max(4).div_ceil(4);
    let mut rng = SplitMix(PROBE_SEED);
    let mut rows: Vec<f64> = Vec::with_capacity(4 * n * d);
    let lo = svs.fold_axis(Axis(0), f64::INFINITY, |m, v| m.min(*v));
    let hi = svs.fold_axis(Axis(0), f64::NEG_INFINITY, |m, v| m.max(*v));

    // Support vectors, evenly strided when there are more than n.
    let step = s.div_ceil(n).max(1);
    for r in (0..s).step_by(step) {
        rows.extend(svs.row(r).iter());
    }
    // Rows near support vectors: each feature moved by up to 5 % of its
    // range, where kernel values are largest and change fastest.
    for _ in 0..n {
        let a = rng.below(s);
        for (f, &v) in svs.row(a).iter().enumerate() {
            rows.push(v + 0.05 * (2.0 * rng.unit() - 1.0) * (hi[f] - lo[f]));
        }
    }
    // Midpoints between anchors of two different groups (classes), or of any
    // two anchors when there is a single group; draws of one group are
    // retried a bounded number of times.
    let single = groups.iter().all(|&g| g == groups[0]);
    let mut made = 0;
    for _ in 0..8 * n {
        if made == n {
            break;
        }
        let a = rng.below(s);
        let b = rng.below(s);
        if !single && groups[a] == groups[b] {
            continue;
        }
        rows.extend(
            svs.row(a)
                .iter()
                .zip(svs.row(b).iter())
                .map(|(x, y)| 0.5 * (x + y)),
        );
        made += 1;
    }
    // Uniform rows in the bounding box.
    for _ in 0..n {
        for f in 0..d {
            rows.push(lo[f] + rng.unit() * (hi[f] - lo[f]));
        }
    }
    let count = rows.len() / d;
    let mut probes = Array2::from_shape_vec((count, d), rows).expect("rows are d wide");
    // Support vectors live after the pipeline's transforms; probes are inputs.
    for step in model.preprocessing().iter().rev() {
        step.invert(&mut probes);
    }
    probes
}

/// Fixed seed: probes are the same on every run.
const PROBE_SEED: u64 = 0x5eed_5a3d_2011_c0de;
