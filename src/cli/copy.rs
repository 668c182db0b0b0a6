//! `ferry copy SRC DST`: copy objects between two S3 locations, each side with its own identity.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use aws_sdk_s3::types::ObjectCannedAcl;
use clap::Args;

use crate::copy::clients::{self, DestClient, SideConfig, SourceClient};
use crate::copy::engine::{self, CopyError, Counters, Mode};
use crate::copy::parts::MIB;
use crate::copy::url::Location;

#[derive(Debug, Args)]
#[command(
    after_help = "Example (account A's bucket to account B's, one role per side):\n  ferry copy s3://source-bucket/data/ s3://dest-bucket/data/ \\\n    --source-profile a --source-role arn:aws:iam::111111111111:role/reader \\\n    --dest-profile b --dest-role arn:aws:iam::222222222222:role/writer"
)]
pub struct CopyArgs {
    /// Source: s3://bucket[/prefix].
    pub source: String,
    /// Destination: s3://bucket[/prefix].
    pub destination: String,
    #[arg(long, value_name = "NAME")]
    pub source_profile: Option<String>,
    #[arg(long, value_name = "ARN")]
    pub source_role: Option<String>,
    #[arg(long, value_name = "ID")]
    pub source_external_id: Option<String>,
    #[arg(long, value_name = "REGION")]
    pub source_region: Option<String>,
    #[arg(long, value_name = "URL")]
    pub source_endpoint: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub dest_profile: Option<String>,
    #[arg(long, value_name = "ARN")]
    pub dest_role: Option<String>,
    #[arg(long, value_name = "ID")]
    pub dest_external_id: Option<String>,
    #[arg(long, value_name = "REGION")]
    pub dest_region: Option<String>,
    #[arg(long, value_name = "URL")]
    pub dest_endpoint: Option<String>,
    /// Canned ACL on every write, or `none` to send no ACL.
    #[arg(long, default_value = "bucket-owner-full-control")]
    pub acl: String,
    /// Objects in flight.
    #[arg(short = 'j', long, default_value_t = 64)]
    pub concurrency: usize,
    /// Parts of one object in flight.
    #[arg(long, default_value_t = 8)]
    pub part_concurrency: usize,
    /// Data path: auto (server-side when the destination identity can read the source).
    #[arg(long, value_enum, default_value_t = Mode::Auto)]
    pub mode: Mode,
    /// List what would be copied; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Objects of at least this many bytes are copied in parts.
    #[arg(long, default_value_t = 8 * MIB)]
    pub multipart_threshold: u64,
    /// Part size in bytes (raised automatically to stay within 10,000 parts).
    #[arg(long, default_value_t = 8 * MIB)]
    pub part_size: u64,
    /// Smallest part S3 accepts (AWS: 5 MiB; lower only against an emulator set so).
    #[arg(long, default_value_t = 5 * MIB, hide = true)]
    pub min_part_size: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write the keys that failed, one per line.
    #[arg(long, value_name = "FILE")]
    pub failed_keys: Option<PathBuf>,
}

fn s3_location(s: &str, what: &str) -> Result<(String, String)> {
    match s.parse::<Location>()? {
        Location::S3 { bucket, prefix } => Ok((bucket, prefix)),
        Location::Local(_) => {
            bail!("{what} `{s}`: local paths are not supported yet; use s3://bucket[/prefix]")
        }
    }
}

pub fn run(args: &CopyArgs) -> Result<ExitCode> {
    let src_loc = s3_location(&args.source, "source")?;
    let dst_loc = s3_location(&args.destination, "destination")?;
    let acl = match args.acl.as_str() {
        "none" => None,
        a => {
            if !ObjectCannedAcl::values().contains(&a) {
                bail!("--acl `{a}` is not a canned ACL (private, public-read, public-read-write, authenticated-read, aws-exec-read, bucket-owner-read, bucket-owner-full-control) or `none`");
            }
            Some(ObjectCannedAcl::from(a))
        }
    };
    if args.concurrency == 0 || args.part_concurrency == 0 {
        bail!("--concurrency and --part-concurrency must be at least 1");
    }
    let opts = engine::Options {
        acl,
        concurrency: args.concurrency,
        part_concurrency: args.part_concurrency,
        mode: args.mode,
        dry_run: args.dry_run,
        multipart_threshold: args.multipart_threshold,
        part_size: args.part_size,
        min_part_size: args.min_part_size,
    };
    let src_cfg = SideConfig {
        profile: args.source_profile.clone(),
        role_arn: args.source_role.clone(),
        external_id: args.source_external_id.clone(),
        region: args.source_region.clone(),
        endpoint: args.source_endpoint.clone(),
    };
    let dst_cfg = SideConfig {
        profile: args.dest_profile.clone(),
        role_arn: args.dest_role.clone(),
        external_id: args.dest_external_id.clone(),
        region: args.dest_region.clone(),
        endpoint: args.dest_endpoint.clone(),
    };
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let quiet = args.quiet;
    let counters = Arc::new(Counters::default());
    let result = rt.block_on(async {
        let src = SourceClient(clients::build("source", &src_cfg).await);
        let dst = DestClient(clients::build("destination", &dst_cfg).await);
        let progress = (!quiet).then(|| spawn_progress(counters.clone()));
        let r = engine::copy(src, dst, src_loc, dst_loc, opts, counters.clone(), |line| {
            if !quiet {
                eprintln!("ferry: {line}");
            }
        })
        .await;
        if let Some((bar, task)) = progress {
            task.abort();
            bar.finish_and_clear();
        }
        r
    });
    let report = match result {
        Ok(r) => r,
        Err(CopyError::Config(m)) => {
            eprintln!("ferry: error: {m}");
            return Ok(ExitCode::from(2));
        }
        Err(e @ CopyError::Permission { .. }) => {
            eprintln!("ferry: permission error before copying: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(path) = &args.failed_keys {
        let text: String = report
            .failed
            .iter()
            .map(|f| format!("{}\n", f.key))
            .collect();
        std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for f in &report.failed {
            eprintln!("ferry: failed: {}: {}", f.key, f.error);
        }
        let rate = report.bytes as f64 / report.seconds.max(1e-9) / MIB as f64;
        let verb = if report.dry_run {
            "would copy"
        } else {
            "copied"
        };
        println!(
            "{verb} {} objects ({} bytes) in {:.2}s ({rate:.1} MiB/s); {} failed; data path: {}",
            if report.dry_run {
                counters.listed.load(Ordering::Relaxed)
            } else {
                report.copied
            },
            report.bytes,
            report.seconds,
            report.failed.len(),
            report
                .data_path
                .map(|p| format!("{p:?}"))
                .unwrap_or_else(|| "none".to_owned())
        );
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A progress bar on a terminal; plain periodic lines otherwise.
fn spawn_progress(c: Arc<Counters>) -> (indicatif::ProgressBar, tokio::task::JoinHandle<()>) {
    let tty = std::io::stderr().is_terminal();
    let bar = if tty {
        let b = indicatif::ProgressBar::new_spinner();
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
        {
            b.set_style(style);
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let b = bar.clone();
    let task = tokio::spawn(async move {
        let started = std::time::Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(if tty { 200 } else { 5000 })).await;
            let objects = c.objects.load(Ordering::Relaxed);
            let bytes = c.bytes.load(Ordering::Relaxed);
            let rate = bytes as f64 / started.elapsed().as_secs_f64().max(1e-9) / MIB as f64;
            let msg = format!(
                "{objects}/{} objects, {:.1} MiB, {rate:.1} MiB/s, {} failed",
                c.listed.load(Ordering::Relaxed),
                bytes as f64 / MIB as f64,
                c.failed.load(Ordering::Relaxed)
            );
            if tty {
                b.set_message(msg);
                b.tick();
            } else {
                eprintln!("ferry: progress: {msg}");
            }
        }
    });
    (bar, task)
}
