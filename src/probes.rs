//! Generated probe rows for validation when no data is given: the support
//! vectors themselves, rows near them, midpoints between support vectors of
//! different classes, random rows in the support vectors' bounding box, and
//! rows on the decision boundary (small classifiers). Deterministic, so
//! reports are reproducible.

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

/// Builds about `count` probe rows (at least 4), a quarter of each kind:
/// support vectors (all of them when there are fewer), rows near them,
/// midpoints between support vectors of different classes (fewer when such
/// pairs are rare among the draws), and uniform rows in their bounding box;
/// then, for classifiers whose reference is cheap enough to bisect, one row
/// on the decision boundary per midpoint segment whose ends are labelled
/// differently.
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
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..8 * n {
        if pairs.len() == n {
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
        pairs.push((a, b));
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
    match boundary_rows(model, svs, &pairs) {
        Some(on_boundary) => ndarray::concatenate(Axis(0), &[probes.view(), on_boundary.view()])
            .expect("rows of one width"),
        None => probes,
    }
}

/// Bisection steps towards the decision boundary: each halves the segment
/// the label changes on, so rows end within 2⁻¹⁰ of its length from it.
const BISECTIONS: usize = 10;

/// Kernel multiply-adds the boundary search may spend: it evaluates the
/// reference `BISECTIONS + 2` times on its rows, which for a big model would
/// cost more than the validation itself; big models keep the midpoints.
const BOUNDARY_BUDGET: usize = 50_000_000;

/// Rows on the decision boundary of a classifier (or a novelty detector):
/// along each segment between two anchors whose labels differ, the point
/// where the label changes, found by bisection on the reference's labels in
/// input space. None for regressors, CalibratedClassifierCV, LIBSVM
/// one-class models with density marks, and when the search would cost more
/// than [`BOUNDARY_BUDGET`].
fn boundary_rows(
    model: &Model,
    anchors: &Array2<f64>,
    pairs: &[(usize, usize)],
) -> Option<Array2<f64>> {
    let work = anchors.len() * pairs.len() * (BISECTIONS + 2);
    // CalibratedClassifierCV's probabilities jump where its multiclass
    // base's votes flip, which is where its labels change; validation holds
    // probabilities to the tolerance alone (no float32 bound), so rows put
    // there on purpose would fail on float32 rounding, not on a fault.
    // LIBSVM one-class probabilities are a step function of the decision
    // value (density marks, §7), with a mark near 0: the same jump.
    let calibrated = matches!(model, Model::Calibrated(_));
    let stepped = matches!(model, Model::Dual(d) if d.density_marks().is_some());
    let skip = calibrated || stepped || model.label_classes().is_none();
    if pairs.is_empty() || skip || work > BOUNDARY_BUDGET {
        return None;
    }
    let mut ends = Array2::<f64>::zeros((2 * pairs.len(), anchors.ncols()));
    for (i, &(a, b)) in pairs.iter().enumerate() {
        ends.row_mut(2 * i).assign(&anchors.row(a));
        ends.row_mut(2 * i + 1).assign(&anchors.row(b));
    }
    for step in model.preprocessing().iter().rev() {
        step.invert(&mut ends);
    }
    // The input's width (the steps may change it).
    let d = ends.ncols();
    let labels = model.evaluate(ends.view()).label_index;
    if labels.len() != ends.nrows() {
        return None;
    }
    // Segments whose ends the model labels differently: [lo, hi] in t.
    let mut segments: Vec<(usize, f64, f64)> = (0..pairs.len())
        .filter(|&i| labels[2 * i] != labels[2 * i + 1])
        .map(|i| (i, 0.0, 1.0))
        .collect();
    if segments.is_empty() {
        return None;
    }
    let at = |i: usize, t: f64| {
        let (a, b) = (ends.row(2 * i), ends.row(2 * i + 1));
        a.iter()
            .zip(b)
            .map(|(x, y)| x + t * (y - x))
            .collect::<Vec<f64>>()
    };
    let points = |segments: &[(usize, f64, f64)]| {
        let flat: Vec<f64> = segments
            .iter()
            .flat_map(|&(i, lo, hi)| at(i, 0.5 * (lo + hi)))
            .collect();
        Array2::from_shape_vec((segments.len(), d), flat).expect("rows of width d")
    };
    for _ in 0..BISECTIONS {
        let mids = model.evaluate(points(&segments).view()).label_index;
        for (seg, &label) in segments.iter_mut().zip(&mids) {
            let mid = 0.5 * (seg.1 + seg.2);
            // Keep the half whose ends still carry different labels.
            if label == labels[2 * seg.0] {
                seg.1 = mid;
            } else {
                seg.2 = mid;
            }
        }
    }
    Some(points(&segments))
}

/// Fixed seed: probes are the same on every run.
const PROBE_SEED: u64 = 0x5eed_5a3d_2011_c0de;
