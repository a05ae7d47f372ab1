//! A minimal HDF5 writer for Keras 3's `model.weights.h5`.
//!
//! Keras 3 reads a layer's weights with h5py from `/layers/<name>/vars/<i>`:
//! a tree of groups whose leaves are plain float arrays. So this writes only
//! that much of the format, in the structures libhdf5 1.8 introduced (HDF5
//! File Format Specification, version 2.0 and later), which h5py has read
//! since libhdf5 1.8:
//!
//! * superblock version 2 (fixed 48 bytes, with its checksum), offsets and
//!   lengths 8 bytes, base address 0, no superblock extension;
//! * version 2 object headers (`OHDR`, one chunk, checksummed), no
//!   attributes, no modification times;
//! * groups in the "new style": a link info message, a group info message and
//!   one link message per child, all in the group's object header ("compact
//!   storage"), so no B-trees, local heaps or fractal heaps are needed. The
//!   library converts groups to dense storage past 8 links when *it* writes,
//!   but reads compact groups of any size;
//! * datasets with a dataspace (scalar or simple), an IEEE little-endian float
//!   datatype (32 or 64 bits), a fill value message (version 3, library
//!   defaults) and a contiguous layout (version 3): no chunking, no filters.
//!
//! Checksums are Jenkins' lookup3 `hashlittle` with seed 0, as the format
//! requires. Undefined addresses are all ones (`0xFF` bytes).
//!
//! Layout of the file: the superblock, then the tree in pre-order; each
//! object header is followed by its dataset's raw data (for datasets) or by
//! its children (for groups). Addresses are known before anything is written
//! (header sizes depend only on names and ranks), so every byte is written
//! once, in order, with no back-patching. Output is deterministic: the same
//! tree gives the same bytes.

/// Element type of a dataset: IEEE 754 binary32 or binary64, little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Float {
    /// 32-bit float (`<f4` in numpy).
    F32,
    /// 64-bit float (`<f8` in numpy).
    F64,
}

impl Float {
    /// Bytes per element.
    fn size(self) -> usize {
        match self {
            Float::F32 => 4,
            Float::F64 => 8,
        }
    }
}

/// A dense float array stored as one HDF5 dataset.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Dataset {
    /// Element type in the file.
    pub float: Float,
    /// Dimensions, outermost first; empty for a scalar. Zero sizes are allowed.
    pub shape: Vec<usize>,
    /// Elements in row-major (C) order; `shape`'s product of them. Rounded to
    /// the nearest f32 when written if `float` is [`Float::F32`].
    pub values: Vec<f64>,
}

impl Dataset {
    /// Bytes of raw data in the file.
    fn byte_len(&self) -> usize {
        self.values.len() * self.float.size()
    }
}

/// An HDF5 group: named children (groups or datasets), kept in insertion
/// order. (Readers list them by name: libhdf5 sorts compact links by name
/// when creation order is not tracked.)
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Group {
    children: Vec<(String, Node)>,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Group(Group),
    Dataset(Dataset),
}

impl Group {
    /// An empty group (used as the root group `/`).
    pub fn new() -> Group {
        Group::default()
    }

    /// The child group `name`, created empty if there is none.
    ///
    /// Panics if `name` is not a valid link name (empty, `.`, or containing
    /// `/` or NUL) or names a dataset.
    pub fn group(&mut self, name: &str) -> &mut Group {
        check_name(name);
        let index = match self.children.iter().position(|(n, _)| n == name) {
            Some(index) => index,
            None => {
                self.children
                    .push((name.to_string(), Node::Group(Group::new())));
                self.children.len() - 1
            }
        };
        match &mut self.children[index].1 {
            Node::Group(group) => group,
            Node::Dataset(_) => panic!("HDF5: `{name}` is a dataset, not a group"),
        }
    }

    /// Adds the dataset `name`.
    ///
    /// Panics if `name` is not a valid link name, is already taken (a second
    /// dataset of the same name is a caller bug, never an update), or if
    /// `data.values` does not hold exactly the product of `data.shape`.
    pub fn dataset(&mut self, name: &str, data: Dataset) {
        check_name(name);
        assert!(
            self.children.iter().all(|(n, _)| n != name),
            "HDF5: duplicate name `{name}` in a group"
        );
        let count: usize = data.shape.iter().product();
        assert_eq!(
            count,
            data.values.len(),
            "HDF5: dataset `{name}` of shape {:?} needs {count} values",
            data.shape
        );
        self.children.push((name.to_string(), Node::Dataset(data)));
    }
}

fn check_name(name: &str) {
    assert!(
        !name.is_empty() && name != "." && !name.contains(['/', '\0']),
        "HDF5: invalid link name `{name}`"
    );
}

/// The whole `.h5` file for the tree whose root group is `root`.
pub(crate) fn file_bytes(root: &Group) -> Vec<u8> {
    let root_size = group_size(root);
    let end_of_file = SUPERBLOCK_SIZE + root_size;
    let mut out = Vec::with_capacity(end_of_file);
    superblock(&mut out, end_of_file as u64, SUPERBLOCK_SIZE as u64);
    write_group(&mut out, root);
    debug_assert_eq!(out.len(), end_of_file);
    out
}

// ---------------------------------------------------------------------------
// Layout: sizes of objects in the file.

/// Superblock version 2: 8 (signature) + 4 (version, sizes, flags) + 4
/// addresses of 8 bytes + 4 (checksum).
const SUPERBLOCK_SIZE: usize = 48;

/// The "undefined address" of the format: all bits set.
const UNDEFINED_ADDRESS: u64 = u64::MAX;

/// Bytes taken by a group's object header and everything below it.
fn group_size(group: &Group) -> usize {
    // The header's size does not depend on the addresses in it.
    let header = group_header(group, &vec![0; group.children.len()]).len();
    header
        + group
            .children
            .iter()
            .map(|(_, n)| node_size(n))
            .sum::<usize>()
}

/// Bytes taken by a dataset's object header and its raw data.
fn dataset_size(data: &Dataset) -> usize {
    dataset_header(data, 0).len() + data.byte_len()
}

fn node_size(node: &Node) -> usize {
    match node {
        Node::Group(g) => group_size(g),
        Node::Dataset(d) => dataset_size(d),
    }
}

// ---------------------------------------------------------------------------
// Writing.

/// Writes `group`'s object header at `out.len()`, then its children.
fn write_group(out: &mut Vec<u8>, group: &Group) {
    let header_len = group_header(group, &vec![0; group.children.len()]).len();
    // Children follow the header in order, each taking its node_size().
    let mut next = (out.len() + header_len) as u64;
    let addresses: Vec<u64> = group
        .children
        .iter()
        .map(|(_, node)| {
            let address = next;
            next += node_size(node) as u64;
            address
        })
        .collect();
    out.extend_from_slice(&group_header(group, &addresses));
    for ((_, node), address) in group.children.iter().zip(addresses) {
        debug_assert_eq!(out.len() as u64, address);
        match node {
            Node::Group(g) => write_group(out, g),
            Node::Dataset(d) => write_dataset(out, d),
        }
    }
}

/// Writes `data`'s object header at `out.len()`, then its raw data right
/// after it.
fn write_dataset(out: &mut Vec<u8>, data: &Dataset) {
    let header_len = dataset_header(data, 0).len();
    let data_address = (out.len() + header_len) as u64;
    out.extend_from_slice(&dataset_header(data, data_address));
    // Straight into the output: no intermediate copy of a large array.
    match data.float {
        Float::F64 => {
            for v in &data.values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Float::F32 => {
            for v in &data.values {
                out.extend_from_slice(&(*v as f32).to_le_bytes());
            }
        }
    }
}

/// Superblock version 2 (format spec II.A): the only one with a fixed layout
/// and a checksum that goes with version 2 object headers.
fn superblock(out: &mut Vec<u8>, end_of_file: u64, root_address: u64) {
    let start = out.len();
    out.extend_from_slice(b"\x89HDF\r\n\x1a\n");
    out.push(2); // superblock version
    out.push(8); // size of offsets
    out.push(8); // size of lengths
    out.push(0); // file consistency flags: none (closed cleanly)
    out.extend_from_slice(&0u64.to_le_bytes()); // base address: file start
    out.extend_from_slice(&UNDEFINED_ADDRESS.to_le_bytes()); // no extension
                                                             // The library refuses a file shorter than this ("truncated file").
    out.extend_from_slice(&end_of_file.to_le_bytes());
    out.extend_from_slice(&root_address.to_le_bytes());
    let sum = checksum(&out[start..]);
    out.extend_from_slice(&sum.to_le_bytes());
}

// ---------------------------------------------------------------------------
// Object headers and their messages (format spec IV.A).

/// Message type numbers (format spec IV.A.2).
const DATASPACE: u8 = 0x01;
const LINK_INFO: u8 = 0x02;
const DATATYPE: u8 = 0x03;
const FILL_VALUE: u8 = 0x05;
const LINK: u8 = 0x06;
const LAYOUT: u8 = 0x08;
const GROUP_INFO: u8 = 0x0A;

/// Message flag: the message never changes (the library sets it on datatype
/// and fill value messages it writes).
const CONSTANT: u8 = 0x01;

/// One header message: type, flags, body.
struct Message {
    kind: u8,
    flags: u8,
    body: Vec<u8>,
}

/// A version 2 object header holding `messages` in a single chunk.
fn object_header(messages: &[Message]) -> Vec<u8> {
    let chunk_len: usize = messages.iter().map(|m| 4 + m.body.len()).sum();
    let mut out = Vec::with_capacity(10 + chunk_len + 4);
    out.extend_from_slice(b"OHDR");
    out.push(2); // version
                 // Flags: bits 0-1 = 2, "size of chunk #0" is 4 bytes; nothing else
                 // (no attribute creation order, no attribute thresholds, no times).
    out.push(0x02);
    out.extend_from_slice(
        &u32::try_from(chunk_len)
            .expect("header < 4 GiB")
            .to_le_bytes(),
    );
    for m in messages {
        out.push(m.kind);
        let len = u16::try_from(m.body.len()).expect("HDF5 message body over 64 KiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.push(m.flags);
        out.extend_from_slice(&m.body);
    }
    // The checksum covers the whole chunk from the signature on.
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// A group's object header; `addresses[i]` is where child `i`'s object
/// header is.
fn group_header(group: &Group, addresses: &[u64]) -> Vec<u8> {
    let mut messages = vec![link_info_message(), group_info_message()];
    for ((name, _), &address) in group.children.iter().zip(addresses) {
        messages.push(link_message(name, address));
    }
    object_header(&messages)
}

/// A dataset's object header; its raw data is at `data_address`.
fn dataset_header(data: &Dataset, data_address: u64) -> Vec<u8> {
    object_header(&[
        dataspace_message(&data.shape),
        datatype_message(data.float),
        fill_value_message(),
        layout_message(data_address, data.byte_len() as u64),
    ])
}

/// Link info message, version 0: marks a "new style" group. Creation order
/// is not tracked and both heap and name index addresses are undefined,
/// which says all links are stored compactly as link messages.
fn link_info_message() -> Message {
    let mut body = vec![0, 0]; // version, flags
    body.extend_from_slice(&UNDEFINED_ADDRESS.to_le_bytes()); // fractal heap
    body.extend_from_slice(&UNDEFINED_ADDRESS.to_le_bytes()); // name index B-tree
    Message {
        kind: LINK_INFO,
        flags: 0,
        body,
    }
}

/// Group info message, version 0, flags 0: library defaults for the
/// compact/dense thresholds and name length estimates. Required with a link
/// info message.
fn group_info_message() -> Message {
    Message {
        kind: GROUP_INFO,
        flags: 0,
        body: vec![0, 0],
    }
}

/// Link message, version 1: a hard link `name` to the object header at
/// `address`. The name is marked UTF-8 (ASCII names are valid UTF-8, and h5py
/// decodes either).
fn link_message(name: &str, address: u64) -> Message {
    let len = name.len();
    // Flags bits 0-1: width of the name length field (0 = 1 byte,
    // 1 = 2 bytes); bit 4: a character set field follows. No link type field
    // (absent means hard link) and no creation order.
    let width_bits = if len <= 0xFF { 0 } else { 1 };
    let mut body = vec![1, 0x10 | width_bits, 1]; // version, flags, charset UTF-8
    if len <= 0xFF {
        body.push(len as u8);
    } else {
        let len = u16::try_from(len).expect("HDF5 link name over 64 KiB");
        body.extend_from_slice(&len.to_le_bytes());
    }
    body.extend_from_slice(name.as_bytes()); // not NUL-terminated
    body.extend_from_slice(&address.to_le_bytes());
    Message {
        kind: LINK,
        flags: 0,
        body,
    }
}

/// Dataspace message, version 2: scalar for an empty shape, else simple with
/// these dimensions (maximum dimensions omitted: the same as the current
/// ones, i.e. not extendible).
fn dataspace_message(shape: &[usize]) -> Message {
    let rank = u8::try_from(shape.len()).expect("HDF5 rank over 255");
    let kind = if shape.is_empty() { 0 } else { 1 }; // 0 scalar, 1 simple
    let mut body = vec![2, rank, 0, kind]; // version, rank, flags, type
    for &dim in shape {
        body.extend_from_slice(&(dim as u64).to_le_bytes());
    }
    Message {
        kind: DATASPACE,
        flags: 0,
        body,
    }
}

/// Datatype message, version 1, class 1 (floating point): IEEE 754 in
/// little-endian order, the same bits libhdf5 writes for `H5T_IEEE_F32LE` /
/// `H5T_IEEE_F64LE`.
fn datatype_message(float: Float) -> Message {
    // (size, sign bit, exponent position and width, mantissa width, bias)
    let (size, sign, exp_at, exp_bits, mantissa_bits, bias): (u32, u8, u8, u8, u8, u32) =
        match float {
            Float::F32 => (4, 31, 23, 8, 23, 127),
            Float::F64 => (8, 63, 52, 11, 52, 1023),
        };
    let mut body = vec![0x11]; // version 1 (high nibble), class 1 (low nibble)
                               // Class bit field, 24 bits: bit 0 byte order (0 = little-endian), bits
                               // 1-3 padding (zeros), bits 4-5 mantissa normalization (2 = implied
                               // leading 1), bits 8-15 sign bit position.
    body.extend_from_slice(&[0x20, sign, 0]);
    body.extend_from_slice(&size.to_le_bytes());
    // Properties: bit offset, precision, exponent location and size,
    // mantissa location and size, exponent bias.
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(size as u16 * 8).to_le_bytes());
    body.extend_from_slice(&[exp_at, exp_bits, 0, mantissa_bits]);
    body.extend_from_slice(&bias.to_le_bytes());
    Message {
        kind: DATATYPE,
        flags: CONSTANT,
        body,
    }
}

/// Fill value message, version 3, with the library's defaults (what h5py
/// writes): space allocated late, fill value written "if set", no fill value
/// defined (so the default, zero). Every element is written anyway; this
/// message is here because readers expect datasets to carry one.
fn fill_value_message() -> Message {
    const ALLOC_LATE: u8 = 2; // bits 0-1
    const FILL_IF_SET: u8 = 2 << 2; // bits 2-3
    Message {
        kind: FILL_VALUE,
        flags: CONSTANT,
        body: vec![3, ALLOC_LATE | FILL_IF_SET],
    }
}

/// Data layout message, version 3, class 1 (contiguous): the raw data is
/// `size` bytes at `address`. An empty dataset has no storage: its address
/// is undefined, as libhdf5 leaves it.
fn layout_message(address: u64, size: u64) -> Message {
    let address = if size == 0 {
        UNDEFINED_ADDRESS
    } else {
        address
    };
    let mut body = vec![3, 1]; // version, layout class
    body.extend_from_slice(&address.to_le_bytes());
    body.extend_from_slice(&size.to_le_bytes());
    Message {
        kind: LAYOUT,
        flags: 0,
        body,
    }
}

// ---------------------------------------------------------------------------
// Checksum.

/// The metadata checksum of HDF5: lookup3 `hashlittle` with seed 0.
fn checksum(bytes: &[u8]) -> u32 {
    hashlittle(bytes, 0)
}

/// Bob Jenkins' lookup3 `hashlittle` (2006, public domain), byte-wise form:
/// 12-byte blocks as three little-endian words, mixed; the last 1 to 12
/// bytes zero-padded and put through the final mix. An empty key skips the
/// final mix.
fn hashlittle(key: &[u8], initval: u32) -> u32 {
    // The format truncates the length to 32 bits too.
    let start = 0xdead_beef_u32
        .wrapping_add(key.len() as u32)
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (start, start, start);
    let word = |bytes: &[u8]| u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let mut rest = key;
    // Strictly more than 12: the last block, even a full one, goes through
    // the final mix instead.
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        (a, b, c) = mix(a, b, c);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    let mut tail = [0u8; 12];
    tail[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(word(&tail[0..4]));
    b = b.wrapping_add(word(&tail[4..8]));
    c = c.wrapping_add(word(&tail[8..12]));
    final_mix(a, b, c)
}

/// lookup3's `mix()`: reversible mixing of three words.
fn mix(mut a: u32, mut b: u32, mut c: u32) -> (u32, u32, u32) {
    a = a.wrapping_sub(c) ^ c.rotate_left(4);
    c = c.wrapping_add(b);
    b = b.wrapping_sub(a) ^ a.rotate_left(6);
    a = a.wrapping_add(c);
    c = c.wrapping_sub(b) ^ b.rotate_left(8);
    b = b.wrapping_add(a);
    a = a.wrapping_sub(c) ^ c.rotate_left(16);
    c = c.wrapping_add(b);
    b = b.wrapping_sub(a) ^ a.rotate_left(19);
    a = a.wrapping_add(c);
    c = c.wrapping_sub(b) ^ b.rotate_left(4);
    b = b.wrapping_add(a);
    (a, b, c)
}

/// lookup3's `final()`: the last mixing of three words; returns `c`.
fn final_mix(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    c = (c ^ b).wrapping_sub(b.rotate_left(14));
    a = (a ^ c).wrapping_sub(c.rotate_left(11));
    b = (b ^ a).wrapping_sub(a.rotate_left(25));
    c = (c ^ b).wrapping_sub(b.rotate_left(16));
    a = (a ^ c).wrapping_sub(c.rotate_left(4));
    b = (b ^ a).wrapping_sub(a.rotate_left(14));
    (c ^ b).wrapping_sub(b.rotate_left(24))
}

#[cfg(test)]
mod tests;
