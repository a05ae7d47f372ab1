//! Property tests for the restricted pickle VM (`load::pickle::vm`).
//!
//! A tiny pickle *encoder* below writes a generated value tree with randomly
//! chosen but equivalent opcode forms (protocol headers, FRAMEs, every integer,
//! string, bytes, tuple, list and dict opcode, memo puts and gets, DUP/POP and
//! POP_MARK noise), and the properties check that
//!
//! * the VM rebuilds exactly the generated tree (`roundtrip`);
//! * an object shared through the memo sees BUILD state set after it was
//!   referenced (`shared_objects_see_later_build`);
//! * every strict prefix of a valid pickle is refused (`truncation_is_an_error`);
//! * flipped bytes never panic, in the VM or in `load_bytes` (`flipped_bytes_never_panic`).

mod common;

use common::SplitMix;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config as ProptestConfig;
use std::collections::HashMap;
use svm2onnx::load::pickle::vm::{unpickle, Arena, Global, Id, Limits, Obj, PickleError};

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A generated Python value.
#[derive(Debug, Clone)]
enum V {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<V>),
    List(Vec<V>),
    Dict(Vec<(String, V)>),
}

/// Structural equality with floats compared bit for bit (so -0.0 != 0.0).
fn same(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::None, V::None) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Float(x), V::Float(y)) => x.to_bits() == y.to_bits(),
        (V::Str(x), V::Str(y)) => x == y,
        (V::Bytes(x), V::Bytes(y)) => x == y,
        (V::Tuple(x), V::Tuple(y)) | (V::List(x), V::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (V::Dict(x), V::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

fn int_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..=255,
        256i64..=65535,
        -300i64..300,
        any::<i32>().prop_map(i64::from),
        any::<i64>(),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(i64::from(i32::MIN)),
            Just(i64::from(i32::MAX)),
            Just(-1i64),
            Just(128i64),
            Just(-129i64),
            Just(1i64 << 31),
            Just(-(1i64 << 31) - 1),
            Just(1i64 << 55),
        ],
    ]
}

fn float_value() -> impl Strategy<Value = f64> {
    use proptest::num::f64 as f;
    prop_oneof![
        4 => f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO,
        1 => prop_oneof![
            Just(0.0f64),
            Just(-0.0f64),
            Just(f64::MIN_POSITIVE),
            Just(f64::MIN_POSITIVE / 2.0),
            Just(5e-324f64),
            Just(-5e-324f64),
            Just(f64::MAX),
            Just(f64::MIN),
            Just(0.1f64),
            Just(1.0f64 / 3.0),
        ],
    ]
    .prop_map(|x| if x.is_finite() { x } else { 0.5 })
}

fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_]{0,8}",
        4 => prop::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect::<String>()),
        2 => "\\PC{0,10}",
        // Around the 255-byte limit of SHORT_BINUNICODE.
        1 => prop::collection::vec(prop_oneof![Just('x'), Just('é'), Just('€'), Just('😀')], 60..300)
            .prop_map(|c| c.into_iter().collect::<String>()),
    ]
}

fn bytes_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..16),
        1 => prop::collection::vec(any::<u8>(), 250..300),
    ]
}

fn leaf() -> impl Strategy<Value = V> {
    prop_oneof![
        1 => Just(V::None),
        1 => any::<bool>().prop_map(V::Bool),
        4 => int_value().prop_map(V::Int),
        3 => float_value().prop_map(V::Float),
        3 => string_value().prop_map(V::Str),
        2 => bytes_value().prop_map(V::Bytes),
    ]
}

/// Appends copies of earlier items so that the same sub-value recurs (and
/// the encoder can reference it through the memo).
fn with_dups<T: Clone>(mut items: Vec<T>, dups: Vec<Index>) -> Vec<T> {
    if !items.is_empty() {
        for d in dups {
            let x = items[d.index(items.len())].clone();
            items.push(x);
        }
    }
    items
}

fn value() -> impl Strategy<Value = V> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        let items = (
            prop::collection::vec(inner.clone(), 0..6),
            prop::collection::vec(any::<Index>(), 0..3),
        )
            .prop_map(|(xs, d)| with_dups(xs, d));
        prop_oneof![
            items.clone().prop_map(V::Tuple),
            items.prop_map(V::List),
            dict_of(inner),
        ]
    })
}

fn dict_of(inner: impl Strategy<Value = V>) -> impl Strategy<Value = V> {
    (
        prop::collection::vec(("[a-z_]{0,6}|\\PC{0,4}", inner), 0..6),
        prop::collection::vec(any::<Index>(), 0..3),
    )
        .prop_map(|(xs, d)| V::Dict(with_dups(xs, d)))
}

// ---------------------------------------------------------------------------
// A randomised pickle encoder
// ---------------------------------------------------------------------------

mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const FLOAT: u8 = b'F';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const LONG: u8 = b'L';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const REDUCE: u8 = b'R';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const BINGET: u8 = b'h';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    pub const BINBYTES: u8 = b'B';
    pub const SHORT_BINBYTES: u8 = b'C';
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const TUPLE1: u8 = 0x85;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINBYTES8: u8 = 0x8e;
    pub const EMPTY_SET: u8 = 0x8f;
    pub const ADDITEMS: u8 = 0x90;
    pub const FROZENSET: u8 = 0x91;
    pub const NEWOBJ_EX: u8 = 0x92;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
    pub const BYTEARRAY8: u8 = 0x96;
}

/// A memo slot the encoder wrote, to be marked complete once the object it
/// holds is fully built (only complete objects are re-used by BINGET).
#[derive(Clone, Copy)]
struct Slot {
    key: u64,
    generation: u64,
}

struct Enc {
    /// Protocol for opcode choices; `None` writes no PROTO header (any opcode).
    header: Option<u8>,
    proto: u8,
    body: Vec<u8>,
    /// Offsets in `body` where an opcode starts (frames split there).
    bounds: Vec<usize>,
    rng: SplitMix,
    /// Mirror of the VM's memo: key → (generation, value once complete).
    memo: HashMap<u64, (u64, Option<V>)>,
    generation: u64,
    noise_depth: usize,
    /// Keys `put` must not overwrite (slots a test reads back later).
    reserved: Vec<u64>,
}

impl Enc {
    fn new(seed: u64) -> Enc {
        let mut rng = SplitMix(seed);
        let header = rng.pick(&[None, Some(2u8), Some(3), Some(4), Some(5)]);
        Enc {
            header,
            proto: header.unwrap_or(5),
            body: Vec::new(),
            bounds: Vec::new(),
            rng,
            memo: HashMap::new(),
            generation: 0,
            noise_depth: 0,
            reserved: Vec::new(),
        }
    }

    fn op(&mut self, code: u8) {
        self.bounds.push(self.body.len());
        self.body.push(code);
    }
    fn raw(&mut self, bytes: &[u8]) {
        self.body.extend_from_slice(bytes);
    }

    /// Stores the top of the stack in the memo with a random put opcode
    /// (overwriting an existing key sometimes, never a reserved one).
    fn put(&mut self) -> Slot {
        let mut forms = vec![0u8, 1];
        if self.proto >= 4 && !self.reserved.contains(&(self.memo.len() as u64)) {
            forms.push(2);
            forms.push(2);
        }
        let key = loop {
            let form = self.rng.pick(&forms);
            let key = match form {
                // BINPUT: sometimes reuse a small key that is already taken.
                0 if self.rng.chance(1, 4) => self.rng.below(4) as u64,
                0 => self.rng.below(256) as u64,
                1 => match self.rng.below(3) {
                    0 => self.rng.below(256) as u64,
                    1 => self.rng.below(70_000) as u64,
                    _ => u64::from(self.rng.next_u64() as u32),
                },
                _ => self.memo.len() as u64,
            };
            if self.reserved.contains(&key) {
                continue;
            }
            match form {
                0 => {
                    self.op(op::BINPUT);
                    self.raw(&[key as u8]);
                }
                1 => {
                    self.op(op::LONG_BINPUT);
                    self.raw(&(key as u32).to_le_bytes());
                }
                _ => self.op(op::MEMOIZE),
            }
            break key;
        };
        self.generation += 1;
        self.memo.insert(key, (self.generation, None));
        Slot {
            key,
            generation: self.generation,
        }
    }

    /// A put whose key no later put overwrites.
    fn put_reserved(&mut self) -> Slot {
        let slot = self.put();
        self.reserved.push(slot.key);
        slot
    }

    fn maybe_put(&mut self) -> Option<Slot> {
        self.rng.chance(2, 5).then(|| self.put())
    }

    fn complete(&mut self, slot: Option<Slot>, v: &V) {
        if let Some(slot) = slot {
            if let Some(entry) = self.memo.get_mut(&slot.key) {
                if entry.0 == slot.generation {
                    entry.1 = Some(v.clone());
                }
            }
        }
    }

    /// Pushes a memo entry with BINGET or LONG_BINGET.
    fn get(&mut self, key: u64) {
        if key <= 255 && self.rng.chance(1, 2) {
            self.op(op::BINGET);
            self.raw(&[key as u8]);
        } else {
            self.op(op::LONG_BINGET);
            self.raw(&(key as u32).to_le_bytes());
        }
    }

    /// Stack-neutral noise: `junk POP`, `MARK junk… POP_MARK`.
    fn noise(&mut self) {
        if self.noise_depth > 0 || !self.rng.chance(1, 8) {
            return;
        }
        self.noise_depth += 1;
        if self.rng.chance(1, 2) {
            let j = self.junk();
            self.value(&j);
            self.op(op::POP);
        } else {
            self.op(op::MARK);
            for _ in 0..self.rng.below(3) {
                let j = self.junk();
                self.value(&j);
            }
            self.op(op::POP_MARK);
        }
        self.noise_depth -= 1;
    }

    fn junk(&mut self) -> V {
        match self.rng.below(5) {
            0 => V::None,
            1 => V::Int(self.rng.below(1000) as i64 - 500),
            2 => V::Str(["", "junk", "é"][self.rng.below(3)].to_string()),
            3 => V::List(vec![V::Int(7), V::Str("x".into())]),
            _ => V::Dict(vec![("k".into(), V::Bool(true))]),
        }
    }

    /// Encodes `v`, leaving exactly one object on the stack.
    fn value(&mut self, v: &V) {
        self.noise();
        // Re-use an equal complete object from the memo.
        if self.rng.chance(1, 2) {
            let keys: Vec<u64> = self
                .memo
                .iter()
                .filter(|(_, (_, val))| val.as_ref().is_some_and(|m| same(m, v)))
                .map(|(k, _)| *k)
                .collect();
            if !keys.is_empty() {
                let k = keys[self.rng.below(keys.len())];
                self.get(k);
                self.after();
                return;
            }
        }
        self.fresh(v);
        self.after();
    }

    /// `DUP POP` after a value, sometimes.
    fn after(&mut self) {
        if self.rng.chance(1, 10) {
            self.op(op::DUP);
            self.op(op::POP);
        }
    }

    fn fresh(&mut self, v: &V) {
        match v {
            V::None => {
                self.op(op::NONE);
                let s = self.maybe_put();
                self.complete(s, v);
            }
            V::Bool(b) => {
                if self.proto >= 2 && !self.rng.chance(1, 8) {
                    self.op(if *b { op::NEWTRUE } else { op::NEWFALSE });
                } else {
                    // Protocol 0 spelling.
                    self.op(op::INT);
                    self.raw(if *b { b"01\n" } else { b"00\n" });
                }
                let s = self.maybe_put();
                self.complete(s, v);
            }
            V::Int(i) => {
                self.int(*i);
                let s = self.maybe_put();
                self.complete(s, v);
            }
            V::Float(f) => {
                if self.rng.chance(7, 8) {
                    self.op(op::BINFLOAT);
                    self.raw(&f.to_be_bytes());
                } else {
                    self.op(op::FLOAT);
                    self.raw(format!("{f:?}\n").as_bytes());
                }
                let s = self.maybe_put();
                self.complete(s, v);
            }
            V::Str(s) => {
                self.str(s);
                let slot = self.maybe_put();
                self.complete(slot, v);
            }
            V::Bytes(b) => {
                self.bytes(b);
                let slot = self.maybe_put();
                self.complete(slot, v);
            }
            V::Tuple(items) => {
                if items.len() <= 3 && self.rng.chance(2, 3) {
                    for item in items {
                        self.value(item);
                    }
                    match items.len() {
                        0 => self.op(op::EMPTY_TUPLE),
                        n => self.op(op::TUPLE1 + n as u8 - 1),
                    }
                } else {
                    self.op(op::MARK);
                    for item in items {
                        self.value(item);
                    }
                    self.op(op::TUPLE);
                }
                let slot = self.maybe_put();
                self.complete(slot, v);
            }
            V::List(items) => self.list(v, items),
            V::Dict(items) => self.dict(v, items),
        }
    }

    fn int(&mut self, i: i64) {
        // Two's complement little-endian bytes; `min` is the shortest
        // length that sign-extends back to `i` (0 bytes for zero).
        let full = i.to_le_bytes();
        let decode = |n: usize| {
            let b = &full[..n];
            let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) {
                [0xFF; 8]
            } else {
                [0; 8]
            };
            buf[..n].copy_from_slice(b);
            i64::from_le_bytes(buf)
        };
        let min = (0..=8)
            .find(|&n| decode(n) == i)
            .expect("8 bytes always fit");
        let mut forms = vec![3u8, 4, 5, 6]; // LONG1, LONG4, INT, LONG
        if (0..=255).contains(&i) {
            forms.extend([0, 0, 0]);
        }
        if (0..=65535).contains(&i) {
            forms.extend([1, 1]);
        }
        if i32::try_from(i).is_ok() {
            forms.extend([2, 2]);
        }
        match self.rng.pick(&forms) {
            0 => {
                self.op(op::BININT1);
                self.raw(&[i as u8]);
            }
            1 => {
                self.op(op::BININT2);
                self.raw(&(i as u16).to_le_bytes());
            }
            2 => {
                self.op(op::BININT);
                self.raw(&(i as i32).to_le_bytes());
            }
            3 | 4 => {
                // Shortest length, or padded with sign bytes up to 8.
                let n = if self.rng.chance(3, 4) {
                    min
                } else {
                    min + self.rng.below(9 - min)
                };
                let bytes = &full[..n];
                if self.rng.chance(1, 2) {
                    self.op(op::LONG1);
                    self.raw(&[n as u8]);
                } else {
                    self.op(op::LONG4);
                    self.raw(&(n as u32).to_le_bytes());
                }
                self.raw(bytes);
            }
            5 if i != 0 && i != 1 => {
                self.op(op::INT);
                self.raw(format!("{i}\n").as_bytes());
            }
            _ => {
                self.op(op::LONG);
                self.raw(format!("{i}L\n").as_bytes());
            }
        }
    }

    fn str(&mut self, s: &str) {
        let b = s.as_bytes();
        let mut forms = vec![1u8];
        if self.proto >= 4 {
            forms.push(2);
            if b.len() < 256 {
                forms.extend([0, 0]);
            }
        }
        match self.rng.pick(&forms) {
            0 => {
                self.op(op::SHORT_BINUNICODE);
                self.raw(&[b.len() as u8]);
            }
            1 => {
                self.op(op::BINUNICODE);
                self.raw(&(b.len() as u32).to_le_bytes());
            }
            _ => {
                self.op(op::BINUNICODE8);
                self.raw(&(b.len() as u64).to_le_bytes());
            }
        }
        self.raw(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        let mut forms = Vec::new();
        if self.proto <= 2 || self.header.is_none() {
            forms.push(4u8); // _codecs.encode(latin-1 text, 'latin1')
        }
        if self.proto >= 3 {
            forms.push(1);
            if b.len() < 256 {
                forms.extend([0, 0]);
            }
        }
        if self.proto >= 4 {
            forms.push(2);
        }
        if self.proto >= 5 {
            forms.push(3);
        }
        match self.rng.pick(&forms) {
            0 => {
                self.op(op::SHORT_BINBYTES);
                self.raw(&[b.len() as u8]);
                self.raw(b);
            }
            1 => {
                self.op(op::BINBYTES);
                self.raw(&(b.len() as u32).to_le_bytes());
                self.raw(b);
            }
            2 => {
                self.op(op::BINBYTES8);
                self.raw(&(b.len() as u64).to_le_bytes());
                self.raw(b);
            }
            3 => {
                self.op(op::BYTEARRAY8);
                self.raw(&(b.len() as u64).to_le_bytes());
                self.raw(b);
            }
            _ => {
                // What CPython writes for bytes at protocol 2.
                self.global("_codecs", "encode");
                let _ = self.maybe_put(); // a global is never re-used as a value
                let text: String = b.iter().map(|&x| char::from(x)).collect();
                self.value(&V::Str(text));
                self.value(&V::Str("latin1".into()));
                self.op(op::TUPLE1 + 1);
                self.op(op::REDUCE);
            }
        }
    }

    fn global(&mut self, module: &str, name: &str) {
        if self.proto >= 4 && self.rng.chance(2, 3) {
            self.value(&V::Str(module.into()));
            self.value(&V::Str(name.into()));
            self.op(op::STACK_GLOBAL);
        } else {
            self.op(op::GLOBAL);
            self.raw(format!("{module}\n{name}\n").as_bytes());
        }
    }

    /// Items in batches of APPEND (one item) or MARK … `batch_op`.
    fn batches(&mut self, items: &[V], batch_op: u8, single: Option<u8>) {
        let mut i = 0;
        while i < items.len() {
            if let (Some(single), true) = (single, self.rng.chance(1, 2)) {
                self.value(&items[i]);
                self.op(single);
                i += 1;
            } else {
                let n = 1 + self.rng.below(items.len() - i);
                self.op(op::MARK);
                for item in &items[i..i + n] {
                    self.value(item);
                }
                self.op(batch_op);
                i += n;
            }
        }
        // An empty batch is legal too.
        if self.rng.chance(1, 10) {
            self.op(op::MARK);
            self.op(batch_op);
        }
    }

    fn list(&mut self, v: &V, items: &[V]) {
        let mut forms = vec![0u8, 0, 1];
        if self.proto >= 4 {
            forms.extend([2, 3]);
        }
        let slot = match self.rng.pick(&forms) {
            0 => {
                self.op(op::EMPTY_LIST);
                let slot = self.maybe_put();
                self.batches(items, op::APPENDS, Some(op::APPEND));
                slot
            }
            1 => {
                self.op(op::MARK);
                for item in items {
                    self.value(item);
                }
                self.op(op::LIST);
                self.maybe_put()
            }
            // Sets and frozensets are read as lists.
            2 => {
                self.op(op::EMPTY_SET);
                let slot = self.maybe_put();
                self.batches(items, op::ADDITEMS, None);
                slot
            }
            _ => {
                self.op(op::MARK);
                for item in items {
                    self.value(item);
                }
                self.op(op::FROZENSET);
                self.maybe_put()
            }
        };
        self.complete(slot, v);
    }

    fn dict(&mut self, v: &V, items: &[(String, V)]) {
        let slot = if self.rng.chance(2, 3) {
            self.op(op::EMPTY_DICT);
            let slot = self.maybe_put();
            let mut i = 0;
            while i < items.len() {
                if self.rng.chance(1, 2) {
                    self.value(&V::Str(items[i].0.clone()));
                    self.value(&items[i].1);
                    self.op(op::SETITEM);
                    i += 1;
                } else {
                    let n = 1 + self.rng.below(items.len() - i);
                    self.op(op::MARK);
                    for (k, val) in &items[i..i + n] {
                        self.value(&V::Str(k.clone()));
                        self.value(val);
                    }
                    self.op(op::SETITEMS);
                    i += n;
                }
            }
            slot
        } else {
            self.op(op::MARK);
            for (k, val) in items {
                self.value(&V::Str(k.clone()));
                self.value(val);
            }
            self.op(op::DICT);
            self.maybe_put()
        };
        self.complete(slot, v);
    }

    /// The whole file: header, then the body (ending in STOP), split into
    /// FRAMEs at opcode boundaries for protocol 4+ when chosen.
    fn finish(mut self) -> Vec<u8> {
        self.op(op::STOP);
        let mut out = Vec::new();
        if let Some(p) = self.header {
            out.extend([op::PROTO, p]);
        }
        if self.proto >= 4 && self.header.is_some() && self.rng.chance(2, 3) {
            let mut cuts: Vec<usize> = self
                .bounds
                .iter()
                .copied()
                .filter(|_| self.rng.chance(1, 6))
                .collect();
            cuts.retain(|&c| c > 0);
            cuts.insert(0, 0);
            cuts.push(self.body.len());
            cuts.dedup();
            for w in cuts.windows(2) {
                let chunk = &self.body[w[0]..w[1]];
                // Unframed chunks are legal between frames.
                if self.rng.chance(5, 6) {
                    out.push(op::FRAME);
                    out.extend((chunk.len() as u64).to_le_bytes());
                }
                out.extend_from_slice(chunk);
            }
        } else {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

fn encode(v: &V, seed: u64) -> Vec<u8> {
    let mut enc = Enc::new(seed);
    enc.value(v);
    enc.finish()
}

// ---------------------------------------------------------------------------
// Comparing the arena with the generated value
// ---------------------------------------------------------------------------

fn check(arena: &Arena, id: Id, v: &V, path: &str) -> Result<(), String> {
    let obj = arena.get(id);
    let fail = || Err(format!("at {path}: expected {v:?}, found {obj:?}"));
    match (v, obj) {
        (V::None, Obj::None) => Ok(()),
        (V::Bool(a), Obj::Bool(b)) if a == b => Ok(()),
        (V::Int(a), Obj::Int(b)) if a == b => Ok(()),
        (V::Float(a), Obj::Float(b)) if a.to_bits() == b.to_bits() => Ok(()),
        (V::Str(a), Obj::Str(b)) if a == b => Ok(()),
        (V::Bytes(a), Obj::Bytes(_) | Obj::StreamBytes(_)) if arena.bytes(id) == Some(a) => Ok(()),
        (V::Tuple(a), Obj::Tuple(b)) | (V::List(a), Obj::List(b)) => {
            if a.len() != b.len() {
                return fail();
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                check(arena, *y, x, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (V::Dict(a), Obj::Dict(b)) => {
            if a.len() != b.len() {
                return fail();
            }
            for ((k, x), (ky, y)) in a.iter().zip(b) {
                check(
                    arena,
                    *ky,
                    &V::Str(k.clone()),
                    &format!("{path}.key({k:?})"),
                )?;
                check(arena, *y, x, &format!("{path}[{k:?}]"))?;
            }
            Ok(())
        }
        _ => fail(),
    }
}

fn allow_all(_: &Global) -> bool {
    true
}

fn run(data: &[u8]) -> Result<(Arena<'_>, Id), PickleError> {
    unpickle(data, &allow_all, Limits::default())
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Every opcode form the encoder picks reads back as the same tree.
    #[test]
    fn roundtrip(v in value(), seed in any::<u64>()) {
        let data = encode(&v, seed);
        let (arena, root) = run(&data).map_err(|e| TestCaseError::fail(format!("{e}; pickle {}", hex(&data))))?;
        check(&arena, root, &v, "root").map_err(|e| TestCaseError::fail(format!("{e}; pickle {}", hex(&data))))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// An instance memoized, referenced from a list through BINGET, then given
    /// its state by BUILD: the list's elements are the same object and show
    /// that state (CPython's identity semantics).
    #[test]
    fn shared_objects_see_later_build(
        state in dict_of(leaf()),
        refs in 1usize..4,
        seed in any::<u64>(),
    ) {
        let mut e = Enc::new(seed);
        if e.header.is_none() || e.proto < 2 {
            e.header = Some(2);
            e.proto = 2;
        }
        e.global("mymod.sub", "Thing");
        let _ = e.maybe_put();
        // Creation without calling anything: NEWOBJ, NEWOBJ_EX or REDUCE.
        match e.rng.below(3) {
            0 => {
                e.op(op::EMPTY_TUPLE);
                e.op(op::NEWOBJ);
            }
            1 => {
                e.op(op::EMPTY_TUPLE);
                e.op(op::EMPTY_DICT);
                e.op(op::NEWOBJ_EX);
            }
            _ => {
                e.op(op::EMPTY_TUPLE);
                e.op(op::REDUCE);
            }
        }
        let obj = e.put_reserved();
        // A list holding `refs` references to the object, memoized, then popped.
        e.op(op::EMPTY_LIST);
        let list = e.put_reserved();
        if e.rng.chance(1, 2) {
            for _ in 0..refs {
                e.get(obj.key);
                e.op(op::APPEND);
            }
        } else {
            e.op(op::MARK);
            for _ in 0..refs {
                e.get(obj.key);
            }
            e.op(op::APPENDS);
        }
        e.op(op::POP);
        // State set after the list captured the object.
        e.value(&state);
        e.op(op::BUILD);
        // Root: (object, list).
        e.get(list.key);
        e.op(op::TUPLE1 + 1);
        let data = e.finish();

        let ctx = |m: String| TestCaseError::fail(format!("{m}; pickle {}", hex(&data)));
        let (arena, root) = run(&data).map_err(|e| ctx(e.to_string()))?;
        let Obj::Tuple(pair) = arena.get(root) else { return Err(ctx("root is not a tuple".into())) };
        prop_assert_eq!(pair.len(), 2);
        let (o, l) = (pair[0], pair[1]);
        let Obj::List(elems) = arena.get(l) else { return Err(ctx("second item is not a list".into())) };
        prop_assert_eq!(elems.len(), refs);
        for &el in elems {
            prop_assert_eq!(el, o, "list element is not the shared object");
            match arena.get(el) {
                Obj::Instance { class, args, state: Some(s), .. } => {
                    prop_assert!(class.is("mymod.sub", "Thing"));
                    prop_assert!(args.is_empty());
                    check(&arena, *s, &state, "state").map_err(ctx)?;
                }
                other => return Err(ctx(format!("list element is {other:?}, expected an instance with state"))),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every strict prefix of a valid pickle is an error (STOP is the last
    /// byte, so no prefix can finish), never a panic.
    #[test]
    fn truncation_is_an_error(v in value(), seed in any::<u64>(), extra in prop::collection::vec(any::<Index>(), 16)) {
        let data = encode(&v, seed);
        prop_assert!(run(&data).is_ok());
        // Every length for small pickles; for large ones the first and last
        // 256 lengths plus random cuts.
        let cuts: Vec<usize> = if data.len() <= 1024 {
            (0..data.len()).collect()
        } else {
            (0..256)
                .chain(data.len() - 256..data.len())
                .chain(extra.iter().map(|i| i.index(data.len())))
                .collect()
        };
        for cut in cuts {
            prop_assert!(run(&data[..cut]).is_err(), "prefix of {} bytes accepted; pickle {}", cut, hex(&data));
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Random byte flips never panic, in the VM or in the whole loader.
    #[test]
    fn flipped_bytes_never_panic(
        v in value(),
        seed in any::<u64>(),
        flips in prop::collection::vec((any::<Index>(), 1u8..=255), 1..8),
    ) {
        let mut data = encode(&v, seed);
        for (i, x) in flips {
            let i = i.index(data.len());
            data[i] ^= x;
        }
        let _ = run(&data);
        let _ = svm2onnx::load_bytes(&data);
    }
}

/// The encoder's integer forms, spot-checked against bytes CPython writes.
#[test]
fn encoder_matches_cpython_for_known_values() {
    // pickle.dumps(-129, 2) == b'\x80\x02\x8a\x02\x7f\xff.'
    let (arena, root) = run(b"\x80\x02\x8a\x02\x7f\xff.").unwrap();
    assert!(matches!(arena.get(root), Obj::Int(-129)));
    // pickle.dumps(b'ab', 2): _codecs.encode('ab', 'latin1')
    let p2 = b"\x80\x02c_codecs\nencode\nq\x00X\x02\x00\x00\x00abq\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04.";
    let (arena, root) = run(p2).unwrap();
    assert_eq!(arena.bytes(root), Some(&b"ab"[..]));
    // pickle.dumps([1, 1], 4) memoizes the list and writes the int twice.
    let p4 = b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x01e.";
    let (arena, root) = run(p4).unwrap();
    check(&arena, root, &V::List(vec![V::Int(1), V::Int(1)]), "root").unwrap();
}

/// The generator is not vacuous: over a few hundred trees every opcode form
/// above is written at least once (and the pickles still read back).
#[test]
fn encoder_covers_every_opcode_form() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeMap::<u8, usize>::new();
    let mut frames = 0;
    let mut protos = std::collections::BTreeSet::new();
    let strategy = (value(), any::<u64>());
    for _ in 0..400 {
        let (v, seed) = strategy.new_tree(&mut runner).unwrap().current();
        let mut enc = Enc::new(seed);
        enc.value(&v);
        for &b in &enc.bounds {
            *seen.entry(enc.body[b]).or_default() += 1;
        }
        protos.insert(enc.header);
        let data = enc.finish();
        frames += usize::from(data.get(2) == Some(&op::FRAME));
        let (arena, root) = run(&data).unwrap();
        check(&arena, root, &v, "root").unwrap();
    }
    use op::*;
    let wanted = [
        MARK,
        POP,
        POP_MARK,
        DUP,
        FLOAT,
        INT,
        BININT,
        BININT1,
        LONG,
        BININT2,
        NONE,
        REDUCE,
        BINUNICODE,
        APPEND,
        GLOBAL,
        DICT,
        EMPTY_DICT,
        APPENDS,
        BINGET,
        LONG_BINGET,
        LIST,
        EMPTY_LIST,
        BINPUT,
        LONG_BINPUT,
        SETITEM,
        TUPLE,
        EMPTY_TUPLE,
        SETITEMS,
        BINFLOAT,
        BINBYTES,
        SHORT_BINBYTES,
        TUPLE1,
        TUPLE1 + 1,
        TUPLE1 + 2,
        NEWTRUE,
        NEWFALSE,
        LONG1,
        LONG4,
        SHORT_BINUNICODE,
        BINUNICODE8,
        BINBYTES8,
        EMPTY_SET,
        ADDITEMS,
        FROZENSET,
        STACK_GLOBAL,
        MEMOIZE,
        BYTEARRAY8,
    ];
    let missing: Vec<String> = wanted
        .iter()
        .filter(|o| !seen.contains_key(o))
        .map(|o| format!("0x{o:02x}"))
        .collect();
    assert!(
        missing.is_empty(),
        "opcodes never written: {missing:?}; seen {seen:?}"
    );
    assert!(frames > 20, "only {frames} framed pickles");
    assert_eq!(protos.len(), 5, "headers seen: {protos:?}");
    eprintln!("opcode counts: {seen:?}; framed pickles: {frames}");
}
