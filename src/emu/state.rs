//! The emulator's in-memory world: accounts, IAM entities, access keys and sessions, buckets
//! and objects. Plain data plus the invariants that keep it consistent (unique names, keys that
//! point at existing identities); no HTTP, no authorization decisions.
//!
//! Object bodies are `bytes::Bytes`, shared rather than copied between the store and responses.
//! The whole state sits behind one `RwLock` in [`super::Emulator`]; no lock is held across an
//! `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use super::acl::{Acl, ObjectOwnership};
use super::ids;
use crate::policy::{Policy, PolicyError, PolicyKind, Principal};
use crate::types::AccountId;

/// A policy document as written (returned verbatim by Get* calls) and as parsed.
#[derive(Clone, Debug)]
pub struct StoredPolicy {
    pub text: String,
    pub parsed: Arc<Policy>,
}

impl StoredPolicy {
    pub fn parse(text: &str, kind: PolicyKind) -> Result<StoredPolicy, PolicyError> {
        let parsed = crate::policy::parse(text, kind)?;
        Ok(StoredPolicy {
            text: text.to_owned(),
            parsed: Arc::new(parsed),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: AccountId,
    pub alias: String,
    pub canonical_id: String,
    pub root_key: String,
    pub users: BTreeMap<String, User>,
    pub roles: BTreeMap<String, Role>,
    /// Customer managed policies by name.
    pub policies: BTreeMap<String, ManagedPolicy>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: SystemTime,
    pub inline: BTreeMap<String, StoredPolicy>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
    pub boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: SystemTime,
    pub trust: StoredPolicy,
    pub inline: BTreeMap<String, StoredPolicy>,
    pub attached: Vec<String>,
    pub boundary: Option<String>,
    pub max_session_duration: u32,
    pub description: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: SystemTime,
    pub document: StoredPolicy,
    pub description: Option<String>,
}

/// What an access key belongs to.
#[derive(Clone, Debug)]
pub enum KeyOwner {
    Root(AccountId),
    User { account: AccountId, user: String },
    Session(Arc<Session>),
}

#[derive(Clone, Debug)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub owner: KeyOwner,
    pub active: bool,
    pub created: SystemTime,
}

/// Temporary credentials issued by STS.
#[derive(Clone, Debug)]
pub struct Session {
    pub account: AccountId,
    pub kind: SessionKind,
    pub token: String,
    pub expires: SystemTime,
    /// Session policies passed to AssumeRole (inline as `session-policy`, managed by ARN).
    pub policies: Vec<(String, Arc<Policy>)>,
    /// Issued by AssumeRole called with role-session credentials.
    pub chained: bool,
}

#[derive(Clone, Debug)]
pub enum SessionKind {
    Role {
        role_name: String,
        role_path: String,
        role_id: String,
        session_name: String,
    },
    /// GetSessionToken for an IAM user.
    User { user: String },
    /// GetSessionToken for the root user.
    Root,
}

/// Block Public Access settings of a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
    pub const NONE: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: false,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: false,
    };
}

#[derive(Clone, Debug)]
pub struct Bucket {
    pub name: String,
    pub owner: AccountId,
    pub region: String,
    pub created: SystemTime,
    pub ownership: Option<ObjectOwnership>,
    pub policy: Option<StoredPolicy>,
    pub public_access_block: Option<PublicAccessBlock>,
    pub acl: Acl,
    pub objects: BTreeMap<String, Object>,
    pub uploads: BTreeMap<String, Upload>,
}

impl Bucket {
    /// The effective Object Ownership (a bucket without the setting behaves as ObjectWriter).
    pub fn ownership(&self) -> ObjectOwnership {
        self.ownership.unwrap_or(ObjectOwnership::ObjectWriter)
    }

    pub fn pab(&self) -> PublicAccessBlock {
        self.public_access_block.unwrap_or(PublicAccessBlock::NONE)
    }
}

/// Full-object checksums, base64 as S3 returns them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checksums {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    /// `FULL_OBJECT` or `COMPOSITE`.
    pub kind: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Object {
    pub body: Bytes,
    pub etag: String,
    pub last_modified: SystemTime,
    pub owner: AccountId,
    pub acl: Acl,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<(String, String)>,
    pub storage_class: Option<String>,
    pub sse: Option<String>,
    pub sse_kms_key_id: Option<String>,
    pub checksums: Checksums,
    pub parts: Option<Vec<u64>>,
}

#[derive(Clone, Debug)]
pub struct Upload {
    pub id: String,
    pub key: String,
    pub initiator: AccountId,
    pub initiator_arn: String,
    pub owner: AccountId,
    pub acl: Acl,
    pub created: SystemTime,
    pub template: Object,
    pub parts: BTreeMap<i32, Part>,
    pub checksum_algorithm: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Part {
    pub body: Bytes,
    pub etag: String,
    pub last_modified: SystemTime,
    pub checksums: Checksums,
}

/// Everything the emulator knows.
#[derive(Debug, Default)]
pub struct State {
    pub accounts: BTreeMap<AccountId, Account>,
    pub keys: HashMap<String, AccessKey>,
    pub buckets: BTreeMap<String, Bucket>,
}

/// An identity resolved from an access key: the principal and every policy that applies to it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub identity: Vec<(String, Arc<Policy>)>,
    pub session: Option<Vec<(String, Arc<Policy>)>>,
    pub boundary: Option<(String, Arc<Policy>)>,
    /// The session token the key requires, for temporary credentials.
    pub token: Option<String>,
    pub expires: Option<SystemTime>,
    pub access_key: Option<String>,
    /// A role session (for role chaining limits).
    pub role_session: bool,
    /// Credentials issued by GetSessionToken (limited in IAM and STS).
    pub session_token_credentials: bool,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller {
            principal: Principal::anonymous(),
            identity: Vec::new(),
            session: None,
            boundary: None,
            token: None,
            expires: None,
            access_key: None,
            role_session: false,
            session_token_credentials: false,
        }
    }

    pub fn account(&self) -> Option<AccountId> {
        self.principal.account
    }
}

/// Why an access key could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Unknown,
    Inactive,
    Expired,
}

impl State {
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }

    pub fn account_by_alias(&self, alias: &str) -> Option<&Account> {
        self.accounts.values().find(|a| a.alias == alias)
    }

    /// The canonical user ID of an account (derived when the account is unknown).
    pub fn canonical(&self, id: AccountId) -> String {
        self.accounts
            .get(&id)
            .map(|a| a.canonical_id.clone())
            .unwrap_or_else(|| id.canonical_user_id())
    }

    /// The account whose canonical ID this is.
    pub fn account_by_canonical(&self, canonical: &str) -> Option<AccountId> {
        self.accounts
            .values()
            .find(|a| a.canonical_id.eq_ignore_ascii_case(canonical))
            .map(|a| a.id)
    }

    /// Adds an account with its root key.
    pub fn add_account(&mut self, id: AccountId, alias: &str, key: &str, secret: &str) {
        self.accounts.insert(
            id,
            Account {
                id,
                alias: alias.to_owned(),
                canonical_id: id.canonical_user_id(),
                root_key: key.to_owned(),
                users: BTreeMap::new(),
                roles: BTreeMap::new(),
                policies: BTreeMap::new(),
            },
        );
        self.keys.insert(
            key.to_owned(),
            AccessKey {
                id: key.to_owned(),
                secret: secret.to_owned(),
                owner: KeyOwner::Root(id),
                active: true,
                created: SystemTime::now(),
            },
        );
    }

    /// Looks up an access key's secret and the identity behind it.
    pub fn key(&self, access_key: &str, now: SystemTime) -> Result<&AccessKey, KeyError> {
        let key = self.keys.get(access_key).ok_or(KeyError::Unknown)?;
        if !key.active {
            return Err(KeyError::Inactive);
        }
        if let KeyOwner::Session(s) = &key.owner {
            if s.expires <= now {
                return Err(KeyError::Expired);
            }
        }
        Ok(key)
    }

    /// Resolves an access key into the caller and its policies.
    pub fn caller(&self, access_key: &str, now: SystemTime) -> Result<Caller, KeyError> {
        let key = self.key(access_key, now)?;
        let mut caller = match &key.owner {
            KeyOwner::Root(id) => Caller {
                principal: Principal::root(*id),
                ..Caller::anonymous()
            },
            KeyOwner::User { account, user } => self.user_caller(*account, user)?,
            KeyOwner::Session(s) => {
                let mut c = match &s.kind {
                    SessionKind::Root => Caller {
                        principal: Principal::root(s.account),
                        ..Caller::anonymous()
                    },
                    SessionKind::User { user } => self.user_caller(s.account, user)?,
                    SessionKind::Role {
                        role_name,
                        role_path,
                        role_id,
                        session_name,
                    } => {
                        let role = self
                            .accounts
                            .get(&s.account)
                            .and_then(|a| a.roles.get(role_name))
                            .filter(|r| r.id == *role_id)
                            .ok_or(KeyError::Unknown)?;
                        let principal = Principal::role_session(
                            s.account,
                            role_path,
                            role_name,
                            role_id,
                            session_name,
                        );
                        Caller {
                            principal,
                            identity: self.entity_policies(s.account, &role.inline, &role.attached),
                            boundary: role.boundary.as_ref().and_then(|b| self.managed(b)),
                            role_session: true,
                            ..Caller::anonymous()
                        }
                    }
                };
                if !s.policies.is_empty() {
                    c.session = Some(s.policies.clone());
                }
                c.session_token_credentials =
                    matches!(s.kind, SessionKind::User { .. } | SessionKind::Root);
                c.token = Some(s.token.clone());
                c.expires = Some(s.expires);
                c
            }
        };
        if let Some(acct) = caller.principal.account {
            caller.principal.canonical_id = Some(self.canonical(acct));
        }
        caller.access_key = Some(key.id.clone());
        Ok(caller)
    }

    fn user_caller(&self, account: AccountId, user: &str) -> Result<Caller, KeyError> {
        let u = self
            .accounts
            .get(&account)
            .and_then(|a| a.users.get(user))
            .ok_or(KeyError::Unknown)?;
        let mut principal = Principal::user(account, &u.path, &u.name, &u.id);
        principal.tags = u.tags.clone();
        Ok(Caller {
            principal,
            identity: self.entity_policies(account, &u.inline, &u.attached),
            boundary: u.boundary.as_ref().and_then(|b| self.managed(b)),
            ..Caller::anonymous()
        })
    }

    fn entity_policies(
        &self,
        _account: AccountId,
        inline: &BTreeMap<String, StoredPolicy>,
        attached: &[String],
    ) -> Vec<(String, Arc<Policy>)> {
        let mut out: Vec<(String, Arc<Policy>)> = inline
            .iter()
            .map(|(n, p)| (format!("inline:{n}"), p.parsed.clone()))
            .collect();
        out.extend(attached.iter().filter_map(|arn| self.managed(arn)));
        out
    }

    /// A managed policy by ARN (customer managed policies of any account, and the few AWS
    /// managed policies the emulator knows).
    pub fn managed(&self, arn: &str) -> Option<(String, Arc<Policy>)> {
        let parts = crate::types::split_arn(arn)?;
        if parts[4] == "aws" {
            return aws_managed(parts[5]).map(|p| (arn.to_owned(), p));
        }
        let account: AccountId = parts[4].parse().ok()?;
        let name = parts[5].rsplit('/').next()?;
        let p = self.accounts.get(&account)?.policies.get(name)?;
        (p.arn == arn).then(|| (arn.to_owned(), p.document.parsed.clone()))
    }

    /// Whether a principal named in a policy exists (users and roles by ARN; accounts always).
    pub fn principal_exists(&self, entry: &crate::policy::PrincipalEntry) -> bool {
        use crate::policy::PrincipalEntry as E;
        let by_arn = |arn: &str, roles: bool| {
            let Some(parts) = crate::types::split_arn(arn) else {
                return false;
            };
            let Some(acct) = parts[4]
                .parse::<AccountId>()
                .ok()
                .and_then(|a| self.accounts.get(&a))
            else {
                return false;
            };
            if roles {
                acct.roles.values().any(|r| r.arn == arn)
            } else {
                acct.users.values().any(|u| u.arn == arn)
            }
        };
        match entry {
            E::User(arn) => by_arn(arn, false),
            E::Role(arn) => by_arn(arn, true),
            E::AssumedRole(arn) => {
                // The role the session belongs to must exist.
                let Some(parts) = crate::types::split_arn(arn) else {
                    return false;
                };
                let role = parts[5]
                    .strip_prefix("assumed-role/")
                    .and_then(|r| r.split('/').next());
                let acct = parts[4]
                    .parse::<AccountId>()
                    .ok()
                    .and_then(|a| self.accounts.get(&a));
                match (acct, role) {
                    (Some(a), Some(r)) => a.roles.contains_key(r),
                    _ => false,
                }
            }
            _ => true,
        }
    }

    /// Every principal named in the policy that does not exist.
    pub fn missing_principals(&self, policy: &Policy) -> Vec<String> {
        let mut out = Vec::new();
        for st in &policy.statements {
            if let Some(spec) = &st.principal {
                for e in &spec.entries {
                    if !self.principal_exists(e) {
                        out.push(format!("{e:?}"));
                    }
                }
            }
        }
        out
    }

    /// A deleted user or role leaves the policies that named it pointing at its unique ID, as
    /// AWS stores them: the grant no longer applies, even to a new entity with the same name,
    /// and the policy text shows the ID in place of the ARN.
    pub fn orphan_principal(&mut self, arn: &str, unique_id: &str) {
        use crate::policy::PrincipalEntry as E;
        let rewrite = |stored: &mut StoredPolicy| {
            let names_it = |e: &E| matches!(e, E::User(a) | E::Role(a) if a == arn);
            let hit = stored.parsed.statements.iter().any(|st| {
                st.principal
                    .as_ref()
                    .is_some_and(|p| p.entries.iter().any(names_it))
            });
            if !hit {
                return;
            }
            let mut policy = (*stored.parsed).clone();
            for st in &mut policy.statements {
                if let Some(p) = &mut st.principal {
                    for e in &mut p.entries {
                        if names_it(e) {
                            *e = E::OtherArn(unique_id.to_owned());
                        }
                    }
                }
            }
            stored.parsed = Arc::new(policy);
            stored.text = stored
                .text
                .replace(&format!("\"{arn}\""), &format!("\"{unique_id}\""));
        };
        for b in self.buckets.values_mut() {
            if let Some(p) = &mut b.policy {
                rewrite(p);
            }
        }
        for acct in self.accounts.values_mut() {
            for role in acct.roles.values_mut() {
                rewrite(&mut role.trust);
            }
        }
    }

    /// Issues temporary credentials; returns (access key, secret, token).
    pub fn issue_session(&mut self, session: Session) -> (String, String, String) {
        let id = ids::session_key_id();
        let secret = ids::secret_key();
        let token = session.token.clone();
        self.keys.insert(
            id.clone(),
            AccessKey {
                id: id.clone(),
                secret: secret.clone(),
                owner: KeyOwner::Session(Arc::new(session)),
                active: true,
                created: SystemTime::now(),
            },
        );
        (id, secret, token)
    }

    /// Drops expired sessions (called now and then so long runs do not accumulate keys).
    pub fn sweep_sessions(&mut self, now: SystemTime) {
        self.keys.retain(|_, k| match &k.owner {
            KeyOwner::Session(s) => s.expires > now,
            _ => true,
        });
    }
}

/// AWS managed policies the emulator knows by name.
fn aws_managed(resource: &str) -> Option<Arc<Policy>> {
    let name = resource.rsplit('/').next()?;
    let doc = match name {
        "AdministratorAccess" => {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        }
        "AmazonS3FullAccess" => {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#
        }
        "AmazonS3ReadOnlyAccess" => {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#
        }
        "IAMFullAccess" => {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#
        }
        "IAMReadOnlyAccess" => {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#
        }
        _ => return None,
    };
    crate::policy::parse(doc, PolicyKind::Managed)
        .ok()
        .map(Arc::new)
}

/// Whether `arn` names an AWS managed policy the emulator knows.
pub fn is_known_aws_managed(arn: &str) -> bool {
    crate::types::split_arn(arn)
        .filter(|p| p[4] == "aws")
        .and_then(|p| aws_managed(p[5]))
        .is_some()
}
