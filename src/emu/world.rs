//! World files: the TOML layout of accounts, IAM users and roles, managed policies, buckets and
//! objects an emulator starts with (`ferry serve --world FILE`; `docs/WORLD.md` documents the
//! format). Without a file the world is three empty accounts A, B and C with fixed root keys.
//!
//! Placeholders: `${ALIAS}` is that account's ID, `${canonical:ALIAS}` its canonical user ID,
//! and `[vars]` adds names of its own. Policies are given inline (a string starting with `{`)
//! or as a path relative to the world file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use super::acl::{self, AclRequest, ObjectOwnership};
use super::ids;
use super::state::{
    AccessKey, Bucket, ContentType, KeyOwner, ManagedPolicy, Object, PublicAccessBlock, Role,
    State, StoredChecksums, StoredPolicy, User,
};
use crate::policy::PolicyKind;
use crate::types::AccountId;

/// The three accounts of the default world: alias, ID, root access key, root secret key.
pub const DEFAULT_ACCOUNTS: [(&str, &str, &str, &str); 3] = [
    (
        "A",
        "111111111111",
        "AKIAFERRYROOTA000001",
        "ferryRootSecretKeyOfAccountA000000000001",
    ),
    (
        "B",
        "222222222222",
        "AKIAFERRYROOTB000002",
        "ferryRootSecretKeyOfAccountB000000000002",
    ),
    (
        "C",
        "333333333333",
        "AKIAFERRYROOTC000003",
        "ferryRootSecretKeyOfAccountC000000000003",
    ),
];

/// Why a world file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` is not a valid world file: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldFile {
    /// Buckets default to ObjectWriter without Block Public Access (older accounts).
    #[serde(default)]
    pub legacy_defaults: Option<bool>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default, rename = "account")]
    pub accounts: Vec<AccountDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountDef {
    pub alias: String,
    pub id: String,
    #[serde(default)]
    pub access_key: Option<String>,
    #[serde(default)]
    pub secret_key: Option<String>,
    #[serde(default, rename = "user")]
    pub users: Vec<UserDef>,
    #[serde(default, rename = "role")]
    pub roles: Vec<RoleDef>,
    #[serde(default, rename = "policy")]
    pub policies: Vec<PolicyDef>,
    #[serde(default, rename = "bucket")]
    pub buckets: Vec<BucketDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyDef {
    pub id: String,
    pub secret: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDef {
    pub name: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub access_keys: Vec<KeyDef>,
    /// Inline policies: name → policy (inline JSON or file).
    #[serde(default)]
    pub policies: BTreeMap<String, String>,
    /// Managed policies: a name in the same account, or an ARN.
    #[serde(default)]
    pub managed: Vec<String>,
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    pub name: String,
    #[serde(default)]
    pub path: Option<String>,
    pub trust: String,
    #[serde(default)]
    pub policies: BTreeMap<String, String>,
    #[serde(default)]
    pub managed: Vec<String>,
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub max_session_duration: Option<u32>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDef {
    pub name: String,
    #[serde(default)]
    pub path: Option<String>,
    pub document: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketDef {
    pub name: String,
    #[serde(default)]
    pub object_ownership: Option<String>,
    #[serde(default)]
    pub policy: Option<String>,
    /// All four Block Public Access settings on (true) or off (false).
    #[serde(default)]
    pub block_public_access: Option<bool>,
    /// A canned ACL for the bucket.
    #[serde(default)]
    pub acl: Option<String>,
    #[serde(default, rename = "object")]
    pub objects: Vec<ObjectDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDef {
    /// The key; with `count`, a template where `{n}` becomes 0, 1, ... (zero-padded to 7 digits).
    pub key: String,
    /// Generate this many objects sharing one body (benchmarks: a million keys cost little).
    #[serde(default)]
    pub count: Option<usize>,
    #[serde(default)]
    pub body: Option<String>,
    /// Size of a generated body when `body` is absent.
    #[serde(default)]
    pub size: Option<usize>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// The alias of the owning account (default: the bucket's owner).
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub acl: Option<String>,
    /// `false`: stored without the CRC64NVME S3 adds to new objects, as objects uploaded before
    /// S3's default checksums (and many S3-compatible stores' objects) are.
    #[serde(default = "yes")]
    pub checksum: bool,
}

fn yes() -> bool {
    true
}

/// A world ready to build: the parsed file and where relative paths resolve.
#[derive(Debug, Default)]
pub struct World {
    pub file: WorldFile,
    pub base: PathBuf,
    pub origin: PathBuf,
}

impl World {
    /// Three empty accounts A, B and C with the documented root keys.
    pub fn default_world() -> World {
        let accounts = DEFAULT_ACCOUNTS
            .iter()
            .map(|(alias, id, key, secret)| AccountDef {
                alias: (*alias).to_owned(),
                id: (*id).to_owned(),
                access_key: Some((*key).to_owned()),
                secret_key: Some((*secret).to_owned()),
                users: Vec::new(),
                roles: Vec::new(),
                policies: Vec::new(),
                buckets: Vec::new(),
            })
            .collect();
        World {
            file: WorldFile {
                legacy_defaults: None,
                vars: BTreeMap::new(),
                accounts,
            },
            base: PathBuf::from("."),
            origin: PathBuf::from("<default world>"),
        }
    }

    /// Reads a world file, substituting placeholders.
    pub fn load(path: &Path) -> Result<World, WorldError> {
        let raw = std::fs::read_to_string(path).map_err(|source| WorldError::Read {
            path: path.to_owned(),
            source,
        })?;
        World::parse(&raw, path)
    }

    /// Parses world-file text; `path` names it in errors and anchors relative paths.
    pub fn parse(raw: &str, path: &Path) -> Result<World, WorldError> {
        let syntax = |e: toml::de::Error| WorldError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        };
        // First pass: aliases, IDs and vars (which may not use placeholders themselves).
        let first: WorldFile = toml::from_str(raw).map_err(syntax)?;
        let lookup = placeholder_lookup(&first);
        let text = crate::placeholders::substitute(raw, &lookup);
        let file: WorldFile = toml::from_str(&text).map_err(syntax)?;
        Ok(World {
            file,
            base: path.parent().map(Path::to_owned).unwrap_or_default(),
            origin: path.to_owned(),
        })
    }

    /// Whether the file asks for legacy bucket defaults.
    pub fn legacy_defaults(&self) -> bool {
        self.file.legacy_defaults.unwrap_or(false)
    }

    fn invalid(&self, message: String) -> WorldError {
        WorldError::Invalid {
            path: self.origin.clone(),
            message,
        }
    }

    /// Reads a policy given inline or as a relative path, with placeholders substituted.
    fn policy_text(&self, spec: &str) -> Result<String, WorldError> {
        let lookup = placeholder_lookup(&self.file);
        if spec.trim_start().starts_with('{') {
            return Ok(crate::placeholders::substitute(spec, &lookup));
        }
        let p = self.base.join(spec);
        let raw = std::fs::read_to_string(&p).map_err(|source| WorldError::Read {
            path: p.clone(),
            source,
        })?;
        Ok(crate::placeholders::substitute(&raw, &lookup))
    }

    fn policy(&self, spec: &str, kind: PolicyKind, what: &str) -> Result<StoredPolicy, WorldError> {
        let text = self.policy_text(spec)?;
        StoredPolicy::parse(&text, kind).map_err(|e| {
            let at = if e.pointer.is_empty() {
                String::new()
            } else {
                format!(" (at {})", e.pointer)
            };
            self.invalid(format!("{what}: {}{at}", e.message))
        })
    }

    /// Builds the state. `legacy` selects the bucket defaults.
    pub fn build(&self, legacy: bool) -> Result<State, WorldError> {
        let mut st = State::default();
        let now = SystemTime::now();
        for a in &self.file.accounts {
            let id: AccountId =
                a.id.parse()
                    .map_err(|e| self.invalid(format!("account `{}`: {e}", a.alias)))?;
            if st.accounts.contains_key(&id) {
                return Err(self.invalid(format!("account {id} is declared twice")));
            }
            if st.account_by_alias(&a.alias).is_some() {
                return Err(self.invalid(format!("alias `{}` is used twice", a.alias)));
            }
            let key = a.access_key.clone().unwrap_or_else(ids::access_key_id);
            let secret = a.secret_key.clone().unwrap_or_else(ids::secret_key);
            if st.keys.contains_key(&key) {
                return Err(self.invalid(format!("access key `{key}` is used twice")));
            }
            st.add_account(id, &a.alias, &key, &secret);
        }
        let id_of = |alias: &str| -> Option<AccountId> {
            self.file
                .accounts
                .iter()
                .find(|a| a.alias == alias)
                .and_then(|a| a.id.parse().ok())
        };
        // Managed policies first: users and roles attach them.
        for a in &self.file.accounts {
            let Some(id) = id_of(&a.alias) else { continue };
            for p in &a.policies {
                let doc = self.policy(
                    &p.document,
                    PolicyKind::Managed,
                    &format!("policy `{}`", p.name),
                )?;
                let path = norm_path(p.path.as_deref());
                let mp = ManagedPolicy {
                    name: p.name.clone(),
                    arn: format!("arn:aws:iam::{id}:policy{path}{}", p.name),
                    path,
                    id: ids::unique_id("ANPA"),
                    created: now,
                    document: doc,
                    description: None,
                };
                if let Some(acct) = st.accounts.get_mut(&id) {
                    acct.policies.insert(p.name.clone(), mp);
                }
            }
        }
        let managed_arn = |st: &State, account: AccountId, m: &str| -> Result<String, WorldError> {
            let arn = if m.starts_with("arn:") {
                m.to_owned()
            } else if super::state::is_known_aws_managed(&format!("arn:aws:iam::aws:policy/{m}")) {
                format!("arn:aws:iam::aws:policy/{m}")
            } else {
                st.account(account)
                    .and_then(|a| a.policies.get(m))
                    .map(|p| p.arn.clone())
                    .ok_or_else(|| {
                        self.invalid(format!(
                            "managed policy `{m}` is not declared in account {account}"
                        ))
                    })?
            };
            if st.managed(&arn).is_none() {
                return Err(self.invalid(format!("managed policy `{arn}` does not exist")));
            }
            Ok(arn)
        };
        for a in &self.file.accounts {
            let Some(id) = id_of(&a.alias) else { continue };
            for u in &a.users {
                let path = norm_path(u.path.as_deref());
                let mut inline = BTreeMap::new();
                for (n, spec) in &u.policies {
                    let what = format!("user `{}` policy `{n}`", u.name);
                    inline.insert(n.clone(), self.policy(spec, PolicyKind::UserInline, &what)?);
                }
                let attached = u
                    .managed
                    .iter()
                    .map(|m| managed_arn(&st, id, m))
                    .collect::<Result<Vec<_>, _>>()?;
                let boundary = u
                    .boundary
                    .as_deref()
                    .map(|m| managed_arn(&st, id, m))
                    .transpose()?;
                let user = User {
                    name: u.name.clone(),
                    arn: format!("arn:aws:iam::{id}:user{path}{}", u.name),
                    path,
                    id: ids::unique_id("AIDA"),
                    created: now,
                    inline,
                    attached,
                    boundary,
                    tags: u.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                };
                for k in &u.access_keys {
                    if st.keys.contains_key(&k.id) {
                        return Err(self.invalid(format!("access key `{}` is used twice", k.id)));
                    }
                    st.keys.insert(
                        k.id.clone(),
                        AccessKey {
                            id: k.id.clone(),
                            secret: k.secret.clone(),
                            owner: KeyOwner::User {
                                account: id,
                                user: u.name.clone(),
                            },
                            active: true,
                            created: now,
                        },
                    );
                }
                if let Some(acct) = st.accounts.get_mut(&id) {
                    if acct.users.insert(u.name.clone(), user).is_some() {
                        return Err(
                            self.invalid(format!("user `{}` is declared twice in {id}", u.name))
                        );
                    }
                }
            }
        }
        for a in &self.file.accounts {
            let Some(id) = id_of(&a.alias) else { continue };
            for r in &a.roles {
                let path = norm_path(r.path.as_deref());
                let what = format!("role `{}` trust policy", r.name);
                let trust = self.policy(&r.trust, PolicyKind::Trust, &what)?;
                let mut inline = BTreeMap::new();
                for (n, spec) in &r.policies {
                    let what = format!("role `{}` policy `{n}`", r.name);
                    inline.insert(n.clone(), self.policy(spec, PolicyKind::RoleInline, &what)?);
                }
                let attached = r
                    .managed
                    .iter()
                    .map(|m| managed_arn(&st, id, m))
                    .collect::<Result<Vec<_>, _>>()?;
                let boundary = r
                    .boundary
                    .as_deref()
                    .map(|m| managed_arn(&st, id, m))
                    .transpose()?;
                let max = r.max_session_duration.unwrap_or(3600);
                if !(3600..=43200).contains(&max) {
                    return Err(self.invalid(format!(
                        "role `{}`: max_session_duration {max} is outside 3600..=43200",
                        r.name
                    )));
                }
                let role = Role {
                    name: r.name.clone(),
                    arn: format!("arn:aws:iam::{id}:role{path}{}", r.name),
                    path,
                    id: ids::unique_id("AROA"),
                    created: now,
                    trust,
                    inline,
                    attached,
                    boundary,
                    max_session_duration: max,
                    description: None,
                    tags: r.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                };
                if let Some(acct) = st.accounts.get_mut(&id) {
                    if acct.roles.insert(r.name.clone(), role).is_some() {
                        return Err(
                            self.invalid(format!("role `{}` is declared twice in {id}", r.name))
                        );
                    }
                }
            }
        }
        // Trust policies may name principals declared anywhere in the file: check at the end.
        for acct in st.accounts.values() {
            for role in acct.roles.values() {
                let missing = st.missing_principals(&role.trust.parsed);
                if !missing.is_empty() {
                    return Err(self.invalid(format!(
                        "role `{}` trust policy names principals that do not exist: {}",
                        role.name,
                        missing.join(", ")
                    )));
                }
            }
        }
        for a in &self.file.accounts {
            let Some(id) = id_of(&a.alias) else { continue };
            for b in &a.buckets {
                self.add_bucket(&mut st, id, b, legacy, &id_of, now)?;
            }
        }
        Ok(st)
    }

    fn add_bucket(
        &self,
        st: &mut State,
        owner: AccountId,
        b: &BucketDef,
        legacy: bool,
        id_of: &dyn Fn(&str) -> Option<AccountId>,
        now: SystemTime,
    ) -> Result<(), WorldError> {
        if let Err(msg) = super::s3::validate_bucket_name(&b.name) {
            return Err(self.invalid(format!("bucket `{}`: {msg}", b.name)));
        }
        if st.buckets.contains_key(&b.name) {
            return Err(self.invalid(format!("bucket `{}` is declared twice", b.name)));
        }
        let ownership = match &b.object_ownership {
            Some(s) => Some(s.parse::<ObjectOwnership>().map_err(|_| {
                self.invalid(format!(
                    "bucket `{}`: object_ownership `{s}` is not BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter",
                    b.name
                ))
            })?),
            None if legacy => Some(ObjectOwnership::ObjectWriter),
            None => Some(ObjectOwnership::BucketOwnerEnforced),
        };
        let pab = match b.block_public_access {
            Some(true) => Some(PublicAccessBlock::ALL),
            Some(false) => None,
            None if legacy => None,
            None => Some(PublicAccessBlock::ALL),
        };
        let canonical_of = |a: AccountId| a.canonical_user_id();
        let bucket_acl_req = match &b.acl {
            Some(c) => AclRequest::Canned(c.parse().map_err(|_| {
                self.invalid(format!("bucket `{}`: unknown canned ACL `{c}`", b.name))
            })?),
            None => AclRequest::None,
        };
        let policy = match &b.policy {
            Some(spec) => {
                let what = format!("bucket `{}` policy", b.name);
                let p = self.policy(spec, PolicyKind::Bucket, &what)?;
                let missing = st.missing_principals(&p.parsed);
                if !missing.is_empty() {
                    return Err(self.invalid(format!(
                        "{what} names principals that do not exist: {}",
                        missing.join(", ")
                    )));
                }
                Some(p)
            }
            None => None,
        };
        let mut bucket = Bucket {
            name: b.name.clone(),
            owner,
            region: "us-east-1".to_owned(),
            created: now,
            ownership,
            policy,
            public_access_block: pab,
            acl: acl::build(&bucket_acl_req, owner, owner, &canonical_of),
            objects: BTreeMap::new(),
            uploads: BTreeMap::new(),
        };
        for o in &b.objects {
            let obj_owner = match &o.owner {
                Some(alias) => id_of(alias).ok_or_else(|| {
                    self.invalid(format!(
                        "object `{}`: unknown account alias `{alias}`",
                        o.key
                    ))
                })?,
                None => owner,
            };
            let acl_req = match &o.acl {
                Some(c) => AclRequest::Canned(c.parse().map_err(|_| {
                    self.invalid(format!("object `{}`: unknown canned ACL `{c}`", o.key))
                })?),
                None => AclRequest::None,
            };
            let obj_owner = acl::new_object_owner(
                bucket.ownership(),
                &acl_req,
                obj_owner,
                owner,
                &owner.canonical_user_id(),
            );
            let body = match (&o.body, o.size) {
                (Some(text), _) => bytes::Bytes::from(text.clone().into_bytes()),
                (None, Some(n)) => {
                    bytes::Bytes::from((0..n).map(|i| b'a' + (i % 26) as u8).collect::<Vec<u8>>())
                }
                (None, None) => bytes::Bytes::new(),
            };
            let mut obj = Object::new(body, obj_owner, now);
            if o.checksum {
                obj.checksums =
                    StoredChecksums::from_checksums(&super::s3::full_checksums(&obj.body));
            }
            obj.acl = super::s3::object_acl(&acl_req, obj_owner, owner);
            obj.content_type = o.content_type.as_deref().map(ContentType::new);
            let obj = std::sync::Arc::new(obj);
            match o.count {
                None => {
                    bucket.objects.insert(o.key.clone(), obj);
                }
                Some(n) => {
                    if !o.key.contains("{n}") {
                        return Err(self.invalid(format!(
                            "object `{}`: `count` needs `{{n}}` in the key",
                            o.key
                        )));
                    }
                    for i in 0..n {
                        let key = o.key.replace("{n}", &format!("{i:07}"));
                        bucket.objects.insert(key, obj.clone());
                    }
                }
            }
        }
        st.buckets.insert(b.name.clone(), bucket);
        Ok(())
    }
}

fn placeholder_lookup(file: &WorldFile) -> impl Fn(&str) -> Option<String> + '_ {
    move |k: &str| {
        if let Some(alias) = k.strip_prefix("canonical:") {
            let a = file.accounts.iter().find(|a| a.alias == alias)?;
            let id: AccountId = a.id.parse().ok()?;
            return Some(id.canonical_user_id());
        }
        if let Some(a) = file.accounts.iter().find(|a| a.alias == k) {
            return Some(a.id.clone());
        }
        file.vars.get(k).cloned()
    }
}

/// `/` or `/a/b/`.
pub fn norm_path(path: Option<&str>) -> String {
    let trimmed = path.unwrap_or("/").trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}
