//! The cucumber World of one scenario: the accounts it declared, its named principals (an
//! account's administrator, IAM users with access keys, role sessions), the resources it
//! created under logical names, and the outcome of its last action.
//!
//! Every resource a scenario creates gets the scenario's unique `${run}` suffix (buckets
//! `NAME-RUN`, IAM users/roles/policies `NAME-RUN`), so the same feature text runs on a fresh
//! emulator and on shared real accounts. Placeholders in step arguments and docstrings:
//! `${A}` (account ID of alias A), `${canonical:A}`, `${run}`, `${bucket}` (the last bucket
//! declared), `${bucket:NAME}`, `${name:NAME}` (any resource's real name), `${user:NAME}`,
//! `${role:NAME}`, `${policy:NAME}` (ARNs), `${session:NAME}` (a session's ARN). IAM policy
//! variables (`${aws:username}`) are left alone.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use cucumber::gherkin;

use super::accounts::{self, Resolved};
use super::cleanup::Resource;
use super::Env;
use crate::emu::{self, server, Emulator};

/// Stops the scenario with a message: cucumber reports a step's failure as a panic.
#[expect(clippy::panic, reason = "cucumber reports a failed step as a panic")]
pub fn fail(message: impl fmt::Display) -> ! {
    panic!("{message}")
}

/// An account the scenario declared.
#[derive(Clone, Debug)]
pub struct Account {
    pub alias: String,
    pub id: String,
    pub canonical: String,
    /// Region, endpoint and HTTP client; the administrator's credentials.
    pub sdk: SdkConfig,
    pub custom_endpoint: bool,
    /// The endpoint override, if any (the emulator's, or the accounts file's).
    pub endpoint: Option<String>,
}

/// A named identity that steps act as.
#[derive(Clone, Debug)]
pub struct Principal {
    pub account: String,
    pub creds: SharedCredentialsProvider,
    /// Known for sessions and users the scenario created.
    pub arn: Option<String>,
}

/// An S3, STS and IAM client with one identity.
#[derive(Clone, Debug)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
}

/// An IAM entity the scenario created or named.
#[derive(Clone, Debug)]
pub struct IamEntity {
    pub account: String,
    pub name: String,
    pub arn: String,
}

/// A bucket the scenario created or named.
#[derive(Clone, Debug)]
pub struct BucketRef {
    pub account: String,
    pub name: String,
}

/// A failed call, as AWS answered it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub code: String,
    pub message: String,
    pub status: u16,
}

/// What a successful action returned, for the `Then` steps that look at it.
#[derive(Clone, Debug, Default)]
pub enum Output {
    #[default]
    Nothing,
    Body(bytes::Bytes),
    Keys(Vec<String>),
    Acl {
        owner: String,
        /// (grantee canonical ID or group URI, permission)
        grants: Vec<(String, String)>,
    },
    Arn(String),
    Text(String),
}

/// The last action and how it went.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `"bob": s3:GetObject s3://bucket/key`.
    pub what: String,
    pub result: Result<Output, Failure>,
    /// The emulator's decisions during the action: (after seq, up to seq).
    pub decisions: Option<(u64, u64)>,
}

/// The World.
#[derive(Default)]
pub struct FerryWorld {
    pub env: Option<Arc<Env>>,
    pub id: u64,
    pub run: String,
    pub emu: Option<server::Running>,
    /// The emulator world's accounts (emulator target): alias -> (id, key, secret).
    emu_accounts: BTreeMap<String, (String, String, String)>,
    /// The emulator world's users with keys (for `Given the existing principal`).
    emu_users: BTreeMap<String, (String, String, String)>,
    pub accounts: BTreeMap<String, Account>,
    pub principals: HashMap<String, Principal>,
    pub buckets: HashMap<String, BucketRef>,
    pub last_bucket: Option<String>,
    pub users: HashMap<String, IamEntity>,
    pub roles: HashMap<String, IamEntity>,
    pub policies: HashMap<String, IamEntity>,
    pub last: Option<Outcome>,
    pending_decisions: u64,
    /// An IAM change since the last action (see [`FerryWorld::changed`]).
    unsettled: bool,
    /// Clients per principal name (building SDK clients is not free).
    clients: std::cell::RefCell<HashMap<String, Clients>>,
}

impl fmt::Debug for FerryWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No credentials: principals by name only.
        let mut names: Vec<&String> = self.principals.keys().collect();
        names.sort();
        f.debug_struct("FerryWorld")
            .field("run", &self.run)
            .field("accounts", &self.accounts.keys().collect::<Vec<_>>())
            .field("principals", &names)
            .field("buckets", &self.buckets)
            .finish_non_exhaustive()
    }
}

impl cucumber::World for FerryWorld {
    type Error = std::convert::Infallible;

    async fn new() -> Result<Self, Self::Error> {
        Ok(FerryWorld::default())
    }
}

fn run_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..8)
        .map(|_| ALPHABET[(rand::random::<u32>() as usize) % ALPHABET.len()] as char)
        .collect()
}

impl FerryWorld {
    pub fn env(&self) -> &Arc<Env> {
        match &self.env {
            Some(e) => e,
            None => fail("the scenario was not set up (internal error: no before hook ran)"),
        }
    }

    /// Before the first step: the run suffix, and on the emulator target a fresh emulator
    /// (the default world, or `scenarios/NAME.toml` for a scenario tagged `@world:NAME`).
    pub async fn start(
        &mut self,
        env: Arc<Env>,
        id: u64,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
    ) {
        self.run = run_suffix();
        self.id = id;
        let emulated = !env.target.is_aws();
        self.env = Some(env);
        if !emulated {
            return;
        }
        let world_tag = feature
            .tags
            .iter()
            .chain(&scenario.tags)
            .find_map(|t| t.strip_prefix("world:"));
        let world = match world_tag {
            None => emu::World::default_world(),
            Some(name) => {
                let Some(dir) = super::scenarios_dir(feature.path.as_deref()) else {
                    fail(format!(
                        "@world:{name}: no scenarios/ directory above the feature file"
                    ))
                };
                match emu::World::load(&dir.join(format!("{name}.toml"))) {
                    Ok(w) => w,
                    Err(e) => fail(format!("@world:{name}: {e}")),
                }
            }
        };
        for a in &world.file.accounts {
            if let (Some(k), Some(s)) = (&a.access_key, &a.secret_key) {
                self.emu_accounts
                    .insert(a.alias.clone(), (a.id.clone(), k.clone(), s.clone()));
            }
            for u in &a.users {
                if let Some(k) = u.access_keys.first() {
                    self.emu_users.insert(
                        u.name.clone(),
                        (a.alias.clone(), k.id.clone(), k.secret.clone()),
                    );
                }
            }
        }
        let options = emu::Options {
            record_decisions: true,
            min_part_size: Some(1024),
            ..emu::Options::default()
        };
        let emulator = match Emulator::new(&world, options) {
            Ok(e) => Arc::new(e),
            Err(e) => fail(format!("the emulator's world does not build: {e}")),
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        match server::start(emulator, addr).await {
            Ok(r) => self.emu = Some(r),
            Err(e) => fail(format!("cannot start the emulator: {e}")),
        }
    }

    /// After the last step (passed or failed): remove what the scenario created.
    pub async fn finish(&mut self) {
        let env = self.env().clone();
        env.cleanup.clean_scenario(self.id, &env.target).await;
        if let Some(r) = self.emu.take() {
            r.shutdown().await;
        }
    }

    /// Declares an account alias: its ID and canonical ID, its administrator as principal
    /// `ALIAS`.
    pub async fn declare_account(&mut self, alias: &str) {
        if self.accounts.contains_key(alias) {
            return;
        }
        let env = self.env().clone();
        let account = match &env.target {
            Resolved::Emulator { base } => {
                let Some((id, key, secret)) = self.emu_accounts.get(alias).cloned() else {
                    fail(format!(
                        "account `{alias}` is not in the emulator's world (it has {})",
                        self.emu_accounts
                            .keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                };
                let endpoint = match &self.emu {
                    Some(r) => r.endpoint(),
                    None => fail("no emulator is running"),
                };
                let creds = static_creds(&key, &secret, None);
                let sdk = base
                    .to_builder()
                    .endpoint_url(endpoint.clone())
                    .credentials_provider(creds)
                    .build();
                // The emulator's accounts are known: no requests needed (the aws target
                // resolves them with get-caller-identity and list-buckets).
                let canonical = match id.parse::<crate::types::AccountId>() {
                    Ok(a) => a.canonical_user_id(),
                    Err(e) => fail(format!("account `{alias}`: {e}")),
                };
                Account {
                    alias: alias.to_owned(),
                    id,
                    canonical,
                    sdk,
                    custom_endpoint: true,
                    endpoint: Some(endpoint),
                }
            }
            Resolved::Aws { accounts, .. } => {
                let Some(a) = accounts.get(alias) else {
                    fail(format!(
                        "account `{alias}` is not in the accounts file (it has {})",
                        accounts
                            .keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                };
                Account {
                    alias: alias.to_owned(),
                    id: a.id.clone(),
                    canonical: a.canonical.clone(),
                    sdk: a.sdk.clone(),
                    custom_endpoint: a.endpoint.is_some(),
                    endpoint: a.endpoint.clone(),
                }
            }
        };
        let creds = match account.sdk.credentials_provider() {
            Some(c) => c,
            None => fail(format!("account `{alias}` has no credentials")),
        };
        self.add_principal(
            alias,
            Principal {
                account: alias.to_owned(),
                creds,
                arn: None,
            },
        );
        self.accounts.insert(alias.to_owned(), account);
    }

    /// An existing identity: a user of the emulator's world file (its first access key), or
    /// `[principals.NAME]` of the accounts file.
    pub fn declare_existing_principal(&mut self, name: &str, alias: &str) {
        let env = self.env().clone();
        let p = match &env.target {
            Resolved::Emulator { .. } => {
                let Some((acct, key, secret)) = self.emu_users.get(name).cloned() else {
                    fail(format!(
                        "the emulator's world has no user `{name}` with an access key"
                    ))
                };
                if acct != alias {
                    fail(format!(
                        "user `{name}` belongs to account `{acct}`, not `{alias}`"
                    ));
                }
                Principal {
                    account: acct,
                    creds: static_creds(&key, &secret, None),
                    arn: None,
                }
            }
            Resolved::Aws { principals, .. } => {
                let Some((acct, sdk)) = principals.get(name) else {
                    fail(format!("the accounts file has no [principals.{name}]"))
                };
                if acct != alias {
                    fail(format!(
                        "principal `{name}` belongs to account `{acct}`, not `{alias}`"
                    ));
                }
                let Some(creds) = sdk.credentials_provider() else {
                    fail(format!("principal `{name}` has no credentials"))
                };
                Principal {
                    account: acct.clone(),
                    creds,
                    arn: None,
                }
            }
        };
        self.add_principal(name, p);
    }

    pub fn account(&self, alias: &str) -> &Account {
        match self.accounts.get(alias) {
            Some(a) => a,
            None => fail(format!(
                "account `{alias}` was not declared (add `Given accounts \"{alias}\"`)"
            )),
        }
    }

    pub fn principal(&self, name: &str) -> &Principal {
        match self.principals.get(name) {
            Some(p) => p,
            None => fail(format!(
                "no principal `{name}` (an account alias, a user created with an access key, or a session)"
            )),
        }
    }

    /// Clients acting as a principal.
    pub fn clients(&self, name: &str) -> Clients {
        if let Some(c) = self.clients.borrow().get(name) {
            return c.clone();
        }
        let p = self.principal(name);
        let account = self.account(&p.account);
        let c = clients_for(&account.sdk, p.creds.clone(), account.custom_endpoint);
        self.clients.borrow_mut().insert(name.to_owned(), c.clone());
        c
    }

    /// Forgets a principal (and its cached clients), e.g. a deleted user.
    pub fn forget(&mut self, name: &str) {
        self.principals.remove(name);
        self.clients.borrow_mut().remove(name);
    }

    /// Adds or replaces a principal.
    pub fn add_principal(&mut self, name: &str, p: Principal) {
        self.clients.borrow_mut().remove(name);
        self.principals.insert(name.to_owned(), p);
    }

    /// Clients of an account's administrator.
    pub fn admin(&self, alias: &str) -> Clients {
        let key = format!("\0admin:{alias}");
        if let Some(c) = self.clients.borrow().get(&key) {
            return c.clone();
        }
        let account = self.account(alias);
        let Some(creds) = account.sdk.credentials_provider() else {
            fail(format!("account `{alias}` has no credentials"))
        };
        let c = clients_for(&account.sdk, creds, account.custom_endpoint);
        self.clients.borrow_mut().insert(key, c.clone());
        c
    }

    /// Refuses steps that create resources under `--no-provision`.
    pub fn provisioning(&self, what: &str) {
        if self.env().no_provision {
            fail(format!(
                "`{what}` creates a resource, which --no-provision forbids (@verify scenarios only check what exists)"
            ));
        }
    }

    /// Records a created resource for removal after the scenario (real accounts only: an
    /// emulator is dropped with everything in it).
    pub fn created(&self, r: Resource) {
        let env = self.env();
        if env.target.is_aws() {
            env.cleanup.add(self.id, r);
        }
    }

    /// `NAME-RUN`, within S3's 63 characters.
    pub fn bucket_name(&self, logical: &str) -> String {
        let max = 63 - self.run.len() - 1;
        let base: String = logical.to_ascii_lowercase().chars().take(max).collect();
        format!("{base}-{}", self.run)
    }

    /// `NAME-RUN`, within IAM's 64 characters.
    pub fn iam_name(&self, logical: &str) -> String {
        let max = 64 - self.run.len() - 1;
        let base: String = logical.chars().take(max).collect();
        format!("{base}-{}", self.run)
    }

    pub fn bucket(&self, logical: &str) -> &BucketRef {
        match self.buckets.get(logical) {
            Some(b) => b,
            None => fail(format!(
                "no bucket `{logical}` (declare it with `Given a bucket \"{logical}\" in account \"A\"`)"
            )),
        }
    }

    /// A role's ARN: a role the scenario created, or an ARN as written.
    pub fn role_arn(&self, name: &str) -> String {
        if name.starts_with("arn:") {
            return name.to_owned();
        }
        match self.roles.get(name) {
            Some(r) => r.arn.clone(),
            None => fail(format!("no role `{name}` (create it, or give its ARN)")),
        }
    }

    /// Replaces the placeholders the scenario knows.
    pub fn expand(&self, text: &str) -> String {
        crate::placeholders::substitute(text, |name| self.lookup(name))
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(a) = self.accounts.get(name) {
            return Some(a.id.clone());
        }
        if name == "run" {
            return Some(self.run.clone());
        }
        if name == "bucket" {
            return self
                .last_bucket
                .as_ref()
                .and_then(|b| self.buckets.get(b))
                .map(|b| b.name.clone());
        }
        let (kind, arg) = name.split_once(':')?;
        match kind {
            "canonical" => self.accounts.get(arg).map(|a| a.canonical.clone()),
            "bucket" => self.buckets.get(arg).map(|b| b.name.clone()),
            "user" => self.users.get(arg).map(|u| u.arn.clone()),
            "role" => self.roles.get(arg).map(|r| r.arn.clone()),
            "policy" => self.policies.get(arg).map(|p| p.arn.clone()),
            "session" => self.principals.get(arg).and_then(|p| p.arn.clone()),
            "name" => self
                .buckets
                .get(arg)
                .map(|b| b.name.clone())
                .or_else(|| self.users.get(arg).map(|u| u.name.clone()))
                .or_else(|| self.roles.get(arg).map(|r| r.name.clone()))
                .or_else(|| self.policies.get(arg).map(|p| p.name.clone())),
            _ => None,
        }
    }

    /// Notes an IAM (or bucket policy) change: on real accounts, the next action waits for it
    /// to propagate ([`super::Env::iam_settle`]).
    pub fn changed(&mut self) {
        self.unsettled = true;
    }

    /// Marks the start of an action (for the emulator's decision record), after waiting for
    /// earlier IAM changes to propagate on real accounts.
    pub async fn begin(&mut self) {
        let settle = self.env().iam_settle;
        if self.unsettled && !settle.is_zero() {
            tokio::time::sleep(settle).await;
        }
        self.unsettled = false;
        self.pending_decisions = self
            .emu
            .as_ref()
            .map(|r| r.emulator.last_decision())
            .unwrap_or(0);
    }

    /// Records the outcome of an action started with [`FerryWorld::begin`].
    pub fn outcome(&mut self, what: String, result: Result<Output, Failure>) {
        let decisions = self
            .emu
            .as_ref()
            .map(|r| (self.pending_decisions, r.emulator.last_decision()));
        self.last = Some(Outcome {
            what,
            result,
            decisions,
        });
    }

    pub fn last(&self) -> &Outcome {
        match &self.last {
            Some(o) => o,
            None => fail("no action ran before this outcome step"),
        }
    }

    /// What the emulator decided during the last action, one line per decision, for failure
    /// messages.
    pub fn explain_last(&self) -> String {
        let (Some(o), Some(r)) = (&self.last, &self.emu) else {
            return String::new();
        };
        let Some((after, upto)) = o.decisions else {
            return String::new();
        };
        let lines: Vec<String> = r
            .emulator
            .decisions_since(after)
            .into_iter()
            .filter(|d| d.seq <= upto)
            .map(|d| {
                let who = if d.principal.is_empty() {
                    "anonymous"
                } else {
                    d.principal.as_str()
                };
                let why = if d.explanation.is_empty() {
                    if d.allowed { "allowed" } else { "denied" }.to_owned()
                } else {
                    d.explanation
                };
                format!("  {} on {} by {who}: {why}", d.action, d.resource)
            })
            .collect();
        if lines.is_empty() {
            "\nthe emulator made no authorization decision for it".to_owned()
        } else {
            format!("\nthe emulator decided:\n{}", lines.join("\n"))
        }
    }
}

pub fn static_creds(key: &str, secret: &str, token: Option<&str>) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        key,
        secret,
        token.map(str::to_owned),
        None,
        "ferry-check",
    ))
}

pub fn clients_for(sdk: &SdkConfig, creds: SharedCredentialsProvider, custom: bool) -> Clients {
    let sdk = sdk.to_builder().credentials_provider(creds).build();
    Clients {
        s3: accounts::s3_client(&sdk, custom),
        sts: aws_sdk_sts::Client::new(&sdk),
        iam: aws_sdk_iam::Client::new(&sdk),
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if self.status != 0 {
            write!(f, " (HTTP {})", self.status)?;
        }
        Ok(())
    }
}

/// The code, message and status of a failed SDK call. A HEAD response has no body, so a bare
/// 403 is reported as `AccessDenied` and a bare 404 as `NotFound`, as the aws CLI does.
pub fn failure<E>(e: &aws_sdk_s3::error::SdkError<E>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_s3::error::SdkError;
    let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    match e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().map(str::to_owned).unwrap_or_else(|| {
                match status {
                    403 => "AccessDenied",
                    404 => "NotFound",
                    _ => "Unknown",
                }
                .to_owned()
            });
            Failure {
                code,
                message: se.err().message().unwrap_or_default().to_owned(),
                status,
            }
        }
        other => {
            let mut message = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                message.push_str(&format!(": {s}"));
                src = s.source();
            }
            Failure {
                code: "RequestFailed".to_owned(),
                message,
                status,
            }
        }
    }
}
