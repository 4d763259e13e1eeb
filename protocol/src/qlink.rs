//! Where qlink puts things: one REST path per operation under
//! [`PATH_PREFIX`], the exact body signed, credentials and the signature in
//! headers (and [`crate::WAREHOUSE_TYPE_HEADER`], [`crate::SECRET_HEADER`]).
//! HTTP header names are case-insensitive; they are written here
//! lowercase, as HTTP/2 sends them.

/// Every operation's path is `{base_url}{PATH_PREFIX}/{operation}`.
pub const PATH_PREFIX: &str = "/global-api/v1/warehouse";

/// `appKey`: the application key, also the key of the signature JSON.
pub const APP_KEY_HEADER: &str = "appkey";
/// `sign`: the signature of the body.
pub const SIGN_HEADER: &str = "sign";
/// `accessToken`.
pub const ACCESS_TOKEN_HEADER: &str = "accesstoken";
/// `refreshToken`.
pub const REFRESH_TOKEN_HEADER: &str = "refreshtoken";
/// `authInfo`: `[{"authInfoKey":…,"value":…}]`.
pub const AUTH_INFO_HEADER: &str = "authinfo";
/// `apiUrl`: the warehouse's own service domain.
pub const API_URL_HEADER: &str = "apiurl";
