//! scikit-learn pickle and joblib files, read without executing anything:
//! a restricted pickle VM ([`vm`]), numpy decoding ([`numpy`]), joblib's
//! compression ([`compress`]) and the scikit-learn object mapping
//! ([`sklearn`]). SVM_SEMANTICS.md §5.

pub mod compress;
pub mod numpy;
pub mod sklearn;
pub mod vm;

use super::{LoadError, LoadedModel};
use compress::Codec;

/// Largest decompressed stream accepted (a bound against decompression bombs).
pub const MAX_DECOMPRESSED: usize = 8 << 30;

/// Whether the bytes look like a pickle or a joblib file.
pub fn recognise(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x80) || Codec::detect(bytes).is_some()
}

/// Reads a pickle or joblib file (compressed or not).
pub fn load(bytes: &[u8]) -> Result<LoadedModel, LoadError> {
    let (stream, codec) = match Codec::detect(bytes) {
        Some(codec) => {
            let stream =
                compress::decompress(bytes, codec, MAX_DECOMPRESSED).map_err(LoadError::Format)?;
            (std::borrow::Cow::Owned(stream), Some(codec))
        }
        None => (std::borrow::Cow::Borrowed(bytes), None),
    };
    let (arena, root) =
        vm::unpickle(&stream, &sklearn::allow, vm::Limits::default()).map_err(|e| {
            LoadError::Pickle {
                offset: e.offset,
                message: e.message,
                stream: codec.map_or("pickle".to_string(), |c| {
                    format!("decompressed {} stream", c.name())
                }),
            }
        })?;
    let model = sklearn::to_model(&arena, root)?;
    Ok(LoadedModel {
        model,
        samples: None,
        warnings: Vec::new(),
    })
}
