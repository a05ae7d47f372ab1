//! Pipeline steps as graph ops, with scikit-learn's formulas (§4): a
//! division where sklearn divides, clipping with Max/Min, tiny row norms
//! replaced by 1 with Where.

use crate::graph::{Attribute, Graph, Value};
use crate::ir::{
    Imputer, Missing, Norm, Nystroem, Polynomial, Preprocess, Projection, RandomFeatures, Union,
    TINY,
};
use ndarray::Array1;

fn row_constant(g: &mut Graph, name: &str, v: &Array1<f64>) -> Value {
    g.constant(name, v.clone().insert_axis(ndarray::Axis(0)).into_dyn())
}

/// Applies every step to `x` in order.
pub fn apply(g: &mut Graph, mut x: Value, steps: &[Preprocess]) -> Value {
    for step in steps {
        x = match step {
            Preprocess::StandardScaler { mean, scale } => {
                if let Some(m) = mean {
                    let m = row_constant(g, "scaler_mean", m);
                    x = g.sub(x, m);
                }
                if let Some(s) = scale {
                    let s = row_constant(g, "scaler_scale", s);
                    x = g.div(x, s);
                }
                x
            }
            Preprocess::MinMaxScaler {
                min,
                scale,
                feature_range: (a, b),
                clip,
            } => {
                let s = row_constant(g, "minmax_scale", scale);
                let m = row_constant(g, "minmax_min", min);
                let scaled = g.mul(x, s);
                let shifted = g.add(scaled, m);
                if *clip {
                    clip_to(g, shifted, *a, *b)
                } else {
                    shifted
                }
            }
            Preprocess::MaxAbsScaler { scale, clip } => {
                let s = row_constant(g, "maxabs_scale", scale);
                let scaled = g.div(x, s);
                if *clip {
                    clip_to(g, scaled, -1.0, 1.0)
                } else {
                    scaled
                }
            }
            Preprocess::Normalizer { norm } => normalize(g, x, *norm),
            Preprocess::Projection(p) => project(g, x, p),
            Preprocess::Imputer(i) => impute(g, x, i),
            Preprocess::Selection(s) => gather_columns(g, x, &s.kept(), "selected_features"),
            Preprocess::Polynomial(p) => polynomial(g, x, p),
            Preprocess::RandomFeatures(r) => random_features(g, x, r),
            Preprocess::Nystroem(n) => nystroem(g, x, n),
            Preprocess::Union(u) => union(g, x, u),
        };
    }
    x
}

fn clip_to(g: &mut Graph, x: Value, lo: f64, hi: f64) -> Value {
    let lo = g.scalar("clip_min", lo);
    let hi = g.scalar("clip_max", hi);
    let above = g.max(x, lo);
    g.min(above, hi)
}

fn normalize(g: &mut Graph, x: Value, norm: Norm) -> Value {
    let norms = match norm {
        Norm::L1 => {
            let a = g.abs(x);
            g.reduce_sum(a, &[1], true)
        }
        Norm::L2 => {
            let sq = g.mul(x, x);
            let sum = g.reduce_sum(sq, &[1], true);
            g.sqrt(sum)
        }
        Norm::Max => {
            let a = g.abs(x);
            g.reduce_max(a, &[1], true)
        }
    };
    let tiny = g.scalar("tiny_norm", TINY);
    let one = g.scalar("one", 1.0);
    let is_tiny = g.less(norms, tiny);
    let safe = g.op("Where", &[is_tiny, one, norms], vec![]);
    let safe = g.rename(safe, "row_norms");
    g.div(x, safe)
}

/// `(x − mean)·Cᵀ`, divided by the whitening scale when PCA whitens.
fn project(g: &mut Graph, mut x: Value, p: &Projection) -> Value {
    if let Some(m) = &p.mean {
        let m = row_constant(g, "pca_mean", m);
        x = g.sub(x, m);
    }
    let ct = g.constant(
        "projection_components_t",
        p.components.t().to_owned().into_dyn(),
    );
    let mut z = g.matmul(x, ct);
    if let Some(s) = p.whiten_scale() {
        let s = row_constant(g, "pca_whiten_scale", &s);
        z = g.div(z, s);
    }
    z
}

/// `Where(missing, statistics, x)` on the kept columns (a Gather when some
/// are dropped), then the indicator's columns of the mask, cast to the
/// float type, concatenated after them.
fn impute(g: &mut Graph, x: Value, imputer: &Imputer) -> Value {
    let mask = match imputer.missing {
        // NaN is the one value not equal to itself: Not(Equal(x, x)) marks
        // it with ops every runtime has in float64 (tract's IsNaN has no
        // float64 kernel).
        Missing::NaN => {
            let same = g.op("Equal", &[x, x], vec![]);
            g.not(same)
        }
        Missing::Value(v) => {
            let v = g.scalar("missing_value", v);
            g.op("Equal", &[x, v], vec![])
        }
    };
    let mask = g.rename(mask, "missing_mask");
    // Dropped features' statistics are NaN; their column is gathered away.
    let fill = Array1::from_iter(
        imputer
            .statistics
            .iter()
            .map(|s| if s.is_nan() { 0.0 } else { *s }),
    );
    let fill = row_constant(g, "imputer_statistics", &fill);
    let mut imputed = g.op("Where", &[mask, fill, x], vec![]);
    let kept = imputer.kept();
    if kept.len() < imputer.statistics.len() {
        imputed = gather_columns(g, imputed, &kept, "imputer_kept");
    }
    let Some(features) = &imputer.indicator else {
        return imputed;
    };
    if features.is_empty() {
        return imputed;
    }
    let flags = gather_columns(g, mask, features, "indicator_features");
    let elem = g.float.elem();
    let flags = g.cast(flags, elem);
    if kept.is_empty() {
        return flags;
    }
    g.op("Concat", &[imputed, flags], vec![Attribute::Int("axis", 1)])
}

/// The listed columns of an N×d value (`Gather` along axis 1).
fn gather_columns(g: &mut Graph, x: Value, columns: &[usize], name: &str) -> Value {
    let idx = g.constant_i64(
        name,
        Array1::from_iter(columns.iter().map(|&c| c as i64)).into_dyn(),
    );
    g.op("Gather", &[x, idx], vec![Attribute::Int("axis", 1)])
}

/// Each degree's block is the previous degree's block, gathered at each
/// term's tail `[c1, …]`, times the gathered columns `x[c0]`: scikit-learn's
/// multiplication order. The bias column is `x[:, 0]·0 + 1` (a row of ones
/// for finite inputs, without shape ops).
fn polynomial(g: &mut Graph, x: Value, p: &Polynomial) -> Value {
    let mut parts = Vec::new();
    if p.include_bias {
        let first = gather_columns(g, x, &[0], "bias_source");
        let zero = g.scalar("zero", 0.0);
        let one = g.scalar("one", 1.0);
        let zeros = g.mul(first, zero);
        parts.push(g.add(zeros, one));
    }
    if p.min_degree <= 1 && p.max_degree >= 1 {
        parts.push(x);
    }
    let mut previous = x;
    let mut previous_terms = p.terms_of_degree(1);
    for degree in 2..=p.max_degree {
        let terms = p.terms_of_degree(degree);
        let tails: Vec<usize> = terms
            .iter()
            .map(|t| {
                previous_terms
                    .iter()
                    .position(|q| q[..] == t[1..])
                    .expect("a term's tail is a term of the degree below")
            })
            .collect();
        let heads: Vec<usize> = terms.iter().map(|t| t[0]).collect();
        let tail = gather_columns(g, previous, &tails, "poly_tails");
        let head = gather_columns(g, x, &heads, "poly_heads");
        let block = g.mul(tail, head);
        if degree >= p.min_degree {
            parts.push(block);
        }
        previous = block;
        previous_terms = terms;
    }
    match parts.as_slice() {
        [one] => *one,
        _ => g.op("Concat", &parts, vec![Attribute::Int("axis", 1)]),
    }
}

/// Each branch on its gathered columns (all of them: no Gather), its steps
/// applied, the outputs concatenated in branch order.
fn union(g: &mut Graph, x: Value, u: &Union) -> Value {
    let all: Vec<usize> = (0..u.n_in).collect();
    let parts: Vec<Value> = u
        .branches
        .iter()
        .map(|b| {
            let input = if b.columns == all {
                x
            } else {
                gather_columns(g, x, &b.columns, "branch_columns")
            };
            apply(g, input, &b.steps)
        })
        .collect();
    match parts.as_slice() {
        [one] => *one,
        _ => g.op("Concat", &parts, vec![Attribute::Int("axis", 1)]),
    }
}

/// RBFSampler in scikit-learn's order: `MatMul(W)`, `Add(offset)`, `Cos`,
/// `Mul(√(2/n))`.
fn random_features(g: &mut Graph, x: Value, r: &RandomFeatures) -> Value {
    let w = g.constant("rbf_sampler_weights", r.weights.clone().into_dyn());
    let projected = g.matmul(x, w);
    let offset = row_constant(g, "rbf_sampler_offset", &r.offset);
    let shifted = g.add(projected, offset);
    let waves = g.cos(shifted);
    let scale = g.scalar("rbf_sampler_scale", r.scale());
    g.mul(waves, scale)
}

/// The kernel block against the basis rows (the SVMs' `kernel_block`, so
/// the same exact forms), then `MatMul(normalizationᵀ)`.
fn nystroem(g: &mut Graph, x: Value, n: &Nystroem) -> Value {
    let basis = std::sync::Arc::new(n.components.clone());
    let k = super::kernel::kernel_block(g, x, &n.kernel, &basis, None);
    let nt = g.constant(
        "nystroem_normalization_t",
        n.normalization.t().to_owned().into_dyn(),
    );
    g.matmul(k, nt)
}
