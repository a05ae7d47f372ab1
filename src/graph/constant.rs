//! Constant data of initializers, including matrices generated from the
//! shared support vectors while they are written.

use ndarray::{Array1, Array2, ArrayD};
use std::ops::Range;
use std::sync::Arc;

/// Constant data held by an initializer. Float constants are kept in f64 and
/// rounded to the graph's [`FloatType`](super::FloatType) when encoded.
#[derive(Debug, Clone)]
pub enum Constant {
    /// A float tensor (rounded to the graph's precision when encoded).
    Float(ArrayD<f64>),
    /// A float matrix generated from a shared one while it is encoded.
    Transposed(TransposedAffine),
    /// An int64 tensor.
    Int64(ArrayD<i64>),
    /// A string tensor.
    Str(ArrayD<String>),
}

/// The `(d + e) × S` matrix whose element `[j, s]` is
/// `scale · (m[s, j] − shift[j])` for a shared `S × d` matrix `m` (the
/// support vectors), followed by the `e` rows of `extra_rows`.
///
/// The weight matrices of the kernel block are such images of the support
/// vectors. Generating them block by block while the model is written means
/// the converter never holds a second S×d array: its peak memory stays near
/// the model's own size (issue 6). Each element is computed by the same
/// expression an eager copy would use, so the bits do not change.
#[derive(Debug, Clone)]
pub struct TransposedAffine {
    /// The shared S × d matrix (the support vectors).
    pub source: Arc<Array2<f64>>,
    /// Multiplies after the shift; `None` keeps the value as it is.
    pub scale: Option<f64>,
    /// Subtracted per column of `source` (length d).
    pub shift: Option<Array1<f64>>,
    /// Rows appended after the d generated ones, S values each, already in
    /// the output's column order.
    pub extra_rows: Vec<Array1<f64>>,
    /// Output column `c` holds source row `order[c]`; `None`: row `c`.
    pub order: Option<Arc<[usize]>>,
}

impl TransposedAffine {
    /// The plain transpose `mᵀ`.
    pub fn transpose(source: &Arc<Array2<f64>>) -> Self {
        TransposedAffine {
            source: Arc::clone(source),
            scale: None,
            shift: None,
            extra_rows: Vec::new(),
            order: None,
        }
    }

    /// The same matrix with its columns taken in `order` (source rows).
    pub fn in_order(mut self, order: Option<&[usize]>) -> Self {
        self.order = order.map(Arc::from);
        self
    }

    /// `[rows, columns]`: `[d + e, S]`.
    pub fn shape(&self) -> [usize; 2] {
        let (s, d) = self.source.dim();
        [d + self.extra_rows.len(), s]
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        let [r, c] = self.shape();
        r * c
    }

    /// True when the matrix has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends rows `rows` (row-major) to `out`. Reads `source` row by row,
    /// so a block of rows costs one pass over the shared matrix.
    pub fn extend_rows(&self, rows: Range<usize>, out: &mut Vec<f64>) {
        let (_, d) = self.source.dim();
        let stored = rows.start.min(d)..rows.end.min(d);
        // One loop per case, so the element loop carries no branch (this
        // transpose is a large part of converting a big model); each case
        // is the expression an eager copy computes, so the bits do not change.
        match (&self.shift, self.scale) {
            (None, None) => self.fill(stored, out, |_, v| v),
            (Some(shift), None) => self.fill(stored, out, |j, v| v - shift[j]),
            (None, Some(scale)) => self.fill(stored, out, |_, v| scale * v),
            (Some(shift), Some(scale)) => self.fill(stored, out, |j, v| scale * (v - shift[j])),
        }
        for e in rows.start.max(d)..rows.end {
            let extra = &self.extra_rows[e - d];
            assert_eq!(
                extra.len(),
                self.source.nrows(),
                "an extra row has one value per column"
            );
            out.extend(extra.iter().copied());
        }
    }

    /// Appends the transposed rows `stored` of `source`, each element
    /// through `f(row, value)`.
    fn fill(&self, stored: Range<usize>, out: &mut Vec<f64>, f: impl Fn(usize, f64) -> f64) {
        let (s, d) = self.source.dim();
        let start = out.len();
        out.resize(start + stored.len() * s, 0.0);
        let block = &mut out[start..];
        if stored.is_empty() {
            return;
        }
        match (self.source.as_slice(), &self.order) {
            (Some(all), None) => {
                for (col, sv) in all.chunks_exact(d).enumerate() {
                    for (k, &v) in sv[stored.clone()].iter().enumerate() {
                        block[k * s + col] = f(stored.start + k, v);
                    }
                }
            }
            (Some(all), Some(order)) => {
                for (col, &row) in order.iter().enumerate() {
                    let sv = &all[row * d..(row + 1) * d];
                    for (k, &v) in sv[stored.clone()].iter().enumerate() {
                        block[k * s + col] = f(stored.start + k, v);
                    }
                }
            }
            (None, order) => {
                for col in 0..s {
                    let sv = self.source.row(order.as_ref().map_or(col, |o| o[col]));
                    for (k, j) in stored.clone().enumerate() {
                        block[k * s + col] = f(j, sv[j]);
                    }
                }
            }
        }
    }

    /// The whole matrix (tests and the non-streaming encoder).
    pub fn to_array(&self) -> Array2<f64> {
        let [r, c] = self.shape();
        let mut v = Vec::with_capacity(r * c);
        self.extend_rows(0..r, &mut v);
        Array2::from_shape_vec((r, c), v).expect("extend_rows fills the shape")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposed_affine_rows_match_the_eager_expression_in_any_blocks() {
        let m = Array2::from_shape_fn((7, 4), |(s, j)| (s * 10 + j) as f64 * 0.37 - 3.1);
        let shift = Array1::from(vec![0.5, -1.25, 2.0, 0.1]);
        let t = TransposedAffine {
            source: Arc::new(m.clone()),
            scale: Some(2.0 * 0.3),
            shift: Some(shift.clone()),
            extra_rows: vec![
                Array1::from_elem(7, -0.3),
                Array1::from_shape_fn(7, |s| s as f64),
            ],
            order: None,
        };
        assert_eq!(t.shape(), [6, 7]);
        let eager = Array2::from_shape_fn((6, 7), |(j, s)| match j {
            0..4 => 2.0 * 0.3 * (m[[s, j]] - shift[j]),
            4 => -0.3,
            _ => s as f64,
        });
        assert_eq!(t.to_array(), eager);
        for step in 1..=6 {
            let mut v = Vec::new();
            for first in (0..6).step_by(step) {
                t.extend_rows(first..(first + step).min(6), &mut v);
            }
            assert_eq!(v, eager.iter().copied().collect::<Vec<_>>(), "step {step}");
        }
        let plain = TransposedAffine::transpose(&Arc::new(m.clone()));
        assert_eq!(plain.to_array(), m.t());
        let order = [3, 0, 6, 1, 5, 2, 4];
        let permuted = m.select(ndarray::Axis(0), &order);
        for source in [m.clone(), m.t().to_owned().reversed_axes()] {
            // Standard and column-major layouts take the two fill paths.
            let t = TransposedAffine::transpose(&Arc::new(source)).in_order(Some(&order));
            assert_eq!(t.to_array(), permuted.t());
        }
    }
}
