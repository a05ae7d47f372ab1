//! A minimal zip writer for `.keras` files.
//!
//! A Keras 3 `.keras` file is a zip archive of `metadata.json`, `config.json`
//! and `model.weights.h5`; Keras itself writes them uncompressed ("stored"),
//! and so does this: local file headers, the entries' bytes, the central
//! directory and the end-of-central-directory record (APPNOTE.TXT 4.3), with
//! CRC-32 (IEEE) checksums. No data descriptors, no comments, no encryption.
//!
//! ZIP64 (APPNOTE 4.3.14-4.3.16, 4.5.3) is used exactly where a field does
//! not fit: an entry of 4 GiB - 1 bytes or more, an entry starting past that
//! offset, a central directory beyond it, or 65,535 entries or more. Other
//! archives are plain zip. Every timestamp is 1980-01-01 00:00 (the earliest
//! DOS date) so the same entries always give the same bytes.

use std::io::{self, Write};

/// An in-memory stored zip archive of `entries` (name, contents), in order.
pub(crate) fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let total: usize = entries
        .iter()
        .map(|(n, d)| 128 + 2 * n.len() + d.len())
        .sum();
    let mut out = Vec::with_capacity(total + 128);
    write_stored_zip(&mut out, entries).expect("writing to a Vec does not fail");
    out
}

/// Writes a stored zip archive of `entries` (name, contents) to `out`, in
/// order, without buffering the contents again.
pub(crate) fn write_stored_zip(out: &mut impl Write, entries: &[(&str, &[u8])]) -> io::Result<()> {
    write_zip(out, entries, false)
}

/// Largest value of a 32-bit field; the value itself means "see ZIP64".
const MAX_32: u64 = 0xFFFF_FFFF;
/// Largest value of a 16-bit count; likewise.
const MAX_16: u64 = 0xFFFF;
/// 1980-01-01 as a DOS date: (year - 1980) << 9 | month << 5 | day.
const DOS_DATE: u16 = (1 << 5) | 1;
/// Version needed to extract: 2.0 for stored entries, 4.5 with ZIP64.
const VERSION_STORED: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// General purpose flag bit 11: the name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// External attributes: a regular file, mode 0644, for unzip on Unix (the
/// "version made by" says Unix, host 3).
const EXTERNAL_ATTRIBUTES: u32 = 0o100644 << 16;

/// Where and what one entry is, for its central directory record.
struct Written<'a> {
    name: &'a str,
    crc: u32,
    size: u64,
    offset: u64,
}

/// The writer; `force_zip64` writes the ZIP64 forms even where they are not
/// needed, so tests can check them without 4 GiB of data.
fn write_zip(out: &mut impl Write, entries: &[(&str, &[u8])], force_zip64: bool) -> io::Result<()> {
    let mut offset = 0u64;
    let mut written = Vec::with_capacity(entries.len());
    for &(name, data) in entries {
        let entry = Written {
            name,
            crc: crc32(data),
            size: data.len() as u64,
            offset,
        };
        offset += local_header(out, &entry, force_zip64)?;
        out.write_all(data)?;
        offset += entry.size;
        written.push(entry);
    }
    let directory_offset = offset;
    let mut directory_size = 0;
    for entry in &written {
        directory_size += central_header(out, entry, force_zip64)?;
    }
    end_records(
        out,
        written.len() as u64,
        directory_size,
        directory_offset,
        force_zip64,
    )
}

fn name_flags(name: &str) -> u16 {
    if name.is_ascii() {
        0
    } else {
        FLAG_UTF8
    }
}

/// The local file header of `entry`; returns its length.
fn local_header(out: &mut impl Write, entry: &Written, force_zip64: bool) -> io::Result<u64> {
    // The local header has no offset field: only the size can overflow. Its
    // ZIP64 extra field must then hold both sizes.
    let zip64 = force_zip64 || entry.size >= MAX_32;
    let mut extra = Vec::new();
    if zip64 {
        extra_zip64(&mut extra, &[entry.size, entry.size]);
    }
    let size32 = if zip64 {
        MAX_32 as u32
    } else {
        entry.size as u32
    };
    let mut h = Vec::with_capacity(30 + entry.name.len() + extra.len());
    h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    h.extend_from_slice(&(if zip64 { VERSION_ZIP64 } else { VERSION_STORED }).to_le_bytes());
    h.extend_from_slice(&name_flags(entry.name).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // method 0: stored
    h.extend_from_slice(&0u16.to_le_bytes()); // time 00:00:00
    h.extend_from_slice(&DOS_DATE.to_le_bytes());
    h.extend_from_slice(&entry.crc.to_le_bytes());
    h.extend_from_slice(&size32.to_le_bytes()); // compressed size
    h.extend_from_slice(&size32.to_le_bytes()); // uncompressed size
    h.extend_from_slice(&name_len(entry.name).to_le_bytes());
    h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    h.extend_from_slice(entry.name.as_bytes());
    h.extend_from_slice(&extra);
    out.write_all(&h)?;
    Ok(h.len() as u64)
}

/// The central directory record of `entry`; returns its length.
fn central_header(out: &mut impl Write, entry: &Written, force_zip64: bool) -> io::Result<u64> {
    // Each field that overflows reads 0xFFFFFFFF and moves to the ZIP64
    // extra field, which holds only those, in this order.
    let size_big = force_zip64 || entry.size >= MAX_32;
    let offset_big = force_zip64 || entry.offset >= MAX_32;
    let mut big = Vec::new();
    if size_big {
        big.extend_from_slice(&[entry.size, entry.size]); // uncompressed, compressed
    }
    if offset_big {
        big.push(entry.offset);
    }
    let mut extra = Vec::new();
    if !big.is_empty() {
        extra_zip64(&mut extra, &big);
    }
    let size32 = if size_big {
        MAX_32 as u32
    } else {
        entry.size as u32
    };
    let offset32 = if offset_big {
        MAX_32 as u32
    } else {
        entry.offset as u32
    };
    let version = if big.is_empty() {
        VERSION_STORED
    } else {
        VERSION_ZIP64
    };
    let mut h = Vec::with_capacity(46 + entry.name.len() + extra.len());
    h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    h.extend_from_slice(&(3 << 8 | version).to_le_bytes()); // made by: Unix
    h.extend_from_slice(&version.to_le_bytes()); // needed to extract
    h.extend_from_slice(&name_flags(entry.name).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // method 0: stored
    h.extend_from_slice(&0u16.to_le_bytes()); // time
    h.extend_from_slice(&DOS_DATE.to_le_bytes());
    h.extend_from_slice(&entry.crc.to_le_bytes());
    h.extend_from_slice(&size32.to_le_bytes()); // compressed size
    h.extend_from_slice(&size32.to_le_bytes()); // uncompressed size
    h.extend_from_slice(&name_len(entry.name).to_le_bytes());
    h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // comment length
    h.extend_from_slice(&0u16.to_le_bytes()); // disk number start
    h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    h.extend_from_slice(&EXTERNAL_ATTRIBUTES.to_le_bytes());
    h.extend_from_slice(&offset32.to_le_bytes());
    h.extend_from_slice(entry.name.as_bytes());
    h.extend_from_slice(&extra);
    out.write_all(&h)?;
    Ok(h.len() as u64)
}

/// Appends a ZIP64 extended information extra field (header ID 1) holding
/// `values`.
fn extra_zip64(extra: &mut Vec<u8>, values: &[u64]) {
    extra.extend_from_slice(&1u16.to_le_bytes());
    extra.extend_from_slice(&(8 * values.len() as u16).to_le_bytes());
    for v in values {
        extra.extend_from_slice(&v.to_le_bytes());
    }
}

fn name_len(name: &str) -> u16 {
    u16::try_from(name.len()).expect("zip entry name over 64 KiB")
}

/// The end of central directory record, preceded by the ZIP64 end record and
/// its locator when a count or offset does not fit its field.
fn end_records(
    out: &mut impl Write,
    count: u64,
    directory_size: u64,
    directory_offset: u64,
    force_zip64: bool,
) -> io::Result<()> {
    let zip64 =
        force_zip64 || count >= MAX_16 || directory_size >= MAX_32 || directory_offset >= MAX_32;
    let mut h = Vec::with_capacity(56 + 20 + 22);
    if zip64 {
        let record_offset = directory_offset + directory_size;
        // ZIP64 end of central directory record (version 1).
        h.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        h.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of it
        h.extend_from_slice(&(3 << 8 | VERSION_ZIP64).to_le_bytes()); // made by
        h.extend_from_slice(&VERSION_ZIP64.to_le_bytes()); // needed
        h.extend_from_slice(&0u32.to_le_bytes()); // this disk
        h.extend_from_slice(&0u32.to_le_bytes()); // disk with the directory
        h.extend_from_slice(&count.to_le_bytes()); // entries on this disk
        h.extend_from_slice(&count.to_le_bytes()); // entries in all
        h.extend_from_slice(&directory_size.to_le_bytes());
        h.extend_from_slice(&directory_offset.to_le_bytes());
        // ZIP64 end of central directory locator.
        h.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes()); // disk with the record
        h.extend_from_slice(&record_offset.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes()); // number of disks
    }
    // Readers take the ZIP64 values where these say 0xFFFF / 0xFFFFFFFF.
    let count16 = if zip64 { MAX_16 } else { count } as u16;
    let size32 = if zip64 { MAX_32 } else { directory_size } as u32;
    let offset32 = if zip64 { MAX_32 } else { directory_offset } as u32;
    h.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // this disk
    h.extend_from_slice(&0u16.to_le_bytes()); // disk with the directory
    h.extend_from_slice(&count16.to_le_bytes()); // entries on this disk
    h.extend_from_slice(&count16.to_le_bytes()); // entries in all
    h.extend_from_slice(&size32.to_le_bytes());
    h.extend_from_slice(&offset32.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out.write_all(&h)
}

/// CRC-32 as zip uses it (IEEE 802.3, reflected, polynomial 0xEDB88320).
/// crc32fast (already linked through flate2) runs it with SIMD: a
/// byte-at-a-time table made this checksum a third of the time to write a
/// big model's `.keras` file (BENCHMARKS.md).
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests;
