//! ferry: move data and prove permissions between AWS accounts.
//!
//! # Layout
//! - [`types`]: validated identifiers (account IDs, ARNs).
//! - [`policy`]: the IAM policy language and AWS's evaluation logic; pure, no I/O.
//! - [`placeholders`]: `${A}`-style placeholders in scenario files and features.
//! - [`emu`]: the multi-account AWS emulator (S3 on `s3s`, STS, IAM) with AWS's authorization.
//! - [`copy`]: the cross-account copy engine (so far its pure core: locations, part plans, the sync plan).
//! - [`harness`]: `ferry check`: the cucumber World and step vocabulary that run `features/`
//!   against the emulator or real accounts through the aws-sdk clients.
//! - [`cli`]: command-line definitions and the commands behind them.
//!
//! Data flows one way: `types` → `policy` → (emulator, copy engine) → `cli`. See
//! `docs/DESIGN.md` for the intended map and what is built so far.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cli;
pub mod copy;
pub mod emu;
pub mod harness;
pub mod placeholders;
pub mod policy;
pub mod types;
