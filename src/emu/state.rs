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
use crate::policy::{Context, Policy, PolicyError, PolicyKind, Principal};
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
    pub objects: BTreeMap<String, Arc<Object>>,
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

/// Full-object checksums, base64 as S3 returns them (the form requests and responses use;
/// objects store [`StoredChecksums`]).
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

/// One checksum's raw digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Digest {
    Crc32([u8; 4]),
    Crc32c([u8; 4]),
    Crc64Nvme([u8; 8]),
    Sha1(Box<[u8; 20]>),
    Sha256(Box<[u8; 32]>),
}

impl Digest {
    fn from_b64(alg: usize, text: &str) -> Option<Digest> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        Some(match alg {
            0 => Digest::Crc32(raw.try_into().ok()?),
            1 => Digest::Crc32c(raw.try_into().ok()?),
            2 => Digest::Crc64Nvme(raw.try_into().ok()?),
            3 => Digest::Sha1(Box::new(raw.try_into().ok()?)),
            4 => Digest::Sha256(Box::new(raw.try_into().ok()?)),
            _ => return None,
        })
    }

    fn b64(&self) -> String {
        use base64::Engine;
        let raw: &[u8] = match self {
            Digest::Crc32(d) | Digest::Crc32c(d) => d,
            Digest::Crc64Nvme(d) => d,
            Digest::Sha1(d) => d.as_slice(),
            Digest::Sha256(d) => d.as_slice(),
        };
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    /// The slot of [`Checksums`] this digest fills.
    fn slot(checksums: &mut Checksums, alg: usize) -> &mut Option<String> {
        match alg {
            0 => &mut checksums.crc32,
            1 => &mut checksums.crc32c,
            2 => &mut checksums.crc64nvme,
            3 => &mut checksums.sha1,
            _ => &mut checksums.sha256,
        }
    }

    fn alg(&self) -> usize {
        match self {
            Digest::Crc32(_) => 0,
            Digest::Crc32c(_) => 1,
            Digest::Crc64Nvme(_) => 2,
            Digest::Sha1(_) => 3,
            Digest::Sha256(_) => 4,
        }
    }
}

/// An object's checksums, compact: the usual single full-object or composite checksum as raw
/// bytes (no heap for the CRCs), anything else as the full [`Checksums`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StoredChecksums {
    #[default]
    None,
    /// One `FULL_OBJECT` checksum.
    Full(Digest),
    /// One `COMPOSITE` checksum of this many parts (shown as `BASE64-N`).
    Composite(Digest, u16),
    /// Any other combination.
    Other(Box<Checksums>),
}

impl StoredChecksums {
    /// The compact form of `c` (exact: [`StoredChecksums::expand`] gives `c` back).
    pub fn from_checksums(c: &Checksums) -> StoredChecksums {
        if *c == Checksums::default() {
            return StoredChecksums::None;
        }
        let compact = (|| {
            let values = [&c.crc32, &c.crc32c, &c.crc64nvme, &c.sha1, &c.sha256];
            let mut set = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.as_deref().map(|v| (i, v)));
            let (alg, text) = set.next()?;
            if set.next().is_some() {
                return None;
            }
            match c.kind.as_deref()? {
                "FULL_OBJECT" => Some(StoredChecksums::Full(Digest::from_b64(alg, text)?)),
                "COMPOSITE" => {
                    let (b64, n) = text.rsplit_once('-')?;
                    let n: u16 = n.parse().ok()?;
                    Some(StoredChecksums::Composite(Digest::from_b64(alg, b64)?, n))
                }
                _ => None,
            }
        })();
        match compact {
            Some(s) if s.expand() == *c => s,
            _ => StoredChecksums::Other(Box::new(c.clone())),
        }
    }

    /// The checksums as S3 shows them.
    pub fn expand(&self) -> Checksums {
        let mut out = Checksums::default();
        match self {
            StoredChecksums::None => {}
            StoredChecksums::Full(d) => {
                *Digest::slot(&mut out, d.alg()) = Some(d.b64());
                out.kind = Some("FULL_OBJECT".to_owned());
            }
            StoredChecksums::Composite(d, n) => {
                *Digest::slot(&mut out, d.alg()) = Some(format!("{}-{n}", d.b64()));
                out.kind = Some("COMPOSITE".to_owned());
            }
            StoredChecksums::Other(c) => out = (**c).clone(),
        }
        out
    }
}

/// An entity tag: the MD5 of the body, or for a multipart upload the MD5 of the parts' MD5s
/// and the part count (`"HEX-N"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Etag {
    pub md5: [u8; 16],
    /// 0 for a single-part object.
    pub parts: u16,
}

impl Etag {
    /// The single-part ETag of a body.
    pub fn of(body: &[u8]) -> Etag {
        use s3s::crypto::Checksum;
        Etag {
            md5: s3s::crypto::Md5::checksum(body),
            parts: 0,
        }
    }

    /// Unquoted: `HEX` or `HEX-N`.
    pub fn hex(&self) -> String {
        let mut s = hex::encode(self.md5);
        if self.parts > 0 {
            s.push('-');
            s.push_str(&self.parts.to_string());
        }
        s
    }

    /// Quoted, as the `ETag` header shows it.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.hex())
    }

    /// Whether an ETag as a client sends it (quoted or not) names this one.
    pub fn matches(&self, text: &str) -> bool {
        text.trim_matches('"') == self.hex()
    }
}

/// An object's `Content-Type`: shared text (SDKs send `application/octet-stream` with every
/// PUT, so the common types cost no allocation per object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType(Arc<str>);

impl ContentType {
    pub fn new(text: &str) -> ContentType {
        use std::sync::LazyLock;
        static COMMON: LazyLock<Vec<Arc<str>>> = LazyLock::new(|| {
            [
                "application/octet-stream",
                "binary/octet-stream",
                "text/plain",
                "application/json",
                "application/x-directory",
            ]
            .into_iter()
            .map(Arc::from)
            .collect()
        });
        match COMMON.iter().find(|c| &***c == text) {
            Some(c) => ContentType(c.clone()),
            None => ContentType(Arc::from(text)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The rarely set parts of an object: system and user metadata, tags, storage class,
/// encryption, part sizes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectExtra {
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
    /// Part sizes, for objects completed from a multipart upload.
    pub parts: Option<Vec<u64>>,
}

static NO_EXTRA: ObjectExtra = ObjectExtra {
    content_encoding: None,
    content_disposition: None,
    content_language: None,
    cache_control: None,
    expires: None,
    metadata: BTreeMap::new(),
    tags: Vec::new(),
    storage_class: None,
    sse: None,
    sse_kms_key_id: None,
    parts: None,
};

/// A stored object: kept small (buckets hold it behind an `Arc`, so reads share it) — the
/// body, the ETag as raw MD5, time, owner, the ACL only when it says more than "the owner has
/// FULL_CONTROL", compact checksums, and everything rarely set in one optional box.
#[derive(Clone, Debug)]
pub struct Object {
    pub body: Bytes,
    pub etag: Etag,
    pub last_modified: SystemTime,
    pub owner: AccountId,
    /// `None`: the owner's FULL_CONTROL only (what a write without an ACL, or with `private`,
    /// stores). See [`Object::acl`].
    pub acl: Option<Box<Acl>>,
    pub checksums: StoredChecksums,
    pub content_type: Option<ContentType>,
    /// `None` when everything in it is unset.
    pub extra: Option<Box<ObjectExtra>>,
}

impl Object {
    /// A new object with an owner-only ACL and nothing else set.
    pub fn new(body: Bytes, owner: AccountId, last_modified: SystemTime) -> Object {
        Object {
            etag: Etag::of(&body),
            body,
            last_modified,
            owner,
            acl: None,
            checksums: StoredChecksums::None,
            content_type: None,
            extra: None,
        }
    }

    /// The rarely set fields (all unset when the object has none).
    pub fn extra(&self) -> &ObjectExtra {
        self.extra.as_deref().unwrap_or(&NO_EXTRA)
    }

    /// Replaces the rarely set fields (dropping the box when all are unset).
    pub fn set_extra(&mut self, extra: ObjectExtra) {
        self.extra = (extra != NO_EXTRA).then(|| Box::new(extra));
    }

    /// Edits the rarely set fields.
    pub fn edit_extra(&mut self, f: impl FnOnce(&mut ObjectExtra)) {
        let mut e = self.extra.take().map(|b| *b).unwrap_or_default();
        f(&mut e);
        self.set_extra(e);
    }

    pub fn tags(&self) -> &[(String, String)] {
        &self.extra().tags
    }

    /// The ACL in full (the owner-only default materialized).
    pub fn acl(&self) -> std::borrow::Cow<'_, Acl> {
        match &self.acl {
            Some(a) => std::borrow::Cow::Borrowed(a),
            None => std::borrow::Cow::Owned(owner_only_acl(self.owner)),
        }
    }

    /// Stores an ACL (as `None` when it is the owner-only default).
    pub fn set_acl(&mut self, acl: Acl) {
        self.acl = compact_acl(acl, self.owner);
    }
}

/// The ACL of a resource whose owner has FULL_CONTROL and nobody else anything.
pub fn owner_only_acl(owner: AccountId) -> Acl {
    Acl {
        owner,
        grants: vec![super::acl::Grant::user(
            &owner.canonical_user_id(),
            super::acl::Permission::FullControl,
        )],
    }
}

/// `None` for the owner-only default ACL of `owner`, the ACL otherwise.
pub fn compact_acl(acl: Acl, owner: AccountId) -> Option<Box<Acl>> {
    let default = acl.owner == owner
        && matches!(acl.grants.as_slice(), [g] if g.permission == super::acl::Permission::FullControl
            && g.grantee == super::acl::Grantee::CanonicalUser(owner.canonical_user_id()));
    (!default).then(|| Box::new(acl))
}

#[derive(Clone, Debug)]
pub struct Upload {
    pub id: String,
    pub key: String,
    pub initiator: AccountId,
    pub initiator_arn: String,
    pub owner: AccountId,
    pub created: SystemTime,
    /// The object to be completed (ACL, metadata, tags, the checksum type).
    pub template: Object,
    pub parts: BTreeMap<i32, Part>,
    pub checksum_algorithm: Option<String>,
    /// The ACL condition keys (`s3:x-amz-acl`, `s3:x-amz-grant-*`) of CreateMultipartUpload:
    /// later steps of the upload carry them, so ACL conditions judge the upload as a whole.
    pub acl_keys: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Part {
    pub body: Bytes,
    pub etag: Etag,
    pub last_modified: SystemTime,
    pub checksums: Checksums,
}

/// A value that counts the times it was borrowed mutably: every `&mut` access (through
/// `DerefMut`, whether or not it then changes anything) moves [`Tracked::generation`] on.
/// [`State`] tracks accounts and keys this way, so a cache of resolved callers knows when it
/// is stale without every IAM and STS write having to say so.
#[derive(Clone, Debug, Default)]
pub struct Tracked<T> {
    inner: T,
    generation: u64,
}

impl<T> Tracked<T> {
    pub fn new(inner: T) -> Tracked<T> {
        Tracked {
            inner,
            generation: 0,
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl<T> std::ops::Deref for Tracked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> std::ops::DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.generation += 1;
        &mut self.inner
    }
}

impl<'a, T> IntoIterator for &'a Tracked<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (&self.inner).into_iter()
    }
}

/// Everything the emulator knows.
#[derive(Debug, Default)]
pub struct State {
    /// Accounts and their IAM entities (any mutable access counts as a change for
    /// [`State::iam_generation`]).
    pub accounts: Tracked<BTreeMap<AccountId, Account>>,
    /// Access keys (likewise).
    pub keys: Tracked<HashMap<String, AccessKey>>,
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
    /// [`Context::for_principal`] of `principal`, made on first use (callers are cached per
    /// access key, so requests clone it instead of building it). Set `principal` before
    /// anything reads this.
    principal_context: std::sync::OnceLock<Context>,
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
            principal_context: std::sync::OnceLock::new(),
        }
    }

    pub fn account(&self) -> Option<AccountId> {
        self.principal.account
    }

    /// The condition keys that follow from the principal ([`Context::for_principal`]).
    pub fn principal_context(&self) -> &Context {
        self.principal_context
            .get_or_init(|| Context::for_principal(&self.principal))
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
    /// Moves on whenever accounts, IAM entities, policies or keys may have changed: what a
    /// resolved [`Caller`] depends on.
    pub fn iam_generation(&self) -> u64 {
        self.accounts.generation() + self.keys.generation()
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(raw: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    #[test]
    fn checksums_are_stored_compactly_and_exactly() {
        let full = |set: fn(&mut Checksums, String), raw: &[u8]| {
            let mut c = Checksums {
                kind: Some("FULL_OBJECT".to_owned()),
                ..Checksums::default()
            };
            set(&mut c, b64(raw));
            c
        };
        let cases = [
            full(|c, v| c.crc32 = Some(v), &[1, 2, 3, 4]),
            full(|c, v| c.crc32c = Some(v), &[5, 6, 7, 8]),
            full(|c, v| c.crc64nvme = Some(v), &[1; 8]),
            full(|c, v| c.sha1 = Some(v), &[2; 20]),
            full(|c, v| c.sha256 = Some(v), &[3; 32]),
        ];
        for c in &cases {
            let s = StoredChecksums::from_checksums(c);
            assert!(matches!(s, StoredChecksums::Full(_)), "{c:?} -> {s:?}");
            assert_eq!(s.expand(), *c);
        }
        let composite = Checksums {
            crc32: Some(format!("{}-3", b64(&[9, 9, 9, 9]))),
            kind: Some("COMPOSITE".to_owned()),
            ..Checksums::default()
        };
        let s = StoredChecksums::from_checksums(&composite);
        assert!(matches!(s, StoredChecksums::Composite(_, 3)));
        assert_eq!(s.expand(), composite);
        // Anything unusual is kept as it is.
        let odd = [
            Checksums::default(),
            Checksums {
                kind: Some("COMPOSITE".to_owned()),
                ..Checksums::default()
            },
            Checksums {
                crc32: Some(b64(&[1, 2, 3, 4])),
                sha1: Some(b64(&[2; 20])),
                kind: Some("FULL_OBJECT".to_owned()),
                ..Checksums::default()
            },
            Checksums {
                crc32: Some("not base64".to_owned()),
                kind: Some("FULL_OBJECT".to_owned()),
                ..Checksums::default()
            },
            Checksums {
                crc32: Some(b64(&[1, 2, 3])),
                kind: Some("FULL_OBJECT".to_owned()),
                ..Checksums::default()
            },
            Checksums {
                crc32: Some(b64(&[1, 2, 3, 4])),
                ..Checksums::default()
            },
        ];
        for c in &odd {
            assert_eq!(StoredChecksums::from_checksums(c).expand(), *c);
        }
    }

    #[test]
    fn etags() {
        let e = Etag::of(b"");
        assert_eq!(e.hex(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(e.quoted(), "\"d41d8cd98f00b204e9800998ecf8427e\"");
        assert!(e.matches("\"d41d8cd98f00b204e9800998ecf8427e\""));
        assert!(e.matches("d41d8cd98f00b204e9800998ecf8427e"));
        let m = Etag { parts: 3, ..e };
        assert_eq!(m.hex(), "d41d8cd98f00b204e9800998ecf8427e-3");
        assert!(m.matches("d41d8cd98f00b204e9800998ecf8427e-3"));
        assert!(!m.matches("d41d8cd98f00b204e9800998ecf8427e"));
        assert!(!e.matches("d41d8cd98f00b204e9800998ecf8427e-3"));
    }

    #[test]
    fn owner_only_acls_are_not_stored() {
        use crate::emu::acl::{Grant, Group, Permission};
        let a: AccountId = "111122223333".parse().unwrap();
        let b: AccountId = "444455556666".parse().unwrap();
        let mut o = Object::new(Bytes::from_static(b"x"), a, SystemTime::now());
        assert_eq!(*o.acl(), owner_only_acl(a));
        o.set_acl(owner_only_acl(a));
        assert!(o.acl.is_none());
        // The same grant for another owner, or any extra grant, is kept.
        o.set_acl(owner_only_acl(b));
        assert_eq!(*o.acl(), owner_only_acl(b));
        let mut public = owner_only_acl(a);
        public
            .grants
            .push(Grant::group(Group::AllUsers, Permission::Read));
        o.set_acl(public.clone());
        assert_eq!(*o.acl(), public);
    }

    #[test]
    fn rarely_set_fields_live_in_one_optional_box() {
        let a: AccountId = "111122223333".parse().unwrap();
        let mut o = Object::new(Bytes::new(), a, SystemTime::now());
        assert!(o.extra.is_none() && o.tags().is_empty());
        o.edit_extra(|e| e.tags.push(("k".into(), "v".into())));
        assert_eq!(o.tags(), [("k".to_owned(), "v".to_owned())]);
        o.edit_extra(|e| e.tags.clear());
        assert!(o.extra.is_none());
        let ct = ContentType::new("application/octet-stream");
        assert!(Arc::ptr_eq(
            &ct.0,
            &ContentType::new("application/octet-stream").0
        ));
        assert_eq!(ContentType::new("image/png").as_str(), "image/png");
    }
}
