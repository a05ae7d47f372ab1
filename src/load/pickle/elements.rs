//! Raw array bytes → element values, for every dtype a model uses: the
//! common little-endian ones block by block (so a mapped file's pages can be
//! released as they are converted), the rest in one pass.

use super::dtype::Dtype;
use super::object::Id;
use std::ops::Range;

/// Element values of an array, in C order.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Floats of any width, widened.
    Float(Vec<f64>),
    /// Signed and unsigned integers of any width.
    Int(Vec<i64>),
    /// Booleans.
    Bool(Vec<bool>),
    /// Fixed-width unicode or byte strings.
    Str(Vec<String>),
    /// An object array's elements, as arena objects.
    Object(Vec<Id>),
}

impl Values {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            Values::Float(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Str(v) => v.len(),
            Values::Object(v) => v.len(),
        }
    }
    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The little-endian types models are made of, decoded block by block and
/// telling `decoded` after each block, so a mapped file's pages can go as
/// soon as they are converted. `None` for every other type.
pub(super) fn fast_values(raw: &[u8], dt: Dtype, decoded: &dyn Fn(Range<usize>)) -> Option<Values> {
    match (dt.kind, dt.itemsize, dt.big_endian) {
        (b'f', 8, false) => Some(Values::Float(in_blocks(raw, 8, decoded, |c| {
            f64::from_le_bytes(c.try_into().expect("8 bytes"))
        }))),
        (b'i', 4, false) => Some(Values::Int(in_blocks(raw, 4, decoded, |c| {
            i32::from_le_bytes(c.try_into().expect("4 bytes")) as i64
        }))),
        (b'i', 8, false) => Some(Values::Int(in_blocks(raw, 8, decoded, |c| {
            i64::from_le_bytes(c.try_into().expect("8 bytes"))
        }))),
        _ => None,
    }
}

/// Any other dtype, in one pass: floats of 2, 4 or 8 bytes, integers of
/// any size and byte order, booleans and fixed-width text.
pub(super) fn other_values(raw: &[u8], dt: Dtype, count: usize) -> Result<Values, String> {
    let size = dt.itemsize;
    let word = |chunk: &[u8]| -> [u8; 8] {
        let mut b = [0u8; 8];
        if dt.big_endian {
            for (i, &x) in chunk.iter().rev().enumerate() {
                b[i] = x;
            }
        } else {
            b[..chunk.len()].copy_from_slice(chunk);
        }
        b
    };
    let chunks = raw.chunks_exact(size.max(1));
    Ok(match dt.kind {
        b'f' => Values::Float(
            chunks
                .map(|c| {
                    let b = word(c);
                    match size {
                        8 => f64::from_le_bytes(b),
                        4 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                        _ => half_to_f64(u16::from_le_bytes([b[0], b[1]])),
                    }
                })
                .collect(),
        ),
        b'i' => Values::Int(
            chunks
                .map(|c| {
                    let b = word(c);
                    let raw = i64::from_le_bytes(b);
                    // Sign-extend from `size` bytes.
                    let shift = 64 - 8 * size as u32;
                    (raw << shift) >> shift
                })
                .collect(),
        ),
        b'u' => Values::Int(
            chunks
                .map(|c| {
                    i64::try_from(u64::from_le_bytes(word(c)))
                        .map_err(|_| "uint64 value too large".to_string())
                })
                .collect::<Result<_, _>>()?,
        ),
        b'b' => Values::Bool(raw.iter().map(|&b| b != 0).collect()),
        b'U' => Values::Str(
            raw.chunks_exact(size.max(4))
                .map(|c| {
                    c.chunks_exact(4)
                        .map(|u| {
                            let b = [u[0], u[1], u[2], u[3]];
                            if dt.big_endian {
                                u32::from_be_bytes(b)
                            } else {
                                u32::from_le_bytes(b)
                            }
                        })
                        .take_while(|&u| u != 0)
                        .map(|u| char::from_u32(u).ok_or("invalid character in a '<U' array"))
                        .collect::<Result<String, _>>()
                })
                .collect::<Result<_, _>>()?,
        ),
        b'S' => Values::Str(
            raw.chunks(size.max(1))
                .take(count)
                .map(|c| {
                    String::from_utf8_lossy(c)
                        .trim_end_matches('\0')
                        .to_string()
                })
                .collect(),
        ),
        _ => return Err("object arrays have no raw data".into()),
    })
}

/// Bytes per block of [`in_blocks`]: 4 MiB, a multiple of every item size.
const DECODE_BLOCK: usize = 4 << 20;

/// Decodes `raw` item by item with `item`, `DECODE_BLOCK` bytes at a time,
/// calling `decoded` with each block's byte range once it is converted.
fn in_blocks<T>(
    raw: &[u8],
    size: usize,
    decoded: &dyn Fn(Range<usize>),
    item: impl Fn(&[u8]) -> T,
) -> Vec<T> {
    let mut values = Vec::with_capacity(raw.len() / size);
    for (b, block) in raw.chunks(DECODE_BLOCK).enumerate() {
        values.extend(block.chunks_exact(size).map(&item));
        let start = b * DECODE_BLOCK;
        decoded(start..start + block.len());
    }
    values
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 => {
            if frac == 0.0 {
                sign * f64::INFINITY
            } else {
                f64::NAN
            }
        }
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}
