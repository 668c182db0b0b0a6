//! S3 on the `s3s` crate: the auth provider (access key → secret), the access hook (caller
//! resolution and session-token check) and the operations, each authorized through
//! [`authz::check`] before it touches storage.

pub mod actions;
pub mod authz;
mod multipart;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use futures::TryStreamExt;
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, S3};

use super::acl::{self, Acl, AclRequest, CannedAcl, ObjectOwnership, Permission};
use super::state::{self as st, Caller, KeyError, PublicAccessBlock, StoredPolicy};
use super::{Emulator, RequestMeta};
use crate::policy::{Context, PolicyKind, PrincipalKind};
use crate::types::AccountId;
use authz::Target;

/// Builds the `s3s` service for an emulator.
pub fn service(emu: Arc<Emulator>) -> s3s::service::S3Service {
    let mut b = s3s::service::S3ServiceBuilder::new(EmuS3 {
        emu: emu.clone(),
        slabs: BodySlabs::default(),
    });
    b.set_auth(Auth { emu: emu.clone() });
    b.set_access(Access { emu });
    b.set_host(Hosts);
    b.build()
}

/// Virtual-hosted-style addressing: `BUCKET.localhost[:PORT]` and `BUCKET.s3.localhost[:PORT]`
/// name the bucket; every other host (`localhost`, `127.0.0.1`, any name) is path-style.
struct Hosts;

impl s3s::host::S3Host for Hosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<s3s::host::VirtualHost<'a>> {
        let name = match host.rsplit_once(':') {
            Some((h, port)) if !h.ends_with(']') && port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        };
        let bucket = name
            .strip_suffix(".localhost")
            .map(|b| b.strip_suffix(".s3").unwrap_or(b))
            .filter(|b| !b.is_empty() && *b != "s3");
        Ok(match bucket {
            Some(b) => s3s::host::VirtualHost::new(host).with_bucket(b),
            None => s3s::host::VirtualHost::new(host),
        })
    }
}

/// S3's bucket naming rules.
pub fn validate_bucket_name(name: &str) -> Result<(), String> {
    let ok_len = (3..=63).contains(&name.len());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let ok_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let is_ip = name.parse::<std::net::Ipv4Addr>().is_ok();
    if !ok_len || !ok_chars || !ok_ends || is_ip || name.contains("..") {
        return Err("bucket names are 3-63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit".to_owned());
    }
    Ok(())
}

/// The single-part ETag: the hex MD5 of the body, quoted.
pub fn md5_etag(body: &[u8]) -> String {
    use s3s::crypto::Checksum;
    format!("\"{}\"", hex::encode(s3s::crypto::Md5::checksum(body)))
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The ACL stored on a new object: `None` for the owner-only default (no ACL asked for,
/// `private`, or an ACL that comes to the same).
pub fn object_acl(req: &AclRequest, owner: AccountId, bucket_owner: AccountId) -> Option<Box<Acl>> {
    match req {
        AclRequest::None | AclRequest::Canned(CannedAcl::Private) => None,
        _ => st::compact_acl(
            acl::build(req, owner, bucket_owner, &|a| a.canonical_user_id()),
            owner,
        ),
    }
}

/// Object Ownership's BucketOwnerEnforced check of a write's ACL ([`acl::check_enforced`];
/// the bucket owner's canonical ID is worked out only if the write sent an ACL).
fn check_enforced(req: &AclRequest, bucket_owner: AccountId) -> S3Result<()> {
    if *req == AclRequest::None {
        return Ok(());
    }
    acl::check_enforced(req, &bucket_owner.canonical_user_id()).map_err(acl_error)
}

/// [`acl::new_object_owner`] (which does not read the bucket owner's canonical ID).
fn new_object_owner(
    mode: ObjectOwnership,
    req: &AclRequest,
    writer: AccountId,
    bucket_owner: AccountId,
) -> AccountId {
    acl::new_object_owner(mode, req, writer, bucket_owner, "")
}

/// The checksum S3 adds to objects uploaded without one: full-object CRC64NVME.
pub fn full_checksums(body: &[u8]) -> st::Checksums {
    use s3s::crypto::Checksum;
    st::Checksums {
        crc64nvme: Some(b64(&s3s::crypto::Crc64Nvme::checksum(body))),
        kind: Some("FULL_OBJECT".to_owned()),
        ..st::Checksums::default()
    }
}

fn err(code: S3ErrorCode, msg: impl Into<String>) -> S3Error {
    S3Error::with_message(code, msg.into())
}

fn custom(code: &str, status: http::StatusCode, msg: impl Into<String>) -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::Custom(code.to_owned().into()), msg.into());
    e.set_status_code(status);
    e
}

fn no_such_bucket(name: &str) -> S3Error {
    err(
        S3ErrorCode::NoSuchBucket,
        format!("The specified bucket does not exist: {name}"),
    )
}

/// Copies an object's stored checksums into an output DTO's `checksum_*` fields.
macro_rules! fill_checksums {
    ($out:expr, $c:expr) => {{
        let c = $c;
        $out.checksum_crc32 = c.crc32.clone();
        $out.checksum_crc32c = c.crc32c.clone();
        $out.checksum_crc64nvme = c.crc64nvme.clone();
        $out.checksum_sha1 = c.sha1.clone();
        $out.checksum_sha256 = c.sha256.clone();
        $out.checksum_type = c.kind.clone().map(ChecksumType::from);
    }};
}

struct Auth {
    emu: Arc<Emulator>,
}

#[async_trait::async_trait]
impl S3Auth for Auth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let st = self.emu.read();
        match st.key(access_key, self.emu.now()) {
            Ok(k) => Ok(SecretKey::from(k.secret.clone())),
            Err(KeyError::Expired) => Err(custom(
                "ExpiredToken",
                http::StatusCode::BAD_REQUEST,
                "The provided token has expired.",
            )),
            Err(_) => Err(err(
                S3ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            )),
        }
    }
}

struct Access {
    emu: Arc<Emulator>,
}

/// The caller of unsigned requests.
fn anonymous() -> Arc<Caller> {
    static ANONYMOUS: std::sync::LazyLock<Arc<Caller>> =
        std::sync::LazyLock::new(|| Arc::new(Caller::anonymous()));
    ANONYMOUS.clone()
}

#[async_trait::async_trait]
impl s3s::access::S3Access for Access {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        let caller = match cx.credentials() {
            None => anonymous(),
            Some(c) => {
                let st = self.emu.read();
                self.emu
                    .caller(&st, &c.access_key, self.emu.now())
                    .map_err(|_| {
                        err(
                            S3ErrorCode::InvalidAccessKeyId,
                            "The AWS Access Key Id you provided does not exist in our records.",
                        )
                    })?
            }
        };
        if let Some(expected) = &caller.token {
            let header = cx
                .headers()
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let query = cx.uri().query().and_then(|q| {
                q.split('&').find_map(|p| {
                    p.strip_prefix("X-Amz-Security-Token=")
                        .map(|v| super::query::form_decode(v.as_bytes()))
                })
            });
            if header.or(query).as_deref() != Some(expected.as_str()) {
                return Err(custom(
                    "InvalidToken",
                    http::StatusCode::BAD_REQUEST,
                    "The provided token is malformed or otherwise invalid.",
                ));
            }
        }
        cx.extensions_mut().insert(caller);
        Ok(())
    }
}

struct EmuS3 {
    emu: Arc<Emulator>,
    slabs: BodySlabs,
}

/// Where small object bodies are stored: carved one after the other out of shared 1 MiB
/// buffers instead of allocated one by one. Allocated one by one, in whichever thread served
/// the PUT, 4 KiB bodies end up interleaved with that request's short-lived allocations, and
/// the holes those leave are never returned (262,144 x 4 KiB objects took 1.28 bytes of
/// resident memory per stored byte that way, 1.15 with a single malloc arena). A slab is one
/// allocation with one reference count, so a body's clone for GET allocates nothing either.
/// The cost: a slab's memory is freed only once every object carved from it is gone.
#[derive(Debug, Default)]
struct BodySlabs {
    current: std::sync::Mutex<BytesMut>,
}

impl BodySlabs {
    const SLAB: usize = 1024 * 1024;
    /// Larger bodies get an allocation of their own.
    const MAX_BODY: usize = 64 * 1024;

    /// An empty buffer with room for `len` bytes, or `None` if `len` is not small.
    fn carve(&self, len: usize) -> Option<BytesMut> {
        if len == 0 || len > Self::MAX_BODY {
            return None;
        }
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if cur.capacity() < len {
            *cur = BytesMut::with_capacity(Self::SLAB);
        }
        let rest = cur.split_off(len);
        Some(std::mem::replace(&mut *cur, rest))
    }
}

/// What every operation needs from the request.
struct Call {
    caller: Arc<Caller>,
    ctx: Context,
}

impl EmuS3 {
    fn call<T>(&self, req: &S3Request<T>) -> Call {
        let caller = req
            .extensions
            .get::<Arc<Caller>>()
            .cloned()
            .unwrap_or_else(anonymous);
        let meta = req
            .extensions
            .get::<RequestMeta>()
            .copied()
            .unwrap_or(RequestMeta {
                source_ip: None,
                secure_transport: false,
            });
        let mut ctx = self.emu.context(&caller, &meta);
        actions::header_keys(&mut ctx, &req.headers);
        Call { caller, ctx }
    }

    /// Authorizes an action on a bucket (or a write into it).
    fn check_bucket(
        &self,
        call: &mut Call,
        bucket: &st::Bucket,
        action: &str,
        key: Option<&str>,
        perm: Permission,
    ) -> S3Result<()> {
        call.ctx.set("s3:ResourceAccount", bucket.owner.as_str());
        let arn = actions::arn(&bucket.name, key);
        authz::check(
            &self.emu,
            &call.caller,
            &call.ctx,
            action,
            &arn,
            bucket,
            Target::Bucket,
            perm,
        )
        .map(|_| ())
    }

    /// Authorizes an action on an existing object.
    fn check_object(
        &self,
        call: &mut Call,
        bucket: &st::Bucket,
        key: &str,
        obj: &st::Object,
        action: &str,
        perm: Permission,
    ) -> S3Result<()> {
        call.ctx.set("s3:ResourceAccount", bucket.owner.as_str());
        for (k, v) in obj.tags() {
            call.ctx
                .set(&format!("s3:ExistingObjectTag/{k}"), v.as_str());
        }
        let arn = actions::arn(&bucket.name, Some(key));
        let target = Target::Object {
            owner: obj.owner,
            acl: obj.acl.as_deref(),
        };
        authz::check(
            &self.emu,
            &call.caller,
            &call.ctx,
            action,
            &arn,
            bucket,
            target,
            perm,
        )
        .map(|_| ())
    }

    /// For a missing key: 404 if the caller may list the bucket, else 403 (as S3 answers).
    fn missing_key(
        &self,
        call: &mut Call,
        bucket: &st::Bucket,
        key: &str,
        action: &str,
    ) -> S3Error {
        if let Err(e) = self.check_bucket(call, bucket, action, Some(key), Permission::Read) {
            return e;
        }
        match self.check_bucket(call, bucket, "s3:ListBucket", None, Permission::Read) {
            Ok(()) => err(S3ErrorCode::NoSuchKey, "The specified key does not exist."),
            Err(_) => err(S3ErrorCode::AccessDenied, "Access Denied"),
        }
    }

    /// Looks up an object and authorizes `action` on it (404/403 for a missing key as S3
    /// answers); returns the stored record (shared, not copied).
    fn authorized_object(
        &self,
        call: &mut Call,
        bucket: &str,
        key: &str,
        action: &str,
        perm: Permission,
    ) -> S3Result<Arc<st::Object>> {
        let state = self.emu.read();
        let b = state
            .buckets
            .get(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        let Some(obj) = b.objects.get(key) else {
            return Err(self.missing_key(call, b, key, action));
        };
        self.check_object(call, b, key, obj, action, perm)?;
        Ok(obj.clone())
    }

    fn caller_account(call: &Call) -> S3Result<crate::types::AccountId> {
        call.caller.account().ok_or_else(|| {
            err(
                S3ErrorCode::AccessDenied,
                "Anonymous users cannot perform this operation",
            )
        })
    }

    /// Bucket policy calls: the owner's root always may; another account's identity gets 405
    /// when its policies allow (403 otherwise).
    fn check_policy_call(
        &self,
        call: &mut Call,
        bucket: &st::Bucket,
        action: &str,
    ) -> S3Result<()> {
        let is_owner_root = call.caller.principal.kind == PrincipalKind::Root
            && call.caller.account() == Some(bucket.owner);
        if is_owner_root {
            return Ok(());
        }
        let other_account = call.caller.account() != Some(bucket.owner);
        let r = self.check_bucket(call, bucket, action, None, Permission::FullControl);
        match (r, other_account) {
            (Ok(()), true) => Err(err(
                S3ErrorCode::MethodNotAllowed,
                "The specified method is not allowed against this resource.",
            )),
            (r, _) => r,
        }
    }
}

fn acl_error(e: acl::AclError) -> S3Error {
    e.to_s3_error()
}

/// The ACL a write asks for, from its headers.
fn acl_request(headers: &http::HeaderMap) -> S3Result<AclRequest> {
    let (canned, grants) = acl_headers(headers);
    acl::parse_request(canned, &grants).map_err(acl_error)
}

/// Put*Acl: headers or an XML body (not both).
fn put_acl_request(
    headers: &http::HeaderMap,
    body: Option<&AccessControlPolicy>,
    owner_canonical: &str,
) -> S3Result<AclRequest> {
    let (canned, grants) = acl_headers(headers);
    acl::parse_put_acl(canned, &grants, body, owner_canonical).map_err(acl_error)
}

fn acl_headers(headers: &http::HeaderMap) -> (Option<&str>, Vec<(Permission, &str)>) {
    const GRANTS: [(&str, Permission); 5] = [
        ("x-amz-grant-read", Permission::Read),
        ("x-amz-grant-write", Permission::Write),
        ("x-amz-grant-read-acp", Permission::ReadAcp),
        ("x-amz-grant-write-acp", Permission::WriteAcp),
        ("x-amz-grant-full-control", Permission::FullControl),
    ];
    // Most requests carry none of these: one pass over the names before any lookup.
    let any = headers.keys().any(|n| {
        let n = n.as_str();
        n == "x-amz-acl" || n.starts_with("x-amz-grant-")
    });
    if !any {
        return (None, Vec::new());
    }
    let canned = headers.get("x-amz-acl").and_then(|v| v.to_str().ok());
    let mut grants = Vec::new();
    for (h, perm) in GRANTS {
        if let Some(v) = headers.get(h).and_then(|v| v.to_str().ok()) {
            grants.push((perm, v));
        }
    }
    (canned, grants)
}

/// Reads a request body into one buffer, sized up front from the declared length (up to
/// 256 MiB, so a false length cannot reserve memory it never sends) to avoid regrowth copies
/// and spare capacity. With `slabs`, a small body goes into a slab (a body longer than
/// declared still reads correctly: the buffer then moves to an allocation of its own).
impl EmuS3 {
    /// S3's largest single PUT, part and CopyObject source (lowered by tests).
    fn max_single_size(&self) -> u64 {
        self.emu
            .options
            .max_single_size
            .unwrap_or(multipart::MAX_SINGLE_SIZE)
    }

    /// Refuses a PUT or part body above [`EmuS3::max_single_size`] from its Content-Length,
    /// before reading it, as S3 does.
    fn within_single_size(&self, length: Option<i64>) -> S3Result<()> {
        if length.is_some_and(|n| u64::try_from(n).unwrap_or(0) > self.max_single_size()) {
            return Err(err(
                S3ErrorCode::EntityTooLarge,
                "Your proposed upload exceeds the maximum allowed size",
            ));
        }
        Ok(())
    }
}

async fn read_body(
    body: Option<StreamingBlob>,
    length: Option<i64>,
    slabs: Option<&BodySlabs>,
) -> S3Result<Bytes> {
    let Some(body) = body else {
        return Ok(Bytes::new());
    };
    let hint = length
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(256 * 1024 * 1024);
    let mut buf = slabs
        .and_then(|s| s.carve(hint))
        .unwrap_or_else(|| BytesMut::with_capacity(hint));
    let mut stream = body;
    while let Some(chunk) = stream.try_next().await.map_err(|e| {
        let msg = e.to_string();
        if msg.contains("Sha256Mismatch") || msg.contains("sha256") {
            custom(
                "XAmzContentSHA256Mismatch",
                http::StatusCode::BAD_REQUEST,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        } else {
            err(
                S3ErrorCode::IncompleteBody,
                format!("the request body could not be read: {msg}"),
            )
        }
    })? {
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// For a write refused before its body was read: reads the body and drops it, then gives the
/// error back. Unread, the body makes the server close the connection after its response,
/// and a client still sending (a streamed upload) sees the connection reset instead of the
/// error. Only small declared bodies (up to 8 MiB) are drained, for at most 5 s, and never
/// when the client waits for `100 Continue` before sending.
async fn discard_body(
    body: Option<StreamingBlob>,
    length: Option<i64>,
    headers: &http::HeaderMap,
    e: S3Error,
) -> S3Error {
    const MAX: usize = 8 * 1024 * 1024;
    let expects_continue = headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let small = length
        .and_then(|n| usize::try_from(n).ok())
        .is_some_and(|n| n <= MAX);
    if let (Some(mut body), true, false) = (body, small, expects_continue) {
        let drain = async {
            let mut read = 0;
            while let Ok(Some(chunk)) = body.try_next().await {
                read += chunk.len();
                if read > MAX {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
    }
    e
}

/// Checksums sent with a write (headers or trailer): verified against the body, and stored.
fn verify_checksums(
    body: &[u8],
    headers: &http::HeaderMap,
    trailer: Option<&http::HeaderMap>,
) -> S3Result<st::Checksums> {
    use s3s::crypto::Checksum;
    let get = |name: &str| {
        headers
            .get(name)
            .or_else(|| trailer.and_then(|t| t.get(name)))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(md5) = get("content-md5") {
        let want = b64(&s3s::crypto::Md5::checksum(body));
        if md5 != want {
            return Err(err(
                S3ErrorCode::BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let mut out = st::Checksums::default();
    let mut any = false;
    let mismatch = |alg: &str| {
        err(
            S3ErrorCode::BadDigest,
            format!("The {alg} you specified did not match the calculated checksum."),
        )
    };
    if let Some(v) = get("x-amz-checksum-crc32") {
        if v != b64(&s3s::crypto::Crc32::checksum(body)) {
            return Err(mismatch("CRC32"));
        }
        out.crc32 = Some(v);
        any = true;
    }
    if let Some(v) = get("x-amz-checksum-crc32c") {
        if v != b64(&s3s::crypto::Crc32c::checksum(body)) {
            return Err(mismatch("CRC32C"));
        }
        out.crc32c = Some(v);
        any = true;
    }
    if let Some(v) = get("x-amz-checksum-crc64nvme") {
        if v != b64(&s3s::crypto::Crc64Nvme::checksum(body)) {
            return Err(mismatch("CRC64NVME"));
        }
        out.crc64nvme = Some(v);
        any = true;
    }
    if let Some(v) = get("x-amz-checksum-sha1") {
        if v != b64(s3s::crypto::Sha1::checksum(body).as_ref()) {
            return Err(mismatch("SHA1"));
        }
        out.sha1 = Some(v);
        any = true;
    }
    if let Some(v) = get("x-amz-checksum-sha256") {
        if v != b64(s3s::crypto::Sha256::checksum(body).as_ref()) {
            return Err(mismatch("SHA256"));
        }
        out.sha256 = Some(v);
        any = true;
    }
    if !any {
        return Ok(full_checksums(body));
    }
    out.kind = Some("FULL_OBJECT".to_owned());
    Ok(out)
}

fn owner_dto(id: crate::types::AccountId) -> Owner {
    Owner {
        display_name: None,
        id: Some(id.canonical_user_id()),
    }
}

fn ts(t: SystemTime) -> Timestamp {
    Timestamp::from(t)
}

/// One page of a listing in S3's byte order.
struct Page {
    contents: Vec<(String, Arc<st::Object>)>,
    prefixes: Vec<String>,
    truncated: bool,
    last: Option<String>,
}

fn list_page(
    bucket: &st::Bucket,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max_keys: usize,
) -> Page {
    use std::ops::Bound;
    let start = match after {
        Some(a) if a >= prefix => Bound::Excluded(a.to_owned()),
        _ => Bound::Included(prefix.to_owned()),
    };
    let mut page = Page {
        contents: Vec::new(),
        prefixes: Vec::new(),
        truncated: false,
        last: None,
    };
    let mut count = 0;
    for (key, obj) in bucket.objects.range::<String, _>((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        if let Some(d) = delimiter.filter(|d| !d.is_empty()) {
            if let Some(i) = key[prefix.len()..].find(d) {
                let cp = &key[..prefix.len() + i + d.len()];
                if page.prefixes.last().map(String::as_str) == Some(cp) {
                    continue;
                }
                // Continuing after this common prefix: its keys were rolled up already.
                if after == Some(cp) {
                    continue;
                }
                if count == max_keys {
                    page.truncated = true;
                    break;
                }
                page.prefixes.push(cp.to_owned());
                page.last = Some(cp.to_owned());
                count += 1;
                continue;
            }
        }
        if count == max_keys {
            page.truncated = true;
            break;
        }
        page.contents.push((key.clone(), obj.clone()));
        page.last = Some(key.clone());
        count += 1;
    }
    page
}

fn object_dto(key: &str, o: &st::Object, owner: bool, encode: bool) -> Object {
    Object {
        key: Some(if encode {
            crate::types::encode_key(key)
        } else {
            key.to_owned()
        }),
        last_modified: Some(ts(o.last_modified)),
        e_tag: Some(ETag::Strong(o.etag.hex())),
        size: Some(o.body.len() as i64),
        storage_class: Some(ObjectStorageClass::from(
            o.extra()
                .storage_class
                .clone()
                .unwrap_or_else(|| "STANDARD".to_owned()),
        )),
        owner: owner.then(|| owner_dto(o.owner)),
        ..Object::default()
    }
}

#[async_trait::async_trait]
impl S3 for EmuS3 {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let mut call = self.call(&req);
        let owner = Self::caller_account(&call)?;
        let name = req.input.bucket.clone();
        validate_bucket_name(&name).map_err(|m| err(S3ErrorCode::InvalidBucketName, m))?;
        let acl_req = acl_request(&req.headers)?;
        let ownership = match &req.input.object_ownership {
            Some(o) => Some(o.as_str().parse::<ObjectOwnership>().map_err(|_| {
                err(
                    S3ErrorCode::InvalidArgument,
                    format!("Invalid x-amz-object-ownership header: {}", o.as_str()),
                )
            })?),
            None if self.emu.options.legacy_defaults => Some(ObjectOwnership::ObjectWriter),
            None => Some(ObjectOwnership::BucketOwnerEnforced),
        };
        let region = req
            .input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|l| l.as_str().to_owned())
            .unwrap_or_else(|| "us-east-1".to_owned());
        // Identity side: the caller's account must allow s3:CreateBucket.
        let arn = actions::arn(&name, None);
        call.ctx.set("s3:ResourceAccount", owner.as_str());
        let v = self.emu.authorize(
            &call.caller,
            "s3:CreateBucket",
            &arn,
            Some(owner),
            &call.ctx,
            None,
            false,
        );
        if !v.allowed() {
            return Err(authz::access_denied(
                &call.caller,
                "s3:CreateBucket",
                &arn,
                &v,
            ));
        }
        let pab = if self.emu.options.legacy_defaults {
            None
        } else {
            Some(PublicAccessBlock::ALL)
        };
        if ownership == Some(ObjectOwnership::BucketOwnerEnforced) {
            acl::check_create_bucket_enforced(&acl_req, &owner.canonical_user_id())
                .map_err(acl_error)?;
        }
        if let Some(p) = pab {
            authz::refuse_public_acl(p, acl::is_public_request(&acl_req))?;
        }
        let acl = acl::build(&acl_req, owner, owner, &|a| a.canonical_user_id());
        let mut state = self.emu.write();
        if let Some(existing) = state.buckets.get(&name) {
            return Err(if existing.owner == owner {
                err(S3ErrorCode::BucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
            } else {
                err(S3ErrorCode::BucketAlreadyExists, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
            });
        }
        state.buckets.insert(
            name.clone(),
            st::Bucket {
                name: name.clone(),
                owner,
                region,
                created: SystemTime::now(),
                ownership,
                policy: None,
                public_access_block: pab,
                acl,
                objects: BTreeMap::new(),
                uploads: BTreeMap::new(),
            },
        );
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
        }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let mut call = self.call(&req);
        let name = &req.input.bucket;
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(name)
                .ok_or_else(|| no_such_bucket(name))?;
            self.check_bucket(
                &mut call,
                b,
                "s3:DeleteBucket",
                None,
                Permission::FullControl,
            )?;
            if call.caller.account() != Some(b.owner) {
                return Err(err(S3ErrorCode::AccessDenied, "Access Denied"));
            }
            if !b.objects.is_empty() {
                return Err(err(
                    S3ErrorCode::BucketNotEmpty,
                    "The bucket you tried to delete is not empty",
                ));
            }
        }
        self.emu.write().buckets.remove(name);
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let mut call = self.call(&req);
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&req.input.bucket)
            .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        self.check_bucket(&mut call, b, "s3:ListBucket", None, Permission::Read)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(b.region.clone()),
            ..HeadBucketOutput::default()
        }))
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let call = self.call(&req);
        let owner = Self::caller_account(&call)?;
        let arn = "arn:aws:s3:::*";
        let v = self.emu.authorize(
            &call.caller,
            "s3:ListAllMyBuckets",
            arn,
            Some(owner),
            &call.ctx,
            None,
            false,
        );
        if !v.allowed() {
            return Err(authz::access_denied(
                &call.caller,
                "s3:ListAllMyBuckets",
                arn,
                &v,
            ));
        }
        let state = self.emu.read();
        let buckets = state
            .buckets
            .values()
            .filter(|b| b.owner == owner)
            .map(|b| Bucket {
                name: Some(b.name.clone()),
                creation_date: Some(ts(b.created)),
                bucket_region: Some(b.region.clone()),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(owner_dto(owner)),
            ..ListBucketsOutput::default()
        }))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let mut call = self.call(&req);
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&req.input.bucket)
            .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        self.check_bucket(
            &mut call,
            b,
            "s3:GetBucketLocation",
            None,
            Permission::FullControl,
        )?;
        let loc =
            (b.region != "us-east-1").then(|| BucketLocationConstraint::from(b.region.clone()));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: loc,
        }))
    }

    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let mut call = self.call(&req);
        let name = req.input.bucket.clone();
        let text = req.input.policy.clone();
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&name)
                .ok_or_else(|| no_such_bucket(&name))?;
            self.check_policy_call(&mut call, b, "s3:PutBucketPolicy")?;
            let malformed = |m: String| err(S3ErrorCode::MalformedPolicy, m);
            let stored =
                StoredPolicy::parse(&text, PolicyKind::Bucket).map_err(|e| malformed(e.message))?;
            for s in &stored.parsed.statements {
                for p in &s.action.patterns {
                    if !actions::known_action(p.as_str()) {
                        return Err(malformed("Policy has invalid action".to_owned()));
                    }
                }
                if let Some(r) = &s.resource {
                    for p in &r.patterns {
                        let src = p.as_str();
                        let ours = src == "*"
                            || src.starts_with(&format!("arn:aws:s3:::{name}"))
                            || crate::policy::pattern::Pattern::wildcard(src).matches(
                                &format!("arn:aws:s3:::{name}"),
                                &crate::policy::pattern::NoVars,
                            )
                            || crate::policy::pattern::Pattern::wildcard(src).matches(
                                &format!("arn:aws:s3:::{name}/x"),
                                &crate::policy::pattern::NoVars,
                            );
                        if !ours {
                            return Err(malformed("Policy has invalid resource".to_owned()));
                        }
                    }
                }
            }
            if !state.missing_principals(&stored.parsed).is_empty() {
                return Err(malformed("Invalid principal in policy".to_owned()));
            }
            if b.pab().block_public_policy && authz::is_public_policy(&stored.parsed) {
                return Err(err(S3ErrorCode::AccessDenied, "Access Denied: Block Public Access (BlockPublicPolicy) refuses this public policy"));
            }
            drop(state);
            if let Some(b) = self.emu.write().buckets.get_mut(&name) {
                b.policy = Some(stored);
            }
        }
        Ok(S3Response::with_status(
            PutBucketPolicyOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let mut call = self.call(&req);
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&req.input.bucket)
            .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        self.check_policy_call(&mut call, b, "s3:GetBucketPolicy")?;
        let p = b.policy.as_ref().ok_or_else(|| {
            err(
                S3ErrorCode::NoSuchBucketPolicy,
                "The bucket policy does not exist",
            )
        })?;
        Ok(S3Response::new(GetBucketPolicyOutput {
            policy: Some(p.text.clone()),
        }))
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let mut call = self.call(&req);
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&req.input.bucket)
                .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
            self.check_policy_call(&mut call, b, "s3:DeleteBucketPolicy")?;
        }
        if let Some(b) = self.emu.write().buckets.get_mut(&req.input.bucket) {
            b.policy = None;
        }
        Ok(S3Response::with_status(
            DeleteBucketPolicyOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    async fn put_bucket_ownership_controls(
        &self,
        req: S3Request<PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
        let mut call = self.call(&req);
        let rule = req.input.ownership_controls.rules.first().ok_or_else(|| {
            err(
                S3ErrorCode::MalformedXML,
                "OwnershipControls needs one rule",
            )
        })?;
        let mode: ObjectOwnership = rule
            .object_ownership
            .as_str()
            .parse()
            .map_err(|_| err(S3ErrorCode::MalformedXML, "unknown ObjectOwnership"))?;
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&req.input.bucket)
                .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
            self.check_bucket(
                &mut call,
                b,
                "s3:PutBucketOwnershipControls",
                None,
                Permission::FullControl,
            )?;
            if mode == ObjectOwnership::BucketOwnerEnforced
                && !acl::only_owner(&b.acl, &b.owner.canonical_user_id())
            {
                return Err(custom(
                    "InvalidBucketAclWithObjectOwnership",
                    http::StatusCode::BAD_REQUEST,
                    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                ));
            }
        }
        if let Some(b) = self.emu.write().buckets.get_mut(&req.input.bucket) {
            b.ownership = Some(mode);
        }
        Ok(S3Response::new(PutBucketOwnershipControlsOutput::default()))
    }

    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        let mut call = self.call(&req);
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&req.input.bucket)
            .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        self.check_bucket(
            &mut call,
            b,
            "s3:GetBucketOwnershipControls",
            None,
            Permission::FullControl,
        )?;
        let mode = b.ownership.ok_or_else(|| {
            custom(
                "OwnershipControlsNotFoundError",
                http::StatusCode::NOT_FOUND,
                "The bucket ownership controls were not found",
            )
        })?;
        Ok(S3Response::new(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: s3s::dto::ObjectOwnership::from(mode.as_str().to_owned()),
                }],
            }),
        }))
    }

    async fn delete_bucket_ownership_controls(
        &self,
        req: S3Request<DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
        let mut call = self.call(&req);
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&req.input.bucket)
                .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
            self.check_bucket(
                &mut call,
                b,
                "s3:PutBucketOwnershipControls",
                None,
                Permission::FullControl,
            )?;
        }
        if let Some(b) = self.emu.write().buckets.get_mut(&req.input.bucket) {
            b.ownership = None;
        }
        Ok(S3Response::with_status(
            DeleteBucketOwnershipControlsOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        let mut call = self.call(&req);
        let c = &req.input.public_access_block_configuration;
        let pab = PublicAccessBlock {
            block_public_acls: c.block_public_acls.unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
            block_public_policy: c.block_public_policy.unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
        };
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&req.input.bucket)
                .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
            self.check_bucket(
                &mut call,
                b,
                "s3:PutBucketPublicAccessBlock",
                None,
                Permission::FullControl,
            )?;
        }
        if let Some(b) = self.emu.write().buckets.get_mut(&req.input.bucket) {
            b.public_access_block = Some(pab);
        }
        Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
    }

    async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        let mut call = self.call(&req);
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&req.input.bucket)
            .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        self.check_bucket(
            &mut call,
            b,
            "s3:GetBucketPublicAccessBlock",
            None,
            Permission::FullControl,
        )?;
        let p = b.public_access_block.ok_or_else(|| {
            custom(
                "NoSuchPublicAccessBlockConfiguration",
                http::StatusCode::NOT_FOUND,
                "The public access block configuration was not found",
            )
        })?;
        Ok(S3Response::new(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(PublicAccessBlockConfiguration {
                block_public_acls: Some(p.block_public_acls),
                ignore_public_acls: Some(p.ignore_public_acls),
                block_public_policy: Some(p.block_public_policy),
                restrict_public_buckets: Some(p.restrict_public_buckets),
            }),
        }))
    }

    async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        let mut call = self.call(&req);
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&req.input.bucket)
                .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
            self.check_bucket(
                &mut call,
                b,
                "s3:PutBucketPublicAccessBlock",
                None,
                Permission::FullControl,
            )?;
        }
        if let Some(b) = self.emu.write().buckets.get_mut(&req.input.bucket) {
            b.public_access_block = None;
        }
        Ok(S3Response::with_status(
            DeletePublicAccessBlockOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        let mut call = self.call(&req);
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&req.input.bucket)
            .ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        self.check_bucket(&mut call, b, "s3:GetBucketAcl", None, Permission::ReadAcp)?;
        let (owner, grants) = acl::to_dto(&b.acl, &|a| a.canonical_user_id());
        Ok(S3Response::new(GetBucketAclOutput {
            grants: Some(grants),
            owner: Some(owner),
        }))
    }

    async fn put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        let mut call = self.call(&req);
        let name = req.input.bucket.clone();
        let new_acl = {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&name)
                .ok_or_else(|| no_such_bucket(&name))?;
            let acl_req = put_acl_request(
                &req.headers,
                req.input.access_control_policy.as_ref(),
                &b.owner.canonical_user_id(),
            )?;
            if b.ownership() == ObjectOwnership::BucketOwnerEnforced {
                check_enforced(&acl_req, b.owner)?;
            }
            self.check_bucket(&mut call, b, "s3:PutBucketAcl", None, Permission::WriteAcp)?;
            authz::refuse_public_acl(b.pab(), acl::is_public_request(&acl_req))?;
            acl::build(&acl_req, b.owner, b.owner, &|a| a.canonical_user_id())
        };
        if let Some(b) = self.emu.write().buckets.get_mut(&name) {
            b.acl = new_acl;
        }
        Ok(S3Response::new(PutBucketAclOutput::default()))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let mut call = self.call(&req);
        let S3Request {
            mut input,
            headers,
            trailing_headers,
            ..
        } = req;
        let name = input.bucket.clone();
        let key = input.key.clone();
        let writer = call.caller.account();
        let refused = |e: S3Error, input: &mut PutObjectInput| {
            discard_body(input.body.take(), input.content_length, &headers, e)
        };
        let acl_req = match self
            .within_single_size(input.content_length)
            .and_then(|()| acl_request(&headers))
        {
            Ok(r) => r,
            Err(e) => return Err(refused(e, &mut input).await),
        };
        let checked: S3Result<_> = (|| {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&name)
                .ok_or_else(|| no_such_bucket(&name))?;
            if b.ownership() == ObjectOwnership::BucketOwnerEnforced {
                check_enforced(&acl_req, b.owner)?;
            }
            authz::refuse_public_acl(b.pab(), acl::is_public_request(&acl_req))?;
            self.check_bucket(&mut call, b, "s3:PutObject", Some(&key), Permission::Write)?;
            if let Some(cond) = &input.if_none_match {
                if matches!(cond, ETagCondition::Any) && b.objects.contains_key(&key) {
                    return Err(err(
                        S3ErrorCode::PreconditionFailed,
                        "At least one of the pre-conditions you specified did not hold",
                    ));
                }
            }
            Ok((b.owner, b.ownership()))
        })();
        let (bucket_owner, ownership) = match checked {
            Ok(x) => x,
            Err(e) => return Err(refused(e, &mut input).await),
        };
        let body = read_body(input.body, input.content_length, Some(&self.slabs)).await?;
        let trailer = trailing_headers.as_ref().and_then(|t| t.take());
        let checksums = verify_checksums(&body, &headers, trailer.as_ref())?;
        let writer = writer.unwrap_or(bucket_owner);
        let owner = new_object_owner(ownership, &acl_req, writer, bucket_owner);
        let tags = input
            .tagging
            .as_deref()
            .map(actions::parse_tagging)
            .unwrap_or_default();
        let mut obj = st::Object::new(body, owner, SystemTime::now());
        obj.acl = object_acl(&acl_req, owner, bucket_owner);
        obj.checksums = st::StoredChecksums::from_checksums(&checksums);
        obj.content_type = input.content_type.as_deref().map(st::ContentType::new);
        obj.set_extra(st::ObjectExtra {
            content_encoding: crate::emu::gateway::stored_content_encoding(
                input.content_encoding.as_deref(),
            ),
            content_disposition: input.content_disposition.clone(),
            content_language: input.content_language.clone(),
            cache_control: input.cache_control.clone(),
            expires: None,
            metadata: input
                .metadata
                .clone()
                .map(|m| m.into_iter().collect())
                .unwrap_or_default(),
            tags,
            storage_class: input.storage_class.as_ref().map(|s| s.as_str().to_owned()),
            sse: input
                .server_side_encryption
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            sse_kms_key_id: input.ssekms_key_id.clone(),
            parts: None,
        });
        let etag = obj.etag;
        let size = obj.body.len() as i64;
        {
            let mut state = self.emu.write();
            let b = state
                .buckets
                .get_mut(&name)
                .ok_or_else(|| no_such_bucket(&name))?;
            b.objects.insert(key, Arc::new(obj));
        }
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(etag.hex())),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_type: checksums.kind.map(ChecksumType::from),
            size: Some(size),
            server_side_encryption: input.server_side_encryption,
            ..PutObjectOutput::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let obj = self.authorized_object(
            &mut call,
            &input.bucket,
            &input.key,
            "s3:GetObject",
            Permission::Read,
        )?;
        check_conditions(
            &obj,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let len = obj.body.len() as u64;
        let (body, range) = match &input.range {
            Some(r) => {
                let rg = r.check(len)?;
                let slice = obj.body.slice(rg.start as usize..rg.end as usize);
                (
                    slice,
                    Some(format!(
                        "bytes {}-{}/{len}",
                        rg.start,
                        rg.end.saturating_sub(1)
                    )),
                )
            }
            None => (obj.body.clone(), None),
        };
        let full = range.is_none();
        let want_checksum = full
            && input
                .checksum_mode
                .as_ref()
                .is_some_and(|m| m.as_str() == "ENABLED");
        let mut out = GetObjectOutput {
            content_length: Some(body.len() as i64),
            content_range: range.clone(),
            body: Some(StreamingBlob::from(s3s::Body::from(body))),
            accept_ranges: Some("bytes".to_owned()),
            tag_count: (!obj.tags().is_empty()).then_some(obj.tags().len() as i32),
            ..GetObjectOutput::default()
        };
        fill_object_headers(
            &obj,
            want_checksum,
            &mut out.e_tag,
            &mut out.last_modified,
            &mut out.content_type,
            &mut out.content_encoding,
            &mut out.content_disposition,
            &mut out.content_language,
            &mut out.cache_control,
            &mut out.metadata,
            &mut out.storage_class,
            &mut out.server_side_encryption,
            &mut out.ssekms_key_id,
            &mut out.parts_count,
        );
        if want_checksum {
            fill_checksums!(out, &obj.checksums.expand());
        }
        let resp = if range.is_some() {
            S3Response::with_status(out, http::StatusCode::PARTIAL_CONTENT)
        } else {
            S3Response::new(out)
        };
        Ok(resp)
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let obj = self.authorized_object(
            &mut call,
            &input.bucket,
            &input.key,
            "s3:GetObject",
            Permission::Read,
        )?;
        check_conditions(
            &obj,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let want_checksum = input
            .checksum_mode
            .as_ref()
            .is_some_and(|m| m.as_str() == "ENABLED");
        let mut out = HeadObjectOutput {
            content_length: Some(obj.body.len() as i64),
            accept_ranges: Some("bytes".to_owned()),
            ..HeadObjectOutput::default()
        };
        fill_object_headers(
            &obj,
            want_checksum,
            &mut out.e_tag,
            &mut out.last_modified,
            &mut out.content_type,
            &mut out.content_encoding,
            &mut out.content_disposition,
            &mut out.content_language,
            &mut out.cache_control,
            &mut out.metadata,
            &mut out.storage_class,
            &mut out.server_side_encryption,
            &mut out.ssekms_key_id,
            &mut out.parts_count,
        );
        if want_checksum {
            fill_checksums!(out, &obj.checksums.expand());
        }
        Ok(S3Response::new(out))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let mut call = self.call(&req);
        let (name, key) = (req.input.bucket.clone(), req.input.key.clone());
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&name)
                .ok_or_else(|| no_such_bucket(&name))?;
            // Deletes are judged against the bucket: its owner may delete any object.
            self.check_bucket(
                &mut call,
                b,
                "s3:DeleteObject",
                Some(&key),
                Permission::Write,
            )?;
        }
        if let Some(b) = self.emu.write().buckets.get_mut(&name) {
            b.objects.remove(&key);
        }
        Ok(S3Response::with_status(
            DeleteObjectOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        call.ctx.set("s3:prefix", prefix.as_str());
        if let Some(d) = &input.delimiter {
            call.ctx.set("s3:delimiter", d.as_str());
        }
        let max_keys = input.max_keys.unwrap_or(1000).clamp(0, 1000);
        call.ctx.set(
            "s3:max-keys",
            crate::policy::Value::Num(f64::from(max_keys)),
        );
        let encode = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == "url");
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        self.check_bucket(&mut call, b, "s3:ListBucket", None, Permission::Read)?;
        let after = match &input.continuation_token {
            Some(t) => Some(decode_token(t)?),
            None => input.start_after.clone(),
        };
        let page = list_page(
            b,
            &prefix,
            input.delimiter.as_deref(),
            after.as_deref(),
            max_keys as usize,
        );
        let fetch_owner = input.fetch_owner.unwrap_or(false);
        let key_count = (page.contents.len() + page.prefixes.len()) as i32;
        let enc = |s: &str| {
            if encode {
                crate::types::encode_key(s)
            } else {
                s.to_owned()
            }
        };
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(b.name.clone()),
            prefix: Some(enc(&prefix)),
            max_keys: Some(max_keys),
            key_count: Some(key_count),
            continuation_token: input.continuation_token.clone(),
            is_truncated: Some(page.truncated),
            next_continuation_token: page
                .truncated
                .then(|| page.last.as_deref().map(encode_token))
                .flatten(),
            contents: Some(
                page.contents
                    .iter()
                    .map(|(k, o)| object_dto(k, o, fetch_owner, encode))
                    .collect(),
            ),
            common_prefixes: Some(
                page.prefixes
                    .iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc(p)),
                    })
                    .collect(),
            ),
            delimiter: input.delimiter.clone(),
            encoding_type: input.encoding_type.clone(),
            start_after: input.start_after.clone(),
            ..ListObjectsV2Output::default()
        }))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        call.ctx.set("s3:prefix", prefix.as_str());
        if let Some(d) = &input.delimiter {
            call.ctx.set("s3:delimiter", d.as_str());
        }
        let max_keys = input.max_keys.unwrap_or(1000).clamp(0, 1000);
        call.ctx.set(
            "s3:max-keys",
            crate::policy::Value::Num(f64::from(max_keys)),
        );
        let encode = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == "url");
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        self.check_bucket(&mut call, b, "s3:ListBucket", None, Permission::Read)?;
        let page = list_page(
            b,
            &prefix,
            input.delimiter.as_deref(),
            input.marker.as_deref(),
            max_keys as usize,
        );
        let enc = |s: &str| {
            if encode {
                crate::types::encode_key(s)
            } else {
                s.to_owned()
            }
        };
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(b.name.clone()),
            prefix: Some(enc(&prefix)),
            marker: input.marker.clone(),
            max_keys: Some(max_keys),
            is_truncated: Some(page.truncated),
            next_marker: (page.truncated && input.delimiter.is_some())
                .then(|| page.last.clone())
                .flatten(),
            contents: Some(
                page.contents
                    .iter()
                    .map(|(k, o)| object_dto(k, o, true, encode))
                    .collect(),
            ),
            common_prefixes: Some(
                page.prefixes
                    .iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc(p)),
                    })
                    .collect(),
            ),
            delimiter: input.delimiter.clone(),
            encoding_type: input.encoding_type.clone(),
            ..ListObjectsOutput::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let (src_bucket, src_key) = match &input.copy_source {
            CopySource::Bucket { bucket, key, .. } => (bucket.to_string(), key.to_string()),
            _ => {
                return Err(err(
                    S3ErrorCode::NotImplemented,
                    "access point copy sources are not supported",
                ))
            }
        };
        let acl_req = acl_request(&req.headers)?;
        // Source: s3:GetObject for the same caller.
        let src = self.authorized_object(
            &mut call,
            &src_bucket,
            &src_key,
            "s3:GetObject",
            Permission::Read,
        )?;
        let max = self.max_single_size();
        if src.body.len() as u64 > max {
            return Err(err(
                S3ErrorCode::InvalidRequest,
                format!("The specified copy source is larger than the maximum allowable size for a copy source: {max}"),
            ));
        }
        if let Some(c) = &input.copy_source_if_match {
            if !etag_matches(c, &src.etag) {
                return Err(err(
                    S3ErrorCode::PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold",
                ));
            }
        }
        let mut call = self.call(&req);
        let (bucket_owner, ownership) = {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            if b.ownership() == ObjectOwnership::BucketOwnerEnforced {
                check_enforced(&acl_req, b.owner)?;
            }
            authz::refuse_public_acl(b.pab(), acl::is_public_request(&acl_req))?;
            self.check_bucket(
                &mut call,
                b,
                "s3:PutObject",
                Some(&input.key),
                Permission::Write,
            )?;
            (b.owner, b.ownership())
        };
        let writer = call.caller.account().unwrap_or(bucket_owner);
        let owner = new_object_owner(ownership, &acl_req, writer, bucket_owner);
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == "REPLACE");
        let mut obj = (*src).clone();
        obj.owner = owner;
        obj.acl = object_acl(&acl_req, owner, bucket_owner);
        obj.last_modified = SystemTime::now();
        if replace {
            obj.content_type = input.content_type.as_deref().map(st::ContentType::new);
            obj.edit_extra(|e| {
                e.content_encoding =
                    crate::emu::gateway::stored_content_encoding(input.content_encoding.as_deref());
                e.content_disposition = input.content_disposition.clone();
                e.content_language = input.content_language.clone();
                e.cache_control = input.cache_control.clone();
                e.metadata = input
                    .metadata
                    .clone()
                    .map(|m| m.into_iter().collect())
                    .unwrap_or_default();
            });
        } else if src_bucket == input.bucket && src_key == input.key {
            return Err(err(
                S3ErrorCode::InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        if input
            .tagging_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == "REPLACE")
        {
            let tags = input
                .tagging
                .as_deref()
                .map(actions::parse_tagging)
                .unwrap_or_default();
            obj.edit_extra(|e| e.tags = tags);
        }
        if let Some(sc) = &input.storage_class {
            obj.edit_extra(|e| e.storage_class = Some(sc.as_str().to_owned()));
        }
        if let Some(sse) = &input.server_side_encryption {
            obj.edit_extra(|e| {
                e.sse = Some(sse.as_str().to_owned());
                e.sse_kms_key_id = input.ssekms_key_id.clone();
            });
        }
        let checksums = obj.checksums.expand();
        let result = CopyObjectResult {
            e_tag: Some(ETag::Strong(obj.etag.hex())),
            last_modified: Some(ts(obj.last_modified)),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_type: checksums.kind.map(ChecksumType::from),
        };
        {
            let mut state = self.emu.write();
            let b = state
                .buckets
                .get_mut(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            b.objects.insert(input.key.clone(), Arc::new(obj));
        }
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(result),
            ..CopyObjectOutput::default()
        }))
    }

    async fn get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        let Some(obj) = b.objects.get(&input.key) else {
            return Err(self.missing_key(&mut call, b, &input.key, "s3:GetObjectAcl"));
        };
        self.check_object(
            &mut call,
            b,
            &input.key,
            obj,
            "s3:GetObjectAcl",
            Permission::ReadAcp,
        )?;
        let shown = if b.ownership() == ObjectOwnership::BucketOwnerEnforced {
            acl::enforced_view(b.owner, &|a| a.canonical_user_id())
        } else {
            obj.acl().into_owned()
        };
        let (owner, grants) = acl::to_dto(&shown, &|a| a.canonical_user_id());
        Ok(S3Response::new(GetObjectAclOutput {
            grants: Some(grants),
            owner: Some(owner),
            ..GetObjectAclOutput::default()
        }))
    }

    async fn put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let new_acl = {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            let Some(obj) = b.objects.get(&input.key) else {
                return Err(self.missing_key(&mut call, b, &input.key, "s3:PutObjectAcl"));
            };
            let acl_req = put_acl_request(
                &req.headers,
                input.access_control_policy.as_ref(),
                &obj.owner.canonical_user_id(),
            )?;
            if b.ownership() == ObjectOwnership::BucketOwnerEnforced {
                check_enforced(&acl_req, b.owner)?;
            }
            self.check_object(
                &mut call,
                b,
                &input.key,
                obj,
                "s3:PutObjectAcl",
                Permission::WriteAcp,
            )?;
            authz::refuse_public_acl(b.pab(), acl::is_public_request(&acl_req))?;
            object_acl(&acl_req, obj.owner, b.owner)
        };
        if let Some(o) = self
            .emu
            .write()
            .buckets
            .get_mut(&input.bucket)
            .and_then(|b| b.objects.get_mut(&input.key))
        {
            Arc::make_mut(o).acl = new_acl;
        }
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.mp_create(req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.mp_upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.mp_upload_part_copy(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.mp_complete(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.mp_abort(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.mp_list_parts(req).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.mp_list_uploads(req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.delete_many(req).await
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        self.tagging_put(req).await
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.tagging_get(req).await
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.tagging_delete(req).await
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        self.versions(req).await
    }
}

#[allow(clippy::too_many_arguments)]
fn fill_object_headers(
    obj: &st::Object,
    _checksum: bool,
    e_tag: &mut Option<ETag>,
    last_modified: &mut Option<Timestamp>,
    content_type: &mut Option<ContentType>,
    content_encoding: &mut Option<ContentEncoding>,
    content_disposition: &mut Option<ContentDisposition>,
    content_language: &mut Option<ContentLanguage>,
    cache_control: &mut Option<CacheControl>,
    metadata: &mut Option<Metadata>,
    storage_class: &mut Option<StorageClass>,
    sse: &mut Option<ServerSideEncryption>,
    kms: &mut Option<SSEKMSKeyId>,
    parts: &mut Option<PartsCount>,
) {
    *e_tag = Some(ETag::Strong(obj.etag.hex()));
    *last_modified = Some(ts(obj.last_modified));
    *content_type = obj.content_type.as_ref().map(|c| c.as_str().to_owned());
    let Some(x) = obj.extra.as_deref() else {
        return;
    };
    *content_encoding = x.content_encoding.clone();
    *content_disposition = x.content_disposition.clone();
    *content_language = x.content_language.clone();
    *cache_control = x.cache_control.clone();
    *metadata = (!x.metadata.is_empty()).then(|| x.metadata.clone().into_iter().collect());
    *storage_class = x.storage_class.clone().map(StorageClass::from);
    *sse = x.sse.clone().map(ServerSideEncryption::from);
    *kms = x.sse_kms_key_id.clone();
    *parts = x.parts.as_ref().map(|p| p.len() as i32);
}

fn etag_matches(cond: &ETagCondition, etag: &st::Etag) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => etag.matches(e.value()),
    }
}

fn check_conditions(
    obj: &st::Object,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let failed = || {
        err(
            S3ErrorCode::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
    };
    let not_modified = || {
        let mut e = S3Error::new(S3ErrorCode::NotModified);
        e.set_status_code(http::StatusCode::NOT_MODIFIED);
        e
    };
    let modified: time::OffsetDateTime = ts(obj.last_modified).into();
    let secs = |t: &Timestamp| -> i64 { time::OffsetDateTime::from(t.clone()).unix_timestamp() };
    if let Some(c) = if_match {
        if !etag_matches(c, &obj.etag) {
            return Err(failed());
        }
    } else if let Some(t) = if_unmodified_since {
        if modified.unix_timestamp() > secs(t) {
            return Err(failed());
        }
    }
    if let Some(c) = if_none_match {
        if etag_matches(c, &obj.etag) {
            return Err(not_modified());
        }
    } else if let Some(t) = if_modified_since {
        if modified.unix_timestamp() <= secs(t) {
            return Err(not_modified());
        }
    }
    Ok(())
}

fn encode_token(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_token(t: &str) -> S3Result<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            err(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in [
            "abc",
            "doc-example-bucket1",
            "a.b-c",
            "account-a-data-bucket",
        ] {
            assert!(validate_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "DOC-EXAMPLE-BUCKET1",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            &"a".repeat(64),
        ] {
            assert!(validate_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn etags() {
        assert_eq!(md5_etag(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
    }

    #[tokio::test]
    async fn refused_small_bodies_are_drained() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let run = |len: i64, expect: bool| async move {
            let pulled = Arc::new(AtomicUsize::new(0));
            let p = pulled.clone();
            let chunks = futures::stream::iter(0..4).map(move |_| {
                p.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>(Bytes::from_static(b"data"))
            });
            let mut headers = http::HeaderMap::new();
            if expect {
                headers.insert(
                    http::header::EXPECT,
                    http::HeaderValue::from_static("100-continue"),
                );
            }
            let e = err(S3ErrorCode::AccessDenied, "Access Denied");
            let e = discard_body(Some(StreamingBlob::wrap(chunks)), Some(len), &headers, e).await;
            assert_eq!(*e.code(), S3ErrorCode::AccessDenied);
            pulled.load(Ordering::SeqCst)
        };
        use futures::StreamExt;
        assert_eq!(run(16, false).await, 4);
        assert_eq!(run(16, true).await, 0);
        assert_eq!(run(1 << 30, false).await, 0);
    }

    #[test]
    fn small_bodies_share_slabs() {
        let slabs = BodySlabs::default();
        assert!(slabs.carve(0).is_none());
        assert!(slabs.carve(BodySlabs::MAX_BODY + 1).is_none());
        let mut a = slabs.carve(4).unwrap();
        let mut b = slabs.carve(4).unwrap();
        assert_eq!((a.capacity(), b.capacity()), (4, 4));
        a.extend_from_slice(b"abcd");
        b.extend_from_slice(b"efgh");
        // Adjacent in one buffer.
        assert_eq!(a.as_ptr().wrapping_add(4), b.as_ptr());
        // Longer than declared: the data moves to a buffer of its own, b is untouched.
        a.extend_from_slice(b"xyz");
        assert_eq!((&a[..], &b[..]), (&b"abcdxyz"[..], &b"efgh"[..]));
        // A full slab is replaced.
        let big = slabs.carve(BodySlabs::MAX_BODY).unwrap();
        assert_eq!(big.capacity(), BodySlabs::MAX_BODY);
        for _ in 0..BodySlabs::SLAB / BodySlabs::MAX_BODY {
            assert_eq!(
                slabs.carve(BodySlabs::MAX_BODY).unwrap().capacity(),
                BodySlabs::MAX_BODY
            );
        }
    }
}
