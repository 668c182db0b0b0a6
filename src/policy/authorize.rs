//! AWS's combining logic: identity policies, session policies, permissions boundary and the
//! resource policy, for same-account and cross-account requests.
//!
//! Follows the IAM User Guide's *Policy evaluation logic* and *Cross-account policy evaluation
//! logic* (see `../shared/AWS-RULES.md`, rules 1–6):
//! 1. an explicit `Deny` in any applicable policy wins;
//! 2. an account's root user may act on its own account's resources;
//! 3. same account: an allow from the identity policies (within the session policy and
//!    boundary) or from the resource policy suffices; what the resource policy names decides
//!    which implicit denies still bind (user or session ARN: none; role ARN: session policy and
//!    boundary; the account: it only delegates to the identity policies);
//! 4. cross account: the caller's account (identity ∩ session ∩ boundary) **and** the
//!    resource policy must both allow.
//!
//! S3's ACLs and object ownership are the emulator's business; it calls this for each context.
//! The result is a value ([`Response`]), never an error: policies were validated when parsed.

use std::fmt;

use super::context::PrincipalKind;
use super::eval::{self, Grant, Request};
use super::model::{Effect, Policy};

/// A policy and the name callers know it by (`inline:read-bucket`, a managed policy ARN,
/// `bucket-policy`).
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    pub name: &'a str,
    pub policy: &'a Policy,
}

impl<'a> Named<'a> {
    pub fn new(name: &'a str, policy: &'a Policy) -> Named<'a> {
        Named { name, policy }
    }
}

/// The policies that apply to a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicySet<'a> {
    /// The principal's identity-based policies (inline and attached managed).
    pub identity: &'a [Named<'a>],
    /// Session policies passed to AssumeRole (inline and managed); `None` when there are none.
    /// When present, one of them must allow.
    pub session: Option<&'a [Named<'a>]>,
    /// The principal's permissions boundary, if it has one.
    pub boundary: Option<Named<'a>>,
    /// The resource-based policy (bucket policy, role trust policy), if any.
    pub resource: Option<Named<'a>>,
    /// The resource policy must allow even in the same account (role trust policies).
    pub resource_must_allow: bool,
}

/// Which kind of policy a statement came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Source {
    Identity,
    Session,
    Boundary,
    Resource,
}

impl Source {
    /// AWS's phrase for the policy type, as used in its denial messages.
    pub fn phrase(self) -> &'static str {
        match self {
            Source::Identity => "identity-based policy",
            Source::Session => "session policy",
            Source::Boundary => "permissions boundary",
            Source::Resource => "resource-based policy",
        }
    }
}

/// The outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// A statement that took part in the decision.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Deciding<'a> {
    pub source: Source,
    pub policy: &'a str,
    pub sid: Option<&'a str>,
    pub index: usize,
    pub effect: Effect,
    /// For resource policies: how the principal was matched.
    pub grant: Grant,
}

impl fmt::Display for Deciding<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        match self.sid.filter(|s| !s.is_empty()) {
            Some(sid) => write!(
                f,
                "{} `{}` statement `{sid}` ({effect})",
                self.source.phrase(),
                self.policy
            ),
            None => write!(
                f,
                "{} `{}` statement #{} ({effect})",
                self.source.phrase(),
                self.policy,
                self.index
            ),
        }
    }
}

/// Why the request was allowed or denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Reason {
    /// The root user acting on its own account's resources.
    RootOfOwnAccount,
    /// Allowed by the statements listed.
    Allowed,
    /// An explicit deny in a policy of this kind.
    ExplicitDeny(Source),
    /// No policy of this kind allowed (the first missing one, in AWS's order).
    NoAllow(Source),
}

/// The decision and what decided it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Response<'a> {
    pub decision: Decision,
    pub reason: Reason,
    /// The resource's account differs from the caller's.
    pub cross_account: bool,
    /// For `Allow`, the allowing statements that counted; for `ExplicitDeny`, the denying
    /// statements; for `ImplicitDeny`, any allowing statements that were not enough.
    pub statements: Vec<Deciding<'a>>,
}

impl Response<'_> {
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// The end of AWS's denial message: `because no identity-based policy allows the s3:GetObject
    /// action`, `with an explicit deny in a resource-based policy`. Empty when allowed.
    pub fn because(&self, action: &str) -> String {
        match self.reason {
            Reason::ExplicitDeny(s) => {
                let article = if s == Source::Identity { "an" } else { "a" };
                format!("with an explicit deny in {article} {}", s.phrase())
            }
            Reason::NoAllow(s) => format!("because no {} allows the {action} action", s.phrase()),
            Reason::Allowed | Reason::RootOfOwnAccount => String::new(),
        }
    }

    /// A one-line human explanation, naming statements.
    pub fn explain(&self) -> String {
        let list = |v: &[Deciding<'_>]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        match (self.decision, self.reason) {
            (Decision::Allow, Reason::RootOfOwnAccount) => {
                "allowed: the root user acts on its own account's resource and nothing denies it"
                    .to_owned()
            }
            (Decision::Allow, _) => format!("allowed by {}", list(&self.statements)),
            (Decision::ExplicitDeny, _) => {
                format!("explicitly denied by {}", list(&self.statements))
            }
            (Decision::ImplicitDeny, Reason::NoAllow(s)) => {
                let mut msg = format!("implicitly denied: no {} allows it", s.phrase());
                if !self.statements.is_empty() {
                    msg.push_str(&format!(
                        " (allowing but not enough: {})",
                        list(&self.statements)
                    ));
                }
                msg
            }
            (Decision::ImplicitDeny, _) => "implicitly denied: nothing allows it".to_owned(),
        }
    }
}

/// Collects applying statements of a group of policies.
fn collect<'a>(
    source: Source,
    policies: &[Named<'a>],
    req: &Request<'_>,
    allows: &mut Vec<Deciding<'a>>,
    denies: &mut Vec<Deciding<'a>>,
) {
    for named in policies {
        for m in eval::applicable(named.policy, req) {
            let d = Deciding {
                source,
                policy: named.name,
                sid: m.statement.sid.as_deref(),
                index: m.statement.index,
                effect: m.statement.effect,
                grant: m.grant,
            };
            match m.statement.effect {
                Effect::Allow => allows.push(d),
                Effect::Deny => denies.push(d),
            }
        }
    }
}

/// Decides a request.
pub fn authorize<'a>(req: &Request<'_>, set: &PolicySet<'a>) -> Response<'a> {
    let mut allows = Vec::new();
    let mut denies = Vec::new();
    collect(
        Source::Identity,
        set.identity,
        req,
        &mut allows,
        &mut denies,
    );
    if let Some(session) = set.session {
        collect(Source::Session, session, req, &mut allows, &mut denies);
    }
    if let Some(b) = set.boundary {
        collect(Source::Boundary, &[b], req, &mut allows, &mut denies);
    }
    if let Some(r) = set.resource {
        collect(Source::Resource, &[r], req, &mut allows, &mut denies);
    }

    let p = req.principal;
    let cross_account = match (p.account, req.resource_account) {
        (Some(a), Some(r)) => a != r,
        (None, _) => true,
        (Some(_), None) => false,
    };
    if let Some(first) = denies.first() {
        let source = first.source;
        return Response {
            decision: Decision::ExplicitDeny,
            reason: Reason::ExplicitDeny(source),
            cross_account,
            statements: denies,
        };
    }

    let from = |s: Source| allows.iter().any(|d| d.source == s);
    let identity_ok = from(Source::Identity);
    let session_ok = set.session.is_none() || from(Source::Session);
    let boundary_ok = set.boundary.is_none() || from(Source::Boundary);
    let grant = allows
        .iter()
        .filter(|d| d.source == Source::Resource && d.grant != Grant::Identity)
        .map(|d| d.grant)
        .max();

    // The identity side: root users and service principals have no IAM policies to consult.
    let (identity_side, missing) = match p.kind {
        PrincipalKind::Root => (true, None),
        PrincipalKind::Service(_) | PrincipalKind::Anonymous => (false, None),
        _ if !identity_ok => (false, Some(Source::Identity)),
        _ if !session_ok => (false, Some(Source::Session)),
        _ if !boundary_ok => (false, Some(Source::Boundary)),
        _ => (true, None),
    };

    let resource_ok = grant.is_some();
    let allowed = match p.kind {
        PrincipalKind::Anonymous | PrincipalKind::Service(_) => resource_ok,
        PrincipalKind::Root if !cross_account => !set.resource_must_allow || resource_ok,
        _ if cross_account => identity_side && resource_ok,
        _ => {
            let by_resource = match grant {
                Some(Grant::Direct) => true,
                Some(Grant::Role) => session_ok && boundary_ok,
                // Naming the account delegates to the identity policies.
                Some(Grant::Account | Grant::Identity) | None => false,
            };
            if set.resource_must_allow {
                resource_ok && (by_resource || identity_side)
            } else {
                by_resource || identity_side
            }
        }
    };

    if allowed {
        let reason = if p.kind == PrincipalKind::Root && !cross_account && allows.is_empty() {
            Reason::RootOfOwnAccount
        } else {
            Reason::Allowed
        };
        return Response {
            decision: Decision::Allow,
            reason,
            cross_account,
            statements: allows,
        };
    }

    let reason_source = match p.kind {
        PrincipalKind::Anonymous | PrincipalKind::Service(_) | PrincipalKind::Root => {
            Source::Resource
        }
        _ if cross_account && identity_side => Source::Resource,
        _ if set.resource_must_allow && !resource_ok && identity_side => Source::Resource,
        _ => missing.unwrap_or(Source::Resource),
    };
    Response {
        decision: Decision::ImplicitDeny,
        reason: Reason::NoAllow(reason_source),
        cross_account,
        statements: allows,
    }
}
