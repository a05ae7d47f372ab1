//! An estimator object as the loader sees it: its class, its state dict and
//! the field path used in errors, with typed accessors for its attributes
//! (numbers, flags, vectors, dense or CSR matrices).

use super::advice::{unconverted, Needed};
use super::err;
use crate::load::pickle::numpy::{self, kind_name, NdArray, Values};
use crate::load::pickle::object::{Arena, Global, Id, Obj};
use crate::load::LoadError;
use ndarray::{Array1, Array2};

/// Largest dense matrix built from a CSR matrix, in elements (2 GiB of f64).
const MAX_DENSE: usize = 1 << 28;

/// An estimator object: its class and its state dict.
pub(super) struct Est<'a> {
    pub(super) arena: &'a Arena<'a>,
    pub(super) class: Global,
    pub(super) state: Id,
    pub(super) path: String,
}

impl<'a> Est<'a> {
    pub(super) fn new(arena: &'a Arena<'a>, id: Id, path: &str) -> Result<Est<'a>, LoadError> {
        match arena.get(id) {
            Obj::Instance {
                class,
                state: Some(state),
                ..
            } if matches!(arena.get(*state), Obj::Dict(_)) => Ok(Est {
                arena,
                class: class.clone(),
                state: *state,
                path: format!("{path}{}", class.name),
            }),
            Obj::Instance { class, .. } => Err(err(path, format!("{class} has no state dict"))),
            Obj::Placeholder(p) => Err(err(
                format!("{path}{}", p.global.name),
                unconverted(p, Needed::Model),
            )),
            other => Err(err(
                path,
                format!("expected an estimator, found {}", kind_name(other)),
            )),
        }
    }

    /// The scikit-learn version that pickled it, when recorded.
    pub(super) fn sklearn_version(&self) -> Option<String> {
        self.get("_sklearn_version")
            .and_then(|id| match self.arena.get(id) {
                Obj::Str(s) => Some(s.clone()),
                _ => None,
            })
    }

    pub(super) fn field(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    pub(super) fn get(&self, name: &str) -> Option<Id> {
        self.arena
            .dict_get(self.state, name)
            .filter(|id| !matches!(self.arena.get(*id), Obj::None))
    }

    /// The first of several attribute spellings that is present.
    pub(super) fn any(&self, names: &[&'static str]) -> Result<(Id, &'static str), LoadError> {
        names
            .iter()
            .find_map(|n| self.get(n).map(|id| (id, *n)))
            .ok_or_else(|| err(self.field(names[0]), "is missing"))
    }

    pub(super) fn require(&self, name: &str) -> Result<Id, LoadError> {
        self.get(name)
            .ok_or_else(|| err(self.field(name), "is missing"))
    }

    pub(super) fn string(&self, name: &str) -> Result<String, LoadError> {
        match self.arena.get(self.require(name)?) {
            Obj::Str(s) => Ok(s.clone()),
            Obj::Global(g) => Err(err(
                self.field(name),
                format!("is the callable {g}, not a name"),
            )),
            other => Err(err(
                self.field(name),
                format!("expected a string, found {}", kind_name(other)),
            )),
        }
    }

    pub(super) fn number(&self, name: &str) -> Result<f64, LoadError> {
        numpy::number(self.arena, self.require(name)?).map_err(|m| err(self.field(name), m))
    }

    pub(super) fn flag(&self, name: &str, default: bool) -> Result<bool, LoadError> {
        match self.get(name).map(|id| self.arena.get(id)) {
            None => Ok(default),
            Some(Obj::Bool(b)) => Ok(*b),
            Some(Obj::Int(i)) => Ok(*i != 0),
            Some(other) => Err(err(
                self.field(name),
                format!("expected a boolean, found {}", kind_name(other)),
            )),
        }
    }

    pub(super) fn array(&self, id: Id, name: &str) -> Result<NdArray, LoadError> {
        numpy::array(self.arena, id).map_err(|m| err(self.field(name), m))
    }

    pub(super) fn floats(&self, id: Id, name: &str) -> Result<(Vec<usize>, Vec<f64>), LoadError> {
        let a = self.array(id, name)?;
        let values = match a.values {
            Values::Float(v) => v,
            Values::Int(v) => v.into_iter().map(|i| i as f64).collect(),
            Values::Bool(v) => v.into_iter().map(|b| f64::from(u8::from(b))).collect(),
            _ => return Err(err(self.field(name), "expected a numeric array")),
        };
        Ok((a.shape, values))
    }

    pub(super) fn vector(&self, name: &str) -> Result<Array1<f64>, LoadError> {
        let id = self.require(name)?;
        // `intercept_` is a plain float in some estimators (§3).
        if let Ok(v) = numpy::number(self.arena, id) {
            return Ok(Array1::from(vec![v]));
        }
        let (shape, values) = self.floats(id, name)?;
        if shape.len() > 2 || (shape.len() == 2 && shape[0] != 1) {
            return Err(err(
                self.field(name),
                format!("expected a vector, found shape {shape:?}"),
            ));
        }
        Ok(Array1::from(values))
    }

    /// A 2-D matrix, dense or scipy CSR (densified, §1.9).
    pub(super) fn matrix(&self, name: &str) -> Result<Array2<f64>, LoadError> {
        let id = self.require(name)?;
        if let Obj::Instance { class, .. } = self.arena.get(id) {
            if class.module.starts_with("scipy.sparse") {
                return self.csr(id, name);
            }
        }
        let (shape, values) = self.floats(id, name)?;
        let (r, c) = match shape.as_slice() {
            [r, c] => (*r, *c),
            other => {
                return Err(err(
                    self.field(name),
                    format!("expected a matrix, found shape {other:?}"),
                ))
            }
        };
        Array2::from_shape_vec((r, c), values).map_err(|e| err(self.field(name), e.to_string()))
    }

    pub(super) fn csr(&self, id: Id, name: &str) -> Result<Array2<f64>, LoadError> {
        let sparse = Est::new(self.arena, id, &format!("{}.", self.field(name)))?;
        let shape_id = sparse.require("_shape")?;
        let shape: Vec<usize> = match self.arena.get(shape_id) {
            Obj::Tuple(items) => items
                .iter()
                .map(|d| match self.arena.get(*d) {
                    Obj::Int(n) => usize::try_from(*n).ok(),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(|| err(sparse.field("_shape"), "is not a tuple of sizes"))?,
            _ => return Err(err(sparse.field("_shape"), "is not a tuple")),
        };
        let [rows, cols] = shape.as_slice() else {
            return Err(err(sparse.field("_shape"), "is not 2-D"));
        };
        let (rows, cols) = (*rows, *cols);
        if rows.checked_mul(cols).is_none_or(|n| n > MAX_DENSE) {
            return Err(err(
                sparse.field("_shape"),
                format!("{rows}x{cols} is too large to densify"),
            ));
        }
        let ints = |field: &str| -> Result<Vec<i64>, LoadError> {
            match sparse.array(sparse.require(field)?, field)?.values {
                Values::Int(v) => Ok(v),
                _ => Err(err(sparse.field(field), "expected integers")),
            }
        };
        let indptr = ints("indptr")?;
        let indices = ints("indices")?;
        let (_, data) = sparse.floats(sparse.require("data")?, "data")?;
        if indptr.len() != rows + 1 || indices.len() != data.len() {
            return Err(err(
                sparse.field("indptr"),
                "does not match the shape and data",
            ));
        }
        let mut dense = Array2::<f64>::zeros((rows, cols));
        for r in 0..rows {
            let (a, b) = (indptr[r], indptr[r + 1]);
            if a < 0 || b < a || b as usize > data.len() {
                return Err(err(
                    sparse.field("indptr"),
                    format!("entry {r} is out of range"),
                ));
            }
            for k in a as usize..b as usize {
                let c = usize::try_from(indices[k])
                    .ok()
                    .filter(|&c| c < cols)
                    .ok_or_else(|| {
                        err(
                            sparse.field("indices"),
                            format!("entry {k} is out of range"),
                        )
                    })?;
                dense[[r, c]] = data[k];
            }
        }
        Ok(dense)
    }
}
