//! Pipeline steps as graph ops, with scikit-learn's formulas (§4): a
//! division where sklearn divides, clipping with Max/Min, tiny row norms
//! replaced by 1 with Where.

use crate::graph::{Graph, Value};
use crate::ir::{Norm, Preprocess, Projection, TINY};
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
