//! `ferry copy SRC DST` and `ferry sync SRC DST`: copy objects between S3 locations (or a
//! local folder and S3), each S3 side with its own identity.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use aws_sdk_s3::types::{ObjectCannedAcl, ServerSideEncryption, StorageClass};
use clap::Args;

use crate::copy::clients::{self, DestClient, SideConfig, SourceClient};
use crate::copy::engine::{self, CopyError, Counters, Event, Kind, Mode};
use crate::copy::filter::{Filter, Rule};
use crate::copy::parts::MIB;
use crate::copy::plan::Compare;
use crate::copy::url::Location;

pub const EXAMPLE: &str = "Example (account A's bucket to account B's, one role per side):\n  ferry copy s3://source-bucket/data/ s3://dest-bucket/data/ \\\n    --source-profile a --source-role arn:aws:iam::111111111111:role/reader \\\n    --dest-profile b --dest-role arn:aws:iam::222222222222:role/writer";

/// What `copy` and `sync` share.
#[derive(Debug, Args, Clone)]
pub struct CopyArgs {
    /// Source: s3://bucket[/prefix] or a local path.
    pub source: String,
    /// Destination: s3://bucket[/prefix] or a local path.
    pub destination: String,
    /// Profile of the source side (else the standard chain: AWS_PROFILE, environment, ...).
    #[arg(long, value_name = "NAME")]
    pub source_profile: Option<String>,
    /// Role the source side assumes (from the profile's credentials).
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
    /// Copy only keys that match no --exclude glob, or that match an --include glob
    /// (relative to the source prefix; `*` also matches `/`). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Storage class of the written objects (STANDARD, STANDARD_IA, GLACIER_IR, ...).
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,
    /// Server-side encryption of the written objects: AES256 or aws:kms.
    #[arg(long, value_name = "ALG")]
    pub sse: Option<String>,
    /// KMS key for --sse aws:kms.
    #[arg(long, value_name = "KEY")]
    pub sse_kms_key_id: Option<String>,
    /// Do not copy object tags.
    #[arg(long)]
    pub no_tags: bool,
    /// Objects in flight (halved while S3 answers SlowDown, then grown back).
    #[arg(short = 'j', long, default_value_t = 64)]
    pub concurrency: usize,
    /// Parts of one object in flight.
    #[arg(long, default_value_t = 8)]
    pub part_concurrency: usize,
    /// Data path: auto (server-side when the destination identity can read the source).
    #[arg(long, value_enum, default_value_t = Mode::Auto)]
    pub mode: Mode,
    /// Print what would be done; write nothing.
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
    /// Bytes of file data held in memory at once when uploading local files.
    #[arg(long, default_value_t = 1024 * MIB)]
    pub memory_budget: u64,
    /// Key ranges a source listing of more than one page is cut into, each listed (on both
    /// sides, for sync) alongside the others. 1 lists in one sequence.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub list_ranges: u16,
    /// Send every request through aws-sdk-s3's client. By default listing pages and the GET
    /// and PUT of small objects streamed between two identities take a lean path (the SDK's
    /// endpoint rules, transport and SigV4 signer without its per-request pipeline) and fall
    /// back to the client on any error answer.
    #[arg(long)]
    pub sdk_only: bool,
    /// Events as JSON lines on stdout, the summary last.
    #[arg(long)]
    pub json: bool,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write the keys that failed, one per line.
    #[arg(long, value_name = "FILE")]
    pub failed_keys: Option<PathBuf>,
}

/// `ferry sync`: `copy` plus what makes it incremental.
#[derive(Debug, Args, Clone)]
pub struct SyncArgs {
    #[command(flatten)]
    pub copy: CopyArgs,
    /// Delete destination objects that are absent at the source (within the filters).
    #[arg(long)]
    pub delete: bool,
    /// Delete at most this many objects; the rest are reported as failures.
    #[arg(long, value_name = "N", requires = "delete")]
    pub max_delete: Option<u64>,
    /// How to tell an object changed: auto (the strongest both sides allow), checksum, etag,
    /// size-mtime, size.
    #[arg(long, default_value = "auto", value_parser = parse_compare)]
    pub compare: Compare,
}

fn parse_compare(s: &str) -> Result<Compare, String> {
    s.parse()
}

fn location(s: &str) -> Result<Location> {
    Ok(s.parse::<Location>()?)
}

fn side(
    profile: &Option<String>,
    role: &Option<String>,
    external_id: &Option<String>,
    region: &Option<String>,
    endpoint: &Option<String>,
) -> SideConfig {
    SideConfig {
        profile: profile.clone(),
        role_arn: role.clone(),
        external_id: external_id.clone(),
        region: region.clone(),
        endpoint: endpoint.clone(),
        credentials: None,
    }
}

pub fn run(args: &CopyArgs) -> Result<ExitCode> {
    run_job(args, Kind::Copy)
}

pub fn run_sync(args: &SyncArgs) -> Result<ExitCode> {
    run_job(
        &args.copy,
        Kind::Sync {
            delete: args.delete,
            max_delete: args.max_delete,
            compare: args.compare,
        },
    )
}

/// Options from the command line (no I/O).
pub fn options(args: &CopyArgs, kind: Kind) -> Result<engine::Options> {
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
    let storage_class = match &args.storage_class {
        None => None,
        Some(c) => {
            let upper = c.to_ascii_uppercase();
            if !StorageClass::values().contains(&upper.as_str()) {
                bail!(
                    "--storage-class `{c}` is not one of {}",
                    StorageClass::values().join(", ")
                );
            }
            Some(StorageClass::from(upper.as_str()))
        }
    };
    let sse = match args.sse.as_deref() {
        None => None,
        Some("AES256") => Some(ServerSideEncryption::Aes256),
        Some("aws:kms") => Some(ServerSideEncryption::AwsKms),
        Some("aws:kms:dsse") => Some(ServerSideEncryption::AwsKmsDsse),
        Some(other) => bail!("--sse `{other}` is not one of AES256, aws:kms, aws:kms:dsse"),
    };
    if args.sse_kms_key_id.is_some()
        && !matches!(
            sse,
            Some(ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse)
        )
    {
        bail!("--sse-kms-key-id needs --sse aws:kms");
    }
    let mut rules: Vec<Rule> = args.include.iter().cloned().map(Rule::Include).collect();
    rules.extend(args.exclude.iter().cloned().map(Rule::Exclude));
    let filter = Filter::new(&rules).map_err(anyhow::Error::msg)?;
    let mut opts = engine::Options::new(kind);
    opts.acl = acl;
    opts.concurrency = args.concurrency;
    opts.part_concurrency = args.part_concurrency;
    opts.mode = args.mode;
    opts.dry_run = args.dry_run;
    opts.multipart_threshold = args.multipart_threshold;
    opts.part_size = args.part_size;
    opts.min_part_size = args.min_part_size;
    opts.filter = Arc::new(filter);
    opts.storage_class = storage_class;
    opts.sse = sse;
    opts.sse_kms_key_id = args.sse_kms_key_id.clone();
    opts.tags = !args.no_tags;
    opts.memory_budget = args.memory_budget.max(MIB);
    opts.list_ranges = usize::from(args.list_ranges);
    opts.sdk_only = args.sdk_only;
    Ok(opts)
}

fn run_job(args: &CopyArgs, kind: Kind) -> Result<ExitCode> {
    let src_loc = location(&args.source).context("source")?;
    let dst_loc = location(&args.destination).context("destination")?;
    let opts = options(args, kind)?;
    if let (Location::Local(_), Location::Local(_)) = (&src_loc, &dst_loc) {
        bail!("both locations are local: ferry copies to or from S3 (use cp or rsync for local copies)");
    }
    let src_cfg = side(
        &args.source_profile,
        &args.source_role,
        &args.source_external_id,
        &args.source_region,
        &args.source_endpoint,
    );
    let dst_cfg = side(
        &args.dest_profile,
        &args.dest_role,
        &args.dest_external_id,
        &args.dest_region,
        &args.dest_endpoint,
    );
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let quiet = args.quiet;
    let json = args.json;
    let dry_run = args.dry_run;
    let counters = Arc::new(Counters::default());
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let events: engine::Events = {
        let out = out.clone();
        Arc::new(move |e: &Event| {
            if json {
                if !matches!(e, Event::Skipped { .. }) {
                    if let Ok(line) = serde_json::to_string(e) {
                        let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                        let _ = writeln!(o, "{line}");
                    }
                }
                return;
            }
            match e {
                Event::Info { message } if !quiet => eprintln!("ferry: {message}"),
                Event::Plan {
                    action,
                    key,
                    to,
                    reason,
                } if dry_run && *action != "skip" => {
                    let reason = serde_json::to_value(reason)
                        .ok()
                        .map(|v| v.to_string().trim_matches('"').to_owned())
                        .unwrap_or_default();
                    let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = writeln!(o, "(dry run) {action}: {key} -> {to} ({reason})");
                }
                _ => {}
            }
        })
    };
    let result = rt.block_on(async {
        let src = match src_loc {
            Location::S3 { bucket, prefix } => engine::Source::S3 {
                client: SourceClient(clients::build("source", &src_cfg).await),
                bucket,
                prefix,
            },
            Location::Local(p) => engine::Source::Local(p),
        };
        let dst = match dst_loc {
            Location::S3 { bucket, prefix } => engine::Dest::S3 {
                client: DestClient(clients::build("destination", &dst_cfg).await),
                bucket,
                prefix,
            },
            Location::Local(p) => engine::Dest::Local(p),
        };
        let progress = (!quiet && !json).then(|| spawn_progress(counters.clone()));
        let r = engine::run(src, dst, opts, counters.clone(), events).await;
        if let Some((bars, task)) = progress {
            task.abort();
            let _ = bars.clear();
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
    if json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(m) = v.as_object_mut() {
            m.insert("event".to_owned(), "summary".into());
        }
        let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(o, "{v}")?;
    } else {
        for f in &report.failed {
            eprintln!("ferry: failed: {}: {}", f.key, f.error);
        }
        let rate = report.bytes as f64 / report.seconds.max(1e-9) / MIB as f64;
        let path = report
            .data_path
            .map(|p| format!("{p:?}"))
            .unwrap_or_else(|| "none".to_owned());
        if report.dry_run {
            println!(
                "(dry run) would copy {} objects ({} bytes); {} unchanged; data path: {path}",
                counters.planned.load(Ordering::Relaxed),
                counters.planned_bytes.load(Ordering::Relaxed),
                report.skipped,
            );
        } else {
            println!(
                "copied {} objects ({} bytes) in {:.2}s ({rate:.1} MiB/s); {} skipped; {} deleted; {} failed; data path: {path}",
                report.copied,
                report.bytes,
                report.seconds,
                report.skipped,
                report.deleted,
                report.failed.len(),
            );
            if report.copied > 0 {
                println!(
                    "verified: {} by source checksum, {} by ETag, {} by checksum of the bytes sent",
                    report.verified_by_checksum,
                    report.verified_by_etag,
                    report.verified_by_sent_checksum
                );
            }
            if report.slowdowns > 0 || report.retries > 0 {
                println!(
                    "{} SlowDown answers, {} retries; concurrency ended at {}",
                    report.slowdowns, report.retries, report.final_concurrency
                );
            }
        }
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Progress bars on a terminal (objects and bytes against the planned totals, rate, ETA);
/// plain periodic lines otherwise.
pub(crate) fn spawn_progress(
    c: Arc<Counters>,
) -> (indicatif::MultiProgress, tokio::task::JoinHandle<()>) {
    let tty = std::io::stderr().is_terminal();
    let multi = if tty {
        indicatif::MultiProgress::new()
    } else {
        indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    };
    let objects = multi.add(indicatif::ProgressBar::new(0));
    let bytes = multi.add(indicatif::ProgressBar::new(0));
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "objects {bar:30.cyan/blue} {pos}/{len} {msg} [{elapsed_precise}, ETA {eta}]",
    ) {
        objects.set_style(style);
    }
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "bytes   {bar:30.green/blue} {bytes}/{total_bytes} {binary_bytes_per_sec}",
    ) {
        bytes.set_style(style);
    }
    let task = tokio::spawn(async move {
        let started = std::time::Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(if tty { 200 } else { 5000 })).await;
            let done = c.objects.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed);
            let planned = c.planned.load(Ordering::Relaxed);
            let done_bytes = c.bytes.load(Ordering::Relaxed);
            let planned_bytes = c.planned_bytes.load(Ordering::Relaxed);
            let listing = if c.planned_all.load(Ordering::Relaxed) {
                ""
            } else {
                " (listing...)"
            };
            let extra = format!(
                "{} skipped, {} failed{listing}",
                c.skipped.load(Ordering::Relaxed),
                c.failed.load(Ordering::Relaxed)
            );
            if tty {
                objects.set_length(planned);
                objects.set_position(done);
                objects.set_message(extra);
                bytes.set_length(planned_bytes);
                bytes.set_position(done_bytes);
            } else {
                let rate =
                    done_bytes as f64 / started.elapsed().as_secs_f64().max(1e-9) / MIB as f64;
                eprintln!(
                    "ferry: progress: {done}/{planned} objects, {:.1}/{:.1} MiB, {rate:.1} MiB/s, {extra}",
                    done_bytes as f64 / MIB as f64,
                    planned_bytes as f64 / MIB as f64,
                );
            }
        }
    });
    (multi, task)
}
