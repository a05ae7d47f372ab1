//! The reference evaluator on a large batch, split across threads.

use crate::model::Model;
use crate::reference::{Evaluation, F32Bound};
use ndarray::{ArrayView2, Axis};

/// Below this many rows per thread, starting threads costs more than it
/// saves (a small model's whole batch takes microseconds).
const MIN_ROWS_PER_THREAD: usize = 16;

/// The reference on a batch with its rows split across threads. The f64
/// reference is a plain loop in libsvm's order, one kernel value at a time;
/// on 10,000 rows of a large model one core would take minutes. Rows are
/// independent, so the result is the same as one call.
///
/// With `bounded`, each score also gets its float32 bound
/// (`Model::evaluate_bounded`).
pub(crate) fn evaluate_in_parallel(model: &Model, x: ArrayView2<f64>, bounded: bool) -> Evaluation {
    let evaluate = |rows: ArrayView2<f64>| {
        if bounded {
            model.evaluate_bounded(rows)
        } else {
            model.evaluate(rows)
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(x.nrows() / MIN_ROWS_PER_THREAD);
    if threads < 2 {
        return evaluate(x);
    }
    let chunk = x.nrows().div_ceil(threads);
    let parts: Vec<Evaluation> = std::thread::scope(|scope| {
        let handles: Vec<_> = x
            .axis_chunks_iter(Axis(0), chunk)
            .map(|rows| scope.spawn(move || evaluate(rows)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the reference evaluator does not panic"))
            .collect()
    });
    stack(parts)
}

/// The evaluations of consecutive row blocks as one.
pub(crate) fn stack(parts: Vec<Evaluation>) -> Evaluation {
    if parts.len() == 1 {
        return parts.into_iter().next().expect("one part");
    }
    let stack = |f: &dyn Fn(&Evaluation) -> ArrayView2<f64>| {
        let views: Vec<_> = parts.iter().map(f).collect();
        ndarray::concatenate(Axis(0), &views).expect("parts have equal widths")
    };
    Evaluation {
        pairwise: stack(&|e| e.pairwise.view()),
        scores: stack(&|e| e.scores.view()),
        tie_margins: parts.iter().flat_map(|e| e.tie_margins.clone()).collect(),
        label_index: parts.iter().flat_map(|e| e.label_index.clone()).collect(),
        probability_label: parts[0].probability_label.as_ref().map(|_| {
            parts
                .iter()
                .flat_map(|e| {
                    e.probability_label
                        .clone()
                        .expect("every part has probability labels")
                })
                .collect()
        }),
        f32_bound: parts[0].f32_bound.as_ref().map(|_| {
            let bounds: Vec<&F32Bound> = parts
                .iter()
                .map(|e| e.f32_bound.as_ref().expect("every part has bounds"))
                .collect();
            let views: Vec<_> = bounds.iter().map(|b| b.scores.view()).collect();
            F32Bound {
                scores: ndarray::concatenate(Axis(0), &views).expect("equal widths"),
                ties: bounds.iter().flat_map(|b| b.ties.clone()).collect(),
            }
        }),
        probabilities: parts[0].probabilities.as_ref().map(|_| {
            stack(&|e| {
                e.probabilities
                    .as_ref()
                    .expect("every part has probabilities")
                    .view()
            })
        }),
    }
}
