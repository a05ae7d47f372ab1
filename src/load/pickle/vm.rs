//! A pickle virtual machine that builds a generic object tree and never
//! imports or calls anything (SVM_SEMANTICS.md §5a, §5b).
//!
//! Objects live in an arena and refer to each other by index, so shared
//! objects (memo references) see state set later by BUILD, exactly as in
//! CPython, cycles cannot leak or recurse, and dropping the tree never
//! recurses however deep a hostile file nests it.

use super::dtype::{dtype_is_object, wrapper_nbytes};
pub use super::object::{Arena, Global, Id, InlineArray, Obj};
use std::collections::HashMap;

/// Why a pickle stream was refused, with the byte offset of the opcode.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("byte offset {offset}: {message}")]
pub struct PickleError {
    pub offset: usize,
    pub message: String,
}

/// Limits that keep a hostile file from exhausting memory or the stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Objects in the arena.
    pub max_objects: usize,
    /// Memo entries.
    pub max_memo: usize,
    /// Nested joblib object-array pickles.
    pub max_nested: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_objects: 50_000_000,
            max_memo: 10_000_000,
            max_nested: 4,
        }
    }
}

/// Decides which GLOBALs may appear; returns an explanation when refused.
pub type Allow<'p> = &'p dyn Fn(&Global) -> Result<(), String>;

/// Whether a GLOBAL is joblib's array wrapper (raw data follows its BUILD).
fn is_joblib_wrapper(g: &Global) -> bool {
    g.is("joblib.numpy_pickle", "NumpyArrayWrapper")
}

struct Vm<'a, 'p> {
    data: &'a [u8],
    pos: usize,
    arena: Arena<'a>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    allow: Allow<'p>,
    limits: Limits,
    nested: usize,
}

/// Runs a pickle stream to its STOP; returns the arena and the root object.
/// `joblib` enables NumpyArrayWrapper's inline raw blocks (§5b).
pub fn unpickle<'s>(
    data: &'s [u8],
    allow: Allow<'_>,
    limits: Limits,
) -> Result<(Arena<'s>, Id), PickleError> {
    let mut vm = Vm {
        data,
        pos: 0,
        arena: Arena::new(data),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        allow,
        limits,
        nested: 0,
    };
    let root = vm.run()?;
    Ok((vm.arena, root))
}

impl<'a, 'p> Vm<'a, 'p> {
    fn err<T>(&self, offset: usize, message: impl Into<String>) -> Result<T, PickleError> {
        Err(PickleError {
            offset,
            message: message.into(),
        })
    }

    fn take(&mut self, n: usize, at: usize) -> Result<&'a [u8], PickleError> {
        match self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
        {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => self.err(
                at,
                format!(
                    "truncated: needs {n} more bytes, {} left",
                    self.data.len() - self.pos
                ),
            ),
        }
    }

    fn u8(&mut self, at: usize) -> Result<u8, PickleError> {
        Ok(self.take(1, at)?[0])
    }
    fn u16(&mut self, at: usize) -> Result<usize, PickleError> {
        let b = self.take(2, at)?;
        Ok(u16::from_le_bytes([b[0], b[1]]) as usize)
    }
    fn u32(&mut self, at: usize) -> Result<usize, PickleError> {
        let b = self.take(4, at)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn u64(&mut self, at: usize) -> Result<u64, PickleError> {
        let b = self.take(8, at)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    fn line(&mut self, at: usize) -> Result<&'a str, PickleError> {
        let rest = &self.data[self.pos..];
        let Some(n) = rest.iter().position(|&b| b == b'\n') else {
            return self.err(at, "truncated: missing end of line");
        };
        self.pos += n + 1;
        std::str::from_utf8(&rest[..n]).or_else(|_| self.err(at, "text argument is not UTF-8"))
    }

    fn push(&mut self, obj: Obj, at: usize) -> Result<Id, PickleError> {
        if self.arena.len() >= self.limits.max_objects {
            return self.err(at, format!("more than {} objects", self.limits.max_objects));
        }
        let id = self.arena.push(obj);
        self.stack.push(id);
        Ok(id)
    }

    fn pop(&mut self, at: usize) -> Result<Id, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.err(at, "stack underflow");
        }
        Ok(self.stack.pop().expect("checked above"))
    }

    fn top(&self, at: usize) -> Result<Id, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.err(at, "stack underflow");
        }
        Ok(*self.stack.last().expect("checked above"))
    }

    fn pop_mark(&mut self, at: usize) -> Result<Vec<Id>, PickleError> {
        let Some(mark) = self.marks.pop() else {
            return self.err(at, "no MARK on the stack");
        };
        Ok(self.stack.split_off(mark))
    }

    fn memo_put(&mut self, key: u64, at: usize) -> Result<(), PickleError> {
        let id = self.top(at)?;
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains_key(&key) {
            return self.err(
                at,
                format!("more than {} memo entries", self.limits.max_memo),
            );
        }
        self.memo.insert(key, id);
        Ok(())
    }

    fn memo_get(&mut self, key: u64, at: usize) -> Result<(), PickleError> {
        match self.memo.get(&key) {
            Some(&id) => {
                self.stack.push(id);
                Ok(())
            }
            None => self.err(at, format!("memo key {key} was never stored")),
        }
    }

    fn string(&self, bytes: &[u8], at: usize) -> Result<String, PickleError> {
        String::from_utf8(bytes.to_vec()).or_else(|_| self.err(at, "string is not valid UTF-8"))
    }

    fn global(&mut self, module: String, name: String, at: usize) -> Result<(), PickleError> {
        let g = Global { module, name };
        if let Err(why) = (self.allow)(&g) {
            return self.err(at, format!("refusing global {g}: {why}"));
        }
        self.push(Obj::Global(g), at)?;
        Ok(())
    }

    fn callable(&self, id: Id, at: usize) -> Result<Global, PickleError> {
        match self.arena.get(id) {
            Obj::Global(g) => Ok(g.clone()),
            _ => self.err(at, "the callable of REDUCE/NEWOBJ is not a global"),
        }
    }

    fn tuple_items(&self, id: Id, at: usize) -> Result<Vec<Id>, PickleError> {
        match self.arena.get(id) {
            Obj::Tuple(items) => Ok(items.clone()),
            _ => self.err(at, "arguments are not a tuple"),
        }
    }

    /// REDUCE: nothing is called. `_codecs.encode(text, 'latin1')` and
    /// `bytes()`, which protocol 2 uses for bytes, are evaluated because
    /// they are pure data.
    fn reduce(&mut self, at: usize) -> Result<(), PickleError> {
        let args = self.pop(at)?;
        let func = self.pop(at)?;
        let class = self.callable(func, at)?;
        let args = self.tuple_items(args, at)?;
        if (class.is("__builtin__", "bytes") || class.is("builtins", "bytes")) && args.is_empty() {
            return self.push(Obj::Bytes(Vec::new()), at).map(|_| ());
        }
        if class.is("_codecs", "encode") {
            let bytes = match args.as_slice() {
                [text, enc] => match (self.arena.get(*text), self.arena.get(*enc)) {
                    (Obj::Str(t), Obj::Str(e)) if e == "latin1" || e == "latin-1" => t
                        .chars()
                        .map(|c| u8::try_from(c as u32).ok())
                        .collect::<Option<Vec<u8>>>(),
                    _ => None,
                },
                _ => None,
            };
            return match bytes {
                Some(b) => self.push(Obj::Bytes(b), at).map(|_| ()),
                None => self.err(
                    at,
                    "_codecs.encode is only accepted as (latin-1 text, 'latin1')",
                ),
            };
        }
        self.push(
            Obj::Instance {
                class,
                args,
                state: None,
                offset: at,
            },
            at,
        )?;
        Ok(())
    }

    fn build(&mut self, at: usize) -> Result<(), PickleError> {
        let state = self.pop(at)?;
        let target = self.top(at)?;
        let joblib_wrapper = match self.arena.get_mut(target) {
            Obj::Instance {
                class, state: s, ..
            } => {
                *s = Some(state);
                is_joblib_wrapper(class)
            }
            _ => return self.err(at, "BUILD on something that is not an object"),
        };
        if joblib_wrapper {
            let inline = self.joblib_block(state, at)?;
            // The wrapper on the stack becomes the array it describes.
            self.stack.pop();
            self.push(Obj::Inline(inline), at)?;
        }
        Ok(())
    }

    /// joblib's raw block right after a NumpyArrayWrapper's BUILD (§5b):
    /// `[L][L × 0xFF]` alignment padding when `numpy_array_alignment_bytes`
    /// is set, then the raw data; object arrays are a nested pickle instead.
    fn joblib_block(&mut self, state: Id, at: usize) -> Result<InlineArray, PickleError> {
        let dtype = self.arena.dict_get(state, "dtype");
        let is_object = dtype.is_some_and(|d| dtype_is_object(&self.arena, d));
        if is_object {
            if self.nested >= self.limits.max_nested {
                return self.err(at, "object arrays nested too deeply");
            }
            let saved = (
                std::mem::take(&mut self.stack),
                std::mem::take(&mut self.marks),
                std::mem::take(&mut self.memo),
            );
            self.nested += 1;
            let inner = self.run();
            self.nested -= 1;
            (self.stack, self.marks, self.memo) = saved;
            return Ok(InlineArray {
                wrapper_state: state,
                raw: None,
                object_array: Some(inner?),
            });
        }
        let aligned = self
            .arena
            .dict_get(state, "numpy_array_alignment_bytes")
            .is_some_and(|a| matches!(self.arena.get(a), Obj::Int(_)));
        if aligned {
            let at_pad = self.pos;
            let pad = self.u8(at_pad)? as usize;
            let padding = self.take(pad, at_pad)?;
            if pad == 0 || pad > 16 || padding.iter().any(|&b| b != 0xFF) {
                return self.err(at_pad, "joblib alignment padding is malformed");
            }
        }
        let nbytes = wrapper_nbytes(&self.arena, state).map_err(|m| PickleError {
            offset: at,
            message: m,
        })?;
        let start = self.pos;
        self.take(nbytes, start)?;
        let raw = start..self.pos;
        Ok(InlineArray {
            wrapper_state: state,
            raw: Some(raw),
            object_array: None,
        })
    }

    /// Runs opcodes up to STOP and returns the object it pops. Each opcode
    /// family has its own function below.
    fn run(&mut self) -> Result<Id, PickleError> {
        loop {
            let at = self.pos;
            let op = self.u8(at)?;
            match op {
                b'.' => return self.pop(at),
                0x80 | 0x95 | b'(' | b'0' | b'1' | b'2' | 0x98 => self.stack_op(op, at)?,
                b'N' | 0x88 | 0x89 | b'J' | b'K' | b'M' | b'I' | b'L' | 0x8a | 0x8b | b'F'
                | b'G' => self.number_op(op, at)?,
                b'X' | 0x8c | 0x8d | b'V' | b'T' | b'U' | b'B' | b'C' | 0x8e | 0x96 => {
                    self.text_op(op, at)?
                }
                b')'
                | b't'
                | 0x85..=0x87
                | b']'
                | 0x8f
                | b'l'
                | 0x91
                | b'a'
                | b'e'
                | 0x90
                | b'}'
                | b'd'
                | b's'
                | b'u' => self.container_op(op, at)?,
                b'g' | b'h' | b'j' | b'p' | b'q' | b'r' | 0x94 => self.memo_op(op, at)?,
                b'c' | 0x93 | b'R' | 0x81 | 0x92 | b'b' => self.object_op(op, at)?,
                other => self.unsupported(other, at)?,
            }
        }
    }

    /// Protocol, framing and stack opcodes (MARK, POP, DUP, READONLY_BUFFER).
    fn stack_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            0x80 => {
                let proto = self.u8(at)?;
                if proto > 5 {
                    return self.err(at, format!("unsupported pickle protocol {proto}"));
                }
            }
            // FRAME: a length hint; reading stays sequential.
            0x95 => {
                self.u64(at)?;
            }
            b'(' => self.marks.push(self.stack.len()),
            b'0' => {
                self.pop(at)?;
            }
            b'1' => {
                self.pop_mark(at)?;
            }
            b'2' => {
                let id = self.top(at)?;
                self.stack.push(id);
            }
            // READONLY_BUFFER: a flag on the buffer below; data unchanged.
            0x98 => {
                self.top(at)?;
            }
            other => return self.unsupported(other, at),
        }
        Ok(())
    }

    /// None, booleans, integers and floats.
    fn number_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            b'N' => {
                self.push(Obj::None, at)?;
            }
            0x88 => {
                self.push(Obj::Bool(true), at)?;
            }
            0x89 => {
                self.push(Obj::Bool(false), at)?;
            }
            b'J' => {
                let b = self.take(4, at)?;
                let v = i32::from_le_bytes(b.try_into().expect("4 bytes"));
                self.push(Obj::Int(v as i64), at)?;
            }
            b'K' => {
                let v = self.u8(at)?;
                self.push(Obj::Int(v as i64), at)?;
            }
            b'M' => {
                let v = self.u16(at)?;
                self.push(Obj::Int(v as i64), at)?;
            }
            b'I' => {
                let text = self.line(at)?;
                let obj = match text {
                    "00" => Obj::Bool(false),
                    "01" => Obj::Bool(true),
                    t => Obj::Int(
                        t.trim()
                            .parse()
                            .or_else(|_| self.err(at, format!("bad INT '{t}'")))?,
                    ),
                };
                self.push(obj, at)?;
            }
            b'L' => {
                let text = self.line(at)?.trim_end_matches('L');
                let v = text
                    .parse()
                    .or_else(|_| self.err(at, format!("integer '{text}' does not fit 64 bits")))?;
                self.push(Obj::Int(v), at)?;
            }
            0x8a | 0x8b => {
                let n = if op == 0x8a {
                    self.u8(at)? as usize
                } else {
                    self.u32(at)?
                };
                if n > 8 {
                    return self.err(at, format!("a {n}-byte integer does not fit 64 bits"));
                }
                let b = self.take(n, at)?;
                let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) {
                    [0xFF; 8]
                } else {
                    [0; 8]
                };
                buf[..n].copy_from_slice(b);
                self.push(Obj::Int(i64::from_le_bytes(buf)), at)?;
            }
            b'F' => {
                let text = self.line(at)?;
                let v = text
                    .trim()
                    .parse()
                    .or_else(|_| self.err(at, format!("bad FLOAT '{text}'")))?;
                self.push(Obj::Float(v), at)?;
            }
            b'G' => {
                let b = self.take(8, at)?;
                self.push(
                    Obj::Float(f64::from_be_bytes(b.try_into().expect("8 bytes"))),
                    at,
                )?;
            }
            other => return self.unsupported(other, at),
        }
        Ok(())
    }

    /// Strings and bytes.
    fn text_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            b'X' | 0x8c | 0x8d => {
                let n = match op {
                    0x8c => self.u8(at)? as usize,
                    b'X' => self.u32(at)?,
                    _ => usize::try_from(self.u64(at)?).unwrap_or(usize::MAX),
                };
                let bytes = self.take(n, at)?;
                let s = self.string(bytes, at)?;
                self.push(Obj::Str(s), at)?;
            }
            b'V' => {
                // Protocol 0 unicode: raw-unicode-escape; plain ASCII is enough here.
                let s = self.line(at)?.to_string();
                self.push(Obj::Str(s), at)?;
            }
            b'T' | b'U' => {
                // Python 2 str: keep as text when it is UTF-8, else bytes.
                let n = if op == b'U' {
                    self.u8(at)? as usize
                } else {
                    self.u32(at)?
                };
                let bytes = self.take(n, at)?;
                let obj = match std::str::from_utf8(bytes) {
                    Ok(s) => Obj::Str(s.to_string()),
                    Err(_) => Obj::Bytes(bytes.to_vec()),
                };
                self.push(obj, at)?;
            }
            b'B' | b'C' | 0x8e | 0x96 => {
                let n = match op {
                    b'C' => self.u8(at)? as usize,
                    b'B' => self.u32(at)?,
                    _ => usize::try_from(self.u64(at)?).unwrap_or(usize::MAX),
                };
                let start = self.pos;
                self.take(n, at)?;
                self.push(Obj::StreamBytes(start..self.pos), at)?;
            }
            other => return self.unsupported(other, at),
        }
        Ok(())
    }

    /// Tuples, lists and dicts, and adding to them.
    fn container_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            b')' => {
                self.push(Obj::Tuple(Vec::new()), at)?;
            }
            b't' => {
                let items = self.pop_mark(at)?;
                self.push(Obj::Tuple(items), at)?;
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop(at)?);
                }
                items.reverse();
                self.push(Obj::Tuple(items), at)?;
            }
            b']' | 0x8f => {
                self.push(Obj::List(Vec::new()), at)?;
            }
            b'l' | 0x91 => {
                let items = self.pop_mark(at)?;
                self.push(Obj::List(items), at)?;
            }
            b'a' => {
                let item = self.pop(at)?;
                let list = self.top(at)?;
                self.extend(list, vec![item], at)?;
            }
            b'e' | 0x90 => {
                let items = self.pop_mark(at)?;
                let list = self.top(at)?;
                self.extend(list, items, at)?;
            }
            b'}' => {
                self.push(Obj::Dict(Vec::new()), at)?;
            }
            b'd' => {
                let items = self.pop_mark(at)?;
                let pairs = self.pairs(items, at)?;
                self.push(Obj::Dict(pairs), at)?;
            }
            b's' => {
                let value = self.pop(at)?;
                let key = self.pop(at)?;
                let dict = self.top(at)?;
                self.set_items(dict, vec![(key, value)], at)?;
            }
            b'u' => {
                let items = self.pop_mark(at)?;
                let pairs = self.pairs(items, at)?;
                let dict = self.top(at)?;
                self.set_items(dict, pairs, at)?;
            }
            other => return self.unsupported(other, at),
        }
        Ok(())
    }

    /// The memo: GET and PUT in their forms, MEMOIZE.
    fn memo_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            b'g' => {
                let key = self
                    .line(at)?
                    .trim()
                    .parse()
                    .or_else(|_| self.err(at, "bad GET key"))?;
                self.memo_get(key, at)?;
            }
            b'h' => {
                let key = self.u8(at)? as u64;
                self.memo_get(key, at)?;
            }
            b'j' => {
                let key = self.u32(at)? as u64;
                self.memo_get(key, at)?;
            }
            b'p' => {
                let key = self
                    .line(at)?
                    .trim()
                    .parse()
                    .or_else(|_| self.err(at, "bad PUT key"))?;
                self.memo_put(key, at)?;
            }
            b'q' => {
                let key = self.u8(at)? as u64;
                self.memo_put(key, at)?;
            }
            b'r' => {
                let key = self.u32(at)? as u64;
                self.memo_put(key, at)?;
            }
            0x94 => {
                let key = self.memo.len() as u64;
                self.memo_put(key, at)?;
            }
            other => return self.unsupported(other, at),
        }
        Ok(())
    }

    /// Globals, REDUCE, NEWOBJ(_EX) and BUILD: objects recorded, never called.
    fn object_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            b'c' => {
                let module = self.line(at)?.to_string();
                let name = self.line(at)?.to_string();
                self.global(module, name, at)?;
            }
            0x93 => {
                let name = self.pop(at)?;
                let module = self.pop(at)?;
                let (Obj::Str(module), Obj::Str(name)) =
                    (self.arena.get(module).clone(), self.arena.get(name).clone())
                else {
                    return self.err(at, "STACK_GLOBAL needs two strings");
                };
                self.global(module, name, at)?;
            }
            b'R' => self.reduce(at)?,
            0x81 => {
                let args = self.pop(at)?;
                let cls = self.pop(at)?;
                let class = self.callable(cls, at)?;
                let args = self.tuple_items(args, at)?;
                self.push(
                    Obj::Instance {
                        class,
                        args,
                        state: None,
                        offset: at,
                    },
                    at,
                )?;
            }
            0x92 => {
                let _kwargs = self.pop(at)?;
                let args = self.pop(at)?;
                let cls = self.pop(at)?;
                let class = self.callable(cls, at)?;
                let args = self.tuple_items(args, at)?;
                self.push(
                    Obj::Instance {
                        class,
                        args,
                        state: None,
                        offset: at,
                    },
                    at,
                )?;
            }
            b'b' => self.build(at)?,
            other => return self.unsupported(other, at),
        }
        Ok(())
    }

    /// Opcodes this VM refuses, with the reason.
    fn unsupported(&self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            b'P' | b'Q' => self.err(at, "persistent IDs (PERSID) are not supported"),
            0x82..=0x84 => self.err(at, "extension registry codes (EXT1/2/4) are not supported"),
            0x97 => self.err(at, "out-of-band buffers (NEXT_BUFFER) are not supported"),
            b'i' | b'o' => self.err(
                at,
                "protocol 0/1 instance opcodes (INST/OBJ) are not supported",
            ),
            other => self.err(at, format!("unknown opcode 0x{other:02x}")),
        }
    }

    fn pairs(&self, items: Vec<Id>, at: usize) -> Result<Vec<(Id, Id)>, PickleError> {
        if !items.len().is_multiple_of(2) {
            return self.err(at, "odd number of items for a dict");
        }
        Ok(items.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    }

    fn extend(&mut self, list: Id, items: Vec<Id>, at: usize) -> Result<(), PickleError> {
        match self.arena.get_mut(list) {
            Obj::List(v) => {
                v.extend(items);
                Ok(())
            }
            _ => self.err(at, "APPEND to something that is not a list"),
        }
    }

    fn set_items(&mut self, dict: Id, pairs: Vec<(Id, Id)>, at: usize) -> Result<(), PickleError> {
        // Appended in order; lookups take the last match, as a Python dict
        // keeps the last value for a repeated key.
        match self.arena.get_mut(dict) {
            Obj::Dict(items) => {
                items.extend(pairs);
                Ok(())
            }
            _ => self.err(at, "SETITEM on something that is not a dict"),
        }
    }
}
