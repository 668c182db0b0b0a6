//! Where scenarios run: the in-process emulator, or accounts named in `accounts.toml`
//! (alias → profile, or a role ARN to assume; optional region and endpoint). Account IDs and
//! canonical user IDs are resolved with `sts get-caller-identity` and `s3 list-buckets`.
//!
//! ```toml
//! region = "us-east-1"                       # optional, default us-east-1
//! endpoint = "http://127.0.0.1:4566"         # optional, for every account (tests, emulators)
//!
//! [accounts.A]
//! profile = "team-a-admin"
//!
//! [accounts.B]
//! role_arn = "arn:aws:iam::222222222222:role/ferry-check"   # assumed from the default chain
//! profile = "hub"                            # optional: the credentials that assume it
//! external_id = "..."                        # optional
//!
//! [principals.AccountAReader]                # existing identities for @verify scenarios
//! account = "A"
//! profile = "a-reader"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::Region;

/// `--target`.
#[derive(Clone, Debug)]
pub enum Target {
    /// A fresh in-process emulator per scenario (the default world's accounts A, B, C).
    Emulator,
    /// Real accounts (or any endpoint speaking AWS's protocols) named in an accounts file.
    Aws {
        accounts: PathBuf,
        /// Overrides every account's endpoint.
        endpoint: Option<String>,
    },
}

/// One identity in `accounts.toml`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityDef {
    /// The account alias (only for `[principals.*]`).
    pub account: Option<String>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// `accounts.toml`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsFile {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    #[serde(default)]
    pub accounts: BTreeMap<String, IdentityDef>,
    #[serde(default)]
    pub principals: BTreeMap<String, IdentityDef>,
}

impl AccountsFile {
    pub fn parse(text: &str, path: &str) -> Result<AccountsFile, String> {
        let file: AccountsFile = toml::from_str(text).map_err(|e| format!("`{path}`: {e}"))?;
        if file.accounts.is_empty() {
            return Err(format!(
                "`{path}`: no [accounts.ALIAS] table (each alias needs a profile or a role_arn)"
            ));
        }
        for (alias, a) in &file.accounts {
            if a.profile.is_none() && a.role_arn.is_none() {
                return Err(format!(
                    "`{path}`: account `{alias}` needs `profile` or `role_arn`"
                ));
            }
            if a.account.is_some() {
                return Err(format!(
                    "`{path}`: account `{alias}`: `account` belongs in [principals.*]"
                ));
            }
        }
        for (name, p) in &file.principals {
            match &p.account {
                Some(a) if file.accounts.contains_key(a) => {}
                Some(a) => {
                    return Err(format!(
                    "`{path}`: principal `{name}` names account `{a}`, which is not in [accounts]"
                ))
                }
                None => return Err(format!("`{path}`: principal `{name}` needs `account`")),
            }
            if p.profile.is_none() && p.role_arn.is_none() {
                return Err(format!(
                    "`{path}`: principal `{name}` needs `profile` or `role_arn`"
                ));
            }
        }
        Ok(file)
    }
}

/// An account of the accounts file, resolved.
#[derive(Clone, Debug)]
pub struct AwsAccount {
    /// With the account's administrator credentials.
    pub sdk: SdkConfig,
    pub endpoint: Option<String>,
    pub id: String,
    pub canonical: String,
}

/// The target, ready to run.
#[derive(Clone, Debug)]
pub enum Resolved {
    Emulator {
        /// Region and HTTP client for every client of every scenario (endpoint per scenario).
        base: Box<SdkConfig>,
    },
    Aws {
        accounts: BTreeMap<String, AwsAccount>,
        principals: BTreeMap<String, (String, SdkConfig)>,
    },
}

impl Resolved {
    pub fn is_aws(&self) -> bool {
        matches!(self, Resolved::Aws { .. })
    }

    /// Every account has a custom endpoint (an emulator or another S3-compatible store).
    pub fn has_endpoint_override(&self) -> bool {
        match self {
            Resolved::Emulator { .. } => true,
            Resolved::Aws { accounts, .. } => accounts.values().all(|a| a.endpoint.is_some()),
        }
    }
}

/// The emulator's placeholder credentials for the base config (every client gets its own).
fn nobody() -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
        "AKIANOBODY0000000000",
        "nobody",
        None,
        None,
        "ferry-check",
    ))
}

async fn load(def: &IdentityDef, file: &AccountsFile, endpoint: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &def.profile {
        loader = loader.profile_name(p);
    }
    let region = def
        .region
        .clone()
        .or_else(|| file.region.clone())
        .unwrap_or_else(|| "us-east-1".to_owned());
    loader = loader.region(Region::new(region));
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    let mut sdk = loader.load().await;
    if let Some(role) = &def.role_arn {
        let mut provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name(format!("ferry-check-{}", std::process::id()))
            .configure(&sdk);
        if let Some(ext) = &def.external_id {
            provider = provider.external_id(ext);
        }
        let provider = provider.build().await;
        sdk = sdk
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }
    sdk
}

/// Reads the accounts file and resolves every account's ID and canonical user ID.
pub async fn resolve(target: &Target) -> Result<Resolved, String> {
    match target {
        Target::Emulator => {
            // Built directly, not by aws_config's loader: nothing of the user's AWS
            // configuration applies to the emulator, and one plain-HTTP client serves every SDK
            // client of the run (the loader's default HTTPS client would load TLS roots).
            let base = SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .http_client(aws_smithy_http_client::Builder::new().build_http())
                .region(Region::new("us-east-1"))
                .credentials_provider(nobody())
                .endpoint_url("http://127.0.0.1:9")
                .build();
            Ok(Resolved::Emulator {
                base: Box::new(base),
            })
        }
        Target::Aws { accounts, endpoint } => {
            let shown = accounts.display().to_string();
            let text = std::fs::read_to_string(accounts)
                .map_err(|e| format!("cannot read accounts file `{shown}`: {e}"))?;
            let file = AccountsFile::parse(&text, &shown)?;
            let mut resolved = BTreeMap::new();
            for (alias, def) in &file.accounts {
                let ep = endpoint
                    .clone()
                    .or_else(|| def.endpoint.clone())
                    .or_else(|| file.endpoint.clone());
                let sdk = load(def, &file, ep.as_deref()).await;
                let (id, canonical) = identify(alias, &sdk, ep.is_some()).await?;
                resolved.insert(
                    alias.clone(),
                    AwsAccount {
                        sdk,
                        endpoint: ep,
                        id,
                        canonical,
                    },
                );
            }
            let mut principals = BTreeMap::new();
            for (name, def) in &file.principals {
                let alias = def.account.clone().unwrap_or_default();
                let ep = endpoint
                    .clone()
                    .or_else(|| def.endpoint.clone())
                    .or_else(|| file.endpoint.clone());
                let sdk = load(def, &file, ep.as_deref()).await;
                principals.insert(name.clone(), (alias, sdk));
            }
            Ok(Resolved::Aws {
                accounts: resolved,
                principals,
            })
        }
    }
}

/// S3 client of a config (path-style when an endpoint is overridden).
pub fn s3_client(sdk: &SdkConfig, custom_endpoint: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(custom_endpoint)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn identify(alias: &str, sdk: &SdkConfig, custom: bool) -> Result<(String, String), String> {
    let sts = aws_sdk_sts::Client::new(sdk);
    let who = sts.get_caller_identity().send().await.map_err(|e| {
        format!(
            "account `{alias}`: sts get-caller-identity failed: {}",
            crate::copy::engine::describe(&e)
        )
    })?;
    let id = who.account().unwrap_or_default().to_owned();
    let s3 = s3_client(sdk, custom);
    let owner = s3.list_buckets().send().await.map_err(|e| {
        format!(
            "account `{alias}`: s3 list-buckets (for the canonical user ID) failed: {}",
            crate::copy::engine::describe(&e)
        )
    })?;
    let canonical = owner
        .owner()
        .and_then(|o| o.id())
        .map(str::to_owned)
        .ok_or_else(|| format!("account `{alias}`: list-buckets returned no owner ID"))?;
    Ok((id, canonical))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_file_errors_name_the_problem() {
        let ok = AccountsFile::parse(
            "[accounts.A]\nprofile = \"a\"\n[principals.r]\naccount = \"A\"\nprofile = \"r\"\n",
            "x",
        )
        .unwrap();
        assert_eq!(ok.accounts.len(), 1);
        let cases = [
            ("", "no [accounts.ALIAS]"),
            ("[accounts.A]\n", "needs `profile` or `role_arn`"),
            ("[accounts.A]\nprofil = \"a\"\n", "unknown field `profil`"),
            (
                "[accounts.A]\nprofile = \"a\"\n[principals.r]\naccount = \"B\"\nprofile = \"r\"\n",
                "not in [accounts]",
            ),
            ("[accounts.A\n", "`x`"),
        ];
        for (text, want) in cases {
            let err = AccountsFile::parse(text, "x").unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
