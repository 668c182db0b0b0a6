//! The copy job between two S3 locations, each read or written with its own identity.
//!
//! Preflight (before any write): both identities resolved, the source listable, the
//! destination bucket present, and the data path chosen — server-side (CopyObject /
//! UploadPartCopy) when the destination identity can read the source, else streamed through
//! this host (GET with the source identity, PUT / UploadPart with the destination identity).
//! Objects are then copied concurrently as listing pages arrive, multipart above the threshold
//! with parts in flight concurrently; a failed multipart upload is aborted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, MetadataDirective, ObjectCannedAcl,
};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::clients::{DestClient, Identity, SourceClient};
use super::parts::{self, PartPlan};

/// How data moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataPath {
    ServerSide,
    Stream,
}

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Auto,
    ServerSide,
    Stream,
}

/// Job options.
#[derive(Clone, Debug)]
pub struct Options {
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
}

/// An object that could not be copied.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Failure {
    pub key: String,
    pub error: String,
}

/// What a job did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub source: String,
    pub destination: String,
    pub source_identity: Identity,
    pub destination_identity: Identity,
    pub data_path: Option<DataPath>,
    pub data_path_reason: String,
    pub copied: u64,
    pub skipped: u64,
    pub failed: Vec<Failure>,
    pub bytes: u64,
    pub seconds: f64,
    pub dry_run: bool,
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
    pub listed: AtomicU64,
}

struct Job {
    src: SourceClient,
    dst: DestClient,
    src_bucket: String,
    /// The source names one object (not a folder).
    single: bool,
    src_prefix: String,
    dst_bucket: String,
    dst_prefix: String,
    path: DataPath,
    opts: Options,
    counters: Arc<Counters>,
}

/// Runs a copy job from `s3://src_bucket/src_prefix` to `s3://dst_bucket/dst_prefix`.
#[allow(clippy::too_many_arguments)]
pub async fn copy(
    src: SourceClient,
    dst: DestClient,
    (src_bucket, src_prefix): (String, String),
    (dst_bucket, dst_prefix): (String, String),
    opts: Options,
    counters: Arc<Counters>,
    mut announce: impl FnMut(&str),
) -> Result<Report, CopyError> {
    let started = Instant::now();
    let source = format!("s3://{src_bucket}/{src_prefix}");
    let destination = format!("s3://{dst_bucket}/{dst_prefix}");
    let (src_id, dst_id) = tokio::join!(src.0.identity(), dst.0.identity());
    let src_id = src_id.map_err(|e| CopyError::Config(e.to_string()))?;
    let dst_id = dst_id.map_err(|e| CopyError::Config(e.to_string()))?;
    announce(&format!("source identity: {src_id}"));
    announce(&format!("destination identity: {dst_id}"));

    // Destination bucket: it must exist; 403 is fine (an upload-only role may not list it).
    if let Err(e) = dst.0.s3.head_bucket().bucket(&dst_bucket).send().await {
        let status = e.raw_response().map(|r| r.status().as_u16());
        match status {
            Some(403) => {}
            Some(404) => {
                return Err(CopyError::Config(format!(
                    "destination bucket `{dst_bucket}` does not exist"
                )))
            }
            _ => {
                return Err(CopyError::Config(format!(
                    "destination bucket `{dst_bucket}`: {}",
                    describe(&e)
                )))
            }
        }
    }

    // The first page tells whether the source is readable and gives the probe object. A
    // prefix without a trailing `/` names one object when such a key exists (as `aws s3 cp`
    // reads it), and a folder otherwise.
    let first = src
        .0
        .s3
        .list_objects_v2()
        .bucket(&src_bucket)
        .prefix(&src_prefix)
        .max_keys(1)
        .send()
        .await
        .map_err(|e| match code(&e) {
            Some("NoSuchBucket") => {
                CopyError::Config(format!("source bucket `{src_bucket}` does not exist"))
            }
            Some("AccessDenied") => CopyError::Permission {
                identity: src_id.arn.clone(),
                action: "s3:ListBucket",
                resource: format!("arn:aws:s3:::{src_bucket}"),
                message: describe(&e),
            },
            _ => CopyError::Config(format!("cannot list {source}: {}", describe(&e))),
        })?;
    let exact = first
        .contents()
        .first()
        .filter(|o| !src_prefix.is_empty() && o.key() == Some(src_prefix.as_str()))
        .cloned();
    let (src_prefix, dst_prefix) = match &exact {
        Some(_) => (src_prefix, dst_prefix),
        None if !src_prefix.is_empty() && !src_prefix.ends_with('/') => {
            (format!("{src_prefix}/"), dst_prefix)
        }
        None => (src_prefix, dst_prefix),
    };
    let probe = first
        .contents()
        .first()
        .and_then(|o| o.key())
        .map(str::to_owned);

    let (path, reason) = match (opts.mode, &probe) {
        (Mode::ServerSide, _) => (DataPath::ServerSide, "--mode server-side".to_owned()),
        (Mode::Stream, _) => (DataPath::Stream, "--mode stream".to_owned()),
        (Mode::Auto, None) => (DataPath::Stream, "nothing to copy".to_owned()),
        (Mode::Auto, Some(key)) => {
            match dst.0.s3.head_object().bucket(&src_bucket).key(key).send().await {
                Ok(_) => (
                    DataPath::ServerSide,
                    "the destination identity can read the source, so S3 copies server-side".to_owned(),
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
    };
    announce(&format!("data path: {path:?} ({reason})"));

    let job = Arc::new(Job {
        src,
        dst,
        src_bucket,
        single: exact.is_some(),
        src_prefix,
        dst_bucket,
        dst_prefix,
        path,
        opts: opts.clone(),
        counters: counters.clone(),
    });

    // Stream the listing page by page; copy objects as they come.
    let lister = job
        .src
        .0
        .s3
        .list_objects_v2()
        .bucket(&job.src_bucket)
        .prefix(&job.src_prefix)
        .into_paginator()
        .send();
    // One page at a time (1,000 keys at most in memory), flattened into objects.
    let pages = stream::unfold(lister, |mut p| async move {
        p.next().await.map(|page| (page, p))
    });
    let listing = pages.flat_map(|page| {
        let items: Vec<Result<aws_sdk_s3::types::Object, _>> = match page {
            Ok(out) => out
                .contents
                .unwrap_or_default()
                .into_iter()
                .map(Ok)
                .collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(items)
    });
    let listing = match exact {
        Some(obj) => stream::iter(vec![Ok(obj)]).boxed(),
        None => listing.boxed(),
    };
    let failures: Vec<Failure> = listing
        .map(|item| {
            let job = job.clone();
            async move {
                let obj = match item {
                    Ok(o) => o,
                    Err(e) => {
                        return Some(Failure {
                            key: String::new(),
                            error: format!("listing failed: {}", describe(&e)),
                        })
                    }
                };
                job.counters.listed.fetch_add(1, Ordering::Relaxed);
                let key = obj.key().unwrap_or_default().to_owned();
                let size = u64::try_from(obj.size().unwrap_or(0)).unwrap_or(0);
                if job.opts.dry_run {
                    return None;
                }
                match job.copy_one(&key, size).await {
                    Ok(()) => {
                        job.counters.objects.fetch_add(1, Ordering::Relaxed);
                        job.counters.bytes.fetch_add(size, Ordering::Relaxed);
                        None
                    }
                    Err(error) => {
                        job.counters.failed.fetch_add(1, Ordering::Relaxed);
                        Some(Failure { key, error })
                    }
                }
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .filter_map(|f| async move { f })
        .collect()
        .await;

    Ok(Report {
        source,
        destination,
        source_identity: src_id,
        destination_identity: dst_id,
        data_path: probe.is_some().then_some(path),
        data_path_reason: reason,
        copied: counters.objects.load(Ordering::Relaxed),
        skipped: 0,
        failed: failures,
        bytes: counters.bytes.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
        dry_run: opts.dry_run,
    })
}

impl Job {
    fn dest_key(&self, key: &str) -> String {
        if self.single {
            // One object: into a folder keeps its name; otherwise the destination is the key.
            if self.dst_prefix.is_empty() || self.dst_prefix.ends_with('/') {
                let name = key.rsplit('/').next().unwrap_or(key);
                return format!("{}{name}", self.dst_prefix);
            }
            return self.dst_prefix.clone();
        }
        let rel = key.strip_prefix(&self.src_prefix).unwrap_or(key);
        let sep = if self.dst_prefix.is_empty() || self.dst_prefix.ends_with('/') {
            ""
        } else {
            "/"
        };
        format!("{}{sep}{rel}", self.dst_prefix)
    }

    async fn copy_one(&self, key: &str, size: u64) -> Result<(), String> {
        let plan = parts::plan(
            size,
            self.opts.multipart_threshold,
            self.opts.part_size,
            self.opts.min_part_size,
        )
        .map_err(|e| e.to_string())?;
        let dkey = self.dest_key(key);
        match (self.path, plan) {
            (DataPath::ServerSide, PartPlan::Single) => self.server_side_single(key, &dkey).await,
            (DataPath::Stream, PartPlan::Single) => self.stream_single(key, &dkey).await,
            (_, p @ PartPlan::Multipart { .. }) => self.multipart(key, &dkey, p).await,
        }
    }

    fn acl_hint(&self, e: &str) -> String {
        if e.contains("AccessControlListNotSupported") {
            format!("{e} — the destination bucket has ACLs disabled (BucketOwnerEnforced): use --acl none or --acl bucket-owner-full-control")
        } else {
            e.to_owned()
        }
    }

    async fn server_side_single(&self, key: &str, dkey: &str) -> Result<(), String> {
        let source = format!("{}/{}", self.src_bucket, url_encode(key));
        self.dst
            .0
            .s3
            .copy_object()
            .bucket(&self.dst_bucket)
            .key(dkey)
            .copy_source(source)
            .metadata_directive(MetadataDirective::Copy)
            .set_acl(self.opts.acl.clone())
            .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.acl_hint(&describe(&e)))
    }

    async fn stream_single(&self, key: &str, dkey: &str) -> Result<(), String> {
        let got = self
            .src
            .0
            .s3
            .get_object()
            .bucket(&self.src_bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| format!("reading the source: {}", describe(&e)))?;
        let tagging = if got.tag_count().unwrap_or(0) > 0 {
            self.source_tagging(key).await?
        } else {
            None
        };
        self.dst
            .0
            .s3
            .put_object()
            .bucket(&self.dst_bucket)
            .key(dkey)
            .set_content_length(got.content_length())
            .set_content_type(got.content_type().map(str::to_owned))
            .set_content_encoding(got.content_encoding().map(str::to_owned))
            .set_content_disposition(got.content_disposition().map(str::to_owned))
            .set_content_language(got.content_language().map(str::to_owned))
            .set_cache_control(got.cache_control().map(str::to_owned))
            .set_metadata(got.metadata().cloned())
            .set_tagging(tagging)
            .set_acl(self.opts.acl.clone())
            .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
            .body(got.body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.acl_hint(&format!("writing the destination: {}", describe(&e))))
    }

    async fn source_tagging(&self, key: &str) -> Result<Option<String>, String> {
        self.tagging_with(&self.src.0.s3, key).await
    }

    /// The source object's tags as an `x-amz-tagging` value, read with `client`.
    async fn tagging_with(
        &self,
        client: &aws_sdk_s3::Client,
        key: &str,
    ) -> Result<Option<String>, String> {
        let t = client
            .get_object_tagging()
            .bucket(&self.src_bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| format!("reading the source's tags: {}", describe(&e)))?;
        let pairs: Vec<String> = t
            .tag_set()
            .iter()
            .map(|tag| format!("{}={}", url_encode(tag.key()), url_encode(tag.value())))
            .collect();
        Ok((!pairs.is_empty()).then(|| pairs.join("&")))
    }

    async fn multipart(&self, key: &str, dkey: &str, plan: PartPlan) -> Result<(), String> {
        // Metadata comes from the source object (read with the identity that will use it).
        let head = match self.path {
            DataPath::ServerSide => {
                self.dst
                    .0
                    .s3
                    .head_object()
                    .bucket(&self.src_bucket)
                    .key(key)
                    .send()
                    .await
            }
            DataPath::Stream => {
                self.src
                    .0
                    .s3
                    .head_object()
                    .bucket(&self.src_bucket)
                    .key(key)
                    .send()
                    .await
            }
        }
        .map_err(|e| format!("reading the source's metadata: {}", describe(&e)))?;
        let reader = match self.path {
            DataPath::ServerSide => &self.dst.0.s3,
            DataPath::Stream => &self.src.0.s3,
        };
        let tagging = self.tagging_with(reader, key).await?;
        let created = self
            .dst
            .0
            .s3
            .create_multipart_upload()
            .bucket(&self.dst_bucket)
            .key(dkey)
            .set_content_type(head.content_type().map(str::to_owned))
            .set_content_encoding(head.content_encoding().map(str::to_owned))
            .set_content_disposition(head.content_disposition().map(str::to_owned))
            .set_cache_control(head.cache_control().map(str::to_owned))
            .set_metadata(head.metadata().cloned())
            .set_tagging(tagging)
            .set_acl(self.opts.acl.clone())
            .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
            .checksum_type(aws_sdk_s3::types::ChecksumType::FullObject)
            .send()
            .await
            .map_err(|e| {
                self.acl_hint(&format!("starting the multipart upload: {}", describe(&e)))
            })?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let result = self.upload_parts(key, dkey, &upload_id, plan).await;
        match result {
            Ok(parts) => {
                let done = self
                    .dst
                    .0
                    .s3
                    .complete_multipart_upload()
                    .bucket(&self.dst_bucket)
                    .key(dkey)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await;
                if let Err(e) = done {
                    self.abort(dkey, &upload_id).await;
                    return Err(format!("completing the multipart upload: {}", describe(&e)));
                }
                Ok(())
            }
            Err(e) => {
                self.abort(dkey, &upload_id).await;
                Err(e)
            }
        }
    }

    async fn abort(&self, dkey: &str, upload_id: &str) {
        let _ = self
            .dst
            .0
            .s3
            .abort_multipart_upload()
            .bucket(&self.dst_bucket)
            .key(dkey)
            .upload_id(upload_id)
            .send()
            .await;
    }

    async fn upload_parts(
        &self,
        key: &str,
        dkey: &str,
        upload_id: &str,
        plan: PartPlan,
    ) -> Result<Vec<CompletedPart>, String> {
        let mut parts: Vec<CompletedPart> = stream::iter(0..plan.count())
            .map(|i| async move {
                let range = plan
                    .range(i)
                    .ok_or_else(|| "part out of range".to_owned())?;
                let n = i32::try_from(i + 1).map_err(|_| "too many parts".to_owned())?;
                let header = format!("bytes={}-{}", range.start, range.end.saturating_sub(1));
                let (etag, crc) = match self.path {
                    DataPath::ServerSide => {
                        let out = self
                            .dst
                            .0
                            .s3
                            .upload_part_copy()
                            .bucket(&self.dst_bucket)
                            .key(dkey)
                            .upload_id(upload_id)
                            .part_number(n)
                            .copy_source(format!("{}/{}", self.src_bucket, url_encode(key)))
                            .copy_source_range(header)
                            .send()
                            .await
                            .map_err(|e| format!("copying part {n}: {}", describe(&e)))?;
                        let r = out.copy_part_result();
                        (
                            r.and_then(|r| r.e_tag()).map(str::to_owned),
                            r.and_then(|r| r.checksum_crc64_nvme()).map(str::to_owned),
                        )
                    }
                    DataPath::Stream => {
                        let got = self
                            .src
                            .0
                            .s3
                            .get_object()
                            .bucket(&self.src_bucket)
                            .key(key)
                            .range(header)
                            .send()
                            .await
                            .map_err(|e| format!("reading part {n}: {}", describe(&e)))?;
                        let out = self
                            .dst
                            .0
                            .s3
                            .upload_part()
                            .bucket(&self.dst_bucket)
                            .key(dkey)
                            .upload_id(upload_id)
                            .part_number(n)
                            .set_content_length(got.content_length())
                            .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
                            .body(got.body)
                            .send()
                            .await
                            .map_err(|e| format!("writing part {n}: {}", describe(&e)))?;
                        (
                            out.e_tag().map(str::to_owned),
                            out.checksum_crc64_nvme().map(str::to_owned),
                        )
                    }
                };
                Ok::<_, String>(
                    CompletedPart::builder()
                        .part_number(n)
                        .set_e_tag(etag)
                        .set_checksum_crc64_nvme(crc)
                        .build(),
                )
            })
            .buffer_unordered(self.opts.part_concurrency.max(1))
            .try_collect()
            .await?;
        parts.sort_by_key(|p| p.part_number());
        Ok(parts)
    }
}

/// Percent-encodes a key for `x-amz-copy-source` (keeping `/`).
fn url_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}
