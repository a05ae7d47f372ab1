//! numpy dtypes and shapes as unpickled objects, and the size of the raw
//! block a joblib wrapper announces: all the VM needs to know about numpy,
//! so that it does not import [`super::numpy`].

use super::object::{Arena, Id, Obj};

/// numpy's element type: kind, item size in bytes, byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dtype {
    /// b'f', b'i', b'u', b'b', b'U', b'S' or b'O'.
    pub kind: u8,
    /// Bytes per element (for 'U', four per character).
    pub itemsize: usize,
    /// Whether the bytes of each element are big-endian.
    pub big_endian: bool,
}

/// Whether `module` is numpy's `core_module`, in 2.x or 1.x spelling.
pub(crate) fn is_numpy(module: &str, core_module: &str) -> bool {
    module == format!("numpy._core.{core_module}") || module == format!("numpy.core.{core_module}")
}

/// The content of a str object.
pub(super) fn text<'a>(arena: &'a Arena, id: Id) -> Option<&'a str> {
    match arena.get(id) {
        Obj::Str(s) => Some(s),
        _ => None,
    }
}

/// Parses a dtype object: REDUCE(numpy.dtype, ('f8', False, True)) then
/// BUILD with `(3, byteorder, ...)`; the byte order lives only in the state.
pub fn dtype(arena: &Arena, id: Id) -> Result<Dtype, String> {
    let Obj::Instance {
        class, args, state, ..
    } = arena.get(id)
    else {
        return Err("expected a numpy dtype".into());
    };
    if !(class.module == "numpy" && class.name == "dtype") {
        return Err(format!("expected numpy.dtype, found {class}"));
    }
    let code = args
        .first()
        .and_then(|a| text(arena, *a))
        .ok_or("numpy.dtype without a type string")?;
    let mut chars = code.trim_start_matches(['<', '>', '|', '=']);
    let big_in_code = code.starts_with('>');
    let kind = *chars.as_bytes().first().ok_or("empty dtype string")?;
    chars = &chars[1..];
    let count: usize = if chars.is_empty() {
        0
    } else {
        chars
            .parse()
            .map_err(|_| format!("unsupported dtype '{code}'"))?
    };
    let itemsize = match kind {
        b'f' | b'i' | b'u' if matches!(count, 1 | 2 | 4 | 8) => count,
        b'b' if count == 1 || count == 0 => 1,
        b'U' => count.checked_mul(4).ok_or("dtype too large")?,
        b'S' => count,
        b'O' => 8,
        _ => return Err(format!("unsupported dtype '{code}'")),
    };
    if kind == b'f' && count == 1 {
        return Err(format!("unsupported dtype '{code}'"));
    }
    let order = state.and_then(|s| match arena.get(s) {
        Obj::Tuple(items) => items.get(1).and_then(|o| text(arena, *o)),
        _ => None,
    });
    let big_endian = match order {
        Some(">") => true,
        Some(_) => false,
        None => big_in_code,
    };
    Ok(Dtype {
        kind,
        itemsize,
        big_endian,
    })
}

/// Whether a dtype object is numpy's object dtype (`'O'`).
pub fn dtype_is_object(arena: &Arena, id: Id) -> bool {
    dtype(arena, id).is_ok_and(|d| d.kind == b'O')
}

/// An array shape: a tuple or list of sizes, or a single int.
pub(super) fn shape(arena: &Arena, id: Id) -> Result<Vec<usize>, String> {
    let items = match arena.get(id) {
        Obj::Tuple(items) | Obj::List(items) => items,
        Obj::Int(n) => {
            return usize::try_from(*n)
                .map(|n| vec![n])
                .map_err(|_| "negative dimension".into())
        }
        _ => return Err("array shape is not a tuple".into()),
    };
    items
        .iter()
        .map(|d| match arena.get(*d) {
            Obj::Int(n) => usize::try_from(*n).map_err(|_| format!("negative dimension {n}")),
            _ => Err("array dimension is not an integer".into()),
        })
        .collect()
}

/// The number of elements of `shape`, checked for overflow.
pub(super) fn element_count(shape: &[usize]) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("array shape {shape:?} overflows"))
}

/// Bytes of raw data a joblib wrapper announces (checked for overflow).
pub fn wrapper_nbytes(arena: &Arena, state: Id) -> Result<usize, String> {
    let shape_id = arena
        .dict_get(state, "shape")
        .ok_or("joblib wrapper without shape")?;
    let dtype_id = arena
        .dict_get(state, "dtype")
        .ok_or("joblib wrapper without dtype")?;
    let count = element_count(&shape(arena, shape_id)?)?;
    count
        .checked_mul(dtype(arena, dtype_id)?.itemsize)
        .ok_or_else(|| "array size overflows".into())
}
