//! Compiles `proto/onnx.proto` (the project's own subset of the ONNX schema)
//! into Rust types with prost-build, fed by the pure-Rust `protox` compiler so
//! that a fresh machine needs no `protoc` binary.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Neither protox nor prost-build emit rerun-if-changed lines themselves.
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(["onnx.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
