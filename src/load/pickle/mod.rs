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
    // Names outside the allowlist become inert placeholders: the walk from
    // the root refuses one only where the converted model needs it.
    let (mut arena, root) =
        vm::unpickle_with_buffers(stream, buffers, &sklearn::known, vm::Limits::default())
            .map_err(|e| LoadError::Pickle {
                offset: e.offset,
                message: e.message,
                stream: codec.map_or("pickle".to_string(), |c| {
                    format!("decompressed {} stream", c.name())
                }),
            })?;
    arena.set_release(release);
    let model = sklearn::to_model(&arena, root)?;
    let feature_names = sklearn::feature_names(&arena, root, model.n_features())?;
    Ok(LoadedModel {
        model,
        samples: None,
        warnings: Vec::new(),
        feature_names,
    })
}
