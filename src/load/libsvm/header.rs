//! The header of a LIBSVM model: `keyword values…` lines up to `SV`, read
//! into [`Header`], and the kernel they describe. Also the error helpers the
//! other parts share.

use crate::load::LoadError;
use crate::model::{Kernel, ModelError};
use ndarray::Array1;
use std::collections::BTreeMap;

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

/// A [`LoadError::Libsvm`] naming the line and the field at fault.
pub(super) fn error(
    line: usize,
    field: impl Into<String>,
    problem: impl Into<String>,
) -> LoadError {
    LoadError::Libsvm {
        line,
        field: field.into(),
        problem: problem.into(),
    }
}

/// One header line: its number and the values after the keyword.
pub(super) struct Entry<'a> {
    /// Its 1-based line number.
    pub(super) line: usize,
    /// The values after the keyword.
    pub(super) values: Vec<&'a str>,
}

/// The header: each keyword's entry, and where `SV` starts.
pub(super) struct Header<'a> {
    /// The entries by keyword.
    entries: BTreeMap<&'a str, Entry<'a>>,
    /// Line of the `SV` keyword.
    pub(super) sv_line: usize,
}

impl<'a> Header<'a> {
    /// The entry of `key`, if the header has one.
    pub(super) fn get(&self, key: &str) -> Option<&Entry<'a>> {
        self.entries.get(key)
    }

    /// The entry of `key`, which the header must have.
    pub(super) fn required(&self, key: &str) -> Result<&Entry<'a>, LoadError> {
        self.get(key).ok_or_else(|| {
            error(
                self.sv_line,
                key,
                "is missing from the header (it must come before `SV`)",
            )
        })
    }

    /// The single value of `key`.
    pub(super) fn single(&self, key: &str) -> Result<(usize, &'a str), LoadError> {
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

    /// The single value of `key`, a finite number.
    pub(super) fn number(&self, key: &str) -> Result<f64, LoadError> {
        let (line, v) = self.single(key)?;
        number(line, key, v)
    }

    /// The single value of `key`, a count, with its line.
    pub(super) fn count(&self, key: &str) -> Result<(usize, usize), LoadError> {
        let (line, v) = self.single(key)?;
        let n = v
            .parse::<usize>()
            .map_err(|_| error(line, key, format!("'{v}' is not a non-negative integer")))?;
        Ok((line, n))
    }

    /// Exactly `n` numbers for `key`.
    pub(super) fn numbers(&self, key: &str, n: usize) -> Result<Option<Array1<f64>>, LoadError> {
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

/// A finite number, or an error naming `line` and `field`.
pub(super) fn number(line: usize, field: &str, text: &str) -> Result<f64, LoadError> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(error(line, field, format!("{v} is not a finite number"))),
        Err(_) => Err(error(line, field, format!("'{text}' is not a number"))),
    }
}

/// A [`ModelError`] reported at `line`.
pub(super) fn model_error(line: usize, e: ModelError) -> LoadError {
    error(line, e.field, e.problem)
}

/// A line and its 1-based number.
pub(super) type NumberedLine<'a> = (usize, &'a str);

/// The header lines up to `SV`, and the remaining lines with their numbers.
pub(super) fn split(text: &str) -> Result<(Header<'_>, Vec<NumberedLine<'_>>), LoadError> {
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
pub(super) fn kernel(h: &Header) -> Result<Kernel, LoadError> {
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
