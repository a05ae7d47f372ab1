//! How much each pipeline step's float arithmetic rounds: the steps' part
//! of the float32 error model (`reference::bound`, docs/PRECISION.md).

use super::preprocess::Preprocess;
use ndarray::{Array2, ArrayView2, Axis};

/// Per row, the Euclidean norm.
pub(crate) fn row_norms(m: ArrayView2<f64>) -> Vec<f64> {
    m.outer_iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect()
}

/// Runs `steps` on `x` in f64 and returns, per row, the sum of their
/// [`Preprocess::magnitude`]s along the way, with the steps' output.
pub(crate) fn steps_magnitude(steps: &[Preprocess], mut x: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let mut total = vec![0.0; x.nrows()];
    for step in steps {
        for (a, m) in total.iter_mut().zip(step.magnitude(&x)) {
            *a += m;
        }
        step.apply(&mut x);
    }
    (total, x)
}

impl Preprocess {
    /// Per row, the size of what the step's float arithmetic rounds: its
    /// output carries about unit roundoff times this much error of its own
    /// (the float32 error model, `reference::bound`). A running-error
    /// estimate: each step's result computed on magnitudes (|x|, |weights|),
    /// with the kernel steps' argument magnitudes and normalisation.
    pub fn magnitude(&self, x: &Array2<f64>) -> Vec<f64> {
        let abs_x = x.mapv(|v| if v.is_nan() { 0.0 } else { v.abs() });
        match self {
            Preprocess::StandardScaler { mean, scale } => {
                let mut m = abs_x;
                if let Some(mean) = mean {
                    m += &mean.mapv(f64::abs);
                }
                if let Some(s) = scale {
                    m /= &s.mapv(f64::abs);
                }
                row_norms(m.view())
            }
            Preprocess::MinMaxScaler { min, scale, .. } => {
                row_norms((abs_x * &scale.mapv(f64::abs) + &min.mapv(f64::abs)).view())
            }
            Preprocess::Projection(p) => p.magnitude(&abs_x),
            Preprocess::RandomFeatures(r) => r.magnitude(&abs_x),
            Preprocess::Nystroem(n) => n.magnitude(x),
            Preprocess::Union(u) => {
                let mut total = vec![0.0; x.nrows()];
                for b in &u.branches {
                    let (m, _) = steps_magnitude(&b.steps, x.select(Axis(1), &b.columns));
                    for (a, m) in total.iter_mut().zip(m) {
                        *a += m;
                    }
                }
                total
            }
            // Products of up to three features: three roundings each.
            Preprocess::Polynomial(_) => {
                let mut t = x.clone();
                self.apply(&mut t);
                row_norms(t.view()).into_iter().map(|n| 3.0 * n).collect()
            }
            // One rounding of each output value (or none: copies).
            _ => {
                let mut t = x.clone();
                self.apply(&mut t);
                row_norms(t.mapv(|v| if v.is_nan() { 0.0 } else { v }).view())
            }
        }
    }
}
