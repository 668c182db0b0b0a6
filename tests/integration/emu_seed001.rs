//! Seed 001 (S3 user guide, Example 4) end to end with the Rust SDK against
//! `scenarios/seed001.toml`.

use aws_sdk_s3::primitives::ByteStream;

use crate::support::*;

fn badmin() -> Key {
    Key::new(
        "AKIASEED001BADMIN001",
        "seed001SecretOfAccountBadmin000000000001",
    )
}
fn dave() -> Key {
    Key::new(
        "AKIASEED001CDAVE0001",
        "seed001SecretOfDave000000000000000000001",
    )
}
fn aadmin() -> Key {
    Key::new(
        "AKIASEED001AADMIN001",
        "seed001SecretOfAccountAadmin000000000001",
    )
}
const BUCKET: &str = "doc-example-bucket1";
const ROLE: &str = "arn:aws:iam::111111111111:role/examplerole";

#[tokio::test]
async fn example_4_end_to_end() {
    let emu = Emu::scenario("seed001.toml").await;
    let b = emu.s3(&badmin());

    // Step 2 without the grant: statement 112 denies.
    let r = b
        .put_object()
        .bucket(BUCKET)
        .key("HappyFace.jpg")
        .body(ByteStream::from_static(b"smile"))
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    assert_eq!(status(&r), 403);

    // Step 2: upload granting the bucket owner full control.
    b.put_object()
        .bucket(BUCKET)
        .key("HappyFace.jpg")
        .grant_full_control(format!("id={}", canonical(A)))
        .body(ByteStream::from_static(b"smile"))
        .send()
        .await
        .unwrap();
    // The object belongs to B (ObjectWriter), and its ACL grants A full control.
    let acl = b
        .get_object_acl()
        .bucket(BUCKET)
        .key("HappyFace.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(
        acl.owner().and_then(|o| o.id()),
        Some(canonical(B).as_str())
    );
    assert!(acl.grants().iter().any(|g| {
        g.grantee().and_then(|g| g.id()) == Some(canonical(A).as_str())
            && g.permission().map(|p| p.as_str()) == Some("FULL_CONTROL")
    }));

    // Step 3.2: Dave assumes examplerole and reads the object.
    let sess = emu.assume(&dave(), ROLE, "test").await;
    let who = emu.sts(&sess).get_caller_identity().send().await.unwrap();
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::111111111111:assumed-role/examplerole/test")
    );
    assert!(
        who.user_id().unwrap().starts_with("AROA") && who.user_id().unwrap().ends_with(":test")
    );
    let got = emu
        .s3(&sess)
        .get_object()
        .bucket(BUCKET)
        .key("HappyFace.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"smile"
    );
    // get-object-acl is denied: the role does not allow it.
    let r = emu
        .s3(&sess)
        .get_object_acl()
        .bucket(BUCKET)
        .key("HappyFace.jpg")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    // Nor may the session upload.
    let r = emu
        .s3(&sess)
        .put_object()
        .bucket(BUCKET)
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
}

#[tokio::test]
async fn without_the_grant_the_bucket_owner_cannot_read_bs_object() {
    // With the bucket policy's condition removed, B uploads without granting A anything:
    // the object is B's and A (even its administrator) cannot read it.
    let emu = Emu::scenario("seed001.toml").await;
    let a_root = emu.s3(&Key::new(
        "AKIAFERRYROOTA000001",
        "ferryRootSecretKeyOfAccountA000000000001",
    ));
    a_root
        .delete_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let allow_b = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:user/AccountBadmin"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::{BUCKET}/*"}}]}}"#
    );
    a_root
        .put_bucket_policy()
        .bucket(BUCKET)
        .policy(allow_b)
        .send()
        .await
        .unwrap();
    emu.s3(&badmin())
        .put_object()
        .bucket(BUCKET)
        .key("private-to-b")
        .body(ByteStream::from_static(b"b only"))
        .send()
        .await
        .unwrap();
    let r = emu
        .s3(&aadmin())
        .get_object()
        .bucket(BUCKET)
        .key("private-to-b")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    let r = a_root
        .get_object()
        .bucket(BUCKET)
        .key("private-to-b")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
    // ...but the bucket owner can always delete it.
    a_root
        .delete_object()
        .bucket(BUCKET)
        .key("private-to-b")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn only_trusted_callers_assume_examplerole() {
    let emu = Emu::scenario("seed001.toml").await;
    let r = emu
        .sts(&badmin())
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("sess")
        .send()
        .await;
    let e = r.unwrap_err();
    let se = e.as_service_error().expect("service error");
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(se),
        Some("AccessDenied")
    );
    // Root users cannot assume roles at all.
    let croot = Key::new(
        "AKIAFERRYROOTC000003",
        "ferryRootSecretKeyOfAccountC000000000003",
    );
    let r = emu
        .sts(&croot)
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("sess")
        .send()
        .await;
    assert!(r.is_err());
}
