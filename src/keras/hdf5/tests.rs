//! Tests of the HDF5 writer: an independent reader follows every address and checksum, h5py's
//! view is checked by tests/interop/hdf5_zip_check.py.

use super::*;

// -- A small reader, independent of the writer's layout code: it follows
// the addresses in the file and rebuilds the tree.

fn u16_at(file: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(file[at..at + 2].try_into().unwrap())
}
fn u32_at(file: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(file[at..at + 4].try_into().unwrap())
}
fn u64_at(file: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(file[at..at + 8].try_into().unwrap())
}

/// The messages (type, body) of the object header at `at`, and where the
/// header ends; checks its prefix and checksum.
fn read_header(file: &[u8], at: usize) -> (Vec<(u8, &[u8])>, usize) {
    assert_eq!(&file[at..at + 4], b"OHDR", "no object header at {at}");
    assert_eq!(file[at + 4], 2, "version");
    assert_eq!(file[at + 5], 0x02, "flags: 4-byte chunk size only");
    let chunk_len = u32_at(file, at + 6) as usize;
    let end = at + 10 + chunk_len;
    assert_eq!(
        u32_at(file, end),
        checksum(&file[at..end]),
        "checksum at {at}"
    );
    let mut messages = Vec::new();
    let mut p = at + 10;
    while p < end {
        let len = u16_at(file, p + 1) as usize;
        messages.push((file[p], &file[p + 4..p + 4 + len]));
        p += 4 + len;
    }
    assert_eq!(p, end, "messages fill the chunk exactly");
    (messages, end + 4)
}

fn read_node(file: &[u8], at: usize) -> Node {
    let (messages, header_end) = read_header(file, at);
    let kinds: Vec<u8> = messages.iter().map(|m| m.0).collect();
    if kinds.contains(&LINK_INFO) {
        assert_eq!(&kinds[..2], &[LINK_INFO, GROUP_INFO]);
        let mut group = Group::new();
        for (kind, body) in &messages[2..] {
            assert_eq!(*kind, LINK);
            assert_eq!(body[0], 1, "link message version");
            assert_eq!(body[1] & !0x01, 0x10, "charset field, no type/order");
            assert_eq!(body[2], 1, "UTF-8");
            let (len, name_at) = match body[1] & 0x03 {
                0 => (body[3] as usize, 4),
                1 => (u16_at(body, 3) as usize, 5),
                _ => unreachable!(),
            };
            let name = std::str::from_utf8(&body[name_at..name_at + len]).unwrap();
            assert_eq!(body.len(), name_at + len + 8);
            let address = u64_at(body, name_at + len) as usize;
            let child = read_node(file, address);
            group.children.push((name.to_string(), child));
        }
        Node::Group(group)
    } else {
        assert_eq!(kinds, [DATASPACE, DATATYPE, FILL_VALUE, LAYOUT]);
        let space = messages[0].1;
        assert_eq!((space[0], space[2]), (2, 0), "version 2, no max dims");
        let rank = space[1] as usize;
        assert_eq!(space[3], u8::from(rank > 0), "scalar or simple");
        let shape: Vec<usize> = (0..rank)
            .map(|i| u64_at(space, 4 + 8 * i) as usize)
            .collect();
        let dtype = messages[1].1;
        assert_eq!(dtype[0], 0x11);
        let float = match u32_at(dtype, 4) {
            4 => Float::F32,
            8 => Float::F64,
            size => panic!("size {size}"),
        };
        assert_eq!(messages[2].1, [3, 0x0A]);
        let layout = messages[3].1;
        assert_eq!(&layout[..2], &[3, 1], "version 3, contiguous");
        let (address, size) = (u64_at(layout, 2), u64_at(layout, 10) as usize);
        let count: usize = shape.iter().product();
        assert_eq!(size, count * float.size());
        let values = if size == 0 {
            assert_eq!(address, UNDEFINED_ADDRESS);
            vec![]
        } else {
            // The raw data sits right after its header.
            assert_eq!(address as usize, header_end);
            let raw = &file[header_end..header_end + size];
            match float {
                Float::F32 => raw
                    .chunks(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
                    .collect(),
                Float::F64 => raw
                    .chunks(8)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
            }
        };
        Node::Dataset(Dataset {
            float,
            shape,
            values,
        })
    }
}

/// Reads back a whole file: checks the superblock and returns the root.
fn read_file(file: &[u8]) -> Group {
    assert_eq!(&file[..8], b"\x89HDF\r\n\x1a\n");
    assert_eq!(
        u32_at(file, 44),
        checksum(&file[..44]),
        "superblock checksum"
    );
    assert_eq!(u64_at(file, 28) as usize, file.len(), "end-of-file address");
    match read_node(file, u64_at(file, 36) as usize) {
        Node::Group(g) => g,
        Node::Dataset(_) => panic!("root is a dataset"),
    }
}

/// A dataset as stored: type, shape, the bits of its values.
type Stored = (Float, Vec<usize>, Vec<u64>);

/// Every object of `tree` by path, in order, with its datasets' values as
/// the file stores them (f32 rounded) and compared by bits (NaN == NaN).
fn flatten(tree: &Group) -> Vec<(String, Option<Stored>)> {
    fn walk(group: &Group, prefix: &str, out: &mut Vec<(String, Option<Stored>)>) {
        for (name, node) in &group.children {
            let path = format!("{prefix}/{name}");
            match node {
                Node::Group(g) => {
                    out.push((path.clone(), None));
                    walk(g, &path, out);
                }
                Node::Dataset(d) => {
                    let bits = d
                        .values
                        .iter()
                        .map(|&v| match d.float {
                            Float::F32 => (v as f32).to_bits() as u64,
                            Float::F64 => v.to_bits(),
                        })
                        .collect();
                    out.push((path, Some((d.float, d.shape.clone(), bits))));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, "", &mut out);
    out
}

/// Reads `file` back and checks it holds exactly `tree`.
fn assert_holds(file: &[u8], tree: &Group) {
    let (back, want) = (flatten(&read_file(file)), flatten(tree));
    assert_eq!(back.len(), want.len(), "object count");
    for (b, w) in back.iter().zip(&want) {
        assert!(b == w, "{} read back differs", w.0);
    }
}

/// Element `i` of a sample dataset (also in tests/interop/hdf5_zip_check.py).
fn value(i: usize) -> f64 {
    i as f64 * 0.1 - 7.0
}

fn counting(float: Float, shape: &[usize]) -> Dataset {
    let count = shape.iter().product();
    Dataset {
        float,
        shape: shape.to_vec(),
        values: (0..count).map(value).collect(),
    }
}

/// The tree tests/interop/hdf5_zip_check.py expects in sample.h5; the
/// 300 x 8458 dataset only with `big`.
fn sample_tree(big: bool) -> Group {
    let mut root = Group::new();
    for (float, tag) in [(Float::F32, "f32"), (Float::F64, "f64")] {
        let shapes = root.group("shapes").group(tag);
        for shape in [&[][..], &[0], &[5], &[3, 4], &[2, 3, 4], &[4, 0, 2]] {
            let name = format!("{shape:?}");
            shapes.dataset(&name, counting(float, shape));
        }
        let special = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            f64::from_bits(1), // smallest subnormal: 0 as f32
            1e-40,             // an f32 subnormal
            f64::MAX,          // inf as f32
            1.0 / 3.0,
        ];
        root.group("special").dataset(
            tag,
            Dataset {
                float,
                shape: vec![special.len()],
                values: special,
            },
        );
    }
    // 60 children in one group: groups, f32 and f64 datasets, all stored
    // compactly as link messages.
    let many = root.group("many");
    for i in 0..60 {
        let name = format!("child_{i:02}");
        match i % 3 {
            0 => {
                many.group(&name);
            }
            1 => many.dataset(&name, counting(Float::F32, &[i])),
            _ => many.dataset(&name, counting(Float::F64, &[i])),
        }
    }
    let deep = root.group("a").group("b").group("c");
    deep.dataset("d", counting(Float::F64, &[2, 2]));
    deep.group("empty");
    // A name whose length needs two bytes, and a non-ASCII one.
    root.group(&"n".repeat(300))
        .dataset("x", counting(Float::F32, &[1]));
    root.group("ünïcode")
        .dataset("x", counting(Float::F64, &[1]));
    let vars = root.group("layers").group("einsum_dense").group("vars");
    let shape: &[usize] = if big { &[300, 8458] } else { &[30, 84] };
    vars.dataset("0", counting(Float::F64, shape));
    root
}

#[test]
fn lookup3_known_vectors() {
    assert_eq!(hashlittle(b"", 0), 0xdeadbeef);
    assert_eq!(hashlittle(b"", 0xdeadbeef), 0xbd5b7dde);
    assert_eq!(hashlittle(b"Four score and seven years ago", 0), 0x17770551);
    assert_eq!(hashlittle(b"Four score and seven years ago", 1), 0xcd628161);
}

#[test]
fn superblock_layout() {
    let file = file_bytes(&Group::new());
    assert_eq!(&file[..8], b"\x89HDF\r\n\x1a\n");
    assert_eq!(
        &file[8..12],
        &[2, 8, 8, 0],
        "version, offset/length sizes, flags"
    );
    assert_eq!(u64_at(&file, 12), 0, "base address");
    assert_eq!(u64_at(&file, 20), UNDEFINED_ADDRESS, "no extension");
    assert_eq!(u64_at(&file, 28), file.len() as u64, "end of file");
    assert_eq!(
        u64_at(&file, 36),
        SUPERBLOCK_SIZE as u64,
        "root right after"
    );
    assert_eq!(u32_at(&file, 44), checksum(&file[..44]));
    // An empty root group: link info (18 bytes) and group info (2 bytes)
    // messages with 4-byte message headers, a 10-byte prefix, a checksum.
    assert_eq!(file.len(), 48 + 10 + (4 + 18) + (4 + 2) + 4);
    assert_holds(&file, &Group::new());
}

#[test]
fn datatype_messages_match_libhdf5() {
    // As libhdf5 encodes H5T_IEEE_F64LE and H5T_IEEE_F32LE.
    let f64_bits = datatype_message(Float::F64).body;
    assert_eq!(
        f64_bits,
        [0x11, 0x20, 63, 0, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xFF, 0x03, 0, 0]
    );
    let f32_bits = datatype_message(Float::F32).body;
    assert_eq!(
        f32_bits,
        [0x11, 0x20, 31, 0, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0]
    );
}

#[test]
fn reads_back_as_written() {
    let tree = sample_tree(false);
    let file = file_bytes(&tree);
    assert_holds(&file, &tree);
    let Some((_, Node::Group(many))) = tree.children.iter().find(|(n, _)| n == "many") else {
        panic!("no many")
    };
    assert_eq!(many.children.len(), 60);
}

#[test]
fn keras_layout_paths() {
    let mut root = Group::new();
    let vars = root.group("layers").group("einsum_dense").group("vars");
    vars.dataset("0", counting(Float::F64, &[3, 2]));
    // group() returns the existing group.
    root.group("layers")
        .group("einsum_dense_1")
        .group("vars")
        .dataset("0", counting(Float::F32, &[2, 2]));
    let file = file_bytes(&root);
    let paths: Vec<String> = flatten(&read_file(&file))
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(
        paths,
        [
            "/layers",
            "/layers/einsum_dense",
            "/layers/einsum_dense/vars",
            "/layers/einsum_dense/vars/0",
            "/layers/einsum_dense_1",
            "/layers/einsum_dense_1/vars",
            "/layers/einsum_dense_1/vars/0",
        ]
    );
    assert_holds(&file, &root);
}

#[test]
fn deterministic() {
    assert_eq!(
        file_bytes(&sample_tree(false)),
        file_bytes(&sample_tree(false))
    );
}

#[test]
fn raw_data_is_exact_le_bytes() {
    let mut root = Group::new();
    root.dataset(
        "x",
        Dataset {
            float: Float::F64,
            shape: vec![2],
            values: vec![1.5, -0.1],
        },
    );
    root.dataset(
        "y",
        Dataset {
            float: Float::F32,
            shape: vec![],
            values: vec![0.1],
        },
    );
    let file = file_bytes(&root);
    let mut x = 1.5f64.to_le_bytes().to_vec();
    x.extend_from_slice(&(-0.1f64).to_le_bytes());
    let at = file.windows(16).position(|w| w == x).expect("x's bytes");
    assert!(file[at + 16..]
        .windows(4)
        .any(|w| w == 0.1f32.to_le_bytes()));
    // y's data is the last thing in the file.
    assert_eq!(&file[file.len() - 4..], &0.1f32.to_le_bytes());
}

#[test]
#[should_panic(expected = "duplicate name")]
fn duplicate_dataset_panics() {
    let mut root = Group::new();
    root.dataset("x", counting(Float::F64, &[1]));
    root.dataset("x", counting(Float::F64, &[1]));
}

#[test]
#[should_panic(expected = "is a dataset")]
fn group_over_dataset_panics() {
    let mut root = Group::new();
    root.dataset("x", counting(Float::F64, &[1]));
    root.group("x");
}

#[test]
#[should_panic(expected = "needs 6 values")]
fn wrong_value_count_panics() {
    let mut root = Group::new();
    root.dataset(
        "x",
        Dataset {
            float: Float::F64,
            shape: vec![2, 3],
            values: vec![0.0; 5],
        },
    );
}

#[test]
#[should_panic(expected = "invalid link name")]
fn slash_in_name_panics() {
    Group::new().group("a/b");
}

fn out_dir() -> std::path::PathBuf {
    std::env::var_os("SVM2ONNX_H5_OUT")
        .expect("set SVM2ONNX_H5_OUT to a directory")
        .into()
}

/// Writes sample.h5 and sample.zip for tests/interop/hdf5_zip_check.py.
#[test]
#[ignore = "writes files for tests/interop/hdf5_zip_check.py (SVM2ONNX_H5_OUT)"]
fn interop_samples() {
    let dir = out_dir();
    let h5 = file_bytes(&sample_tree(true));
    std::fs::write(dir.join("sample.h5"), &h5).unwrap();
    let entries: [(&str, &[u8]); 3] = [
        ("metadata.json", br#"{"keras_version": "3.15.1"}"#),
        ("config.json", b"{}"),
        ("model.weights.h5", &h5),
    ];
    let zip = super::super::zip::stored_zip(&entries);
    std::fs::write(dir.join("sample.zip"), zip).unwrap();
}

/// With keras_config.json and keras_metadata.json (from a model Keras
/// saved) in SVM2ONNX_H5_OUT, writes ours.keras: those two files and a
/// model.weights.h5 from this writer with known kernels for the two
/// EinsumDense layers of tests/interop/hdf5_zip_check.py's model.
#[test]
#[ignore = "writes files for tests/interop/hdf5_zip_check.py --keras (SVM2ONNX_H5_OUT)"]
fn keras_sample() {
    let dir = out_dir();
    let (Ok(config), Ok(metadata)) = (
        std::fs::read(dir.join("keras_config.json")),
        std::fs::read(dir.join("keras_metadata.json")),
    ) else {
        eprintln!("no keras_config.json / keras_metadata.json: not writing ours.keras");
        return;
    };
    let mut root = Group::new();
    let layers = root.group("layers");
    layers
        .group("einsum_dense")
        .group("vars")
        .dataset("0", counting(Float::F64, &[3, 2]));
    let second = Dataset {
        float: Float::F64,
        shape: vec![2, 2],
        values: (0..4).map(|i| (i + 1) as f64 / 3.0).collect(),
    };
    layers
        .group("einsum_dense_1")
        .group("vars")
        .dataset("0", second);
    let h5 = file_bytes(&root);
    let zip = super::super::zip::stored_zip(&[
        ("metadata.json", &metadata),
        ("config.json", &config),
        ("model.weights.h5", &h5),
    ]);
    std::fs::write(dir.join("ours.keras"), zip).unwrap();
}
