//! ferry's integration tests: one binary, one module per topic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_walkthroughs;
mod copy_cli;
mod copy_sync;
mod emu_basics;
mod emu_iam;
mod emu_multipart;
mod emu_s3_authz;
mod emu_seed001;
mod emu_sts;
mod explain_cli;
mod policy_corpus;
mod policy_props;
mod support;
