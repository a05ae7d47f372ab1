//! LIBSVM text model files, as `svm-train` and `svm_save_model` write them
//! (also R e1071's `write.svm`): a header of `keyword values…` lines, then
//! `SV` and one line per support vector, its k−1 coefficients followed by
//! sparse 1-based `index:value` pairs (SVM_SEMANTICS.md §7).
//!
//! Nothing is allocated from a declared count: rows are collected as they
//! are read and the counts are checked against what the file holds.

use super::{LoadError, LoadedModel};
use crate::model::{
    Classes, Convention, DecisionShape, DualKind, DualParts, Estimator, Kernel, Model, ModelError,
    PlattParameters, SvmModel, SvmParts, DENSITY_MARKS,
};
use ndarray::{Array1, Array2};
use std::collections::BTreeMap;

/// The dense support-vector matrix must stay below this many cells (1 GiB
/// of f64): a single huge feature index must not allocate gigabytes.
const MAX_DENSE_CELLS: usize = 1 << 27;

/// Header keywords LIBSVM writes, in its order.
const KEYWORDS: &[&str] = &[
    "svm_type",
    "kernel_type",
    "degree",
    "gamma",
    "coef0",
    "nr_class",
    "total_sv",
    "rho",
    "label",
    "probA",
    "probB",
    "prob_density_marks",
    "nr_sv",
];

/// Whether the bytes look like a LIBSVM model: the first non-blank line
/// starts with `svm_type`.
pub fn recognise(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| bytes[s..].starts_with(b"svm_type"))
}

fn error(line: usize, field: impl Into<String>, problem: impl Into<String>) -> LoadError {
    LoadError::Libsvm {
        line,
        field: field.into(),
        problem: problem.into(),
    }
}

/// One header line: its number and the values after the keyword.
struct Entry<'a> {
    line: usize,
    values: Vec<&'a str>,
}

struct Header<'a> {
    entries: BTreeMap<&'a str, Entry<'a>>,
    /// Line of the `SV` keyword.
    sv_line: usize,
}

impl<'a> Header<'a> {
    fn get(&self, key: &str) -> Option<&Entry<'a>> {
        self.entries.get(key)
    }

    fn required(&self, key: &str) -> Result<&Entry<'a>, LoadError> {
        self.get(key).ok_or_else(|| {
            error(
                self.sv_line,
                key,
                "is missing from the header (it must come before `SV`)",
            )
        })
    }

    /// The single value of `key`.
    fn single(&self, key: &str) -> Result<(usize, &'a str), LoadError> {
        let e = self.required(key)?;
        match e.values.as_slice() {
            [v] => Ok((e.line, v)),
            other => Err(error(
                e.line,
                key,
                format!("expected one value, found {}", other.len()),
            )),
        }
    }

    fn number(&self, key: &str) -> Result<f64, LoadError> {
        let (line, v) = self.single(key)?;
        number(line, key, v)
    }

    fn count(&self, key: &str) -> Result<(usize, usize), LoadError> {
        let (line, v) = self.single(key)?;
        let n = v
            .parse::<usize>()
            .map_err(|_| error(line, key, format!("'{v}' is not a non-negative integer")))?;
        Ok((line, n))
    }

    /// Exactly `n` numbers for `key`.
    fn numbers(&self, key: &str, n: usize) -> Result<Option<Array1<f64>>, LoadError> {
        let Some(e) = self.get(key) else {
            return Ok(None);
        };
        if e.values.len() != n {
            return Err(error(
                e.line,
                key,
                format!("has {} values, expected {n}", e.values.len()),
            ));
        }
        let values = e
            .values
            .iter()
            .map(|v| number(e.line, key, v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Array1::from(values)))
    }
}

fn number(line: usize, field: &str, text: &str) -> Result<f64, LoadError> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(error(line, field, format!("{v} is not a finite number"))),
        Err(_) => Err(error(line, field, format!("'{text}' is not a number"))),
    }
}

fn model_error(line: usize, e: ModelError) -> LoadError {
    error(line, e.field, e.problem)
}

/// A line and its 1-based number.
type NumberedLine<'a> = (usize, &'a str);

/// The header lines up to `SV`, and the remaining lines with their numbers.
fn split(text: &str) -> Result<(Header<'_>, Vec<NumberedLine<'_>>), LoadError> {
    let mut entries = BTreeMap::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let mut sv_line = None;
    for (number, line) in lines.by_ref() {
        let mut tokens = line.split_ascii_whitespace();
        let Some(keyword) = tokens.next() else {
            continue;
        };
        if keyword == "SV" {
            sv_line = Some(number);
            break;
        }
        let Some(&known) = KEYWORDS.iter().find(|k| **k == keyword) else {
            return Err(error(
                number,
                keyword,
                "is not a LIBSVM model keyword (expected one of svm_type, kernel_type, degree, gamma, coef0, nr_class, total_sv, rho, label, probA, probB, prob_density_marks, nr_sv, SV)",
            ));
        };
        let entry = Entry {
            line: number,
            values: tokens.collect(),
        };
        if let Some(first) = entries.insert(known, entry) {
            return Err(error(
                number,
                keyword,
                format!("appears twice (first on line {})", first.line),
            ));
        }
    }
    let last = text.lines().count().max(1);
    let sv_line = sv_line.ok_or_else(|| {
        error(
            last,
            "SV",
            "the `SV` line that starts the support vectors is missing (truncated file?)",
        )
    })?;
    Ok((Header { entries, sv_line }, lines.collect()))
}

/// The kernel from `kernel_type` and its parameters.
fn kernel(h: &Header) -> Result<Kernel, LoadError> {
    let (line, name) = h.single("kernel_type")?;
    let kernel = match name {
        "linear" => Kernel::Linear,
        "rbf" => Kernel::Rbf {
            gamma: h.number("gamma")?,
        },
        "polynomial" => {
            let (degree_line, degree) = h.single("degree")?;
            let degree = degree.parse::<u32>().map_err(|_| {
                error(
                    degree_line,
                    "degree",
                    format!("'{degree}' is not a valid polynomial degree"),
                )
            })?;
            Kernel::Poly {
                gamma: h.number("gamma")?,
                coef0: h.number("coef0")?,
                degree,
            }
        }
        "sigmoid" => Kernel::Sigmoid {
            gamma: h.number("gamma")?,
            coef0: h.number("coef0")?,
        },
        "precomputed" => {
            return Err(error(
                line,
                "kernel_type",
                "precomputed kernels are not supported: the model holds training-set indices, not support vectors",
            ))
        }
        other => {
            return Err(error(
                line,
                "kernel_type",
                format!("unknown kernel '{other}' (expected linear, polynomial, rbf, sigmoid)"),
            ))
        }
    };
    kernel
        .check()
        .map_err(|e| model_error(h.get(&e.field).map_or(line, |x| x.line), e))?;
    Ok(kernel)
}

/// Support vectors as sparse rows, with their coefficients.
struct SupportVectors {
    /// `coef[c][s]`: LIBSVM's `sv_coef`.
    coef: Vec<Vec<f64>>,
    rows: Vec<Vec<(usize, f64)>>,
    max_index: usize,
    /// Line of the largest index, for error messages.
    max_index_line: usize,
}

fn support_vectors(
    lines: &[NumberedLine],
    coefficients: usize,
    total: usize,
    total_line: usize,
) -> Result<SupportVectors, LoadError> {
    let mut sv = SupportVectors {
        coef: vec![Vec::new(); coefficients],
        rows: Vec::new(),
        max_index: 0,
        max_index_line: 0,
    };
    let mut last_line = total_line;
    for &(at, line) in lines {
        let mut tokens = line.split_ascii_whitespace().peekable();
        if tokens.peek().is_none() {
            continue;
        }
        last_line = at;
        if sv.rows.len() == total {
            return Err(error(
                at,
                "SV",
                format!("more support-vector lines than total_sv = {total} (line {total_line})"),
            ));
        }
        for (c, column) in sv.coef.iter_mut().enumerate() {
            match tokens.next() {
                Some(t) if !t.contains(':') => column.push(number(at, "coefficient", t)?),
                _ => {
                    return Err(error(
                        at,
                        "SV",
                        format!(
                            "expected {coefficients} coefficient(s) before the index:value pairs, found {c}"
                        ),
                    ))
                }
            }
        }
        let mut row = Vec::new();
        let mut previous = 0usize;
        for token in tokens {
            let (index, value) = token.split_once(':').ok_or_else(|| {
                error(
                    at,
                    "SV",
                    format!("'{token}' is not an index:value pair (too many coefficients?)"),
                )
            })?;
            let index = index
                .parse::<usize>()
                .map_err(|_| error(at, "SV index", format!("'{index}' is not a feature index")))?;
            if index == 0 {
                return Err(error(
                    at,
                    "SV index",
                    "feature indices start at 1 (0:n marks a precomputed kernel, which is not supported)",
                ));
            }
            if index <= previous {
                return Err(error(
                    at,
                    "SV index",
                    format!("{index} follows {previous}: indices must increase along a line"),
                ));
            }
            previous = index;
            let value = number(at, "SV value", value)?;
            if index > sv.max_index {
                sv.max_index = index;
                sv.max_index_line = at;
            }
            row.push((index, value));
        }
        sv.rows.push(row);
    }
    if sv.rows.len() != total {
        return Err(error(
            last_line,
            "SV",
            format!(
                "found {} support vectors but total_sv declares {total} (truncated file?)",
                sv.rows.len()
            ),
        ));
    }
    Ok(sv)
}

/// The dense S×d matrix of the sparse rows (absent features are 0).
fn dense(sv: &SupportVectors, d: usize, line: usize) -> Result<Array2<f64>, LoadError> {
    let cells = sv.rows.len().checked_mul(d);
    if cells.is_none_or(|c| c > MAX_DENSE_CELLS) {
        return Err(error(
            line,
            "SV",
            format!(
                "{} support vectors × {d} features is too large to convert (at most {MAX_DENSE_CELLS} values)",
                sv.rows.len()
            ),
        ));
    }
    let mut m = Array2::<f64>::zeros((sv.rows.len(), d));
    for (s, row) in sv.rows.iter().enumerate() {
        for &(index, value) in row {
            m[[s, index - 1]] = value;
        }
    }
    Ok(m)
}

/// Parses a LIBSVM model. `n_features` widens the input beyond the largest
/// feature index of the support vectors (features no support vector uses
/// still count in RBF distances, §1.2).
pub fn load(bytes: &[u8], n_features: Option<usize>) -> Result<LoadedModel, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        error(line, "file", "is not UTF-8 text")
    })?;
    let (h, sv_lines) = split(text)?;
    let (type_line, svm_type) = h.single("svm_type")?;
    let kind = match svm_type {
        "c_svc" => None,
        "nu_svc" => None,
        "one_class" => Some(DualKind::OneClassSvm),
        "epsilon_svr" => Some(DualKind::Svr),
        "nu_svr" => Some(DualKind::NuSvr),
        other => {
            return Err(error(
                type_line,
                "svm_type",
                format!("unknown svm_type '{other}' (expected c_svc, nu_svc, one_class, epsilon_svr, nu_svr)"),
            ))
        }
    };
    let kernel = kernel(&h)?;
    let (class_line, k) = h.count("nr_class")?;
    let (total_line, total) = h.count("total_sv")?;
    let mut warnings = Vec::new();
    let classifier = kind.is_none();
    if classifier && k < 2 {
        return Err(error(
            class_line,
            "nr_class",
            format!("{k} class(es): a classifier needs at least 2"),
        ));
    }
    if !classifier && k != 2 {
        return Err(error(
            class_line,
            "nr_class",
            format!("is {k}; LIBSVM writes 2 for {svm_type} models"),
        ));
    }
    let pairs = k
        .checked_mul(k - 1)
        .map(|p| p / 2)
        .ok_or_else(|| error(class_line, "nr_class", format!("{k} is too large")))?;
    let rho = h
        .numbers("rho", pairs)?
        .ok_or_else(|| error(h.sv_line, "rho", "is missing from the header"))?;
    let sv = support_vectors(
        &sv_lines,
        if classifier { k - 1 } else { 1 },
        total,
        total_line,
    )?;
    let d = match n_features {
        Some(n) if n < sv.max_index => {
            return Err(LoadError::Options(format!(
                "n_features {n} is smaller than the largest feature index {} (line {})",
                sv.max_index, sv.max_index_line
            )))
        }
        Some(n) => n,
        None => sv.max_index,
    };
    if d == 0 {
        return Err(error(
            h.sv_line,
            "SV",
            "no support vector has a feature index; give the feature count (--n-features)",
        ));
    }
    let support_vectors = dense(&sv, d, h.sv_line)?;
    let model = match kind {
        None => {
            let estimator = if svm_type == "c_svc" {
                Estimator::Svc
            } else {
                Estimator::NuSvc
            };
            Model::Svc(classifier_model(
                &h,
                estimator,
                kernel,
                k,
                pairs,
                (total_line, total),
                support_vectors,
                &sv,
                rho,
            )?)
        }
        Some(kind) => {
            for key in ["label", "nr_sv", "probB"] {
                if let Some(e) = h.get(key) {
                    warnings.push(format!(
                        "ignoring `{key}` on line {} ({svm_type} models have none)",
                        e.line
                    ));
                }
            }
            let svr_sigma = match kind {
                DualKind::OneClassSvm => None,
                _ => h.numbers("probA", 1)?.map(|a| a[0]),
            };
            let density_marks = match kind {
                DualKind::OneClassSvm => h
                    .numbers("prob_density_marks", DENSITY_MARKS)?
                    .map(|m| std::array::from_fn(|i| m[i])),
                _ => None,
            };
            if let (DualKind::OneClassSvm, Some(e)) = (kind, h.get("probA")) {
                warnings.push(format!(
                    "ignoring `probA` on line {} (one_class models have none)",
                    e.line
                ));
            }
            if let (DualKind::Svr | DualKind::NuSvr, Some(e)) = (kind, h.get("prob_density_marks"))
            {
                return Err(error(
                    e.line,
                    "prob_density_marks",
                    "only one_class models have density marks",
                ));
            }
            Model::dual(DualParts {
                kind,
                n_features: d,
                kernel,
                support_vectors: support_vectors.into(),
                dual_coef: Array1::from(sv.coef[0].clone()),
                // LIBSVM's decision is Σ − rho (§2).
                intercept: -rho[0],
                preprocessing: Vec::new(),
                sklearn_version: None,
                convention: Convention::Libsvm,
                density_marks,
                svr_sigma,
            })
            .map_err(|e| model_error(h.sv_line, e))?
        }
    };
    Ok(LoadedModel {
        model,
        samples: None,
        warnings,
    })
}

#[allow(clippy::too_many_arguments)]
fn classifier_model(
    h: &Header,
    estimator: Estimator,
    kernel: Kernel,
    k: usize,
    pairs: usize,
    (total_line, total): (usize, usize),
    support_vectors: Array2<f64>,
    sv: &SupportVectors,
    rho: Array1<f64>,
) -> Result<SvmModel, LoadError> {
    // Labels in the file's order, the order of first appearance in the
    // training data (§7): never sorted.
    let label = h.required("label")?;
    if label.values.len() != k {
        return Err(error(
            label.line,
            "label",
            format!("has {} values, nr_class is {k}", label.values.len()),
        ));
    }
    let mut labels = Vec::with_capacity(k);
    for v in &label.values {
        let l = v
            .parse::<i64>()
            .map_err(|_| error(label.line, "label", format!("'{v}' is not an integer")))?;
        if labels.contains(&l) {
            return Err(error(label.line, "label", format!("{l} appears twice")));
        }
        labels.push(l);
    }
    let nr_sv = h.required("nr_sv")?;
    if nr_sv.values.len() != k {
        return Err(error(
            nr_sv.line,
            "nr_sv",
            format!("has {} values, nr_class is {k}", nr_sv.values.len()),
        ));
    }
    let mut n_support = Vec::with_capacity(k);
    for v in &nr_sv.values {
        n_support.push(v.parse::<usize>().map_err(|_| {
            error(
                nr_sv.line,
                "nr_sv",
                format!("'{v}' is not a non-negative integer"),
            )
        })?);
    }
    let sum = n_support.iter().try_fold(0usize, |a, &n| a.checked_add(n));
    if sum != Some(total) {
        return Err(error(
            nr_sv.line,
            "nr_sv",
            format!("does not sum to total_sv = {total} (line {total_line})"),
        ));
    }
    let platt = match (h.numbers("probA", pairs)?, h.numbers("probB", pairs)?) {
        (Some(prob_a), Some(prob_b)) => Some(PlattParameters { prob_a, prob_b }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(error(
                h.sv_line,
                "probB",
                "is missing while probA is present",
            ))
        }
        (None, Some(_)) => {
            return Err(error(
                h.sv_line,
                "probA",
                "is missing while probB is present",
            ))
        }
    };
    if let Some(e) = h.get("prob_density_marks") {
        return Err(error(
            e.line,
            "prob_density_marks",
            "only one_class models have density marks",
        ));
    }
    let s = sv.rows.len();
    let mut coef = Array2::<f64>::zeros((k - 1, s));
    for (c, column) in sv.coef.iter().enumerate() {
        for (i, &v) in column.iter().enumerate() {
            coef[[c, i]] = v;
        }
    }
    // SvmParts holds scikit-learn's public signs: for two classes those are
    // LIBSVM's negated (§1.4), and `libsvm_dual_coef`/`libsvm_intercept`
    // undo it exactly. LIBSVM's intercept is −rho.
    let (dual_coef, intercept) = if k == 2 { (-coef, rho) } else { (coef, -rho) };
    SvmModel::new(SvmParts {
        estimator,
        n_features: support_vectors.ncols(),
        kernel,
        classes: Classes::Int(labels),
        n_support,
        support_vectors: support_vectors.into(),
        dual_coef,
        intercept,
        decision_shape: DecisionShape::Ovo,
        break_ties: false,
        platt,
        sklearn_version: None,
        preprocessing: Vec::new(),
        convention: Convention::Libsvm,
    })
    .map_err(|e| model_error(h.sv_line, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BINARY: &str = "svm_type c_svc\nkernel_type rbf\ngamma 0.5\nnr_class 2\ntotal_sv 3\nrho 0.25\nlabel 1 -1\nnr_sv 2 1\nSV\n1 1:0.5 3:1\n0.5 2:1\n-1.5 1:-1 2:0.25\n";

    fn fails(text: &str) -> String {
        match load(text.as_bytes(), None) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_a_binary_model_in_libsvm_signs() {
        let loaded = load(BINARY.as_bytes(), None).unwrap();
        let Model::Svc(m) = loaded.model else {
            panic!("a classifier")
        };
        assert_eq!(*m.classes(), Classes::Int(vec![1, -1]));
        assert_eq!(m.n_features(), 3);
        assert_eq!(m.libsvm_dual_coef().row(0).to_vec(), vec![1.0, 0.5, -1.5]);
        assert_eq!(m.libsvm_intercept().to_vec(), vec![-0.25]);
        assert_eq!(m.support_vectors()[[0, 2]], 1.0);
        assert_eq!(m.support_vectors()[[1, 0]], 0.0);
        assert_eq!(m.convention(), Convention::Libsvm);
    }

    #[test]
    fn n_features_widens_and_must_cover_the_indices() {
        let loaded = load(BINARY.as_bytes(), Some(5)).unwrap();
        assert_eq!(loaded.model.n_features(), 5);
        let e = load(BINARY.as_bytes(), Some(2)).unwrap_err().to_string();
        assert!(e.contains("n_features 2") && e.contains("line 10"), "{e}");
    }

    #[test]
    fn hostile_inputs_name_line_and_field() {
        // Truncated support-vector section.
        let e = fails(&BINARY[..BINARY.rfind("-1.5").unwrap()]);
        assert!(
            e.contains("found 2 support vectors") && e.contains("total_sv"),
            "{e}"
        );
        // No SV line at all.
        let e = fails(&BINARY[..BINARY.find("SV\n").unwrap()]);
        assert!(e.contains("`SV`"), "{e}");
        // Wrong coefficient count (3 classes need 2 per line).
        let three = BINARY
            .replace("nr_class 2", "nr_class 3")
            .replace("rho 0.25", "rho 0.25 0 1")
            .replace("label 1 -1", "label 1 -1 2")
            .replace("nr_sv 2 1", "nr_sv 1 1 1");
        let e = fails(&three);
        assert!(
            e.contains("line 10") && e.contains("2 coefficient(s)"),
            "{e}"
        );
        // Index 0.
        let e = fails(&BINARY.replace("2:1\n", "0:1\n"));
        assert!(e.contains("line 11") && e.contains("SV index"), "{e}");
        // Non-numeric values.
        let e = fails(&BINARY.replace("gamma 0.5", "gamma half"));
        assert!(
            e.contains("line 3") && e.contains("gamma") && e.contains("'half'"),
            "{e}"
        );
        let e = fails(&BINARY.replace("3:1", "3:x"));
        assert!(e.contains("line 10") && e.contains("SV value"), "{e}");
        let e = fails(&BINARY.replace("rho 0.25", "rho nan"));
        assert!(e.contains("line 6") && e.contains("finite"), "{e}");
        // nr_sv that does not sum to total_sv.
        let e = fails(&BINARY.replace("nr_sv 2 1", "nr_sv 2 2"));
        assert!(e.contains("line 8") && e.contains("nr_sv"), "{e}");
        // Huge declared counts: refused from the lines present, nothing reserved.
        let e = fails(&BINARY.replace("total_sv 3", "total_sv 18446744073709551615"));
        assert!(e.contains("total_sv"), "{e}");
        let e = fails(&BINARY.replace("nr_class 2", "nr_class 4294967297"));
        assert!(e.contains("line 4") && e.contains("nr_class"), "{e}");
        let e = fails(&BINARY.replace("3:1", "3000000000000:1"));
        assert!(e.contains("too large"), "{e}");
        // Precomputed kernels, duplicates, unknown keywords, unsorted indices.
        let e = fails(&BINARY.replace("kernel_type rbf", "kernel_type precomputed"));
        assert!(e.contains("line 2") && e.contains("precomputed"), "{e}");
        let e = fails(&BINARY.replace("label 1 -1", "label 1 1"));
        assert!(e.contains("line 7") && e.contains("twice"), "{e}");
        let e = fails(&BINARY.replace("nr_sv 2 1", "nr_sv 2 1\nweights 3"));
        assert!(e.contains("line 9") && e.contains("weights"), "{e}");
        let e = fails(&BINARY.replace("1:0.5 3:1", "3:1 1:0.5"));
        assert!(e.contains("line 10") && e.contains("increase"), "{e}");
        let e = fails(&BINARY.replace("label 1 -1\n", ""));
        assert!(e.contains("label") && e.contains("missing"), "{e}");
    }

    #[test]
    fn dual_models_and_extras() {
        let text = "svm_type one_class\nkernel_type linear\nnr_class 2\ntotal_sv 2\nrho 0.5\nprob_density_marks 0 1 2 3 4 5 6 7 8 9\nSV\n0.75 1:1\n0.25 2:2\n";
        let loaded = load(text.as_bytes(), None).unwrap();
        let Model::Dual(m) = loaded.model else {
            panic!("dual")
        };
        assert_eq!(m.kind(), DualKind::OneClassSvm);
        assert_eq!(m.intercept(), -0.5);
        assert_eq!(m.density_marks().unwrap()[9], 9.0);
        let e = fails(&text.replace(" 9\n", "\n"));
        assert!(e.contains("line 6") && e.contains("expected 10"), "{e}");
        let svr = text
            .replace("one_class", "epsilon_svr")
            .replace("prob_density_marks 0 1 2 3 4 5 6 7 8 9", "probA 0.125");
        let Model::Dual(m) = load(svr.as_bytes(), None).unwrap().model else {
            panic!("dual")
        };
        assert_eq!(m.svr_sigma(), Some(0.125));
    }

    #[test]
    fn recognises_by_content() {
        assert!(recognise(b"\n  svm_type c_svc\n"));
        assert!(!recognise(b"{\"svm_type\": 1}"));
    }
}
