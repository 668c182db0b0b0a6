//! One policy against one request: which statements apply, and how the principal was matched.
//!
//! This is the per-policy step; combining the outcomes of identity, session, boundary and
//! resource policies is [`super::authorize`]'s job.

use super::context::{Context, Principal, PrincipalKind};
use super::model::{Effect, Policy, PrincipalEntry, PrincipalSpec, Statement};
use super::pattern::NoVars;
use crate::types::AccountId;

/// The request as the policy language sees it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    /// `service:Action`, in any case (`s3:GetObject`).
    pub action: &'a str,
    /// The resource ARN (`arn:aws:s3:::bucket/key`), or `*` for actions without a resource.
    pub resource: &'a str,
    /// The account that owns the resource; `None` means the principal's own account.
    pub resource_account: Option<AccountId>,
    pub context: &'a Context,
}

/// How a resource policy's `Principal` matched the caller; decides which implicit denies
/// (session policy, permissions boundary, missing identity policy) still bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Grant {
    /// The whole account was named (ID, root ARN, canonical user): the grant is delegated to
    /// the account's IAM policies.
    Account,
    /// The role ARN was named: sessions get it, within their session policy and boundary.
    Role,
    /// The caller itself was named (user ARN, session ARN, `*`, service), or `NotPrincipal`
    /// left it out: granted directly.
    Direct,
    /// The statement has no `Principal` (identity-based policies).
    Identity,
}

/// One statement that applied to the request.
#[derive(Clone, Copy, Debug)]
pub struct Matched<'a> {
    pub statement: &'a Statement,
    pub grant: Grant,
}

/// Every applying statement of `policy`, in order.
pub fn applicable<'a, 'r>(
    policy: &'a Policy,
    req: &Request<'r>,
) -> impl Iterator<Item = Matched<'a>> + use<'a, 'r> {
    let req = *req;
    policy.statements.iter().filter_map(move |st| {
        statement_applies(st, &req).map(|grant| Matched {
            statement: st,
            grant,
        })
    })
}

/// Whether the policy has an applying statement with `effect`.
pub fn has(policy: &Policy, req: &Request<'_>, effect: Effect) -> bool {
    policy
        .statements
        .iter()
        .any(|st| st.effect == effect && statement_applies(st, req).is_some())
}

/// `Some(grant)` if the statement applies to the request.
pub fn statement_applies(st: &Statement, req: &Request<'_>) -> Option<Grant> {
    // Cheapest and most selective first: action, then resource, then principal, then conditions.
    let action_hit = st
        .action
        .patterns
        .iter()
        .any(|p| p.matches_ignore_case(req.action, &NoVars));
    if action_hit == st.action.negated {
        return None;
    }
    if let Some(res) = &st.resource {
        let hit = res
            .patterns
            .iter()
            .any(|p| p.matches(req.resource, req.context));
        if hit == res.negated {
            return None;
        }
    }
    let grant = match &st.principal {
        None => Grant::Identity,
        Some(spec) => principal_matches(spec, req.principal)?,
    };
    if st.conditions.iter().all(|c| c.eval(req.context)) {
        Some(grant)
    } else {
        None
    }
}

fn principal_matches(spec: &PrincipalSpec, p: &Principal) -> Option<Grant> {
    if spec.negated {
        // `NotPrincipal` leaves a caller out only if every identity in its chain is listed:
        // the account, then the role, then the session (AWS evaluates each of them).
        let listed = |id: &Identity<'_>| spec.entries.iter().any(|e| entry_is(e, id));
        let chain = identities(p);
        let excluded = spec.entries.contains(&PrincipalEntry::Anyone)
            || (!chain.is_empty() && chain.iter().all(listed));
        return (!excluded).then_some(Grant::Direct);
    }
    spec.entries.iter().filter_map(|e| entry_grant(e, p)).max()
}

/// The grant a single principal entry gives the caller, if it names it.
fn entry_grant(e: &PrincipalEntry, p: &Principal) -> Option<Grant> {
    match e {
        PrincipalEntry::Anyone => Some(Grant::Direct),
        PrincipalEntry::Account(id) => (p.account == Some(*id)).then_some(Grant::Account),
        PrincipalEntry::CanonicalUser(c) => (p.kind != PrincipalKind::Anonymous
            && p.canonical_id.as_deref() == Some(c.as_str()))
        .then_some(Grant::Account),
        PrincipalEntry::User(arn) => {
            (p.kind == PrincipalKind::User && p.arn == *arn).then_some(Grant::Direct)
        }
        PrincipalEntry::Role(arn) => {
            (p.role_arn.as_deref() == Some(arn.as_str())).then_some(Grant::Role)
        }
        PrincipalEntry::AssumedRole(arn) => {
            (p.kind == PrincipalKind::AssumedRole && p.arn == *arn).then_some(Grant::Direct)
        }
        PrincipalEntry::FederatedUser(arn) => {
            (p.kind == PrincipalKind::FederatedUser && p.arn == *arn).then_some(Grant::Direct)
        }
        PrincipalEntry::OtherArn(arn) => {
            (!p.arn.is_empty() && p.arn == *arn).then_some(Grant::Direct)
        }
        PrincipalEntry::Service(s) => {
            matches!(&p.kind, PrincipalKind::Service(n) if n == s).then_some(Grant::Direct)
        }
        PrincipalEntry::Federated(_) => None,
    }
}

/// One link of a caller's identity chain, for `NotPrincipal`.
enum Identity<'a> {
    Account(AccountId),
    Arn(&'a str),
    Service(&'a str),
}

fn identities(p: &Principal) -> Vec<Identity<'_>> {
    let mut out = Vec::with_capacity(3);
    if let PrincipalKind::Service(s) = &p.kind {
        out.push(Identity::Service(s));
        return out;
    }
    if let Some(a) = p.account {
        out.push(Identity::Account(a));
    }
    if let Some(r) = &p.role_arn {
        out.push(Identity::Arn(r));
    }
    if p.kind != PrincipalKind::Root && !p.arn.is_empty() {
        out.push(Identity::Arn(&p.arn));
    }
    out
}

fn entry_is(e: &PrincipalEntry, id: &Identity<'_>) -> bool {
    match (e, id) {
        (PrincipalEntry::Account(a), Identity::Account(b)) => a == b,
        (
            PrincipalEntry::User(x)
            | PrincipalEntry::Role(x)
            | PrincipalEntry::AssumedRole(x)
            | PrincipalEntry::FederatedUser(x)
            | PrincipalEntry::OtherArn(x),
            Identity::Arn(y),
        ) => x == y,
        (PrincipalEntry::Service(x), Identity::Service(y)) => x == y,
        _ => false,
    }
}
