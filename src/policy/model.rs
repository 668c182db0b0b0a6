//! The policy AST: what a validated policy document says, ready to evaluate.
//!
//! Values here are produced only by [`super::parse`], which validates as it builds, so every
//! pattern is compiled, every condition value typed and every principal classified. Evaluation
//! (`eval`, `authorize`) therefore cannot fail.

use super::condition::Condition;
use super::pattern::Pattern;
use crate::types::AccountId;

/// The policy language version (`Version`). 2008-10-17 (also the default when the element is
/// absent) has no policy variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V2008_10_17,
    V2012_10_17,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008_10_17 => "2008-10-17",
            Version::V2012_10_17 => "2012-10-17",
        }
    }
}

/// A parsed, validated policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement. `negated` flags stand for the `Not*` form of an element.
#[derive(Clone, Debug)]
pub struct Statement {
    /// Position in the `Statement` array (0-based).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalSpec>,
    pub action: ActionSpec,
    pub resource: Option<ResourceSpec>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// `Sid` if it has a non-empty one, else `#index`: how messages name the statement.
    pub fn label(&self) -> String {
        match self.sid.as_deref() {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => format!("#{}", self.index),
        }
    }
}

/// `Action` or `NotAction`: patterns matched case-insensitively.
#[derive(Clone, Debug)]
pub struct ActionSpec {
    pub negated: bool,
    pub patterns: Vec<Pattern>,
}

/// `Resource` or `NotResource`: patterns matched case-sensitively, with variables.
#[derive(Clone, Debug)]
pub struct ResourceSpec {
    pub negated: bool,
    pub patterns: Vec<Pattern>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Clone, Debug)]
pub struct PrincipalSpec {
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
}

/// One principal named in a policy, classified by what it grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, including anonymous callers.
    Anyone,
    /// An account ID or `arn:aws:iam::ID:root`: the whole account, delegated to its IAM policies.
    Account(AccountId),
    /// `arn:aws:iam::ID:user/...`.
    User(String),
    /// `arn:aws:iam::ID:role/...`: every session of that role.
    Role(String),
    /// `arn:aws:sts::ID:assumed-role/ROLE/SESSION`: that session only.
    AssumedRole(String),
    /// `arn:aws:sts::ID:federated-user/NAME`.
    FederatedUser(String),
    /// Any other IAM ARN accepted by AWS (for example groups are not principals, so this
    /// holds only ARNs the parser could not classify more precisely but accepted).
    OtherArn(String),
    /// `{"Service": "s3.amazonaws.com"}`.
    Service(String),
    /// `{"Federated": "cognito-identity.amazonaws.com"}` or a SAML/OIDC provider ARN.
    Federated(String),
    /// `{"CanonicalUser": "<64 hex>"}`: every principal of the account with that canonical ID.
    CanonicalUser(String),
}
