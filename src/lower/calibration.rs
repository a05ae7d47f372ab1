//! CalibratedClassifierCV's calibration maps as graph ops (see
//! `crate::ir::Calibrator` for the rules): the calibrators, the
//! normalisation and the 1 + 1e-5 clamp of one calibrated classifier.

use crate::graph::{Attribute, ElemType, Graph, Value};
use crate::ir::{Calibration, Calibrator};
use ndarray::{Array1, Array2};

fn unit_column(g: &mut Graph, k: usize, c: usize) -> Value {
    let mut e = Array2::<f64>::zeros((k, 1));
    e[[c, 0]] = 1.0;
    g.constant("unit_column", e.into_dyn())
}

fn concat(g: &mut Graph, parts: &[Value]) -> Value {
    g.op("Concat", parts, vec![Attribute::Int("axis", 1)])
}

/// One calibrator on an N×1 column.
fn calibrate(g: &mut Graph, t: Value, cal: &Calibrator) -> Value {
    match cal {
        Calibrator::Sigmoid { a, b } => {
            // expit(−(a·t + b)) = 1 / (1 + e^{a·t + b})
            let a = g.scalar("sigmoid_a", *a);
            let b = g.scalar("sigmoid_b", *b);
            let at = g.mul(t, a);
            let z = g.add(at, b);
            super::probability::one_over_one_plus_exp(g, z)
        }
        Calibrator::Isotonic { x, y, x_min, x_max } => {
            if x.len() == 1 {
                let zero = g.scalar("zero", 0.0);
                let blank = g.mul(t, zero);
                let y0 = g.scalar("isotonic_y", y[0]);
                return g.add(blank, y0);
            }
            let m = x.len();
            let lo = g.scalar("isotonic_x_min", *x_min);
            let hi = g.scalar("isotonic_x_max", *x_max);
            let t = g.max(t, lo);
            let t = g.min(t, hi);
            // scipy's interp1d: i = searchsorted(x, t) (left) clipped to [1, m − 1].
            let xs = g.constant(
                "isotonic_x",
                Array1::from(x.clone())
                    .insert_axis(ndarray::Axis(0))
                    .into_dyn(),
            );
            let below = g.less(xs, t);
            let float = g.float.elem();
            let below = g.cast(below, float);
            let count = g.reduce_sum(below, &[1], false);
            let one = g.scalar("one", 1.0);
            let last = g.scalar("isotonic_last", (m - 1) as f64);
            let index = g.max(count, one);
            let index = g.min(index, last);
            let index = g.cast(index, ElemType::I64);
            // Tables indexed by i: x[i−1], y[i−1] and the slope of segment i.
            let table = |f: &dyn Fn(usize) -> f64| {
                Array1::from_iter((0..m).map(|i| if i == 0 { 0.0 } else { f(i) }))
            };
            let x_lo = g.constant("isotonic_x_lo", table(&|i| x[i - 1]).into_dyn());
            let y_lo = g.constant("isotonic_y_lo", table(&|i| y[i - 1]).into_dyn());
            let slope = g.constant(
                "isotonic_slope",
                table(&|i| (y[i] - y[i - 1]) / (x[i] - x[i - 1])).into_dyn(),
            );
            let x_lo = g.gather(x_lo, index);
            let y_lo = g.gather(y_lo, index);
            let slope = g.gather(slope, index);
            let x_lo = g.reshape(x_lo, &[-1, 1]);
            let y_lo = g.reshape(y_lo, &[-1, 1]);
            let slope = g.reshape(slope, &[-1, 1]);
            let dx = g.sub(t, x_lo);
            let rise = g.mul(slope, dx);
            g.add(rise, y_lo)
        }
    }
}

/// Probabilities of one calibrated classifier, N×k.
pub(crate) fn member_probabilities(
    g: &mut Graph,
    decision: Value,
    calibration: &Calibration,
    k: usize,
) -> Value {
    let one = g.scalar("one", 1.0);
    let proba = match calibration {
        Calibration::PerClass(cals) if k == 2 => {
            let p1 = calibrate(g, decision, &cals[0]);
            let p0 = g.sub(one, p1);
            concat(g, &[p0, p1])
        }
        Calibration::PerClass(cals) => {
            let columns: Vec<Value> = cals
                .iter()
                .enumerate()
                .map(|(c, cal)| {
                    let e = unit_column(g, k, c);
                    let t = g.matmul(decision, e);
                    calibrate(g, t, cal)
                })
                .collect();
            let p = concat(g, &columns);
            // Divide by the row sum; the uniform distribution where it is 0.
            let den = g.reduce_sum(p, &[1], true);
            let zero = g.scalar("zero", 0.0);
            let is_zero = g.equal_float(den, zero);
            let safe = g.op("Where", &[is_zero, one, den], vec![]);
            let normalised = g.div(p, safe);
            let uniform = g.scalar("uniform", 1.0 / k as f64);
            g.op("Where", &[is_zero, uniform, normalised], vec![])
        }
        Calibration::Temperature { beta } => {
            let logits = if k == 2 {
                let neg = g.op("Neg", &[decision], vec![]);
                concat(g, &[neg, decision])
            } else {
                decision
            };
            let beta = g.scalar("temperature_beta", *beta);
            let z = g.mul(beta, logits);
            let top = g.reduce_max(z, &[1], true);
            let shifted = g.sub(z, top);
            let e = g.exp(shifted);
            let sum = g.reduce_sum(e, &[1], true);
            g.div(e, sum)
        }
    };
    // proba[(1 < p) & (p <= 1 + 1e-5)] = 1
    let limit = g.scalar("clamp_limit", 1.0 + 1e-5);
    let far_above = g.greater(proba, limit);
    let capped = g.min(proba, one);
    g.op("Where", &[far_above, proba, capped], vec![])
}
