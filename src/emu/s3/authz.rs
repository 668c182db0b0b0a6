//! How S3 authorizes a request: the user, bucket and object contexts of the S3 user guide,
//! layered on [`crate::policy::authorize`], with ACLs, Object Ownership and Block Public Access.
//!
//! - Bucket operations (and writes, which S3 judges against the bucket): the caller's account
//!   must allow and the bucket owner must allow, through the bucket policy or the bucket ACL.
//! - Object operations: the object owner must allow. When the bucket owner owns the object the
//!   bucket policy can grant; otherwise only the object ACL grants, and the bucket policy
//!   counts only for explicit denies.
//! - An ACL grant stands in for the resource side only: an IAM principal still needs its own
//!   identity policy to allow (root users and anonymous callers have none to consult).

use s3s::{S3Error, S3ErrorCode};

use super::super::acl::{self, Acl, Grantee, Group, ObjectOwnership, Permission};
use super::super::state::{Bucket, Caller, PublicAccessBlock};
use super::super::{denial_message, Emulator, Verdict};
use crate::policy::{Context, Decision, Policy, PrincipalEntry, PrincipalKind};
use crate::types::AccountId;

/// What the request acts on, for choosing the context.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// The bucket itself, or a write into it (PutObject, DeleteObject): bucket policy + bucket ACL.
    Bucket,
    /// An existing object: owner-dependent, object ACL (`None`: the owner's FULL_CONTROL only).
    Object {
        owner: AccountId,
        acl: Option<&'a Acl>,
    },
}

/// An allow or the S3 error to answer with.
pub type Outcome = Result<Verdict, S3Error>;

/// AccessDenied with AWS's message (explanatory in the same account, terse across accounts).
pub fn access_denied(caller: &Caller, action: &str, resource: &str, verdict: &Verdict) -> S3Error {
    let msg = if verdict.cross_account || caller.principal.kind == PrincipalKind::Anonymous {
        "Access Denied".to_owned()
    } else {
        denial_message(caller, action, resource, verdict)
    };
    S3Error::with_message(S3ErrorCode::AccessDenied, msg)
}

fn without_public(acl: &Acl) -> Acl {
    Acl {
        owner: acl.owner,
        grants: acl
            .grants
            .iter()
            .filter(|g| {
                !matches!(
                    g.grantee,
                    Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
                )
            })
            .cloned()
            .collect(),
    }
}

/// Decides an S3 request.
#[allow(clippy::too_many_arguments)]
pub fn check(
    emu: &Emulator,
    caller: &Caller,
    ctx: &Context,
    action: &str,
    resource: &str,
    bucket: &Bucket,
    target: Target<'_>,
    perm: Permission,
) -> Outcome {
    let owner = bucket.owner;
    let pab = bucket.pab();
    let enforced = bucket.ownership() == ObjectOwnership::BucketOwnerEnforced;
    let (resource_owner, acl) = match target {
        Target::Bucket => (owner, Some(&bucket.acl)),
        // With ACLs disabled the bucket owner owns every object.
        Target::Object { .. } if enforced => (owner, Some(&bucket.acl)),
        Target::Object { owner: o, acl } => (o, acl),
    };
    let policy = bucket
        .policy
        .as_ref()
        .map(|p| ("bucket-policy", p.parsed.as_ref()));
    let policy = match (policy, pab.restrict_public_buckets) {
        // RestrictPublicBuckets: a public policy grants nothing to callers outside the
        // bucket owner's account (its denies still count).
        (Some((_, p)), true) if is_public_policy(p) && caller.account() != Some(owner) => {
            let v = emu.authorize(caller, action, resource, Some(owner), ctx, policy, false);
            if v.decision == Decision::ExplicitDeny {
                return Err(access_denied(caller, action, resource, &v));
            }
            None
        }
        (p, _) => p,
    };
    let verdict = emu.authorize(caller, action, resource, Some(owner), ctx, policy, false);
    match verdict.decision {
        Decision::ExplicitDeny => return Err(access_denied(caller, action, resource, &verdict)),
        Decision::Allow if resource_owner == owner => return Ok(verdict),
        _ => {}
    }
    // The ACL path (ACLs are ignored under BucketOwnerEnforced).
    if !enforced {
        let acl = match acl {
            None => super::super::state::owner_only_acl(resource_owner),
            Some(acl) if pab.ignore_public_acls => without_public(acl),
            Some(acl) => acl.clone(),
        };
        let canonical = caller.principal.canonical_id.as_deref();
        let owner_canonical = resource_owner.canonical_user_id();
        // The resource owner may always read and write the ACL, whatever it says.
        let owner_acp = canonical == Some(owner_canonical.as_str())
            && matches!(perm, Permission::ReadAcp | Permission::WriteAcp);
        if owner_acp || acl::grants(&acl, canonical, perm, &owner_canonical) {
            let identity_ok = match caller.principal.kind {
                PrincipalKind::Root | PrincipalKind::Anonymous | PrincipalKind::Service(_) => true,
                _ => emu
                    .authorize(caller, action, resource, caller.account(), ctx, None, false)
                    .allowed(),
            };
            if identity_ok {
                let which = if matches!(target, Target::Bucket) {
                    "bucket"
                } else {
                    "object"
                };
                let v = Verdict {
                    decision: Decision::Allow,
                    cross_account: verdict.cross_account,
                    because: String::new(),
                    explanation: if emu.options.explain || emu.options.record_decisions {
                        format!("allowed by the {which} ACL")
                    } else {
                        String::new()
                    },
                };
                emu.record(caller, action, resource, &v);
                return Ok(v);
            }
        }
    }
    // An object of another account: the bucket policy could not grant it.
    let mut v = verdict;
    if resource_owner != owner && v.decision == Decision::Allow {
        v.decision = Decision::ImplicitDeny;
        v.cross_account = caller.account() != Some(resource_owner);
        v.explanation = format!(
            "implicitly denied: the object belongs to account {resource_owner}, so only its ACL can grant access"
        );
    }
    if !enforced {
        let which = if matches!(target, Target::Bucket) {
            "bucket"
        } else {
            "object"
        };
        let mut acl_v = v.clone();
        acl_v.explanation = format!("{}; the {which} ACL grants nothing either", v.explanation);
        emu.record(caller, action, resource, &acl_v);
    }
    Err(access_denied(caller, action, resource, &v))
}

/// Keys whose fixed values make a `Principal: *` statement non-public (S3's "public" test).
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalarn",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Whether a bucket policy is public: an `Allow` to everyone without a condition that pins the
/// caller to fixed values.
pub fn is_public_policy(p: &Policy) -> bool {
    p.statements.iter().any(|st| {
        st.effect == crate::policy::Effect::Allow
            && st
                .principal
                .as_ref()
                .is_some_and(|spec| spec.negated || spec.entries.contains(&PrincipalEntry::Anyone))
            && !st
                .conditions
                .iter()
                .any(|c| RESTRICTING_KEYS.contains(&c.key_lc.as_str()) && !c.operator.op.negated())
    })
}

/// Block Public Access settings applied to a request that sets an ACL.
pub fn refuse_public_acl(pab: PublicAccessBlock, public: bool) -> Result<(), S3Error> {
    if pab.block_public_acls && public {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "Access Denied: Block Public Access (BlockPublicAcls) is on for this bucket",
        ));
    }
    Ok(())
}
