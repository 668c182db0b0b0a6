//! Decisions per second of the policy engine on one core.
//!
//! (a) each seed walkthrough's policies (`scenarios/policies/`), one representative request;
//! (b) a 30-statement identity policy with conditions and `${aws:username}` variables against
//!     a cross-account bucket policy.
//!
//! Run: `cargo bench --bench policy` (results in docs/BENCHMARKS.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark setup"
)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferry::policy::{
    self, Context, Named, Policy, PolicyKind, PolicySet, Principal, Request, Value,
};
use ferry::types::AccountId;

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";

fn load(file: &str, kind: PolicyKind, bucket: &str) -> Policy {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/policies")
            .join(file),
    )
    .unwrap_or_else(|e| panic!("{file}: {e}"));
    let text = ferry::placeholders::substitute(&raw, |k| match k {
        "A" => Some(A.to_owned()),
        "B" => Some(B.to_owned()),
        "C" => Some(C.to_owned()),
        "bucket" => Some(bucket.to_owned()),
        "canonical:A" => A.parse::<AccountId>().ok().map(|a| a.canonical_user_id()),
        _ => None,
    });
    policy::parse(&text, kind).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn acct(s: &str) -> AccountId {
    s.parse().unwrap()
}

struct Case {
    name: &'static str,
    principal: Principal,
    action: &'static str,
    resource: String,
    resource_account: AccountId,
    context: Context,
    identity: Vec<(String, Policy)>,
    resource_policy: Option<(String, Policy)>,
    trust: bool,
    expect: policy::Decision,
}

fn seed_cases() -> Vec<Case> {
    let canon_a = acct(A).canonical_user_id();
    let mut out = Vec::new();

    // Seed 000 option 1: B's user downloads from A's bucket (identity + bucket policy).
    let p = Principal::from_arn(&format!("arn:aws:iam::{B}:user/AccountBUserName")).unwrap();
    out.push(Case {
        name: "seed000-option1 cross-account get",
        context: Context::for_principal(&p),
        principal: p,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::account-a-bucket/report.csv".into(),
        resource_account: acct(A),
        identity: vec![(
            "user".into(),
            load(
                "seed000-option1/user-policy.json",
                PolicyKind::UserInline,
                "account-a-bucket",
            ),
        )],
        resource_policy: Some((
            "bucket".into(),
            load(
                "seed000-option1/bucket-policy.json",
                PolicyKind::Bucket,
                "account-a-bucket",
            ),
        )),
        trust: false,
        expect: policy::Decision::Allow,
    });

    // Seed 000 option 2: the role session in A puts an object.
    let p = Principal::role_session(acct(A), "/", "AccountARole", "AROAEXAMPLE", "s1");
    out.push(Case {
        name: "seed000-option2 role session put",
        context: Context::for_principal(&p),
        principal: p,
        action: "s3:PutObject",
        resource: "arn:aws:s3:::account-a-bucket/new.csv".into(),
        resource_account: acct(A),
        identity: vec![(
            "role".into(),
            load(
                "seed000-option2/role-policy.json",
                PolicyKind::RoleInline,
                "account-a-bucket",
            ),
        )],
        resource_policy: None,
        trust: false,
        expect: policy::Decision::Allow,
    });

    // Seed 001: B's admin uploads with the required grant (condition evaluated).
    let p = Principal::from_arn(&format!("arn:aws:iam::{B}:user/AccountBadmin")).unwrap();
    let mut ctx = Context::for_principal(&p);
    ctx.set("s3:x-amz-grant-full-control", format!("id={canon_a}"));
    out.push(Case {
        name: "seed001 conditional cross-account put",
        context: ctx,
        principal: p,
        action: "s3:PutObject",
        resource: "arn:aws:s3:::doc-example-bucket1/HappyFace.jpg".into(),
        resource_account: acct(A),
        identity: vec![(
            "admin".into(),
            load(
                "seed001/administrator.json",
                PolicyKind::Managed,
                "doc-example-bucket1",
            ),
        )],
        resource_policy: Some((
            "bucket".into(),
            load(
                "seed001/bucket-policy.json",
                PolicyKind::Bucket,
                "doc-example-bucket1",
            ),
        )),
        trust: false,
        expect: policy::Decision::Allow,
    });

    // Seed 001: Dave assumes examplerole (trust naming account C + Dave's policy).
    let p = Principal::from_arn(&format!("arn:aws:iam::{C}:user/Dave")).unwrap();
    out.push(Case {
        name: "seed001 cross-account assume-role",
        context: Context::for_principal(&p),
        principal: p,
        action: "sts:AssumeRole",
        resource: format!("arn:aws:iam::{A}:role/examplerole"),
        resource_account: acct(A),
        identity: vec![(
            "dave".into(),
            load(
                "seed001/dave-assume.json",
                PolicyKind::UserInline,
                "doc-example-bucket1",
            ),
        )],
        resource_policy: Some((
            "trust".into(),
            load(
                "seed001/examplerole-trust.json",
                PolicyKind::Trust,
                "doc-example-bucket1",
            ),
        )),
        trust: true,
        expect: policy::Decision::Allow,
    });

    // Seed 002: B's role session lists A's bucket.
    let p = Principal::role_session(
        acct(B),
        "/",
        "AccountBDataAccessRole",
        "AROAEXAMPLE",
        "MySession",
    );
    out.push(Case {
        name: "seed002 read-only role list",
        context: Context::for_principal(&p),
        principal: p,
        action: "s3:ListBucket",
        resource: "arn:aws:s3:::account-a-data-bucket".into(),
        resource_account: acct(A),
        identity: vec![(
            "role".into(),
            load(
                "seed002/role-policy.json",
                PolicyKind::RoleInline,
                "account-a-data-bucket",
            ),
        )],
        resource_policy: Some((
            "bucket".into(),
            load(
                "seed002/bucket-policy.json",
                PolicyKind::Bucket,
                "account-a-data-bucket",
            ),
        )),
        trust: false,
        expect: policy::Decision::Allow,
    });

    // Seed 003: the upload-only role tries to download (denied).
    let p = Principal::role_session(
        acct(A),
        "/",
        "account-a-s3-role",
        "AROAEXAMPLE",
        "BenAWSCLI-Session",
    );
    out.push(Case {
        name: "seed003 upload-only get denied",
        context: Context::for_principal(&p),
        principal: p,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::account-b-bucket/foo/test.txt".into(),
        resource_account: acct(B),
        identity: vec![(
            "role".into(),
            load(
                "seed003/role-policy.json",
                PolicyKind::RoleInline,
                "account-b-bucket",
            ),
        )],
        resource_policy: Some((
            "bucket".into(),
            load(
                "seed003/bucket-policy.json",
                PolicyKind::Bucket,
                "account-b-bucket",
            ),
        )),
        trust: false,
        expect: policy::Decision::ImplicitDeny,
    });
    out
}

/// 30 statements: folder-per-user access with variables, conditions on prefixes, IPs, TLS,
/// tags and time, plus denies; the request matches the last allow statement.
fn big_case() -> Case {
    let mut statements = Vec::new();
    for i in 0..26 {
        statements.push(format!(
            r#"{{"Sid":"Team{i}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],
               "Resource":"arn:aws:s3:::bucket-{i}/home/${{aws:username}}/*",
               "Condition":{{"StringLike":{{"s3:prefix":["home/${{aws:username}}/*","shared/{i}/*"]}},
                            "IpAddress":{{"aws:SourceIp":["10.{i}.0.0/16","2001:db8:{i}::/48"]}},
                            "Bool":{{"aws:SecureTransport":"true"}}}}}}"#
        ));
    }
    statements.push(
        r#"{"Sid":"DenyInsecure","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#.into(),
    );
    statements.push(
        r#"{"Sid":"DenyOutsideHours","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2099-01-01T00:00:00Z"}}}"#.into(),
    );
    statements.push(
        r#"{"Sid":"DenyOtherTeams","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalTag/team":["data","platform"]}}}"#.into(),
    );
    statements.push(
        r#"{"Sid":"Mine","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::data/home/${aws:username}/*","arn:aws:s3:::data"],
            "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]},"IpAddress":{"aws:SourceIp":"192.0.2.0/24"},"NumericLessThanEquals":{"s3:max-keys":"1000"}}}"#.into(),
    );
    let identity = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    );
    let identity = policy::parse(&identity, PolicyKind::Identity).unwrap();
    assert_eq!(identity.statements.len(), 30);
    let bucket = policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"FromB","Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/home/*"}]}"#,
        PolicyKind::Bucket,
    )
    .unwrap();
    let p = Principal::user(acct(B), "/", "alice", "AIDAALICE").with_tags(&[("team", "data")]);
    let mut ctx = Context::for_principal(&p);
    ctx.set("aws:SecureTransport", true)
        .set("aws:SourceIp", Value::Ip("192.0.2.10".parse().unwrap()))
        .set("aws:CurrentTime", "2026-11-22T10:00:00Z")
        .set("s3:max-keys", "100")
        .set_all("aws:TagKeys", vec!["env".into(), "team".into()]);
    Case {
        name: "30 statements, conditions and variables, cross-account",
        context: ctx,
        principal: p,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::data/home/alice/report.csv".into(),
        resource_account: acct(A),
        identity: vec![("big".into(), identity)],
        resource_policy: Some(("bucket".into(), bucket)),
        trust: false,
        expect: policy::Decision::Allow,
    }
}

fn run(c: &mut Criterion, group: &str, cases: &[Case]) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    for case in cases {
        let identity: Vec<Named<'_>> = case
            .identity
            .iter()
            .map(|(n, p)| Named::new(n, p))
            .collect();
        let set = PolicySet {
            identity: &identity,
            session: None,
            boundary: None,
            resource: case.resource_policy.as_ref().map(|(n, p)| Named::new(n, p)),
            resource_must_allow: case.trust,
        };
        let req = Request {
            principal: &case.principal,
            action: case.action,
            resource: &case.resource,
            resource_account: Some(case.resource_account),
            context: &case.context,
        };
        assert_eq!(
            policy::authorize(&req, &set).decision,
            case.expect,
            "{}",
            case.name
        );
        g.bench_function(case.name, |b| {
            b.iter(|| black_box(policy::authorize(black_box(&req), black_box(&set)).decision))
        });
    }
    g.finish();
}

fn seeds(c: &mut Criterion) {
    run(c, "seed policies", &seed_cases());
}

fn big(c: &mut Criterion) {
    run(c, "30-statement policy", &[big_case()]);
}

criterion_group!(benches, seeds, big);
criterion_main!(benches);
