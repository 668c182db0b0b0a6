//! IAM through the Rust SDK: entities, keys, policies, and IAM's own authorization.

use crate::support::*;

fn iam_code<E: aws_sdk_iam::error::ProvideErrorMetadata, R>(
    r: &Result<R, aws_sdk_iam::error::SdkError<E>>,
) -> String {
    match r {
        Ok(_) => "Ok".to_owned(),
        Err(e) => e
            .as_service_error()
            .and_then(|s| s.code())
            .unwrap_or("?")
            .to_owned(),
    }
}

#[tokio::test]
async fn users_keys_policies_and_authorization() {
    let emu = Emu::default().await;
    let root = emu.iam(&Key::root("C"));
    let me = root.get_user().send().await.unwrap();
    assert_eq!(
        me.user().map(|u| u.arn()),
        Some(format!("arn:aws:iam::{C}:root").as_str())
    );

    root.create_user().user_name("Dave").send().await.unwrap();
    let r = root.create_user().user_name("Dave").send().await;
    assert_eq!(iam_code(&r), "EntityAlreadyExists");
    let key = root
        .create_access_key()
        .user_name("Dave")
        .send()
        .await
        .unwrap();
    let k = key.access_key().unwrap();
    let dave = Key::new(k.access_key_id(), k.secret_access_key());

    // Dave has no policy: IAM refuses him, S3 too.
    let r = emu
        .iam(&dave)
        .create_role()
        .role_name("r")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await;
    assert_eq!(iam_code(&r), "AccessDenied");
    let who = emu.sts(&dave).get_caller_identity().send().await.unwrap();
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{C}:user/Dave").as_str())
    );
    assert!(who.user_id().unwrap().starts_with("AIDA"));

    // Malformed documents are refused on write.
    let r = root
        .put_user_policy()
        .user_name("Dave")
        .policy_name("p")
        .policy_document(
            r#"{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#,
        )
        .send()
        .await;
    assert_eq!(iam_code(&r), "MalformedPolicyDocument");
    // A trust policy naming a user that does not exist is refused.
    let r = root
        .create_role()
        .role_name("ghost-trust")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:user/ghost"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await;
    assert_eq!(iam_code(&r), "MalformedPolicyDocument");

    // With iam:CreateRole allowed, Dave creates a role.
    root.put_user_policy()
        .user_name("Dave")
        .policy_name("roles")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    emu.iam(&dave)
        .create_role()
        .role_name("r")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let role = root.get_role().role_name("r").send().await.unwrap();
    assert_eq!(
        role.role().map(|r| r.arn()),
        Some(format!("arn:aws:iam::{C}:role/r").as_str())
    );
    assert!(role.role().unwrap().role_id().starts_with("AROA"));
}

#[tokio::test]
async fn deleting_a_user_breaks_grants_even_if_it_is_recreated() {
    use aws_sdk_s3::primitives::ByteStream;
    let emu = Emu::default().await;
    let iam_b = emu.iam(&Key::root("B"));
    iam_b
        .create_user()
        .user_name("reader")
        .send()
        .await
        .unwrap();
    let s3a = emu.s3(&Key::root("A"));
    s3a.create_bucket().bucket("grants").send().await.unwrap();
    s3a.put_object()
        .bucket("grants")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:iam::{B}:user/reader");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::grants/*"}}]}}"#
    );
    s3a.put_bucket_policy()
        .bucket("grants")
        .policy(&policy)
        .send()
        .await
        .unwrap();
    let read_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let make_reader = || async {
        iam_b
            .put_user_policy()
            .user_name("reader")
            .policy_name("read")
            .policy_document(read_all)
            .send()
            .await
            .unwrap();
        let k = iam_b
            .create_access_key()
            .user_name("reader")
            .send()
            .await
            .unwrap();
        let k = k.access_key().unwrap();
        Key::new(k.access_key_id(), k.secret_access_key())
    };
    let first = make_reader().await;
    emu.s3(&first)
        .get_object()
        .bucket("grants")
        .key("k")
        .send()
        .await
        .unwrap();

    // Delete (keys and policies first) and recreate under the same name.
    iam_b
        .delete_access_key()
        .user_name("reader")
        .access_key_id(&first.id)
        .send()
        .await
        .unwrap();
    iam_b
        .delete_user_policy()
        .user_name("reader")
        .policy_name("read")
        .send()
        .await
        .unwrap();
    iam_b
        .delete_user()
        .user_name("reader")
        .send()
        .await
        .unwrap();
    let shown = s3a
        .get_bucket_policy()
        .bucket("grants")
        .send()
        .await
        .unwrap();
    assert!(
        !shown.policy().unwrap().contains(&arn),
        "the policy now shows the old unique ID"
    );
    assert!(
        shown.policy().unwrap().contains("\"AIDA"),
        "{:?}",
        shown.policy()
    );
    iam_b
        .create_user()
        .user_name("reader")
        .send()
        .await
        .unwrap();
    let second = make_reader().await;
    let r = emu
        .s3(&second)
        .get_object()
        .bucket("grants")
        .key("k")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
}
