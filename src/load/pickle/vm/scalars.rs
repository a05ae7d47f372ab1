//! Opcodes that push plain values: protocol/framing and stack opcodes,
//! None, booleans, numbers, strings and bytes.

use super::{Obj, PickleError, Vm};

impl<'a, 'p> Vm<'a, 'p> {
    /// Protocol, framing and stack opcodes (MARK, POP, DUP, READONLY_BUFFER).
    pub(super) fn stack_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
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

    /// None, booleans and floats; integers go to [`Vm::int_op`].
    pub(super) fn number_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
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
            other => return self.int_op(other, at),
        }
        Ok(())
    }

    /// Integers in their binary, text and LONG forms (INT's "00"/"01" are
    /// protocol 0's booleans).
    fn int_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        match op {
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
            other => return self.unsupported(other, at),
        }
        Ok(())
    }

    /// Strings and bytes.
    pub(super) fn text_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
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

    fn string(&self, bytes: &[u8], at: usize) -> Result<String, PickleError> {
        String::from_utf8(bytes.to_vec()).or_else(|_| self.err(at, "string is not valid UTF-8"))
    }
}
