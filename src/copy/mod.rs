//! The cross-account copy engine (`ferry copy` / `ferry sync`).
//!
//! - pure core: locations ([`url`]), multipart part planning ([`parts`]), the sync plan as a
//!   merge join of two sorted listings ([`plan`]);
//! - I/O: one client per side with its own identity ([`clients`]) and the S3-to-S3 copy job
//!   ([`engine`]): preflight, data-path choice, concurrent single and multipart copies.

pub mod clients;
pub mod engine;
pub mod parts;
pub mod plan;
pub mod url;
