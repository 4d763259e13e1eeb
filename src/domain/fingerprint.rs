//! Fingerprints: the SHA-256 of a value's JSON, to tell whether two pushes
//! (or two requests) say the same thing. Computed from the values as read
//! and validated, not from the bytes sent, so spacing, key order and
//! unknown keys do not count.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Fingerprint = [u8; 32];

/// The fingerprint of `value`'s JSON, fields in declaration order.
pub fn fingerprint(value: &impl Serialize) -> Fingerprint {
    // The domain's types are plain structs of strings, numbers and lists,
    // which always serialize; the fallback only keeps this total.
    let json = serde_json::to_vec(value)
        .unwrap_or_else(|err| format!("unserializable value: {err}").into_bytes());
    Sha256::digest(json).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Shape {
        name: &'static str,
        count: u32,
    }

    #[test]
    fn equal_values_share_a_fingerprint_and_others_do_not() {
        let a = fingerprint(&Shape {
            name: "a",
            count: 1,
        });
        assert_eq!(
            a,
            fingerprint(&Shape {
                name: "a",
                count: 1
            })
        );
        assert_ne!(
            a,
            fingerprint(&Shape {
                name: "a",
                count: 2
            })
        );
        assert_ne!(
            a,
            fingerprint(&Shape {
                name: "b",
                count: 1
            })
        );
    }
}
