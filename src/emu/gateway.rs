//! The front door: routes each HTTP request by the service in its SigV4 credential scope.
//!
//! `iam` and `sts` go to the query-protocol handlers (with our own SigV4 check, since `s3s`
//! accepts only `s3`/`sts` scopes and answers STS errors in S3's XML shape); everything else
//! goes to the `s3s` service. Fault injection (`--faults`) happens here, for S3 requests.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;

use super::query::{self, Params, QueryError};
use super::sigv4::{self, SignedRequest};
use super::state::KeyError;
use super::{iam, ids, sts, Emulator, RequestMeta};

/// Largest query-protocol body accepted (IAM policy documents are the biggest inputs).
const MAX_QUERY_BODY: usize = 1024 * 1024;

/// A cloneable request handler for one emulator.
#[derive(Clone)]
pub struct Gateway {
    emu: Arc<Emulator>,
    s3: s3s::service::S3Service,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

/// Which API a request is for.
#[derive(Debug, PartialEq, Eq)]
enum Api {
    S3,
    Sts,
    Iam,
}

fn scope_service(req: &Request<hyper::body::Incoming>) -> Option<std::borrow::Cow<'_, str>> {
    if let Some(auth) = req.headers().get(http::header::AUTHORIZATION) {
        let auth = auth.to_str().ok()?;
        let cred = auth.split("Credential=").nth(1)?;
        let scope = cred.split([',', ' ']).next()?;
        return scope.split('/').nth(3).map(std::borrow::Cow::Borrowed);
    }
    let q = req.uri().query()?;
    for pair in q.split('&') {
        if let Some(v) = pair.strip_prefix("X-Amz-Credential=") {
            let decoded = query::form_decode(v.as_bytes());
            return decoded
                .split('/')
                .nth(3)
                .map(|s| std::borrow::Cow::Owned(s.to_owned()));
        }
    }
    None
}

fn route(req: &Request<hyper::body::Incoming>) -> Api {
    match scope_service(req).as_deref() {
        Some("iam") => Api::Iam,
        Some("sts") => Api::Sts,
        Some(_) => Api::S3,
        None => {
            // Unsigned query-protocol calls: POST / with a form body, or GET /?Action=...
            let form = req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            let action_query =
                req.uri().path() == "/" && req.uri().query().is_some_and(|q| q.contains("Action="));
            if (req.method() == http::Method::POST && req.uri().path() == "/" && form)
                || action_query
            {
                Api::Sts
            } else {
                Api::S3
            }
        }
    }
}

fn xml_response(status: u16, body: String) -> Response<s3s::Body> {
    let mut resp = Response::new(s3s::Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    resp
}

/// Joins repeated values of a header into one, comma-separated, as HTTP defines them to mean
/// (and as SigV4 canonicalizes them, so signatures still match). SDKs send
/// `Content-Encoding: aws-chunked` beside the object's own encoding; S3 accepts both lines,
/// while `s3s` refuses a repeated header.
fn merge_repeated(headers: &mut http::HeaderMap, name: http::header::HeaderName) {
    let values: Vec<http::HeaderValue> = headers.get_all(&name).iter().cloned().collect();
    if values.len() < 2 {
        return;
    }
    let joined: Vec<u8> = values
        .iter()
        .map(|v| v.as_bytes())
        .collect::<Vec<_>>()
        .join(&b","[..]);
    if let Ok(v) = http::HeaderValue::from_bytes(&joined) {
        headers.insert(name, v);
    }
}

/// The object's own content encoding: S3 removes `aws-chunked` (the transfer's encoding) from
/// what it stores.
pub fn stored_content_encoding(value: Option<&str>) -> Option<String> {
    let kept: Vec<&str> = value?
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

/// An S3-shaped error response (used for injected faults).
fn s3_error(status: u16, code: &str, message: &str) -> Response<s3s::Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
        query::escape(message),
        ids::request_id()
    );
    xml_response(status, body)
}

impl Gateway {
    /// A gateway serving `emu`.
    pub fn new(emu: Arc<Emulator>) -> Gateway {
        let s3 = super::s3::service(emu.clone());
        Gateway { emu, s3 }
    }

    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emu
    }

    /// Handles one request. `Err` closes the connection without a response.
    pub async fn handle(
        self,
        mut req: Request<hyper::body::Incoming>,
        remote: SocketAddr,
    ) -> Result<Response<s3s::Body>, std::io::Error> {
        let meta = RequestMeta {
            source_ip: Some(remote.ip()),
            secure_transport: false,
        };
        match route(&req) {
            Api::Iam => Ok(self.query(req, "iam", meta).await),
            Api::Sts => Ok(self.query(req, "sts", meta).await),
            Api::S3 => {
                let faults = &self.emu.options.faults;
                if faults.any() {
                    if !faults.latency.is_zero() {
                        tokio::time::sleep(faults.latency).await;
                    }
                    let roll: f64 = rand::random::<f64>();
                    if roll < faults.drop_connection {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "injected fault: connection dropped",
                        ));
                    }
                    if roll < faults.drop_connection + faults.slow_down {
                        return Ok(s3_error(
                            503,
                            "SlowDown",
                            "Please reduce your request rate.",
                        ));
                    }
                    if roll < faults.drop_connection + faults.slow_down + faults.internal_error {
                        return Ok(s3_error(
                            500,
                            "InternalError",
                            "We encountered an internal error. Please try again.",
                        ));
                    }
                    let temporary = req.headers().contains_key("x-amz-security-token")
                        || req
                            .uri()
                            .query()
                            .is_some_and(|q| q.contains("X-Amz-Security-Token="));
                    if temporary && rand::random::<f64>() < faults.expired_token {
                        return Ok(s3_error(
                            400,
                            "ExpiredToken",
                            "The provided token has expired.",
                        ));
                    }
                }
                req.extensions_mut().insert(meta);
                merge_repeated(req.headers_mut(), http::header::CONTENT_ENCODING);
                let req = req.map(s3s::Body::from);
                match self.s3.call(req).await {
                    Ok(resp) => Ok(resp),
                    Err(e) => {
                        tracing::warn!("s3 request failed: {e:?}");
                        Ok(s3_error(
                            500,
                            "InternalError",
                            "We encountered an internal error. Please try again.",
                        ))
                    }
                }
            }
        }
    }

    async fn query(
        &self,
        req: Request<hyper::body::Incoming>,
        service: &str,
        meta: RequestMeta,
    ) -> Response<s3s::Body> {
        let namespace = if service == "iam" {
            iam::NAMESPACE
        } else {
            sts::NAMESPACE
        };
        let request_id = ids::request_id();
        let result = self.query_inner(req, service, meta).await;
        match result {
            Ok((action, body)) => {
                xml_response(200, query::response(&action, namespace, &body, &request_id))
            }
            Err(e) => xml_response(e.status, e.to_xml(namespace, &request_id)),
        }
    }

    async fn query_inner(
        &self,
        req: Request<hyper::body::Incoming>,
        service: &str,
        meta: RequestMeta,
    ) -> Result<(String, String), QueryError> {
        let (mut parts, body) = req.into_parts();
        // HTTP/2 carries the host in the URI authority, not a header; SigV4 signs `host`.
        if !parts.headers.contains_key(http::header::HOST) {
            if let Some(v) = parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            {
                parts.headers.insert(http::header::HOST, v);
            }
        }
        let body: Bytes = http_body_util::Limited::new(body, MAX_QUERY_BODY)
            .collect()
            .await
            .map_err(|_| {
                QueryError::sender(
                    "InvalidRequest",
                    "the request body is too large or was cut short",
                )
            })?
            .to_bytes();
        let query_str = parts.uri.query().unwrap_or("");
        let params = Params::parse(&[query_str.as_bytes(), &body]);
        let action = params
            .get("Action")
            .ok_or_else(|| QueryError::sender("MissingAction", "Missing Action"))?
            .to_owned();
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: query_str,
            headers: &parts.headers,
            body: &body,
        };
        let invalid_token = || {
            QueryError::new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        };
        let cred = sigv4::parse_credential(&signed)
            .map_err(|e| QueryError::new(e.status(), e.code(), e.to_string()))?
            .ok_or_else(|| {
                QueryError::new(
                    403,
                    "MissingAuthenticationToken",
                    "Request is missing Authentication Token",
                )
            })?;
        let now = self.emu.now();
        let (secret, caller) = {
            let st = self.emu.read();
            let key = st.key(&cred.access_key, now).map_err(|e| match e {
                KeyError::Expired => QueryError::sender(
                    "ExpiredToken",
                    "The security token included in the request is expired",
                ),
                KeyError::Unknown | KeyError::Inactive => invalid_token(),
            })?;
            let secret = key.secret.clone();
            let caller = self
                .emu
                .caller(&st, &cred.access_key, now)
                .map_err(|_| invalid_token())?;
            (secret, caller)
        };
        let token = sigv4::verify(&signed, &secret, now.into())
            .map_err(|e| QueryError::new(e.status(), e.code(), e.to_string()))?;
        if let Some(expected) = &caller.token {
            if token.as_deref() != Some(expected.as_str()) {
                return Err(invalid_token());
            }
        }
        // Credentials from GetSessionToken (without MFA) may not call IAM, nor STS beyond
        // AssumeRole and GetCallerIdentity.
        if caller.session_token_credentials {
            let allowed =
                service == "sts" && matches!(action.as_str(), "AssumeRole" | "GetCallerIdentity");
            if !allowed {
                return Err(QueryError::access_denied(format!(
                    "User: {} is not authorized to perform: {service}:{action} with credentials from GetSessionToken without MFA",
                    caller.principal.arn
                )));
            }
        }
        let out = if service == "iam" {
            iam::handle(&self.emu, &caller, &action, &params, &meta)?
        } else {
            sts::handle(&self.emu, &caller, &action, &params, &meta)?
        };
        Ok((action, out))
    }
}
