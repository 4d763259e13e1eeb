//! Caller tokens, held only as digests and compared in constant time.

/// A caller token, kept only as its SHA-256 digest: the process holds no
/// usable copy, and `token_sha256` lets the config file hold none either.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CallerToken([u8; 32]);

impl CallerToken {
    /// The token a caller sends (or `tokens` lists).
    pub fn of(token: &str) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(token.as_bytes()).into())
    }

    /// A `token_sha256` entry: 64 hex digits.
    pub fn from_hex(digest: &str) -> Option<Self> {
        let bytes = hex::decode(digest.trim()).ok()?;
        <[u8; 32]>::try_from(bytes.as_slice()).ok().map(Self)
    }

    /// Equal, in time that does not depend on where they differ.
    pub fn matches(&self, other: &Self) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
    }
}

impl std::fmt::Debug for CallerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallerToken([REDACTED])")
    }
}
