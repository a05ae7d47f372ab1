//! A model file's bytes: read into memory, or mapped when the file is big.
//!
//! A big joblib file is mostly raw array blocks. Reading it whole and then
//! decoding its arrays would hold the model twice; mapping it instead lets
//! the decoder hand each block's pages back to the page cache as soon as the
//! block is decoded, so loading peaks near the model's own size (issue 6:
//! converter memory at most ~1.5× the model).

use super::{load_bytes_releasing, LoadError, LoadOptions, LoadedModel};
use std::ops::Range;
use std::path::Path;

/// Files at least this big are mapped; smaller ones are read. Mapping has
/// one hazard, a SIGBUS if another process truncates the file while it is
/// read, so it is kept for the files where memory matters.
pub const MAP_AT_BYTES: u64 = 64 << 20;

/// An opened model file.
pub struct ModelFile {
    bytes: Bytes,
}

enum Bytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

/// Wraps an I/O failure on `path` as a [`LoadError`].
fn io_error(path: &Path) -> impl Fn(std::io::Error) -> LoadError + Copy + '_ {
    move |source| LoadError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl ModelFile {
    /// Opens `path`: mapped from [`MAP_AT_BYTES`] on, read below.
    pub fn open(path: &Path) -> Result<ModelFile, LoadError> {
        let io = io_error(path);
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len >= MAP_AT_BYTES {
            return Self::map_file(&file).map_err(io);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(io)?;
        Ok(ModelFile {
            bytes: Bytes::Read(bytes),
        })
    }

    /// Opens `path` mapped, whatever its size.
    pub fn map(path: &Path) -> Result<ModelFile, LoadError> {
        let io = io_error(path);
        let file = std::fs::File::open(path).map_err(io)?;
        Self::map_file(&file).map_err(io)
    }

    fn map_file(file: &std::fs::File) -> std::io::Result<ModelFile> {
        // SAFETY: the mapping is read-only and private to this process; the
        // bytes are only read. The one remaining hazard (the file truncated
        // by someone else meanwhile) is documented at MAP_AT_BYTES.
        let map = unsafe { memmap2::Mmap::map(file) }?;
        // Only a hint: the parser walks the file front to back.
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(ModelFile {
            bytes: Bytes::Mapped(map),
        })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Read(v) => v,
            Bytes::Mapped(m) => m,
        }
    }

    /// Whether the file is mapped rather than read.
    pub fn is_mapped(&self) -> bool {
        matches!(self.bytes, Bytes::Mapped(_))
    }

    /// Loads the model, recognising its format by content. When mapped,
    /// each decoded array block's pages are dropped from this process (they
    /// stay in the page cache and are read again if touched again).
    pub fn load(&self, options: &LoadOptions) -> Result<LoadedModel, LoadError> {
        match &self.bytes {
            Bytes::Read(v) => load_bytes_releasing(v, options, None),
            Bytes::Mapped(map) => {
                let release = |range: Range<usize>| {
                    if range.is_empty() {
                        return;
                    }
                    // SAFETY: MADV_DONTNEED on a read-only file mapping only
                    // drops pages; a later read faults them back in from the
                    // file with the same content. memmap2 aligns the start
                    // down to a page, which at worst drops a neighbour's page.
                    let _ = unsafe {
                        map.unchecked_advise_range(
                            memmap2::UncheckedAdvice::DontNeed,
                            range.start,
                            range.len(),
                        )
                    };
                };
                load_bytes_releasing(map, options, Some(&release))
            }
        }
    }
}
