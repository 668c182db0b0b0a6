//! The emulator driven by the real Rust SDK: signatures, STS identities, bucket basics,
//! Object Ownership defaults, bucket policies across accounts.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketCannedAcl, ObjectCannedAcl, ObjectOwnership};

use crate::support::*;

#[tokio::test]
async fn caller_identities_as_aws_forms_them() {
    let emu = Emu::default().await;
    let out = emu
        .sts(&Key::root("A"))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(out.account(), Some(A));
    assert_eq!(out.arn(), Some("arn:aws:iam::111111111111:root"));
    assert_eq!(out.user_id(), Some(A));
}

#[tokio::test]
async fn wrong_secret_and_unknown_key_are_refused() {
    let emu = Emu::default().await;
    let bad = Key::new(
        "AKIAFERRYROOTA000001",
        "not-the-secret-key-0000000000000000000000",
    );
    let r = emu.s3(&bad).list_buckets().send().await;
    assert_eq!(code(&r), "SignatureDoesNotMatch");
    assert_eq!(status(&r), 403);
    let unknown = Key::new("AKIAUNKNOWNKEY000000", "whatever");
    let r = emu.s3(&unknown).list_buckets().send().await;
    assert_eq!(code(&r), "InvalidAccessKeyId");
    let r = emu.sts(&bad).get_caller_identity().send().await;
    let e = r.unwrap_err();
    assert_eq!(
        e.as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("SignatureDoesNotMatch")
    );
}

#[tokio::test]
async fn new_buckets_default_to_bucket_owner_enforced() {
    let emu = Emu::default().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("modern").send().await.unwrap();
    let oc = a
        .get_bucket_ownership_controls()
        .bucket("modern")
        .send()
        .await
        .unwrap();
    let rule = &oc.ownership_controls().unwrap().rules()[0];
    assert_eq!(
        rule.object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
    let pab = a
        .get_public_access_block()
        .bucket("modern")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .unwrap()
            .block_public_acls(),
        Some(true)
    );
    // ACLs other than bucket-owner-full-control are refused.
    let r = a
        .put_object()
        .bucket("modern")
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(code(&r), "AccessControlListNotSupported");
    assert_eq!(status(&r), 400);
    a.put_object()
        .bucket("modern")
        .key("k")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn put_get_head_list_delete_round_trip() {
    let emu = Emu::default().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("data").send().await.unwrap();
    for k in ["b/2", "a/1", "a/2", "c", "a/sub/3"] {
        a.put_object()
            .bucket("data")
            .key(k)
            .content_type("text/plain")
            .metadata("origin", "test")
            .body(ByteStream::from(k.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
    let got = a
        .get_object()
        .bucket("data")
        .key("a/1")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("test")
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"a/1"
    );
    let ranged = a
        .get_object()
        .bucket("data")
        .key("a/sub/3")
        .range("bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.content_range(), Some("bytes 2-4/7"));
    assert_eq!(
        ranged.body.collect().await.unwrap().into_bytes().as_ref(),
        b"sub"
    );

    let all = a.list_objects_v2().bucket("data").send().await.unwrap();
    let keys: Vec<_> = all.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a/1", "a/2", "a/sub/3", "b/2", "c"]);
    let top = a
        .list_objects_v2()
        .bucket("data")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/", "b/"]);
    assert_eq!(top.contents().len(), 1);
    let under_a = a
        .list_objects_v2()
        .bucket("data")
        .prefix("a/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(under_a.contents().len(), 2);
    assert_eq!(under_a.common_prefixes()[0].prefix(), Some("a/sub/"));

    // Pagination walks every key exactly once.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = a
            .list_objects_v2()
            .bucket("data")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        token = page.next_continuation_token().map(str::to_owned);
    }
    assert_eq!(seen, ["a/1", "a/2", "a/sub/3", "b/2", "c"]);

    a.delete_object()
        .bucket("data")
        .key("c")
        .send()
        .await
        .unwrap();
    let r = a.get_object().bucket("data").key("c").send().await;
    assert_eq!(code(&r), "NoSuchKey");
    assert_eq!(status(&r), 404);
    let r = a.delete_bucket().bucket("data").send().await;
    assert_eq!(code(&r), "BucketNotEmpty");
}

#[tokio::test]
async fn list_buckets_shows_only_the_callers_account() {
    let emu = Emu::default().await;
    emu.s3(&Key::root("A"))
        .create_bucket()
        .bucket("in-a")
        .send()
        .await
        .unwrap();
    emu.s3(&Key::root("B"))
        .create_bucket()
        .bucket("in-b")
        .send()
        .await
        .unwrap();
    let out = emu.s3(&Key::root("B")).list_buckets().send().await.unwrap();
    let names: Vec<_> = out.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["in-b"]);
    assert_eq!(
        out.owner().and_then(|o| o.id()),
        Some(canonical(B).as_str())
    );
}

#[tokio::test]
async fn other_accounts_are_denied_without_a_policy_and_missing_keys_are_403() {
    let emu = Emu::default().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("private").send().await.unwrap();
    a.put_object()
        .bucket("private")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let b = emu.s3(&Key::root("B"));
    let r = b.get_object().bucket("private").key("k").send().await;
    assert_eq!(code(&r), "AccessDenied");
    // A missing key is 403, not 404, for a caller who may not list the bucket.
    let r = b.get_object().bucket("private").key("nope").send().await;
    assert_eq!(code(&r), "AccessDenied");
    let r = b
        .get_object()
        .bucket("no-such-bucket")
        .key("k")
        .send()
        .await;
    assert_eq!(code(&r), "NoSuchBucket");
}

#[tokio::test]
async fn bucket_policies_grant_across_accounts_and_are_validated() {
    let emu = Emu::default().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("shared").send().await.unwrap();
    a.put_object()
        .bucket("shared")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{B}"}},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]}}]}}"#
    );
    a.put_bucket_policy()
        .bucket("shared")
        .policy(&policy)
        .send()
        .await
        .unwrap();
    let b = emu.s3(&Key::root("B"));
    let got = b
        .get_object()
        .bucket("shared")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"v"
    );
    let r = b.get_object().bucket("shared").key("missing").send().await;
    assert_eq!(code(&r), "NoSuchKey", "B may list, so a missing key is 404");
    // Another account never manages the bucket policy: 405 with permission... or 403 without.
    let r = b.get_bucket_policy().bucket("shared").send().await;
    assert_eq!(code(&r), "AccessDenied");
    // Malformed policies are refused.
    for (bad, why) in [
        ("{", "invalid JSON"),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::shared/*"}]}"#,
            "invalid action",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/nobody"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}"#,
            "principal",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket/*"}]}"#,
            "resource",
        ),
    ] {
        let r = a
            .put_bucket_policy()
            .bucket("shared")
            .policy(bad)
            .send()
            .await;
        assert_eq!(code(&r), "MalformedPolicy", "{why}");
        assert_eq!(status(&r), 400, "{why}");
    }
    // Block Public Access (on by default) refuses a public policy.
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}"#;
    let r = a
        .put_bucket_policy()
        .bucket("shared")
        .policy(public)
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
}

#[tokio::test]
async fn legacy_defaults_use_object_writer_and_allow_public_acls() {
    let emu = Emu::start(
        ferry::emu::World::default_world(),
        ferry::emu::Options {
            legacy_defaults: true,
            ..Default::default()
        },
    )
    .await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket()
        .bucket("old")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    a.put_object()
        .bucket("old")
        .key("pub")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    // Anonymous callers read a public-read object.
    let anon = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .force_path_style(true)
            .allow_no_auth()
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );
    let got = anon
        .get_object()
        .bucket("old")
        .key("pub")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello"
    );
    let acl = a
        .get_object_acl()
        .bucket("old")
        .key("pub")
        .send()
        .await
        .unwrap();
    assert!(acl
        .grants()
        .iter()
        .any(|g| g.grantee().and_then(|g| g.uri())
            == Some("http://acs.amazonaws.com/groups/global/AllUsers")));
}

#[tokio::test]
async fn injected_faults_answer_as_s3_does() {
    use ferry::emu::{Faults, Options, World};
    let always = |f: Faults| Options {
        faults: f,
        ..Options::default()
    };
    let emu = Emu::start(
        World::default_world(),
        always(Faults {
            slow_down: 1.0,
            ..Faults::default()
        }),
    )
    .await;
    let r = emu.s3(&Key::root("A")).list_buckets().send().await;
    assert_eq!(code(&r), "SlowDown");
    assert_eq!(status(&r), 503);
    // STS is not subject to S3 faults.
    emu.sts(&Key::root("A"))
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    let emu = Emu::start(
        World::default_world(),
        always(Faults {
            internal_error: 1.0,
            ..Faults::default()
        }),
    )
    .await;
    let r = emu.s3(&Key::root("A")).list_buckets().send().await;
    assert_eq!(code(&r), "InternalError");
    assert_eq!(status(&r), 500);

    let emu = Emu::start(
        World::default_world(),
        always(Faults {
            drop_connection: 1.0,
            ..Faults::default()
        }),
    )
    .await;
    let r = emu.s3(&Key::root("A")).list_buckets().send().await;
    let e = r.unwrap_err();
    assert!(
        e.raw_response().is_none(),
        "a dropped connection has no response: {e:?}"
    );

    assert!(Faults::parse("slowdown=0.05,drop=0.01,latency=5ms").is_ok());
    assert!(Faults::parse("slowdown=2").is_err());
    assert!(Faults::parse("bogus=0.1").is_err());
}
