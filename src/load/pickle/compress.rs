//! joblib's whole-file compression, recognised by magic bytes (§5b).

use std::io::Write;

/// A compression format joblib writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// joblib's raw zlib stream (`.z`).
    Zlib,
    /// gzip (`.gz`).
    Gzip,
    /// bzip2 (`.bz2`).
    Bz2,
    /// xz (`.xz`).
    Xz,
    /// legacy lzma (`.lzma`).
    Lzma,
    /// lz4 frames (`.lz4`).
    Lz4,
}

impl Codec {
    /// The format's short name, as in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Zlib => "zlib",
            Codec::Gzip => "gzip",
            Codec::Bz2 => "bz2",
            Codec::Xz => "xz",
            Codec::Lzma => "lzma",
            Codec::Lz4 => "lz4",
        }
    }

    /// Recognises a compressed stream by its first bytes.
    pub fn detect(bytes: &[u8]) -> Option<Codec> {
        // zlib: CMF 0x78 (deflate, 32 KiB window) and a valid FCHECK.
        if bytes.len() >= 2
            && bytes[0] == 0x78
            && (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 == 0
        {
            return Some(Codec::Zlib);
        }
        let magic: &[(&[u8], Codec)] = &[
            (&[0x1f, 0x8b, 0x08], Codec::Gzip),
            (b"BZh", Codec::Bz2),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], Codec::Xz),
            (&[0x5d, 0x00, 0x00], Codec::Lzma),
            (&[0x04, 0x22, 0x4d, 0x18], Codec::Lz4),
        ];
        magic
            .iter()
            .find(|(m, _)| bytes.starts_with(m))
            .map(|(_, c)| *c)
    }
}

/// Collects output up to a limit, failing beyond it (decompression bombs).
struct Bounded {
    out: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("output limit reached"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decompresses a whole stream, refusing output larger than `limit` bytes.
pub fn decompress(bytes: &[u8], codec: Codec, limit: usize) -> Result<Vec<u8>, String> {
    let too_big = || {
        format!(
            "{} stream expands beyond {limit} bytes; refusing",
            codec.name()
        )
    };
    let mut sink = Bounded {
        out: Vec::new(),
        limit,
        exceeded: false,
    };
    let result = match codec {
        Codec::Zlib => {
            std::io::copy(&mut flate2::read::ZlibDecoder::new(bytes), &mut sink).map(|_| ())
        }
        Codec::Gzip => {
            std::io::copy(&mut flate2::read::MultiGzDecoder::new(bytes), &mut sink).map(|_| ())
        }
        Codec::Bz2 => {
            std::io::copy(&mut bzip2::read::MultiBzDecoder::new(bytes), &mut sink).map(|_| ())
        }
        Codec::Lz4 => {
            std::io::copy(&mut lz4_flex::frame::FrameDecoder::new(bytes), &mut sink).map(|_| ())
        }
        Codec::Xz => lzma_rs::xz_decompress(&mut std::io::BufReader::new(bytes), &mut sink)
            .map_err(|e| std::io::Error::other(e.to_string())),
        Codec::Lzma => lzma_rs::lzma_decompress(&mut std::io::BufReader::new(bytes), &mut sink)
            .map_err(|e| std::io::Error::other(e.to_string())),
    };
    match result {
        Ok(()) => Ok(sink.out),
        Err(_) if sink.exceeded => Err(too_big()),
        Err(e) => Err(format!("corrupt {} stream: {e}", codec.name())),
    }
}
