//! S3: buckets (with an Object Ownership mode), bucket policies, objects; actions as a named
//! principal (put with a canned ACL or a `grant-*` header, get, head, list, delete, object
//! ACLs, server-side copy, multipart upload, bucket location); checks of bodies, listings,
//! ACLs and object owners.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CompletedMultipartUpload, CompletedPart, CreateBucketConfiguration,
    ObjectCannedAcl, ObjectOwnership,
};

use super::{step, Args, StepDef};
use crate::harness::cleanup::Resource;
use crate::harness::world::{fail, failure, BucketRef, FerryWorld, Output};

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            r#"^a bucket "([^"]+)" in account "([^"]+)"(?: with object ownership "(BucketOwnerEnforced|BucketOwnerPreferred|ObjectWriter)")?$"#,
            "Creates a bucket named NAME-${run} (${bucket:NAME}; ${bucket} is the last one) as the account's administrator, with an Object Ownership mode (default: the account's default, BucketOwnerEnforced).",
            create_bucket
        ),
        step!(
            Given,
            r#"^the bucket policy of "([^"]+)" is:$"#,
            "Puts the docstring as the bucket's policy, as the bucket owner's administrator (must succeed).",
            bucket_policy
        ),
        step!(
            Given,
            r#"^(?:an )?object "([^"]+)" in bucket "([^"]+)" containing "([^"]*)"$"#,
            "Puts an object as the bucket owner's administrator (must succeed).",
            seed_object
        ),
        step!(
            When,
            r#"^"([^"]+)" sets the bucket policy of "([^"]+)" to:$"#,
            "PutBucketPolicy with the docstring as the principal (an action: check it with an outcome step).",
            set_bucket_policy
        ),
        step!(
            When,
            r#"^"([^"]+)" puts object "([^"]+)" in(?:to)? bucket "([^"]+)"(?: containing "([^"]*)")?(?: with no ACL| with ACL "([^"]+)")?(?: with grant-(read|read-acp|write-acp|full-control) "([^"]+)")?$"#,
            "PutObject as the principal, optionally with a canned ACL (x-amz-acl) or one x-amz-grant-* header (value as sent, e.g. id=${canonical:A}); `with no ACL` says so explicitly (for example tables).",
            put_object
        ),
        step!(
            When,
            r#"^"([^"]+)" gets object "([^"]+)" from bucket "([^"]+)"$"#,
            "GetObject as the principal (the body is kept for `the body is`).",
            get_object
        ),
        step!(
            When,
            r#"^"([^"]+)" heads object "([^"]+)" in bucket "([^"]+)"$"#,
            "HeadObject as the principal.",
            head_object
        ),
        step!(
            When,
            r#"^"([^"]+)" lists bucket "([^"]+)"(?: with prefix "([^"]*)")?$"#,
            "ListObjectsV2 as the principal, optionally with a prefix (the keys are kept for `the listing`).",
            list_objects
        ),
        step!(
            When,
            r#"^"([^"]+)" lists (?:all )?(?:the|its|their) buckets$"#,
            "ListBuckets (s3:ListAllMyBuckets) as the principal.",
            list_buckets
        ),
        step!(
            When,
            r#"^"([^"]+)" gets the location of bucket "([^"]+)"$"#,
            "GetBucketLocation as the principal.",
            bucket_location
        ),
        step!(
            When,
            r#"^"([^"]+)" deletes object "([^"]+)" from bucket "([^"]+)"$"#,
            "DeleteObject as the principal.",
            delete_object
        ),
        step!(
            When,
            r#"^"([^"]+)" gets the ACL of object "([^"]+)" in bucket "([^"]+)"$"#,
            "GetObjectAcl as the principal (the ACL is kept for `the ACL ...`).",
            get_object_acl
        ),
        step!(
            When,
            r#"^"([^"]+)" puts ACL "([^"]+)" on object "([^"]+)" in bucket "([^"]+)"$"#,
            "PutObjectAcl with a canned ACL as the principal.",
            put_object_acl
        ),
        step!(
            When,
            r#"^"([^"]+)" copies object "([^"]+)" in bucket "([^"]+)" to "([^"]+)" in bucket "([^"]+)"(?: with ACL "([^"]+)")?$"#,
            "Server-side CopyObject as the principal, optionally with a canned ACL.",
            copy_object
        ),
        step!(
            When,
            r#"^"([^"]+)" uploads object "([^"]+)" to bucket "([^"]+)" in (\d+) parts(?: with ACL "([^"]+)")?$"#,
            "A multipart upload as the principal (parts of 5 MiB on AWS, 1 KiB on the emulator), optionally with a canned ACL.",
            multipart
        ),
        step!(
            Then,
            r#"^the body is "([^"]*)"$"#,
            "The body of the last GetObject.",
            body_is
        ),
        step!(
            Then,
            r#"^the listing (contains|omits) "([^"]+)"$"#,
            "The keys of the last ListObjectsV2 contain or omit a key.",
            listing_has
        ),
        step!(
            Then,
            r#"^the listing (contains|omits) bucket "([^"]+)"$"#,
            "The last ListBuckets contains or omits a bucket of this scenario.",
            listing_has_bucket
        ),
        step!(
            Then,
            r#"^the location is "([^"]*)"$"#,
            "The last GetBucketLocation's LocationConstraint (empty for us-east-1).",
            location_is
        ),
        step!(
            Then,
            r#"^the ACL (grants|does not grant) (FULL_CONTROL|READ|WRITE|READ_ACP|WRITE_ACP) to account "([^"]+)"$"#,
            "The last GetObjectAcl grants (or not) a permission to an account's canonical user ID.",
            acl_grants
        ),
        step!(
            Then,
            r#"^the ACL owner is account "([^"]+)"$"#,
            "The owner of the last GetObjectAcl's object.",
            acl_owner
        ),
        step!(
            Then,
            r#"^the owner of object "([^"]+)" in bucket "([^"]+)" is account "([^"]+)"$"#,
            "The object's owner (ListObjectsV2 with fetch-owner, as the bucket owner's administrator).",
            owner_is
        ),
    ]
}

fn acl(name: &str) -> ObjectCannedAcl {
    if !ObjectCannedAcl::values().contains(&name) {
        fail(format!("`{name}` is not a canned ACL"));
    }
    ObjectCannedAcl::from(name)
}

async fn create_bucket(w: &mut FerryWorld, a: Args) {
    w.provisioning("create bucket");
    let (logical, alias) = (a.get(1).to_owned(), a.get(2).to_owned());
    let name = w.bucket_name(&logical);
    let c = w.admin(&alias);
    let mut req = c.s3.create_bucket().bucket(&name);
    if let Some(mode) = a.opt(3) {
        req = req.object_ownership(ObjectOwnership::from(mode));
    }
    let region = w
        .account(&alias)
        .sdk
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_default();
    if !region.is_empty() && region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    // Registered before it exists, so an interrupted create is still removed.
    w.created(Resource::Bucket {
        account: alias.clone(),
        name: name.clone(),
    });
    if let Err(e) = req.send().await {
        fail(format!(
            "setup failed: s3 create-bucket {name}: {}",
            failure(&e)
        ));
    }
    w.buckets.insert(
        logical.clone(),
        BucketRef {
            account: alias,
            name,
        },
    );
    w.last_bucket = Some(logical);
}

async fn bucket_policy(w: &mut FerryWorld, a: Args) {
    w.changed();
    w.provisioning("put bucket policy");
    let b = w.bucket(a.get(1)).clone();
    let r = w
        .admin(&b.account)
        .s3
        .put_bucket_policy()
        .bucket(&b.name)
        .policy(a.doc())
        .send()
        .await;
    if let Err(e) = r {
        fail(format!(
            "setup failed: s3 put-bucket-policy {}: {}",
            b.name,
            failure(&e)
        ));
    }
}

async fn seed_object(w: &mut FerryWorld, a: Args) {
    w.provisioning("put object");
    let b = w.bucket(a.get(2)).clone();
    let r = w
        .admin(&b.account)
        .s3
        .put_object()
        .bucket(&b.name)
        .key(a.get(1))
        .body(ByteStream::from(a.get(3).as_bytes().to_vec()))
        .send()
        .await;
    if let Err(e) = r {
        fail(format!(
            "setup failed: s3 put-object {}/{}: {}",
            b.name,
            a.get(1),
            failure(&e)
        ));
    }
}

async fn set_bucket_policy(w: &mut FerryWorld, a: Args) {
    w.changed();
    let who = a.get(1).to_owned();
    let b = w.bucket(a.get(2)).clone();
    let c = w.clients(&who);
    w.begin().await;
    let r =
        c.s3.put_bucket_policy()
            .bucket(&b.name)
            .policy(a.doc())
            .send()
            .await;
    let result = r.map(|_| Output::Nothing).map_err(|e| failure(&e));
    w.outcome(
        format!("\"{who}\": s3:PutBucketPolicy s3://{}", b.name),
        result,
    );
}

async fn put_object(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let key = a.get(2).to_owned();
    let b = w.bucket(a.get(3)).clone();
    let c = w.clients(&who);
    let body = a
        .opt(4)
        .unwrap_or("written by ferry check")
        .as_bytes()
        .to_vec();
    let mut req =
        c.s3.put_object()
            .bucket(&b.name)
            .key(&key)
            .body(ByteStream::from(body));
    let mut how = String::new();
    if let Some(canned) = a.opt(5) {
        req = req.acl(acl(canned));
        how.push_str(&format!(" --acl {canned}"));
    }
    if let (Some(kind), Some(value)) = (a.opt(6), a.opt(7)) {
        req = match kind {
            "read" => req.grant_read(value),
            "read-acp" => req.grant_read_acp(value),
            "write-acp" => req.grant_write_acp(value),
            _ => req.grant_full_control(value),
        };
        how.push_str(&format!(" --grant-{kind} {value}"));
    }
    w.begin().await;
    let r = req.send().await;
    let result = r.map(|_| Output::Nothing).map_err(|e| failure(&e));
    w.outcome(
        format!("\"{who}\": s3:PutObject s3://{}/{key}{how}", b.name),
        result,
    );
}

async fn get_object(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let key = a.get(2).to_owned();
    let b = w.bucket(a.get(3)).clone();
    let c = w.clients(&who);
    w.begin().await;
    let result = match c.s3.get_object().bucket(&b.name).key(&key).send().await {
        Ok(o) => match o.body.collect().await {
            Ok(body) => Ok(Output::Body(body.into_bytes())),
            Err(e) => fail(format!("reading the body of s3://{}/{key}: {e}", b.name)),
        },
        Err(e) => Err(failure(&e)),
    };
    w.outcome(
        format!("\"{who}\": s3:GetObject s3://{}/{key}", b.name),
        result,
    );
}

async fn head_object(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let key = a.get(2).to_owned();
    let b = w.bucket(a.get(3)).clone();
    let c = w.clients(&who);
    w.begin().await;
    let r = c.s3.head_object().bucket(&b.name).key(&key).send().await;
    let result = r.map(|_| Output::Nothing).map_err(|e| failure(&e));
    w.outcome(
        format!("\"{who}\": HeadObject (s3:GetObject) s3://{}/{key}", b.name),
        result,
    );
}

async fn list_objects(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let b = w.bucket(a.get(2)).clone();
    let prefix = a.opt(3).map(str::to_owned);
    let c = w.clients(&who);
    w.begin().await;
    let r =
        c.s3.list_objects_v2()
            .bucket(&b.name)
            .set_prefix(prefix.clone())
            .send()
            .await;
    let result = match r {
        Ok(out) => Ok(Output::Keys(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect(),
        )),
        Err(e) => Err(failure(&e)),
    };
    w.outcome(
        format!(
            "\"{who}\": s3:ListBucket s3://{}/{}",
            b.name,
            prefix.unwrap_or_default()
        ),
        result,
    );
}

async fn list_buckets(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let c = w.clients(&who);
    w.begin().await;
    let result = match c.s3.list_buckets().send().await {
        Ok(out) => Ok(Output::Keys(
            out.buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_owned))
                .collect(),
        )),
        Err(e) => Err(failure(&e)),
    };
    w.outcome(format!("\"{who}\": s3:ListAllMyBuckets"), result);
}

async fn bucket_location(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let b = w.bucket(a.get(2)).clone();
    let c = w.clients(&who);
    w.begin().await;
    let result = match c.s3.get_bucket_location().bucket(&b.name).send().await {
        Ok(out) => Ok(Output::Text(
            out.location_constraint()
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
        )),
        Err(e) => Err(failure(&e)),
    };
    w.outcome(
        format!("\"{who}\": s3:GetBucketLocation s3://{}", b.name),
        result,
    );
}

async fn delete_object(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let key = a.get(2).to_owned();
    let b = w.bucket(a.get(3)).clone();
    let c = w.clients(&who);
    w.begin().await;
    let r = c.s3.delete_object().bucket(&b.name).key(&key).send().await;
    let result = r.map(|_| Output::Nothing).map_err(|e| failure(&e));
    w.outcome(
        format!("\"{who}\": s3:DeleteObject s3://{}/{key}", b.name),
        result,
    );
}

async fn get_object_acl(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let key = a.get(2).to_owned();
    let b = w.bucket(a.get(3)).clone();
    let c = w.clients(&who);
    w.begin().await;
    let result = match c.s3.get_object_acl().bucket(&b.name).key(&key).send().await {
        Ok(out) => Ok(Output::Acl {
            owner: out
                .owner()
                .and_then(|o| o.id())
                .unwrap_or_default()
                .to_owned(),
            grants: out
                .grants()
                .iter()
                .map(|g| {
                    let who = g
                        .grantee()
                        .and_then(|e| e.id().or(e.uri()))
                        .unwrap_or_default()
                        .to_owned();
                    let perm = g
                        .permission()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default();
                    (who, perm)
                })
                .collect(),
        }),
        Err(e) => Err(failure(&e)),
    };
    w.outcome(
        format!("\"{who}\": s3:GetObjectAcl s3://{}/{key}", b.name),
        result,
    );
}

async fn put_object_acl(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let canned = acl(a.get(2));
    let key = a.get(3).to_owned();
    let b = w.bucket(a.get(4)).clone();
    let c = w.clients(&who);
    w.begin().await;
    let r =
        c.s3.put_object_acl()
            .bucket(&b.name)
            .key(&key)
            .acl(canned)
            .send()
            .await;
    let result = r.map(|_| Output::Nothing).map_err(|e| failure(&e));
    w.outcome(
        format!(
            "\"{who}\": s3:PutObjectAcl s3://{}/{key} --acl {}",
            b.name,
            a.get(2)
        ),
        result,
    );
}

async fn copy_object(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let (src_key, dst_key) = (a.get(2).to_owned(), a.get(4).to_owned());
    let src = w.bucket(a.get(3)).clone();
    let dst = w.bucket(a.get(5)).clone();
    let c = w.clients(&who);
    let mut req =
        c.s3.copy_object()
            .copy_source(format!("{}/{src_key}", src.name))
            .bucket(&dst.name)
            .key(&dst_key);
    if let Some(canned) = a.opt(6) {
        req = req.acl(acl(canned));
    }
    w.begin().await;
    let r = req.send().await;
    let result = r.map(|_| Output::Nothing).map_err(|e| failure(&e));
    w.outcome(
        format!(
            "\"{who}\": CopyObject s3://{}/{src_key} -> s3://{}/{dst_key}",
            src.name, dst.name
        ),
        result,
    );
}

async fn multipart(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let key = a.get(2).to_owned();
    let b = w.bucket(a.get(3)).clone();
    let parts: i32 = match a.get(4).parse() {
        Ok(n) if (1..=100).contains(&n) => n,
        _ => fail(format!("`{}` parts: give 1 to 100", a.get(4))),
    };
    let part_size = if w.env().target.is_aws() {
        5 * 1024 * 1024
    } else {
        1024
    };
    let c = w.clients(&who);
    let what = format!("\"{who}\": multipart upload s3://{}/{key}", b.name);
    w.begin().await;
    let mut create = c.s3.create_multipart_upload().bucket(&b.name).key(&key);
    if let Some(canned) = a.opt(5) {
        create = create.acl(acl(canned));
    }
    let upload = match create.send().await {
        Ok(u) => u,
        Err(e) => {
            w.outcome(what, Err(failure(&e)));
            return;
        }
    };
    let id = upload.upload_id().unwrap_or_default().to_owned();
    let mut done = Vec::new();
    for n in 1..=parts {
        let body = vec![b'a' + (n % 26) as u8; part_size];
        match c
            .s3
            .upload_part()
            .bucket(&b.name)
            .key(&key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
            .await
        {
            Ok(p) => done.push(
                CompletedPart::builder()
                    .part_number(n)
                    .set_e_tag(p.e_tag().map(str::to_owned))
                    .build(),
            ),
            Err(e) => {
                w.outcome(what, Err(failure(&e)));
                return;
            }
        }
    }
    let r =
        c.s3.complete_multipart_upload()
            .bucket(&b.name)
            .key(&key)
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await;
    let result = r.map(|_| Output::Nothing).map_err(|e| failure(&e));
    w.outcome(what, result);
}

async fn body_is(w: &mut FerryWorld, a: Args) {
    let o = w.last();
    match &o.result {
        Ok(Output::Body(b)) if b.as_ref() == a.get(1).as_bytes() => {}
        Ok(Output::Body(b)) => fail(format!(
            "{}: the body is {:?}, expected {:?}",
            o.what,
            String::from_utf8_lossy(b),
            a.get(1)
        )),
        other => fail(format!("{}: no body to compare ({other:?})", o.what)),
    }
}

fn keys(w: &FerryWorld) -> Vec<String> {
    let o = w.last();
    match &o.result {
        Ok(Output::Keys(k)) => k.clone(),
        other => fail(format!("{}: no listing to look at ({other:?})", o.what)),
    }
}

async fn listing_has(w: &mut FerryWorld, a: Args) {
    let k = keys(w);
    let want = a.get(2);
    let has = k.iter().any(|x| x == want);
    if has != (a.get(1) == "contains") {
        fail(format!(
            "{}: the listing {} `{want}`: {k:?}",
            w.last().what,
            if has { "contains" } else { "does not contain" }
        ));
    }
}

async fn listing_has_bucket(w: &mut FerryWorld, a: Args) {
    let k = keys(w);
    let want = w.bucket(a.get(2)).name.clone();
    let has = k.contains(&want);
    if has != (a.get(1) == "contains") {
        fail(format!(
            "{}: the bucket listing {} `{want}`: {k:?}",
            w.last().what,
            if has { "contains" } else { "does not contain" }
        ));
    }
}

async fn location_is(w: &mut FerryWorld, a: Args) {
    let o = w.last();
    match &o.result {
        Ok(Output::Text(t)) if t == a.get(1) => {}
        other => fail(format!(
            "{}: expected location {:?}, got {other:?}",
            o.what,
            a.get(1)
        )),
    }
}

fn acl_of(w: &FerryWorld) -> (String, Vec<(String, String)>) {
    let o = w.last();
    match &o.result {
        Ok(Output::Acl { owner, grants }) => (owner.clone(), grants.clone()),
        other => fail(format!("{}: no ACL to look at ({other:?})", o.what)),
    }
}

async fn acl_grants(w: &mut FerryWorld, a: Args) {
    let (_, grants) = acl_of(w);
    let canonical = w.account(a.get(3)).canonical.clone();
    let has = grants.iter().any(|(g, p)| *g == canonical && p == a.get(2));
    if has != (a.get(1) == "grants") {
        fail(format!(
            "{}: the ACL {} {} to account {} ({canonical}); grants: {grants:?}",
            w.last().what,
            if has { "grants" } else { "does not grant" },
            a.get(2),
            a.get(3)
        ));
    }
}

async fn acl_owner(w: &mut FerryWorld, a: Args) {
    let (owner, _) = acl_of(w);
    let want = w.account(a.get(1)).canonical.clone();
    if owner != want {
        fail(format!(
            "{}: the owner is {owner}, expected account {} ({want})",
            w.last().what,
            a.get(1)
        ));
    }
}

async fn owner_is(w: &mut FerryWorld, a: Args) {
    let key = a.get(1).to_owned();
    let b = w.bucket(a.get(2)).clone();
    let want = w.account(a.get(3)).canonical.clone();
    let out = match w
        .admin(&b.account)
        .s3
        .list_objects_v2()
        .bucket(&b.name)
        .prefix(&key)
        .fetch_owner(true)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => fail(format!(
            "listing s3://{}/{key} as the bucket owner: {}",
            b.name,
            failure(&e)
        )),
    };
    let Some(obj) = out
        .contents()
        .iter()
        .find(|o| o.key() == Some(key.as_str()))
    else {
        fail(format!("s3://{}/{key} does not exist", b.name))
    };
    let owner = obj
        .owner()
        .and_then(|o| o.id())
        .unwrap_or_default()
        .to_owned();
    if owner != want {
        let by = w
            .accounts
            .values()
            .find(|x| x.canonical == owner)
            .map(|x| format!("account {}", x.alias))
            .unwrap_or_else(|| owner.clone());
        fail(format!(
            "s3://{}/{key} is owned by {by}, expected account {}",
            b.name,
            a.get(3)
        ));
    }
}
