//! Tests of the zip writer: headers read back, CRC-32 vectors, ZIP64 only where needed.

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
