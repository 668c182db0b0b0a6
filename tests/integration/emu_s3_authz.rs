//! How the emulator's S3 authorizes, driven by the real Rust SDK: Object Ownership, ACLs,
//! bucket-policy management, explicit denies, Block Public Access, missing keys, CopyObject,
//! condition keys seen through real requests, denial messages, virtual-hosted-style
//! addressing, presigned URLs and checksums. Each rule is checked both ways.

use std::time::Duration;

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketCannedAcl, ChecksumAlgorithm, ChecksumMode, ObjectCannedAcl, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, Permission, PublicAccessBlockConfiguration,
};
use ferry::emu::Options;

use crate::support::*;

const S3USER: (&str, &str) = (
    "AKIAS3AUTHZS3USER001",
    "s3authzSecretOfS3user000000000000000001",
);
const READER: (&str, &str) = (
    "AKIAS3AUTHZREADER001",
    "s3authzSecretOfReader000000000000000001",
);
const ADMIN: (&str, &str) = (
    "AKIAS3AUTHZADMIN0001",
    "s3authzSecretOfAdmin0000000000000000001",
);
const COPY_GET: (&str, &str) = (
    "AKIAS3AUTHZCOPYGET01",
    "s3authzSecretOfCopyGet00000000000000001",
);
const COPY_PUT: (&str, &str) = (
    "AKIAS3AUTHZCOPYPUT01",
    "s3authzSecretOfCopyPut00000000000000001",
);
const COPY_BOTH: (&str, &str) = (
    "AKIAS3AUTHZCOPYBOTH1",
    "s3authzSecretOfCopyBoth0000000000000001",
);
const B_S3: (&str, &str) = (
    "AKIAS3AUTHZBS3USER01",
    "s3authzSecretOfBs3user00000000000000001",
);

fn key((id, secret): (&str, &str)) -> Key {
    Key::new(id, secret)
}

fn user_toml(name: &str, (id, secret): (&str, &str), policy: Option<&str>) -> String {
    let mut t = format!(
        "\n[[account.user]]\nname = \"{name}\"\naccess_keys = [{{ id = \"{id}\", secret = \"{secret}\" }}]\n"
    );
    match policy {
        Some(p) if p.starts_with("managed:") => {
            t.push_str(&format!("managed = [\"{}\"]\n", &p["managed:".len()..]));
        }
        Some(p) => t.push_str(&format!("policies = {{ main = '{p}' }}\n")),
        None => {}
    }
    t
}

fn allow(actions: &str, resources: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":{resources}}}]}}"#
    )
}

/// The default accounts A, B, C with some IAM users: in A `s3user` (s3:*), `reader` (no
/// policy), `admin` (AdministratorAccess), `copy-get` / `copy-put` / `copy-both` (CopyObject
/// halves); in B `b-s3` (s3:*).
fn world() -> String {
    let mut t = default_account_toml("A");
    t.push_str(&user_toml(
        "s3user",
        S3USER,
        Some(&allow(r#""s3:*""#, r#""*""#)),
    ));
    t.push_str(&user_toml("reader", READER, None));
    t.push_str(&user_toml(
        "admin",
        ADMIN,
        Some("managed:AdministratorAccess"),
    ));
    t.push_str(&user_toml(
        "copy-get",
        COPY_GET,
        Some(&allow(r#""s3:GetObject""#, r#""arn:aws:s3:::copy-src/*""#)),
    ));
    t.push_str(&user_toml(
        "copy-put",
        COPY_PUT,
        Some(&allow(r#""s3:PutObject""#, r#""arn:aws:s3:::copy-dst/*""#)),
    ));
    t.push_str(&user_toml(
        "copy-both",
        COPY_BOTH,
        Some(&allow(
            r#"["s3:GetObject","s3:PutObject"]"#,
            r#"["arn:aws:s3:::copy-src/*","arn:aws:s3:::copy-dst/*"]"#,
        )),
    ));
    t.push_str(&default_account_toml("B"));
    t.push_str(&user_toml(
        "b-s3",
        B_S3,
        Some(&allow(r#""s3:*""#, r#""*""#)),
    ));
    t.push_str(&default_account_toml("C"));
    t
}

async fn emu() -> Emu {
    emu_from_toml(&world(), Options::default()).await
}

fn body(s: &'static str) -> ByteStream {
    ByteStream::from_static(s.as_bytes())
}

/// A bucket policy with one statement.
fn policy(
    effect: &str,
    principal: &str,
    actions: &str,
    resources: &str,
    condition: &str,
) -> String {
    let cond = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Principal":{principal},"Action":{actions},"Resource":{resources}{cond}}}]}}"#
    )
}

fn aws(p: &str) -> String {
    format!(r#"{{"AWS":"{p}"}}"#)
}

async fn create(c: &aws_sdk_s3::Client, bucket: &str, ownership: Option<ObjectOwnership>) {
    c.create_bucket()
        .bucket(bucket)
        .set_object_ownership(ownership)
        .send()
        .await
        .unwrap();
}

async fn set_policy(c: &aws_sdk_s3::Client, bucket: &str, p: &str) {
    c.put_bucket_policy()
        .bucket(bucket)
        .policy(p)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put bucket policy {p}: {e:?}"));
}

async fn get_code(c: &aws_sdk_s3::Client, bucket: &str, k: &str) -> String {
    code(&c.get_object().bucket(bucket).key(k).send().await)
}

async fn object_owner(c: &aws_sdk_s3::Client, bucket: &str, k: &str) -> String {
    c.get_object_acl()
        .bucket(bucket)
        .key(k)
        .send()
        .await
        .unwrap()
        .owner()
        .and_then(|o| o.id())
        .unwrap_or_default()
        .to_owned()
}

fn grant_id(account: &str) -> String {
    format!("id={}", canonical(account))
}

// ---- Object Ownership ----

#[tokio::test]
async fn bucket_owner_preferred_takes_objects_written_with_full_control() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "preferred", Some(ObjectOwnership::BucketOwnerPreferred)).await;
    set_policy(
        &a,
        "preferred",
        &policy(
            "Allow",
            &aws(B),
            r#"["s3:PutObject","s3:GetObject"]"#,
            r#""arn:aws:s3:::preferred/*""#,
            "",
        ),
    )
    .await;
    b.put_object()
        .bucket("preferred")
        .key("with")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(body("1"))
        .send()
        .await
        .unwrap();
    b.put_object()
        .bucket("preferred")
        .key("without")
        .body(body("2"))
        .send()
        .await
        .unwrap();
    // With bucket-owner-full-control the bucket owner owns it; without, the writer does.
    assert_eq!(object_owner(&a, "preferred", "with").await, canonical(A));
    assert_eq!(object_owner(&b, "preferred", "without").await, canonical(B));
    let listed = a
        .list_objects_v2()
        .bucket("preferred")
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    let owners: Vec<(&str, &str)> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap(), o.owner().and_then(|w| w.id()).unwrap()))
        .collect();
    let (ca, cb) = (canonical(A), canonical(B));
    assert_eq!(owners, [("with", ca.as_str()), ("without", cb.as_str())]);
    // The bucket owner reads its own object, not B's private one.
    assert_eq!(get_code(&a, "preferred", "with").await, "Ok");
    assert_eq!(get_code(&a, "preferred", "without").await, "AccessDenied");
}

#[tokio::test]
async fn object_writer_owner_reads_only_through_the_acl_but_may_delete() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "writer", Some(ObjectOwnership::ObjectWriter)).await;
    set_policy(
        &a,
        "writer",
        &policy(
            "Allow",
            &aws(B),
            r#""s3:PutObject""#,
            r#""arn:aws:s3:::writer/*""#,
            "",
        ),
    )
    .await;
    b.put_object()
        .bucket("writer")
        .key("b-private")
        .body(body("mine"))
        .send()
        .await
        .unwrap();
    assert_eq!(object_owner(&b, "writer", "b-private").await, canonical(B));
    // The bucket owner may not read B's object, nor its ACL.
    assert_eq!(get_code(&a, "writer", "b-private").await, "AccessDenied");
    let r = a
        .head_object()
        .bucket("writer")
        .key("b-private")
        .send()
        .await;
    assert_eq!(status(&r), 403);
    let r = a
        .get_object_acl()
        .bucket("writer")
        .key("b-private")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    // ...unless the ACL grants it.
    b.put_object()
        .bucket("writer")
        .key("b-shared")
        .grant_read(grant_id(A))
        .body(body("shared"))
        .send()
        .await
        .unwrap();
    assert_eq!(object_owner(&b, "writer", "b-shared").await, canonical(B));
    assert_eq!(get_code(&a, "writer", "b-shared").await, "Ok");
    // The bucket owner can delete objects it does not own.
    let r = a
        .delete_object()
        .bucket("writer")
        .key("b-private")
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
    assert_eq!(get_code(&a, "writer", "b-private").await, "NoSuchKey");
}

#[tokio::test]
async fn grant_read_by_canonical_id_lets_another_account_read() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "granting", Some(ObjectOwnership::ObjectWriter)).await;
    a.put_object()
        .bucket("granting")
        .key("granted")
        .grant_read(grant_id(B))
        .body(body("for b"))
        .send()
        .await
        .unwrap();
    a.put_object()
        .bucket("granting")
        .key("private")
        .body(body("not for b"))
        .send()
        .await
        .unwrap();
    let acl = a
        .get_object_acl()
        .bucket("granting")
        .key("granted")
        .send()
        .await
        .unwrap();
    assert!(acl.grants().iter().any(|g| {
        g.grantee().and_then(|g| g.id()) == Some(canonical(B).as_str())
            && g.permission() == Some(&Permission::Read)
    }));
    let got = b
        .get_object()
        .bucket("granting")
        .key("granted")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"for b"
    );
    // B's IAM user with an identity policy reads it too.
    assert_eq!(
        get_code(&emu.s3(&key(B_S3)), "granting", "granted").await,
        "Ok"
    );
    // READ is not READ_ACP, and other objects stay private; C gets nothing.
    let r = b
        .get_object_acl()
        .bucket("granting")
        .key("granted")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(get_code(&b, "granting", "private").await, "AccessDenied");
    assert_eq!(
        get_code(&emu.s3(&Key::root("C")), "granting", "granted").await,
        "AccessDenied"
    );
}

#[tokio::test]
async fn bucket_owner_enforced_owns_everything_and_refuses_acls() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "enforced", None).await;
    set_policy(
        &a,
        "enforced",
        &policy(
            "Allow",
            &aws(B),
            r#"["s3:PutObject","s3:GetObject"]"#,
            r#""arn:aws:s3:::enforced/*""#,
            "",
        ),
    )
    .await;
    // Cross-account uploads belong to the bucket owner, with or without bucket-owner-full-control.
    b.put_object()
        .bucket("enforced")
        .key("from-b")
        .body(body("b"))
        .send()
        .await
        .unwrap();
    b.put_object()
        .bucket("enforced")
        .key("from-b-bofc")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(body("b"))
        .send()
        .await
        .unwrap();
    for k in ["from-b", "from-b-bofc"] {
        let acl = a
            .get_object_acl()
            .bucket("enforced")
            .key(k)
            .send()
            .await
            .unwrap();
        assert_eq!(
            acl.owner().and_then(|o| o.id()),
            Some(canonical(A).as_str()),
            "{k}"
        );
        // Only the owner's FULL_CONTROL shows.
        let grants: Vec<_> = acl
            .grants()
            .iter()
            .map(|g| {
                (
                    g.grantee().and_then(|g| g.id()).unwrap_or("?"),
                    g.permission().cloned(),
                )
            })
            .collect();
        assert_eq!(
            grants,
            [(canonical(A).as_str(), Some(Permission::FullControl))],
            "{k}"
        );
        assert_eq!(get_code(&a, "enforced", k).await, "Ok", "{k}");
    }

    // ACLs other than bucket-owner-full-control: 400 AccessControlListNotSupported.
    let not_supported = |r: &(String, u16), what: &str| {
        assert_eq!(r.0, "AccessControlListNotSupported", "{what}");
        assert_eq!(r.1, 400, "{what}");
    };
    let r = b
        .put_object()
        .bucket("enforced")
        .key("x")
        .acl(ObjectCannedAcl::BucketOwnerRead)
        .body(body("x"))
        .send()
        .await;
    not_supported(&(code(&r), status(&r)), "PutObject bucket-owner-read");
    let r = b
        .put_object()
        .bucket("enforced")
        .key("x")
        .grant_read(grant_id(C))
        .body(body("x"))
        .send()
        .await;
    not_supported(&(code(&r), status(&r)), "PutObject grant-read");
    let r = a
        .copy_object()
        .copy_source("enforced/from-b")
        .bucket("enforced")
        .key("copy")
        .grant_read(grant_id(C))
        .send()
        .await;
    not_supported(&(code(&r), status(&r)), "CopyObject grant-read");
    let r = a
        .put_object_acl()
        .bucket("enforced")
        .key("from-b")
        .grant_read(grant_id(C))
        .send()
        .await;
    not_supported(&(code(&r), status(&r)), "PutObjectAcl");
    let r = a
        .put_bucket_acl()
        .bucket("enforced")
        .grant_read(grant_id(C))
        .send()
        .await;
    not_supported(&(code(&r), status(&r)), "PutBucketAcl");
    // The allowed forms still work: the same grant as bucket-owner-full-control, in headers.
    let r = b
        .put_object()
        .bucket("enforced")
        .key("from-b-grant")
        .grant_full_control(grant_id(A))
        .body(body("b"))
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
    assert_eq!(
        object_owner(&a, "enforced", "from-b-grant").await,
        canonical(A)
    );
    let r = a
        .copy_object()
        .copy_source("enforced/from-b")
        .bucket("enforced")
        .key("copy")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
    let bucket_acl = a.get_bucket_acl().bucket("enforced").send().await.unwrap();
    assert_eq!(bucket_acl.grants().len(), 1);
}

#[tokio::test]
async fn switching_to_bucket_owner_enforced_needs_an_owner_only_bucket_acl() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket()
        .bucket("switch")
        .object_ownership(ObjectOwnership::ObjectWriter)
        .grant_read(grant_id(B))
        .send()
        .await
        .unwrap();
    let enforce = || {
        a.put_bucket_ownership_controls()
            .bucket("switch")
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
    };
    let r = enforce().await;
    assert_eq!(code(&r), "InvalidBucketAclWithObjectOwnership");
    assert_eq!(status(&r), 400);
    // CreateBucket asking for BucketOwnerEnforced with such an ACL fails the same way.
    let r = a
        .create_bucket()
        .bucket("switch-2")
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .grant_read(grant_id(B))
        .send()
        .await;
    assert_eq!(code(&r), "InvalidBucketAclWithObjectOwnership");
    assert_eq!(status(&r), 400);
    // After resetting the bucket ACL to private, the switch is accepted.
    a.put_bucket_acl()
        .bucket("switch")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&enforce().await), "Ok");
    let oc = a
        .get_bucket_ownership_controls()
        .bucket("switch")
        .send()
        .await
        .unwrap();
    assert_eq!(
        oc.ownership_controls().unwrap().rules()[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
}

#[tokio::test]
async fn canned_acl_and_grant_headers_together_are_invalid() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "both-acls", Some(ObjectOwnership::ObjectWriter)).await;
    let r = a
        .put_object()
        .bucket("both-acls")
        .key("k")
        .acl(ObjectCannedAcl::Private)
        .grant_read(grant_id(B))
        .body(body("x"))
        .send()
        .await;
    assert_eq!(code(&r), "InvalidRequest");
    assert_eq!(status(&r), 400);
    let r = a
        .put_bucket_acl()
        .bucket("both-acls")
        .acl(BucketCannedAcl::Private)
        .grant_read(grant_id(B))
        .send()
        .await;
    assert_eq!(code(&r), "InvalidRequest");
    assert_eq!(status(&r), 400);
    // Either one alone is fine.
    let r = a
        .put_object()
        .bucket("both-acls")
        .key("k")
        .grant_read(grant_id(B))
        .body(body("x"))
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
    let r = a
        .put_object()
        .bucket("both-acls")
        .key("k2")
        .acl(ObjectCannedAcl::Private)
        .body(body("x"))
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
}

// ---- Bucket policy management ----

#[tokio::test]
async fn another_account_gets_405_for_bucket_policy_calls_with_permission_403_without() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "managed-policy", None).await;
    let p = policy(
        "Allow",
        &aws(B),
        r#"["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"]"#,
        r#""arn:aws:s3:::managed-policy""#,
        "",
    );
    set_policy(&a, "managed-policy", &p).await;
    for (who, expect_code, expect_status) in [
        (Key::root("B"), "MethodNotAllowed", 405),
        (key(B_S3), "MethodNotAllowed", 405),
        (Key::root("C"), "AccessDenied", 403),
    ] {
        let c = emu.s3(&who);
        let r = c.get_bucket_policy().bucket("managed-policy").send().await;
        assert_eq!(
            (code(&r).as_str(), status(&r)),
            (expect_code, expect_status),
            "{} get",
            who.id
        );
        let r = c
            .put_bucket_policy()
            .bucket("managed-policy")
            .policy(&p)
            .send()
            .await;
        assert_eq!(
            (code(&r).as_str(), status(&r)),
            (expect_code, expect_status),
            "{} put",
            who.id
        );
        let r = c
            .delete_bucket_policy()
            .bucket("managed-policy")
            .send()
            .await;
        assert_eq!(
            (code(&r).as_str(), status(&r)),
            (expect_code, expect_status),
            "{} delete",
            who.id
        );
    }
    // The policy is untouched.
    let got = a
        .get_bucket_policy()
        .bucket("managed-policy")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(p.as_str()));
}

#[tokio::test]
async fn bucket_owner_root_always_manages_the_bucket_policy() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let admin = emu.s3(&key(ADMIN));
    create(&a, "lockout", None).await;
    let deny = policy(
        "Deny",
        r#""*""#,
        r#"["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"]"#,
        r#""arn:aws:s3:::lockout""#,
        "",
    );
    set_policy(&a, "lockout", &deny).await;
    // An administrator of the same account is denied by the explicit deny.
    let r = admin.get_bucket_policy().bucket("lockout").send().await;
    assert_eq!(code(&r), "AccessDenied");
    let r = admin
        .put_bucket_policy()
        .bucket("lockout")
        .policy(&deny)
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    let r = admin.delete_bucket_policy().bucket("lockout").send().await;
    assert_eq!(code(&r), "AccessDenied");
    // The root user is not.
    let got = a
        .get_bucket_policy()
        .bucket("lockout")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(deny.as_str()));
    set_policy(&a, "lockout", &deny).await;
    let r = a.delete_bucket_policy().bucket("lockout").send().await;
    assert_eq!(code(&r), "Ok");
    // With the policy gone the administrator may manage it again.
    let r = admin.get_bucket_policy().bucket("lockout").send().await;
    assert_eq!(code(&r), "NoSuchBucketPolicy");
    assert_eq!(status(&r), 404);
}

#[tokio::test]
async fn explicit_deny_in_the_bucket_policy_beats_an_identity_allow() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let user = emu.s3(&key(S3USER));
    create(&a, "deny", None).await;
    a.put_object()
        .bucket("deny")
        .key("k")
        .body(body("v"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_code(&user, "deny", "k").await, "Ok");
    set_policy(
        &a,
        "deny",
        &policy(
            "Deny",
            &aws(&format!("arn:aws:iam::{A}:user/s3user")),
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::deny/*""#,
            "",
        ),
    )
    .await;
    let r = user.get_object().bucket("deny").key("k").send().await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
    let msg = err_message(&r);
    assert!(
        msg.contains("with an explicit deny in a resource-based policy"),
        "{msg}"
    );
    // What the deny does not name is still allowed by the identity policy.
    let r = user.list_objects_v2().bucket("deny").send().await;
    assert_eq!(code(&r), "Ok");
    // Other principals are unaffected.
    assert_eq!(get_code(&emu.s3(&key(ADMIN)), "deny", "k").await, "Ok");
}

// ---- Block Public Access ----

fn public_read_policy(bucket: &str) -> String {
    policy(
        "Allow",
        r#""*""#,
        r#""s3:GetObject""#,
        &format!(r#""arn:aws:s3:::{bucket}/via-policy""#),
        "",
    )
}

fn pab(acls: bool, ignore: bool, policy: bool, restrict: bool) -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(acls)
        .ignore_public_acls(ignore)
        .block_public_policy(policy)
        .restrict_public_buckets(restrict)
        .build()
}

#[tokio::test]
async fn block_public_access_refuses_public_policies_and_acls_until_removed() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let anon = anonymous_s3(&emu);
    create(&a, "bpa", Some(ObjectOwnership::ObjectWriter)).await;
    a.put_object()
        .bucket("bpa")
        .key("via-policy")
        .body(body("p"))
        .send()
        .await
        .unwrap();
    // On by default: a public policy and public ACLs are refused.
    let r = a
        .put_bucket_policy()
        .bucket("bpa")
        .policy(public_read_policy("bpa"))
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);
    let r = a
        .put_object()
        .bucket("bpa")
        .key("via-acl")
        .acl(ObjectCannedAcl::PublicRead)
        .body(body("a"))
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    let r = a
        .put_bucket_acl()
        .bucket("bpa")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(get_code(&anon, "bpa", "via-policy").await, "AccessDenied");

    // Removed: both are accepted, and anonymous callers read.
    a.delete_public_access_block()
        .bucket("bpa")
        .send()
        .await
        .unwrap();
    set_policy(&a, "bpa", &public_read_policy("bpa")).await;
    a.put_object()
        .bucket("bpa")
        .key("via-acl")
        .acl(ObjectCannedAcl::PublicRead)
        .body(body("a"))
        .send()
        .await
        .unwrap();
    let got = anon
        .get_object()
        .bucket("bpa")
        .key("via-policy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"p"
    );
    assert_eq!(get_code(&anon, "bpa", "via-acl").await, "Ok");
    // Anonymous callers get nothing that is not public.
    a.put_object()
        .bucket("bpa")
        .key("private")
        .body(body("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_code(&anon, "bpa", "private").await, "AccessDenied");

    // IgnorePublicAcls: the public-read ACL no longer counts; the policy still does.
    a.put_public_access_block()
        .bucket("bpa")
        .public_access_block_configuration(pab(false, true, false, false))
        .send()
        .await
        .unwrap();
    assert_eq!(get_code(&anon, "bpa", "via-acl").await, "AccessDenied");
    assert_eq!(get_code(&anon, "bpa", "via-policy").await, "Ok");
    // Turned off again, the ACL counts again.
    a.put_public_access_block()
        .bucket("bpa")
        .public_access_block_configuration(pab(false, false, false, false))
        .send()
        .await
        .unwrap();
    assert_eq!(get_code(&anon, "bpa", "via-acl").await, "Ok");
}

#[tokio::test]
async fn public_access_block_all_false_accepts_public_policies_and_acls() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let anon = anonymous_s3(&emu);
    create(&a, "open", Some(ObjectOwnership::ObjectWriter)).await;
    a.put_public_access_block()
        .bucket("open")
        .public_access_block_configuration(pab(false, false, false, false))
        .send()
        .await
        .unwrap();
    let got = a
        .get_public_access_block()
        .bucket("open")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.public_access_block_configuration()
            .unwrap()
            .block_public_policy(),
        Some(false)
    );
    a.put_object()
        .bucket("open")
        .key("via-policy")
        .body(body("p"))
        .send()
        .await
        .unwrap();
    set_policy(&a, "open", &public_read_policy("open")).await;
    a.put_object()
        .bucket("open")
        .key("via-acl")
        .acl(ObjectCannedAcl::PublicRead)
        .body(body("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_code(&anon, "open", "via-policy").await, "Ok");
    assert_eq!(get_code(&anon, "open", "via-acl").await, "Ok");
    // BlockPublicPolicy alone refuses the policy again (and leaves ACLs alone).
    a.put_public_access_block()
        .bucket("open")
        .public_access_block_configuration(pab(false, false, true, false))
        .send()
        .await
        .unwrap();
    let r = a
        .put_bucket_policy()
        .bucket("open")
        .policy(public_read_policy("open"))
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    let r = a
        .put_object()
        .bucket("open")
        .key("via-acl-2")
        .acl(ObjectCannedAcl::PublicRead)
        .body(body("a"))
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
    // BlockPublicAcls alone refuses public ACLs.
    a.put_public_access_block()
        .bucket("open")
        .public_access_block_configuration(pab(true, false, false, false))
        .send()
        .await
        .unwrap();
    let r = a
        .put_object()
        .bucket("open")
        .key("via-acl-3")
        .acl(ObjectCannedAcl::PublicRead)
        .body(body("a"))
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    set_policy(&a, "open", &public_read_policy("open")).await;
}

// ---- Missing keys ----

#[tokio::test]
async fn missing_key_is_404_with_list_bucket_and_403_without() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "missing", None).await;
    a.put_object()
        .bucket("missing")
        .key("present")
        .body(body("x"))
        .send()
        .await
        .unwrap();
    set_policy(
        &a,
        "missing",
        &policy(
            "Allow",
            &aws(B),
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::missing/*""#,
            "",
        ),
    )
    .await;
    // B may get objects but not list: a missing key is 403.
    assert_eq!(get_code(&b, "missing", "present").await, "Ok");
    let r = b.get_object().bucket("missing").key("absent").send().await;
    assert_eq!((code(&r).as_str(), status(&r)), ("AccessDenied", 403));
    let r = b.head_object().bucket("missing").key("absent").send().await;
    assert_eq!(status(&r), 403);
    // With s3:ListBucket, 404 NoSuchKey.
    set_policy(
        &a,
        "missing",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::missing/*"},{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::missing"}]}"#,
    )
    .await;
    let r = b.get_object().bucket("missing").key("absent").send().await;
    assert_eq!((code(&r).as_str(), status(&r)), ("NoSuchKey", 404));
    let r = b.head_object().bucket("missing").key("absent").send().await;
    assert_eq!(status(&r), 404);
    // Same account: the same rule through identity policies.
    let reader = emu.s3(&key(READER));
    let r = reader
        .get_object()
        .bucket("missing")
        .key("absent")
        .send()
        .await;
    assert_eq!((code(&r).as_str(), status(&r)), ("AccessDenied", 403));
    let r = reader
        .head_object()
        .bucket("missing")
        .key("absent")
        .send()
        .await;
    assert_eq!(status(&r), 403);
    let s3user = emu.s3(&key(S3USER));
    let r = s3user
        .get_object()
        .bucket("missing")
        .key("absent")
        .send()
        .await;
    assert_eq!((code(&r).as_str(), status(&r)), ("NoSuchKey", 404));
    let r = s3user
        .head_object()
        .bucket("missing")
        .key("absent")
        .send()
        .await;
    assert_eq!(status(&r), 404);
}

// ---- CopyObject ----

#[tokio::test]
async fn copy_object_needs_get_on_source_and_put_on_destination_for_one_caller() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "copy-src", None).await;
    create(&a, "copy-dst", None).await;
    a.put_object()
        .bucket("copy-src")
        .key("obj")
        .body(body("payload"))
        .send()
        .await
        .unwrap();
    let copy = |who: Key| {
        let c = emu.s3(&who);
        async move {
            c.copy_object()
                .copy_source("copy-src/obj")
                .bucket("copy-dst")
                .key("obj")
                .send()
                .await
        }
    };
    // Missing s3:PutObject on the destination.
    let r = copy(key(COPY_GET)).await;
    assert_eq!(code(&r), "AccessDenied");
    // Missing s3:GetObject on the source.
    let r = copy(key(COPY_PUT)).await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(get_code(&a, "copy-dst", "obj").await, "NoSuchKey");
    // Both.
    let r = copy(key(COPY_BOTH)).await;
    assert_eq!(code(&r), "Ok");
    let got = a
        .get_object()
        .bucket("copy-dst")
        .key("obj")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"payload"
    );
}

#[tokio::test]
async fn copy_object_across_accounts_needs_both_sides() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "copy-src", None).await;
    a.put_object()
        .bucket("copy-src")
        .key("obj")
        .body(body("payload"))
        .send()
        .await
        .unwrap();
    create(&b, "b-dst", None).await;
    let copy_to = |bucket: &'static str| {
        let b = b.clone();
        async move {
            b.copy_object()
                .copy_source("copy-src/obj")
                .bucket(bucket)
                .key("obj")
                .send()
                .await
        }
    };
    // A has not granted B s3:GetObject.
    assert_eq!(code(&copy_to("b-dst").await), "AccessDenied");
    set_policy(
        &a,
        "copy-src",
        &policy(
            "Allow",
            &aws(B),
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::copy-src/*""#,
            "",
        ),
    )
    .await;
    assert_eq!(code(&copy_to("b-dst").await), "Ok");
    // B may read the source but not write into A's bucket.
    assert_eq!(code(&copy_to("copy-src").await), "AccessDenied");
}

// ---- Condition keys through real requests ----

#[tokio::test]
async fn secure_transport_false_is_denied_over_plain_http() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let user = emu.s3(&key(S3USER));
    create(&a, "tls-only", None).await;
    a.put_object()
        .bucket("tls-only")
        .key("k")
        .body(body("v"))
        .send()
        .await
        .unwrap();
    let deny_when = |v: &str| {
        policy(
            "Deny",
            r#""*""#,
            r#""s3:*""#,
            r#"["arn:aws:s3:::tls-only","arn:aws:s3:::tls-only/*"]"#,
            &format!(r#"{{"Bool":{{"aws:SecureTransport":"{v}"}}}}"#),
        )
    };
    set_policy(&a, "tls-only", &deny_when("false")).await;
    // The emulator speaks plain HTTP: aws:SecureTransport is false, so everyone is denied.
    assert_eq!(get_code(&user, "tls-only", "k").await, "AccessDenied");
    assert_eq!(get_code(&a, "tls-only", "k").await, "AccessDenied");
    let r = user.list_objects_v2().bucket("tls-only").send().await;
    assert_eq!(code(&r), "AccessDenied");
    // A deny that applies only over TLS does not match.
    set_policy(&a, "tls-only", &deny_when("true")).await;
    assert_eq!(get_code(&user, "tls-only", "k").await, "Ok");
    assert_eq!(get_code(&a, "tls-only", "k").await, "Ok");
}

#[tokio::test]
async fn s3_prefix_condition_limits_listing() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "prefixed", None).await;
    for k in ["home/a", "home/b", "other/c"] {
        a.put_object()
            .bucket("prefixed")
            .key(k)
            .body(body("x"))
            .send()
            .await
            .unwrap();
    }
    set_policy(
        &a,
        "prefixed",
        &policy(
            "Allow",
            &aws(B),
            r#""s3:ListBucket""#,
            r#""arn:aws:s3:::prefixed""#,
            r#"{"StringLike":{"s3:prefix":"home/*"}}"#,
        ),
    )
    .await;
    let out = b
        .list_objects_v2()
        .bucket("prefixed")
        .prefix("home/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["home/a", "home/b"]);
    let r = b.list_objects_v2().bucket("prefixed").send().await;
    assert_eq!(code(&r), "AccessDenied");
    let r = b
        .list_objects_v2()
        .bucket("prefixed")
        .prefix("other/")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    // ListObjects (v1) sees the same key.
    let r = b
        .list_objects()
        .bucket("prefixed")
        .prefix("home/")
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
    let r = b
        .list_objects()
        .bucket("prefixed")
        .prefix("other/")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
}

#[tokio::test]
async fn x_amz_acl_condition_requires_bucket_owner_full_control() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    let b = emu.s3(&Key::root("B"));
    create(&a, "bofc-only", Some(ObjectOwnership::BucketOwnerPreferred)).await;
    set_policy(
        &a,
        "bofc-only",
        &policy(
            "Allow",
            &aws(B),
            r#""s3:PutObject""#,
            r#""arn:aws:s3:::bofc-only/*""#,
            r#"{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#,
        ),
    )
    .await;
    let put = |k: &'static str, acl: Option<ObjectCannedAcl>| {
        let b = b.clone();
        async move {
            b.put_object()
                .bucket("bofc-only")
                .key(k)
                .set_acl(acl)
                .body(body("x"))
                .send()
                .await
        }
    };
    assert_eq!(code(&put("none", None).await), "AccessDenied");
    assert_eq!(
        code(&put("read", Some(ObjectCannedAcl::BucketOwnerRead)).await),
        "AccessDenied"
    );
    assert_eq!(
        code(&put("full", Some(ObjectCannedAcl::BucketOwnerFullControl)).await),
        "Ok"
    );
    assert_eq!(object_owner(&a, "bofc-only", "full").await, canonical(A));
}

// ---- Denial messages ----

#[tokio::test]
async fn denial_messages_explain_within_the_account_and_not_across() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "msgs", None).await;
    a.put_object()
        .bucket("msgs")
        .key("k")
        .body(body("v"))
        .send()
        .await
        .unwrap();
    let r = emu
        .s3(&key(READER))
        .get_object()
        .bucket("msgs")
        .key("k")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    let msg = err_message(&r);
    assert!(
        msg.starts_with("User: arn:aws:iam::111111111111:user/reader"),
        "{msg}"
    );
    assert!(
        msg.contains(
            r#"is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::msgs/k""#
        ),
        "{msg}"
    );
    assert!(
        msg.contains("because no identity-based policy allows the s3:GetObject action"),
        "{msg}"
    );
    // Across accounts: just "Access Denied".
    let r = emu
        .s3(&Key::root("B"))
        .get_object()
        .bucket("msgs")
        .key("k")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(err_message(&r), "Access Denied");
    let r = emu
        .s3(&key(B_S3))
        .get_object()
        .bucket("msgs")
        .key("k")
        .send()
        .await;
    assert_eq!(err_message(&r), "Access Denied");
}

// ---- Addressing, presigned URLs ----

/// Sends every request to 127.0.0.1 while keeping the virtual-hosted `Host` header
/// (`BUCKET.localhost:PORT`), since `*.localhost` need not resolve on the test machine. The
/// signature was computed for that host, so the emulator sees exactly what S3 would.
#[derive(Debug)]
struct ToLoopback {
    port: u16,
}

impl Intercept for ToLoopback {
    fn name(&self) -> &'static str {
        "ToLoopback"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = context.request_mut();
        let uri: http::Uri = req.uri().parse()?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_owned();
        req.headers_mut().insert("host", host);
        req.set_uri(format!("http://127.0.0.1:{}{path}", self.port))?;
        Ok(())
    }
}

fn virtual_hosted_s3(emu: &Emu, who: &Key) -> aws_sdk_s3::Client {
    let port = emu.running.addr.port();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(who.creds())
        .endpoint_url(format!("http://localhost:{port}"))
        .force_path_style(false)
        .interceptor(ToLoopback { port })
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Records the Host header of the last request (to prove the addressing style).
#[derive(Debug, Default, Clone)]
struct SeenHost(std::sync::Arc<std::sync::Mutex<String>>);

impl Intercept for SeenHost {
    fn name(&self) -> &'static str {
        "SeenHost"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = context.request();
        let host = req.headers().get("host").unwrap_or_default().to_owned();
        *self.0.lock().unwrap() = format!("{host} {}", req.uri());
        Ok(())
    }
}

/// S3 User Guide, "Virtual hosting of general purpose buckets": "you can use Amazon S3
/// virtual hosting to address a general purpose bucket in a REST API call by using the HTTP
/// `Host` header" (`https://bucket-name.s3.region-code.amazonaws.com/key`).
#[tokio::test]
async fn virtual_hosted_style_requests_put_get_and_list() {
    let emu = emu().await;
    let port = emu.running.addr.port();
    emu.s3(&Key::root("A"))
        .create_bucket()
        .bucket("vhost")
        .send()
        .await
        .unwrap();
    let seen = SeenHost::default();
    let a = {
        let conf = virtual_hosted_s3(&emu, &Key::root("A"))
            .config()
            .to_builder()
            .interceptor(seen.clone())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    };
    let r = a
        .put_object()
        .bucket("vhost")
        .key("dir/k")
        .body(body("hosted"))
        .send()
        .await;
    let sent = seen.0.lock().unwrap().clone();
    assert!(
        sent.starts_with(&format!(
            "vhost.localhost:{port} http://127.0.0.1:{port}/dir/k"
        )),
        "the request is virtual-hosted-style: {sent}"
    );
    assert_eq!(code(&r), "Ok", "{}", err_message(&r));
    let got = a
        .get_object()
        .bucket("vhost")
        .key("dir/k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hosted"
    );
    let listed = a
        .list_objects_v2()
        .bucket("vhost")
        .prefix("dir/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["dir/k"]);
    // Path-style sees the same object.
    assert_eq!(
        get_code(&emu.s3(&Key::root("A")), "vhost", "dir/k").await,
        "Ok"
    );
    // Authorization applies the same way: B is denied, a missing bucket is 404.
    let b = virtual_hosted_s3(&emu, &Key::root("B"));
    assert_eq!(get_code(&b, "vhost", "dir/k").await, "AccessDenied");
    let r = a.list_objects_v2().bucket("no-such-vhost").send().await;
    assert_eq!(code(&r), "NoSuchBucket");
}

/// The path and query of a presigned URL, and its headers.
fn presigned_parts(
    p: &aws_sdk_s3::presigning::PresignedRequest,
) -> (String, Vec<(String, String)>) {
    let uri: http::Uri = p.uri().parse().unwrap();
    let pq = uri.path_and_query().unwrap().as_str().to_owned();
    let headers = p
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (pq, headers)
}

#[tokio::test]
async fn presigned_get_works_without_the_sdk_and_tampering_breaks_it() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "presign", None).await;
    a.put_object()
        .bucket("presign")
        .key("k")
        .body(body("presigned body"))
        .send()
        .await
        .unwrap();
    let host = emu.running.addr.to_string();
    let presigned = a
        .get_object()
        .bucket("presign")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let (pq, headers) = presigned_parts(&presigned);
    assert!(pq.contains("X-Amz-Signature="), "{pq}");
    let (st, text) = raw_http_get(emu.running.addr, &host, &pq, &headers).await;
    assert_eq!(st, 200, "{text}");
    assert_eq!(text, "presigned body");

    // One hex digit of the signature changed.
    let sig_at = pq.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = pq.clone().into_bytes();
    tampered[sig_at] = if tampered[sig_at] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (st, text) = raw_http_get(emu.running.addr, &host, &tampered, &headers).await;
    assert_eq!(st, 403, "{text}");
    assert!(
        text.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{text}"
    );

    // A URL presigned by someone without access is a valid signature but denied.
    let by_b = emu
        .s3(&Key::root("B"))
        .get_object()
        .bucket("presign")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let (pq, headers) = presigned_parts(&by_b);
    let (st, text) = raw_http_get(emu.running.addr, &host, &pq, &headers).await;
    assert_eq!(st, 403, "{text}");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
}

#[tokio::test]
async fn presigned_get_with_temporary_credentials_carries_the_token() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "presign-tmp", None).await;
    a.put_object()
        .bucket("presign-tmp")
        .key("k")
        .body(body("via session"))
        .send()
        .await
        .unwrap();
    let out = emu
        .sts(&key(S3USER))
        .get_session_token()
        .send()
        .await
        .unwrap();
    let tmp = key_from_sts(out.credentials().unwrap());
    let presigned = emu
        .s3(&tmp)
        .get_object()
        .bucket("presign-tmp")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let (pq, headers) = presigned_parts(&presigned);
    assert!(pq.contains("X-Amz-Security-Token="), "{pq}");
    let host = emu.running.addr.to_string();
    let (st, text) = raw_http_get(emu.running.addr, &host, &pq, &headers).await;
    assert_eq!(st, 200, "{text}");
    assert_eq!(text, "via session");
    // The same URL without its token is refused.
    let start = pq.find("X-Amz-Security-Token=").unwrap();
    let end = pq[start..]
        .find('&')
        .map(|i| start + i + 1)
        .unwrap_or(pq.len());
    let stripped = format!("{}{}", &pq[..start], &pq[end..]);
    let (st, text) = raw_http_get(emu.running.addr, &host, &stripped, &headers).await;
    assert_eq!(st / 100, 4, "{text}");
}

#[tokio::test]
async fn expired_presigned_url_is_refused() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "presign-exp", None).await;
    a.put_object()
        .bucket("presign-exp")
        .key("k")
        .body(body("v"))
        .send()
        .await
        .unwrap();
    let presigned = a
        .get_object()
        .bucket("presign-exp")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(1)).unwrap())
        .await
        .unwrap();
    let (pq, headers) = presigned_parts(&presigned);
    let host = emu.running.addr.to_string();
    let (st, _) = raw_http_get(emu.running.addr, &host, &pq, &headers).await;
    assert_eq!(st, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (st, text) = raw_http_get(emu.running.addr, &host, &pq, &headers).await;
    assert_eq!(st, 403, "{text}");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
    assert!(text.contains("Request has expired"), "{text}");
}

// ---- Checksums ----

/// CRC32C (Castagnoli), bitwise.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn crc32c_checksum_is_stored_and_returned() {
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "sums", None).await;
    let data = b"checksummed body";
    let want = b64(&crc32c(data).to_be_bytes());
    let put = a
        .put_object()
        .bucket("sums")
        .key("k")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(ByteStream::from_static(data))
        .send()
        .await
        .unwrap();
    assert_eq!(put.checksum_crc32_c(), Some(want.as_str()));
    let got = a
        .get_object()
        .bucket("sums")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.checksum_crc32_c(), Some(want.as_str()));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        data
    );
    let head = a
        .head_object()
        .bucket("sums")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32_c(), Some(want.as_str()));
    // Without ChecksumMode the checksum is not returned.
    let plain = a
        .head_object()
        .bucket("sums")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.checksum_crc32_c(), None);
}

#[tokio::test]
async fn wrong_content_md5_is_bad_digest() {
    let emu = emu().await;
    let a = emu.s3(&Key::root("A"));
    create(&a, "md5", None).await;
    // MD5("hello") = 5d41402abc4b2a76b9719d911017c592.
    let r = a
        .put_object()
        .bucket("md5")
        .key("k")
        .content_md5("XUFAKrxLKna5cZ2REBfFkg==")
        .body(body("hello"))
        .send()
        .await;
    assert_eq!(code(&r), "Ok");
    // The MD5 of the empty string, for a non-empty body.
    let r = a
        .put_object()
        .bucket("md5")
        .key("k2")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(body("hello"))
        .send()
        .await;
    assert_eq!(code(&r), "BadDigest");
    assert_eq!(status(&r), 400);
    assert_eq!(get_code(&a, "md5", "k2").await, "NoSuchKey");
}
