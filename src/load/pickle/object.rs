//! The object model the pickle VM builds: objects in an [`Arena`], referring
//! to each other by [`Id`]. Shared by the VM, numpy decoding and the
//! scikit-learn mapping, and importing none of them.
//!
//! Objects live in an arena and refer to each other by index, so shared
//! objects (memo references) see state set later by BUILD, exactly as in
//! CPython, cycles cannot leak or recurse, and dropping the tree never
//! recurses however deep a hostile file nests it.

/// Index of an object in the [`Arena`].
pub type Id = usize;

/// A module-level name referenced by GLOBAL/STACK_GLOBAL. Never imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// The module path, e.g. `sklearn.svm._classes`.
    pub module: String,
    /// The name inside the module.
    pub name: String,
}

impl Global {
    /// Whether this is `module.name`.
    pub fn is(&self, module: &str, name: &str) -> bool {
        self.module == module && self.name == name
    }
}

impl std::fmt::Display for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// A global outside the allowlist, or anything the stream made from one
/// (REDUCE, NEWOBJ, BUILD, APPEND, SETITEM on it). Only its name is kept:
/// its arguments and state are dropped, so it has no fields to read, it
/// costs one arena slot however it is used, and nothing can mistake it for
/// the class it names. Reading one where a model is needed is an error that
/// names it (docs/SEMANTICS_ADDENDUM.md, "Unknown globals").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The module-level name, as the stream spelled it. Shared by every
    /// placeholder made from the same GLOBAL, so that calling one with a
    /// huge name many times copies no text.
    pub global: std::sync::Arc<Global>,
    /// Byte offset of the GLOBAL/STACK_GLOBAL opcode that named it.
    pub offset: usize,
}

impl std::fmt::Display for Placeholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, read as an inert placeholder at byte offset {}",
            self.global, self.offset
        )
    }
}

/// A raw array block that joblib writes after a NumpyArrayWrapper (§5b).
#[derive(Debug, Clone)]
pub struct InlineArray {
    /// The wrapper's state dict (shape, order, dtype, ...).
    pub wrapper_state: Id,
    /// Where the raw bytes lie in the stream ([`Arena::stream`]), or `None`
    /// for object arrays (see `object_array`). Not copied: big arrays are
    /// decoded straight from the file's bytes.
    pub raw: Option<std::ops::Range<usize>>,
    /// For object dtype: the array unpickled from the nested pickle.
    pub object_array: Option<Id>,
}

/// One unpickled object.
#[derive(Debug, Clone)]
pub enum Obj {
    /// Python's None.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer that fits 64 bits (wider ones are refused).
    Int(i64),
    /// A float.
    Float(f64),
    /// A text string.
    Str(String),
    /// A bytes value built by the VM (protocol 2's encoded bytes).
    Bytes(Vec<u8>),
    /// A bytes payload left where it lies in the stream (BINBYTES and
    /// friends): a plain pickle's array data is decoded from there, not
    /// copied first ([`Arena::bytes`] reads either kind).
    StreamBytes(std::ops::Range<usize>),
    /// Out-of-band buffer number `n` (NEXT_BUFFER, pickle protocol 5 with
    /// a `buffer_callback`): bytes the caller handed over beside the stream.
    OutOfBand(usize),
    /// A tuple.
    Tuple(Vec<Id>),
    /// Lists, sets and frozensets.
    List(Vec<Id>),
    /// A dict's (key, value) pairs in insertion order; a repeated key's
    /// last value wins.
    Dict(Vec<(Id, Id)>),
    /// A module-level name on the allowlist, recorded, never imported.
    Global(Global),
    /// A name outside the allowlist, or an object made from one.
    Placeholder(Placeholder),
    /// `cls(*args)` by REDUCE or NEWOBJ, never executed; BUILD sets `state`.
    Instance {
        /// The class (or function) named by the GLOBAL.
        class: Global,
        /// The arguments it would have been called with.
        args: Vec<Id>,
        /// The state BUILD would have set.
        state: Option<Id>,
        /// Byte offset of the REDUCE/NEWOBJ opcode.
        offset: usize,
    },
    /// A joblib array: the wrapper's state and where its data is.
    Inline(InlineArray),
}

/// All objects of one file, and the stream they were read from.
#[derive(Default)]
pub struct Arena<'s> {
    objs: Vec<Obj>,
    stream: &'s [u8],
    buffers: &'s [&'s [u8]],
    release: Option<&'s dyn Fn(std::ops::Range<usize>)>,
}

impl std::fmt::Debug for Arena<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena")
            .field("objs", &self.objs)
            .field("stream_len", &self.stream.len())
            .finish()
    }
}

impl<'s> Arena<'s> {
    /// An empty arena for the objects of `stream`.
    pub(super) fn new(stream: &'s [u8], buffers: &'s [&'s [u8]]) -> Self {
        Arena {
            objs: Vec::new(),
            stream,
            buffers,
            release: None,
        }
    }
    /// Who to tell when a raw block of the stream has been decoded (see
    /// `load::ModelFile`): a mapped file drops those pages.
    pub fn set_release(&mut self, release: Option<&'s dyn Fn(std::ops::Range<usize>)>) {
        self.release = release;
    }
    /// Says the raw block `range` of the stream has been decoded.
    pub fn release(&self, range: std::ops::Range<usize>) {
        if let Some(release) = self.release {
            release(range);
        }
    }
    /// The unpickled stream (joblib's raw blocks point into it).
    pub fn stream(&self) -> &'s [u8] {
        self.stream
    }
    /// The object at `id` (which must come from this arena).
    pub fn get(&self, id: Id) -> &Obj {
        &self.objs[id]
    }
    /// The content of a bytes object, `None` for anything else.
    pub fn bytes(&self, id: Id) -> Option<&[u8]> {
        match self.get(id) {
            Obj::Bytes(b) => Some(b),
            Obj::StreamBytes(r) => self.stream.get(r.clone()),
            Obj::OutOfBand(n) => self.buffers.get(*n).copied(),
            _ => None,
        }
    }
    /// The object at `id`, for the VM to fill in (BUILD, APPEND, SETITEM).
    pub(super) fn get_mut(&mut self, id: Id) -> &mut Obj {
        &mut self.objs[id]
    }
    /// Adds an object; its index is its [`Id`].
    pub(super) fn push(&mut self, obj: Obj) -> Id {
        self.objs.push(obj);
        self.objs.len() - 1
    }
    /// How many objects the arena holds.
    pub fn len(&self) -> usize {
        self.objs.len()
    }
    /// Whether the arena holds no object.
    pub fn is_empty(&self) -> bool {
        self.objs.is_empty()
    }
    /// Looks `key` up in a dict object (string keys).
    pub fn dict_get(&self, dict: Id, key: &str) -> Option<Id> {
        match self.get(dict) {
            Obj::Dict(items) => items
                .iter()
                .rev()
                .find(|(k, _)| matches!(self.get(*k), Obj::Str(s) if s == key))
                .map(|(_, v)| *v),
            _ => None,
        }
    }
}
