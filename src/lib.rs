//! qlink-facade: one typed gRPC API over the qlink and Qianyi warehouse
//! protocols.

pub mod proto {
    //! Code generated from `proto/qlink/v1/*.proto`.
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("qlink.v1");

    /// The encoded file descriptor set that server reflection serves.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("qlink_descriptor");
}

pub mod domain;
pub mod upstream;
