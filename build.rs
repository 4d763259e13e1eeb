//! Compiles `proto/qlink/v1/*.proto` with protox (pure Rust, no system
//! `protoc`) and writes the file descriptor set that server reflection serves.

use std::{env, error::Error, fs, path::PathBuf};

const PROTO_FILES: &[&str] = &[
    "proto/qlink/v1/common.proto",
    "proto/qlink/v1/warehouse.proto",
    "proto/qlink/v1/order.proto",
    "proto/qlink/v1/asn.proto",
    "proto/qlink/v1/inventory.proto",
    "proto/qlink/v1/sku.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTO_FILES, ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("qlink_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // A request that is not protobuf is INVALID_ARGUMENT, not INTERNAL.
        .codec_path("crate::api::codec::RequestCodec")
        .compile_fds(descriptors)?;
    Ok(())
}
