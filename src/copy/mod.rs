//! The cross-account copy engine (`ferry copy` / `ferry sync`).
//!
//! Built so far: the pure core — locations ([`url`]), multipart part planning ([`parts`]) and
//! the sync plan, a merge join of two sorted listings ([`plan`]). The workers, credentials and
//! commands build on these.

pub mod parts;
pub mod plan;
pub mod url;
