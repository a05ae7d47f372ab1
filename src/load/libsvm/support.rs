//! The support-vector section after `SV`: one line per support vector, its
//! coefficients then sparse 1-based `index:value` pairs.

use super::header::{error, number, NumberedLine};
use crate::load::LoadError;
use ndarray::Array2;

/// The dense support-vector matrix must stay below this many cells (1 GiB
/// of f64): a single huge feature index must not allocate gigabytes.
const MAX_DENSE_CELLS: usize = 1 << 27;

/// Support vectors as sparse rows, with their coefficients.
pub(super) struct SupportVectors {
    /// `coef[c][s]`: LIBSVM's `sv_coef`.
    pub(super) coef: Vec<Vec<f64>>,
    /// Each row's `(index, value)` pairs, indices increasing.
    pub(super) rows: Vec<Vec<(usize, f64)>>,
    /// The largest feature index seen.
    pub(super) max_index: usize,
    /// Line of the largest index, for error messages.
    pub(super) max_index_line: usize,
}

/// The lines after `SV`: `coefficients` numbers then `index:value` pairs
/// each, exactly `total` non-blank lines (`total_sv`, on `total_line`).
pub(super) fn support_vectors(
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
        let row = sparse_row(at, tokens, &mut sv)?;
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

/// The `index:value` pairs of line `at`: indices from 1, increasing. Keeps
/// `sv`'s largest index up to date.
fn sparse_row<'t>(
    at: usize,
    tokens: impl Iterator<Item = &'t str>,
    sv: &mut SupportVectors,
) -> Result<Vec<(usize, f64)>, LoadError> {
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
    Ok(row)
}

/// The dense S×d matrix of the sparse rows (absent features are 0).
pub(super) fn dense(sv: &SupportVectors, d: usize, line: usize) -> Result<Array2<f64>, LoadError> {
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
