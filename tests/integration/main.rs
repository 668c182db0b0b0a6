//! ferry's integration tests: one binary, one module per topic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod explain_cli;
mod policy_corpus;
mod policy_props;
