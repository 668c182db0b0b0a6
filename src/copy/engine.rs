//! The copy and sync job between two locations (S3 prefixes or local folders), each S3 side
//! read or written with its own identity.
//!
//! 1. Preflight, before any write: both identities resolved, the source listable, the
//!    destination bucket present, and the data path chosen. S3 to S3 goes server-side
//!    (CopyObject / UploadPartCopy) when the destination identity can read the source, else
//!    streams through this host (GET with the source identity, PUT / UploadPart with the
//!    destination identity).
//! 2. Planning: `copy` takes every listed key; `sync` merge-joins the source and destination
//!    listings ([`super::plan`]) in a blocking thread fed page by page, so memory does not grow
//!    with the number of keys.
//! 3. Execution: the first write runs alone and a refusal there ends the job as a permission
//!    error (exit 2) with nothing written; then objects run concurrently under the adaptive
//!    [`Limiter`], parts of one object concurrently too. SlowDown and transient errors retry
//!    with jittered exponential backoff on top of the SDK's own retries; `ExpiredToken` drops
//!    the side's credentials and retries with fresh ones.
//! 4. Verification: every write carries a full-object checksum; the stored checksum (or
//!    ETag) the destination answers with is compared with the source's before the object
//!    counts as copied.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart, MetadataDirective,
    ObjectCannedAcl, ServerSideEncryption, StorageClass, TaggingDirective,
};
use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::{mpsc, Semaphore};

use super::checksum::{Algorithm, Running};
use super::clients::{DestClient, Identity, Side, SourceClient};
use super::direct;
use super::filter::Filter;
use super::limiter::Limiter;
use super::listing::{self, KeyMap, PARTIAL_MARK};
use super::parts::{self, PartPlan, MIB};
use super::plan::{Action, Compare, Entry, Planner, Reason};
use super::ranges::{self, Range};

/// How data moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataPath {
    /// CopyObject / UploadPartCopy by the destination identity.
    ServerSide,
    /// GET with the source identity, PUT with the destination identity, through this host.
    Stream,
    /// Local files to S3.
    Upload,
    /// S3 to local files.
    Download,
}

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Auto,
    ServerSide,
    Stream,
}

/// `copy` or `sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Copy,
    Sync {
        delete: bool,
        max_delete: Option<u64>,
        compare: Compare,
    },
}

/// One side of a job.
#[derive(Clone, Debug)]
pub enum Source {
    S3 {
        client: SourceClient,
        bucket: String,
        prefix: String,
    },
    Local(PathBuf),
}

#[derive(Clone, Debug)]
pub enum Dest {
    S3 {
        client: DestClient,
        bucket: String,
        prefix: String,
    },
    Local(PathBuf),
}

/// Job options.
#[derive(Clone, Debug)]
pub struct Options {
    pub kind: Kind,
    /// Canned ACL for every write; `None` sends none.
    pub acl: Option<ObjectCannedAcl>,
    pub concurrency: usize,
    pub part_concurrency: usize,
    pub mode: Mode,
    pub dry_run: bool,
    pub multipart_threshold: u64,
    pub part_size: u64,
    /// S3's minimum part size (lowered only for emulators configured so).
    pub min_part_size: u64,
    pub filter: Arc<Filter>,
    pub storage_class: Option<StorageClass>,
    pub sse: Option<ServerSideEncryption>,
    pub sse_kms_key_id: Option<String>,
    /// Copy tags (default) or not.
    pub tags: bool,
    /// Bytes this host may hold in buffers at once (uploads read parts into memory).
    pub memory_budget: u64,
    /// Attempts per request after the SDK's own retries (SlowDown, 5xx, dropped connections).
    pub max_attempts: u32,
    /// Key ranges a large S3 listing is cut into and listed side by side (1: one listing).
    pub list_ranges: usize,
    /// Send every request through aws-sdk-s3's client, also the small streamed objects'
    /// GET and PUT that otherwise take the lean path (`super::direct`).
    pub sdk_only: bool,
}

impl Options {
    pub fn new(kind: Kind) -> Options {
        Options {
            kind,
            acl: Some(ObjectCannedAcl::BucketOwnerFullControl),
            concurrency: 64,
            part_concurrency: 8,
            mode: Mode::Auto,
            dry_run: false,
            multipart_threshold: 8 * MIB,
            part_size: 8 * MIB,
            min_part_size: parts::MIN_PART_SIZE,
            filter: Arc::new(Filter::default()),
            storage_class: None,
            sse: None,
            sse_kms_key_id: None,
            tags: true,
            memory_budget: 1024 * MIB,
            max_attempts: 8,
            list_ranges: 4,
            sdk_only: false,
        }
    }
}

/// An object that could not be copied (or deleted).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Failure {
    pub key: String,
    pub error: String,
}

/// How a copied object was confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verified {
    /// The destination's stored full-object checksum equals the source's.
    Checksum,
    /// The destination's ETag (MD5 of the body) equals the source's.
    Etag,
    /// The destination's stored checksum equals the one computed over the bytes sent (the
    /// source had no comparable checksum or ETag).
    Sent,
}

/// What happened, as it happens (for `--json` and `--dry-run`).
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Info {
        message: String,
    },
    /// In a dry run: what would be done.
    Plan {
        action: &'static str,
        key: String,
        to: String,
        reason: Reason,
    },
    Copied {
        key: String,
        to: String,
        bytes: u64,
        verified: Verified,
    },
    Skipped {
        key: String,
        reason: Reason,
    },
    Deleted {
        key: String,
    },
    Failed {
        key: String,
        error: String,
    },
}

/// Receives events from every worker.
pub type Events = Arc<dyn Fn(&Event) + Send + Sync>;

/// What a job did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub command: &'static str,
    pub source: String,
    pub destination: String,
    pub source_identity: Option<Identity>,
    pub destination_identity: Option<Identity>,
    pub data_path: Option<DataPath>,
    pub data_path_reason: String,
    pub copied: u64,
    pub skipped: u64,
    pub deleted: u64,
    pub failed: Vec<Failure>,
    pub bytes: u64,
    pub seconds: f64,
    pub dry_run: bool,
    /// How the copied objects were confirmed.
    pub verified_by_checksum: u64,
    pub verified_by_etag: u64,
    pub verified_by_sent_checksum: u64,
    /// Requests retried by ferry (beyond the SDK's own retries), SlowDown answers seen, and
    /// the in-flight limit at the end.
    pub retries: u64,
    pub slowdowns: u64,
    pub credential_refreshes: u64,
    pub final_concurrency: usize,
    /// Key ranges the listing was cut into (1: one sequence).
    pub list_ranges: usize,
    /// Small streamed objects copied on the lean request path, and the ones it gave back to
    /// the SDK client (an error answer, a tagged object, …), which then copied or failed them.
    pub lean_path_objects: u64,
    pub lean_path_misses: u64,
    /// Listing pages read on the lean path, and pages it gave to the SDK client.
    pub lean_list_pages: u64,
    pub lean_list_misses: u64,
}

/// Errors found before copying (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    Config(String),
    #[error("{identity} may not {action} on {resource}: {message}")]
    Permission {
        identity: String,
        action: &'static str,
        resource: String,
        message: String,
    },
}

/// `CODE: message (HTTP status)` for an SDK error, without anything secret.
pub fn describe<E>(e: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let err = se.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m} (HTTP {status})"),
                (Some(c), None) => format!("{c} (HTTP {status})"),
                _ => format!("HTTP {status}"),
            }
        }
        SdkError::DispatchFailure(d) => format!("cannot reach the endpoint: {d:?}"),
        SdkError::TimeoutError(_) => "the request timed out".to_owned(),
        other => {
            // Include the cause chain: "failed to construct request" alone says nothing.
            let mut msg = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            msg
        }
    }
}

fn code<E: ProvideErrorMetadata>(e: &SdkError<E>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

/// Progress counters, shared with the progress display.
#[derive(Debug, Default)]
pub struct Counters {
    pub objects: AtomicU64,
    pub bytes: AtomicU64,
    pub failed: AtomicU64,
    pub skipped: AtomicU64,
    pub deleted: AtomicU64,
    /// Keys listed at the source.
    pub listed: AtomicU64,
    /// Objects and bytes the plan will copy (grows while listing).
    pub planned: AtomicU64,
    pub planned_bytes: AtomicU64,
    /// The plan is complete (the totals are final).
    pub planned_all: AtomicBool,
}

/// Which side a request used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SideId {
    Source,
    Dest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    SlowDown,
    Expired(SideId),
    Transient,
    /// Refused: a permission or configuration problem (403, ACLs not supported, ...).
    Denied,
    Fatal,
}

/// A failed request or step, classified for retries.
#[derive(Debug)]
struct Fail {
    class: Class,
    message: String,
    /// For denials: the action and the side whose identity lacks it.
    action: &'static str,
    side: SideId,
}

impl Fail {
    fn fatal(message: impl Into<String>) -> Fail {
        Fail {
            class: Class::Fatal,
            message: message.into(),
            action: "",
            side: SideId::Dest,
        }
    }

    fn sdk<E>(e: &SdkError<E>, side: SideId, action: &'static str, what: &str) -> Fail
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = e.raw_response().map(|r| r.status().as_u16());
        let class = match (code(e), status) {
            (Some("SlowDown"), _) | (_, Some(503)) => Class::SlowDown,
            (Some("ExpiredToken" | "TokenRefreshRequired"), _) => Class::Expired(side),
            // HEAD answers carry no body, so an expired session shows only as a bare 400:
            // refresh and retry (a few times at most, as for ExpiredToken).
            (None, Some(400)) => Class::Expired(side),
            (Some("AccessControlListNotSupported" | "InvalidBucketAclWithObjectOwnership"), _) => {
                Class::Denied
            }
            (Some("AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch"), _)
            | (_, Some(403)) => Class::Denied,
            (Some("InternalError" | "RequestTimeout"), _) | (_, Some(500 | 502 | 504)) => {
                Class::Transient
            }
            _ => match e {
                SdkError::DispatchFailure(_)
                | SdkError::TimeoutError(_)
                | SdkError::ResponseError(_) => Class::Transient,
                _ => Class::Fatal,
            },
        };
        let mut message = format!("{what}: {}", describe(e));
        if code(e) == Some("AccessControlListNotSupported") {
            message.push_str(
                " — the destination bucket has ACLs disabled (Object Ownership BucketOwnerEnforced): use --acl bucket-owner-full-control (accepted there) or --acl none",
            );
        }
        Fail {
            class,
            message,
            action,
            side,
        }
    }
}

/// Streamed objects up to this size are read whole before the PUT (bytes).
const SMALL_BODY: i64 = 1024 * 1024;

/// Jittered exponential backoff: up to 100 ms × 2^attempt, capped at 5 s.
fn backoff(attempt: u32) -> Duration {
    let cap = 100u64.saturating_mul(1 << attempt.min(6)).min(5_000);
    let jitter: u64 = rand::random::<u64>() % (cap + 1);
    Duration::from_millis(jitter.max(10))
}

/// Sends one request until it succeeds, as the job's own requests are retried: after
/// `ExpiredToken` (or a HEAD's bare 400) with the side's credentials dropped, after SlowDown and
/// transient errors with jittered back-off. For preflight requests and listing pages, which
/// run outside a job's workers; the SDK error is returned as is for the caller to word.
pub(crate) async fn with_retries<T, E, F, Fut>(side: &Side, mut f: F) -> Result<T, SdkError<E>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E>>>,
{
    let (mut attempt, mut refreshed) = (0u32, 0u32);
    loop {
        let started = Instant::now();
        let e = match f().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        match Fail::sdk(&e, SideId::Source, "", "").class {
            Class::Expired(_) if refreshed < 5 => {
                refreshed += 1;
                side.credentials.invalidate_if_older(started).await;
            }
            Class::SlowDown | Class::Transient if attempt < 8 => {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
            }
            _ => return Err(e),
        }
    }
}

struct Job {
    src: Source,
    dst: Dest,
    path: DataPath,
    opts: Options,
    counters: Arc<Counters>,
    events: Events,
    limiter: Arc<Limiter>,
    budget: Arc<Semaphore>,
    /// Budget units are KiB (a semaphore holds at most u32::MAX >> 3 permits).
    budget_units: u32,
    /// The source names one object: its key, relative to `src_root`.
    single: bool,
    src_root: String,
    dst_prefix: String,
    /// The source listing ended with an error: a sync must not delete anything after that.
    source_listing_failed: AtomicBool,
    retries: AtomicU64,
    verified: [AtomicU64; 3],
    /// Objects the lean path copied, and objects it gave back to the SDK path.
    lean_objects: direct::Tally,
    /// Listing pages read on the lean path, and pages it gave to the SDK.
    lean_pages: Arc<direct::Tally>,
    /// The identities' ARNs, for messages.
    src_arn: Option<String>,
    dst_arn: Option<String>,
}

/// Runs a job. Errors found before anything was written return `Err` (exit code 2);
/// failures of single objects are in the report.
pub async fn run(
    src: Source,
    dst: Dest,
    opts: Options,
    counters: Arc<Counters>,
    events: Events,
) -> Result<Report, CopyError> {
    let started = Instant::now();
    let info = |m: String| events(&Event::Info { message: m });
    let command = match opts.kind {
        Kind::Copy => "copy",
        Kind::Sync { .. } => "sync",
    };
    let source = match &src {
        Source::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        Source::Local(p) => p.display().to_string(),
    };
    let destination = match &dst {
        Dest::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        Dest::Local(p) => p.display().to_string(),
    };

    // Identities.
    let src_side: Option<Side> = match &src {
        Source::S3 { client, .. } => Some(client.0.clone()),
        Source::Local(_) => None,
    };
    let dst_side: Option<Side> = match &dst {
        Dest::S3 { client, .. } => Some(client.0.clone()),
        Dest::Local(_) => None,
    };
    if src_side.is_none() && dst_side.is_none() {
        return Err(CopyError::Config(
            "both locations are local: ferry copies to or from S3 (use cp or rsync for local copies)"
                .to_owned(),
        ));
    }
    let resolve = |s: Option<&Side>| {
        let s = s.cloned();
        async move {
            match s {
                Some(s) => s.identity().await.map(Some),
                None => Ok(None),
            }
        }
    };
    let (src_id, dst_id) = tokio::join!(resolve(src_side.as_ref()), resolve(dst_side.as_ref()));
    let src_id = src_id.map_err(|e| CopyError::Config(e.to_string()))?;
    let dst_id = dst_id.map_err(|e| CopyError::Config(e.to_string()))?;
    if let Some(id) = &src_id {
        info(format!("source identity: {id}"));
    }
    if let Some(id) = &dst_id {
        info(format!("destination identity: {id}"));
    }

    // The destination.
    match &dst {
        Dest::S3 { client, bucket, .. } => {
            // It must exist; 403 is fine (an upload-only role may not list it).
            let head = with_retries(&client.0, || {
                client.0.s3.head_bucket().bucket(bucket).send()
            });
            if let Err(e) = head.await {
                match e.raw_response().map(|r| r.status().as_u16()) {
                    Some(403) => {}
                    Some(404) => {
                        return Err(CopyError::Config(format!(
                            "destination bucket `{bucket}` does not exist"
                        )))
                    }
                    _ => {
                        return Err(CopyError::Config(format!(
                            "destination bucket `{bucket}`: {}",
                            describe(&e)
                        )))
                    }
                }
            }
        }
        // Checked once the source is known (one object may land in a file).
        Dest::Local(_) => {}
    }

    // A sync reads the destination's listing: an identity that may only upload cannot sync.
    if let (
        Kind::Sync { .. },
        Dest::S3 {
            client,
            bucket,
            prefix,
        },
    ) = (&opts.kind, &dst)
    {
        if let Err(e) = listing::page(&client.0, bucket, prefix, None, None, 1).await {
            let id = dst_id.as_ref().map(|i| i.arn.clone()).unwrap_or_default();
            return Err(match code(&e) {
                Some("AccessDenied") => CopyError::Permission {
                    identity: id,
                    action: "s3:ListBucket",
                    resource: format!("arn:aws:s3:::{bucket}"),
                    message: format!(
                        "{} (sync compares with the destination's listing; an identity that may only upload can use `ferry copy`)",
                        describe(&e)
                    ),
                },
                _ => CopyError::Config(format!(
                    "cannot list the destination s3://{bucket}/{prefix}: {}",
                    describe(&e)
                )),
            });
        }
    }

    // The source: readable, one object or a folder, and the probe key.
    let (src_root, single, probe) = match &src {
        Source::S3 {
            client,
            bucket,
            prefix,
        } => {
            let id = src_id.as_ref().map(|i| i.arn.clone()).unwrap_or_default();
            let first = listing::page(&client.0, bucket, prefix, None, None, 1)
                .await
                .map_err(|e| match code(&e) {
                    Some("NoSuchBucket") => {
                        CopyError::Config(format!("source bucket `{bucket}` does not exist"))
                    }
                    Some("AccessDenied") => CopyError::Permission {
                        identity: id.clone(),
                        action: "s3:ListBucket",
                        resource: format!("arn:aws:s3:::{bucket}"),
                        message: describe(&e),
                    },
                    _ => CopyError::Config(format!("cannot list {source}: {}", describe(&e))),
                })?;
            let first_key = first
                .contents()
                .first()
                .and_then(|o| o.key())
                .map(str::to_owned);
            // A prefix without a trailing `/` names one object when such a key exists (as
            // `aws s3 cp` reads it), and a folder otherwise.
            let exact = !prefix.is_empty() && first_key.as_deref() == Some(prefix.as_str());
            let root = if exact {
                match prefix.rfind('/') {
                    Some(i) => prefix[..=i].to_owned(),
                    None => String::new(),
                }
            } else if !prefix.is_empty() && !prefix.ends_with('/') {
                format!("{prefix}/")
            } else {
                prefix.clone()
            };
            (root, exact, first_key)
        }
        Source::Local(p) => {
            let meta = std::fs::metadata(p).map_err(|e| {
                CopyError::Config(format!("source `{}` cannot be read: {e}", p.display()))
            })?;
            (String::new(), meta.is_file(), None)
        }
    };
    if let Dest::Local(p) = &dst {
        if !single && p.is_file() {
            return Err(CopyError::Config(format!(
                "destination `{}` is a file, but the source is a folder",
                p.display()
            )));
        }
        // A folder is created for a folder, or for one object sent into `DIR/`.
        let folder = !single || p.as_os_str().to_string_lossy().ends_with('/');
        if folder && !p.exists() && !opts.dry_run {
            std::fs::create_dir_all(p)
                .map_err(|e| CopyError::Config(format!("cannot create `{}`: {e}", p.display())))?;
        }
    }

    // The data path.
    let (path, reason) = match (&src, &dst) {
        (Source::Local(_), _) => (DataPath::Upload, "local files to S3".to_owned()),
        (_, Dest::Local(_)) => (DataPath::Download, "S3 to local files".to_owned()),
        (Source::S3 { bucket, .. }, Dest::S3 { client, .. }) => match (opts.mode, &probe) {
            (Mode::ServerSide, _) => (DataPath::ServerSide, "--mode server-side".to_owned()),
            (Mode::Stream, _) => (DataPath::Stream, "--mode stream".to_owned()),
            (Mode::Auto, None) => (DataPath::Stream, "nothing to copy".to_owned()),
            (Mode::Auto, Some(key)) => {
                let probe = with_retries(&client.0, || {
                    client.0.s3.head_object().bucket(bucket).key(key).send()
                });
                match probe.await {
                    Ok(_) => (
                        DataPath::ServerSide,
                        "the destination identity can read the source, so S3 copies server-side"
                            .to_owned(),
                    ),
                    Err(e) => (
                        DataPath::Stream,
                        format!(
                            "the destination identity cannot read the source (HeadObject: {}), so data streams through this host",
                            describe(&e)
                        ),
                    ),
                }
            }
        },
    };
    info(format!("data path: {path:?} ({reason})"));

    let limiter = Arc::new(Limiter::new(opts.concurrency));
    for side in [&src_side, &dst_side].into_iter().flatten() {
        side.slowdowns.attach(limiter.clone());
    }
    let budget_units = u32::try_from((opts.memory_budget / 1024).max(1))
        .unwrap_or(u32::MAX)
        .min(Semaphore::MAX_PERMITS as u32);
    let dst_prefix = match &dst {
        Dest::S3 { prefix, .. } => prefix.clone(),
        Dest::Local(_) => String::new(),
    };
    let job = Arc::new(Job {
        src,
        dst,
        path,
        opts: opts.clone(),
        counters: counters.clone(),
        events: events.clone(),
        limiter: limiter.clone(),
        budget: Arc::new(Semaphore::new(budget_units as usize)),
        budget_units,
        single,
        src_root,
        dst_prefix,
        source_listing_failed: AtomicBool::new(false),
        retries: AtomicU64::new(0),
        verified: Default::default(),
        lean_objects: Default::default(),
        lean_pages: Default::default(),
        src_arn: src_id.as_ref().map(|i| i.arn.clone()),
        dst_arn: dst_id.as_ref().map(|i| i.arn.clone()),
    });

    let ranges = job.ranges().await;
    let list_ranges = ranges.len();
    let actions = job.clone().plan(ranges);
    let failures = job.clone().execute(actions).await?;

    let slowdowns = [&src_side, &dst_side]
        .into_iter()
        .flatten()
        .map(|s| s.slowdowns.count())
        .sum();
    let credential_refreshes = [&src_side, &dst_side]
        .into_iter()
        .flatten()
        .map(|s| s.credentials.refreshes())
        .sum();
    Ok(Report {
        command,
        source,
        destination,
        source_identity: src_id,
        destination_identity: dst_id,
        data_path: (probe.is_some() || job.single || !matches!(path, DataPath::Stream))
            .then_some(path),
        data_path_reason: reason,
        copied: counters.objects.load(Ordering::Relaxed),
        skipped: counters.skipped.load(Ordering::Relaxed),
        deleted: counters.deleted.load(Ordering::Relaxed),
        failed: failures,
        bytes: counters.bytes.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
        dry_run: opts.dry_run,
        verified_by_checksum: job.verified[0].load(Ordering::Relaxed),
        verified_by_etag: job.verified[1].load(Ordering::Relaxed),
        verified_by_sent_checksum: job.verified[2].load(Ordering::Relaxed),
        retries: job.retries.load(Ordering::Relaxed),
        slowdowns,
        credential_refreshes,
        final_concurrency: limiter.limit(),
        list_ranges,
        lean_path_objects: job.lean_objects.hits(),
        lean_path_misses: job.lean_objects.misses(),
        lean_list_pages: job.lean_pages.hits(),
        lean_list_misses: job.lean_pages.misses(),
    })
}

/// Reads a listing channel as a blocking iterator for the planner thread. An error item ends
/// it and is kept for the report.
struct Blocking {
    rx: mpsc::Receiver<listing::Page>,
    page: std::vec::IntoIter<Entry>,
    error: Arc<std::sync::Mutex<Option<String>>>,
    failed: Option<Arc<Job>>,
    listed: Option<Arc<Counters>>,
}

impl Blocking {
    fn new(
        rx: mpsc::Receiver<listing::Page>,
        error: Arc<std::sync::Mutex<Option<String>>>,
        failed: Option<Arc<Job>>,
        listed: Option<Arc<Counters>>,
    ) -> Blocking {
        Blocking {
            rx,
            page: Vec::new().into_iter(),
            error,
            failed,
            listed,
        }
    }
}

impl Iterator for Blocking {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        loop {
            if let Some(e) = self.page.next() {
                return Some(e);
            }
            match self.rx.blocking_recv()? {
                Ok(page) => {
                    if let Some(c) = &self.listed {
                        c.listed.fetch_add(page.len() as u64, Ordering::Relaxed);
                    }
                    self.page = page.into_iter();
                }
                Err(msg) => {
                    if let Some(job) = &self.failed {
                        // Set before the planner sees the end of the source: no delete planned
                        // after this point is carried out.
                        job.source_listing_failed.store(true, Ordering::SeqCst);
                    }
                    let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
                    slot.get_or_insert(msg);
                    return None;
                }
            }
        }
    }
}

/// The plan's output: actions, and listing errors found while planning.
struct Planned {
    actions: mpsc::Receiver<Action>,
    errors: Arc<std::sync::Mutex<Option<String>>>,
}

impl Job {
    fn src_listing(&self, range: &Range) -> mpsc::Receiver<listing::Page> {
        match &self.src {
            Source::S3 {
                client,
                bucket,
                prefix,
            } => self.list_s3(
                &client.0,
                bucket,
                &self.src_root,
                self.single.then(|| prefix.clone()),
                range,
            ),
            Source::Local(p) if self.single => self.list_one_file(Ok(p.clone()), true),
            Source::Local(p) => listing::spawn_local(p.clone(), self.opts.filter.clone()),
        }
    }

    /// The destination's listing for a sync, keyed like the source's.
    fn dst_listing(&self, range: &Range) -> mpsc::Receiver<listing::Page> {
        match &self.dst {
            Dest::S3 { client, bucket, .. } => self.list_s3(
                &client.0,
                bucket,
                &self.dst_root(),
                self.single.then(|| self.dest_key(&self.single_name())),
                range,
            ),
            Dest::Local(_) if self.single => {
                self.list_one_file(self.local_target(&self.single_name()), false)
            }
            Dest::Local(p) => listing::spawn_local(p.clone(), self.opts.filter.clone()),
        }
    }

    /// The keys under `root` (relative to it) in `range`, or for one object only `key`, named
    /// as the source names it.
    fn list_s3(
        &self,
        side: &Side,
        bucket: &str,
        root: &str,
        one_key: Option<String>,
        range: &Range,
    ) -> mpsc::Receiver<listing::Page> {
        let (prefix, map): (String, KeyMap) = match one_key {
            Some(key) => {
                let name = self.single_name();
                (
                    key.clone(),
                    Arc::new(move |k: &str| (k == key).then(|| name.clone())),
                )
            }
            None => (root.to_owned(), listing::under(root)),
        };
        listing::spawn_s3(
            side.clone(),
            bucket.to_owned(),
            prefix,
            map,
            self.opts.filter.clone(),
            range.clone(),
            (!self.opts.sdk_only).then(|| self.lean_pages.clone()),
        )
    }

    /// The key ranges to list side by side: several when the source is a large S3 listing
    /// and every listing of the job is an S3 listing (see [`ranges`]); else one.
    async fn ranges(&self) -> Vec<Range> {
        let s3_dest = matches!(self.dst, Dest::S3 { .. });
        let splittable = !self.single
            && !self.opts.dry_run
            && self.opts.list_ranges > 1
            && (s3_dest || self.opts.kind == Kind::Copy);
        let bounds = match &self.src {
            Source::S3 { client, bucket, .. } if splittable => {
                ranges::split_points(&client.0, bucket, &self.src_root, self.opts.list_ranges).await
            }
            _ => Vec::new(),
        };
        Range::consecutive(&bounds)
    }

    /// One local file as the listing (named as the source names it); a missing file is an
    /// error when `required`, else an empty listing.
    fn list_one_file(
        &self,
        file: Result<PathBuf, String>,
        required: bool,
    ) -> mpsc::Receiver<listing::Page> {
        let (tx, rx) = mpsc::channel(1);
        let entry = file.and_then(|f| {
            std::fs::metadata(&f)
                .map(|m| listing::local_entry(self.single_name(), &m))
                .map_err(|e| format!("cannot read `{}`: {e}", f.display()))
        });
        if entry.is_ok() || required {
            let _ = tx.try_send(entry.map(|e| vec![e]));
        }
        rx
    }

    fn single_name(&self) -> String {
        match &self.src {
            Source::S3 { prefix, .. } => prefix
                .strip_prefix(self.src_root.as_str())
                .unwrap_or(prefix)
                .to_owned(),
            Source::Local(p) => p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Starts the listings and a planner per key range; returns the actions as they are
    /// decided. Ranges are consecutive, so each key is planned once, by its range's planner.
    fn plan(self: Arc<Self>, ranges: Vec<Range>) -> Planned {
        let (tx, rx) = mpsc::channel::<Action>(1024);
        let errors = Arc::new(std::sync::Mutex::new(None));
        let running = Arc::new(AtomicUsize::new(ranges.len()));
        for range in ranges {
            let src = Blocking::new(
                self.src_listing(&range),
                errors.clone(),
                Some(self.clone()),
                Some(self.counters.clone()),
            );
            let job = self.clone();
            let tx = tx.clone();
            let running = running.clone();
            let finished = move |job: &Job| {
                if running.fetch_sub(1, Ordering::AcqRel) == 1 {
                    job.counters.planned_all.store(true, Ordering::Relaxed);
                }
            };
            match self.opts.kind {
                Kind::Copy => {
                    tokio::task::spawn_blocking(move || {
                        for entry in src {
                            job.count_planned(&entry);
                            if tx
                                .blocking_send(Action::Copy {
                                    entry,
                                    reason: Reason::Listed,
                                })
                                .is_err()
                            {
                                return;
                            }
                        }
                        finished(&job);
                    });
                }
                Kind::Sync {
                    delete, compare, ..
                } => {
                    let dst = Blocking::new(self.dst_listing(&range), errors.clone(), None, None);
                    let dry_run = self.opts.dry_run;
                    tokio::task::spawn_blocking(move || {
                        for action in Planner::new(src, dst, compare, delete) {
                            match action {
                                // Nothing to do: counted and reported here, without a message
                                // to the executor (an unchanged sync is mostly skips).
                                Action::Skip { key, reason } if !dry_run => {
                                    job.skip(key, reason);
                                    continue;
                                }
                                Action::Copy { ref entry, .. }
                                | Action::Check { ref entry, .. } => job.count_planned(entry),
                                _ => {}
                            }
                            if tx.blocking_send(action).is_err() {
                                return;
                            }
                        }
                        finished(&job);
                    });
                }
            }
        }
        Planned {
            actions: rx,
            errors,
        }
    }

    fn count_planned(&self, entry: &Entry) {
        self.counters.planned.fetch_add(1, Ordering::Relaxed);
        self.counters
            .planned_bytes
            .fetch_add(entry.size, Ordering::Relaxed);
    }

    /// Carries out the plan. The first write runs alone: a refusal there is a preflight
    /// error (nothing was written).
    async fn execute(self: Arc<Self>, planned: Planned) -> Result<Vec<Failure>, CopyError> {
        let Planned {
            actions: mut rx,
            errors,
        } = planned;
        let mut failures = Vec::new();
        let mut probed = self.opts.dry_run;
        let deletes = Arc::new(AtomicU64::new(0));
        let mut set = tokio::task::JoinSet::new();
        while let Some(action) = rx.recv().await {
            while let Some(done) = set.try_join_next() {
                if let Ok(Some(f)) = done {
                    failures.push(f);
                }
            }
            if self.opts.dry_run {
                self.show_plan(&action);
                continue;
            }
            if let Action::Skip { key, reason } = action {
                self.skip(key, reason);
                continue;
            }
            if !probed && matches!(action, Action::Copy { .. } | Action::Check { .. }) {
                probed = true;
                if let Err(fail) = self.clone().act(action.clone(), deletes.clone()).await {
                    if fail.class == Class::Denied {
                        return Err(self.permission_error(&action, fail));
                    }
                    failures.push(self.record_failure(action_key(&action), fail.message));
                }
                continue;
            }
            let permit = self.limiter.clone().acquire_owned().await;
            let job = self.clone();
            let deletes = deletes.clone();
            set.spawn(async move {
                let _permit = permit;
                let key = action_key(&action).to_owned();
                match job.clone().act(action, deletes).await {
                    Ok(()) => None,
                    Err(fail) => Some(job.record_failure(&key, fail.message)),
                }
            });
        }
        while let Some(done) = set.join_next().await {
            match done {
                Ok(Some(f)) => failures.push(f),
                Ok(None) => {}
                Err(e) => failures.push(Failure {
                    key: String::new(),
                    error: format!("a worker stopped: {e}"),
                }),
            }
        }
        if let Some(e) = errors.lock().unwrap_or_else(|p| p.into_inner()).take() {
            failures.push(self.record_failure("", e));
        }
        Ok(failures)
    }

    fn permission_error(&self, action: &Action, fail: Fail) -> CopyError {
        let key = action_key(action);
        let (identity, resource) = match fail.side {
            SideId::Source => (
                self.src_identity_name(),
                match &self.src {
                    Source::S3 { bucket, .. } => {
                        format!("arn:aws:s3:::{bucket}/{}{key}", self.src_root)
                    }
                    Source::Local(p) => p.display().to_string(),
                },
            ),
            SideId::Dest => (
                self.dst_identity_name(),
                match &self.dst {
                    Dest::S3 { bucket, .. } => {
                        format!("arn:aws:s3:::{bucket}/{}", self.dest_key(key))
                    }
                    Dest::Local(p) => p.display().to_string(),
                },
            ),
        };
        CopyError::Permission {
            identity,
            action: fail.action,
            resource,
            message: format!("{} (nothing was written)", fail.message),
        }
    }

    fn src_identity_name(&self) -> String {
        match &self.src_arn {
            Some(arn) => format!("the source identity {arn}"),
            None => "this host".to_owned(),
        }
    }

    fn dst_identity_name(&self) -> String {
        match &self.dst_arn {
            Some(arn) => format!("the destination identity {arn}"),
            None => "this host".to_owned(),
        }
    }

    fn record_failure(&self, key: &str, error: String) -> Failure {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        (self.events)(&Event::Failed {
            key: key.to_owned(),
            error: error.clone(),
        });
        Failure {
            key: key.to_owned(),
            error,
        }
    }

    fn show_plan(&self, action: &Action) {
        let (what, key, reason) = match action {
            Action::Copy { entry, reason } => ("copy", entry.key.as_str(), *reason),
            Action::Check { entry, .. } => ("compare", entry.key.as_str(), Reason::NeedsChecksum),
            Action::Delete { key } => ("delete", key.as_str(), Reason::Missing),
            Action::Skip { key, reason } => {
                self.counters.skipped.fetch_add(1, Ordering::Relaxed);
                ("skip", key.as_str(), *reason)
            }
        };
        (self.events)(&Event::Plan {
            action: what,
            key: key.to_owned(),
            to: self.describe_dest(key),
            reason,
        });
    }

    fn describe_dest(&self, rel: &str) -> String {
        match &self.dst {
            Dest::S3 { bucket, .. } => format!("s3://{bucket}/{}", self.dest_key(rel)),
            Dest::Local(_) => match self.local_target(rel) {
                Ok(p) => p.display().to_string(),
                Err(e) => e,
            },
        }
    }

    async fn act(self: Arc<Self>, action: Action, deletes: Arc<AtomicU64>) -> Result<(), Fail> {
        match action {
            Action::Skip { key, reason } => {
                self.skip(key, reason);
                Ok(())
            }
            Action::Delete { key } => self.delete(&key, &deletes).await,
            Action::Check { entry, dst } => {
                if self.same_checksums(&entry.key).await? {
                    self.skip(entry.key, Reason::Same(Compare::Checksum));
                    Ok(())
                } else {
                    let _ = dst;
                    self.copy_entry(entry).await
                }
            }
            Action::Copy { entry, .. } => self.copy_entry(entry).await,
        }
    }

    fn skip(&self, key: String, reason: Reason) {
        self.counters.skipped.fetch_add(1, Ordering::Relaxed);
        (self.events)(&Event::Skipped { key, reason });
    }

    async fn copy_entry(&self, entry: Entry) -> Result<(), Fail> {
        let verified = self.copy_one(&entry).await?;
        self.verified[verified as usize].fetch_add(1, Ordering::Relaxed);
        self.counters.objects.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(entry.size, Ordering::Relaxed);
        (self.events)(&Event::Copied {
            to: self.describe_dest(&entry.key),
            key: entry.key,
            bytes: entry.size,
            verified,
        });
        Ok(())
    }

    async fn delete(&self, key: &str, deletes: &AtomicU64) -> Result<(), Fail> {
        if self.source_listing_failed.load(Ordering::SeqCst) {
            return Err(Fail::fatal(
                "not deleted: the source listing did not complete, so absence at the source is not known",
            ));
        }
        if let Kind::Sync {
            max_delete: Some(max),
            ..
        } = self.opts.kind
        {
            if deletes.fetch_add(1, Ordering::SeqCst) >= max {
                return Err(Fail::fatal(format!(
                    "not deleted: --max-delete {max} reached"
                )));
            }
        }
        match &self.dst {
            Dest::S3 { client, bucket, .. } => {
                let dkey = self.dest_key(key);
                self.retry(|| async {
                    client
                        .0
                        .s3
                        .delete_object()
                        .bucket(bucket)
                        .key(&dkey)
                        .send()
                        .await
                        .map_err(|e| Fail::sdk(&e, SideId::Dest, "s3:DeleteObject", "deleting"))
                })
                .await?;
            }
            Dest::Local(_) => {
                let path = self.local_target(key).map_err(Fail::fatal)?;
                std::fs::remove_file(&path)
                    .map_err(|e| Fail::fatal(format!("deleting `{}`: {e}", path.display())))?;
            }
        }
        self.counters.deleted.fetch_add(1, Ordering::Relaxed);
        (self.events)(&Event::Deleted {
            key: key.to_owned(),
        });
        Ok(())
    }

    /// Runs `f` until it succeeds, retrying SlowDown and transient errors with backoff and
    /// `ExpiredToken` with fresh credentials.
    async fn retry<T, F, Fut>(&self, mut f: F) -> Result<T, Fail>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        let mut attempt = 0u32;
        let mut refreshed = 0u32;
        loop {
            let started = Instant::now();
            match f().await {
                Ok(v) => {
                    self.limiter.success();
                    return Ok(v);
                }
                Err(fail) => match fail.class {
                    Class::Expired(side) if refreshed < 5 => {
                        refreshed += 1;
                        self.retries.fetch_add(1, Ordering::Relaxed);
                        if let Some(s) = self.side(side) {
                            s.credentials.invalidate_if_older(started).await;
                        }
                    }
                    Class::SlowDown | Class::Transient if attempt < self.opts.max_attempts => {
                        if fail.class == Class::SlowDown {
                            self.limiter.slow_down();
                        }
                        attempt += 1;
                        self.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    _ => return Err(fail),
                },
            }
        }
    }

    fn side(&self, id: SideId) -> Option<&Side> {
        match id {
            SideId::Source => match &self.src {
                Source::S3 { client, .. } => Some(&client.0),
                Source::Local(_) => None,
            },
            SideId::Dest => match &self.dst {
                Dest::S3 { client, .. } => Some(&client.0),
                Dest::Local(_) => None,
            },
        }
    }

    fn dst_root(&self) -> String {
        if self.dst_prefix.is_empty() || self.dst_prefix.ends_with('/') {
            self.dst_prefix.clone()
        } else {
            format!("{}/", self.dst_prefix)
        }
    }

    /// The destination key of a source key (relative to the source root).
    fn dest_key(&self, rel: &str) -> String {
        if self.single && !self.dst_prefix.is_empty() && !self.dst_prefix.ends_with('/') {
            // One object to a key: that key.
            return self.dst_prefix.clone();
        }
        format!("{}{rel}", self.dst_root())
    }

    /// The local file a key lands in; keys that would leave the folder are refused.
    fn local_target(&self, rel: &str) -> Result<PathBuf, String> {
        let Dest::Local(root) = &self.dst else {
            return Err("not a local destination".to_owned());
        };
        if self.single && !root.is_dir() && !root.as_os_str().to_string_lossy().ends_with('/') {
            // One object to a file name (as `aws s3 cp s3://b/k ./name` writes `name`).
            return Ok(root.clone());
        }
        if rel.starts_with('/')
            || rel.contains('\\')
            || rel
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == ".." || c.starts_with(PARTIAL_MARK))
        {
            return Err(format!(
                "key `{rel}` cannot be a local file name safely (empty, `.` or `..` segments, or a leading `/`)"
            ));
        }
        Ok(root.join(rel))
    }

    fn src_key(&self, rel: &str) -> String {
        format!("{}{rel}", self.src_root)
    }

    async fn copy_one(&self, entry: &Entry) -> Result<Verified, Fail> {
        let plan = parts::plan(
            entry.size,
            self.opts.multipart_threshold,
            self.opts.part_size,
            self.opts.min_part_size,
        )
        .map_err(|e| Fail::fatal(e.to_string()))?;
        match (&self.src, &self.dst) {
            (
                Source::S3 {
                    client: sc,
                    bucket: sb,
                    ..
                },
                Dest::S3 {
                    client: dc,
                    bucket: db,
                    ..
                },
            ) => {
                let s3 = S3Pair {
                    src: &sc.0,
                    src_bucket: sb,
                    dst: &dc.0,
                    dst_bucket: db,
                };
                let key = self.src_key(&entry.key);
                let dkey = self.dest_key(&entry.key);
                match (self.path, plan) {
                    (DataPath::ServerSide, PartPlan::Single) => {
                        self.retry(|| self.server_side_single(&s3, entry, &key, &dkey))
                            .await
                    }
                    (_, PartPlan::Single) => {
                        if let Some(done) = self.stream_lean(&s3, entry, &key, &dkey).await {
                            return done;
                        }
                        self.retry(|| self.stream_single(&s3, &key, &dkey)).await
                    }
                    (_, p) => self.multipart_s3(&s3, &key, &dkey, p).await,
                }
            }
            (Source::Local(_), Dest::S3 { client, bucket, .. }) => {
                let file = self.local_source(&entry.key);
                let dkey = self.dest_key(&entry.key);
                self.upload(&client.0, bucket, &file, &dkey, entry.size, plan)
                    .await
            }
            (Source::S3 { client, bucket, .. }, Dest::Local(_)) => {
                let target = self.local_target(&entry.key).map_err(Fail::fatal)?;
                let key = self.src_key(&entry.key);
                self.download(&client.0, bucket, &key, &target, entry, plan)
                    .await
            }
            (Source::Local(_), Dest::Local(_)) => Err(Fail::fatal("local to local")),
        }
    }

    fn local_source(&self, rel: &str) -> PathBuf {
        match &self.src {
            Source::Local(p) if self.single => p.clone(),
            Source::Local(p) => p.join(rel),
            Source::S3 { .. } => PathBuf::from(rel),
        }
    }

    /// `x-amz-tagging` for the source object's tags (read with `reader`), unless `--no-tags`.
    async fn tagging(
        &self,
        reader: &Side,
        side: SideId,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>, Fail> {
        if !self.opts.tags {
            return Ok(None);
        }
        let t = reader
            .s3
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| Fail::sdk(&e, side, "s3:GetObjectTagging", "reading the source's tags"))?;
        let pairs: Vec<String> = t
            .tag_set()
            .iter()
            .map(|tag| {
                format!(
                    "{}={}",
                    direct::encode_key(tag.key()),
                    direct::encode_key(tag.value())
                )
            })
            .collect();
        Ok((!pairs.is_empty()).then(|| pairs.join("&")))
    }

    fn kms(&self) -> bool {
        matches!(self.opts.sse, Some(ServerSideEncryption::AwsKms))
            || matches!(self.opts.sse, Some(ServerSideEncryption::AwsKmsDsse))
    }

    async fn server_side_single(
        &self,
        s3: &S3Pair<'_>,
        entry: &Entry,
        key: &str,
        dkey: &str,
    ) -> Result<Verified, Fail> {
        let alg = entry
            .checksum_alg
            .as_deref()
            .and_then(Algorithm::from_name)
            .unwrap_or(Algorithm::Crc64Nvme);
        let mut req = s3
            .dst
            .s3
            .copy_object()
            .bucket(s3.dst_bucket)
            .key(dkey)
            .copy_source(format!("{}/{}", s3.src_bucket, direct::encode_key(key)))
            .metadata_directive(MetadataDirective::Copy)
            .set_acl(self.opts.acl.clone())
            .set_storage_class(self.opts.storage_class.clone())
            .set_server_side_encryption(self.opts.sse.clone())
            .set_ssekms_key_id(self.opts.sse_kms_key_id.clone())
            .checksum_algorithm(alg.sdk());
        if !self.opts.tags {
            req = req.tagging_directive(TaggingDirective::Replace);
        }
        let out = req
            .send()
            .await
            .map_err(|e| Fail::sdk(&e, SideId::Dest, "s3:PutObject", "copying"))?;
        let result = out.copy_object_result();
        let etag = result.and_then(|r| r.e_tag()).map(|e| e.trim_matches('"'));
        let src_etag = entry.etag.as_deref();
        match (src_etag, etag) {
            (Some(a), Some(b)) if a == b => Ok(Verified::Etag),
            (Some(a), Some(b)) if !a.contains('-') && !self.kms() => Err(Fail::fatal(format!(
                "the copy's ETag {b} differs from the source's {a}"
            ))),
            _ => Ok(Verified::Sent),
        }
    }

    /// Streams a small object on the lean request path (`super::direct`): one GET, one PUT,
    /// the same headers and checks as [`Job::stream_single`]. None gives the object back to
    /// the SDK path (an error answer, a transport error, tags to read, a bigger object than
    /// listed); `Some(Err)` only when the destination confirmed different bytes.
    async fn stream_lean(
        &self,
        s3: &S3Pair<'_>,
        entry: &Entry,
        key: &str,
        dkey: &str,
    ) -> Option<Result<Verified, Fail>> {
        if self.opts.sdk_only || entry.size > SMALL_BODY as u64 {
            return None;
        }
        if !self.lean_objects.open(32) {
            return None;
        }
        let (Some(src), Some(dst)) = (&s3.src.direct, &s3.dst.direct) else {
            return None;
        };
        let done = self.lean_copy(s3, src, dst, key, dkey).await;
        match done {
            Ok(v) => {
                self.lean_objects.add(true);
                self.limiter.success();
                Some(v)
            }
            Err(direct::Miss(why)) => {
                self.lean_objects.add(false);
                tracing::debug!(key, why, "lean path: given to the SDK client");
                None
            }
        }
    }

    async fn lean_copy(
        &self,
        s3: &S3Pair<'_>,
        src: &direct::Direct,
        dst: &direct::Direct,
        key: &str,
        dkey: &str,
    ) -> Result<Result<Verified, Fail>, direct::Miss> {
        use http::header::{self, HeaderMap, HeaderValue};
        let miss = |m: &str| direct::Miss(m.to_owned());
        let answered = |side: &Side, a: &direct::Answer, what: &str| {
            if a.status == 503 {
                side.slowdowns.seen();
            }
            direct::Miss(format!("{what}: HTTP {}", a.status))
        };
        let creds = s3
            .src
            .credentials
            .get()
            .await
            .map_err(|e| direct::Miss(format!("source credentials: {e}")))?;
        let mut ask = HeaderMap::new();
        ask.insert("x-amz-checksum-mode", HeaderValue::from_static("ENABLED"));
        let got = src
            .get(&creds, s3.src_bucket, key, ask, SMALL_BODY as u64)
            .await?;
        if got.status != 200 {
            return Err(answered(s3.src, &got, "GET"));
        }
        let h = &got.headers;
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        if h.contains_key("x-amz-server-side-encryption-customer-algorithm") {
            return Err(miss("SSE-C"));
        }
        let kind = text("x-amz-checksum-type").map(ChecksumType::from);
        let source_sum = full_object_checksum(
            kind.as_ref(),
            text(Algorithm::Crc32.header()),
            text(Algorithm::Crc32c.header()),
            text(Algorithm::Crc64Nvme.header()),
        );
        // The SDK checks a GET's body against a SHA-1 or SHA-256 checksum too; here only the
        // CRCs travel to the destination, so such a source goes through the SDK.
        if source_sum.is_none()
            && (h.contains_key("x-amz-checksum-sha1") || h.contains_key("x-amz-checksum-sha256"))
        {
            return Err(miss("a SHA checksum the SDK verifies"));
        }
        let tagged = text("x-amz-tagging-count").is_some_and(|n| n != "0");
        let alg = source_sum
            .as_ref()
            .map(|(a, _)| *a)
            .unwrap_or(Algorithm::Crc64Nvme);
        let sum = match &source_sum {
            Some((_, v)) => v.clone(),
            None => alg.encode(alg.checksum(&got.body)),
        };
        let src_etag = text("etag").map(|e| e.trim_matches('"').to_owned());

        let mut put = HeaderMap::new();
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::CONTENT_DISPOSITION,
            header::CONTENT_LANGUAGE,
            header::CACHE_CONTROL,
        ] {
            if let Some(v) = h.get(&name) {
                put.insert(name, v.clone());
            }
        }
        for (name, v) in h {
            if name.as_str().starts_with("x-amz-meta-") {
                put.append(name.clone(), v.clone());
            }
        }
        let value = |s: &str| HeaderValue::from_str(s).map_err(|_| miss("a header value"));
        if let Some(acl) = &self.opts.acl {
            put.insert("x-amz-acl", value(acl.as_str())?);
        }
        if let Some(c) = &self.opts.storage_class {
            put.insert("x-amz-storage-class", value(c.as_str())?);
        }
        if let Some(e) = &self.opts.sse {
            put.insert("x-amz-server-side-encryption", value(e.as_str())?);
        }
        if let Some(k) = &self.opts.sse_kms_key_id {
            put.insert("x-amz-server-side-encryption-aws-kms-key-id", value(k)?);
        }
        let sum_header = alg.header();
        put.insert(sum_header, value(&sum)?);
        if tagged {
            let tagging = self
                .tagging(s3.src, SideId::Source, s3.src_bucket, key)
                .await
                .map_err(|f| direct::Miss(format!("reading the tags: {}", f.message)))?;
            if let Some(t) = tagging {
                put.insert("x-amz-tagging", value(&t)?);
            }
        }

        let creds = s3
            .dst
            .credentials
            .get()
            .await
            .map_err(|e| direct::Miss(format!("destination credentials: {e}")))?;
        let out = dst.put(&creds, s3.dst_bucket, dkey, put, got.body).await?;
        if out.status != 200 {
            return Err(answered(s3.dst, &out, "PUT"));
        }
        let stored = out.headers.get(sum_header).and_then(|v| v.to_str().ok());
        let etag = out
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|e| e.trim_matches('"'));
        Ok(confirm(
            source_sum.as_ref().map(|(_, v)| v.as_str()),
            stored,
            src_etag.as_deref(),
            etag,
            self.kms(),
        ))
    }

    async fn stream_single(
        &self,
        s3: &S3Pair<'_>,
        key: &str,
        dkey: &str,
    ) -> Result<Verified, Fail> {
        let got = s3
            .src
            .s3
            .get_object()
            .bucket(s3.src_bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| Fail::sdk(&e, SideId::Source, "s3:GetObject", "reading the source"))?;
        let tagging = if got.tag_count().unwrap_or(0) > 0 {
            self.tagging(s3.src, SideId::Source, s3.src_bucket, key)
                .await?
        } else {
            None
        };
        let source_sum = full_object_checksum(
            got.checksum_type(),
            got.checksum_crc32(),
            got.checksum_crc32_c(),
            got.checksum_crc64_nvme(),
        );
        let alg = source_sum
            .as_ref()
            .map(|(a, _)| *a)
            .unwrap_or(Algorithm::Crc64Nvme);
        let src_etag = got.e_tag().map(|e| e.trim_matches('"').to_owned());
        let length = got.content_length();
        let content_type = got.content_type().map(str::to_owned);
        let content_encoding = got.content_encoding().map(str::to_owned);
        let content_disposition = got.content_disposition().map(str::to_owned);
        let content_language = got.content_language().map(str::to_owned);
        let cache_control = got.cache_control().map(str::to_owned);
        let metadata = got.metadata().cloned();
        // Small bodies are read whole: the SDK can then retry the PUT by itself, and the
        // streaming-body machinery is skipped. At most `-j` of them are held at once.
        // A small body without a source checksum gets one computed here (CRC64NVME, SIMD) and
        // sent as a header, like a source checksum: cheaper than the SDK's aws-chunked body
        // with a trailing checksum, and the destination checks the bytes against it alike.
        let (body, computed) = if length.is_some_and(|n| (0..=SMALL_BODY).contains(&n)) {
            let data = got
                .body
                .collect()
                .await
                .map_err(|e| Fail {
                    class: Class::Transient,
                    message: format!("reading the source: {e}"),
                    action: "s3:GetObject",
                    side: SideId::Source,
                })?
                .into_bytes();
            let computed = source_sum
                .is_none()
                .then(|| alg.encode(alg.checksum(&data)));
            (ByteStream::from(data), computed)
        } else {
            (got.body, None)
        };
        let req = s3
            .dst
            .s3
            .put_object()
            .bucket(s3.dst_bucket)
            .key(dkey)
            .set_content_length(length)
            .set_content_type(content_type)
            .set_content_encoding(content_encoding)
            .set_content_disposition(content_disposition)
            .set_content_language(content_language)
            .set_cache_control(cache_control)
            .set_metadata(metadata)
            .set_tagging(tagging)
            .set_acl(self.opts.acl.clone())
            .set_storage_class(self.opts.storage_class.clone())
            .set_server_side_encryption(self.opts.sse.clone())
            .set_ssekms_key_id(self.opts.sse_kms_key_id.clone());
        // The source's own checksum goes along as a header: the destination checks the bytes
        // it receives against it (end to end), and nothing is computed here. Without one, the
        // small body's computed above, or for a streamed one the SDK computes a CRC64NVME
        // over the bytes sent (a trailer).
        let given = source_sum
            .as_ref()
            .map(|(a, v)| (*a, v))
            .or(computed.as_ref().map(|v| (alg, v)));
        let req = match given {
            Some((Algorithm::Crc32, v)) => req.checksum_crc32(v),
            Some((Algorithm::Crc32c, v)) => req.checksum_crc32_c(v),
            Some((Algorithm::Crc64Nvme, v)) => req.checksum_crc64_nvme(v),
            None => req.checksum_algorithm(alg.sdk()),
        };
        // The checksum protects the body; signing it too (SHA-256 and an HMAC per chunk over
        // plain HTTP) adds nothing.
        let out = req
            .body(body)
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map_err(|e| Fail::sdk(&e, SideId::Dest, "s3:PutObject", "writing the destination"))?;
        let stored = match alg {
            Algorithm::Crc32 => out.checksum_crc32(),
            Algorithm::Crc32c => out.checksum_crc32_c(),
            Algorithm::Crc64Nvme => out.checksum_crc64_nvme(),
        };
        let etag = out.e_tag().map(|e| e.trim_matches('"'));
        confirm(
            source_sum.as_ref().map(|(_, v)| v.as_str()),
            stored,
            src_etag.as_deref(),
            etag,
            self.kms(),
        )
    }

    /// Whether a key's source and destination carry the same full-object checksum (HEADs).
    async fn same_checksums(&self, rel: &str) -> Result<bool, Fail> {
        let (
            Source::S3 {
                client: sc,
                bucket: sb,
                ..
            },
            Dest::S3 {
                client: dc,
                bucket: db,
                ..
            },
        ) = (&self.src, &self.dst)
        else {
            return Ok(false);
        };
        let key = self.src_key(rel);
        let dkey = self.dest_key(rel);
        let head = |side: &Side, id: SideId, bucket: &str, key: &str| {
            let s3 = side.s3.clone();
            let (bucket, key) = (bucket.to_owned(), key.to_owned());
            async move {
                s3.head_object()
                    .bucket(bucket)
                    .key(key)
                    .checksum_mode(ChecksumMode::Enabled)
                    .send()
                    .await
                    .map_err(|e| Fail::sdk(&e, id, "s3:GetObject", "reading the checksum"))
            }
        };
        let a = self.retry(|| head(&sc.0, SideId::Source, sb, &key)).await?;
        let b = self.retry(|| head(&dc.0, SideId::Dest, db, &dkey)).await?;
        let sa = full_object_checksum(
            a.checksum_type(),
            a.checksum_crc32(),
            a.checksum_crc32_c(),
            a.checksum_crc64_nvme(),
        );
        let sb = full_object_checksum(
            b.checksum_type(),
            b.checksum_crc32(),
            b.checksum_crc32_c(),
            b.checksum_crc64_nvme(),
        );
        Ok(matches!((sa, sb), (Some(x), Some(y)) if x == y))
    }

    async fn multipart_s3(
        &self,
        s3: &S3Pair<'_>,
        key: &str,
        dkey: &str,
        plan: PartPlan,
    ) -> Result<Verified, Fail> {
        // Metadata comes from the source object (read with the identity that will use it).
        let (reader, reader_id) = match self.path {
            DataPath::ServerSide => (s3.dst, SideId::Dest),
            _ => (s3.src, SideId::Source),
        };
        let head = self
            .retry(|| async {
                reader
                    .s3
                    .head_object()
                    .bucket(s3.src_bucket)
                    .key(key)
                    .checksum_mode(ChecksumMode::Enabled)
                    .send()
                    .await
                    .map_err(|e| {
                        Fail::sdk(
                            &e,
                            reader_id,
                            "s3:GetObject",
                            "reading the source's metadata",
                        )
                    })
            })
            .await?;
        let tagging = self
            .retry(|| self.tagging(reader, reader_id, s3.src_bucket, key))
            .await?;
        let source_sum = full_object_checksum(
            head.checksum_type(),
            head.checksum_crc32(),
            head.checksum_crc32_c(),
            head.checksum_crc64_nvme(),
        );
        let alg = source_sum
            .as_ref()
            .map(|(a, _)| *a)
            .unwrap_or(Algorithm::Crc64Nvme);
        let headers = Headers {
            content_type: head.content_type().map(str::to_owned),
            content_encoding: head.content_encoding().map(str::to_owned),
            content_disposition: head.content_disposition().map(str::to_owned),
            content_language: head.content_language().map(str::to_owned),
            cache_control: head.cache_control().map(str::to_owned),
            metadata: head.metadata().cloned(),
            tagging,
        };
        let upload_id = self
            .start_upload(s3.dst, s3.dst_bucket, dkey, alg, &headers)
            .await?;
        let upload = Upload {
            side: s3.dst,
            bucket: s3.dst_bucket,
            key: dkey,
            id: &upload_id,
            alg,
        };
        let upload_id = upload_id.as_str();
        let parts = stream::iter(0..plan.count())
            .map(|i| async move {
                let range = plan
                    .range(i)
                    .ok_or_else(|| Fail::fatal("part out of range"))?;
                let n = i32::try_from(i + 1).map_err(|_| Fail::fatal("too many parts"))?;
                let header = format!("bytes={}-{}", range.start, range.end.saturating_sub(1));
                let len = range.end - range.start;
                self.retry(|| async {
                    match self.path {
                        DataPath::ServerSide => {
                            let out = s3
                                .dst
                                .s3
                                .upload_part_copy()
                                .bucket(s3.dst_bucket)
                                .key(dkey)
                                .upload_id(upload_id)
                                .part_number(n)
                                .copy_source(format!(
                                    "{}/{}",
                                    s3.src_bucket,
                                    direct::encode_key(key)
                                ))
                                .copy_source_range(&header)
                                .send()
                                .await
                                .map_err(|e| {
                                    Fail::sdk(
                                        &e,
                                        SideId::Dest,
                                        "s3:PutObject",
                                        &format!("copying part {n}"),
                                    )
                                })?;
                            let r = out.copy_part_result();
                            Ok(Part {
                                n,
                                len,
                                etag: r.and_then(|r| r.e_tag()).map(str::to_owned),
                                sum: r.and_then(|r| {
                                    part_sum(
                                        alg,
                                        r.checksum_crc32(),
                                        r.checksum_crc32_c(),
                                        r.checksum_crc64_nvme(),
                                    )
                                }),
                            })
                        }
                        _ => {
                            let got = s3
                                .src
                                .s3
                                .get_object()
                                .bucket(s3.src_bucket)
                                .key(key)
                                .range(&header)
                                .send()
                                .await
                                .map_err(|e| {
                                    Fail::sdk(
                                        &e,
                                        SideId::Source,
                                        "s3:GetObject",
                                        &format!("reading part {n}"),
                                    )
                                })?;
                            let out = s3
                                .dst
                                .s3
                                .upload_part()
                                .bucket(s3.dst_bucket)
                                .key(dkey)
                                .upload_id(upload_id)
                                .part_number(n)
                                .set_content_length(got.content_length())
                                .checksum_algorithm(alg.sdk())
                                .body(got.body)
                                .customize()
                                .disable_payload_signing()
                                .send()
                                .await
                                .map_err(|e| {
                                    Fail::sdk(
                                        &e,
                                        SideId::Dest,
                                        "s3:PutObject",
                                        &format!("writing part {n}"),
                                    )
                                })?;
                            Ok(Part {
                                n,
                                len,
                                etag: out.e_tag().map(str::to_owned),
                                sum: part_sum(
                                    alg,
                                    out.checksum_crc32(),
                                    out.checksum_crc32_c(),
                                    out.checksum_crc64_nvme(),
                                ),
                            })
                        }
                    }
                })
                .await
            })
            .buffered(self.opts.part_concurrency.max(1))
            .try_collect::<Vec<Part>>()
            .await;
        let source_value = source_sum.map(|(_, v)| v);
        upload.finish(self, parts, source_value).await
    }

    /// CreateMultipartUpload with the job's write settings and a full-object checksum.
    async fn start_upload(
        &self,
        side: &Side,
        bucket: &str,
        key: &str,
        alg: Algorithm,
        h: &Headers,
    ) -> Result<String, Fail> {
        self.retry(|| async {
            side.s3
                .create_multipart_upload()
                .bucket(bucket)
                .key(key)
                .set_content_type(h.content_type.clone())
                .set_content_encoding(h.content_encoding.clone())
                .set_content_disposition(h.content_disposition.clone())
                .set_content_language(h.content_language.clone())
                .set_cache_control(h.cache_control.clone())
                .set_metadata(h.metadata.clone())
                .set_tagging(h.tagging.clone())
                .set_acl(self.opts.acl.clone())
                .set_storage_class(self.opts.storage_class.clone())
                .set_server_side_encryption(self.opts.sse.clone())
                .set_ssekms_key_id(self.opts.sse_kms_key_id.clone())
                .checksum_algorithm(alg.sdk())
                .checksum_type(ChecksumType::FullObject)
                .send()
                .await
                .map_err(|e| {
                    Fail::sdk(
                        &e,
                        SideId::Dest,
                        "s3:PutObject",
                        "starting the multipart upload",
                    )
                })
                .map(|o| o.upload_id().unwrap_or_default().to_owned())
        })
        .await
    }

    async fn upload(
        &self,
        side: &Side,
        bucket: &str,
        file: &Path,
        dkey: &str,
        size: u64,
        plan: PartPlan,
    ) -> Result<Verified, Fail> {
        let alg = Algorithm::Crc64Nvme;
        match plan {
            PartPlan::Single => {
                let body = self.read_range(file, 0, size).await?;
                let sum = alg.encode(alg.checksum(&body.1));
                let out = self
                    .retry(|| async {
                        side.s3
                            .put_object()
                            .bucket(bucket)
                            .key(dkey)
                            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
                            .set_content_type(guess_content_type(file))
                            .set_acl(self.opts.acl.clone())
                            .set_storage_class(self.opts.storage_class.clone())
                            .set_server_side_encryption(self.opts.sse.clone())
                            .set_ssekms_key_id(self.opts.sse_kms_key_id.clone())
                            .checksum_crc64_nvme(&sum)
                            .body(ByteStream::from(body.1.clone()))
                            .customize()
                            .disable_payload_signing()
                            .send()
                            .await
                            .map_err(|e| Fail::sdk(&e, SideId::Dest, "s3:PutObject", "uploading"))
                    })
                    .await?;
                confirm(Some(&sum), out.checksum_crc64_nvme(), None, None, true)
            }
            plan => {
                let headers = Headers {
                    content_type: guess_content_type(file),
                    ..Headers::default()
                };
                let upload_id = self.start_upload(side, bucket, dkey, alg, &headers).await?;
                let upload = Upload {
                    side,
                    bucket,
                    key: dkey,
                    id: &upload_id,
                    alg,
                };
                let parts = stream::iter(0..plan.count())
                    .map(|i| {
                        let upload_id = &upload_id;
                        async move {
                            let range = plan
                                .range(i)
                                .ok_or_else(|| Fail::fatal("part out of range"))?;
                            let n =
                                i32::try_from(i + 1).map_err(|_| Fail::fatal("too many parts"))?;
                            let len = range.end - range.start;
                            let (_permit, data) = self.read_range(file, range.start, len).await?;
                            let crc = alg.checksum(&data);
                            let sum = alg.encode(crc);
                            let out = self
                                .retry(|| async {
                                    side.s3
                                        .upload_part()
                                        .bucket(bucket)
                                        .key(dkey)
                                        .upload_id(upload_id)
                                        .part_number(n)
                                        .content_length(i64::try_from(len).unwrap_or(i64::MAX))
                                        .checksum_crc64_nvme(&sum)
                                        .body(ByteStream::from(data.clone()))
                                        .customize()
                                        .disable_payload_signing()
                                        .send()
                                        .await
                                        .map_err(|e| {
                                            Fail::sdk(
                                                &e,
                                                SideId::Dest,
                                                "s3:PutObject",
                                                &format!("uploading part {n}"),
                                            )
                                        })
                                })
                                .await?;
                            Ok(Part {
                                n,
                                len,
                                etag: out.e_tag().map(str::to_owned),
                                sum: Some(crc),
                            })
                        }
                    })
                    .buffered(self.opts.part_concurrency.max(1))
                    .try_collect::<Vec<Part>>()
                    .await;
                // The file's own checksum (combined from the parts read) is the source's.
                let expected = parts.as_ref().ok().map(|ps| {
                    let mut r = Running::new(alg);
                    for p in ps {
                        r.append(p.sum.unwrap_or(0), p.len);
                    }
                    r.encoded()
                });
                upload.finish(self, parts, expected).await
            }
        }
    }

    /// Reads `len` bytes at `offset` of a file, holding that much of the memory budget.
    async fn read_range(
        &self,
        file: &Path,
        offset: u64,
        len: u64,
    ) -> Result<(tokio::sync::OwnedSemaphorePermit, Bytes), Fail> {
        let units = u32::try_from(len.div_ceil(1024).max(1))
            .unwrap_or(u32::MAX)
            .min(self.budget_units);
        let permit = self
            .budget
            .clone()
            .acquire_many_owned(units)
            .await
            .map_err(|_| Fail::fatal("the job is stopping"))?;
        let path = file.to_path_buf();
        let data = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            use std::os::unix::fs::FileExt;
            let f = std::fs::File::open(&path)?;
            let mut buf = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
            f.read_exact_at(&mut buf, offset)?;
            Ok(buf)
        })
        .await
        .map_err(|e| Fail::fatal(format!("reading `{}`: {e}", file.display())))?
        .map_err(|e| Fail::fatal(format!("reading `{}`: {e}", file.display())))?;
        Ok((permit, Bytes::from(data)))
    }

    async fn download(
        &self,
        side: &Side,
        bucket: &str,
        key: &str,
        target: &Path,
        entry: &Entry,
        plan: PartPlan,
    ) -> Result<Verified, Fail> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("object");
        let partial = dir.join(format!(
            "{PARTIAL_MARK}{:016x}-{name}",
            rand::random::<u64>()
        ));
        let result = self
            .download_to(side, bucket, key, dir, &partial, entry, plan)
            .await;
        match result {
            Ok(v) => {
                let modified = std::time::UNIX_EPOCH
                    + Duration::from_secs(u64::try_from(entry.modified).unwrap_or(0));
                let finish = || -> std::io::Result<()> {
                    let f = std::fs::OpenOptions::new().write(true).open(&partial)?;
                    f.set_modified(modified)?;
                    f.sync_all()?;
                    std::fs::rename(&partial, target)
                };
                finish().map_err(|e| {
                    let _ = std::fs::remove_file(&partial);
                    Fail::fatal(format!("writing `{}`: {e}", target.display()))
                })?;
                Ok(v)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn download_to(
        &self,
        side: &Side,
        bucket: &str,
        key: &str,
        dir: &Path,
        partial: &Path,
        entry: &Entry,
        plan: PartPlan,
    ) -> Result<Verified, Fail> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Fail::fatal(format!("creating `{}`: {e}", dir.display())))?;
        let file = std::fs::File::create(partial)
            .map_err(|e| Fail::fatal(format!("creating `{}`: {e}", partial.display())))?;
        file.set_len(entry.size)
            .map_err(|e| Fail::fatal(format!("sizing `{}`: {e}", partial.display())))?;
        let file = Arc::new(file);
        let ranges: Vec<(u64, u64)> = match plan {
            PartPlan::Single => vec![(0, entry.size)],
            p => (0..p.count())
                .filter_map(|i| p.range(i))
                .map(|r| (r.start, r.end - r.start))
                .collect(),
        };
        let whole = ranges.len() == 1;
        // The source's full-object checksum, when it has one, is what the file must match.
        let head = side
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| Fail::sdk(&e, SideId::Source, "s3:GetObject", "reading the source"))?;
        let source_sum = full_object_checksum(
            head.checksum_type(),
            head.checksum_crc32(),
            head.checksum_crc32_c(),
            head.checksum_crc64_nvme(),
        );
        let alg = source_sum
            .as_ref()
            .map(|(a, _)| *a)
            .unwrap_or(Algorithm::Crc64Nvme);
        let etag = head.e_tag().unwrap_or_default().to_owned();
        let etag = etag.as_str();
        let sums = stream::iter(ranges)
            .map(|(offset, len)| {
                let file = file.clone();
                async move {
                    self.retry(|| {
                        let file = file.clone();
                        async move {
                            let mut req =
                                side.s3.get_object().bucket(bucket).key(key).if_match(etag);
                            if whole {
                                req = req.checksum_mode(ChecksumMode::Enabled);
                            } else {
                                req = req.range(format!("bytes={}-{}", offset, offset + len - 1));
                            }
                            let got = req.send().await.map_err(|e| {
                                Fail::sdk(&e, SideId::Source, "s3:GetObject", "reading the source")
                            })?;
                            let mut body = got.body;
                            let mut running = Running::new(alg);
                            let mut at = offset;
                            while let Some(chunk) = body.try_next().await.map_err(|e| Fail {
                                class: Class::Transient,
                                message: format!("reading the source: {e}"),
                                action: "s3:GetObject",
                                side: SideId::Source,
                            })? {
                                running.update(&chunk);
                                let f = file.clone();
                                let pos = at;
                                at += chunk.len() as u64;
                                tokio::task::spawn_blocking(move || {
                                    use std::os::unix::fs::FileExt;
                                    f.write_all_at(&chunk, pos)
                                })
                                .await
                                .map_err(|e| Fail::fatal(format!("writing: {e}")))?
                                .map_err(|e| Fail::fatal(format!("writing: {e}")))?;
                            }
                            if at != offset + len {
                                return Err(Fail {
                                    class: Class::Transient,
                                    message: format!(
                                        "the source sent {} bytes of {len}",
                                        at - offset
                                    ),
                                    action: "s3:GetObject",
                                    side: SideId::Source,
                                });
                            }
                            Ok((running.value(), len))
                        }
                    })
                    .await
                }
            })
            .buffered(self.opts.part_concurrency.max(1))
            .try_collect::<Vec<(u64, u64)>>()
            .await?;
        let mut whole_sum = Running::new(alg);
        for (crc, len) in sums {
            whole_sum.append(crc, len);
        }
        match source_sum {
            Some((_, v)) if v == whole_sum.encoded() => Ok(Verified::Checksum),
            Some((a, v)) => Err(Fail::fatal(format!(
                "the downloaded bytes' {} {} differ from the source's {v}",
                a.name(),
                whole_sum.encoded()
            ))),
            None => Ok(Verified::Sent),
        }
    }
}

/// The headers an object keeps when copied.
#[derive(Debug, Default)]
struct Headers {
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    metadata: Option<std::collections::HashMap<String, String>>,
    tagging: Option<String>,
}

/// Both S3 sides of an S3-to-S3 job.
struct S3Pair<'a> {
    src: &'a Side,
    src_bucket: &'a str,
    dst: &'a Side,
    dst_bucket: &'a str,
}

/// A finished part.
struct Part {
    n: i32,
    len: u64,
    etag: Option<String>,
    sum: Option<u64>,
}

/// A multipart upload in progress; `finish` completes it (or aborts it on any failure).
struct Upload<'a> {
    side: &'a Side,
    bucket: &'a str,
    key: &'a str,
    id: &'a str,
    alg: Algorithm,
}

impl Upload<'_> {
    /// Completes the upload with its parts and confirms the stored full-object checksum
    /// against `expected` (the source's), or against the parts' combination. Aborts on any
    /// failure, so no incomplete upload is left behind.
    async fn finish(
        &self,
        job: &Job,
        parts: Result<Vec<Part>, Fail>,
        expected: Option<String>,
    ) -> Result<Verified, Fail> {
        let result = self.complete(job, parts, expected).await;
        if result.is_err() {
            let _ = job
                .retry(|| async {
                    self.side
                        .s3
                        .abort_multipart_upload()
                        .bucket(self.bucket)
                        .key(self.key)
                        .upload_id(self.id)
                        .send()
                        .await
                        .map_err(|e| {
                            Fail::sdk(&e, SideId::Dest, "s3:AbortMultipartUpload", "aborting")
                        })
                })
                .await;
        }
        result
    }

    async fn complete(
        &self,
        job: &Job,
        parts: Result<Vec<Part>, Fail>,
        expected: Option<String>,
    ) -> Result<Verified, Fail> {
        let mut parts = parts?;
        parts.sort_by_key(|p| p.n);
        let combined = parts.iter().all(|p| p.sum.is_some()).then(|| {
            let mut r = Running::new(self.alg);
            for p in &parts {
                r.append(p.sum.unwrap_or(0), p.len);
            }
            r.encoded()
        });
        let completed: Vec<CompletedPart> = parts
            .iter()
            .map(|p| {
                let sum = p.sum.map(|s| self.alg.encode(s));
                let b = CompletedPart::builder()
                    .part_number(p.n)
                    .set_e_tag(p.etag.clone());
                match self.alg {
                    Algorithm::Crc32 => b.set_checksum_crc32(sum),
                    Algorithm::Crc32c => b.set_checksum_crc32_c(sum),
                    Algorithm::Crc64Nvme => b.set_checksum_crc64_nvme(sum),
                }
                .build()
            })
            .collect();
        let whole = expected.clone().or(combined.clone());
        let out = job
            .retry(|| async {
                let req = self
                    .side
                    .s3
                    .complete_multipart_upload()
                    .bucket(self.bucket)
                    .key(self.key)
                    .upload_id(self.id)
                    .checksum_type(ChecksumType::FullObject)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(completed.clone()))
                            .build(),
                    );
                let req = match self.alg {
                    Algorithm::Crc32 => req.set_checksum_crc32(whole.clone()),
                    Algorithm::Crc32c => req.set_checksum_crc32_c(whole.clone()),
                    Algorithm::Crc64Nvme => req.set_checksum_crc64_nvme(whole.clone()),
                };
                req.send().await.map_err(|e| {
                    Fail::sdk(
                        &e,
                        SideId::Dest,
                        "s3:PutObject",
                        "completing the multipart upload",
                    )
                })
            })
            .await?;
        let stored = match self.alg {
            Algorithm::Crc32 => out.checksum_crc32(),
            Algorithm::Crc32c => out.checksum_crc32_c(),
            Algorithm::Crc64Nvme => out.checksum_crc64_nvme(),
        };
        match (expected, combined, stored) {
            (Some(e), _, Some(s)) if e == s => Ok(Verified::Checksum),
            (Some(e), _, Some(s)) => Err(Fail::fatal(format!(
                "the copy's {} {s} differs from the source's {e}",
                self.alg.name()
            ))),
            (None, Some(c), Some(s)) if c == s => Ok(Verified::Sent),
            (None, Some(c), Some(s)) => Err(Fail::fatal(format!(
                "the copy's {} {s} differs from its parts' {c}",
                self.alg.name()
            ))),
            _ => Err(Fail::fatal(format!(
                "the destination did not confirm a {} checksum for the upload",
                self.alg.name()
            ))),
        }
    }
}

/// The object's full-object CRC checksum, when it has one.
fn full_object_checksum(
    kind: Option<&ChecksumType>,
    crc32: Option<&str>,
    crc32c: Option<&str>,
    crc64: Option<&str>,
) -> Option<(Algorithm, String)> {
    if kind.is_some_and(|k| *k != ChecksumType::FullObject) {
        return None;
    }
    // Multipart composite checksums end in `-N`; those are not full-object values.
    let pick = |v: Option<&str>| v.filter(|s| !s.contains('-')).map(str::to_owned);
    pick(crc64)
        .map(|v| (Algorithm::Crc64Nvme, v))
        .or_else(|| pick(crc32c).map(|v| (Algorithm::Crc32c, v)))
        .or_else(|| pick(crc32).map(|v| (Algorithm::Crc32, v)))
}

fn part_sum(
    alg: Algorithm,
    crc32: Option<&str>,
    crc32c: Option<&str>,
    crc64: Option<&str>,
) -> Option<u64> {
    let v = match alg {
        Algorithm::Crc32 => crc32,
        Algorithm::Crc32c => crc32c,
        Algorithm::Crc64Nvme => crc64,
    }?;
    alg.decode(v)
}

/// Confirms a single-request write: the stored checksum against the source's, else the ETag
/// against the source's (MD5 of the body when neither is multipart nor KMS-encrypted).
fn confirm(
    source: Option<&str>,
    stored: Option<&str>,
    src_etag: Option<&str>,
    etag: Option<&str>,
    kms: bool,
) -> Result<Verified, Fail> {
    match (source, stored) {
        (Some(a), Some(b)) if a == b => return Ok(Verified::Checksum),
        (Some(a), Some(b)) => {
            return Err(Fail::fatal(format!(
                "the copy's checksum {b} differs from the source's {a}"
            )))
        }
        _ => {}
    }
    match (src_etag, etag) {
        (Some(a), Some(b)) if !a.contains('-') && !kms => {
            if a == b {
                Ok(Verified::Etag)
            } else {
                Err(Fail::fatal(format!(
                    "the copy's ETag {b} differs from the source's {a}"
                )))
            }
        }
        _ if stored.is_some() => Ok(Verified::Sent),
        _ => Err(Fail::fatal(
            "the destination confirmed neither a checksum nor an ETag for the write",
        )),
    }
}

fn action_key(a: &Action) -> &str {
    match a {
        Action::Copy { entry, .. } | Action::Check { entry, .. } => &entry.key,
        Action::Skip { key, .. } | Action::Delete { key } => key,
    }
}

/// A content type for common file extensions (as `aws s3 cp` guesses one).
fn guess_content_type(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    let t = match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "gz" => "application/gzip",
        "zip" => "application/zip",
        "parquet" => "application/vnd.apache.parquet",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "pdf" => "application/pdf",
        _ => return None,
    };
    Some(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_prefers_checksums_then_etags() {
        assert_eq!(
            confirm(Some("a"), Some("a"), None, None, false).unwrap(),
            Verified::Checksum
        );
        assert!(confirm(Some("a"), Some("b"), Some("e"), Some("e"), false).is_err());
        assert_eq!(
            confirm(None, Some("x"), Some("e"), Some("e"), false).unwrap(),
            Verified::Etag
        );
        assert!(confirm(None, Some("x"), Some("e"), Some("f"), false).is_err());
        // Multipart or KMS ETags are not MD5s: the stored checksum of what was sent counts.
        assert_eq!(
            confirm(None, Some("x"), Some("e-2"), Some("f"), false).unwrap(),
            Verified::Sent
        );
        assert_eq!(
            confirm(None, Some("x"), Some("e"), Some("f"), true).unwrap(),
            Verified::Sent
        );
        assert!(confirm(None, None, None, None, false).is_err());
    }

    #[test]
    fn composite_checksums_are_not_full_object_values() {
        assert_eq!(
            full_object_checksum(Some(&ChecksumType::Composite), Some("AAAAAA=="), None, None),
            None
        );
        assert_eq!(
            full_object_checksum(None, Some("AAAAAA==-3"), None, None),
            None
        );
        assert_eq!(
            full_object_checksum(Some(&ChecksumType::FullObject), None, None, Some("x")),
            Some((Algorithm::Crc64Nvme, "x".to_owned()))
        );
    }

    #[test]
    fn backoff_is_bounded() {
        for a in 0..20 {
            assert!(backoff(a) <= Duration::from_millis(5_000));
        }
    }
}
