//! One S3 client per side of a copy, each with its own identity: a profile, an assumed role
//! (with an external ID), a region and an endpoint. Role sessions come from aws-config's
//! assume-role provider, which refreshes them before they expire.
//!
//! [`SourceClient`] and [`DestClient`] are distinct types so the two identities cannot be
//! swapped by accident.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_sdk_s3::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_s3::config::{
    ConfigBag, Credentials, IdentityCache, Intercept, Region, RuntimeComponents,
    SharedCredentialsProvider,
};

use super::limiter::Limiter;

/// How to build one side's identity (all optional: the standard AWS config chain fills in).
#[derive(Clone, Debug, Default)]
pub struct SideConfig {
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// Fixed keys instead of the config chain (tests, the demo, `ferry check`).
    pub credentials: Option<Credentials>,
}

/// The caller identity a side resolved to (sts get-caller-identity).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// An S3 client for one side, with the STS client of the same identity.
#[derive(Clone, Debug)]
pub struct Side {
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub name: &'static str,
    /// The side's credentials, cached here (not in the SDK) so an `ExpiredToken` answer can
    /// drop them and the retry signs with fresh ones.
    pub credentials: Arc<Refreshing>,
    /// Where this side's S3 `503 SlowDown` answers are reported (every attempt, including
    /// the ones the SDK retries by itself).
    pub slowdowns: Arc<SlowDowns>,
    /// The lean request path for small streamed objects (`super::direct`).
    pub direct: Option<Arc<super::direct::Direct>>,
}

/// Credentials with a cache that can be invalidated. Refreshed ahead of expiry by a fifth of
/// their lifetime (at most five minutes), and once after an `ExpiredToken` answer however
/// fresh they looked; concurrent callers wait for one refresh instead of each starting one.
#[derive(Debug)]
pub struct Refreshing {
    inner: SharedCredentialsProvider,
    /// Read on every request (a short, uncontended lock; no await while held).
    cached: Mutex<Option<Arc<Cached>>>,
    /// Held while fetching, so concurrent callers wait for one refresh.
    refreshing: tokio::sync::Mutex<()>,
    refreshes: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
struct Cached {
    credentials: Credentials,
    obtained: Instant,
    obtained_at: SystemTime,
}

impl Cached {
    fn fresh(&self, now: SystemTime) -> bool {
        let Some(expiry) = self.credentials.expiry() else {
            return true;
        };
        let lifetime = expiry
            .duration_since(self.obtained_at)
            .unwrap_or(Duration::ZERO);
        let margin = (lifetime / 5).min(Duration::from_secs(300));
        expiry
            .checked_sub(margin)
            .is_some_and(|refresh_at| now < refresh_at)
    }
}

impl Refreshing {
    pub fn new(inner: SharedCredentialsProvider) -> Refreshing {
        Refreshing {
            inner,
            cached: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            refreshes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn current(&self) -> Option<Arc<Cached>> {
        self.cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The current credentials, refreshed first when they are due.
    pub async fn get(&self) -> provider::Result {
        if let Some(c) = self.current().filter(|c| c.fresh(SystemTime::now())) {
            return Ok(c.credentials.clone());
        }
        let _one = self.refreshing.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(c) = self.current().filter(|c| c.fresh(SystemTime::now())) {
            return Ok(c.credentials.clone());
        }
        let credentials = self.inner.provide_credentials().await?;
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Cached {
            credentials: credentials.clone(),
            obtained: Instant::now(),
            obtained_at: SystemTime::now(),
        }));
        Ok(credentials)
    }

    /// Drops the cached credentials if they were obtained before `attempt_started` (the
    /// request that was refused used them); later ones are already fresh.
    pub async fn invalidate_if_older(&self, attempt_started: Instant) {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if cached
            .as_ref()
            .is_some_and(|c| c.obtained <= attempt_started)
        {
            *cached = None;
        }
    }

    /// How many times credentials were fetched.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The provider the SDK clients see.
#[derive(Debug, Clone)]
struct Handle(Arc<Refreshing>);

impl ProvideCredentials for Handle {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.0.get())
    }
}

/// Counts a side's SlowDown answers and tells the job's [`Limiter`], once one is attached.
#[derive(Debug, Default)]
pub struct SlowDowns {
    limiter: Mutex<Option<Arc<Limiter>>>,
    count: std::sync::atomic::AtomicU64,
}

impl SlowDowns {
    pub fn attach(&self, limiter: Arc<Limiter>) {
        *self.limiter.lock().unwrap_or_else(|p| p.into_inner()) = Some(limiter);
    }

    pub fn count(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn seen(&self) {
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let limiter = self
            .limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(l) = limiter {
            l.slow_down();
        }
    }
}

#[derive(Debug)]
struct SlowDownInterceptor(Arc<SlowDowns>);

impl Intercept for SlowDownInterceptor {
    fn name(&self) -> &'static str {
        "ferry-slowdown"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        if context
            .response()
            .is_some_and(|r| r.status().as_u16() == 503)
        {
            self.0.seen();
        }
        Ok(())
    }
}

/// The side that is read.
#[derive(Clone, Debug)]
pub struct SourceClient(pub Side);
/// The side that is written.
#[derive(Clone, Debug)]
pub struct DestClient(pub Side);

/// Why a side could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{side}: cannot resolve the caller identity ({action}): {message}")]
    Identity {
        side: &'static str,
        action: &'static str,
        message: String,
    },
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (account {})", self.arn, self.account)
    }
}

/// Builds a side's clients.
pub async fn build(name: &'static str, cfg: &SideConfig) -> Side {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &cfg.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &cfg.endpoint {
        loader = loader.endpoint_url(e);
    }
    if let Some(c) = &cfg.credentials {
        loader = loader.credentials_provider(c.clone());
    }
    let mut base = loader.load().await;
    if base.region().is_none() {
        base = base
            .into_builder()
            .region(Region::from_static("us-east-1"))
            .build();
    }
    if let Some(role) = &cfg.role_arn {
        let mut provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name(format!("ferry-{name}-{}", std::process::id()))
            .configure(&base);
        if let Some(ext) = &cfg.external_id {
            provider = provider.external_id(ext);
        }
        let provider = provider.build().await;
        base = base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
    }
    let credentials = Arc::new(Refreshing::new(
        base.credentials_provider()
            .unwrap_or_else(|| SharedCredentialsProvider::new(NoCredentials)),
    ));
    let shared = SharedCredentialsProvider::new(Handle(credentials.clone()));
    let base = base
        .into_builder()
        .credentials_provider(shared)
        .identity_cache(IdentityCache::no_cache())
        .build();
    let slowdowns = Arc::new(SlowDowns::default());
    let mut s3 = aws_sdk_s3::config::Builder::from(&base)
        .interceptor(SlowDownInterceptor(slowdowns.clone()));
    // Custom endpoints (emulators, S3-compatible stores) rarely resolve BUCKET.host.
    let path_style = cfg.endpoint.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
    if path_style {
        s3 = s3.force_path_style(true);
    }
    Side {
        direct: super::direct::Direct::new(&base, path_style).map(Arc::new),
        s3: aws_sdk_s3::Client::from_conf(s3.build()),
        sts: aws_sdk_sts::Client::new(&base),
        name,
        credentials,
        slowdowns,
    }
}

/// Stands in when the config chain found no credentials, so the first call fails with the
/// chain's usual message instead of ferry failing to build a client.
#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no credentials found: set a profile (--source-profile/--dest-profile, AWS_PROFILE), environment variables or another source of the AWS config chain",
        )))
    }
}

impl Side {
    /// Resolves the identity (the first call that needs credentials: errors here are
    /// configuration errors).
    pub async fn identity(&self) -> Result<Identity, ClientError> {
        let out =
            self.sts
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| ClientError::Identity {
                    side: self.name,
                    action: "sts:GetCallerIdentity",
                    message: super::engine::describe(&e),
                })?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
        })
    }
}
