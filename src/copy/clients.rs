//! One S3 client per side of a copy, each with its own identity: a profile, an assumed role
//! (with an external ID), a region and an endpoint. Role sessions come from aws-config's
//! assume-role provider, which refreshes them before they expire.
//!
//! [`SourceClient`] and [`DestClient`] are distinct types so the two identities cannot be
//! swapped by accident.

use std::fmt;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::Region;

/// How to build one side's identity (all optional: the standard AWS config chain fills in).
#[derive(Clone, Debug, Default)]
pub struct SideConfig {
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
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
    let mut s3 = aws_sdk_s3::config::Builder::from(&base);
    if cfg.endpoint.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        // Custom endpoints (emulators, S3-compatible stores) rarely resolve BUCKET.host.
        s3 = s3.force_path_style(true);
    }
    Side {
        s3: aws_sdk_s3::Client::from_conf(s3.build()),
        sts: aws_sdk_sts::Client::new(&base),
        name,
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
