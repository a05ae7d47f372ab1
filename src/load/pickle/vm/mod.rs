//! A pickle virtual machine that builds a generic object tree and never
//! imports or calls anything (SVM_SEMANTICS.md §5a, §5b).
//!
//! Objects live in an arena and refer to each other by index, so shared
//! objects (memo references) see state set later by BUILD, exactly as in
//! CPython, cycles cannot leak or recurse, and dropping the tree never
//! recurses however deep a hostile file nests it.
//!
//! This file holds the VM's state, its byte and stack primitives and the
//! dispatch loop; each opcode family is in its own file: `scalars`
//! (protocol, stack, numbers, text), `containers` (tuples, lists, dicts)
//! and `objects` (globals, REDUCE, NEWOBJ, BUILD, the memo).

mod containers;
mod objects;
mod scalars;

pub use super::object::{Arena, Global, Id, InlineArray, Obj, Placeholder};
use std::collections::HashMap;

/// Why a pickle stream was refused, with the byte offset of the opcode.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("byte offset {offset}: {message}")]
pub struct PickleError {
    /// Byte offset of the opcode in the stream.
    pub offset: usize,
    /// Why the stream was refused.
    pub message: String,
}

/// Limits that keep a hostile file from exhausting memory or the stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Objects in the arena, and also argument references copied into
    /// instances by REDUCE/NEWOBJ.
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

/// Which GLOBALs are known: a known one is recorded as [`Obj::Global`] and
/// what is made from it as [`Obj::Instance`]; any other becomes an inert
/// [`Obj::Placeholder`] that keeps only its name. Either way nothing is
/// imported or called.
pub type Known<'p> = &'p dyn Fn(&Global) -> bool;

struct Vm<'a, 'p> {
    data: &'a [u8],
    pos: usize,
    arena: Arena<'a>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    known: Known<'p>,
    limits: Limits,
    nested: usize,
    /// How many out-of-band buffers there are, and how many NEXT_BUFFER took.
    buffers: usize,
    next_buffer: usize,
    /// Argument references copied into instances so far (bounded by
    /// `max_objects`, so one large tuple reused by many REDUCEs cannot
    /// multiply memory).
    copied_args: usize,
}

/// Runs a pickle stream to its STOP; returns the arena and the root object.
/// `joblib` enables NumpyArrayWrapper's inline raw blocks (§5b).
pub fn unpickle<'s>(
    data: &'s [u8],
    known: Known<'_>,
    limits: Limits,
) -> Result<(Arena<'s>, Id), PickleError> {
    unpickle_with_buffers(data, &[], known, limits)
}

/// [`unpickle`] with the out-of-band buffers of a protocol-5 stream made
/// with a `buffer_callback`: each NEXT_BUFFER takes the next one, in order,
/// as `pickle.loads(data, buffers=...)` does. They are only read as bytes.
pub fn unpickle_with_buffers<'s>(
    data: &'s [u8],
    buffers: &'s [&'s [u8]],
    known: Known<'_>,
    limits: Limits,
) -> Result<(Arena<'s>, Id), PickleError> {
    let mut vm = Vm {
        data,
        pos: 0,
        arena: Arena::new(data, buffers),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        known,
        limits,
        nested: 0,
        buffers: buffers.len(),
        next_buffer: 0,
        copied_args: 0,
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

    /// Runs opcodes up to STOP and returns the object it pops. Each opcode
    /// family has its own function in a sibling file.
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
                0x97 => self.next_buffer(at)?,
                other => self.unsupported(other, at)?,
            }
        }
    }

    /// NEXT_BUFFER: the next out-of-band buffer, as a bytes value.
    fn next_buffer(&mut self, at: usize) -> Result<(), PickleError> {
        if self.next_buffer >= self.buffers {
            return self.err(
                at,
                format!(
                    "NEXT_BUFFER: the stream needs more out-of-band buffers than the {} given",
                    self.buffers
                ),
            );
        }
        self.next_buffer += 1;
        self.push(Obj::OutOfBand(self.next_buffer - 1), at)
            .map(|_| ())
    }

    /// Opcodes this VM refuses, with the reason.
    fn unsupported(&self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
            b'P' | b'Q' => self.err(at, "persistent IDs (PERSID) are not supported"),
            0x82..=0x84 => self.err(at, "extension registry codes (EXT1/2/4) are not supported"),
            b'i' | b'o' => self.err(
                at,
                "protocol 0/1 instance opcodes (INST/OBJ) are not supported",
            ),
            other => self.err(at, format!("unknown opcode 0x{other:02x}")),
        }
    }
}
