//! Multipart uploads, batch deletes, tagging and version listings through the Rust SDK.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, Delete,
    ObjectIdentifier, Tag, Tagging,
};
use ferry::emu::{Options, World};

use crate::support::*;

async fn small_parts() -> Emu {
    Emu::start(
        World::default_world(),
        Options {
            min_part_size: Some(1024),
            ..Options::default()
        },
    )
    .await
}

#[tokio::test]
async fn multipart_round_trip_with_checksums() {
    let emu = small_parts().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("mpu").send().await.unwrap();
    let up = a
        .create_multipart_upload()
        .bucket("mpu")
        .key("big")
        .content_type("application/octet-stream")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let parts: Vec<Vec<u8>> = (0..3u8)
        .map(|i| vec![b'a' + i; if i < 2 { 2048 } else { 100 }])
        .collect();
    let mut done = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let out = a
            .upload_part()
            .bucket("mpu")
            .key("big")
            .upload_id(&id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .body(ByteStream::from(p.clone()))
            .send()
            .await
            .unwrap();
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .set_checksum_crc32_c(out.checksum_crc32_c().map(str::to_owned))
                .build(),
        );
    }
    let listed = a
        .list_parts()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 3);
    let uploads = a
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads().len(), 1);
    let fin = a
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(fin.e_tag().unwrap().ends_with("-3\""), "{:?}", fin.e_tag());
    let got = a
        .get_object()
        .bucket("mpu")
        .key("big")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.parts_count(), Some(3));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), parts.concat().as_slice());
    let uploads = a
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "completed uploads are gone");
}

#[tokio::test]
async fn multipart_errors_and_abort() {
    let emu = Emu::default().await; // AWS's 5 MiB minimum part size
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("mpu").send().await.unwrap();
    let id = a
        .create_multipart_upload()
        .bucket("mpu")
        .key("k")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let mut done = Vec::new();
    for n in 1..=2 {
        let out = a
            .upload_part()
            .bucket("mpu")
            .key("k")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(vec![0u8; 10]))
            .send()
            .await
            .unwrap();
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    let r = a
        .complete_multipart_upload()
        .bucket("mpu")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done.clone()))
                .build(),
        )
        .send()
        .await;
    assert_eq!(code(&r), "EntityTooSmall");
    let reversed: Vec<_> = done.iter().rev().cloned().collect();
    let r = a
        .complete_multipart_upload()
        .bucket("mpu")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(reversed))
                .build(),
        )
        .send()
        .await;
    assert_eq!(code(&r), "InvalidPartOrder");
    a.abort_multipart_upload()
        .bucket("mpu")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let r = a
        .list_parts()
        .bucket("mpu")
        .key("k")
        .upload_id(&id)
        .send()
        .await;
    assert_eq!(code(&r), "NoSuchUpload");
    // Another account may not write into A's bucket.
    let r = emu
        .s3(&Key::root("B"))
        .create_multipart_upload()
        .bucket("mpu")
        .key("x")
        .send()
        .await;
    assert_eq!(code(&r), "AccessDenied");
}

#[tokio::test]
async fn upload_part_copy_assembles_from_an_existing_object() {
    let emu = small_parts().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("src").send().await.unwrap();
    let data: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    a.put_object()
        .bucket("src")
        .key("whole")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    let id = a
        .create_multipart_upload()
        .bucket("src")
        .key("copy")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let mut done = Vec::new();
    for (n, range) in [(1, "bytes=0-2047"), (2, "bytes=2048-4095")] {
        let out = a
            .upload_part_copy()
            .bucket("src")
            .key("copy")
            .upload_id(&id)
            .part_number(n)
            .copy_source("src/whole")
            .copy_source_range(range)
            .send()
            .await
            .unwrap();
        let etag = out.copy_part_result().unwrap().e_tag().unwrap().to_owned();
        done.push(CompletedPart::builder().part_number(n).e_tag(etag).build());
    }
    a.complete_multipart_upload()
        .bucket("src")
        .key("copy")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let got = a
        .get_object()
        .bucket("src")
        .key("copy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        data.as_slice()
    );
}

#[tokio::test]
async fn delete_objects_tagging_and_versions() {
    let emu = Emu::default().await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("bkt").send().await.unwrap();
    for k in ["x", "y", "z"] {
        a.put_object()
            .bucket("bkt")
            .key(k)
            .tagging("team=data")
            .body(ByteStream::from_static(b"1"))
            .send()
            .await
            .unwrap();
    }
    let tags = a
        .get_object_tagging()
        .bucket("bkt")
        .key("x")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set()[0].key(), "team");
    a.put_object_tagging()
        .bucket("bkt")
        .key("x")
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("env").value("prod").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tags = a
        .get_object_tagging()
        .bucket("bkt")
        .key("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (tags.tag_set()[0].key(), tags.tag_set()[0].value()),
        ("env", "prod")
    );
    let versions = a.list_object_versions().bucket("bkt").send().await.unwrap();
    assert_eq!(versions.versions().len(), 3);
    assert_eq!(versions.versions()[0].version_id(), Some("null"));
    let del = Delete::builder()
        .objects(ObjectIdentifier::builder().key("x").build().unwrap())
        .objects(ObjectIdentifier::builder().key("y").build().unwrap())
        .build()
        .unwrap();
    let out = a
        .delete_objects()
        .bucket("bkt")
        .delete(del)
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 2);
    let left = a.list_objects_v2().bucket("bkt").send().await.unwrap();
    let keys: Vec<_> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["z"]);
    // Another account's batch delete is refused key by key.
    let del = Delete::builder()
        .objects(ObjectIdentifier::builder().key("z").build().unwrap())
        .build()
        .unwrap();
    let out = emu
        .s3(&Key::root("B"))
        .delete_objects()
        .bucket("bkt")
        .delete(del)
        .send()
        .await
        .unwrap();
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].code(), Some("AccessDenied"));
}

#[tokio::test]
async fn bodies_and_copy_sources_above_the_single_request_limit_are_refused() {
    // S3's limit is 5 GiB; lowered here to 4 KiB so the refusals cost nothing.
    let emu = Emu::start(
        World::default_world(),
        Options {
            min_part_size: Some(1024),
            max_single_size: Some(4096),
            ..Options::default()
        },
    )
    .await;
    let a = emu.s3(&Key::root("A"));
    a.create_bucket().bucket("lim").send().await.unwrap();
    let put = |key: &'static str, n: usize| {
        a.put_object()
            .bucket("lim")
            .key(key)
            .body(ByteStream::from(vec![b'x'; n]))
            .send()
    };
    put("at-limit", 4096)
        .await
        .expect("exactly the limit is fine");
    let e = put("over", 4097).await.expect_err("over the limit");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&e),
        Some("EntityTooLarge")
    );
    let listed = a.list_objects_v2().bucket("lim").send().await.unwrap();
    assert_eq!(
        listed.key_count(),
        Some(1),
        "nothing stored for the refused PUT"
    );

    // Larger objects are written in parts, each within the limit.
    let id = a
        .create_multipart_upload()
        .bucket("lim")
        .key("big")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let part = |n: i32, len: usize| {
        a.upload_part()
            .bucket("lim")
            .key("big")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(vec![b'0' + n as u8; len]))
            .send()
    };
    let e = part(1, 4097).await.expect_err("a part over the limit");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&e),
        Some("EntityTooLarge")
    );
    let mut done = Vec::new();
    for n in 1..=2 {
        let out = part(n, 4096).await.unwrap();
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    a.complete_multipart_upload()
        .bucket("lim")
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap();

    // An object over the limit cannot be CopyObject's source, only UploadPartCopy's.
    let e = a
        .copy_object()
        .bucket("lim")
        .key("big-copy")
        .copy_source("lim/big")
        .send()
        .await
        .expect_err("CopyObject of an object over the limit");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&e),
        Some("InvalidRequest")
    );
    a.copy_object()
        .bucket("lim")
        .key("small-copy")
        .copy_source("lim/at-limit")
        .send()
        .await
        .expect("CopyObject within the limit");
}
