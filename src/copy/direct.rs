//! A lean request path for the small objects `--mode stream` copies whole, and for the
//! ListObjectsV2 pages behind every listing.
//!
//! Copying many small objects between two identities costs two requests per object (GET
//! with the source session, PUT with the destination's), and at that rate the client's CPU
//! per request sets the pace. aws-sdk-s3's general request pipeline (runtime plugins, config
//! bags, interceptors, the endpoint rules per request) was most of ferry's own CPU per object
//! in a `perf` profile. This path makes the same two requests with the SDK's own parts, minus
//! the pipeline:
//!
//! - the endpoint comes from aws-sdk-s3's endpoint rules, resolved once per bucket (so
//!   virtual-hosted or path-style addressing, FIPS and dual-stack endpoints are the SDK's);
//! - the transport is built as the SDK builds its default one (rustls with aws-lc, the
//!   connect timeout, proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`), with a pool of
//!   its own;
//! - requests are signed by `aws-sigv4`, the crate the SDK signs with, with S3's settings;
//! - credentials are the side's refreshing provider, the one the SDK client uses.
//!
//! Listings: an unchanged sync is nothing but listings, and aws-smithy-xml's parsing of a
//! 1,000-key page was ~80% of ferry's CPU there; pages are read here with `quick-xml` and
//! `encoding-type=url` (so keys with characters XML 1.0 cannot carry arrive intact), into the
//! same [`Entry`] fields the SDK path gives.
//!
//! It only ever takes the happy path. Any answer other than 200, any transport error or
//! timeout, and anything unusual (an encryption key the caller must supply, a source checksum
//! only the SDK verifies, a header that is not plain text, a body larger than listed) is a
//! [`Miss`]: the caller then copies the object through the SDK client, whose retries,
//! back-off, clock-skew correction and error messages apply as for every other object. GET is
//! safe to repeat and a PUT of the same bytes is too, so a miss never changes the outcome; a
//! PUT that landed but whose answer was lost is written once more by the SDK path (on a
//! versioned bucket, one more noncurrent version). `--sdk-only` turns this path off.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::Document;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use http_body_util::BodyExt;
use quick_xml::events::Event;

use super::plan::Entry;

/// How often the lean path served and how often it missed, for the report and to stop
/// trying an endpoint that only ever misses (a region redirect, a store that wants something
/// else): after `tries` misses without one success, [`Tally::open`] says no.
#[derive(Debug, Default)]
pub struct Tally {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Tally {
    pub fn add(&self, hit: bool) {
        let n = if hit { &self.hits } else { &self.misses };
        n.fetch_add(1, Ordering::Relaxed);
    }

    pub fn open(&self, tries: u64) -> bool {
        self.hits() > 0 || self.misses() < tries
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

/// Why the lean path gave an object back to the SDK client (for the report's counts and the
/// debug log; the SDK path then reports the real error, if there is one).
#[derive(Debug)]
pub struct Miss(pub String);

/// A side's lean transport: endpoint rules' inputs, a connector, and the endpoints resolved.
pub struct Direct {
    connector: SharedHttpConnector,
    region: String,
    endpoint: Option<String>,
    path_style: bool,
    fips: bool,
    dual_stack: bool,
    targets: Mutex<HashMap<String, Option<Arc<Target>>>>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// Where a bucket's objects are, and how requests to it are signed.
#[derive(Debug)]
struct Target {
    /// The endpoint URL the rules gave for the bucket, without a trailing `/`.
    base: String,
    region: String,
}

impl Target {
    /// The bucket's own URL with `query`: `https://b.host/?q` (virtual-hosted) or
    /// `http://host/b/?q` (path-style), as the SDK sends them (the operation's path `/`
    /// joined to the endpoint's).
    fn bucket_uri(&self, query: &str) -> String {
        format!("{}/?{query}", self.base)
    }

    /// The URL of `at` in this bucket.
    fn uri(&self, at: &At) -> String {
        match at {
            At::Object(key) => format!("{}/{}", self.base, encode_key(key)),
            At::Bucket { query } => self.bucket_uri(query),
        }
    }
}

/// What a request addresses in its bucket.
enum At<'a> {
    Object(&'a str),
    Bucket { query: String },
}

/// One request of the lean path.
struct Call<'a> {
    method: Method,
    bucket: &'a str,
    at: At<'a>,
    headers: HeaderMap,
    body: Bytes,
    /// The largest answer body read (by its Content-Length, checked before the body).
    limit: u64,
}

/// A ListObjectsV2 page: entries keyed by their full keys, in the order listed.
#[derive(Debug, PartialEq)]
pub struct ListPage {
    pub entries: Vec<Entry>,
    pub truncated: bool,
    pub next_token: Option<String>,
}

/// Largest ListObjectsV2 answer read here (1,000 keys of 1,024 bytes, percent-encoded, and
/// their fields fit with room to spare).
const LIST_LIMIT: u64 = 16 * 1024 * 1024;

/// An answer: status, headers, and the body read whole.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The settings aws-sdk-s3 signs S3 requests with: no double encoding of the path, no path
/// normalization, and the `x-amz-content-sha256` header.
fn s3_signing_settings() -> SigningSettings {
    let mut s = SigningSettings::default();
    s.percent_encoding_mode = PercentEncodingMode::Single;
    s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    s.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    s
}

/// The endpoint URL an S3 client built from `sdk` uses, chosen as aws-sdk-s3 chooses it: one
/// set in code wins, then the S3-specific setting (`AWS_ENDPOINT_URL_S3`, a profile's
/// `services` section), then the general one.
fn s3_endpoint_url(sdk: &aws_config::SdkConfig) -> Option<String> {
    if sdk.get_origin("endpoint_url").is_client_config() {
        return sdk.endpoint_url().map(str::to_owned);
    }
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk.service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| sdk.endpoint_url().map(str::to_owned))
}

pub use crate::types::encode_key;

impl Direct {
    /// The lean transport for a side whose S3 client was built from `sdk` (`path_style` as set
    /// on that client). None when the side's region is unknown.
    pub fn new(sdk: &aws_config::SdkConfig, path_style: bool) -> Option<Direct> {
        let region = sdk.region()?.to_string();
        // As aws-smithy-runtime builds the SDK's default client for this behavior version:
        // rustls with aws-lc, 3.1 s to connect, proxies from the environment. A request that
        // takes too long as a whole is timed out in `send` and given to the SDK path.
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_millis(3100))
            .build();
        let connector = aws_smithy_http_client::Connector::builder()
            .connector_settings(settings)
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
            .proxy_config(aws_smithy_http_client::proxy::ProxyConfig::from_env())
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build();
        let connector = SharedHttpConnector::new(connector);
        Some(Direct {
            connector,
            region,
            endpoint: s3_endpoint_url(sdk),
            path_style,
            fips: sdk.use_fips().unwrap_or(false),
            dual_stack: sdk.use_dual_stack().unwrap_or(false),
            targets: Mutex::new(HashMap::new()),
        })
    }

    /// The bucket's endpoint by aws-sdk-s3's rules, once per bucket. None when the rules give
    /// anything but plain SigV4 for service `s3` (S3 Express, SigV4a, Object Lambda) or ask
    /// for extra headers: those stay with the SDK.
    async fn target(&self, bucket: &str) -> Option<Arc<Target>> {
        if let Some(t) = self
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(bucket)
        {
            return t.clone();
        }
        let resolved = self.resolve(bucket).await;
        self.targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(bucket.to_owned(), resolved.clone());
        resolved
    }

    async fn resolve(&self, bucket: &str) -> Option<Arc<Target>> {
        let params = Params::builder()
            .bucket(bucket)
            .region(self.region.clone())
            .use_fips(self.fips)
            .use_dual_stack(self.dual_stack)
            .force_path_style(self.path_style)
            .set_endpoint(self.endpoint.clone())
            .build()
            .ok()?;
        let endpoint = DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .ok()?;
        if endpoint.headers().next().is_some() {
            return None;
        }
        // The rules name the auth scheme in typed form (newer SDKs) or as a property.
        let (name, signing_name, signing_region) = match endpoint.auth_schemes().first() {
            Some(s) => (
                s.name().to_owned(),
                s.get("signingName")
                    .and_then(Document::as_string)
                    .map(str::to_owned),
                s.get("signingRegion")
                    .and_then(Document::as_string)
                    .map(str::to_owned),
            ),
            None => {
                let scheme = endpoint
                    .properties()
                    .get("authSchemes")
                    .and_then(Document::as_array)
                    .and_then(|a| a.first())
                    .and_then(Document::as_object)?;
                let text = |k: &str| {
                    scheme
                        .get(k)
                        .and_then(Document::as_string)
                        .map(str::to_owned)
                };
                (text("name")?, text("signingName"), text("signingRegion"))
            }
        };
        if name != "sigv4" || signing_name.as_deref() != Some("s3") {
            return None;
        }
        let region = signing_region.unwrap_or_else(|| self.region.clone());
        let base = endpoint.url().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.contains('?') {
            return None;
        }
        Some(Arc::new(Target { base, region }))
    }

    /// GETs `bucket`/`key` with `headers` added, reading a body of at most `limit` bytes.
    pub async fn get(
        &self,
        credentials: &Credentials,
        bucket: &str,
        key: &str,
        headers: HeaderMap,
        limit: u64,
    ) -> Result<Answer, Miss> {
        let at = At::Object(key);
        let body = Bytes::new();
        let call = Call {
            method: Method::GET,
            bucket,
            at,
            headers,
            body,
            limit,
        };
        self.send(credentials, call).await
    }

    /// PUTs `body` as `bucket`/`key` with `headers`.
    pub async fn put(
        &self,
        credentials: &Credentials,
        bucket: &str,
        key: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Answer, Miss> {
        let at = At::Object(key);
        let call = Call {
            method: Method::PUT,
            bucket,
            at,
            headers,
            body,
            limit: 0,
        };
        self.send(credentials, call).await
    }

    /// One ListObjectsV2 page of `bucket` under `prefix`, keys URL-encoded on the wire.
    pub async fn list(
        &self,
        credentials: &Credentials,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        token: Option<&str>,
        max_keys: u32,
    ) -> Result<ListPage, Miss> {
        let mut query = format!(
            "list-type=2&encoding-type=url&max-keys={max_keys}&prefix={}",
            encode_query(prefix)
        );
        if let Some(a) = start_after {
            query.push_str("&start-after=");
            query.push_str(&encode_query(a));
        }
        if let Some(t) = token {
            query.push_str("&continuation-token=");
            query.push_str(&encode_query(t));
        }
        let call = Call {
            method: Method::GET,
            bucket,
            at: At::Bucket { query },
            headers: HeaderMap::new(),
            body: Bytes::new(),
            limit: LIST_LIMIT,
        };
        let answer = self.send(credentials, call).await?;
        if answer.status != 200 {
            return Err(Miss(format!("ListObjectsV2: HTTP {}", answer.status)));
        }
        parse_list(&answer.body)
    }

    /// Sends one signed request and reads the answer whole, or misses. Headers, body and all
    /// within 30 s plus a second per 64 KiB moved: a stalled answer or a slow link hands the
    /// object to the SDK path, which has stalled-stream protection.
    async fn send(&self, credentials: &Credentials, call: Call<'_>) -> Result<Answer, Miss> {
        let bytes = (call.body.len() as u64).max(call.limit.min(4 * 1024 * 1024));
        let deadline = Duration::from_secs(30 + bytes / 65_536);
        tokio::time::timeout(deadline, self.exchange(credentials, call))
            .await
            .map_err(|_| Miss(format!("no answer within {deadline:?}")))?
    }

    async fn exchange(&self, credentials: &Credentials, call: Call<'_>) -> Result<Answer, Miss> {
        let Call {
            method,
            bucket,
            at,
            headers,
            body,
            limit,
        } = call;
        let target = self
            .target(bucket)
            .await
            .ok_or_else(|| Miss("the endpoint rules give this bucket a special endpoint".into()))?;
        let put_length = (method == Method::PUT).then(|| HeaderValue::from(body.len()));
        let mut req = http::Request::builder()
            .method(method)
            .uri(target.uri(&at))
            .body(SdkBody::from(body))
            .map_err(|e| Miss(format!("building the request: {e}")))?;
        *req.headers_mut() = headers;
        if let Some(n) = put_length {
            // S3 requires the length of every PUT (411 Length Required), empty ones too.
            req.headers_mut().insert(http::header::CONTENT_LENGTH, n);
        }
        sign_request(&mut req, credentials, &target.region)?;
        let req = HttpRequest::try_from(req).map_err(|e| Miss(format!("the request: {e}")))?;
        let answer = self
            .connector
            .call(req)
            .await
            .map_err(|e| Miss(format!("transport: {e}")))?;
        let answer = answer
            .try_into_http1x()
            .map_err(|e| Miss(format!("the answer: {e}")))?;
        let (parts, body) = answer.into_parts();
        let status = parts.status.as_u16();
        if status != 200 {
            // The body (an error document) is not read: the connection is dropped, and the
            // SDK path asks again and reports.
            return Ok(Answer {
                status,
                headers: parts.headers,
                body: Bytes::new(),
            });
        }
        let length = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // Without a Content-Length (a chunked answer) the limit applies as the body is read.
        if length.is_some_and(|n| n > limit) {
            return Err(Miss(format!(
                "an answer of {length:?} bytes (at most {limit} read here)"
            )));
        }
        let body = http_body_util::Limited::new(body, limit as usize)
            .collect()
            .await
            .map_err(|e| Miss(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok(Answer {
            status,
            headers: parts.headers,
            body,
        })
    }
}

use crate::types::uri_encode as encode_query;

/// Decodes a key S3 sent with `encoding-type=url` (`+` is a space; a `+` in a key comes as
/// `%2B`), as the AWS CLI and SDKs decode it.
fn decode_url_key(v: &str) -> Result<String, Miss> {
    let spaced = v.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| Miss("a listed key that is not UTF-8".into()))
}

/// The `Contents` element being read.
#[derive(Default)]
struct Listed {
    key: Option<String>,
    size: Option<u64>,
    etag: Option<String>,
    modified: i64,
    alg: Option<String>,
    /// `ChecksumType` is `FULL_OBJECT`.
    full: bool,
}

/// Parses a ListObjectsV2 answer into entries as `listing::s3_entry` makes them from the
/// SDK's output: ETag without quotes, LastModified in seconds, and the checksum algorithm
/// only for full-object checksums. Anything unexpected is a miss (the page is then listed by
/// the SDK).
pub fn parse_list(xml: &[u8]) -> Result<ListPage, Miss> {
    let bad = |what: &str| Miss(format!("ListObjectsV2 answer: {what}"));
    let text = std::str::from_utf8(xml).map_err(|_| bad("not UTF-8"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut raw = String::new();
    let mut page = ListPage {
        entries: Vec::new(),
        truncated: false,
        next_token: None,
    };
    let mut url_encoded = false;
    let mut key_count: Option<usize> = None;
    let mut truncated: Option<bool> = None;
    let mut cur: Option<Listed> = None;
    loop {
        match reader.read_event().map_err(|e| bad(&e.to_string()))? {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                // Anything but a listing (an error document, a proxy's page) is a miss.
                if path.is_empty() && name != b"ListBucketResult" {
                    return Err(bad("not a ListBucketResult"));
                }
                if path.len() == 1 && name == b"Contents" {
                    cur = Some(Listed::default());
                }
                path.push(name);
                raw.clear();
            }
            Event::Text(t) => raw.push_str(&t.decode().map_err(|_| bad("text"))?),
            Event::GeneralRef(r) => {
                raw.push('&');
                raw.push_str(&r.decode().map_err(|_| bad("a reference"))?);
                raw.push(';');
            }
            Event::End(_) => {
                let value = || {
                    quick_xml::escape::unescape(&raw)
                        .map(|v| v.into_owned())
                        .map_err(|_| bad("an entity"))
                };
                let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
                match names.as_slice() {
                    [_, b"IsTruncated"] => {
                        truncated = Some(match value()?.trim() {
                            "true" => true,
                            "false" => false,
                            _ => return Err(bad("IsTruncated")),
                        })
                    }
                    [_, b"KeyCount"] => {
                        key_count = Some(value()?.trim().parse().map_err(|_| bad("KeyCount"))?)
                    }
                    [_, b"NextContinuationToken"] => page.next_token = Some(value()?),
                    [_, b"EncodingType"] => url_encoded = value()? == "url",
                    [_, b"Contents", field] => {
                        let c = cur
                            .as_mut()
                            .ok_or_else(|| bad("a field outside Contents"))?;
                        match *field {
                            b"Key" => c.key = Some(value()?),
                            b"Size" => {
                                c.size = Some(value()?.trim().parse().map_err(|_| bad("Size"))?)
                            }
                            b"ETag" => c.etag = Some(value()?.trim_matches('"').to_owned()),
                            b"LastModified" => {
                                c.modified = chrono::DateTime::parse_from_rfc3339(value()?.trim())
                                    .map_err(|_| bad("LastModified"))?
                                    .timestamp()
                            }
                            b"ChecksumAlgorithm" if c.alg.is_none() => c.alg = Some(value()?),
                            b"ChecksumType" => c.full = value()? == "FULL_OBJECT",
                            _ => {}
                        }
                    }
                    [_, b"Contents"] => {
                        let Listed {
                            key,
                            size,
                            etag,
                            modified,
                            alg,
                            full,
                        } = cur.take().ok_or_else(|| bad("Contents"))?;
                        page.entries.push(Entry {
                            key: key.ok_or_else(|| bad("Contents without a Key"))?,
                            size: size.unwrap_or(0),
                            etag,
                            modified,
                            checksum: None,
                            checksum_alg: if full { alg } else { None },
                        });
                    }
                    _ => {}
                }
                path.pop();
                raw.clear();
            }
            Event::Empty(e)
                if path.len() == 2
                    && path[1] == b"Contents"
                    && e.local_name().as_ref() == b"Key" =>
            {
                return Err(bad("an empty Key"));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(bad("cut short"));
    }
    // A page is used only when it is whole and says so: as many keys as its KeyCount (no
    // delimiter is sent, so there are no common prefixes to count), IsTruncated given, a
    // token when truncated, and the keys URL-encoded as asked. Anything else is listed by
    // the SDK, so that a listing never ends early or reads keys differently without an error.
    if key_count != Some(page.entries.len()) {
        return Err(bad("KeyCount missing or different from the keys read"));
    }
    page.truncated = truncated.ok_or_else(|| bad("no IsTruncated"))?;
    if page.truncated && page.next_token.is_none() {
        return Err(bad("truncated without a NextContinuationToken"));
    }
    if !url_encoded {
        return Err(bad("keys not URL-encoded (no EncodingType url)"));
    }
    for e in &mut page.entries {
        e.key = decode_url_key(&e.key)?;
    }
    Ok(page)
}

/// Signs `req` in place with SigV4 for S3, payload unsigned (the checksum header protects
/// the body; the SDK path sends small bodies the same way).
fn sign_request(
    req: &mut http::Request<SdkBody>,
    credentials: &Credentials,
    region: &str,
) -> Result<(), Miss> {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(SystemTime::now())
        .settings(s3_signing_settings())
        .build()
        .map_err(|e| Miss(format!("signing: {e}")))?
        .into();
    let uri = req.uri().to_string();
    // Every header sent is signed; one that is not plain text (the SDK path could not read
    // it either) is left to the SDK path.
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect::<Option<Vec<(&str, &str)>>>()
        .ok_or_else(|| Miss("a header value that is not plain text".into()))?;
    let signable = SignableRequest::new(
        req.method().as_str(),
        uri.as_str(),
        headers.into_iter(),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| Miss(format!("signing: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Miss(format!("signing: {e}")))?
        .into_parts();
    let (add, _query) = instructions.into_parts();
    for h in add {
        let name = HeaderName::from_static(h.name());
        let mut value = HeaderValue::from_str(h.value())
            .map_err(|_| Miss("a credential that is not a valid header value".into()))?;
        value.set_sensitive(h.sensitive());
        req.headers_mut().insert(name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_like_the_sdk_encodes_greedy_labels() {
        assert_eq!(
            encode_key("a/b c/ü+&=?#%"),
            "a/b%20c/%C3%BC%2B%26%3D%3F%23%25"
        );
        assert_eq!(encode_key("x-_.~/"), "x-_.~/");
    }

    #[test]
    fn list_answers_parse_as_the_sdk_reads_them() {
        // Shaped as S3 answers (element order, entities, Owner, RestoreStatus, encoded keys).
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType><Contents><Key>p/a+b%2Bc%26%C3%BC</Key><LastModified>2026-11-22T13:27:00.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType><Size>11</Size><Owner><ID>abc</ID></Owner><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>p/multi</Key><LastModified>2026-11-22T13:27:01.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e-2"</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType><Size>20971520</Size><StorageClass>GLACIER</StorageClass><RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress></RestoreStatus></Contents><Contents><Key>p/%20lead%09tab</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;x&#x22;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>"#;
        let page = parse_list(xml).expect("parses");
        assert!(page.truncated);
        assert_eq!(
            page.next_token.as_deref(),
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        );
        let e = &page.entries;
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].key, "p/a b+c&ü");
        assert_eq!(e[0].size, 11);
        assert_eq!(
            e[0].etag.as_deref(),
            Some("9b2cf535f27731c974343645a3985328")
        );
        assert_eq!(e[0].modified, 1_795_354_020);
        assert_eq!(e[0].checksum_alg.as_deref(), Some("CRC64NVME"));
        assert_eq!(e[1].key, "p/multi");
        assert_eq!(
            e[1].checksum_alg, None,
            "composite checksums are not full-object"
        );
        assert_eq!(
            e[1].etag.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e-2")
        );
        assert_eq!(e[2].key, "p/ lead\ttab");
        assert_eq!(e[2].etag.as_deref(), Some("x"));
        assert_eq!(e[2].modified, 1_255_369_830);

        let last = br#"<ListBucketResult><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType><Contents><Key>a+b%41%20%26%20c</Key><Size>1</Size></Contents></ListBucketResult>"#;
        let page = parse_list(last).expect("parses");
        assert_eq!(page.entries[0].key, "a bA & c");
        assert!(!page.truncated);
        assert_eq!(page.next_token, None);

        // Anything malformed is a miss, not a wrong page.
        for bad in [
            &b"<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>"[..],
            b"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
            b"<ListBucketResult><Contents><Key>a</Key>",
            b"<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%FF</Key></Contents></ListBucketResult>",
            b"<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>",
            b"<ListBucketResult><IsTruncated>True</IsTruncated></ListBucketResult>",
            b"<ListBucketResult><KeyCount>2</KeyCount><Contents><Key>a</Key></Contents></ListBucketResult>",
            // Not a listing, or not a whole one: an empty body, an error document, HTML.
            b"",
            b"<Error><Code>SlowDown</Code></Error>",
            b"<html><body>proxy</body></html>",
            b"<ListBucketResult><KeyCount>0</KeyCount><EncodingType>url</EncodingType></ListBucketResult>",
            b"<ListBucketResult><KeyCount>0</KeyCount><IsTruncated/><EncodingType>url</EncodingType></ListBucketResult>",
            b"<ListBucketResult><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType></ListBucketResult>",
            b"<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType></ListBucketResult>",
            // Keys not URL-encoded though asked to be: read as sent they could be wrong.
            b"<ListBucketResult><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>a%20b</Key></Contents></ListBucketResult>",
        ] {
            assert!(parse_list(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn bucket_requests_go_to_the_bucket_url() {
        let t = |base: &str| Target {
            base: base.to_owned(),
            region: "us-east-1".to_owned(),
        };
        assert_eq!(
            t("https://b.s3.us-east-1.amazonaws.com").bucket_uri("list-type=2"),
            "https://b.s3.us-east-1.amazonaws.com/?list-type=2"
        );
        assert_eq!(
            t("http://127.0.0.1:9000/b").bucket_uri("list-type=2"),
            "http://127.0.0.1:9000/b/?list-type=2"
        );
        assert_eq!(encode_query("a b/c+d=é"), "a%20b%2Fc%2Bd%3D%C3%A9");
    }

    #[tokio::test]
    async fn endpoints_follow_the_sdk_rules() {
        let sdk = aws_config::SdkConfig::builder()
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .build();
        let d = Direct::new(&sdk, false).expect("a region");
        let t = d.target("my-bucket").await.expect("plain S3");
        assert_eq!(t.base, "https://my-bucket.s3.eu-west-1.amazonaws.com");
        assert_eq!(t.region, "eu-west-1");
        // Dots make virtual-hosted TLS names invalid: the rules use path style.
        let t = d.target("my.bucket").await.expect("plain S3");
        assert_eq!(t.base, "https://s3.eu-west-1.amazonaws.com/my.bucket");
        // S3 Express directory buckets sign differently: not taken.
        assert!(d.target("data--euw1-az1--x-s3").await.is_none());

        let sdk = aws_config::SdkConfig::builder()
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9000")
            .build();
        let d = Direct::new(&sdk, true).expect("a region");
        let t = d.target("b").await.expect("custom endpoint");
        assert_eq!(t.base, "http://127.0.0.1:9000/b");
    }
}
