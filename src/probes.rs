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

/// How many rows of each kind to generate: up to `per_kind`, fewer for big
/// models so validation stays around 2·10⁸ kernel multiply-adds.
pub fn rows_per_kind(anchors: usize, per_kind: usize) -> usize {
    let work = anchors.max(1);
    (200_000_000 / work / 3).clamp(8, per_kind)
}

/// Builds the probe rows.
pub fn probes(model: &Model, per_kind: usize) -> Array2<f64> {
    let (anchors, groups) = model.anchor_points();
    let svs = &anchors;
    let (s, d) = svs.dim();
    let n = rows_per_kind(svs.len(), per_kind);
    let mut rng = SplitMix(PROBE_SEED);
    let mut rows: Vec<f64> = Vec::with_capacity(3 * n * d);

    // Support vectors, evenly strided when there are more than n.
    let step = s.div_ceil(n).max(1);
    for r in (0..s).step_by(step) {
        rows.extend(svs.row(r).iter());
    }
    // Midpoints between anchors of two different groups (classes), or of any
    // two anchors when there is a single group.
    let single = groups.iter().all(|&g| g == groups[0]);
    for _ in 0..n {
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
    }
    // Uniform rows in the bounding box.
    let lo = svs.fold_axis(Axis(0), f64::INFINITY, |m, v| m.min(*v));
    let hi = svs.fold_axis(Axis(0), f64::NEG_INFINITY, |m, v| m.max(*v));
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
