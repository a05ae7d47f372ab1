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
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// The ZIP64 extra field's values in `extra`, if any.
    fn zip64_values(extra: &[u8]) -> Vec<u64> {
        let mut p = 0;
        while p < extra.len() {
            let (id, len) = (u16_at(extra, p), u16_at(extra, p + 2) as usize);
            if id == 1 {
                return (0..len / 8).map(|i| u64_at(extra, p + 4 + 8 * i)).collect();
            }
            p += 4 + len;
        }
        vec![]
    }

    /// A small reader: end record (and ZIP64 end record), central directory,
    /// local headers; checks that they agree and returns (name, contents).
    fn read_zip(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let end = zip.len() - 22;
        assert_eq!(u32_at(zip, end), 0x0605_4b50, "end record last, no comment");
        let (mut count, mut dir_size, mut dir_offset) = (
            u16_at(zip, end + 10) as u64,
            u32_at(zip, end + 12) as u64,
            u32_at(zip, end + 16) as u64,
        );
        if count == MAX_16 || dir_size == MAX_32 || dir_offset == MAX_32 {
            let locator = end - 20;
            assert_eq!(u32_at(zip, locator), 0x0706_4b50);
            let record = u64_at(zip, locator + 8) as usize;
            assert_eq!(record, locator - 56);
            assert_eq!(u32_at(zip, record), 0x0606_4b50);
            assert_eq!(u64_at(zip, record + 4), 44);
            count = u64_at(zip, record + 32);
            dir_size = u64_at(zip, record + 40);
            dir_offset = u64_at(zip, record + 48);
            assert_eq!(dir_offset + dir_size, record as u64);
        } else {
            assert_eq!(dir_offset + dir_size, end as u64);
        }
        let mut p = dir_offset as usize;
        let mut entries = Vec::new();
        for _ in 0..count {
            assert_eq!(u32_at(zip, p), 0x0201_4b50);
            assert_eq!(u16_at(zip, p + 10), 0, "stored");
            assert_eq!((u16_at(zip, p + 12), u16_at(zip, p + 14)), (0, DOS_DATE));
            let crc = u32_at(zip, p + 16);
            let (mut size, mut offset) = (u32_at(zip, p + 24) as u64, u32_at(zip, p + 42) as u64);
            assert_eq!(
                u32_at(zip, p + 20) as u64,
                size,
                "compressed = uncompressed"
            );
            let name_len = u16_at(zip, p + 28) as usize;
            let extra_len = u16_at(zip, p + 30) as usize;
            assert_eq!(u16_at(zip, p + 32), 0, "no comment");
            let name = std::str::from_utf8(&zip[p + 46..p + 46 + name_len]).unwrap();
            let mut big =
                zip64_values(&zip[p + 46 + name_len..p + 46 + name_len + extra_len]).into_iter();
            if size == MAX_32 {
                size = big.next().unwrap();
                assert_eq!(big.next(), Some(size));
            }
            if offset == MAX_32 {
                offset = big.next().unwrap();
            }
            assert_eq!(big.next(), None);
            // The local header says the same.
            let l = offset as usize;
            assert_eq!(u32_at(zip, l), 0x0403_4b50);
            assert_eq!(
                &zip[l + 6..l + 30 - 4],
                &zip[p + 8..p + 32 - 4],
                "flags..name length"
            );
            let local_extra = u16_at(zip, l + 28) as usize;
            assert_eq!(&zip[l + 30..l + 30 + name_len], name.as_bytes());
            if u32_at(zip, l + 18) as u64 == MAX_32 {
                let sizes = zip64_values(&zip[l + 30 + name_len..l + 30 + name_len + local_extra]);
                assert_eq!(sizes, [size, size]);
            }
            let data_at = l + 30 + name_len + local_extra;
            let data = zip[data_at..data_at + size as usize].to_vec();
            assert_eq!(crc32(&data), crc);
            entries.push((name.to_string(), data));
            p += 46 + name_len + extra_len;
        }
        assert_eq!(p as u64, dir_offset + dir_size);
        entries
    }

    fn keras_like() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("metadata.json", br#"{"keras_version": "3.15.1"}"#.to_vec()),
            ("config.json", b"{}".to_vec()),
            ("model.weights.h5", (0..=255u8).cycle().take(1000).collect()),
            ("ünïcode/empty", vec![]),
        ]
    }

    fn as_entries<'a>(owned: &'a [(&'a str, Vec<u8>)]) -> Vec<(&'a str, &'a [u8])> {
        owned.iter().map(|(n, d)| (*n, d.as_slice())).collect()
    }

    fn owned(entries: &[(&str, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
        entries
            .iter()
            .map(|(n, d)| (n.to_string(), d.clone()))
            .collect()
    }

    #[test]
    fn crc32_known_vectors() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn plain_archive_structure() {
        let entries = keras_like();
        let zip = stored_zip(&as_entries(&entries));
        assert_eq!(read_zip(&zip), owned(&entries));
        // No ZIP64 anywhere: versions 2.0, no extra fields, first entry at 0.
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(u16_at(&zip, 4), VERSION_STORED);
        assert_eq!(u16_at(&zip, 28), 0, "no extra field");
        assert!(!zip.windows(4).any(|w| w == b"PK\x06\x06"));
        // The UTF-8 flag only on the non-ASCII name.
        assert_eq!(u16_at(&zip, 6), 0);
        let utf8_name = "ünïcode/empty".as_bytes();
        let at = zip
            .windows(utf8_name.len())
            .position(|w| w == utf8_name)
            .unwrap();
        assert_eq!(u16_at(&zip, at - 30 + 6), FLAG_UTF8);
        // Sizes: 30 + name + data per entry, 46 + name each in the
        // directory, 22 for the end record.
        let names: usize = entries.iter().map(|(n, _)| n.len()).sum();
        let data: usize = entries.iter().map(|(_, d)| d.len()).sum();
        assert_eq!(zip.len(), 4 * (30 + 46) + 2 * names + data + 22);
    }

    #[test]
    fn forced_zip64_structure() {
        let entries = keras_like();
        let mut zip = Vec::new();
        write_zip(&mut zip, &as_entries(&entries), true).unwrap();
        assert_eq!(read_zip(&zip), owned(&entries));
        assert_eq!(u16_at(&zip, 4), VERSION_ZIP64);
        assert_eq!(u32_at(&zip, 18), MAX_32 as u32);
        let end = zip.len() - 22;
        assert_eq!(u16_at(&zip, end + 10), MAX_16 as u16);
        assert_eq!(u32_at(&zip, end + 16), MAX_32 as u32);
    }

    #[test]
    fn zip64_fields_only_where_needed() {
        // Headers for entries past 4 GiB, without 4 GiB of data.
        let big = 5u64 << 30;
        let far = Written {
            name: "w",
            crc: 7,
            size: 10,
            offset: big,
        };
        let mut h = Vec::new();
        central_header(&mut h, &far, false).unwrap();
        assert_eq!(u16_at(&h, 6), VERSION_ZIP64);
        assert_eq!((u32_at(&h, 20), u32_at(&h, 24)), (10, 10), "sizes fit");
        assert_eq!(u32_at(&h, 42) as u64, MAX_32, "offset moved");
        assert_eq!(zip64_values(&h[47..]), [big]);
        let mut h = Vec::new();
        assert_eq!(
            local_header(&mut h, &far, false).unwrap(),
            31,
            "no extra field"
        );

        let huge = Written {
            name: "w",
            crc: 7,
            size: big,
            offset: 0,
        };
        let mut h = Vec::new();
        central_header(&mut h, &huge, false).unwrap();
        assert_eq!(u32_at(&h, 20) as u64, MAX_32);
        assert_eq!(u32_at(&h, 42), 0, "offset fits");
        assert_eq!(zip64_values(&h[47..]), [big, big]);
        let mut h = Vec::new();
        local_header(&mut h, &huge, false).unwrap();
        assert_eq!(u16_at(&h, 4), VERSION_ZIP64);
        assert_eq!(zip64_values(&h[31..]), [big, big]);

        let mut h = Vec::new();
        end_records(&mut h, 1, 47, big, false).unwrap();
        assert_eq!(h.len(), 56 + 20 + 22);
        assert_eq!(u64_at(&h, 48), big, "directory offset in the ZIP64 record");
        assert_eq!(u64_at(&h, 56 + 8), big + 47, "locator points at the record");
        let mut h = Vec::new();
        end_records(&mut h, 1, 47, MAX_32 - 1, false).unwrap();
        assert_eq!(h.len(), 22, "just below the limit: plain");
    }

    #[test]
    fn many_entries_use_zip64_counts() {
        let names: Vec<String> = (0..70_000).map(|i| format!("{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let zip = stored_zip(&entries);
        let end = zip.len() - 22;
        assert_eq!(u16_at(&zip, end + 10), MAX_16 as u16);
        let read = read_zip(&zip);
        assert_eq!(read.len(), 70_000);
        assert_eq!(read[69_999].0, "69999");
        // Entries themselves need no ZIP64.
        assert_eq!(u16_at(&zip, 4), VERSION_STORED);
    }

    #[test]
    fn writer_and_vec_agree_and_are_deterministic() {
        let entries = keras_like();
        let mut written = Vec::new();
        write_stored_zip(&mut written, &as_entries(&entries)).unwrap();
        assert_eq!(written, stored_zip(&as_entries(&entries)));
        assert_eq!(
            stored_zip(&as_entries(&entries)),
            stored_zip(&as_entries(&entries))
        );
    }

    #[test]
    fn empty_archive() {
        let zip = stored_zip(&[]);
        assert_eq!(zip.len(), 22);
        assert!(read_zip(&zip).is_empty());
    }

    /// Writes sample_zip64.zip (ZIP64 records forced) and many_entries.zip
    /// (70,000 entries, so ZIP64 counts) for tests/interop/hdf5_zip_check.py.
    #[test]
    #[ignore = "writes files for tests/interop/hdf5_zip_check.py (SVM2ONNX_H5_OUT)"]
    fn interop_zip_samples() {
        let dir = std::path::PathBuf::from(
            std::env::var_os("SVM2ONNX_H5_OUT").expect("set SVM2ONNX_H5_OUT to a directory"),
        );
        let entries = keras_like();
        let mut zip = Vec::new();
        write_zip(&mut zip, &as_entries(&entries), true).unwrap();
        std::fs::write(dir.join("sample_zip64.zip"), zip).unwrap();
        let names: Vec<String> = (0..70_000).map(|i| format!("{i}")).collect();
        let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), n.as_bytes())).collect();
        std::fs::write(dir.join("many_entries.zip"), stored_zip(&many)).unwrap();
    }
}
