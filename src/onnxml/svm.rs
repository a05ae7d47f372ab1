//! `SVMClassifier` and `SVMRegressor` as standard ops, with onnxruntime's
//! semantics (docs/ONNX_ML.md §2–§4).

use super::attrs::{float32_input, float32_output, fragment_input, Attrs};
use super::kernel::{constant_f32, kernel_float32, kernel_values};
use super::OnnxMlError;
use crate::graph::{Dim, ElemType, FloatType, Graph, Value};
use crate::lower::{class_label, decision::dual_values, probability::coupled_probabilities};
use crate::model::{Classes, Kernel, PlattParameters};
use crate::onnx::NodeProto;
use ndarray::{Array1, Array2};
use std::sync::Arc;

/// `kernel_type` and `kernel_params` = [gamma, coef0, degree] (§2).
fn kernel(a: &Attrs) -> Result<Kernel, OnnxMlError> {
    let params = a.floats("kernel_params")?;
    // onnxruntime leaves gamma, coef0 and degree at 0 when the list is empty.
    let param = |i: usize| params.get(i).copied().unwrap_or(0.0);
    let (gamma, coef0, degree) = (param(0), param(1), param(2));
    match a.string("kernel_type", "LINEAR")?.as_str() {
        "LINEAR" => Ok(Kernel::Linear),
        "RBF" => Ok(Kernel::Rbf { gamma }),
        "SIGMOID" => Ok(Kernel::Sigmoid { gamma, coef0 }),
        "POLY" => {
            if degree < 1.0 || degree.fract() != 0.0 || degree > 64.0 {
                return Err(a.error(
                    "kernel_params",
                    format!("polynomial degree {degree} is not an integer from 1 to 64"),
                ));
            }
            Ok(Kernel::Poly {
                gamma,
                coef0,
                degree: degree as u32,
            })
        }
        // onnxruntime maps any other string to SIGMOID; a typo must not
        // silently become a sigmoid kernel here.
        other => Err(a.error("kernel_type", format!("unknown kernel '{other}'"))),
    }
}

/// Support vectors as S × d rows.
fn support_vectors(a: &Attrs, count: usize) -> Result<Arc<Array2<f64>>, OnnxMlError> {
    let flat = a.required_floats("support_vectors")?;
    if !flat.len().is_multiple_of(count) {
        return Err(a.error(
            "support_vectors",
            format!("{} values do not split into {count} vectors", flat.len()),
        ));
    }
    let d = flat.len() / count;
    Array2::from_shape_vec((count, d), flat)
        .map(Arc::new)
        .map_err(|e| a.error("support_vectors", e.to_string()))
}

fn require_len(a: &Attrs, name: &str, v: &[f64], expected: usize) -> Result<(), OnnxMlError> {
    if v.len() != expected {
        return Err(a.error(name, format!("has {} values, expected {expected}", v.len())));
    }
    Ok(())
}

/// The pair values Σ coef·K + rho (§3). onnxruntime computes K in
/// float32, multiplies each float32 coefficient by it in float32 (a rounded
/// product) and sums those products and rho in double. An f64 fragment
/// does the same: the products as an [N, k−1, S] float32 tensor (one per
/// row of `coefficients`), then a 0/1 selection matrix sums, in f64, the
/// products each pair uses. An f32 fragment has no double to sum in; it
/// uses the project's f32 decision values (`lower::decision`).
fn pair_values(
    g: &mut Graph,
    x: Value,
    kernel: &Kernel,
    svs: &Arc<Array2<f64>>,
    layout: &PairLayout,
    rho: Vec<f64>,
) -> Value {
    if g.float == FloatType::F32 {
        return dual_values(g, x, kernel, svs, layout.weights(), Array1::from(rho));
    }
    let (rows, s) = layout.coefficients.dim();
    let k32 = kernel_float32(g, x, kernel, svs);
    let k3 = g.reshape(k32, &[-1, 1, s as i64]);
    let coef = constant_f32(g, "coefficients", layout.coefficients.clone().into_dyn());
    let products = g.mul(k3, coef);
    let products = g.reshape(products, &[-1, (rows * s) as i64]);
    let products = g.cast(products, ElemType::F64);
    let select = g.constant("pair_selection", layout.selection().into_dyn());
    let sums = g.matmul(products, select);
    let rho = g.constant("rho", Array1::from(rho).into_dyn());
    let value = g.add(sums, rho);
    g.rename(value, "decision_values")
}

/// Where each pair's coefficients sit in `coefficients` ((k−1) × S): pair
/// (i, j) takes row j−1 over class i's vectors and row i over class j's.
struct PairLayout {
    coefficients: Array2<f64>,
    start: Vec<usize>,
    counts: Vec<usize>,
    pairs: Vec<(usize, usize)>,
}

impl PairLayout {
    /// Each (row, vector) entry a pair uses, with the pair's index.
    fn entries(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.pairs.iter().enumerate().flat_map(move |(p, &(i, j))| {
            let from_i =
                (self.start[i]..self.start[i] + self.counts[i]).map(move |s| (j - 1, s, p));
            let from_j = (self.start[j]..self.start[j] + self.counts[j]).map(move |s| (i, s, p));
            from_i.chain(from_j)
        })
    }

    /// W[s, p], S × P.
    fn weights(&self) -> Array2<f64> {
        let mut w = Array2::zeros((self.coefficients.ncols(), self.pairs.len()));
        for (row, s, p) in self.entries() {
            w[[s, p]] = self.coefficients[[row, s]];
        }
        w
    }

    /// 1 where product (row, s), flattened row-major, enters pair p.
    fn selection(&self) -> Array2<f64> {
        let s_count = self.coefficients.ncols();
        let mut m = Array2::zeros((self.coefficients.nrows() * s_count, self.pairs.len()));
        for (row, s, p) in self.entries() {
            m[[row * s_count + s, p]] = 1.0;
        }
        m
    }
}

/// `K·coefficients + rho` for SVMRegressor from onnxruntime's float32
/// kernel values (§4); it sums with a float32 GEMM whose order we cannot
/// reproduce, so the f64 fragment sums exactly.
fn regression_value(
    g: &mut Graph,
    x: Value,
    kernel: &Kernel,
    svs: &Arc<Array2<f64>>,
    weights: Array2<f64>,
    rho: Vec<f64>,
) -> Value {
    if g.float == FloatType::F32 {
        return dual_values(g, x, kernel, svs, weights, Array1::from(rho));
    }
    let k = kernel_values(g, x, kernel, svs);
    let w = g.constant("coefficients", weights.into_dyn());
    let kw = g.matmul(k, w);
    let b = g.constant("rho", Array1::from(rho).into_dyn());
    let value = g.add(kw, b);
    g.rename(value, "decision_values")
}

/// `SVMClassifier` in SVC mode (§3).
// A little over 80 lines: the attribute checks run in the order
// onnxruntime's kernel reads them, so the first error is the one it would
// report; the graph itself is built by the helpers it calls.
pub fn classifier(mut g: Graph, node: &NodeProto) -> Result<Graph, OnnxMlError> {
    let a = Attrs::new(
        node,
        &[
            "classlabels_ints",
            "classlabels_strings",
            "coefficients",
            "kernel_params",
            "kernel_type",
            "post_transform",
            "prob_a",
            "prob_b",
            "rho",
            "support_vectors",
            "vectors_per_class",
        ],
    )?;
    let classes = a
        .class_labels("classlabels_ints")?
        .ok_or_else(|| a.error("classlabels_ints", "no class labels"))?;
    let k = classes.len();
    if k < 2 {
        return Err(a.error("classlabels_ints", "fewer than two classes"));
    }
    let per_class = a.ints("vectors_per_class");
    if per_class.is_empty() {
        // SVM_LINEAR mode: skl2onnx never writes it (it uses LinearClassifier).
        return Err(a.error(
            "vectors_per_class",
            "missing: the liblinear mode of SVMClassifier is not supported",
        ));
    }
    if per_class.len() != k || per_class.iter().any(|&n| n < 0) {
        return Err(a.error(
            "vectors_per_class",
            format!("expected {k} non-negative counts, found {per_class:?}"),
        ));
    }
    let counts: Vec<usize> = per_class.iter().map(|&n| n as usize).collect();
    let total: usize = counts.iter().sum();
    if total == 0 {
        return Err(a.error("vectors_per_class", "no support vectors"));
    }
    let svs = support_vectors(&a, total)?;
    // onnxruntime's pair order is libsvm's.
    let pairs = crate::ir::class_pairs(k);
    let coefficients = a.required_floats("coefficients")?;
    require_len(&a, "coefficients", &coefficients, (k - 1) * total)?;
    let rho = a.required_floats("rho")?;
    require_len(&a, "rho", &rho, pairs.len())?;
    let platt = platt(&a, pairs.len())?;
    a.require_no_post_transform()?;
    let kernel = kernel(&a)?;

    let start: Vec<usize> = counts
        .iter()
        .scan(0, |acc, &n| {
            let s = *acc;
            *acc += n;
            Some(s)
        })
        .collect();
    let layout = PairLayout {
        coefficients: Array2::from_shape_vec((k - 1, total), coefficients)
            .map_err(|e| a.error("coefficients", e.to_string()))?,
        start,
        counts,
        pairs: pairs.clone(),
    };

    let x = fragment_input(&mut g, a.input(0)?);
    let x = float32_input(&mut g, x);
    // onnxruntime adds rho (it does not subtract it).
    let pair_values = pair_values(&mut g, x, &kernel, &svs, &layout, rho);

    let index = votes(&mut g, pair_values, k, &pairs);
    if let Some(name) = a.output(0) {
        let label = class_label(&mut g, &classes, index);
        g.output(label, name, label_elem(&classes), vec![Dim::Batch]);
    }
    if let Some(name) = a.output(1) {
        scores_output(&mut g, name, pair_values, k, &pairs, platt.as_ref());
    }
    Ok(g)
}

/// `prob_a` and `prob_b`, both or neither, one per pair.
fn platt(a: &Attrs, n_pairs: usize) -> Result<Option<PlattParameters>, OnnxMlError> {
    let prob_a = a.floats("prob_a")?;
    let prob_b = a.floats("prob_b")?;
    match (prob_a.is_empty(), prob_b.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => {
            require_len(a, "prob_a", &prob_a, n_pairs)?;
            require_len(a, "prob_b", &prob_b, n_pairs)?;
            Ok(Some(PlattParameters {
                prob_a: Array1::from(prob_a),
                prob_b: Array1::from(prob_b),
            }))
        }
        _ => Err(a.error("prob_b", "prob_a and prob_b must both be given")),
    }
}

/// SVMClassifier's second output `name`: the coupled probabilities, or the
/// pair values (`[−f, f]` for two classes), as float32 (§3).
fn scores_output(
    g: &mut Graph,
    name: &str,
    pair_values: Value,
    k: usize,
    pairs: &[(usize, usize)],
    platt: Option<&PlattParameters>,
) {
    // onnxruntime stores each pair value as float32 before anything
    // else reads it (Platt included).
    let stored = match g.float {
        FloatType::F32 => pair_values,
        FloatType::F64 => {
            let f = g.cast(pair_values, ElemType::F32);
            g.cast(f, ElemType::F64)
        }
    };
    let scores = match platt {
        Some(platt) => coupled_probabilities(g, stored, k, pairs, platt),
        // Binary without probabilities: two columns [−f, f] (§3).
        None if k == 2 => {
            let signs = g.constant(
                "binary_score_signs",
                ndarray::arr2(&[[-1.0, 1.0]]).into_dyn(),
            );
            g.mul(stored, signs)
        }
        None => stored,
    };
    let scores = float32_output(g, scores);
    let width = if platt.is_some() || k == 2 {
        k
    } else {
        pairs.len()
    };
    g.output(
        scores,
        name,
        ElemType::F32,
        vec![Dim::Batch, Dim::Fixed(width)],
    );
}

/// libsvm's one-vs-one vote as onnxruntime counts it: pair (i, j) votes for
/// i iff its value is > 0, else for j; the class with most votes wins, the
/// lowest index on ties (std::max_element, ArgMax's first maximum). Also
/// the binary rule: index 0 iff the single pair value is > 0 (§3).
fn votes(g: &mut Graph, pair_values: Value, k: usize, pairs: &[(usize, usize)]) -> Value {
    let (m, second) = crate::lower::votes::vote_matrices_for(k, pairs);
    let m = g.constant("pair_vote_matrix", m.into_dyn());
    let second = g.constant("pairs_as_second_class", second.into_dyn());
    let zero = g.scalar("zero", 0.0);
    let first_wins = g.greater(pair_values, zero);
    let float = g.float.elem();
    let first_wins = g.cast(first_wins, float);
    let won = g.matmul(first_wins, m);
    let votes = g.add(won, second);
    let votes = g.rename(votes, "pair_votes");
    let index = g.argmax(votes, 1);
    g.rename(index, "class_index")
}

/// The element type of a rewritten graph's label output: skl2onnx's
/// `classlabels_ints` or `classlabels_strings` (it has no float labels).
pub fn label_elem(classes: &Classes) -> ElemType {
    match classes {
        Classes::Str(_) => ElemType::Str,
        _ => ElemType::I64,
    }
}

/// `SVMRegressor` (§4): SVC mode with support vectors, or the linear mode
/// (`n_supports` = 0) where `coefficients` are the weights.
pub fn regressor(mut g: Graph, node: &NodeProto) -> Result<Graph, OnnxMlError> {
    let a = Attrs::new(
        node,
        &[
            "coefficients",
            "kernel_params",
            "kernel_type",
            "n_supports",
            "one_class",
            "post_transform",
            "rho",
            "support_vectors",
        ],
    )?;
    let n_supports = a.int("n_supports", 0);
    if n_supports < 0 {
        return Err(a.error("n_supports", "negative"));
    }
    let coefficients = a.required_floats("coefficients")?;
    let rho = a.required_floats("rho")?;
    require_len(&a, "rho", &rho, 1)?;
    // onnxruntime ignores post_transform in SVMRegressor; other runtimes
    // might apply it, so anything but NONE is refused as ambiguous.
    a.require_no_post_transform()?;
    let (kernel, vectors, weights) = if n_supports > 0 {
        let svs = support_vectors(&a, n_supports as usize)?;
        require_len(&a, "coefficients", &coefficients, svs.nrows())?;
        let w = Array2::from_shape_vec((svs.nrows(), 1), coefficients)
            .map_err(|e| a.error("coefficients", e.to_string()))?;
        (kernel(&a)?, svs, w)
    } else {
        // Linear mode: x·coefficients + rho, whatever kernel_type says.
        let d = coefficients.len();
        let w = Array2::from_shape_vec((1, d), coefficients)
            .map_err(|e| a.error("coefficients", e.to_string()))?;
        (Kernel::Linear, Arc::new(w), Array2::ones((1, 1)))
    };
    let x = fragment_input(&mut g, a.input(0)?);
    let x = float32_input(&mut g, x);
    let mut value = if n_supports > 0 {
        regression_value(&mut g, x, &kernel, &vectors, weights, rho)
    } else {
        dual_values(&mut g, x, &kernel, &vectors, weights, Array1::from(rho))
    };
    if a.int("one_class", 0) != 0 {
        // one_class: +1 where the value is > 0, else −1 (an exact 0 is −1).
        let zero = g.scalar("zero", 0.0);
        let positive = g.greater(value, zero);
        let plus = g.scalar("plus_one", 1.0);
        let minus = g.scalar("minus_one", -1.0);
        value = g.op("Where", &[positive, plus, minus], vec![]);
    }
    let value = float32_output(&mut g, value);
    if let Some(name) = a.output(0) {
        g.output(value, name, ElemType::F32, vec![Dim::Batch, Dim::Fixed(1)]);
    }
    Ok(g)
}
