//! qlink-facade: one typed gRPC API over the qlink and Qianyi warehouse
//! protocols.
//!
//! Layout: `api` (gRPC handlers) → `domain` (the backend trait and types) →
//! `upstream` (one module per protocol). `simulator` is a warehouse speaking
//! both protocols, for demo mode and tests.

pub mod proto {
    //! Code generated from `proto/qlink/v1/*.proto`.
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("qlink.v1");

    /// The encoded file descriptor set that server reflection serves.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("qlink_descriptor");
}

pub mod admin;
pub mod api;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
mod debug;
pub mod demo;
pub mod domain;
pub mod listener;
pub mod metrics;
pub mod middleware;
pub mod probe;
pub mod push;
pub mod reload;
pub mod server;
pub mod simulator;
pub mod store;
pub mod telemetry;
pub mod tenant;
pub mod tls;
pub mod upstream;
pub mod writes;
