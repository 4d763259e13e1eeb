//! The wire level of the two warehouse protocols, shared by the facade's
//! protocol clients and the warehouse simulator, so both sides agree on it
//! byte for byte:
//!
//! - [`sign`]: the signature both protocols use, a pure function of the
//!   credentials and the exact content bytes;
//! - [`envelope`]: the `{success, errorMsg | message, code, …}` envelope of
//!   every answer, read tolerantly;
//! - [`Operation`]: every operation with its name in each protocol and
//!   whether it only reads;
//! - [`qlink`] and [`qianyi`]: where each protocol puts credentials and
//!   signature (qlink's headers, Qianyi's signed request body);
//! - [`tolerant`]: reading JSON as warehouses really send it.
//!
//! It knows no domain types, no HTTP client and no gRPC: the crate boundary
//! keeps those on the facade's side.

pub mod envelope;
#[cfg(test)]
mod fuzz;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod operation;
pub mod qianyi;
pub mod qlink;
pub mod sign;
pub mod tolerant;

pub use envelope::{Envelope, Malformed};
pub use operation::{Access, Operation, Protocol};

// Header names are case-insensitive; they are written lowercase, as HTTP/2
// sends them.

/// `warehouseType` (both protocols), e.g. "LINGXING".
pub const WAREHOUSE_TYPE_HEADER: &str = "warehousetype";
/// `secret` (both protocols): the third-party warehouse's own secret or token.
pub const SECRET_HEADER: &str = "secret";
