//! Opcodes that build tuples, lists and dicts and add to them.

use super::{Id, Obj, PickleError, Vm};

impl<'a, 'p> Vm<'a, 'p> {
    /// Tuples, lists and dicts, and adding to them.
    pub(super) fn container_op(&mut self, op: u8, at: usize) -> Result<(), PickleError> {
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
            // A list subclass outside the allowlist: its items are not kept.
            Obj::Placeholder(_) => Ok(()),
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
            // A dict subclass outside the allowlist: its items are not kept.
            Obj::Placeholder(_) => Ok(()),
            _ => self.err(at, "SETITEM on something that is not a dict"),
        }
    }
}
