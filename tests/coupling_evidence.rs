//! Evidence for the static coupling graph's iteration count (§1.7): how many
//! outer iterations libsvm's coupling needs over k = 2..20, on random and on
//! extreme pairwise probabilities. `lower::COUPLING_ITERATIONS` must exceed
//! every count seen here.

#![allow(clippy::needless_range_loop)] // matrix code reads best with indices

mod common;

use common::SplitMix;
use svm2onnx::facts::{COUPLING_ITERATIONS, MIN_PROB};
use svm2onnx::reference::couple;

fn matrix(k: usize, mut pick: impl FnMut(usize, usize) -> f64) -> Vec<Vec<f64>> {
    let mut r = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in i + 1..k {
            let v = pick(i, j).clamp(MIN_PROB, 1.0 - MIN_PROB);
            r[i][j] = v;
            r[j][i] = 1.0 - v;
        }
    }
    r
}

#[test]
fn coupling_converges_well_within_the_static_iteration_count() {
    let mut rng = SplitMix(7);
    let mut worst = [0usize; 21];
    for k in 2..=20 {
        for case in 0..400 {
            let r = match case % 5 {
                // Uniform pairwise probabilities.
                0 => matrix(k, |_, _| rng.unit()),
                // Extremes: clipped at 1e-7 / 1 − 1e-7.
                1 => matrix(k, |_, _| if rng.unit() < 0.5 { 0.0 } else { 1.0 }),
                // A consistent ranking with sharp margins.
                2 => matrix(k, |i, j| {
                    if (i + j + case) % 3 == 0 {
                        1e-9
                    } else {
                        1.0 - 1e-6 * rng.unit()
                    }
                }),
                // Near the binary plateau.
                3 => matrix(k, |_, _| 0.5 + 0.02 * (rng.unit() - 0.5)),
                // Contradictory cycles (i beats j beats l beats i).
                _ => matrix(k, |i, j| if (j - i) % 2 == 1 { 1.0 - 1e-7 } else { 1e-7 }),
            };
            let c = couple(k, &r);
            worst[k] = worst[k].max(c.updates);
            let sum: f64 = c.probabilities.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-9,
                "k={k}: probabilities sum to {sum}"
            );
        }
    }
    let max = *worst.iter().max().unwrap();
    println!("max outer iterations with updates, by k: {:?}", &worst[2..]);
    assert!(
        max < COUPLING_ITERATIONS,
        "coupling needed {max} iterations, the graph unrolls {COUPLING_ITERATIONS}"
    );
}
