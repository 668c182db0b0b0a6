//! Listings as streams of [`Entry`] in S3's key order (UTF-8 byte order), keys relative to
//! the listed root: S3 prefixes page by page (never more than a page and a channel's worth in
//! memory), local folders walked and sorted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};
use tokio::sync::mpsc;

use super::clients::Side;
use super::direct::{ListPage, Tally};

/// Listing pages the lean path may miss in a job, without one success, before the job's
/// listings leave it.
const LEAN_PAGE_TRIES: u64 = 8;
use super::engine::{describe, with_retries};
use super::filter::Filter;
use super::plan::Entry;
use super::ranges::Range;

/// Pages in flight between a lister and the planner (a page is up to 1,000 entries).
const CHANNEL: usize = 4;

/// Entries per message from a local walk.
const LOCAL_PAGE: usize = 1000;

/// What a lister sends: a page of entries in key order, or the error that ended the listing.
/// Pages rather than single entries: one channel message (and at most one wake-up of the
/// planner thread) per thousand keys.
pub type Page = Result<Vec<Entry>, String>;

/// Maps a listed key (full) to the key relative to the job's root; `None` skips it.
pub type KeyMap = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// `root` stripped from the front of every key.
pub fn under(root: &str) -> KeyMap {
    let root = root.to_owned();
    Arc::new(move |k: &str| k.strip_prefix(root.as_str()).map(str::to_owned))
}

/// One listed S3 object as an entry keyed by `rel`.
pub fn s3_entry(rel: String, o: &aws_sdk_s3::types::Object) -> Entry {
    let full = o
        .checksum_type()
        .is_some_and(|t| *t == aws_sdk_s3::types::ChecksumType::FullObject);
    Entry {
        key: rel,
        size: u64::try_from(o.size().unwrap_or(0)).unwrap_or(0),
        etag: o.e_tag().map(|e| e.trim_matches('"').to_owned()),
        modified: o.last_modified().map(|t| t.secs()).unwrap_or(0),
        checksum: None,
        checksum_alg: if full {
            o.checksum_algorithm()
                .first()
                .map(|a| a.as_str().to_owned())
        } else {
            None
        },
    }
}

/// One ListObjectsV2 page of `s3://bucket/prefix`, retried as any other request
/// ([`with_retries`]: fresh credentials after `ExpiredToken`, back-off on SlowDown and
/// transient errors).
pub async fn page(
    side: &Side,
    bucket: &str,
    prefix: &str,
    start_after: Option<&str>,
    token: Option<&str>,
    max_keys: i32,
) -> Result<ListObjectsV2Output, SdkError<ListObjectsV2Error>> {
    with_retries(side, || {
        side.s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .max_keys(max_keys)
            .set_start_after(start_after.map(str::to_owned))
            .set_continuation_token(token.map(str::to_owned))
            .send()
    })
    .await
}

/// One page on the lean path ([`super::direct`]), or None to list it with the SDK.
async fn lean_page(
    side: &Side,
    bucket: &str,
    prefix: &str,
    start_after: Option<&str>,
    token: Option<&str>,
) -> Option<ListPage> {
    let direct = side.direct.as_ref()?;
    let credentials = side.credentials.get().await.ok()?;
    match direct
        .list(&credentials, bucket, prefix, start_after, token, 1000)
        .await
    {
        Ok(p) => Some(p),
        Err(super::direct::Miss(why)) => {
            tracing::debug!(bucket, prefix, why, "lean listing: page listed by the SDK");
            None
        }
    }
}

/// The SDK's page in the lean path's form (entries keyed by full keys).
pub fn from_sdk(out: &ListObjectsV2Output) -> ListPage {
    ListPage {
        entries: out
            .contents()
            .iter()
            .filter_map(|o| Some(s3_entry(o.key()?.to_owned(), o)))
            .collect(),
        truncated: out.is_truncated() == Some(true),
        next_token: out.next_continuation_token().map(str::to_owned),
    }
}

/// Lists `s3://bucket/prefix` (the keys of `range` only) page by page into a channel. A page
/// is read on the lean path when `lean` (see [`super::direct`]; the job's tally of lean
/// pages, shared by its listings, turns it off after [`LEAN_PAGE_TRIES`] misses without a
/// success), else, and after a miss, by the SDK client, retried
/// as any other request ([`with_retries`]: fresh credentials after `ExpiredToken`, back-off
/// on SlowDown and transient errors); a page that still fails ends the listing with an
/// `Err` item.
pub fn spawn_s3(
    side: Side,
    bucket: String,
    prefix: String,
    map: KeyMap,
    filter: Arc<Filter>,
    range: Range,
    lean: Option<Arc<Tally>>,
) -> mpsc::Receiver<Page> {
    let (tx, rx) = mpsc::channel(CHANNEL);
    tokio::spawn(async move {
        let fail = |why: String| {
            let tx = tx.clone();
            let whole = format!("listing s3://{bucket}/{prefix} failed: {why}");
            async move {
                let _ = tx.send(Err(whole)).await;
            }
        };
        let start_after = range.after.as_ref().map(|a| format!("{prefix}{a}"));
        // The last key listed: pages must go up strictly in byte order (the merge join and the
        // deletes of a sync rely on it), and a listing that changes between the lean path and
        // the SDK resumes after it rather than hand one kind of request the other's token.
        let mut last: Option<String> = None;
        let mut token: Option<(String, bool)> = None;
        loop {
            let try_lean = lean.as_ref().is_some_and(|t| t.open(LEAN_PAGE_TRIES));
            let resume = |for_lean: bool| match &token {
                Some((t, made_lean)) if *made_lean == for_lean => {
                    (start_after.clone(), Some(t.clone()))
                }
                Some(_) => (last.clone().or_else(|| start_after.clone()), None),
                None => (start_after.clone(), None),
            };
            let listed = if try_lean {
                let (after, tk) = resume(true);
                let got = lean_page(&side, &bucket, &prefix, after.as_deref(), tk.as_deref()).await;
                if let Some(tally) = &lean {
                    tally.add(got.is_some());
                }
                got
            } else {
                None
            };
            let made_lean = listed.is_some();
            let listed = match listed {
                Some(p) => p,
                None => {
                    let (after, tk) = resume(false);
                    match page(
                        &side,
                        &bucket,
                        &prefix,
                        after.as_deref(),
                        tk.as_deref(),
                        1000,
                    )
                    .await
                    {
                        Ok(p) => from_sdk(&p),
                        Err(e) => return fail(describe(&e)).await,
                    }
                }
            };
            let mut ended = false;
            let mut entries = Vec::with_capacity(listed.entries.len());
            for mut e in listed.entries {
                if last
                    .as_deref()
                    .is_some_and(|l| e.key.as_bytes() <= l.as_bytes())
                {
                    return fail(format!(
                        "the keys are not in S3's order (`{}` after `{}`)",
                        e.key,
                        last.unwrap_or_default()
                    ))
                    .await;
                }
                last = Some(e.key.clone());
                let Some(rel) = map(&e.key) else {
                    continue;
                };
                if range.past_end(&rel) {
                    ended = true;
                    break;
                }
                if !rel.is_empty() && filter.accepts(&rel) {
                    e.key = rel;
                    entries.push(e);
                }
            }
            if !entries.is_empty() && tx.send(Ok(entries)).await.is_err() {
                return;
            }
            if ended || !listed.truncated {
                return;
            }
            // A truncated page without a token cannot be continued: an error, so that a sync
            // does not take the keys so far for the whole listing.
            let Some(next) = listed.next_token else {
                return fail("a truncated page without a continuation token".to_owned()).await;
            };
            token = Some((next, made_lean));
        }
    });
    rx
}

/// Marks files this tool is still writing (downloads land under this name, then are renamed).
pub const PARTIAL_MARK: &str = ".ferry-partial-";

/// Lists a local folder (recursively, files only, symlinks to files followed) into a channel,
/// sorted in byte order of the `/`-separated relative paths.
pub fn spawn_local(root: PathBuf, filter: Arc<Filter>) -> mpsc::Receiver<Page> {
    let (tx, rx) = mpsc::channel(CHANNEL);
    tokio::task::spawn_blocking(move || {
        let mut entries = match walk(&root, &filter) {
            Ok(v) => v,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        entries.sort_unstable_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        let mut entries = entries.into_iter().peekable();
        while entries.peek().is_some() {
            let page: Vec<Entry> = entries.by_ref().take(LOCAL_PAGE).collect();
            if tx.blocking_send(Ok(page)).is_err() {
                return;
            }
        }
    });
    rx
}

fn walk(root: &Path, filter: &Filter) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    if !root.exists() {
        return Ok(out);
    }
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel_dir)) = stack.pop() {
        let rd = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read the folder `{}`: {e}", dir.display()))?;
        for item in rd {
            let item =
                item.map_err(|e| format!("cannot read the folder `{}`: {e}", dir.display()))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else {
                return Err(format!(
                    "`{}`: file names must be UTF-8 to become S3 keys",
                    item.path().display()
                ));
            };
            if name.starts_with(PARTIAL_MARK) {
                continue;
            }
            let path = item.path();
            let meta = std::fs::metadata(&path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let rel = format!("{rel_dir}{name}");
            if meta.is_dir() {
                stack.push((path, format!("{rel}/")));
            } else if meta.is_file() && filter.accepts(&rel) {
                out.push(local_entry(rel, &meta));
            }
        }
    }
    Ok(out)
}

/// A local file as an entry.
pub fn local_entry(rel: String, meta: &std::fs::Metadata) -> Entry {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Entry {
        key: rel,
        size: meta.len(),
        etag: None,
        modified,
        checksum: None,
        checksum_alg: None,
    }
}
