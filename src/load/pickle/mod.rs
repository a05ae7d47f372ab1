//! scikit-learn pickle and joblib files, read without executing anything:
//! a restricted pickle VM ([`vm`]), numpy decoding ([`numpy`]), joblib's
//! compression ([`compress`]) and the scikit-learn object mapping
//! ([`sklearn`]). SVM_SEMANTICS.md §5.

pub mod compress;
pub mod dtype;
mod elements;
pub mod numpy;
pub mod object;
pub mod sklearn;
pub mod vm;

use super::{LoadError, LoadedModel};
use compress::Codec;
use object::Global;
use std::cell::RefCell;

/// Largest decompressed stream accepted in any case.
pub const MAX_DECOMPRESSED: usize = 8 << 30;

/// The decompressed size a compressed file may expand to: 1000× its size
/// (joblib's numeric arrays compress far less; zlib cannot exceed ~1032×),
/// at least 256 MiB and at most [`MAX_DECOMPRESSED`]. A 9 kB bz2 bomb is
/// stopped at 256 MiB instead of growing an 8 GiB buffer.
pub fn decompression_limit(compressed_len: usize) -> usize {
    compressed_len
        .saturating_mul(1000)
        .clamp(256 << 20, MAX_DECOMPRESSED)
}

/// Whether the bytes look like a pickle or a joblib file.
pub fn recognise(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x80) || Codec::detect(bytes).is_some()
}

/// Reads a pickle or joblib file (compressed or not).
/// `release`, for a file read in place, is given each decoded array block
/// (uncompressed streams only: a decompressed stream is this process's own).
pub fn load(
    bytes: &[u8],
    release: Option<&dyn Fn(std::ops::Range<usize>)>,
) -> Result<LoadedModel, LoadError> {
    let (stream, codec) = match Codec::detect(bytes) {
        Some(codec) => {
            let stream = compress::decompress(bytes, codec, decompression_limit(bytes.len()))
                .map_err(LoadError::Format)?;
            (std::borrow::Cow::Owned(stream), Some(codec))
        }
        None => (std::borrow::Cow::Borrowed(bytes), None),
    };
    let release = if codec.is_none() { release } else { None };
    load_stream(&stream, &[], codec, release)
}

/// Reads a protocol-5 pickle stream written with a `buffer_callback`, and
/// its out-of-band buffers in the order the callback received them (what
/// `pickle.loads(stream, buffers=...)` takes). The buffers are read as
/// array bytes only, as in-band data would be.
pub fn load_with_buffers(stream: &[u8], buffers: &[&[u8]]) -> Result<LoadedModel, LoadError> {
    load_stream(stream, buffers, None, None)
}

fn load_stream<'s>(
    stream: &'s [u8],
    buffers: &'s [&'s [u8]],
    codec: Option<Codec>,
    release: Option<&'s dyn Fn(std::ops::Range<usize>)>,
) -> Result<LoadedModel, LoadError> {
    let refused = RefCell::new(None);
    let allow =
        |g: &Global| sklearn::allow(g).inspect_err(|_| *refused.borrow_mut() = Some(g.clone()));
    let (mut arena, root) =
        match vm::unpickle_with_buffers(stream, buffers, &allow, vm::Limits::default()) {
            Ok(tree) => tree,
            Err(e) => {
                let located = refused
                    .take()
                    .and_then(|g| refused_step(stream, buffers, g));
                return Err(located.unwrap_or_else(|| LoadError::Pickle {
                    offset: e.offset,
                    message: e.message,
                    stream: codec.map_or("pickle".to_string(), |c| {
                        format!("decompressed {} stream", c.name())
                    }),
                }));
            }
        };
    arena.set_release(release);
    let model = sklearn::to_model(&arena, root)?;
    Ok(LoadedModel {
        model,
        samples: None,
        warnings: Vec::new(),
    })
}

/// Reads of a refused file made to place its refused class.
const MAX_PLACING_RUNS: usize = 4;

/// When a GLOBAL was refused, where is that class? The stream is read again
/// with it (and up to [`MAX_PLACING_RUNS`] names refused after it) admitted;
/// they are still only recorded, never called, and the result is never a
/// model: when the class is a Pipeline step, that step's error (its
/// position, its class, what to do) replaces the byte-offset refusal.
fn refused_step(stream: &[u8], buffers: &[&[u8]], class: Global) -> Option<LoadError> {
    let mut admitted = vec![class.clone()];
    for _ in 0..MAX_PLACING_RUNS {
        let refused = RefCell::new(None);
        let allow = |g: &Global| {
            if admitted.contains(g) {
                return Ok(());
            }
            sklearn::allow(g).inspect_err(|_| *refused.borrow_mut() = Some(g.clone()))
        };
        match vm::unpickle_with_buffers(stream, buffers, &allow, vm::Limits::default()) {
            Ok((arena, root)) => return sklearn::step_error(&arena, root, &class),
            Err(_) => admitted.push(refused.into_inner()?),
        }
    }
    None
}
