//! Writing a model file atomically.
//!
//! The model (and its external data, `<output>.data`) is first written into
//! a hidden staging folder next to the output, where it can be validated;
//! [`Staged::publish`] then moves the files into place by rename, the data
//! file first so the model never points at data that is not there. On any
//! failure, and whenever a [`Staged`] is dropped unpublished, the staging
//! folder is removed: no partial output is ever left behind.
//!
//! Errors name the user's output path, never a staging file.

use crate::compile::Compiled;
use crate::emit::{ExternalSink, Written};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The output path does not end in a file name (`dir/`, `..`, empty).
    #[error("cannot write {}: the path does not name a file", .0.display())]
    NoFileName(PathBuf),
    /// The folder the output goes into does not exist.
    #[error("cannot write {}: the folder {} does not exist", path.display(), folder.display())]
    NoFolder {
        /// The output path.
        path: PathBuf,
        /// Its missing folder.
        folder: PathBuf,
    },
    /// The output's parent exists but is not a folder.
    #[error("cannot write {}: {} is not a folder", path.display(), folder.display())]
    NotAFolder {
        /// The output path.
        path: PathBuf,
        /// Its parent, which is not a folder.
        folder: PathBuf,
    },
    /// The system refused a write or a rename of `path`; the cause is the
    /// error's `source()`.
    #[error("cannot write {}", path.display())]
    Io {
        /// The user's path (the model or its data file).
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The hidden folder next to the output; removed on drop.
#[derive(Debug)]
struct StagingDir(PathBuf);

impl Drop for StagingDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Creates `.<name>.tmp-<pid>-<n>` next to `output`.
fn staging_dir(output: &Path) -> Result<(StagingDir, String), PublishError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = match output.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => return Err(PublishError::NoFileName(output.to_path_buf())),
    };
    let folder = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = folder.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok((StagingDir(dir), name)),
        Err(_) if !folder.exists() => Err(PublishError::NoFolder {
            path: output.to_path_buf(),
            folder: folder.to_path_buf(),
        }),
        Err(_) if !folder.is_dir() => Err(PublishError::NotAFolder {
            path: output.to_path_buf(),
            folder: folder.to_path_buf(),
        }),
        Err(e) => Err(io_error(output)(e)),
    }
}

/// A writer that remembers whether it failed, to tell which of two files
/// an error of [`Compiled::write`] came from.
struct Tracked<W> {
    inner: W,
    failed: bool,
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.failed |= r.is_err();
        r
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.failed |= r.is_err();
        r
    }
}

fn create(staged: &Path) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(staged)?))
}

/// Flushes and syncs a staged file.
fn finish(w: BufWriter<File>) -> std::io::Result<()> {
    w.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// A model written into the staging folder, not yet at its destination.
#[derive(Debug)]
pub struct Staged {
    dir: StagingDir,
    output: PathBuf,
    name: String,
    data: bool,
    written: Written,
}

/// Writes a compiled model into a staging folder next to `output`; with
/// `external`, large initializers go to `<output>.data` (ONNX external
/// data, located relative to the model).
pub fn stage_compiled(
    compiled: &Compiled,
    output: &Path,
    external: bool,
) -> Result<Staged, PublishError> {
    let (dir, name) = staging_dir(output)?;
    let model_path = dir.0.join(&name);
    let data_name = format!("{name}.data");
    let data_dest = output.with_file_name(&data_name);
    let mut model = create(&model_path).map_err(io_error(output))?;
    let written = if external {
        let file = create(&dir.0.join(&data_name)).map_err(io_error(&data_dest))?;
        let mut data = Tracked {
            inner: file,
            failed: false,
        };
        let sink = ExternalSink {
            location: &data_name,
            data: &mut data,
        };
        let written = compiled.write(&mut model, Some(sink));
        let blame = if data.failed { &data_dest } else { output };
        let written = written.map_err(io_error(blame))?;
        finish(data.inner).map_err(io_error(&data_dest))?;
        written
    } else {
        compiled.write(&mut model, None).map_err(io_error(output))?
    };
    finish(model).map_err(io_error(output))?;
    Ok(Staged {
        dir,
        output: output.to_path_buf(),
        name,
        data: external,
        written,
    })
}

/// Writes ready ONNX bytes into a staging folder next to `output`.
pub fn stage_bytes(onnx: &[u8], output: &Path) -> Result<Staged, PublishError> {
    let (dir, name) = staging_dir(output)?;
    let write = || -> std::io::Result<()> {
        let mut w = create(&dir.0.join(&name))?;
        w.write_all(onnx)?;
        finish(w)
    };
    write().map_err(io_error(output))?;
    Ok(Staged {
        dir,
        output: output.to_path_buf(),
        name,
        data: false,
        written: Written {
            model: onnx.len() as u64,
            external: 0,
        },
    })
}

/// Where a published model went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The model file (the output path).
    pub model: PathBuf,
    /// Its external data file, `<output>.data`, if it has one.
    pub data: Option<PathBuf>,
    /// Byte counts of the two files.
    pub written: Written,
}

impl Staged {
    /// The staged model file, to validate before publishing (external data
    /// sits next to it under its final name).
    pub fn model_path(&self) -> PathBuf {
        self.dir.0.join(&self.name)
    }

    /// Byte counts of the staged files.
    pub fn written(&self) -> Written {
        self.written
    }

    /// The external data file's name (relative to the model), if any.
    pub fn data_name(&self) -> Option<String> {
        self.data.then(|| format!("{}.data", self.name))
    }

    /// Moves the staged files to the output path, data first. If the model
    /// cannot be moved, the data file just published is removed again.
    pub fn publish(self) -> Result<Published, PublishError> {
        let data = match self.data_name() {
            Some(name) => {
                let dest = self.output.with_file_name(&name);
                std::fs::rename(self.dir.0.join(&name), &dest).map_err(io_error(&dest))?;
                Some(dest)
            }
            None => None,
        };
        if let Err(e) = std::fs::rename(self.model_path(), &self.output) {
            if let Some(dest) = &data {
                let _ = std::fs::remove_file(dest);
            }
            return Err(io_error(&self.output)(e));
        }
        Ok(Published {
            model: self.output.clone(),
            data,
            written: self.written,
        })
    }
}

/// Stages and publishes a compiled model in one step (no validation in
/// between).
pub fn write_compiled(
    compiled: &Compiled,
    output: &Path,
    external: bool,
) -> Result<Published, PublishError> {
    stage_compiled(compiled, output, external)?.publish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("svm2onnx-publish-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn bytes_are_published_and_the_staging_folder_removed() {
        let dir = scratch("bytes");
        let out = dir.join("m.onnx");
        let staged = stage_bytes(b"\x08\x07", &out).unwrap();
        assert!(staged.model_path().exists());
        assert!(!out.exists());
        let published = staged.publish().unwrap();
        assert_eq!(published.model, out);
        assert_eq!(std::fs::read(&out).unwrap(), b"\x08\x07");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dropping_unpublished_leaves_nothing() {
        let dir = scratch("drop");
        drop(stage_bytes(b"x", &dir.join("m.onnx")).unwrap());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_output_path() {
        let out = Path::new("/nonexistent-svm2onnx/dir/x.onnx");
        let e = stage_bytes(b"x", out).unwrap_err().to_string();
        assert_eq!(
            e,
            "cannot write /nonexistent-svm2onnx/dir/x.onnx: the folder /nonexistent-svm2onnx/dir does not exist"
        );
        let dir = scratch("file-parent");
        std::fs::write(dir.join("f"), b"").unwrap();
        let e = stage_bytes(b"x", &dir.join("f/x.onnx")).unwrap_err();
        assert!(matches!(e, PublishError::NotAFolder { .. }), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
