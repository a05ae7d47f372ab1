//! Keras 3 `.keras` files.

pub(crate) mod zip;
