//! `ferry sync`, local paths, filters, dry runs and resilience (faults, expiring sessions,
//! a killed run), the binary against an in-process emulator.

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use ferry::emu::{Faults, Options, World};
use futures::StreamExt;

use crate::copy_cli::{ferry, fill, profiles, summary, world, DST, SRC};
use crate::support::*;

const SOURCE_ROLE: &str = "arn:aws:iam::111111111111:role/source-reader";
const WRITER_ROLE: &str = "arn:aws:iam::222222222222:role/dest-writer";
const COPIER_ROLE: &str = "arn:aws:iam::222222222222:role/dest-copier";
const SYNCER_ROLE: &str = "arn:aws:iam::222222222222:role/dest-syncer";

fn roles(writer: &'static str) -> Vec<&'static str> {
    vec![
        "--source-profile",
        "a",
        "--source-role",
        SOURCE_ROLE,
        "--dest-profile",
        "b",
        "--dest-role",
        writer,
        "--multipart-threshold",
        "65536",
        "--part-size",
        "65536",
        "--min-part-size",
        "1024",
    ]
}

async fn run(
    emu: &Emu,
    tag: &str,
    command: &'static str,
    args: Vec<&'static str>,
) -> (Option<i32>, String, String) {
    run_owned(
        emu,
        tag,
        command,
        args.iter().map(|s| s.to_string()).collect(),
    )
    .await
}

async fn run_owned(
    emu: &Emu,
    tag: &str,
    command: &'static str,
    args: Vec<String>,
) -> (Option<i32>, String, String) {
    let dir = profiles(tag);
    let ep = emu.endpoint();
    let out = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ferry(&dir, &ep, command, &refs)
    })
    .await
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn dest_keys(emu: &Emu) -> Vec<String> {
    let b = emu.s3(&Key::root("B"));
    let mut keys = Vec::new();
    let mut pages = b.list_objects_v2().bucket(DST).into_paginator().send();
    while let Some(page) = pages.next().await {
        keys.extend(
            page.unwrap()
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    keys
}

async fn dest_body(emu: &Emu, key: &str) -> Vec<u8> {
    emu.s3(&Key::root("B"))
        .get_object()
        .bucket(DST)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes()
        .to_vec()
}

async fn open_uploads(emu: &Emu) -> usize {
    emu.s3(&Key::root("B"))
        .list_multipart_uploads()
        .bucket(DST)
        .send()
        .await
        .unwrap()
        .uploads()
        .len()
}

/// The copy layout with emulator `options` (parts down to 1 KiB).
async fn copy_world(options: Options) -> Emu {
    let world = World::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/copy-cross-account.toml"),
    )
    .unwrap();
    Emu::start(
        world,
        Options {
            min_part_size: Some(1024),
            ..options
        },
    )
    .await
}

fn big(n: u32) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn sync_skips_unchanged_recopies_changed_and_deletes_within_max_delete() {
    for (tag, writer) in [("sync-stream", SYNCER_ROLE), ("sync-server", COPIER_ROLE)] {
        let emu = world(1024).await;
        fill(
            &emu,
            &[
                ("d/a.txt", b"alpha".to_vec()),
                ("d/b.txt", b"bravo".to_vec()),
                ("d/big.bin", big(200_000)),
            ],
        )
        .await;
        let mut args = vec!["s3://ferry-source/d/", "s3://ferry-dest/d/", "--json"];
        args.extend(roles(writer));
        let (code, out, err) = run(&emu, tag, "sync", args.clone()).await;
        assert_eq!(code, Some(0), "{out}{err}");
        let first = summary(&out);
        assert_eq!(first["copied"], 3, "{first}");
        assert_eq!(first["skipped"], 0);

        // Unchanged: nothing copied.
        let (code, out, err) = run(&emu, tag, "sync", args.clone()).await;
        assert_eq!(code, Some(0), "{out}{err}");
        let again = summary(&out);
        assert_eq!(
            (again["copied"].clone(), again["skipped"].clone()),
            (0.into(), 3.into()),
            "{again}"
        );

        // Changed at the source (same size, new content), one added, and three extra
        // objects at the destination.
        fill(
            &emu,
            &[
                ("d/a.txt", b"ALPHA".to_vec()),
                ("d/new.txt", b"new".to_vec()),
            ],
        )
        .await;
        let b = emu.s3(&Key::root("B"));
        for k in ["d/x1", "d/x2", "d/x3"] {
            b.put_object()
                .bucket(DST)
                .key(k)
                .acl(aws_sdk_s3::types::ObjectCannedAcl::BucketOwnerFullControl)
                .body(ByteStream::from_static(b"extra"))
                .send()
                .await
                .unwrap();
        }
        let mut del = args.clone();
        del.extend(["--delete", "--max-delete", "2"]);
        let (code, out, err) = run(&emu, tag, "sync", del).await;
        let s = summary(&out);
        assert_eq!(
            code,
            Some(1),
            "one delete over --max-delete is a failure: {out}{err}"
        );
        assert_eq!(s["copied"], 2, "{s}");
        assert_eq!(s["skipped"], 2, "{s}");
        assert_eq!(s["deleted"], 2, "{s}");
        assert_eq!(s["failed"].as_array().map(Vec::len), Some(1), "{s}");
        assert!(
            s["failed"][0]["error"]
                .as_str()
                .unwrap()
                .contains("--max-delete 2"),
            "{s}"
        );
        assert_eq!(dest_body(&emu, "d/a.txt").await, b"ALPHA");
        assert_eq!(dest_body(&emu, "d/new.txt").await, b"new");
        let keys = dest_keys(&emu).await;
        assert_eq!(
            keys.iter().filter(|k| k.starts_with("d/x")).count(),
            1,
            "{keys:?}"
        );

        // Without a bound, the last extra object goes.
        let mut del = args.clone();
        del.push("--delete");
        let (code, out, err) = run(&emu, tag, "sync", del).await;
        assert_eq!(code, Some(0), "{out}{err}");
        assert_eq!(summary(&out)["deleted"], 1);
        assert_eq!(
            dest_keys(&emu).await,
            vec!["d/a.txt", "d/b.txt", "d/big.bin", "d/new.txt"]
        );
        assert_eq!(dest_body(&emu, "d/big.bin").await, big(200_000));
        assert_eq!(open_uploads(&emu).await, 0);
    }
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_filters_select_keys() {
    let emu = world(1024).await;
    fill(
        &emu,
        &[
            ("f/keep.csv", b"1,2".to_vec()),
            ("f/deep/more.csv", b"3,4".to_vec()),
            ("f/skip.tmp", b"tmp".to_vec()),
            ("f/notes.txt", b"txt".to_vec()),
        ],
    )
    .await;
    let mut args = vec![
        "s3://ferry-source/f/",
        "s3://ferry-dest/f/",
        "--exclude",
        "*",
        "--include",
        "*.csv",
        "--dry-run",
    ];
    args.extend(roles(WRITER_ROLE));
    let (code, out, err) = run(&emu, "dry", "copy", args.clone()).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("(dry run) copy: keep.csv -> s3://ferry-dest/f/keep.csv"),
        "{out}"
    );
    assert!(out.contains("deep/more.csv"), "{out}");
    assert!(
        !out.contains("skip.tmp") && !out.contains("notes.txt"),
        "{out}"
    );
    assert!(out.contains("would copy 2 objects"), "{out}");
    assert!(dest_keys(&emu).await.is_empty(), "a dry run writes nothing");

    args.retain(|a| *a != "--dry-run");
    let (code, out, err) = run(&emu, "filtered", "copy", args).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(dest_keys(&emu).await, vec!["f/deep/more.csv", "f/keep.csv"]);

    // A sync with --delete leaves excluded destination keys alone.
    emu.s3(&Key::root("B"))
        .put_object()
        .bucket(DST)
        .key("f/local.tmp")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::BucketOwnerFullControl)
        .body(ByteStream::from_static(b"mine"))
        .send()
        .await
        .unwrap();
    let mut args = vec![
        "s3://ferry-source/f/",
        "s3://ferry-dest/f/",
        "--exclude",
        "*.tmp",
        "--delete",
        "--dry-run",
    ];
    args.extend(roles(SYNCER_ROLE));
    let (code, out, err) = run(&emu, "dry-sync", "sync", args).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("(dry run) copy: notes.txt"), "{out}");
    assert!(
        !out.contains("delete"),
        "excluded keys are never deleted: {out}"
    );
    assert!(out.contains("2 unchanged"), "{out}");
}

#[tokio::test]
async fn uploads_a_folder_and_downloads_it_back_byte_identical() {
    let emu = world(1024).await;
    let tmp = tempfile::tempdir().unwrap();
    let up = tmp.path().join("up");
    std::fs::create_dir_all(up.join("sub/deeper")).unwrap();
    std::fs::write(up.join("a.txt"), b"alpha").unwrap();
    std::fs::write(up.join("sub/b.csv"), b"1,2,3").unwrap();
    std::fs::write(up.join("sub/deeper/big.bin"), big(150_000)).unwrap();
    std::fs::write(up.join("empty"), b"").unwrap();

    let common = [
        "--multipart-threshold",
        "65536",
        "--part-size",
        "65536",
        "--min-part-size",
        "1024",
        "--json",
    ];
    let mut args: Vec<String> = vec![
        up.display().to_string(),
        "s3://ferry-dest/up".into(),
        "--dest-profile".into(),
        "b".into(),
        "--dest-role".into(),
        SYNCER_ROLE.into(),
    ];
    args.extend(common.iter().map(|s| s.to_string()));
    let (code, out, err) = run_owned(&emu, "upload", "copy", args.clone()).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let s = summary(&out);
    assert_eq!(s["data_path"], "upload");
    assert_eq!(s["copied"], 4);
    assert_eq!(s["verified_by_checksum"], 4, "{s}");
    assert_eq!(
        dest_keys(&emu).await,
        vec![
            "up/a.txt",
            "up/empty",
            "up/sub/b.csv",
            "up/sub/deeper/big.bin"
        ]
    );
    assert_eq!(dest_body(&emu, "up/sub/deeper/big.bin").await, big(150_000));

    // A second sync of the folder copies nothing.
    let (code, out, err) = run_owned(&emu, "upload2", "sync", args).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(summary(&out)["copied"], 0, "{out}");

    // Download with B's root (the bucket owner reads everything in it).
    let down = tmp.path().join("down");
    let mut args: Vec<String> = vec![
        "s3://ferry-dest/up/".into(),
        down.display().to_string(),
        "--source-profile".into(),
        "broot".into(),
    ];
    args.extend(common.iter().map(|s| s.to_string()));
    let (code, out, err) = run_owned(&emu, "download", "sync", args.clone()).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let s = summary(&out);
    assert_eq!(s["data_path"], "download");
    assert_eq!(s["copied"], 4);
    for rel in ["a.txt", "empty", "sub/b.csv", "sub/deeper/big.bin"] {
        assert_eq!(
            std::fs::read(down.join(rel)).unwrap(),
            std::fs::read(up.join(rel)).unwrap(),
            "{rel}"
        );
    }
    let leftovers: Vec<_> = walk(&down)
        .into_iter()
        .filter(|p| p.contains(".ferry-partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (code, out, err) = run_owned(&emu, "download2", "sync", args).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        summary(&out)["copied"],
        0,
        "a second download copies nothing: {out}"
    );

    // One object: to a file name, into a folder, and one file up to a new key.
    let one = tmp.path().join("one.txt");
    let into = tmp.path().join("into");
    for target in [one.display().to_string(), format!("{}/", into.display())] {
        let args: Vec<String> = vec![
            "s3://ferry-dest/up/sub/b.csv".into(),
            target.clone(),
            "--source-profile".into(),
            "broot".into(),
        ];
        let (code, out, err) = run_owned(&emu, "download1", "copy", args).await;
        assert_eq!(code, Some(0), "{target}: {out}{err}");
    }
    assert_eq!(std::fs::read(&one).unwrap(), b"1,2,3");
    assert_eq!(std::fs::read(into.join("b.csv")).unwrap(), b"1,2,3");
    let args: Vec<String> = vec![
        up.join("a.txt").display().to_string(),
        "s3://ferry-dest/single/renamed.txt".into(),
        "--dest-profile".into(),
        "b".into(),
        "--dest-role".into(),
        SYNCER_ROLE.into(),
    ];
    let (code, out, err) = run_owned(&emu, "upload1", "copy", args).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(dest_body(&emu, "single/renamed.txt").await, b"alpha");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn refused_reads_and_acls_end_before_any_write_with_exit_two() {
    let emu = world(1024).await;
    fill(&emu, &[("p/a.txt", b"alpha".to_vec())]).await;
    // A user in A that may list the source bucket but not read objects.
    let iam = emu.iam(&Key::root("A"));
    iam.create_user().user_name("lister").send().await.unwrap();
    iam.put_user_policy()
        .user_name("lister")
        .policy_name("list")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::ferry-source"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("lister")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let dir = profiles("refused");
    let mut creds = std::fs::read_to_string(dir.join("credentials")).unwrap();
    creds.push_str(&format!(
        "[lister]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        key.access_key_id(),
        key.secret_access_key()
    ));
    std::fs::write(dir.join("credentials"), creds).unwrap();
    let ep = emu.endpoint();
    let run_here = |args: Vec<&'static str>| {
        let (dir, ep) = (dir.clone(), ep.clone());
        async move {
            let out = tokio::task::spawn_blocking(move || ferry(&dir, &ep, "copy", &args))
                .await
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let (code, err) = run_here(vec![
        "s3://ferry-source/p/",
        "s3://ferry-dest/p/",
        "--source-profile",
        "lister",
        "--dest-profile",
        "b",
        "--dest-role",
        WRITER_ROLE,
    ])
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("s3:GetObject") && err.contains("source identity"),
        "{err}"
    );
    assert!(err.contains("AccessDenied"), "{err}");

    // The destination has ACLs disabled (BucketOwnerEnforced): a public-read ACL is refused
    // with the fix.
    let (code, err) = run_here(vec![
        "s3://ferry-source/p/",
        "s3://ferry-dest/p/",
        "--source-profile",
        "a",
        "--source-role",
        SOURCE_ROLE,
        "--dest-profile",
        "b",
        "--dest-role",
        WRITER_ROLE,
        "--acl",
        "public-read",
    ])
    .await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("AccessControlListNotSupported"), "{err}");
    assert!(err.contains("--acl bucket-owner-full-control"), "{err}");
    assert!(dest_keys(&emu).await.is_empty(), "nothing was written");

    // An upload-only identity cannot sync: the destination listing is refused up front.
    let out = tokio::task::spawn_blocking({
        let (dir, ep) = (dir.clone(), ep.clone());
        move || {
            ferry(
                &dir,
                &ep,
                "sync",
                &[
                    "s3://ferry-source/p/",
                    "s3://ferry-dest/p/",
                    "--source-profile",
                    "a",
                    "--source-role",
                    SOURCE_ROLE,
                    "--dest-profile",
                    "b",
                    "--dest-role",
                    WRITER_ROLE,
                ],
            )
        }
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s3:ListBucket") && err.contains("dest-writer"),
        "{err}"
    );
    assert!(dest_keys(&emu).await.is_empty(), "nothing was written");
}

/// Fills the source with `n` small objects and a few multipart-sized ones, retrying what the
/// faults refuse.
async fn fill_many(emu: &Emu, n: usize) -> Vec<(String, Vec<u8>)> {
    let a = emu.s3(&Key::root("A"));
    let mut objects: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| (format!("m/{i:05}"), format!("object {i}").into_bytes()))
        .collect();
    for i in 0..3 {
        objects.push((format!("m/big-{i}"), big(100_000 + i)));
    }
    futures::stream::iter(objects.clone())
        .for_each_concurrent(32, |(k, body)| {
            let a = a.clone();
            async move {
                for attempt in 0.. {
                    let r = a
                        .put_object()
                        .bucket(SRC)
                        .key(&k)
                        .body(ByteStream::from(body.clone()))
                        .send()
                        .await;
                    match r {
                        Ok(_) => break,
                        Err(e) if attempt < 20 => {
                            let _ = e;
                            tokio::time::sleep(Duration::from_millis(20)).await
                        }
                        Err(e) => panic!("{k}: {e:?}"),
                    }
                }
            }
        })
        .await;
    objects
}

/// Copies the source's `m/` to the destination's with `source-reader` and `dest-writer`
/// (plus `extra` flags), asserts exit 0 and returns the JSON summary.
async fn copy_many(emu: &Emu, tag: &str, extra: &[&'static str]) -> serde_json::Value {
    let mut args = vec!["s3://ferry-source/m/", "s3://ferry-dest/m/", "--json"];
    args.extend_from_slice(extra);
    args.extend(roles(WRITER_ROLE));
    let (code, out, err) = run(emu, tag, "copy", args).await;
    assert_eq!(
        code,
        Some(0),
        "{err}\n{}",
        out.lines().last().unwrap_or_default()
    );
    summary(&out)
}

async fn check_all(emu: &Emu, objects: &[(String, Vec<u8>)]) {
    let b = emu.s3(&Key::root("B"));
    let keys = dest_keys(emu).await;
    assert_eq!(keys.len(), objects.len());
    // Every small body and the big ones, with B's root (faults apply: retry reads).
    futures::stream::iter(objects.to_vec())
        .for_each_concurrent(32, |(k, body)| {
            let b = b.clone();
            async move {
                for attempt in 0.. {
                    match b.get_object().bucket(DST).key(&k).send().await {
                        Ok(got) => match got.body.collect().await {
                            Ok(data) => {
                                assert_eq!(data.into_bytes().as_ref(), body.as_slice(), "{k}");
                                break;
                            }
                            Err(_) if attempt < 20 => continue,
                            Err(e) => panic!("{k}: {e:?}"),
                        },
                        Err(_) if attempt < 20 => {
                            tokio::time::sleep(Duration::from_millis(20)).await
                        }
                        Err(e) => panic!("{k}: {e:?}"),
                    }
                }
            }
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completes_under_slowdowns_and_dropped_connections() {
    let emu = copy_world(Options {
        faults: Faults {
            slow_down: 0.05,
            drop_connection: 0.01,
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    let objects = fill_many(&emu, 2000).await;
    let s = copy_many(&emu, "faults", &[]).await;
    assert_eq!(s["copied"], 2003, "{s}");
    assert!(
        s["slowdowns"].as_u64().unwrap() > 0,
        "faults were injected: {s}"
    );
    let verified = s["verified_by_checksum"].as_u64().unwrap()
        + s["verified_by_etag"].as_u64().unwrap()
        + s["verified_by_sent_checksum"].as_u64().unwrap();
    assert_eq!(verified, 2003, "{s}");
    // Each of the 2,000 small objects went on the lean path (the 3 big ones are multipart
    // here), and those that met a fault there were copied by the SDK client, whose retries
    // then applied.
    let (lean, missed) = (
        s["lean_path_objects"].as_u64().unwrap(),
        s["lean_path_misses"].as_u64().unwrap(),
    );
    assert_eq!(lean + missed, 2000, "{s}");
    assert!(lean > 0 && missed > 0, "{s}");
    check_all(&emu, &objects).await;
    assert_eq!(open_uploads(&emu).await, 0, "no multipart upload left open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expiring_every_two_seconds_do_not_fail_objects() {
    let emu = copy_world(Options {
        session_lifetime: Some(Duration::from_secs(2)),
        faults: Faults {
            latency: Duration::from_millis(15),
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    let objects = fill_many(&emu, 600).await;
    let started = std::time::Instant::now();
    let s = copy_many(&emu, "expiring", &["-j", "4"]).await;
    assert!(
        started.elapsed() > Duration::from_secs(5),
        "the copy must outlive several sessions to test anything"
    );
    assert_eq!(s["copied"], 603, "{s}");
    assert!(
        s["credential_refreshes"].as_u64().unwrap() >= 4,
        "sessions were renewed: {s}"
    );
    check_all(&emu, &objects).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_copy_resumes_with_sync_without_recopying() {
    let emu = copy_world(Options {
        faults: Faults {
            latency: Duration::from_millis(10),
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    let objects = fill_many(&emu, 400).await;
    let dir = profiles("killed");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.args([
        "copy",
        "s3://ferry-source/m/",
        "s3://ferry-dest/m/",
        "-j",
        "4",
        "--quiet",
    ])
    .args(roles(WRITER_ROLE))
    .args([
        "--source-endpoint",
        &emu.endpoint(),
        "--dest-endpoint",
        &emu.endpoint(),
    ])
    .env("AWS_CONFIG_FILE", dir.join("config"))
    .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
    .env_remove("AWS_PROFILE")
    .env_remove("AWS_ENDPOINT_URL")
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Kill it once part of the job is done.
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if dest_keys(&emu).await.len() >= 50 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = dest_keys(&emu).await.len();
    assert!(
        before > 0 && before < objects.len(),
        "killed mid-way: {before}"
    );

    let mut args = vec!["s3://ferry-source/m/", "s3://ferry-dest/m/", "--json"];
    args.extend(roles(SYNCER_ROLE));
    let (code, out, err) = run(&emu, "resumed", "sync", args).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let s = summary(&out);
    assert_eq!(
        s["skipped"].as_u64().unwrap(),
        before as u64,
        "completed objects are not copied again: {s}"
    );
    assert_eq!(
        s["copied"].as_u64().unwrap() as usize,
        objects.len() - before,
        "{s}"
    );
    check_all(&emu, &objects).await;
}

#[test]
fn the_demo_runs_the_main_job_and_verifies_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["demo", "--objects", "200", "--large", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("copied 201 objects"), "{stdout}");
    assert!(
        stdout.contains("owned by account B, the bucket owner"),
        "{stdout}"
    );
    assert!(
        stdout.contains("copied 0, skipped 201 unchanged"),
        "{stdout}"
    );
    assert!(
        stdout.contains("denied, as on AWS: AccessDenied"),
        "{stdout}"
    );
    assert!(stdout.contains("demo passed"), "{stdout}");
}

#[tokio::test]
async fn headers_are_kept_and_storage_class_encryption_and_tags_follow_the_flags() {
    for (tag, writer) in [("hdr-stream", WRITER_ROLE), ("hdr-server", COPIER_ROLE)] {
        let emu = world(1024).await;
        let a = emu.s3(&Key::root("A"));
        for (k, body) in [("h/small.json", big(300)), ("h/large.bin", big(150_000))] {
            a.put_object()
                .bucket(SRC)
                .key(k)
                .content_type("application/json")
                .content_encoding("identity")
                .content_disposition("attachment; filename=\"x.json\"")
                .cache_control("max-age=60")
                .metadata("origin", "account-a")
                .tagging("team=data")
                .body(ByteStream::from(body))
                .send()
                .await
                .unwrap();
        }
        let mut args = vec![
            "s3://ferry-source/h/",
            "s3://ferry-dest/h/",
            "--storage-class",
            "standard_ia",
            "--sse",
            "AES256",
            "--no-tags",
            "--json",
        ];
        args.extend(roles(writer));
        let (code, out, err) = run(&emu, tag, "copy", args).await;
        assert_eq!(code, Some(0), "{out}{err}");
        let b = emu.s3(&Key::root("B"));
        for k in ["h/small.json", "h/large.bin"] {
            let h = b.head_object().bucket(DST).key(k).send().await.unwrap();
            let what = format!("{tag} {k}");
            assert_eq!(h.content_type(), Some("application/json"), "{what}");
            assert_eq!(h.content_encoding(), Some("identity"), "{what}");
            assert_eq!(
                h.content_disposition(),
                Some("attachment; filename=\"x.json\""),
                "{what}"
            );
            assert_eq!(h.cache_control(), Some("max-age=60"), "{what}");
            assert_eq!(
                h.metadata()
                    .and_then(|m| m.get("origin"))
                    .map(String::as_str),
                Some("account-a"),
                "{what}"
            );
            assert_eq!(
                h.storage_class().map(|s| s.as_str()),
                Some("STANDARD_IA"),
                "{what}"
            );
            assert_eq!(
                h.server_side_encryption().map(|s| s.as_str()),
                Some("AES256"),
                "{what}"
            );
            let tags = b
                .get_object_tagging()
                .bucket(DST)
                .key(k)
                .send()
                .await
                .unwrap();
            assert!(tags.tag_set().is_empty(), "--no-tags: {what}");
        }
    }
}

#[tokio::test]
async fn bad_flags_exit_two_before_anything_happens() {
    let emu = world(1024).await;
    for (args, want) in [
        (
            vec![
                "s3://ferry-source/",
                "s3://ferry-dest/",
                "--storage-class",
                "COLD",
            ],
            "--storage-class",
        ),
        (
            vec!["s3://ferry-source/", "s3://ferry-dest/", "--sse", "rot13"],
            "--sse",
        ),
        (
            vec![
                "s3://ferry-source/",
                "s3://ferry-dest/",
                "--sse-kms-key-id",
                "k",
            ],
            "needs --sse aws:kms",
        ),
        (
            vec![
                "s3://ferry-source/",
                "s3://ferry-dest/",
                "--include",
                "a[",
                "--exclude",
                "*",
            ],
            "invalid glob",
        ),
        (vec!["/tmp", "/var"], "both locations are local"),
        (
            vec![
                "s3://ferry-source/",
                "s3://ferry-dest/",
                "--compare",
                "vibes",
            ],
            "--compare",
        ),
    ] {
        let (code, out, err) = run(&emu, "badflags", "sync", args.clone()).await;
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: expected `{want}` in {err}");
    }
}

#[tokio::test]
async fn profiles_with_role_arn_and_source_profile_work_as_in_the_aws_cli() {
    let emu = world(1024).await;
    fill(&emu, &[("r/a.txt", b"alpha".to_vec())]).await;
    let dir = profiles("role-profiles");
    let ep = emu.endpoint();
    std::fs::write(
        dir.join("config"),
        format!(
            "[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n\
             [profile reader]\nregion = us-east-1\nrole_arn = {SOURCE_ROLE}\nsource_profile = a\nendpoint_url = {ep}\n\
             [profile writer]\nregion = us-east-1\nrole_arn = {WRITER_ROLE}\nsource_profile = b\nendpoint_url = {ep}\n"
        ),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        ferry(
            &dir,
            &ep,
            "copy",
            &[
                "s3://ferry-source/r/",
                "s3://ferry-dest/r/",
                "--source-profile",
                "reader",
                "--dest-profile",
                "writer",
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
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&stdout);
    assert!(
        s["source_identity"]["arn"]
            .as_str()
            .unwrap()
            .contains("assumed-role/source-reader/"),
        "{s}"
    );
    assert!(
        s["destination_identity"]["arn"]
            .as_str()
            .unwrap()
            .contains("assumed-role/dest-writer/"),
        "{s}"
    );
    assert_eq!(dest_body(&emu, "r/a.txt").await, b"alpha");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_answer_refreshes_the_session_and_retries() {
    // One request in ten signed with a session is answered 400 ExpiredToken (a HEAD's answer
    // has no body, so it is a bare 400 there), whatever the timing.
    let emu = copy_world(Options {
        faults: Faults {
            expired_token: 0.1,
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    let objects = fill_many(&emu, 200).await;
    let s = copy_many(&emu, "expired-token", &[]).await;
    assert_eq!(s["copied"], 203, "{s}");
    assert!(
        s["retries"].as_u64().unwrap() > 0,
        "ExpiredToken answers were retried: {s}"
    );
    assert!(
        s["credential_refreshes"].as_u64().unwrap() > 2,
        "each ExpiredToken dropped the session and a new one was assumed: {s}"
    );
    check_all(&emu, &objects).await;
    assert_eq!(open_uploads(&emu).await, 0);
}

/// Puts `objects` into `bucket` as `key`'s root, 32 at a time.
async fn put_all(emu: &Emu, key: &Key, bucket: &'static str, objects: &[(String, Vec<u8>)]) {
    let c = emu.s3(key);
    futures::stream::iter(objects.to_vec())
        .for_each_concurrent(32, |(k, body)| {
            let c = c.clone();
            async move {
                c.put_object()
                    .bucket(bucket)
                    .key(&k)
                    .acl(aws_sdk_s3::types::ObjectCannedAcl::BucketOwnerFullControl)
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{k}: {e:?}"));
            }
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_sync_is_listed_in_ranges_and_plans_every_key_once() {
    let emu = world(1024).await;
    // Three shapes of keys in one listing (dense numbers, hex hashes, non-ASCII names): 2,600
    // keys, three pages, so the listing is cut into ranges.
    let mut source: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..1500u64 {
        source.push((format!("r/n/{i:05}"), format!("n{i}").into_bytes()));
    }
    for i in 0..800u64 {
        let h = i.wrapping_mul(2_654_435_761) % (1 << 32);
        source.push((format!("r/h/{h:08x}"), format!("h{i}").into_bytes()));
    }
    for i in 0..300u64 {
        source.push((format!("r/z/é-{i}"), format!("z{i}").into_bytes()));
    }
    put_all(&emu, &Key::root("A"), SRC, &source).await;
    // The destination: every third key already there (same bytes), another seventh changed,
    // and extra keys between and after the source's.
    let mut dest: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, (k, body)) in source.iter().enumerate() {
        if i % 3 == 0 {
            dest.push((k.clone(), body.clone()));
        } else if i % 7 == 0 {
            dest.push((k.clone(), b"stale".to_vec()));
        }
    }
    let extras: Vec<String> = (0..150)
        .map(|i| format!("r/n/{i:05}x"))
        .chain((0..50).map(|i| format!("r/zz/{i}")))
        .collect();
    dest.extend(extras.iter().map(|k| (k.clone(), b"extra".to_vec())));
    put_all(&emu, &Key::root("B"), DST, &dest).await;
    let same = (0..source.len()).filter(|i| i % 3 == 0).count();

    let mut args = vec![
        "s3://ferry-source/r/",
        "s3://ferry-dest/r/",
        "--json",
        "--delete",
        "--list-ranges",
        "8",
    ];
    args.extend(roles(SYNCER_ROLE));
    let (code, out, err) = run(&emu, "ranges", "sync", args.clone()).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let s = summary(&out);
    assert!(s["list_ranges"].as_u64().unwrap() > 1, "{s}");
    assert_eq!(s["copied"], source.len() - same, "{s}");
    assert_eq!(s["skipped"], same, "{s}");
    assert_eq!(s["deleted"], extras.len(), "{s}");
    // Each copy and delete happened once (skips are not events in --json).
    let mut decided: Vec<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["key"].as_str().map(str::to_owned))
        .collect();
    let events = decided.len();
    decided.sort();
    decided.dedup();
    assert_eq!(decided.len(), events, "a key was decided twice");
    assert_eq!(events, source.len() - same + extras.len());

    let mut want: Vec<String> = source.iter().map(|(k, _)| k.clone()).collect();
    want.sort();
    assert_eq!(dest_keys(&emu).await, want);
    for (k, body) in source.iter().step_by(97) {
        assert_eq!(&dest_body(&emu, k).await, body, "{k}");
    }

    // In one sequence, the same destination is unchanged.
    let mut one = args.clone();
    one[5] = "1";
    let (code, out, err) = run(&emu, "ranges", "sync", one).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let s = summary(&out);
    assert_eq!(s["list_ranges"], 1, "{s}");
    assert_eq!(
        (
            s["copied"].clone(),
            s["skipped"].clone(),
            s["deleted"].clone()
        ),
        (0.into(), source.len().into(), 0.into()),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_that_switch_between_the_lean_path_and_the_sdk_under_faults_miss_no_key() {
    // 10,000 identical keys on both sides (generated by the world file: nothing to upload
    // under faults) and 30 more at the destination only. Two requests in five answer 503:
    // listing pages (20) fall from the lean path to the SDK client and back within one
    // listing, each resuming after the last key listed (all 20 on one path: 0.6^20). A key dropped or listed twice would show up
    // as a copy, a delete too many or a failure.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/copy-cross-account.toml");
    let mut raw = std::fs::read_to_string(&path).unwrap();
    let same = "\n[[account.bucket.object]]\nkey = \"f/k{n}\"\ncount = 10000\nsize = 16\n";
    let extra = "\n[[account.bucket.object]]\nkey = \"f/k{n}x\"\ncount = 30\nsize = 16\n";
    for (bucket, text) in [
        ("name = \"${dest}\"", format!("{same}{extra}")),
        ("name = \"${source}\"", same.to_owned()),
    ] {
        let at = raw.find(bucket).unwrap();
        let end = at + raw[at..].find("\n\n").unwrap();
        raw.insert_str(end, &text);
    }
    let emu = Emu::start(
        World::parse(&raw, &path).unwrap(),
        Options {
            faults: Faults {
                slow_down: 0.4,
                ..Faults::default()
            },
            ..Options::default()
        },
    )
    .await;
    let mut args = vec![
        "s3://ferry-source/f/",
        "s3://ferry-dest/f/",
        "--json",
        "--delete",
        "--list-ranges",
        "1",
    ];
    args.extend(roles(SYNCER_ROLE));
    let (code, out, err) = run(&emu, "switching", "sync", args).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let s = summary(&out);
    assert_eq!(s["copied"], 0, "{s}");
    assert_eq!(s["skipped"], 10000, "{s}");
    assert_eq!(s["deleted"], 30, "{s}");
    assert!(s["failed"].as_array().unwrap().is_empty(), "{s}");
    assert!(
        s["lean_list_pages"].as_u64().unwrap() > 0 && s["lean_list_misses"].as_u64().unwrap() > 0,
        "pages went both ways: {s}"
    );
    let mut deleted: Vec<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "deleted")
        .filter_map(|e| e["key"].as_str().map(str::to_owned))
        .collect();
    deleted.sort();
    let want: Vec<String> = (0..30).map(|i| format!("k{i:07}x")).collect();
    assert_eq!(deleted, want);
}
