//! `ferry demo`: the main job end to end on the embedded emulator.
//!
//! Starts the emulator in-process with `scenarios/copy-cross-account.toml` (a source bucket
//! in account A, a destination bucket in account B whose policy requires
//! `bucket-owner-full-control`, a role per side), fills the source, runs `ferry sync` across
//! the accounts with progress bars, then verifies and prints what a user would check: every
//! object present and byte-identical, the data path and why, who owns the copies, a re-run that
//! skips everything, and a denial from the seed walkthroughs with AWS's error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use clap::Args;
use futures::StreamExt;

use crate::copy::clients::{self, DestClient, SideConfig, SourceClient};
use crate::copy::engine::{self, Event, Kind, Report};
use crate::copy::parts::MIB;
use crate::copy::plan::Compare;
use crate::emu::{server, Emulator, World};
use crate::types::AccountId;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The layout (default: scenarios/copy-cross-account.toml of this repository).
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,
    /// Small objects in the source bucket.
    #[arg(long, default_value_t = 5000)]
    pub objects: usize,
    /// Multipart-sized objects (24 MiB each) in the source bucket.
    #[arg(long, default_value_t = 3)]
    pub large: usize,
    /// Objects in flight.
    #[arg(short = 'j', long, default_value_t = 64)]
    pub concurrency: usize,
}

const SOURCE: &str = "ferry-source";
const DEST: &str = "ferry-dest";
const LARGE: usize = 24 * 1024 * 1024;

pub fn run(args: &DemoArgs) -> Result<ExitCode> {
    let world_path = args.world.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/copy-cross-account.toml")
    });
    let world = World::load(&world_path)
        .with_context(|| format!("cannot load the demo layout `{}`", world_path.display()))?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(demo(args, world))
}

fn client(endpoint: &str, id: &str, secret: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(id, secret, None, None, "ferry-demo"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// An access key ID and its secret.
type KeyPair = (String, String);

/// The keys of a world account's root and of its first user's first access key.
fn keys(world: &World, alias: &str) -> Result<(AccountId, KeyPair, KeyPair)> {
    let a = world
        .file
        .accounts
        .iter()
        .find(|a| a.alias == alias)
        .with_context(|| format!("the layout has no account `{alias}`"))?;
    let id: AccountId =
        a.id.parse()
            .map_err(|e| anyhow::anyhow!("account `{alias}`: {e}"))?;
    let (Some(root_key), Some(root_secret)) = (&a.access_key, &a.secret_key) else {
        bail!("account `{alias}` has no root keys in the layout");
    };
    let user = a
        .users
        .iter()
        .flat_map(|u| u.access_keys.iter())
        .next()
        .with_context(|| format!("account `{alias}` has no user with an access key"))?;
    Ok((
        id,
        (root_key.clone(), root_secret.clone()),
        (user.id.clone(), user.secret.clone()),
    ))
}

fn side(endpoint: &str, (id, secret): &(String, String), role: String) -> SideConfig {
    SideConfig {
        role_arn: Some(role),
        region: Some("us-east-1".to_owned()),
        endpoint: Some(endpoint.to_owned()),
        credentials: Some(Credentials::new(id, secret, None, None, "ferry-demo")),
        ..SideConfig::default()
    }
}

async fn demo(args: &DemoArgs, world: World) -> Result<ExitCode> {
    let started = Instant::now();
    let (a_id, a_root, a_user) = keys(&world, "A")?;
    let (b_id, b_root, b_user) = keys(&world, "B")?;
    let emu = Arc::new(Emulator::new(&world, crate::emu::Options::default())?);
    let running = server::start(emu, "127.0.0.1:0".parse()?).await?;
    let ep = running.endpoint();
    println!("== ferry demo: the emulator runs accounts A ({a_id}) and B ({b_id}) at {ep}");

    // 1. The source: many small objects and a few multipart-sized ones.
    let a = client(&ep, &a_root.0, &a_root.1);
    let t = Instant::now();
    let mut objects: Vec<(String, usize)> = (0..args.objects)
        .map(|i| {
            (
                format!("data/part-{:03}/obj-{i:05}.json", i % 50),
                512 + (i * 37) % 15_000,
            )
        })
        .collect();
    objects.extend((0..args.large).map(|i| (format!("data/large/blob-{i}.bin"), LARGE + i * 1024)));
    let total_bytes: usize = objects.iter().map(|(_, n)| n).sum();
    let failures = futures::stream::iter(objects.iter().cloned())
        .map(|(key, size)| {
            let a = a.clone();
            async move {
                let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8 ^ (size as u8)).collect();
                a.put_object()
                    .bucket(SOURCE)
                    .key(&key)
                    .content_type("application/json")
                    .metadata("origin", "account-a")
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map_err(|e| format!("{key}: {}", engine::describe(&e)))
            }
        })
        .buffer_unordered(64)
        .filter_map(|r| async move { r.err() })
        .collect::<Vec<_>>()
        .await;
    if let Some(f) = failures.first() {
        bail!("filling the source bucket failed: {f}");
    }
    println!(
        "== filled s3://{SOURCE}/data/ in account A: {} objects, {:.1} MiB ({:.1}s)",
        objects.len(),
        total_bytes as f64 / MIB as f64,
        t.elapsed().as_secs_f64()
    );

    // 2. sync A -> B: each side assumes its own role.
    let src_role = format!("arn:aws:iam::{a_id}:role/source-reader");
    let dst_role = format!("arn:aws:iam::{b_id}:role/dest-syncer");
    println!("== ferry sync s3://{SOURCE}/data/ s3://{DEST}/data/ \\\n     --source-role {src_role} --dest-role {dst_role}");
    let report = sync(args, &ep, &a_user, &b_user, &src_role, &dst_role, true).await?;
    println!(
        "   copied {} objects ({:.1} MiB) in {:.2}s; {} failed",
        report.copied,
        report.bytes as f64 / MIB as f64,
        report.seconds,
        report.failed.len()
    );
    println!(
        "   data path: {:?}: {}",
        report.data_path.unwrap_or(engine::DataPath::Stream),
        report.data_path_reason
    );
    println!(
        "   verified: {} by the source's checksum, {} by ETag, {} by the checksum of the bytes sent",
        report.verified_by_checksum, report.verified_by_etag, report.verified_by_sent_checksum
    );

    // 3. Verify as the destination account.
    let b = client(&ep, &b_root.0, &b_root.1);
    let mut ok = report.failed.is_empty() && report.copied as usize == objects.len();
    let mut listed = 0usize;
    let mut listed_bytes = 0u64;
    let mut pages = b
        .list_objects_v2()
        .bucket(DEST)
        .prefix("data/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow::anyhow!(engine::describe(&e)))?;
        listed += page.contents().len();
        listed_bytes += page
            .contents()
            .iter()
            .map(|o| o.size().unwrap_or(0) as u64)
            .sum::<u64>();
    }
    let same = listed == objects.len() && listed_bytes == total_bytes as u64;
    ok &= same;
    println!(
        "== account B lists {listed} objects, {listed_bytes} bytes under s3://{DEST}/data/ ({})",
        if same {
            "matches the source"
        } else {
            "DOES NOT match the source"
        }
    );
    let sample = [objects[0].0.clone(), objects[objects.len() - 1].0.clone()];
    for key in &sample {
        let acl = b
            .get_object_acl()
            .bucket(DEST)
            .key(key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(engine::describe(&e)))?;
        let owner = acl
            .owner()
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_owned();
        let is_b = owner == b_id.canonical_user_id();
        ok &= is_b;
        println!(
            "   s3://{DEST}/{key} is owned by {} ({owner:.16}...)",
            if is_b {
                "account B, the bucket owner"
            } else {
                "ANOTHER account"
            }
        );
        let src = a.get_object().bucket(SOURCE).key(key).send().await;
        let dst = b.get_object().bucket(DEST).key(key).send().await;
        if let (Ok(s), Ok(d)) = (src, dst) {
            let s = s.body.collect().await.map(|b| b.into_bytes());
            let d = d.body.collect().await.map(|b| b.into_bytes());
            let equal = matches!((&s, &d), (Ok(x), Ok(y)) if x == y);
            ok &= equal;
            println!(
                "   ... and its bytes {} the source's",
                if equal { "equal" } else { "DIFFER from" }
            );
        }
    }

    // 4. A re-run has nothing to do.
    println!("== the same sync again");
    let again = sync(args, &ep, &a_user, &b_user, &src_role, &dst_role, false).await?;
    ok &= again.copied == 0 && again.failed.is_empty();
    println!(
        "   copied {}, skipped {} unchanged, in {:.2}s",
        again.copied, again.skipped, again.seconds
    );

    // 5. A denial from the seeds: an upload-only role may not read what it uploaded.
    let writer = format!("arn:aws:iam::{b_id}:role/dest-writer");
    let w = clients::build("destination", &side(&ep, &b_user, writer.clone())).await;
    println!(
        "== as {writer} (upload-only, seed 003): get-object s3://{DEST}/{}",
        sample[0]
    );
    match w.s3.get_object().bucket(DEST).key(&sample[0]).send().await {
        Ok(_) => {
            ok = false;
            println!("   ALLOWED, but the role has no s3:GetObject");
        }
        Err(e) => println!("   denied, as on AWS: {}", engine::describe(&e)),
    }

    running.shutdown().await;
    println!(
        "== {} in {:.1}s",
        if ok { "demo passed" } else { "demo FAILED" },
        started.elapsed().as_secs_f64()
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn sync(
    args: &DemoArgs,
    ep: &str,
    a_user: &KeyPair,
    b_user: &KeyPair,
    src_role: &str,
    dst_role: &str,
    progress: bool,
) -> Result<Report> {
    let src = engine::Source::S3 {
        client: SourceClient(
            clients::build("source", &side(ep, a_user, src_role.to_owned())).await,
        ),
        bucket: SOURCE.to_owned(),
        prefix: "data/".to_owned(),
    };
    let dst = engine::Dest::S3 {
        client: DestClient(
            clients::build("destination", &side(ep, b_user, dst_role.to_owned())).await,
        ),
        bucket: DEST.to_owned(),
        prefix: "data/".to_owned(),
    };
    let mut opts = engine::Options::new(Kind::Sync {
        delete: false,
        max_delete: None,
        compare: Compare::Auto,
    });
    opts.concurrency = args.concurrency.max(1);
    let counters = Arc::new(engine::Counters::default());
    let events: engine::Events = Arc::new(|e: &Event| {
        if let Event::Failed { key, error } = e {
            eprintln!("ferry: failed: {key}: {error}");
        }
    });
    let bars = progress.then(|| super::copy::spawn_progress(counters.clone()));
    let report = engine::run(src, dst, opts, counters, events).await;
    if let Some((bars, task)) = bars {
        task.abort();
        let _ = bars.clear();
    }
    report.map_err(|e| anyhow::anyhow!("{e}"))
}
