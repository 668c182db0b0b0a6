//! `ferry copy` end to end: the binary against an in-process emulator, one identity per side.

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use ferry::emu::{Options, World};

use crate::support::*;

pub const SRC: &str = "ferry-source";
pub const DST: &str = "ferry-dest";

/// A temp dir with an AWS config and credentials file holding profiles `a` and `b` (the
/// `copier` users of accounts A and B).
pub fn profiles(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferry-copy-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        "[a]\naws_access_key_id = AKIACOPYACOPIER00001\naws_secret_access_key = copySecretOfAccountACopier00000000000001\n\
         [b]\naws_access_key_id = AKIACOPYBCOPIER00001\naws_secret_access_key = copySecretOfAccountBCopier00000000000001\n\
         [broot]\naws_access_key_id = AKIAFERRYROOTB000002\naws_secret_access_key = ferryRootSecretKeyOfAccountB000000000002\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("config"),
        "[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n[profile broot]\nregion = us-east-1\n",
    )
    .unwrap();
    dir
}

/// `ferry copy` arguments from `src` to `dst` with A's `source-reader` and B's
/// `dest-writer`, which cannot read the source (so data streams), then `extra`.
fn streamed<'a>(src: &'a str, dst: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        src,
        dst,
        "--source-profile",
        "a",
        "--source-role",
        "arn:aws:iam::111111111111:role/source-reader",
        "--dest-profile",
        "b",
        "--dest-role",
        "arn:aws:iam::222222222222:role/dest-writer",
    ];
    args.extend_from_slice(extra);
    args
}

fn ferry_copy(dir: &Path, endpoint: &str, args: &[&str]) -> std::process::Output {
    ferry(dir, endpoint, "copy", args)
}

/// Runs `ferry CMD ARGS` with the profiles in `dir` and both endpoints set to `endpoint`.
pub fn ferry(dir: &Path, endpoint: &str, command: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.arg(command)
        .args(args)
        .args([
            "--source-endpoint",
            endpoint,
            "--dest-endpoint",
            endpoint,
            "--quiet",
        ])
        .env("AWS_CONFIG_FILE", dir.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    cmd.output().unwrap()
}

pub async fn world(min_part: u64) -> Emu {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/copy-cross-account.toml");
    let world = World::load(&path).unwrap();
    Emu::start(
        world,
        Options {
            min_part_size: Some(min_part),
            ..Options::default()
        },
    )
    .await
}

pub async fn fill(emu: &Emu, objects: &[(&str, Vec<u8>)]) {
    let a = emu.s3(&Key::root("A"));
    for (k, body) in objects {
        a.put_object()
            .bucket(SRC)
            .key(*k)
            .content_type("text/plain")
            .metadata("origin", "account-a")
            .tagging("team=data")
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
    }
}

fn sample() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("data/a.txt", b"alpha".to_vec()),
        ("data/b/c.txt", b"charlie".to_vec()),
        (
            "data/big.bin",
            (0..300_000u32).map(|i| (i % 253) as u8).collect(),
        ),
        ("other/skip.txt", b"not under the prefix".to_vec()),
    ]
}

async fn check_copied(emu: &Emu, expected: &[(&str, Vec<u8>)], dest_prefix: &str) {
    let b = emu.s3(&Key::root("B"));
    for (k, body) in expected {
        let rel = k.strip_prefix("data/").unwrap();
        let dkey = format!("{dest_prefix}{rel}");
        let got = b
            .get_object()
            .bucket(DST)
            .key(&dkey)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{dkey}: {e:?}"));
        assert_eq!(got.content_type(), Some("text/plain"), "{dkey}");
        assert_eq!(
            got.metadata()
                .and_then(|m| m.get("origin"))
                .map(String::as_str),
            Some("account-a"),
            "{dkey}"
        );
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().as_ref(),
            body.as_slice(),
            "{dkey}"
        );
        let acl = b
            .get_object_acl()
            .bucket(DST)
            .key(&dkey)
            .send()
            .await
            .unwrap();
        assert_eq!(
            acl.owner().and_then(|o| o.id()),
            Some(canonical(B).as_str()),
            "{dkey} is owned by the destination account"
        );
        let tags = b
            .get_object_tagging()
            .bucket(DST)
            .key(&dkey)
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tag_set().first().map(|t| (t.key(), t.value())),
            Some(("team", "data")),
            "{dkey}"
        );
    }
    let listed = b.list_objects_v2().bucket(DST).send().await.unwrap();
    assert_eq!(
        listed.contents().len(),
        expected.len(),
        "nothing outside the prefix was copied"
    );
    let uploads = b.list_multipart_uploads().bucket(DST).send().await.unwrap();
    assert!(
        uploads.uploads().is_empty(),
        "no multipart upload left open"
    );
}

/// Copies `sample()`'s `data/` folder to `s3://ferry-dest/DEST_PREFIX` with `source-reader`
/// on A's side and `dest_role` on B's, checks the copies, and returns the JSON summary.
async fn copy_sample(tag: &str, dest_role: &str, dest_prefix: &str) -> serde_json::Value {
    let emu = world(1024).await;
    let objects = sample();
    fill(&emu, &objects).await;
    let dir = profiles(tag);
    let ep = emu.endpoint();
    let dest = format!("s3://ferry-dest/{dest_prefix}");
    let role = format!("arn:aws:iam::222222222222:role/{dest_role}");
    let out = tokio::task::spawn_blocking(move || {
        ferry_copy(
            &dir,
            &ep,
            &[
                "s3://ferry-source/data/",
                &dest,
                "--source-profile",
                "a",
                "--source-role",
                "arn:aws:iam::111111111111:role/source-reader",
                "--dest-profile",
                "b",
                "--dest-role",
                &role,
                "--multipart-threshold",
                "65536",
                "--part-size",
                "65536",
                "--min-part-size",
                "1024",
                "--json",
            ],
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<_> = objects
        .into_iter()
        .filter(|(k, _)| k.starts_with("data/"))
        .collect();
    check_copied(&emu, &expected, dest_prefix).await;
    summary(&stdout)
}

#[tokio::test]
async fn streams_between_two_roles_when_the_destination_cannot_read_the_source() {
    let report = copy_sample("stream", "dest-writer", "copied/").await;
    assert_eq!(report["data_path"], "stream");
    assert_eq!(report["copied"], 3);
    assert_eq!(
        report["verified_by_checksum"], 3,
        "every object matches the source's checksum: {report}"
    );
    assert_eq!(
        report["destination_identity"]["arn"]
            .as_str()
            .unwrap()
            .split('/')
            .nth(1),
        Some("dest-writer")
    );
}

#[tokio::test]
async fn streams_objects_without_a_source_checksum_with_one_computed_for_the_destination() {
    use ferry::copy::checksum::Algorithm;
    // Objects stored without a checksum, as S3 holds those written before it added default
    // checksums: their GET carries none, so ferry computes one to send.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/copy-cross-account.toml");
    let mut raw = std::fs::read_to_string(&path).unwrap();
    let bodies: Vec<String> = (0..3)
        .map(|i| format!("no checksum {i} ").repeat(100))
        .collect();
    let mut objects: Vec<(String, Vec<u8>)> = Vec::new();
    let mut generated = String::new();
    for (i, body) in bodies.iter().enumerate() {
        let key = format!("plain/{i}");
        generated.push_str(&format!(
            "\n[[account.bucket.object]]\nkey = \"{key}\"\nbody = \"{body}\"\nchecksum = false\n"
        ));
        objects.push((key, body.clone().into_bytes()));
    }
    let at = raw.find("\n[[account]]\nalias = \"B\"").unwrap();
    raw.insert_str(at, &generated);
    let emu = Emu::start(
        World::parse(&raw, &path).unwrap(),
        Options {
            min_part_size: Some(1024),
            ..Options::default()
        },
    )
    .await;
    let a = emu.s3(&Key::root("A"));
    let got = a
        .head_object()
        .bucket(SRC)
        .key("plain/0")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.checksum_crc64_nvme(),
        None,
        "the source has no checksum"
    );
    let dir = profiles("plain");
    let ep = emu.endpoint();
    let out = tokio::task::spawn_blocking(move || {
        ferry_copy(
            &dir,
            &ep,
            &streamed(
                "s3://ferry-source/plain/",
                "s3://ferry-dest/plain/",
                &["--json"],
            ),
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let report = summary(&stdout);
    assert_eq!(report["data_path"], "stream", "{report}");
    assert_eq!(
        report["verified_by_etag"], 3,
        "no source checksum: the ETags (MD5) confirm the copies: {report}"
    );
    // Each copy carries the CRC64NVME of its bytes, which the destination checked on write.
    let b = emu.s3(&Key::root("B"));
    for (k, body) in &objects {
        let head = b
            .head_object()
            .bucket(DST)
            .key(k)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let want = Algorithm::Crc64Nvme.encode(Algorithm::Crc64Nvme.checksum(body));
        assert_eq!(head.checksum_crc64_nvme(), Some(want.as_str()), "{k}");
    }
}

/// What a copy must keep of an object: body, the headers ferry copies, metadata, tags and
/// the stored full-object checksum; and the owner, which must be the destination account.
async fn object_state(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<String> {
    let got = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{bucket}/{key}: {e:?}"));
    let mut meta: Vec<String> = got
        .metadata()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    meta.sort();
    let tags = c
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let tags: Vec<String> = tags
        .tag_set()
        .iter()
        .map(|t| format!("{}={}", t.key(), t.value()))
        .collect();
    vec![
        format!("type {:?}", got.content_type()),
        format!("encoding {:?}", got.content_encoding()),
        format!("disposition {:?}", got.content_disposition()),
        format!("language {:?}", got.content_language()),
        format!("cache {:?}", got.cache_control()),
        format!("crc64 {:?}", got.checksum_crc64_nvme()),
        format!("meta {meta:?}"),
        format!("tags {tags:?}"),
        format!("{:?}", got.body.collect().await.unwrap().into_bytes()),
    ]
}

#[tokio::test]
async fn small_streamed_objects_take_the_lean_path_and_come_out_as_the_sdk_path_copies_them() {
    let emu = world(1024).await;
    let a = emu.s3(&Key::root("A"));
    let keys = [
        "lean/plain.txt",
        "lean/dir/a b+c=d&e?f#g%h ü.txt",
        "lean/empty",
        "lean/headers.html",
        "lean/tagged.txt",
        "lean/over-a-mebibyte.bin",
    ];
    for k in keys {
        let body: Vec<u8> = match k {
            "lean/empty" => Vec::new(),
            "lean/over-a-mebibyte.bin" => (0..1_100_000u32).map(|i| (i % 251) as u8).collect(),
            _ => format!("body of {k}").into_bytes(),
        };
        let mut put = a
            .put_object()
            .bucket(SRC)
            .key(k)
            .body(ByteStream::from(body));
        if k == "lean/headers.html" {
            put = put
                .content_type("text/html; charset=utf-8")
                .content_encoding("identity")
                .content_disposition("attachment; filename=\"h.html\"")
                .content_language("de-CH")
                .cache_control("max-age=60")
                .metadata("origin", "account-a")
                .metadata("second", "two words");
        }
        if k == "lean/tagged.txt" {
            put = put.tagging("team=data&tier=gold");
        }
        put.send().await.unwrap();
    }
    let dir = profiles("lean");
    let ep = emu.endpoint();
    let run = |dest: &'static str, extra: &'static [&'static str]| {
        let (dir, ep) = (dir.clone(), ep.clone());
        tokio::task::spawn_blocking(move || {
            let mut args = streamed("s3://ferry-source/lean/", dest, &["--json"]);
            args.extend_from_slice(extra);
            ferry_copy(&dir, &ep, &args)
        })
    };
    let lean = run("s3://ferry-dest/lean/", &[]).await.unwrap();
    let sdk = run("s3://ferry-dest/sdk/", &["--sdk-only"]).await.unwrap();
    for (out, name) in [(&lean, "lean"), (&sdk, "sdk-only")] {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {stdout}");
        let r = summary(&stdout);
        assert_eq!(r["data_path"], "stream", "{r}");
        assert_eq!(r["copied"], 6, "{name}: {r}");
        let (taken, missed) = if name == "lean" { (5, 0) } else { (0, 0) };
        // The one over 1 MiB is streamed by the SDK client without trying the lean path.
        assert_eq!(r["lean_path_objects"], taken, "{name}: {r}");
        assert_eq!(r["lean_path_misses"], missed, "{name}: {r}");
        assert_eq!(r["verified_by_checksum"], 6, "{name}: {r}");
    }
    let b = emu.s3(&Key::root("B"));
    for k in keys {
        let rel = k.strip_prefix("lean/").unwrap();
        let source = object_state(&a, SRC, k).await;
        let by_lean = object_state(&b, DST, &format!("lean/{rel}")).await;
        let by_sdk = object_state(&b, DST, &format!("sdk/{rel}")).await;
        assert_eq!(by_lean, source, "{k}: the lean path's copy");
        assert_eq!(by_sdk, source, "{k}: the SDK path's copy");
        for prefix in ["lean/", "sdk/"] {
            let acl = b
                .get_object_acl()
                .bucket(DST)
                .key(format!("{prefix}{rel}"))
                .send()
                .await
                .unwrap();
            assert_eq!(
                acl.owner().and_then(|o| o.id()),
                Some(canonical(B).as_str()),
                "{prefix}{rel} is owned by the destination account"
            );
        }
    }
}

#[tokio::test]
async fn lean_listing_pages_equal_the_sdks_for_awkward_keys() {
    use ferry::copy::direct::Direct;
    use ferry::copy::listing::from_sdk;
    let emu = world(1024).await;
    let a = emu.s3(&Key::root("A"));
    let mut keys: Vec<String> = [
        "plain",
        "sp ace",
        "plus+sign",
        "pct%41%2B",
        "amp&lt<gt>quot\"apos'",
        "ünï/cödé",
        "tab\there",
        " lead and trail ",
        "emoji 🚀",
        "x?y#z=w;v,u:t@s$r!q*p(o)",
        "a//b/./c/../d",
        "~tilde",
    ]
    .iter()
    .map(|k| format!("odd/{k}"))
    .collect();
    keys.extend((0..7).map(|i| format!("odd/n{i:02}")));
    for (i, k) in keys.iter().enumerate() {
        let mut put = a
            .put_object()
            .bucket(SRC)
            .key(k)
            .body(ByteStream::from(vec![b'x'; i]));
        if i % 2 == 0 {
            put = put.checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32C);
        }
        put.send().await.unwrap_or_else(|e| panic!("{k}: {e:?}"));
    }
    keys.sort();
    let sdk = aws_config::SdkConfig::builder()
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(emu.endpoint())
        .build();
    let direct = Direct::new(&sdk, true).expect("a region");
    let creds = Key::root("A").creds();
    // Page by page, 4 keys at a time, from the start and after an awkward key: the lean
    // pages, the SDK's and the keys put agree.
    for start in [None, Some("odd/amp&lt<gt>quot\"apos'")] {
        let (mut token, mut listed) = (None::<String>, Vec::new());
        loop {
            let lean = direct
                .list(&creds, SRC, "odd/", start, token.as_deref(), 4)
                .await
                .unwrap_or_else(|m| panic!("lean page missed: {}", m.0));
            let by_sdk = a
                .list_objects_v2()
                .bucket(SRC)
                .prefix("odd/")
                .max_keys(4)
                .set_start_after(start.map(str::to_owned))
                .set_continuation_token(token.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(lean, from_sdk(&by_sdk), "start {start:?}, token {token:?}");
            listed.extend(lean.entries.iter().map(|e| e.key.clone()));
            token = lean.next_token;
            if !lean.truncated {
                break;
            }
        }
        let want: Vec<&String> = keys
            .iter()
            .filter(|k| start.is_none_or(|s| k.as_str() > s))
            .collect();
        assert_eq!(listed.iter().collect::<Vec<_>>(), want);
    }
}

#[tokio::test]
async fn copies_server_side_when_the_destination_identity_can_read_the_source() {
    let report = copy_sample("server", "dest-copier", "").await;
    assert_eq!(report["data_path"], "server-side");
    assert_eq!(report["copied"], 3);
    assert_eq!(report["verified_by_etag"], 2, "{report}");
    assert_eq!(
        report["verified_by_checksum"], 1,
        "the multipart copy matches the source's full-object CRC32: {report}"
    );
}

#[tokio::test]
async fn configuration_and_permission_errors_exit_two_and_write_nothing() {
    let emu = world(1024).await;
    fill(&emu, &sample()).await;
    let dir = profiles("errors");
    let ep = emu.endpoint();
    let runs: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "s3://ferry-source/data/",
                "s3://no-such-bucket/",
                "--source-profile",
                "a",
                "--dest-profile",
                "b",
            ],
            "does not exist",
        ),
        (
            vec![
                "s3://no-such-source/",
                "s3://ferry-dest/",
                "--source-profile",
                "a",
                "--dest-profile",
                "b",
            ],
            "does not exist",
        ),
        // B's writer role may not list A's bucket.
        (
            vec![
                "s3://ferry-source/data/",
                "s3://ferry-dest/",
                "--source-profile",
                "b",
                "--source-role",
                "arn:aws:iam::222222222222:role/dest-writer",
                "--dest-profile",
                "b",
            ],
            "s3:ListBucket",
        ),
        (
            vec!["s3:/ferry-source", "s3://ferry-dest/"],
            "not a valid S3 URL",
        ),
        (
            vec![
                "s3://ferry-source/",
                "s3://ferry-dest/",
                "--acl",
                "everyone-please",
            ],
            "not a canned ACL",
        ),
    ];
    for (args, want) in runs {
        let (dir, ep) = (dir.clone(), ep.clone());
        let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            ferry_copy(&dir, &ep, &refs)
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(want),
            "{args:?}: expected `{want}` in: {stderr}"
        );
    }
    let listed = emu
        .s3(&Key::root("B"))
        .list_objects_v2()
        .bucket(DST)
        .send()
        .await
        .unwrap();
    assert!(listed.contents().is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_destination_policy_requiring_bucket_owner_full_control_rejects_acl_none() {
    let emu = world(1024).await;
    fill(&emu, &sample()).await;
    let dir = profiles("acl");
    let ep = emu.endpoint();
    let out = tokio::task::spawn_blocking(move || {
        ferry_copy(
            &dir,
            &ep,
            &streamed(
                "s3://ferry-source/data/a.txt",
                "s3://ferry-dest/",
                &["--acl", "none"],
            ),
        )
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("AccessDenied"), "{stderr}");
    assert!(stderr.contains("s3:PutObject"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
}

/// The last line of `--json` output: the summary.
pub fn summary(stdout: &str) -> serde_json::Value {
    let last = stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["event"], "summary", "{stdout}");
    v
}
