//! A lean request path for the small objects `--mode stream` copies whole.
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
//! It only ever takes the happy path. Any answer other than 200, any transport error or
//! timeout, and anything unusual (an encryption key the caller must supply, a source checksum
//! only the SDK verifies, a header that is not plain text, a body larger than listed) is a
//! [`Miss`]: the caller then copies the object through the SDK client, whose retries,
//! back-off, clock-skew correction and error messages apply as for every other object. GET is
//! safe to repeat and a PUT of the same bytes is too, so a miss never changes the outcome; a
//! PUT that landed but whose answer was lost is written once more by the SDK path (on a
//! versioned bucket, one more noncurrent version). `--sdk-only` turns this path off.

use std::collections::HashMap;
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

/// Percent-encodes a key for a request path, keeping `/`: S3's documented `UriEncode` (every
/// byte but unreserved characters), which is also what the path is signed with.
pub fn encode_key(key: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(key, SET).to_string()
}

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
        self.send(
            credentials,
            Method::GET,
            (bucket, key),
            headers,
            Bytes::new(),
            limit,
        )
        .await
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
        self.send(credentials, Method::PUT, (bucket, key), headers, body, 0)
            .await
    }

    /// Sends one signed request for `bucket`/`key` and reads the answer whole, or misses. The
    /// answer's body may be at most `limit` bytes (by its Content-Length, read before the body).
    async fn send(
        &self,
        credentials: &Credentials,
        method: Method,
        (bucket, key): (&str, &str),
        headers: HeaderMap,
        body: Bytes,
        limit: u64,
    ) -> Result<Answer, Miss> {
        // Headers, body and all: 30 s plus a second per 64 KiB moved. A stalled answer or a
        // slow link hands the object to the SDK path, which has stalled-stream protection.
        let bytes = (body.len() as u64).max(limit);
        let deadline = Duration::from_secs(30 + bytes / 65_536);
        tokio::time::timeout(
            deadline,
            self.exchange(credentials, method, (bucket, key), headers, body, limit),
        )
        .await
        .map_err(|_| Miss(format!("no answer within {deadline:?}")))?
    }

    async fn exchange(
        &self,
        credentials: &Credentials,
        method: Method,
        (bucket, key): (&str, &str),
        headers: HeaderMap,
        body: Bytes,
        limit: u64,
    ) -> Result<Answer, Miss> {
        let target = self
            .target(bucket)
            .await
            .ok_or_else(|| Miss("the endpoint rules give this bucket a special endpoint".into()))?;
        let uri = format!("{}/{}", target.base, encode_key(key));
        let method_has_body = method == Method::PUT;
        let mut req = http::Request::builder()
            .method(method)
            .uri(&uri)
            .body(SdkBody::from(body.clone()))
            .map_err(|e| Miss(format!("building the request: {e}")))?;
        *req.headers_mut() = headers;
        if method_has_body {
            // S3 requires the length of every PUT (411 Length Required), empty ones too.
            req.headers_mut()
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
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
