//! The cross-account copy engine (`ferry copy` / `ferry sync`).
//!
//! - pure core: locations ([`url`]), filters ([`filter`]), multipart part planning
//!   ([`parts`]), the sync plan as a merge join of two sorted listings ([`plan`]), checksums
//!   ([`checksum`]) and the adaptive in-flight limit ([`limiter`]);
//! - I/O: one client per side with its own identity ([`clients`]), listings of S3 prefixes
//!   and local folders ([`listing`]), large listings cut into ranges listed side by side
//!   ([`ranges`]), and the job ([`engine`]): preflight, data-path choice,
//!   planning, concurrent single and multipart transfers with retries, verification.

pub mod checksum;
pub mod clients;
pub mod direct;
pub mod engine;
pub mod filter;
pub mod limiter;
pub mod listing;
pub mod parts;
pub mod plan;
pub mod ranges;
pub mod url;
