//! Opcodes that make objects and share them: GLOBAL, REDUCE, NEWOBJ(_EX),
//! BUILD (with joblib's inline array blocks) and the memo.

use super::{Global, Id, InlineArray, Obj, PickleError, Placeholder, Vm};
use crate::load::pickle::dtype::{dtype_is_object, wrapper_nbytes};

/// Whether a GLOBAL is joblib's array wrapper (raw data follows its BUILD).
fn is_joblib_wrapper(g: &Global) -> bool {
    g.is("joblib.numpy_pickle", "NumpyArrayWrapper")
}

/// The callable of a REDUCE or NEWOBJ.
enum Callee {
    Known(Global),
    Unknown(Placeholder),
}

impl<'a, 'p> Vm<'a, 'p> {
    /// The memo: GET and PUT in their forms, MEMOIZE.
    pub(super) fn memo_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
        let get = matches!(op, b'g' | b'h' | b'j');
        let key = match op {
            // GET and PUT: a decimal key on the rest of the line.
            b'g' | b'p' => self
                .line(at)?
                .trim()
                .parse()
                .or_else(|_| self.err(at, if get { "bad GET key" } else { "bad PUT key" }))?,
            b'h' | b'q' => self.u8(at)? as u64,
            b'j' | b'r' => self.u32(at)? as u64,
            // MEMOIZE: the next free key.
            0x94 => self.memo.len() as u64,
            other => return self.unsupported(other, at),
        };
        if get {
            self.memo_get(key, at)
        } else {
            self.memo_put(key, at)
        }
    }

    /// Globals, REDUCE, NEWOBJ(_EX) and BUILD: objects recorded, never called.
    pub(super) fn object_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
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
            // NEWOBJ (cls, args) and NEWOBJ_EX (cls, args, kwargs): the
            // instance is recorded with its arguments, never constructed.
            0x81 | 0x92 => {
                if op == 0x92 {
                    let _kwargs = self.pop(at)?;
                }
                let args = self.pop(at)?;
                let cls = self.pop(at)?;
                match self.callee(cls, at)? {
                    Callee::Known(class) => {
                        let args = self.tuple_items(args, at)?;
                        self.instance(class, args, at)?;
                    }
                    Callee::Unknown(p) => self.placeholder(p, at)?,
                }
            }
            b'b' => self.build(at)?,
            other => return self.unsupported(other, at),
        }
        Ok(())
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

    /// GLOBAL/STACK_GLOBAL: a known name is recorded, any other becomes a
    /// placeholder. Neither is imported.
    fn global(&mut self, module: String, name: String, at: usize) -> Result<(), PickleError> {
        let global = Global { module, name };
        let obj = if (self.known)(&global) {
            Obj::Global(global)
        } else {
            Obj::Placeholder(Placeholder {
                global: std::sync::Arc::new(global),
                offset: at,
            })
        };
        self.push(obj, at)?;
        Ok(())
    }

    /// What REDUCE/NEWOBJ would call: a known global or a placeholder.
    fn callee(&self, id: Id, at: usize) -> Result<Callee, PickleError> {
        match self.arena.get(id) {
            Obj::Global(g) => Ok(Callee::Known(g.clone())),
            Obj::Placeholder(p) => Ok(Callee::Unknown(p.clone())),
            _ => self.err(at, "the callable of REDUCE/NEWOBJ is not a global"),
        }
    }

    /// The items of an argument tuple, copied into an instance; the copies
    /// are counted against `max_objects`.
    fn tuple_items(&mut self, id: Id, at: usize) -> Result<Vec<Id>, PickleError> {
        let Obj::Tuple(items) = self.arena.get(id) else {
            return self.err(at, "arguments are not a tuple");
        };
        let total = self.copied_args.saturating_add(items.len());
        if total > self.limits.max_objects {
            return self.err(
                at,
                format!(
                    "more than {} argument references copied by REDUCE/NEWOBJ",
                    self.limits.max_objects
                ),
            );
        }
        self.copied_args = total;
        Ok(items.clone())
    }

    fn instance(&mut self, class: Global, args: Vec<Id>, at: usize) -> Result<(), PickleError> {
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

    /// The inert result of calling a placeholder: the same name, nothing
    /// else (its arguments stay unread in the arena).
    fn placeholder(&mut self, p: Placeholder, at: usize) -> Result<(), PickleError> {
        self.push(Obj::Placeholder(p), at)?;
        Ok(())
    }

    /// REDUCE: nothing is called. `_codecs.encode(text, 'latin1')` and
    /// `bytes()`, which protocol 2 uses for bytes, are evaluated because
    /// they are pure data.
    fn reduce(&mut self, at: usize) -> Result<(), PickleError> {
        let args = self.pop(at)?;
        let func = self.pop(at)?;
        let class = match self.callee(func, at)? {
            Callee::Known(class) => class,
            Callee::Unknown(p) => return self.placeholder(p, at),
        };
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
        self.instance(class, args, at)
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
            // A placeholder's state is never read: it is dropped.
            Obj::Placeholder(_) => false,
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
}
