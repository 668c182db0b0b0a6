//! Fuzzes the IAM policy parser and, for every document it accepts, the evaluation logic.
//!
//! Input: arbitrary bytes, read as UTF-8 (invalid sequences replaced, as `from_utf8_lossy`
//! does). The text is parsed as every `PolicyKind`; nothing may panic. The first accepted
//! policy is then evaluated with `ferry::policy::authorize` as an identity policy, as a
//! resource policy, and in every slot at once (identity, session, boundary, resource with
//! `resource_must_allow`), for a fixed set of callers (root, an IAM user, a role session,
//! a cross-account user, a federated user, a service principal, anonymous, plus up to three
//! callers the policy's own `Principal` names), each with a rich and an empty condition
//! context, against fixed requests and requests built from the policy's own
//! `Action`/`Resource` text. Evaluation must never panic either, and its result must be
//! consistent with the statements it reports.

#![no_main]

use std::net::IpAddr;
use std::sync::OnceLock;

use ferry::policy::{
    authorize, Context, Decision, Effect, Named, Policy, PolicyKind, PolicySet, Principal,
    PrincipalEntry, Request, Value,
};
use ferry::types::AccountId;
use libfuzzer_sys::fuzz_target;

const KINDS: [PolicyKind; 10] = [
    PolicyKind::Bucket,
    PolicyKind::UserInline,
    PolicyKind::RoleInline,
    PolicyKind::GroupInline,
    PolicyKind::Managed,
    PolicyKind::Trust,
    PolicyKind::Session,
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Any,
];

const HOME: &str = "111122223333";
const OTHER: &str = "444455556666";
const CANONICAL: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

struct Caller {
    principal: Principal,
    /// `Context::for_principal` plus request keys of every value type.
    rich: Context,
    /// No keys at all (exercises `...IfExists`, `Null` and absent-key set operators).
    empty: Context,
}

fn account(s: &str) -> AccountId {
    s.parse().expect("fixed account ID")
}

fn rich_context(p: &Principal) -> Context {
    let ip = |s: &str| -> Value { Value::Ip(s.parse::<IpAddr>().expect("fixed IP")) };
    let mut c = Context::for_principal(p);
    c.set("aws:SourceIp", ip("203.0.113.7"))
        .set("aws:SecureTransport", true)
        .set("aws:MultiFactorAuthPresent", false)
        // 2026-11-22T00:00:00Z
        .set("aws:CurrentTime", Value::Date(1_795_305_600))
        .set("aws:EpochTime", Value::Num(1_795_305_600.0))
        .set("aws:SourceVpce", "vpce-1a2b3c4d")
        .set("aws:SourceAccount", HOME)
        .set("aws:SourceArn", "arn:aws:s3:::DOC-EXAMPLE-BUCKET")
        .set("aws:Referer", "https://www.example.com/ünïcödé/*?")
        .set("aws:RequestTag/Project", "ferry")
        .set("aws:ResourceTag/Department", "Engineering")
        .set("s3:prefix", "home/Bob/")
        .set("s3:max-keys", Value::Num(10.0))
        .set("s3:x-amz-server-side-encryption", "AES256")
        .set("s3:x-amz-acl", "bucket-owner-full-control")
        .set("sts:ExternalId", "Unique-ID-1234")
        .set(
            "kms:EncryptionContext/aws:s3:arn",
            Value::Bytes(vec![0, 159, 146, 150, 255]),
        )
        .set("sts:RoleSessionName", "s1");
    c.add("aws:TagKeys", "Project")
        .add("aws:TagKeys", "CostCenter")
        .add(
            "aws:PrincipalOrgPaths",
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
        );
    c.set_all(
        "aws:SourceIpList",
        vec![
            ip("10.0.0.1"),
            ip("2001:db8::1"),
            Value::Str("not-an-ip".into()),
        ],
    );
    c
}

fn callers() -> &'static [Caller] {
    static CALLERS: OnceLock<Vec<Caller>> = OnceLock::new();
    CALLERS.get_or_init(|| {
        let principals = vec![
            Principal::from_arn(&format!("arn:aws:iam::{HOME}:root"))
                .expect("root ARN")
                .with_canonical_id(CANONICAL),
            Principal::from_arn(&format!(
                "arn:aws:iam::{HOME}:user/division_abc/subdivision_xyz/Bob"
            ))
            .expect("user ARN")
            .with_tags(&[("Department", "Engineering"), ("Project", "ferry")]),
            Principal::role_session(account(HOME), "/team/", "reader", "AROAREADER", "s1")
                .with_tags(&[("Project", "ferry")]),
            Principal::from_arn(&format!("arn:aws:iam::{OTHER}:user/Alice"))
                .expect("cross-account user ARN"),
            Principal::from_arn(&format!("arn:aws:sts::{OTHER}:federated-user/carol"))
                .expect("federated user ARN"),
            Principal::service("s3.amazonaws.com"),
            Principal::from_arn("anonymous").expect("anonymous"),
        ];
        principals
            .into_iter()
            .map(|p| Caller {
                rich: rich_context(&p),
                empty: Context::new(),
                principal: p,
            })
            .collect()
    })
}

/// Checks what `authorize` reports against its own decision.
fn check(resp: &ferry::policy::Response<'_>, action: &str) {
    match resp.decision {
        Decision::ExplicitDeny => {
            assert!(
                !resp.statements.is_empty(),
                "explicit deny without a statement"
            );
            assert!(
                resp.statements.iter().all(|d| d.effect == Effect::Deny),
                "explicit deny lists an Allow statement"
            );
        }
        Decision::Allow | Decision::ImplicitDeny => {
            assert!(
                resp.statements.iter().all(|d| d.effect == Effect::Allow),
                "allowing statements include a Deny"
            );
        }
    }
    assert_eq!(resp.allowed(), resp.decision == Decision::Allow);
    let _ = resp.because(action);
    let _ = resp.explain();
    let _ = serde_json::to_string(resp);
}

/// Callers named by the policy itself (service principals, user, session and federated-user
/// ARNs), so that statements whose `Principal` names only them get their conditions
/// evaluated too. `Principal::from_arn` is fuzzed on the way; it may refuse an ARN.
fn named_callers(policy: &Policy) -> Vec<Caller> {
    let mut out = Vec::new();
    let entries = policy
        .statements
        .iter()
        .filter_map(|st| st.principal.as_ref())
        .flat_map(|spec| spec.entries.iter());
    for entry in entries {
        if out.len() >= 3 {
            break;
        }
        let principal = match entry {
            PrincipalEntry::Service(s) => Some(Principal::service(s)),
            PrincipalEntry::User(arn)
            | PrincipalEntry::AssumedRole(arn)
            | PrincipalEntry::FederatedUser(arn)
            | PrincipalEntry::OtherArn(arn) => Principal::from_arn(arn).ok(),
            _ => None,
        };
        if let Some(p) = principal {
            out.push(Caller {
                rich: rich_context(&p),
                empty: Context::new(),
                principal: p,
            });
        }
    }
    out
}

fn evaluate(policy: &Policy) {
    // Requests: fixed ones plus the first action and resource text of the first statements
    // (which may contain wildcards and `${...}`: matched as plain text here).
    let mut requests: Vec<(&str, &str)> = vec![
        (
            "s3:GetObject",
            "arn:aws:s3:::DOC-EXAMPLE-BUCKET/home/Bob/file.txt",
        ),
        (
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/team/reader",
        ),
        ("S3:LISTBUCKET", "*"),
    ];
    for st in policy.statements.iter().take(3) {
        let action = st
            .action
            .patterns
            .first()
            .map_or("s3:GetObject", |p| p.as_str());
        let resource = st
            .resource
            .as_ref()
            .and_then(|r| r.patterns.first())
            .map_or("*", |p| p.as_str());
        requests.push((action, resource));
    }
    let resource_accounts = [Some(account(HOME)), None, Some(account(OTHER))];

    let named = [Named::new("fuzzed", policy)];
    let sets = [
        PolicySet {
            identity: &named,
            ..PolicySet::default()
        },
        PolicySet {
            resource: Some(named[0]),
            ..PolicySet::default()
        },
        PolicySet {
            identity: &named,
            session: Some(&named),
            boundary: Some(named[0]),
            resource: Some(named[0]),
            resource_must_allow: true,
        },
    ];

    let derived = named_callers(policy);
    for caller in callers().iter().chain(derived.iter()) {
        for ctx in [&caller.rich, &caller.empty] {
            for (i, (action, resource)) in requests.iter().enumerate() {
                let req = Request {
                    principal: &caller.principal,
                    action,
                    resource,
                    resource_account: resource_accounts[i % resource_accounts.len()],
                    context: ctx,
                };
                for set in &sets {
                    let resp = authorize(&req, set);
                    check(&resp, action);
                }
            }
        }
    }
}

/// `FERRY_FUZZ_VERBOSE=1` prints each kind's verdict (to check what seeds reach).
fn verbose() -> bool {
    static VERBOSE: OnceLock<bool> = OnceLock::new();
    *VERBOSE.get_or_init(|| std::env::var_os("FERRY_FUZZ_VERBOSE").is_some())
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut accepted: Option<Policy> = None;
    for kind in KINDS {
        let result = ferry::policy::parse(&text, kind);
        if verbose() {
            match &result {
                Ok(p) => eprintln!("{kind:?}: ok, {} statement(s)", p.statements.len()),
                Err(e) => eprintln!("{kind:?}: {} (at `{}`)", e.message, e.pointer),
            }
        }
        match result {
            Ok(policy) => {
                assert!(
                    !policy.statements.is_empty(),
                    "accepted a policy without statements"
                );
                if accepted.is_none() {
                    accepted = Some(policy);
                }
            }
            Err(e) => {
                assert!(!e.message.is_empty(), "empty error message");
                let _ = e.to_string();
            }
        }
    }
    if let Some(policy) = accepted {
        for st in &policy.statements {
            let _ = st.label();
        }
        evaluate(&policy);
    }
});
