//! numpy objects in an unpickled tree: dtypes, arrays (`_reconstruct` +
//! BUILD, protocol-5 `_frombuffer`, joblib inline blocks) and scalars
//! (SVM_SEMANTICS.md §5a, §5b). Both `numpy._core` (2.x) and `numpy.core`
//! (1.x) spellings are accepted.

pub(crate) use super::dtype::is_numpy;
pub use super::dtype::{dtype, dtype_is_object, wrapper_nbytes, Dtype};
use super::dtype::{element_count, shape, text};
pub use super::elements::Values;
use super::elements::{fast_values, other_values};
use super::object::{Arena, Id, InlineArray, Obj};
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;

/// A decoded numpy array.
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    /// The size of each axis.
    pub shape: Vec<usize>,
    /// The elements in C order.
    pub values: Values,
}

/// Decodes raw bytes; `order` is 'C' or 'F', or 'K' with an axis order.
fn decode(
    raw: &[u8],
    dt: Dtype,
    shape: &[usize],
    order: char,
    axis_order: Option<Vec<usize>>,
    decoded: &dyn Fn(Range<usize>),
) -> Result<NdArray, String> {
    let count = element_count(shape)?;
    let expected = count
        .checked_mul(dt.itemsize)
        .ok_or("array size overflows")?;
    if raw.len() != expected {
        return Err(format!(
            "array of shape {shape:?} needs {expected} bytes of data, found {}",
            raw.len()
        ));
    }
    let values = match fast_values(raw, dt, decoded) {
        Some(values) => values,
        None => {
            let values = other_values(raw, dt, count)?;
            decoded(0..raw.len());
            values
        }
    };
    reorder(
        NdArray {
            shape: shape.to_vec(),
            values,
        },
        order,
        axis_order,
    )
}

/// Brings element order to C order.
fn reorder(a: NdArray, order: char, axis_order: Option<Vec<usize>>) -> Result<NdArray, String> {
    let permutation: Option<Vec<usize>> = match (order, axis_order) {
        ('C', _) => None,
        ('F', _) => {
            // Data are the reversed-shape C array, transposed.
            let n = a.shape.len();
            let reversed: Vec<usize> = a.shape.iter().rev().copied().collect();
            let NdArray { values, .. } = a;
            return permute(
                NdArray {
                    shape: reversed,
                    values,
                },
                &(0..n).rev().collect::<Vec<_>>(),
            );
        }
        ('K', Some(axes)) => Some(axes),
        ('K', None) => None,
        (o, _) => return Err(format!("unknown array order '{o}'")),
    };
    match permutation {
        None => Ok(a),
        Some(axes) => permute(a, &axes),
    }
}

/// Transposes a C-ordered array by `axes` and returns it in C order.
fn permute(a: NdArray, axes: &[usize]) -> Result<NdArray, String> {
    let n = a.shape.len();
    let mut seen = vec![false; n];
    if axes.len() != n
        || axes
            .iter()
            .any(|&x| x >= n || std::mem::replace(&mut seen[x], true))
    {
        return Err(format!(
            "axis order {axes:?} is not a permutation of {n} axes"
        ));
    }
    fn go<T: Clone>(
        v: Vec<T>,
        shape: &[usize],
        axes: &[usize],
    ) -> Result<(Vec<usize>, Vec<T>), String> {
        let arr = ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| e.to_string())?;
        let t = arr.permuted_axes(IxDyn(axes));
        let new_shape = t.shape().to_vec();
        Ok((new_shape, t.as_standard_layout().iter().cloned().collect()))
    }
    let shape = a.shape.clone();
    Ok(match a.values {
        Values::Float(v) => {
            let (s, v) = go(v, &shape, axes)?;
            NdArray {
                shape: s,
                values: Values::Float(v),
            }
        }
        Values::Int(v) => {
            let (s, v) = go(v, &shape, axes)?;
            NdArray {
                shape: s,
                values: Values::Int(v),
            }
        }
        Values::Bool(v) => {
            let (s, v) = go(v, &shape, axes)?;
            NdArray {
                shape: s,
                values: Values::Bool(v),
            }
        }
        Values::Str(v) => {
            let (s, v) = go(v, &shape, axes)?;
            NdArray {
                shape: s,
                values: Values::Str(v),
            }
        }
        Values::Object(v) => {
            let (s, v) = go(v, &shape, axes)?;
            NdArray {
                shape: s,
                values: Values::Object(v),
            }
        }
    })
}

/// Tells the arena a stream payload has been decoded (block by block).
fn release_of<'a>(arena: &'a Arena, id: Id) -> impl Fn(Range<usize>) + 'a {
    let start = match arena.get(id) {
        Obj::StreamBytes(r) => Some(r.start),
        _ => None,
    };
    move |r: Range<usize>| {
        if let Some(start) = start {
            arena.release(start + r.start..start + r.end);
        }
    }
}

fn bytes_of<'a>(arena: &'a Arena, id: Id) -> Result<&'a [u8], String> {
    if let Some(b) = arena.bytes(id) {
        return Ok(b);
    }
    match arena.get(id) {
        // Protocol 0-2 may carry raw data as a latin-1 text.
        Obj::Str(_) => Err("array data given as text is not supported".into()),
        _ => Err("array data is not bytes".into()),
    }
}

fn object_values(arena: &Arena, id: Id, shape: &[usize]) -> Result<NdArray, String> {
    let Obj::List(items) = arena.get(id) else {
        return Err("object array data is not a list".into());
    };
    if items.len() != element_count(shape)? {
        return Err(format!(
            "object array of shape {shape:?} has {} elements",
            items.len()
        ));
    }
    Ok(NdArray {
        shape: shape.to_vec(),
        values: Values::Object(items.clone()),
    })
}

/// Decodes any of the array encodings.
pub fn array(arena: &Arena, id: Id) -> Result<NdArray, String> {
    match arena.get(id) {
        Obj::Instance { class, state, .. }
            if class.name == "_reconstruct" && is_numpy(&class.module, "multiarray") =>
        {
            reconstructed(arena, state.ok_or("numpy array without state")?)
        }
        Obj::Instance { class, args, .. }
            if class.name == "_frombuffer" && is_numpy(&class.module, "numeric") =>
        {
            frombuffer(arena, args)
        }
        Obj::Inline(inline) => joblib_inline(arena, inline),
        Obj::Instance { class, .. } => Err(format!("expected a numpy array, found {class}")),
        other => Err(format!(
            "expected a numpy array, found {}",
            kind_name(other)
        )),
    }
}

/// `_reconstruct` + BUILD: the state is (version, shape, dtype, is_fortran,
/// raw data or, for object arrays, a list).
fn reconstructed(arena: &Arena, st: Id) -> Result<NdArray, String> {
    let Obj::Tuple(items) = arena.get(st) else {
        return Err("numpy array state is not a tuple".into());
    };
    let [_, shape_id, dtype_id, fortran_id, raw_id] = items.as_slice() else {
        return Err(format!(
            "numpy array state has {} items, expected 5",
            items.len()
        ));
    };
    let shape = shape(arena, *shape_id)?;
    let dt = dtype(arena, *dtype_id)?;
    let fortran = matches!(arena.get(*fortran_id), Obj::Bool(true) | Obj::Int(1));
    let order = if fortran { 'F' } else { 'C' };
    if dt.kind == b'O' {
        let a = object_values(arena, *raw_id, &shape)?;
        return reorder(a, order, None);
    }
    let release = release_of(arena, *raw_id);
    decode(bytes_of(arena, *raw_id)?, dt, &shape, order, None, &release)
}

/// Protocol 5's `_frombuffer(buffer, dtype, shape, order[, axis order])`.
fn frombuffer(arena: &Arena, args: &[Id]) -> Result<NdArray, String> {
    let (buf, dt, sh, order) = match args {
        [b, d, s, o] | [b, d, s, o, _] => (*b, *d, *s, *o),
        _ => return Err("_frombuffer needs (buffer, dtype, shape, order)".into()),
    };
    let order = text(arena, order)
        .and_then(|o| o.chars().next())
        .ok_or("array order is not a string")?;
    let axis_order = match args.get(4) {
        Some(a) if !matches!(arena.get(*a), Obj::None) => Some(shape(arena, *a)?),
        _ => None,
    };
    decode(
        bytes_of(arena, buf)?,
        dtype(arena, dt)?,
        &shape(arena, sh)?,
        order,
        axis_order,
        &release_of(arena, buf),
    )
}

/// joblib's NumpyArrayWrapper: raw data in the stream after its BUILD, or
/// a nested pickle for object arrays.
fn joblib_inline(arena: &Arena, inline: &InlineArray) -> Result<NdArray, String> {
    let st = inline.wrapper_state;
    let shape = shape(
        arena,
        arena
            .dict_get(st, "shape")
            .ok_or("joblib wrapper without shape")?,
    )?;
    let order = arena
        .dict_get(st, "order")
        .and_then(|o| text(arena, o))
        .and_then(|o| o.chars().next())
        .unwrap_or('C');
    match (&inline.raw, inline.object_array) {
        (Some(raw), _) => {
            let dt = dtype(
                arena,
                arena
                    .dict_get(st, "dtype")
                    .ok_or("joblib wrapper without dtype")?,
            )?;
            let bytes = arena
                .stream()
                .get(raw.clone())
                .ok_or("joblib array outside the stream")?;
            // A mapped file drops each block's pages once decoded.
            let start = raw.start;
            decode(bytes, dt, &shape, order, None, &|r: Range<usize>| {
                arena.release(start + r.start..start + r.end)
            })
        }
        (None, Some(inner)) => array(arena, inner),
        (None, None) => Err("joblib array without data".into()),
    }
}

/// A short description of an object's kind for error messages.
pub fn kind_name(obj: &Obj) -> std::borrow::Cow<'static, str> {
    std::borrow::Cow::Borrowed(match obj {
        Obj::None => "None",
        Obj::Bool(_) => "a boolean",
        Obj::Int(_) => "an integer",
        Obj::Float(_) => "a float",
        Obj::Str(_) => "a string",
        Obj::Bytes(_) | Obj::StreamBytes(_) | Obj::OutOfBand(_) => "bytes",
        Obj::Tuple(_) => "a tuple",
        Obj::List(_) => "a list",
        Obj::Dict(_) => "a dict",
        Obj::Global(_) => "a global",
        Obj::Instance { .. } => "an object",
        Obj::Inline(_) => "a joblib array",
        // Whoever reads it learns which name it stands for.
        Obj::Placeholder(p) => return std::borrow::Cow::Owned(p.to_string()),
    })
}

/// A number: a Python int/float or a numpy scalar (`multiarray.scalar`).
pub fn number(arena: &Arena, id: Id) -> Result<f64, String> {
    match arena.get(id) {
        Obj::Float(f) => Ok(*f),
        Obj::Int(i) => Ok(*i as f64),
        Obj::Bool(b) => Ok(f64::from(u8::from(*b))),
        Obj::Instance { class, args, .. }
            if class.name == "scalar" && is_numpy(&class.module, "multiarray") =>
        {
            let [dt, raw] = args.as_slice() else {
                return Err("numpy scalar needs (dtype, bytes)".into());
            };
            let a = decode(
                bytes_of(arena, *raw)?,
                dtype(arena, *dt)?,
                &[1],
                'C',
                None,
                &|_| {},
            )?;
            match a.values {
                Values::Float(v) => Ok(v[0]),
                Values::Int(v) => Ok(v[0] as f64),
                Values::Bool(v) => Ok(f64::from(u8::from(v[0]))),
                _ => Err("numpy scalar is not a number".into()),
            }
        }
        other => Err(format!("expected a number, found {}", kind_name(other))),
    }
}
