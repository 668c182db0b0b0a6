//! ferry's integration tests: one binary, one module per topic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod emu_basics;
mod emu_iam;
mod emu_seed001;
mod explain_cli;
mod policy_corpus;
mod policy_props;
mod support;
