//! Keras 3 `.keras` files.

pub(crate) mod hdf5;
pub(crate) mod zip;
