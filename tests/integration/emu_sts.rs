//! STS through the Rust SDK: who may assume which role (trust policies, identity policies,
//! `sts:ExternalId`), AssumeRole's parameter validation, session policies, caller identities,
//! GetSessionToken, and expired or tampered temporary credentials. Every rule is checked both
//! ways: the call AWS allows succeeds and the one it refuses fails with AWS's error.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sts::types::PolicyDescriptorType;
use ferry::emu::Options;

use crate::support::*;

const ALICE: (&str, &str) = (
    "AKIASTSTESTALICE0001",
    "stsTestSecretOfAlice00000000000000000001",
);
const BOB: (&str, &str) = (
    "AKIASTSTESTBOBBY0001",
    "stsTestSecretOfBob0000000000000000000001",
);
const DENIED: (&str, &str) = (
    "AKIASTSTESTDENIED001",
    "stsTestSecretOfDenied000000000000000001",
);
const ADMIN: (&str, &str) = (
    "AKIASTSTESTADMIN0001",
    "stsTestSecretOfAdmin0000000000000000001",
);
const CAROL: (&str, &str) = (
    "AKIASTSTESTCAROLB001",
    "stsTestSecretOfCarol00000000000000000001",
);
const DAN: (&str, &str) = (
    "AKIASTSTESTDANBB0001",
    "stsTestSecretOfDan0000000000000000000001",
);

fn key((id, secret): (&str, &str)) -> Key {
    Key::new(id, secret)
}

fn role(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// Account A: `alice` (no policies), `bob` (may call sts:AssumeRole), `denied` (explicitly
/// denied sts:GetCallerIdentity), roles with different trust policies, a bucket `sts-data`
/// holding `k`. Account B: `carol` (may call sts:AssumeRole) and `dan` (no policies).
fn world() -> String {
    let mut t = String::new();
    t.push_str(&default_account_toml("A"));
    t.push_str(&format!(
        r#"
[[account.user]]
name = "alice"
access_keys = [{{ id = "{}", secret = "{}" }}]

[[account.user]]
name = "bob"
access_keys = [{{ id = "{}", secret = "{}" }}]
policies = {{ assume = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}]}}', s3 = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}' }}

[[account.user]]
name = "denied"
access_keys = [{{ id = "{}", secret = "{}" }}]
policies = {{ deny = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":["sts:GetCallerIdentity","sts:AssumeRole"],"Resource":"*"}}]}}' }}

[[account.user]]
name = "admin"
access_keys = [{{ id = "AKIASTSTESTADMIN0001", secret = "stsTestSecretOfAdmin0000000000000000001" }}]
managed = ["AdministratorAccess"]

[[account.policy]]
name = "read-only-data"
document = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::sts-data/*"}}]}}'

[[account.role]]
name = "trusts-alice"
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::${{A}}:user/alice"}},"Action":"sts:AssumeRole"}}]}}'
policies = {{ s3 = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":["arn:aws:s3:::sts-data","arn:aws:s3:::sts-data/*"]}}]}}' }}

[[account.role]]
name = "trusts-bob"
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::${{A}}:user/bob"}},"Action":"sts:AssumeRole"}}]}}'

[[account.role]]
name = "trusts-account"
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"${{A}}"}},"Action":"sts:AssumeRole"}}]}}'
policies = {{ s3 = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","sts:AssumeRole"],"Resource":"*"}}]}}' }}

[[account.role]]
name = "trusts-denied"
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::${{A}}:user/denied"}},"Action":"sts:AssumeRole"}}]}}'

[[account.role]]
name = "trusts-dan-and-carol"
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::${{B}}:user/dan","arn:aws:iam::${{B}}:user/carol"]}},"Action":"sts:AssumeRole"}}]}}'

[[account.role]]
name = "trusts-b"
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::${{B}}:root"}},"Action":"sts:AssumeRole"}}]}}'

[[account.role]]
name = "external"
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"${{B}}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"Unique-Id-0042"}}}}}}]}}'

[[account.role]]
name = "long"
max_session_duration = 7200
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"${{A}}"}},"Action":"sts:AssumeRole"}}]}}'

[[account.role]]
name = "chained"
max_session_duration = 43200
trust = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::${{A}}:role/trusts-account"}},"Action":"sts:AssumeRole"}}]}}'

[[account.bucket]]
name = "sts-data"

[[account.bucket.object]]
key = "k"
body = "v"
"#,
        ALICE.0, ALICE.1, BOB.0, BOB.1, DENIED.0, DENIED.1
    ));
    t.push_str(&default_account_toml("B"));
    t.push_str(&format!(
        r#"
[[account.user]]
name = "carol"
access_keys = [{{ id = "{}", secret = "{}" }}]
policies = {{ assume = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}]}}' }}

[[account.user]]
name = "dan"
access_keys = [{{ id = "{}", secret = "{}" }}]
"#,
        CAROL.0, CAROL.1, DAN.0, DAN.1
    ));
    t
}

async fn emu() -> Emu {
    emu_from_toml(&world(), Options::default()).await
}

/// AssumeRole with just a role and a session name.
async fn try_assume(
    emu: &Emu,
    who: &Key,
    role_arn: &str,
) -> Result<
    aws_sdk_sts::operation::assume_role::AssumeRoleOutput,
    aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError>,
> {
    emu.sts(who)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("test-session")
        .send()
        .await
}

fn session_key(out: &aws_sdk_sts::operation::assume_role::AssumeRoleOutput) -> Key {
    key_from_sts(out.credentials().expect("credentials"))
}

async fn s3_get(emu: &Emu, who: &Key) -> String {
    code(
        &emu.s3(who)
            .get_object()
            .bucket("sts-data")
            .key("k")
            .send()
            .await,
    )
}

async fn s3_put(emu: &Emu, who: &Key, key: &str) -> String {
    code(
        &emu.s3(who)
            .put_object()
            .bucket("sts-data")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
    )
}

// ---- Who may assume a role ----

#[tokio::test]
async fn same_account_trust_naming_the_user_needs_no_identity_policy() {
    let emu = emu().await;
    // alice has no policy at all; the trust policy names her ARN.
    let out = try_assume(&emu, &key(ALICE), &role(A, "trusts-alice"))
        .await
        .expect("a trust policy naming the user suffices in the same account");
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::111111111111:assumed-role/trusts-alice/test-session"
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":test-session"));
    // The session acts with the role's permissions (alice herself has none).
    let sess = session_key(&out);
    assert_eq!(s3_get(&emu, &sess).await, "Ok");
    assert_eq!(s3_get(&emu, &key(ALICE)).await, "AccessDenied");

    // Denied: the trust policy names another user, and alice has no identity policy.
    let r = try_assume(&emu, &key(ALICE), &role(A, "trusts-bob")).await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
    // Even bob's identity policy (sts:AssumeRole on *) cannot reach a role whose trust policy
    // names only alice.
    let r = try_assume(&emu, &key(BOB), &role(A, "trusts-alice")).await;
    assert_eq!(code(&r), "AccessDenied");
    // An explicit deny in the caller's identity policy beats the trust policy's allow.
    let r = try_assume(&emu, &key(DENIED), &role(A, "trusts-denied")).await;
    assert_eq!(code(&r), "AccessDenied");
}

#[tokio::test]
async fn same_account_trust_naming_only_the_account_needs_an_identity_policy() {
    let emu = emu().await;
    // Denied: the trust policy delegates to account A's IAM policies, and alice has none.
    let r = try_assume(&emu, &key(ALICE), &role(A, "trusts-account")).await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
    // Allowed: bob's identity policy allows sts:AssumeRole.
    let out = try_assume(&emu, &key(BOB), &role(A, "trusts-account"))
        .await
        .expect("identity policy + account trust");
    assert!(out.credentials().is_some());
    // Root credentials can never assume a role.
    let r = try_assume(&emu, &Key::root("A"), &role(A, "trusts-account")).await;
    assert_eq!(code(&r), "AccessDenied");
    // A role that does not exist is an AccessDenied too (STS does not reveal which roles exist).
    let r = try_assume(&emu, &key(BOB), &role(A, "no-such-role")).await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
}

#[tokio::test]
async fn cross_account_needs_both_the_trust_policy_and_an_identity_policy() {
    let emu = emu().await;
    // Allowed: B's trust is given and carol's identity policy allows.
    let out = try_assume(&emu, &key(CAROL), &role(A, "trusts-b"))
        .await
        .expect("trust + identity policy across accounts");
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::111111111111:assumed-role/trusts-b/test-session"
    );
    // Denied: the trust policy allows account B, but dan has no identity policy.
    let r = try_assume(&emu, &key(DAN), &role(A, "trusts-b")).await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
    // Denied: carol's identity policy allows, but the trust policy does not name B.
    let r = try_assume(&emu, &key(CAROL), &role(A, "trusts-account")).await;
    assert_eq!(code(&r), "AccessDenied");
    let r = try_assume(&emu, &key(CAROL), &role(A, "trusts-alice")).await;
    assert_eq!(code(&r), "AccessDenied");
    // Naming the user's ARN does not waive the identity policy across accounts: dan is named
    // but has no policy (denied), carol is named and has one (allowed).
    let r = try_assume(&emu, &key(DAN), &role(A, "trusts-dan-and-carol")).await;
    assert_eq!(code(&r), "AccessDenied");
    let r = try_assume(&emu, &key(CAROL), &role(A, "trusts-dan-and-carol")).await;
    assert_eq!(code(&r), "Ok");
}

#[tokio::test]
async fn external_id_condition_is_matched() {
    let emu = emu().await;
    let sts = emu.sts(&key(CAROL));
    let arn = role(A, "external");
    // Missing ExternalId: denied.
    let r = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("ext")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
    // Wrong ExternalId (case matters for StringEquals): denied.
    for wrong in ["Unique-Id-0043", "unique-id-0042"] {
        let r = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name("ext")
            .external_id(wrong)
            .send()
            .await;
        assert_eq!(code(&r), "AccessDenied", "{wrong}");
    }
    // Right ExternalId: allowed.
    let r = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("ext")
        .external_id("Unique-Id-0042")
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
}

// ---- Parameter validation ----

#[tokio::test]
async fn duration_seconds_is_bounded_by_900_and_the_roles_maximum() {
    let emu = emu().await;
    let sts = emu.sts(&key(BOB));
    let go = |arn: String, secs: i32| {
        let sts = sts.clone();
        async move {
            sts.assume_role()
                .role_arn(arn)
                .role_session_name("dur")
                .duration_seconds(secs)
                .send()
                .await
        }
    };
    // Below the minimum of 900 seconds.
    let r = go(role(A, "long"), 899).await;
    assert_eq!(code(&r), "ValidationError");
    assert_eq!(status(&r), 400);
    // The bounds themselves are fine.
    assert_eq!(code(&go(role(A, "long"), 900).await), "Ok");
    assert_eq!(code(&go(role(A, "long"), 7200).await), "Ok");
    // Above the role's MaxSessionDuration (7200 here, the default 3600 for trusts-account).
    let r = go(role(A, "long"), 7201).await;
    assert_eq!(code(&r), "ValidationError");
    assert_eq!(status(&r), 400);
    assert_eq!(code(&go(role(A, "trusts-account"), 3600).await), "Ok");
    let r = go(role(A, "trusts-account"), 3601).await;
    assert_eq!(code(&r), "ValidationError");
    // The lifetime asked for is the lifetime granted.
    let out = go(role(A, "long"), 7200).await.unwrap();
    let exp = out.credentials().unwrap().expiration().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((exp - now - 7200).abs() < 60, "expires in {}s", exp - now);
}

#[tokio::test]
async fn role_chaining_caps_the_session_at_one_hour() {
    let emu = emu().await;
    let first = emu
        .assume(&key(BOB), &role(A, "trusts-account"), "first")
        .await;
    let sts = emu.sts(&first);
    // Denied: chained sessions cannot exceed 3600 s, even though the role allows 43200.
    let r = sts
        .assume_role()
        .role_arn(role(A, "chained"))
        .role_session_name("second")
        .duration_seconds(3601)
        .send()
        .await;
    assert_eq!(code(&r), "ValidationError");
    assert_eq!(status(&r), 400);
    // Allowed: one hour.
    let out = sts
        .assume_role()
        .role_arn(role(A, "chained"))
        .role_session_name("second")
        .duration_seconds(3600)
        .send()
        .await
        .expect("chained assume within one hour");
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::111111111111:assumed-role/chained/second"
    );
    // Without chaining the same role grants more than an hour.
    let r = emu
        .sts(&key(BOB))
        .assume_role()
        .role_arn(role(A, "chained"))
        .role_session_name("direct")
        .duration_seconds(7200)
        .send()
        .await;
    // bob is not named by the trust policy of `chained` (only the role is): denied, not a
    // validation error.
    assert_eq!(code(&r), "AccessDenied");
}

#[tokio::test]
async fn role_session_name_must_match_the_pattern() {
    let emu = emu().await;
    let sts = emu.sts(&key(ALICE));
    let long = "a".repeat(65);
    for bad in [
        "x",
        "has space",
        "slash/name",
        "colon:name",
        "star*",
        long.as_str(),
    ] {
        let r = sts
            .assume_role()
            .role_arn(role(A, "trusts-alice"))
            .role_session_name(bad)
            .send()
            .await;
        assert_eq!(code(&r), "ValidationError", "{bad:?}");
        assert_eq!(status(&r), 400, "{bad:?}");
    }
    let max = "b".repeat(64);
    for good in ["ab", "a.b@c=d,e+f_g-h", max.as_str()] {
        let r = sts
            .assume_role()
            .role_arn(role(A, "trusts-alice"))
            .role_session_name(good)
            .send()
            .await;
        assert_eq!(code(&r), "Ok", "{good:?}");
        assert_eq!(
            r.unwrap().assumed_role_user().unwrap().arn(),
            format!("arn:aws:sts::111111111111:assumed-role/trusts-alice/{good}")
        );
    }
}

// ---- Session policies ----

#[tokio::test]
async fn inline_session_policy_restricts_the_session() {
    let emu = emu().await;
    let sts = emu.sts(&key(ALICE));
    // The role allows Get and Put on sts-data; the session policy allows only Get (and a
    // Delete the role does not allow).
    let out = sts
        .assume_role()
        .role_arn(role(A, "trusts-alice"))
        .role_session_name("scoped")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::sts-data/*"}]}"#)
        .send()
        .await
        .expect("assume with a session policy");
    let scoped = session_key(&out);
    assert_eq!(s3_get(&emu, &scoped).await, "Ok");
    // The role allows PutObject, the session policy does not: denied.
    assert_eq!(s3_put(&emu, &scoped, "new").await, "AccessDenied");
    // The session policy allows DeleteObject, the role does not: denied.
    let r = emu
        .s3(&scoped)
        .delete_object()
        .bucket("sts-data")
        .key("k")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    // Without a session policy the same role may put.
    let full = emu
        .assume(&key(ALICE), &role(A, "trusts-alice"), "full")
        .await;
    assert_eq!(s3_put(&emu, &full, "new").await, "Ok");
}

#[tokio::test]
async fn malformed_session_policy_is_refused() {
    let emu = emu().await;
    let sts = emu.sts(&key(ALICE));
    for bad in [
        "{",
        r#"{"Version":"2012-10-17","Statement":[{"Action":"s3:GetObject","Resource":"*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Bogus":1}]}"#,
    ] {
        let r = sts
            .assume_role()
            .role_arn(role(A, "trusts-alice"))
            .role_session_name("bad-policy")
            .policy(bad)
            .send()
            .await;
        assert_eq!(code(&r), "MalformedPolicyDocument", "{bad}");
        assert_eq!(status(&r), 400, "{bad}");
    }
    // A well-formed one is accepted.
    let r = sts
        .assume_role()
        .role_arn(role(A, "trusts-alice"))
        .role_session_name("good-policy")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
}

#[tokio::test]
async fn managed_session_policies_by_arn_restrict_the_session() {
    let emu = emu().await;
    let out = emu
        .sts(&key(ALICE))
        .assume_role()
        .role_arn(role(A, "trusts-alice"))
        .role_session_name("arns")
        .policy_arns(
            PolicyDescriptorType::builder()
                .arn(format!("arn:aws:iam::{A}:policy/read-only-data"))
                .build(),
        )
        .send()
        .await
        .expect("assume with PolicyArns");
    let sess = session_key(&out);
    // The managed session policy allows only GetObject.
    assert_eq!(s3_get(&emu, &sess).await, "Ok");
    assert_eq!(s3_put(&emu, &sess, "new").await, "AccessDenied");
    let r = emu
        .s3(&sess)
        .list_objects_v2()
        .bucket("sts-data")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
}

// ---- Identities ----

#[tokio::test]
async fn get_caller_identity_for_root_user_and_role_session() {
    let emu = emu().await;
    let root = emu
        .sts(&Key::root("A"))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(root.account(), Some(A));
    assert_eq!(root.arn(), Some("arn:aws:iam::111111111111:root"));
    assert_eq!(root.user_id(), Some(A));

    let user = emu
        .sts(&key(ALICE))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(user.account(), Some(A));
    assert_eq!(user.arn(), Some("arn:aws:iam::111111111111:user/alice"));
    let uid = user.user_id().unwrap();
    assert!(uid.starts_with("AIDA") && uid.len() == 21, "{uid}");
    // The same ID IAM reports for the user.
    let iam_user = emu
        .iam(&Key::root("A"))
        .get_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(iam_user.user().unwrap().user_id(), uid);

    let sess = emu
        .assume(&key(ALICE), &role(A, "trusts-alice"), "who-am-i")
        .await;
    let me = emu.sts(&sess).get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(A));
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::111111111111:assumed-role/trusts-alice/who-am-i")
    );
    let role_id = emu
        .iam(&Key::root("A"))
        .get_role()
        .role_name("trusts-alice")
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .role_id()
        .to_owned();
    assert!(role_id.starts_with("AROA"));
    assert_eq!(me.user_id(), Some(format!("{role_id}:who-am-i").as_str()));

    // A cross-account session belongs to the role's account.
    let sess = emu
        .assume(&key(CAROL), &role(A, "trusts-b"), "from-b")
        .await;
    let me = emu.sts(&sess).get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(A));
}

#[tokio::test]
async fn get_caller_identity_needs_no_permission_but_valid_credentials() {
    let emu = emu().await;
    // An explicit deny of sts:GetCallerIdentity does not stop it (AWS: no permissions are
    // required, and a deny does not apply).
    let me = emu
        .sts(&key(DENIED))
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity ignores policies");
    assert_eq!(me.arn(), Some("arn:aws:iam::111111111111:user/denied"));
    // Unknown keys are refused.
    let r = emu
        .sts(&Key::new("AKIASTSTESTUNKNOWN01", "whatever-secret"))
        .get_caller_identity()
        .send()
        .await;
    assert_eq!(code(&r), "InvalidClientTokenId");
    assert_eq!(status(&r), 403);
}

#[tokio::test]
async fn get_session_token_for_users_but_not_role_sessions() {
    let emu = emu().await;
    let out = emu
        .sts(&key(BOB))
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .expect("an IAM user gets a session token");
    let tmp = key_from_sts(out.credentials().unwrap());
    assert!(tmp.id.starts_with("ASIA"), "{}", tmp.id);
    // Same identity as the long-term key, same permissions.
    let me = emu.sts(&tmp).get_caller_identity().send().await.unwrap();
    let long_term = emu
        .sts(&key(BOB))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111111111111:user/bob"));
    assert_eq!(me.user_id(), long_term.user_id());
    assert_eq!(s3_get(&emu, &tmp).await, "Ok");
    // alice's session token carries her (lack of) permissions.
    let alice_tmp = key_from_sts(
        emu.sts(&key(ALICE))
            .get_session_token()
            .send()
            .await
            .unwrap()
            .credentials()
            .unwrap(),
    );
    assert_eq!(s3_get(&emu, &alice_tmp).await, "AccessDenied");

    // Denied: role sessions cannot call GetSessionToken.
    let sess = emu
        .assume(&key(ALICE), &role(A, "trusts-alice"), "no-gst")
        .await;
    let r = emu.sts(&sess).get_session_token().send().await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);

    // The root user may call it too (AWS advises against it); the session is the root user.
    let root_tmp = key_from_sts(
        emu.sts(&Key::root("A"))
            .get_session_token()
            .duration_seconds(3600)
            .send()
            .await
            .expect("root gets a session token")
            .credentials()
            .unwrap(),
    );
    let me = emu
        .sts(&root_tmp)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111111111111:root"));
    // ...for at most an hour.
    let r = emu
        .sts(&Key::root("A"))
        .get_session_token()
        .duration_seconds(3601)
        .send()
        .await;
    assert_eq!(code(&r), "ValidationError");
}

/// STS API reference, GetSessionToken, "Permissions": the credentials "can be used to make API
/// calls to any Amazon Web Services service with the following exceptions: You cannot call any
/// IAM API operations unless MFA authentication information is included in the request. You
/// cannot call any STS API except AssumeRole or GetCallerIdentity."
#[tokio::test]
async fn get_session_token_credentials_cannot_call_iam_or_other_sts_apis() {
    let emu = emu().await;
    let admin = key(ADMIN);
    // Long-term keys of an administrator may call IAM.
    assert_eq!(code(&emu.iam(&admin).list_users().send().await), "Ok");
    let tmp = key_from_sts(
        emu.sts(&admin)
            .get_session_token()
            .send()
            .await
            .unwrap()
            .credentials()
            .unwrap(),
    );
    // Allowed: S3, GetCallerIdentity and AssumeRole.
    assert_eq!(s3_get(&emu, &tmp).await, "Ok");
    assert_eq!(
        code(&emu.sts(&tmp).get_caller_identity().send().await),
        "Ok"
    );
    assert_eq!(
        code(&try_assume(&emu, &tmp, &role(A, "trusts-account")).await),
        "Ok"
    );
    // Denied: IAM without MFA, and GetSessionToken again.
    let r = emu.iam(&tmp).list_users().send().await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
    let r = emu.sts(&tmp).get_session_token().send().await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
}

// ---- Temporary credentials that are no longer (or never were) valid ----

#[tokio::test]
async fn expired_session_credentials_are_refused_with_expired_token() {
    let emu = emu_from_toml(
        &world(),
        Options {
            session_lifetime: Some(Duration::from_secs(1)),
            ..Default::default()
        },
    )
    .await;
    let sess = emu
        .assume(&key(ALICE), &role(A, "trusts-alice"), "short")
        .await;
    // Valid right away.
    assert_eq!(s3_get(&emu, &sess).await, "Ok");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = emu
        .s3(&sess)
        .get_object()
        .bucket("sts-data")
        .key("k")
        .send()
        .await;
    assert_eq!(code(&r), "ExpiredToken");
    assert_eq!(status(&r), 400);
    let r = emu.sts(&sess).get_caller_identity().send().await;
    assert_eq!(code(&r), "ExpiredToken");
    assert_eq!(status(&r), 400);
    let r = emu.iam(&sess).list_users().send().await;
    assert_eq!(code(&r), "ExpiredToken");
    // Fresh credentials work again.
    let again = emu
        .assume(&key(ALICE), &role(A, "trusts-alice"), "again")
        .await;
    assert_eq!(s3_get(&emu, &again).await, "Ok");
}

#[tokio::test]
async fn tampered_session_token_is_invalid() {
    let emu = emu().await;
    let sess = emu
        .assume(&key(ALICE), &role(A, "trusts-alice"), "tamper")
        .await;
    assert_eq!(s3_get(&emu, &sess).await, "Ok");
    let mut bad = sess.clone();
    let token = bad.token.take().unwrap();
    let last = token.chars().last().unwrap();
    let swapped = if last == 'A' { 'B' } else { 'A' };
    bad.token = Some(format!("{}{swapped}", &token[..token.len() - 1]));
    let r = emu
        .s3(&bad)
        .get_object()
        .bucket("sts-data")
        .key("k")
        .send()
        .await;
    assert_eq!(code(&r), "InvalidToken");
    assert_eq!(status(&r), 400);
    let r = emu.sts(&bad).get_caller_identity().send().await;
    assert_eq!(code(&r), "InvalidClientTokenId");
    assert_eq!(status(&r), 403);
    let r = emu.iam(&bad).list_users().send().await;
    assert_eq!(code(&r), "InvalidClientTokenId");
    assert_eq!(status(&r), 403);
}

#[tokio::test]
async fn session_key_without_its_token_is_rejected() {
    let emu = emu().await;
    let sess = emu
        .assume(&key(ALICE), &role(A, "trusts-alice"), "no-token")
        .await;
    let bare = Key::new(&sess.id, &sess.secret);
    let r = emu
        .s3(&bare)
        .get_object()
        .bucket("sts-data")
        .key("k")
        .send()
        .await;
    assert_ne!(code(&r), "Ok");
    assert_eq!(status(&r) / 100, 4, "{}", code(&r));
    let r = emu.sts(&bare).get_caller_identity().send().await;
    assert_eq!(code(&r), "InvalidClientTokenId");
    assert_eq!(status(&r), 403);
    // With the token it works.
    assert_eq!(s3_get(&emu, &sess).await, "Ok");
}

/// A clock `offset` away from the real one.
#[derive(Debug)]
struct Skewed(std::time::Duration, bool);

impl aws_smithy_async::time::TimeSource for Skewed {
    fn now(&self) -> std::time::SystemTime {
        if self.1 {
            std::time::SystemTime::now() + self.0
        } else {
            std::time::SystemTime::now() - self.0
        }
    }
}

#[tokio::test]
async fn requests_signed_more_than_fifteen_minutes_off_are_refused_as_too_skewed() {
    use aws_sdk_s3::config::retry::RetryConfig;
    let emu = Emu::default().await;
    let key = Key::root("A");
    for (offset, ahead, refused) in [
        (20 * 60, false, true),
        (20 * 60, true, true),
        (10 * 60, false, false),
    ] {
        let skew = || Skewed(Duration::from_secs(offset), ahead);
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(key.creds())
            .endpoint_url(emu.endpoint())
            .force_path_style(true)
            .time_source(skew())
            // The SDK corrects its clock from the error and retries: look at the first answer.
            .retry_config(RetryConfig::disabled())
            .build();
        let r = aws_sdk_s3::Client::from_conf(conf)
            .list_buckets()
            .send()
            .await;
        let what = format!("S3, {offset}s {}", if ahead { "ahead" } else { "behind" });
        if refused {
            assert_eq!(
                (code(&r).as_str(), status(&r)),
                ("RequestTimeTooSkewed", 403),
                "{what}"
            );
        } else {
            assert_eq!(code(&r), "Ok", "{what}");
        }

        let conf = aws_sdk_sts::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(key.creds())
            .endpoint_url(emu.endpoint())
            .time_source(skew())
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        let r = aws_sdk_sts::Client::from_conf(conf)
            .get_caller_identity()
            .send()
            .await;
        let what = format!("STS, {offset}s {}", if ahead { "ahead" } else { "behind" });
        if refused {
            // STS answers a stale or future signature as RequestExpired (400).
            assert_eq!(
                (code(&r).as_str(), status(&r)),
                ("RequestExpired", 400),
                "{what}"
            );
        } else {
            assert_eq!(code(&r), "Ok", "{what}");
        }
    }
}
