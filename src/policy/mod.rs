//! The IAM policy language: parsing and validation, matching, conditions, and AWS's evaluation
//! logic. Pure: no I/O, no async, no SDK types, so the emulator, `ferry explain`, the scenario
//! harness and the copy engine's preflight all decide alike.
//!
//! - [`parse()`] turns JSON into a validated [`Policy`] (or a [`PolicyError`] naming the
//!   statement and element);
//! - [`authorize()`] combines the policies that apply to a [`Request`] into a [`Response`]:
//!   `Allow`, `ExplicitDeny` or `ImplicitDeny`, with the deciding statements.

pub mod authorize;
pub mod condition;
pub mod context;
pub mod eval;
pub mod model;
pub mod parse;
pub mod pattern;

pub use authorize::{authorize, Deciding, Decision, Named, PolicySet, Reason, Response, Source};
pub use context::{Context, Principal, PrincipalKind, Value};
pub use eval::{Grant, Request};
pub use model::{Effect, Policy, PrincipalEntry, Statement, Version};
pub use parse::{parse, parse_value, PolicyError, PolicyKind};
