//! IAM over the query protocol: users, access keys, roles, inline and customer managed
//! policies, and attaching managed policies — the calls ferry's scenarios and the copy engine's
//! preflight make.
//!
//! Every call is authorized first, as AWS does: `iam:<Action>` on the resource the IAM service
//! authorization reference names (`arn:aws:iam::ACCT:user{path}{name}`, `…:role…`,
//! `…:policy…`; List* calls on the path prefix, `arn:aws:iam::ACCT:user/`), always against the
//! caller's own account. Parameter validation (names, paths, lengths) comes before authorization,
//! existence and conflicts after it, so an unauthorized caller learns nothing about entities.
//!
//! AWS behaviours kept here:
//! - names are unique case-insensitively (`Bob` collides with `bob`) and looked up the same way;
//! - policy documents are validated when written (`MalformedPolicyDocument`), size quotas are
//!   `LimitExceeded` (409) as AWS reports them, and trust policies may only name principals
//!   that exist (`Invalid principal in policy: "AWS":"ARN"`);
//! - deleting a user or role that still has keys or policies is 409 `DeleteConflict`; deleting
//!   a policy that is attached (or used as a boundary) likewise;
//! - documents are returned URL-encoded (`GetRole`, `GetUserPolicy`, `GetPolicyVersion`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::query::{iso8601, url_encode, Params, QueryError, Xml};
use super::state::{
    AccessKey, Account, Caller, KeyOwner, ManagedPolicy, Role, SessionKind, State, StoredPolicy,
    User,
};
use super::world::norm_path;
use super::{ids, Emulator, RequestMeta, Verdict};
use crate::policy::{Context, Policy, PolicyKind, PrincipalEntry, PrincipalKind, Value};
use crate::types::AccountId;

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Access keys per user (and for the root user), as AWS limits them.
const MAX_ACCESS_KEYS: usize = 2;
/// Managed policies attached to one user or role.
const MAX_ATTACHED: usize = 10;
/// Characters (whitespace excluded) of a managed policy document.
const MANAGED_POLICY_SIZE: usize = 6144;
/// Characters (whitespace excluded) of a role's trust policy.
const TRUST_POLICY_SIZE: usize = 2048;

/// Handles one IAM action; returns the `<ActionResult>` inner XML ("" for actions without output).
pub fn handle(
    emu: &Emulator,
    caller: &Caller,
    action: &str,
    params: &Params,
    meta: &RequestMeta,
) -> Result<String, QueryError> {
    let account = caller.account().ok_or_else(|| {
        QueryError::access_denied("IAM requires a signed request from an identity of an account")
    })?;
    let c = Call {
        emu,
        caller,
        meta,
        params,
        account,
        action,
    };
    match action {
        "CreateUser" => create_user(&c),
        "GetUser" => get_user(&c),
        "DeleteUser" => delete_user(&c),
        "ListUsers" => list_users(&c),
        "CreateAccessKey" => create_access_key(&c),
        "DeleteAccessKey" => delete_access_key(&c),
        "ListAccessKeys" => list_access_keys(&c),
        "CreateRole" => create_role(&c),
        "GetRole" => get_role(&c),
        "DeleteRole" => delete_role(&c),
        "ListRoles" => list_roles(&c),
        "UpdateAssumeRolePolicy" => update_assume_role_policy(&c),
        "PutUserPolicy" => put_inline(&c, Which::User),
        "GetUserPolicy" => get_inline(&c, Which::User),
        "DeleteUserPolicy" => delete_inline(&c, Which::User),
        "ListUserPolicies" => list_inline(&c, Which::User),
        "PutRolePolicy" => put_inline(&c, Which::Role),
        "GetRolePolicy" => get_inline(&c, Which::Role),
        "DeleteRolePolicy" => delete_inline(&c, Which::Role),
        "ListRolePolicies" => list_inline(&c, Which::Role),
        "CreatePolicy" => create_policy(&c),
        "GetPolicy" => get_policy(&c),
        "GetPolicyVersion" => get_policy_version(&c),
        "DeletePolicy" => delete_policy(&c),
        "AttachUserPolicy" => attach(&c, Which::User),
        "DetachUserPolicy" => detach(&c, Which::User),
        "ListAttachedUserPolicies" => list_attached(&c, Which::User),
        "AttachRolePolicy" => attach(&c, Which::Role),
        "DetachRolePolicy" => detach(&c, Which::Role),
        "ListAttachedRolePolicies" => list_attached(&c, Which::Role),
        other => Err(QueryError::sender(
            "InvalidAction",
            format!("Could not find operation {other} for version 2010-05-08"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// The request being handled, and its authorization.

struct Call<'a> {
    emu: &'a Emulator,
    caller: &'a Caller,
    meta: &'a RequestMeta,
    params: &'a Params,
    account: AccountId,
    action: &'a str,
}

impl Call<'_> {
    /// Authorizes `iam:<Action>` on `resource` (an entity with `tags`), letting `edit` add
    /// request-specific condition keys. Denials are 403 `AccessDenied` with AWS's message.
    fn authorize_with(
        &self,
        resource: &str,
        tags: &[(String, String)],
        edit: impl FnOnce(&mut Context),
    ) -> Result<(), QueryError> {
        let action = format!("iam:{}", self.action);
        let mut ctx = self.emu.context(self.caller, self.meta);
        for (k, v) in tags {
            ctx.set(&format!("aws:ResourceTag/{k}"), v.as_str());
            ctx.set(&format!("iam:ResourceTag/{k}"), v.as_str());
        }
        edit(&mut ctx);
        let verdict = self.emu.authorize(
            self.caller,
            &action,
            resource,
            Some(self.account),
            &ctx,
            None,
            false,
        );
        if verdict.allowed() {
            Ok(())
        } else {
            Err(denied(self.caller, &action, resource, &verdict))
        }
    }

    fn authorize(&self, resource: &str, tags: &[(String, String)]) -> Result<(), QueryError> {
        self.authorize_with(resource, tags, |_| {})
    }

    fn arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.account)
    }
}

/// AWS's denial. IAM prints the resource bare (`on resource: arn:aws:iam::…:role/r`), unlike
/// S3, which quotes it; the shared message is reshaped accordingly.
fn denied(caller: &Caller, action: &str, resource: &str, verdict: &Verdict) -> QueryError {
    let msg = super::denial_message(caller, action, resource, verdict).replacen(
        &format!("on resource: \"{resource}\""),
        &format!("on resource: {resource}"),
        1,
    );
    QueryError::access_denied(msg)
}

/// Adds `aws:RequestTag/KEY` and `aws:TagKeys` for tags passed to a Create call.
fn request_tags(ctx: &mut Context, tags: &[(String, String)]) {
    if tags.is_empty() {
        return;
    }
    for (k, v) in tags {
        ctx.set(&format!("aws:RequestTag/{k}"), v.as_str());
    }
    ctx.set_all(
        "aws:TagKeys",
        tags.iter().map(|(k, _)| Value::from(k.as_str())).collect(),
    );
}

fn account_of(st: &State, id: AccountId) -> Result<&Account, QueryError> {
    st.accounts.get(&id).ok_or_else(|| no_account(id))
}

fn account_mut(st: &mut State, id: AccountId) -> Result<&mut Account, QueryError> {
    st.accounts.get_mut(&id).ok_or_else(|| no_account(id))
}

fn no_account(id: AccountId) -> QueryError {
    QueryError::new(
        500,
        "ServiceFailure",
        format!("account {id} is not known to the emulator"),
    )
}

// ---------------------------------------------------------------------------------------------
// Errors and validation.

fn validation(message: impl Into<String>) -> QueryError {
    QueryError::sender("ValidationError", message)
}

fn conflict(code: &str, message: impl Into<String>) -> QueryError {
    QueryError::new(409, code, message)
}

fn malformed(message: impl Into<String>) -> QueryError {
    QueryError::sender("MalformedPolicyDocument", message)
}

fn non_user_credentials() -> QueryError {
    validation("Must specify userName when calling with non-User credentials")
}

/// A user, role or policy name: `[\w+=,.@-]+`, at most `max` characters.
fn check_name(value: &str, field: &str, max: usize) -> Result<(), QueryError> {
    if value.chars().count() > max {
        return Err(validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        )));
    }
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )));
    }
    Ok(())
}

/// A required name parameter, validated.
fn name_param<'p>(params: &'p Params, key: &str, max: usize) -> Result<&'p str, QueryError> {
    let v = params.required(key)?;
    check_name(v, &lower_first(key), max)?;
    Ok(v)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `Path`: `/` or `/a/b/`, printable ASCII, at most 512 characters (default `/`).
fn path_param(params: &Params) -> Result<String, QueryError> {
    let Some(p) = params.get("Path").filter(|p| !p.is_empty()) else {
        return Ok("/".to_owned());
    };
    if p.len() > 512 {
        return Err(validation(format!(
            "1 validation error detected: Value '{p}' at 'path' failed to satisfy constraint: Member must have length less than or equal to 512"
        )));
    }
    let printable = p.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if !printable || !p.starts_with('/') || !p.ends_with('/') {
        return Err(validation(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.",
        ));
    }
    Ok(norm_path(Some(p)))
}

/// `PathPrefix` of the List* calls: starts with `/` (default `/`).
fn path_prefix_param(params: &Params) -> Result<String, QueryError> {
    let Some(p) = params.get("PathPrefix").filter(|p| !p.is_empty()) else {
        return Ok("/".to_owned());
    };
    let printable = p.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if p.len() > 512 || !printable || !p.starts_with('/') {
        return Err(validation(format!(
            "1 validation error detected: Value '{p}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*"
        )));
    }
    Ok(p.to_owned())
}

/// `Description`: at most 1000 characters.
fn description_param(params: &Params) -> Result<Option<String>, QueryError> {
    match params.get("Description") {
        None => Ok(None),
        Some(d) if d.chars().count() > 1000 => Err(validation(format!(
            "1 validation error detected: Value '{d}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000"
        ))),
        Some(d) => Ok(Some(d.to_owned())),
    }
}

/// `Tags.member.N.Key` / `.Value`: at most 50, keys 1–128 and values 0–256 characters, keys
/// unique case-insensitively.
fn tags_param(params: &Params) -> Result<Vec<(String, String)>, QueryError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let keys = params.members("Tags", Some("Key"));
    if keys.len() > 50 {
        return Err(validation(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    for n in 1..=keys.len().max(50) {
        let Some(k) = params.get(&format!("Tags.member.{n}.Key")) else {
            continue;
        };
        let v = params
            .get(&format!("Tags.member.{n}.Value"))
            .unwrap_or_default();
        if k.is_empty() || k.chars().count() > 128 {
            return Err(validation(format!(
                "1 validation error detected: Value '{k}' at 'tags.{n}.member.key' failed to satisfy constraint: Member must have length between 1 and 128"
            )));
        }
        if v.chars().count() > 256 {
            return Err(validation(format!(
                "1 validation error detected: Value '{v}' at 'tags.{n}.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"
            )));
        }
        if out.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)) {
            return Err(QueryError::sender(
                "InvalidInput",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

/// `MaxSessionDuration`: 3600–43200 seconds (default 3600).
fn max_session_param(params: &Params) -> Result<u32, QueryError> {
    let Some(v) = params.get("MaxSessionDuration").filter(|v| !v.is_empty()) else {
        return Ok(3600);
    };
    let n: i64 = v.parse().map_err(|_| {
        validation(format!(
            "1 validation error detected: Value '{v}' at 'maxSessionDuration' failed to satisfy constraint: Member must be a number"
        ))
    })?;
    if n < 3600 {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"
        )));
    }
    if n > 43_200 {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"
        )));
    }
    u32::try_from(n).map_err(|_| validation(format!("`{v}` is not a valid MaxSessionDuration")))
}

/// A policy ARN parameter (`PolicyArn`, `PermissionsBoundary`): syntactically an ARN.
fn arn_param<'p>(params: &'p Params, key: &str) -> Result<&'p str, QueryError> {
    let arn = params.required(key)?;
    check_arn(arn)?;
    Ok(arn)
}

fn check_arn(arn: &str) -> Result<(), QueryError> {
    let ok = (20..=2048).contains(&arn.len())
        && crate::types::split_arn(arn).is_some_and(|p| p[0] == "arn" && !p[2].is_empty());
    if ok {
        Ok(())
    } else {
        Err(QueryError::sender(
            "InvalidInput",
            format!("ARN {arn} is not valid."),
        ))
    }
}

/// The size IAM counts against policy quotas: characters, whitespace excluded.
fn policy_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// Parses a document of `kind`, or 400 `MalformedPolicyDocument` with the parser's message.
fn parse_document(text: &str, kind: PolicyKind) -> Result<StoredPolicy, QueryError> {
    StoredPolicy::parse(text, kind).map_err(|e| malformed(e.message))
}

/// A trust policy may name only principals that exist (AWS resolves them to unique IDs when the
/// policy is written). AWS reports the first one it cannot resolve.
fn check_principals(st: &State, policy: &Policy) -> Result<(), QueryError> {
    for statement in &policy.statements {
        let Some(spec) = &statement.principal else {
            continue;
        };
        if let Some(e) = spec.entries.iter().find(|e| !st.principal_exists(e)) {
            return Err(malformed(format!(
                "Invalid principal in policy: {}",
                describe_principal(e)
            )));
        }
    }
    Ok(())
}

fn describe_principal(e: &PrincipalEntry) -> String {
    match e {
        PrincipalEntry::Anyone => "\"AWS\":\"*\"".to_owned(),
        PrincipalEntry::Account(id) => format!("\"AWS\":\"{}\"", id.root_arn()),
        PrincipalEntry::User(a)
        | PrincipalEntry::Role(a)
        | PrincipalEntry::AssumedRole(a)
        | PrincipalEntry::FederatedUser(a)
        | PrincipalEntry::OtherArn(a) => format!("\"AWS\":\"{a}\""),
        PrincipalEntry::Service(s) => format!("\"Service\":\"{s}\""),
        PrincipalEntry::Federated(s) => format!("\"Federated\":\"{s}\""),
        PrincipalEntry::CanonicalUser(s) => format!("\"CanonicalUser\":\"{s}\""),
    }
}

/// A permissions boundary must be a managed policy of this account or a known AWS one.
fn check_boundary(acct: &Account, arn: &str) -> Result<(), QueryError> {
    if find_policy(acct, arn).is_some() {
        Ok(())
    } else {
        Err(QueryError::no_such_entity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        )))
    }
}

/// `MaxItems` / `Marker` pagination (the marker is an opaque offset).
fn paginate<T>(items: Vec<T>, params: &Params) -> Result<(Vec<T>, Option<String>), QueryError> {
    let max = match params.get("MaxItems").filter(|m| !m.is_empty()) {
        None => 100,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                validation(format!(
                    "1 validation error detected: Value '{m}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
                ))
            })?,
    };
    let start = match params.get("Marker").filter(|m| !m.is_empty()) {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| QueryError::sender("InvalidInput", "Invalid Marker."))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = start.saturating_add(page.len());
    Ok((page, (next < total).then(|| next.to_string())))
}

fn truncation(x: &mut Xml, marker: Option<String>) {
    x.leaf(
        "IsTruncated",
        if marker.is_some() { "true" } else { "false" },
    );
    x.opt("Marker", marker.as_deref());
}

// ---------------------------------------------------------------------------------------------
// Users and roles alike.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    User,
    Role,
}

impl Which {
    fn param(self) -> &'static str {
        match self {
            Which::User => "UserName",
            Which::Role => "RoleName",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Which::User => "user",
            Which::Role => "role",
        }
    }

    fn inline_kind(self) -> PolicyKind {
        match self {
            Which::User => PolicyKind::UserInline,
            Which::Role => PolicyKind::RoleInline,
        }
    }

    /// The aggregate size of an entity's inline policies.
    fn inline_limit(self) -> usize {
        match self {
            Which::User => 2048,
            Which::Role => 10_240,
        }
    }

    fn not_found(self, name: &str) -> QueryError {
        QueryError::no_such_entity(format!(
            "The {} with name {name} cannot be found.",
            self.noun()
        ))
    }

    /// The stored name of the entity called `name` (case-insensitively, exact match first).
    fn find(self, acct: &Account, name: &str) -> Option<String> {
        match self {
            Which::User => find_key(&acct.users, name),
            Which::Role => find_key(&acct.roles, name),
        }
    }

    fn entity<'a>(self, acct: &'a Account, key: &str) -> Option<&'a dyn Entity> {
        match self {
            Which::User => acct.users.get(key).map(|u| u as &dyn Entity),
            Which::Role => acct.roles.get(key).map(|r| r as &dyn Entity),
        }
    }

    fn entity_mut<'a>(self, acct: &'a mut Account, key: &str) -> Option<&'a mut dyn Entity> {
        match self {
            Which::User => acct.users.get_mut(key).map(|u| u as &mut dyn Entity),
            Which::Role => acct.roles.get_mut(key).map(|r| r as &mut dyn Entity),
        }
    }
}

/// What users and roles share.
trait Entity {
    fn arn(&self) -> &str;
    fn tags(&self) -> &[(String, String)];
    fn inline(&self) -> &BTreeMap<String, StoredPolicy>;
    fn inline_mut(&mut self) -> &mut BTreeMap<String, StoredPolicy>;
    fn attached(&self) -> &[String];
    fn attached_mut(&mut self) -> &mut Vec<String>;
}

impl Entity for User {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
    fn inline(&self) -> &BTreeMap<String, StoredPolicy> {
        &self.inline
    }
    fn inline_mut(&mut self) -> &mut BTreeMap<String, StoredPolicy> {
        &mut self.inline
    }
    fn attached(&self) -> &[String] {
        &self.attached
    }
    fn attached_mut(&mut self) -> &mut Vec<String> {
        &mut self.attached
    }
}

impl Entity for Role {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
    fn inline(&self) -> &BTreeMap<String, StoredPolicy> {
        &self.inline
    }
    fn inline_mut(&mut self) -> &mut BTreeMap<String, StoredPolicy> {
        &mut self.inline
    }
    fn attached(&self) -> &[String] {
        &self.attached
    }
    fn attached_mut(&mut self) -> &mut Vec<String> {
        &mut self.attached
    }
}

fn find_key<T>(map: &BTreeMap<String, T>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_owned());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// A user or role named in a request: its stored name if it exists, and the ARN and tags the
/// call is authorized against (`…:user/NAME` when it does not exist).
struct Target {
    key: Option<String>,
    arn: String,
    tags: Vec<(String, String)>,
}

fn target(c: &Call, acct: &Account, which: Which, name: &str) -> Target {
    let found = which
        .find(acct, name)
        .and_then(|k| which.entity(acct, &k).map(|e| (k, e)));
    match found {
        Some((key, e)) => Target {
            arn: e.arn().to_owned(),
            tags: e.tags().to_vec(),
            key: Some(key),
        },
        None => Target {
            key: None,
            arn: c.arn(which.noun(), "/", name),
            tags: Vec::new(),
        },
    }
}

fn tags_xml(x: &mut Xml, tags: &[(String, String)]) {
    if tags.is_empty() {
        return;
    }
    x.open("Tags");
    for (k, v) in tags {
        x.open("member");
        x.leaf("Key", k);
        x.leaf("Value", v);
        x.close("member");
    }
    x.close("Tags");
}

fn boundary_xml(x: &mut Xml, boundary: Option<&str>) {
    if let Some(b) = boundary {
        x.open("PermissionsBoundary");
        x.leaf("PermissionsBoundaryType", "PermissionsBoundaryPolicy");
        x.leaf("PermissionsBoundaryArn", b);
        x.close("PermissionsBoundary");
    }
}

// ---------------------------------------------------------------------------------------------
// Users.

/// The `User` element's content; `detail` adds the boundary and tags (Create/GetUser).
fn user_xml(x: &mut Xml, u: &User, detail: bool) {
    x.leaf("Path", &u.path);
    x.leaf("UserName", &u.name);
    x.leaf("UserId", &u.id);
    x.leaf("Arn", &u.arn);
    x.leaf("CreateDate", &iso8601(u.created));
    if detail {
        boundary_xml(x, u.boundary.as_deref());
        tags_xml(x, &u.tags);
    }
}

fn create_user(c: &Call) -> Result<String, QueryError> {
    let name = name_param(c.params, "UserName", 64)?;
    let path = path_param(c.params)?;
    let tags = tags_param(c.params)?;
    let boundary = match c
        .params
        .get("PermissionsBoundary")
        .filter(|b| !b.is_empty())
    {
        Some(_) => Some(arn_param(c.params, "PermissionsBoundary")?),
        None => None,
    };
    let arn = c.arn("user", &path, name);
    c.authorize_with(&arn, &[], |ctx| {
        request_tags(ctx, &tags);
        if let Some(b) = boundary {
            ctx.set("iam:PermissionsBoundary", b);
        }
    })?;
    let mut guard = c.emu.write();
    let acct = account_mut(&mut guard, c.account)?;
    if find_key(&acct.users, name).is_some() {
        return Err(conflict(
            "EntityAlreadyExists",
            format!("User with name {name} already exists."),
        ));
    }
    if let Some(b) = boundary {
        check_boundary(acct, b)?;
    }
    let user = User {
        name: name.to_owned(),
        path,
        id: ids::unique_id("AIDA"),
        arn,
        created: SystemTime::now(),
        inline: BTreeMap::new(),
        attached: Vec::new(),
        boundary: boundary.map(str::to_owned),
        tags,
    };
    let mut x = Xml::new();
    x.open("User");
    user_xml(&mut x, &user, true);
    x.close("User");
    acct.users.insert(name.to_owned(), user);
    Ok(x.finish())
}

/// Whom a call without `UserName` is about: the calling user, or the root user.
enum Subject {
    Root,
    User(String),
}

fn subject(c: &Call) -> Result<Subject, QueryError> {
    if let Some(n) = c.params.get("UserName").filter(|n| !n.is_empty()) {
        check_name(n, "userName", 128)?;
        return Ok(Subject::User(n.to_owned()));
    }
    match c.caller.principal.kind {
        PrincipalKind::Root => Ok(Subject::Root),
        PrincipalKind::User => c
            .caller
            .principal
            .username()
            .map(|n| Subject::User(n.to_owned()))
            .ok_or_else(non_user_credentials),
        _ => Err(non_user_credentials()),
    }
}

fn get_user(c: &Call) -> Result<String, QueryError> {
    let subject = subject(c)?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let mut x = Xml::new();
    x.open("User");
    match subject {
        Subject::Root => {
            // AWS answers with the account's root identity: no UserName and no Path.
            let arn = c.account.root_arn();
            c.authorize(&arn, &[])?;
            let created = st
                .keys
                .get(&acct.root_key)
                .map(|k| k.created)
                .unwrap_or_else(SystemTime::now);
            x.leaf("UserId", c.account.as_str());
            x.leaf("Arn", &arn);
            x.leaf("CreateDate", &iso8601(created));
        }
        Subject::User(name) => {
            let t = target(c, acct, Which::User, &name);
            c.authorize(&t.arn, &t.tags)?;
            let user = t
                .key
                .and_then(|k| acct.users.get(&k))
                .ok_or_else(|| Which::User.not_found(&name))?;
            user_xml(&mut x, user, true);
        }
    }
    x.close("User");
    Ok(x.finish())
}

fn delete_user(c: &Call) -> Result<String, QueryError> {
    let name = name_param(c.params, "UserName", 128)?;
    let mut guard = c.emu.write();
    let st: &mut State = &mut guard;
    let acct = account_of(st, c.account)?;
    let t = target(c, acct, Which::User, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| Which::User.not_found(name))?;
    let account = c.account;
    let has_keys = st.keys.values().any(|k| {
        matches!(&k.owner, KeyOwner::User { account: a, user } if *a == account && *user == key)
    });
    if has_keys {
        return Err(conflict(
            "DeleteConflict",
            "Cannot delete entity, must delete access keys first.",
        ));
    }
    let user = acct
        .users
        .get(&key)
        .ok_or_else(|| Which::User.not_found(name))?;
    if !user.inline.is_empty() {
        return Err(conflict(
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !user.attached.is_empty() {
        return Err(conflict(
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    let removed = account_mut(st, account)?.users.remove(&key);
    if let Some(u) = removed {
        st.orphan_principal(&u.arn, &u.id);
    }
    // Session credentials the user obtained (GetSessionToken) die with it.
    st.keys.retain(|_, k| match &k.owner {
        KeyOwner::Session(s) => {
            !(s.account == account && matches!(&s.kind, SessionKind::User { user } if *user == key))
        }
        _ => true,
    });
    Ok(String::new())
}

fn list_users(c: &Call) -> Result<String, QueryError> {
    let prefix = path_prefix_param(c.params)?;
    c.authorize(&c.arn("user", &prefix, ""), &[])?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let mut users: Vec<&User> = acct
        .users
        .values()
        .filter(|u| u.path.starts_with(&prefix))
        .collect();
    users.sort_by(|a, b| {
        a.name
            .to_ascii_lowercase()
            .cmp(&b.name.to_ascii_lowercase())
            .then_with(|| a.name.cmp(&b.name))
    });
    let (page, marker) = paginate(users, c.params)?;
    let mut x = Xml::new();
    x.open("Users");
    for u in page {
        x.open("member");
        user_xml(&mut x, u, false);
        x.close("member");
    }
    x.close("Users");
    truncation(&mut x, marker);
    Ok(x.finish())
}

// ---------------------------------------------------------------------------------------------
// Access keys.

fn key_status(k: &AccessKey) -> &'static str {
    if k.active {
        "Active"
    } else {
        "Inactive"
    }
}

/// Whether `k` is a long-term key of the subject (root or the user stored as `user`).
fn key_of(k: &AccessKey, account: AccountId, user: Option<&str>) -> bool {
    match (&k.owner, user) {
        (KeyOwner::Root(a), None) => *a == account,
        (
            KeyOwner::User {
                account: a,
                user: u,
            },
            Some(name),
        ) => *a == account && u == name,
        _ => false,
    }
}

/// Resolves the subject of an access-key call to (stored user name or None for root), after
/// authorizing against the user's (or the root user's) ARN.
fn key_subject(c: &Call, acct: &Account, subject: &Subject) -> Result<Option<String>, QueryError> {
    match subject {
        Subject::Root => {
            c.authorize(&c.account.root_arn(), &[])?;
            Ok(None)
        }
        Subject::User(name) => {
            let t = target(c, acct, Which::User, name);
            c.authorize(&t.arn, &t.tags)?;
            t.key.map(Some).ok_or_else(|| Which::User.not_found(name))
        }
    }
}

fn create_access_key(c: &Call) -> Result<String, QueryError> {
    let subject = subject(c)?;
    let mut guard = c.emu.write();
    let st: &mut State = &mut guard;
    let user = key_subject(c, account_of(st, c.account)?, &subject)?;
    let count = st
        .keys
        .values()
        .filter(|k| key_of(k, c.account, user.as_deref()))
        .count();
    if count >= MAX_ACCESS_KEYS {
        return Err(conflict(
            "LimitExceeded",
            format!("Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}"),
        ));
    }
    let mut id = ids::access_key_id();
    while st.keys.contains_key(&id) {
        id = ids::access_key_id();
    }
    let key = AccessKey {
        id: id.clone(),
        secret: ids::secret_key(),
        owner: match &user {
            Some(u) => KeyOwner::User {
                account: c.account,
                user: u.clone(),
            },
            None => KeyOwner::Root(c.account),
        },
        active: true,
        created: SystemTime::now(),
    };
    let mut x = Xml::new();
    x.open("AccessKey");
    // Root keys belong to no IAM user: AWS leaves UserName out.
    x.opt("UserName", user.as_deref());
    x.leaf("AccessKeyId", &key.id);
    x.leaf("Status", key_status(&key));
    x.leaf("SecretAccessKey", &key.secret);
    x.leaf("CreateDate", &iso8601(key.created));
    x.close("AccessKey");
    st.keys.insert(id, key);
    Ok(x.finish())
}

fn delete_access_key(c: &Call) -> Result<String, QueryError> {
    let key_id = c.params.required("AccessKeyId")?;
    if !(16..=128).contains(&key_id.len()) || !key_id.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        return Err(validation(format!(
            "1 validation error detected: Value '{key_id}' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+"
        )));
    }
    let subject = subject(c)?;
    let mut guard = c.emu.write();
    let st: &mut State = &mut guard;
    let user = key_subject(c, account_of(st, c.account)?, &subject)?;
    let owned = st
        .keys
        .get(key_id)
        .is_some_and(|k| key_of(k, c.account, user.as_deref()));
    if !owned {
        return Err(QueryError::no_such_entity(format!(
            "The Access Key with id {key_id} cannot be found."
        )));
    }
    st.keys.remove(key_id);
    Ok(String::new())
}

fn list_access_keys(c: &Call) -> Result<String, QueryError> {
    let subject = subject(c)?;
    let st = c.emu.read();
    let user = key_subject(c, account_of(&st, c.account)?, &subject)?;
    let mut keys: Vec<&AccessKey> = st
        .keys
        .values()
        .filter(|k| key_of(k, c.account, user.as_deref()))
        .collect();
    keys.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    let (page, marker) = paginate(keys, c.params)?;
    let mut x = Xml::new();
    x.open("AccessKeyMetadata");
    for k in page {
        x.open("member");
        x.opt("UserName", user.as_deref());
        x.leaf("AccessKeyId", &k.id);
        x.leaf("Status", key_status(k));
        x.leaf("CreateDate", &iso8601(k.created));
        x.close("member");
    }
    x.close("AccessKeyMetadata");
    truncation(&mut x, marker);
    Ok(x.finish())
}

// ---------------------------------------------------------------------------------------------
// Roles.

/// The `Role` element's content; `detail` adds the boundary, tags and `RoleLastUsed` (GetRole).
fn role_xml(x: &mut Xml, r: &Role, detail: bool) {
    x.leaf("Path", &r.path);
    x.leaf("RoleName", &r.name);
    x.leaf("RoleId", &r.id);
    x.leaf("Arn", &r.arn);
    x.leaf("CreateDate", &iso8601(r.created));
    x.leaf("AssumeRolePolicyDocument", &url_encode(&r.trust.text));
    x.opt("Description", r.description.as_deref());
    x.leaf("MaxSessionDuration", &r.max_session_duration.to_string());
    if detail {
        boundary_xml(x, r.boundary.as_deref());
        tags_xml(x, &r.tags);
        x.open("RoleLastUsed");
        x.close("RoleLastUsed");
    }
}

/// Validates a trust policy being written: size quota, grammar, then principals.
fn trust_document(st: &State, text: &str) -> Result<StoredPolicy, QueryError> {
    if policy_size(text) > TRUST_POLICY_SIZE {
        return Err(conflict(
            "LimitExceeded",
            format!("Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}"),
        ));
    }
    let doc = parse_document(text, PolicyKind::Trust)?;
    check_principals(st, &doc.parsed)?;
    Ok(doc)
}

fn create_role(c: &Call) -> Result<String, QueryError> {
    let name = name_param(c.params, "RoleName", 64)?;
    let path = path_param(c.params)?;
    let trust_text = c.params.required("AssumeRolePolicyDocument")?;
    let max = max_session_param(c.params)?;
    let description = description_param(c.params)?;
    let tags = tags_param(c.params)?;
    let boundary = match c
        .params
        .get("PermissionsBoundary")
        .filter(|b| !b.is_empty())
    {
        Some(_) => Some(arn_param(c.params, "PermissionsBoundary")?),
        None => None,
    };
    let arn = c.arn("role", &path, name);
    c.authorize_with(&arn, &[], |ctx| {
        request_tags(ctx, &tags);
        if let Some(b) = boundary {
            ctx.set("iam:PermissionsBoundary", b);
        }
    })?;
    let mut guard = c.emu.write();
    let st: &mut State = &mut guard;
    let trust = trust_document(st, trust_text)?;
    let acct = account_mut(st, c.account)?;
    if find_key(&acct.roles, name).is_some() {
        return Err(conflict(
            "EntityAlreadyExists",
            format!("Role with name {name} already exists."),
        ));
    }
    if let Some(b) = boundary {
        check_boundary(acct, b)?;
    }
    let role = Role {
        name: name.to_owned(),
        path,
        id: ids::unique_id("AROA"),
        arn,
        created: SystemTime::now(),
        trust,
        inline: BTreeMap::new(),
        attached: Vec::new(),
        boundary: boundary.map(str::to_owned),
        max_session_duration: max,
        description,
        tags,
    };
    let mut x = Xml::new();
    x.open("Role");
    role_xml(&mut x, &role, false);
    boundary_xml(&mut x, role.boundary.as_deref());
    tags_xml(&mut x, &role.tags);
    x.close("Role");
    acct.roles.insert(name.to_owned(), role);
    Ok(x.finish())
}

fn get_role(c: &Call) -> Result<String, QueryError> {
    let name = name_param(c.params, "RoleName", 64)?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let t = target(c, acct, Which::Role, name);
    c.authorize(&t.arn, &t.tags)?;
    let role = t
        .key
        .and_then(|k| acct.roles.get(&k))
        .ok_or_else(|| Which::Role.not_found(name))?;
    let mut x = Xml::new();
    x.open("Role");
    role_xml(&mut x, role, true);
    x.close("Role");
    Ok(x.finish())
}

fn delete_role(c: &Call) -> Result<String, QueryError> {
    let name = name_param(c.params, "RoleName", 64)?;
    let mut guard = c.emu.write();
    let st: &mut State = &mut guard;
    let acct = account_of(st, c.account)?;
    let t = target(c, acct, Which::Role, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| Which::Role.not_found(name))?;
    let role = acct
        .roles
        .get(&key)
        .ok_or_else(|| Which::Role.not_found(name))?;
    if !role.inline.is_empty() {
        return Err(conflict(
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !role.attached.is_empty() {
        return Err(conflict(
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    let role_id = role.id.clone();
    let role_arn = role.arn.clone();
    let account = c.account;
    account_mut(st, account)?.roles.remove(&key);
    st.orphan_principal(&role_arn, &role_id);
    // Its sessions can no longer be resolved; drop their keys.
    st.keys.retain(|_, k| match &k.owner {
        KeyOwner::Session(s) => {
            !(s.account == account
                && matches!(&s.kind, SessionKind::Role { role_id: id, .. } if *id == role_id))
        }
        _ => true,
    });
    Ok(String::new())
}

fn list_roles(c: &Call) -> Result<String, QueryError> {
    let prefix = path_prefix_param(c.params)?;
    c.authorize(&c.arn("role", &prefix, ""), &[])?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let mut roles: Vec<&Role> = acct
        .roles
        .values()
        .filter(|r| r.path.starts_with(&prefix))
        .collect();
    roles.sort_by(|a, b| {
        a.name
            .to_ascii_lowercase()
            .cmp(&b.name.to_ascii_lowercase())
            .then_with(|| a.name.cmp(&b.name))
    });
    let (page, marker) = paginate(roles, c.params)?;
    let mut x = Xml::new();
    x.open("Roles");
    for r in page {
        x.open("member");
        role_xml(&mut x, r, false);
        x.close("member");
    }
    x.close("Roles");
    truncation(&mut x, marker);
    Ok(x.finish())
}

fn update_assume_role_policy(c: &Call) -> Result<String, QueryError> {
    let name = name_param(c.params, "RoleName", 64)?;
    let text = c.params.required("PolicyDocument")?;
    let mut guard = c.emu.write();
    let st: &mut State = &mut guard;
    let acct = account_of(st, c.account)?;
    let t = target(c, acct, Which::Role, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| Which::Role.not_found(name))?;
    let trust = trust_document(st, text)?;
    let role = account_mut(st, c.account)?
        .roles
        .get_mut(&key)
        .ok_or_else(|| Which::Role.not_found(name))?;
    role.trust = trust;
    Ok(String::new())
}

// ---------------------------------------------------------------------------------------------
// Inline policies.

fn put_inline(c: &Call, which: Which) -> Result<String, QueryError> {
    let name = name_param(c.params, which.param(), 128)?;
    let policy_name = name_param(c.params, "PolicyName", 128)?;
    let text = c.params.required("PolicyDocument")?;
    let mut guard = c.emu.write();
    let acct = account_mut(&mut guard, c.account)?;
    let t = target(c, acct, which, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| which.not_found(name))?;
    let entity = which
        .entity_mut(acct, &key)
        .ok_or_else(|| which.not_found(name))?;
    // The quota covers all of the entity's inline policies together.
    let others: usize = entity
        .inline()
        .iter()
        .filter(|(n, _)| n.as_str() != policy_name)
        .map(|(_, p)| policy_size(&p.text))
        .sum();
    let limit = which.inline_limit();
    if others + policy_size(text) > limit {
        return Err(conflict(
            "LimitExceeded",
            format!(
                "Maximum policy size of {limit} bytes exceeded for {} {key}",
                which.noun()
            ),
        ));
    }
    let doc = parse_document(text, which.inline_kind())?;
    entity.inline_mut().insert(policy_name.to_owned(), doc);
    Ok(String::new())
}

fn no_such_inline(which: Which, policy_name: &str) -> QueryError {
    QueryError::no_such_entity(format!(
        "The {} policy with name {policy_name} cannot be found.",
        which.noun()
    ))
}

fn get_inline(c: &Call, which: Which) -> Result<String, QueryError> {
    let name = name_param(c.params, which.param(), 128)?;
    let policy_name = name_param(c.params, "PolicyName", 128)?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let t = target(c, acct, which, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| which.not_found(name))?;
    let entity = which
        .entity(acct, &key)
        .ok_or_else(|| which.not_found(name))?;
    let doc = entity
        .inline()
        .get(policy_name)
        .ok_or_else(|| no_such_inline(which, policy_name))?;
    let mut x = Xml::new();
    x.leaf(which.param(), &key);
    x.leaf("PolicyName", policy_name);
    x.leaf("PolicyDocument", &url_encode(&doc.text));
    Ok(x.finish())
}

fn delete_inline(c: &Call, which: Which) -> Result<String, QueryError> {
    let name = name_param(c.params, which.param(), 128)?;
    let policy_name = name_param(c.params, "PolicyName", 128)?;
    let mut guard = c.emu.write();
    let acct = account_mut(&mut guard, c.account)?;
    let t = target(c, acct, which, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| which.not_found(name))?;
    which
        .entity_mut(acct, &key)
        .ok_or_else(|| which.not_found(name))?
        .inline_mut()
        .remove(policy_name)
        .ok_or_else(|| no_such_inline(which, policy_name))?;
    Ok(String::new())
}

fn list_inline(c: &Call, which: Which) -> Result<String, QueryError> {
    let name = name_param(c.params, which.param(), 128)?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let t = target(c, acct, which, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| which.not_found(name))?;
    let entity = which
        .entity(acct, &key)
        .ok_or_else(|| which.not_found(name))?;
    let names: Vec<&String> = entity.inline().keys().collect();
    let (page, marker) = paginate(names, c.params)?;
    let mut x = Xml::new();
    x.open("PolicyNames");
    for n in page {
        x.leaf("member", n);
    }
    x.close("PolicyNames");
    truncation(&mut x, marker);
    Ok(x.finish())
}

// ---------------------------------------------------------------------------------------------
// Managed policies.

/// AWS managed policies the emulator knows, with their documents (the same ones
/// `state::is_known_aws_managed` and `State::managed` resolve; a test keeps them in step).
const AWS_MANAGED: &[(&str, &str)] = &[
    (
        "AdministratorAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "AmazonS3FullAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3ReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
    (
        "IAMFullAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "IAMReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    ),
];

/// When the AWS managed policies were created, as far as the emulator says (2015-02-06).
const AWS_MANAGED_CREATED: u64 = 1_423_247_986;

/// A managed policy as the Get/List calls show it.
struct PolicyView {
    name: String,
    id: String,
    arn: String,
    path: String,
    created: SystemTime,
    description: Option<String>,
    text: String,
    /// The key in `Account::policies` (customer managed policies only).
    key: Option<String>,
}

/// (path, name) of a policy ARN: `arn:aws:iam::ACCT:policy/a/b/NAME` → (`/a/b/`, `NAME`).
fn policy_path_name(arn: &str) -> (String, String) {
    let resource = crate::types::split_arn(arn).map_or("", |p| p[5]);
    let rest = resource.strip_prefix("policy").unwrap_or(resource);
    match rest.rfind('/') {
        Some(i) => (rest[..=i].to_owned(), rest[i + 1..].to_owned()),
        None => ("/".to_owned(), rest.to_owned()),
    }
}

/// A stable unique ID for an AWS managed policy (`ANPA` + 17 characters).
fn aws_policy_id(name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::from("ANPA");
    for i in 0..17u8 {
        for b in name.bytes().chain([i]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push(char::from(ALPHABET[(h % 32) as usize]));
    }
    out
}

/// The managed policy `arn` names, if this account may use it: its own customer managed
/// policies and the AWS managed policies the emulator knows.
fn find_policy(acct: &Account, arn: &str) -> Option<PolicyView> {
    if let Some((key, p)) = acct.policies.iter().find(|(_, p)| p.arn == arn) {
        return Some(PolicyView {
            name: p.name.clone(),
            id: p.id.clone(),
            arn: p.arn.clone(),
            path: p.path.clone(),
            created: p.created,
            description: p.description.clone(),
            text: p.document.text.clone(),
            key: Some(key.clone()),
        });
    }
    let parts = crate::types::split_arn(arn)?;
    if parts[4] != "aws" || !super::state::is_known_aws_managed(arn) {
        return None;
    }
    let (path, name) = policy_path_name(arn);
    let text = AWS_MANAGED.iter().find(|(n, _)| *n == name)?.1;
    Some(PolicyView {
        id: aws_policy_id(&name),
        name,
        arn: arn.to_owned(),
        path,
        created: SystemTime::UNIX_EPOCH + Duration::from_secs(AWS_MANAGED_CREATED),
        description: None,
        text: text.to_owned(),
        key: None,
    })
}

/// (entities the policy is attached to, entities using it as permissions boundary).
fn usage(acct: &Account, arn: &str) -> (usize, usize) {
    let attached = acct
        .users
        .values()
        .filter(|u| u.attached.iter().any(|a| a == arn))
        .count()
        + acct
            .roles
            .values()
            .filter(|r| r.attached.iter().any(|a| a == arn))
            .count();
    let boundary = acct
        .users
        .values()
        .filter(|u| u.boundary.as_deref() == Some(arn))
        .count()
        + acct
            .roles
            .values()
            .filter(|r| r.boundary.as_deref() == Some(arn))
            .count();
    (attached, boundary)
}

fn policy_xml(x: &mut Xml, p: &PolicyView, usage: (usize, usize), detail: bool) {
    x.open("Policy");
    x.leaf("PolicyName", &p.name);
    x.leaf("PolicyId", &p.id);
    x.leaf("Arn", &p.arn);
    x.leaf("Path", &p.path);
    x.leaf("DefaultVersionId", "v1");
    x.leaf("AttachmentCount", &usage.0.to_string());
    x.leaf("PermissionsBoundaryUsageCount", &usage.1.to_string());
    x.leaf("IsAttachable", "true");
    if detail {
        x.opt("Description", p.description.as_deref());
    }
    x.leaf("CreateDate", &iso8601(p.created));
    x.leaf("UpdateDate", &iso8601(p.created));
    x.close("Policy");
}

fn policy_not_found(arn: &str) -> QueryError {
    QueryError::no_such_entity(format!("Policy {arn} was not found."))
}

fn not_attachable(arn: &str) -> QueryError {
    QueryError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

fn create_policy(c: &Call) -> Result<String, QueryError> {
    let name = name_param(c.params, "PolicyName", 128)?;
    let path = path_param(c.params)?;
    let text = c.params.required("PolicyDocument")?;
    let description = description_param(c.params)?;
    let tags = tags_param(c.params)?;
    let arn = c.arn("policy", &path, name);
    c.authorize_with(&arn, &[], |ctx| request_tags(ctx, &tags))?;
    if policy_size(text) > MANAGED_POLICY_SIZE {
        return Err(conflict(
            "LimitExceeded",
            format!("Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}"),
        ));
    }
    let document = parse_document(text, PolicyKind::Managed)?;
    let mut guard = c.emu.write();
    let acct = account_mut(&mut guard, c.account)?;
    if find_key(&acct.policies, name).is_some() {
        return Err(conflict(
            "EntityAlreadyExists",
            format!("A policy called {name} already exists. Duplicate names are not allowed."),
        ));
    }
    let policy = ManagedPolicy {
        name: name.to_owned(),
        path,
        id: ids::unique_id("ANPA"),
        arn,
        created: SystemTime::now(),
        document,
        description,
    };
    let view = PolicyView {
        name: policy.name.clone(),
        id: policy.id.clone(),
        arn: policy.arn.clone(),
        path: policy.path.clone(),
        created: policy.created,
        description: policy.description.clone(),
        text: String::new(),
        key: None,
    };
    acct.policies.insert(name.to_owned(), policy);
    let mut x = Xml::new();
    policy_xml(&mut x, &view, (0, 0), false);
    Ok(x.finish())
}

fn get_policy(c: &Call) -> Result<String, QueryError> {
    let arn = arn_param(c.params, "PolicyArn")?;
    c.authorize(arn, &[])?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let view = find_policy(acct, arn).ok_or_else(|| policy_not_found(arn))?;
    let mut x = Xml::new();
    policy_xml(&mut x, &view, usage(acct, arn), true);
    Ok(x.finish())
}

fn get_policy_version(c: &Call) -> Result<String, QueryError> {
    let arn = arn_param(c.params, "PolicyArn")?;
    let version = c.params.required("VersionId")?;
    let well_formed = version
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .is_some_and(|n| {
            !n.is_empty() && n.chars().all(|ch| ch.is_ascii_digit()) && !n.starts_with('0')
        });
    if !well_formed {
        return Err(validation(format!(
            "1 validation error detected: Value '{version}' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"
        )));
    }
    c.authorize(arn, &[])?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let view = find_policy(acct, arn).ok_or_else(|| policy_not_found(arn))?;
    if version != "v1" {
        return Err(QueryError::no_such_entity(format!(
            "Policy {arn} version {version} does not exist or is not attachable."
        )));
    }
    let mut x = Xml::new();
    x.open("PolicyVersion");
    x.leaf("Document", &url_encode(&view.text));
    x.leaf("VersionId", "v1");
    x.leaf("IsDefaultVersion", "true");
    x.leaf("CreateDate", &iso8601(view.created));
    x.close("PolicyVersion");
    Ok(x.finish())
}

fn delete_policy(c: &Call) -> Result<String, QueryError> {
    let arn = arn_param(c.params, "PolicyArn")?;
    c.authorize(arn, &[])?;
    let mut guard = c.emu.write();
    let acct = account_mut(&mut guard, c.account)?;
    let view = find_policy(acct, arn).ok_or_else(|| policy_not_found(arn))?;
    let Some(key) = view.key else {
        // AWS managed policies belong to AWS.
        return Err(QueryError::access_denied(format!(
            "User: {} is not authorized to perform: iam:DeletePolicy on resource: {arn}",
            c.caller.principal.arn
        )));
    };
    let (attached, boundary) = usage(acct, arn);
    if attached + boundary > 0 {
        return Err(conflict(
            "DeleteConflict",
            "Cannot delete a policy attached to entities.",
        ));
    }
    acct.policies.remove(&key);
    Ok(String::new())
}

fn attach(c: &Call, which: Which) -> Result<String, QueryError> {
    let name = name_param(c.params, which.param(), 128)?;
    let arn = arn_param(c.params, "PolicyArn")?;
    let mut guard = c.emu.write();
    let acct = account_mut(&mut guard, c.account)?;
    let t = target(c, acct, which, name);
    c.authorize_with(&t.arn, &t.tags, |ctx| {
        ctx.set("iam:PolicyARN", arn);
    })?;
    let key = t.key.ok_or_else(|| which.not_found(name))?;
    if find_policy(acct, arn).is_none() {
        return Err(not_attachable(arn));
    }
    let entity = which
        .entity_mut(acct, &key)
        .ok_or_else(|| which.not_found(name))?;
    let attached = entity.attached_mut();
    if attached.iter().any(|a| a == arn) {
        return Ok(String::new());
    }
    if attached.len() >= MAX_ATTACHED {
        let quota = match which {
            Which::User => "PoliciesPerUser",
            Which::Role => "PoliciesPerRole",
        };
        return Err(conflict(
            "LimitExceeded",
            format!("Cannot exceed quota for {quota}: {MAX_ATTACHED}"),
        ));
    }
    attached.push(arn.to_owned());
    Ok(String::new())
}

fn detach(c: &Call, which: Which) -> Result<String, QueryError> {
    let name = name_param(c.params, which.param(), 128)?;
    let arn = arn_param(c.params, "PolicyArn")?;
    let mut guard = c.emu.write();
    let acct = account_mut(&mut guard, c.account)?;
    let t = target(c, acct, which, name);
    c.authorize_with(&t.arn, &t.tags, |ctx| {
        ctx.set("iam:PolicyARN", arn);
    })?;
    let key = t.key.ok_or_else(|| which.not_found(name))?;
    let attached = which
        .entity_mut(acct, &key)
        .ok_or_else(|| which.not_found(name))?
        .attached_mut();
    let before = attached.len();
    attached.retain(|a| a != arn);
    if attached.len() == before {
        return Err(policy_not_found(arn));
    }
    Ok(String::new())
}

fn list_attached(c: &Call, which: Which) -> Result<String, QueryError> {
    let name = name_param(c.params, which.param(), 128)?;
    let prefix = path_prefix_param(c.params)?;
    let st = c.emu.read();
    let acct = account_of(&st, c.account)?;
    let t = target(c, acct, which, name);
    c.authorize(&t.arn, &t.tags)?;
    let key = t.key.ok_or_else(|| which.not_found(name))?;
    let entity = which
        .entity(acct, &key)
        .ok_or_else(|| which.not_found(name))?;
    let policies: Vec<(String, &String)> = entity
        .attached()
        .iter()
        .filter_map(|arn| {
            let (path, name) = policy_path_name(arn);
            path.starts_with(&prefix).then_some((name, arn))
        })
        .collect();
    let (page, marker) = paginate(policies, c.params)?;
    let mut x = Xml::new();
    x.open("AttachedPolicies");
    for (name, arn) in page {
        x.open("member");
        x.leaf("PolicyName", &name);
        x.leaf("PolicyArn", arn);
        x.close("member");
    }
    x.close("AttachedPolicies");
    truncation(&mut x, marker);
    Ok(x.finish())
}

#[cfg(test)]
mod tests {
    use super::super::{Options, World};
    use super::*;
    use crate::emu::state::{KeyError, Session, SessionKind};
    use std::sync::Arc;

    const ROOT_A: &str = "AKIAFERRYROOTA000001";
    const A: &str = "111111111111";
    const META: RequestMeta = RequestMeta {
        source_ip: None,
        secure_transport: true,
    };

    fn emulator() -> (Emulator, Caller) {
        let emu = Emulator::new(&World::default_world(), Options::default()).unwrap();
        let root = emu.read().caller(ROOT_A, SystemTime::now()).unwrap();
        (emu, root)
    }

    fn call(
        emu: &Emulator,
        caller: &Caller,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<String, QueryError> {
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let params = Params::parse(&[body.as_bytes()]);
        handle(emu, caller, action, &params, &META)
    }

    fn ok(emu: &Emulator, caller: &Caller, action: &str, params: &[(&str, &str)]) -> String {
        match call(emu, caller, action, params) {
            Ok(x) => x,
            Err(e) => panic!("{action} failed: {e:?}"),
        }
    }

    fn err(emu: &Emulator, caller: &Caller, action: &str, params: &[(&str, &str)]) -> QueryError {
        match call(emu, caller, action, params) {
            Ok(x) => panic!("{action} succeeded: {x}"),
            Err(e) => e,
        }
    }

    fn between<'a>(xml: &'a str, tag: &str) -> &'a str {
        let open = format!("<{tag}>");
        let start = xml.find(&open).unwrap() + open.len();
        let end = xml[start..].find(&format!("</{tag}>")).unwrap();
        &xml[start..start + end]
    }

    /// Creates a user with an access key and returns its caller.
    fn user(emu: &Emulator, root: &Caller, name: &str) -> Caller {
        ok(emu, root, "CreateUser", &[("UserName", name)]);
        caller_of(emu, root, name)
    }

    /// The caller behind an existing user's key (created if it has none). Policies are
    /// resolved when the caller is built, so calling this again picks up new ones.
    fn caller_of(emu: &Emulator, root: &Caller, name: &str) -> Caller {
        let existing = emu
            .read()
            .keys
            .values()
            .find(|k| matches!(&k.owner, KeyOwner::User { user, .. } if user == name))
            .map(|k| k.id.clone());
        let id = match existing {
            Some(id) => id,
            None => {
                let x = ok(emu, root, "CreateAccessKey", &[("UserName", name)]);
                between(&x, "AccessKeyId").to_owned()
            }
        };
        emu.read().caller(&id, SystemTime::now()).unwrap()
    }

    fn trust_for(arn: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    }

    const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

    #[test]
    fn create_user_and_duplicates() {
        let (emu, root) = emulator();
        let x = ok(
            &emu,
            &root,
            "CreateUser",
            &[
                ("UserName", "bob"),
                ("Path", "/team/"),
                ("Tags.member.1.Key", "dept"),
                ("Tags.member.1.Value", "eng"),
            ],
        );
        assert!(x.contains("<UserName>bob</UserName>"), "{x}");
        assert!(
            x.contains(&format!("<Arn>arn:aws:iam::{A}:user/team/bob</Arn>")),
            "{x}"
        );
        assert!(between(&x, "UserId").starts_with("AIDA"));
        assert!(x.contains("<Key>dept</Key><Value>eng</Value>"), "{x}");

        let e = err(&emu, &root, "CreateUser", &[("UserName", "Bob")]);
        assert_eq!((e.status, e.code.as_str()), (409, "EntityAlreadyExists"));
        assert_eq!(e.message, "User with name Bob already exists.");

        let e = err(&emu, &root, "CreateUser", &[("UserName", "has space")]);
        assert_eq!((e.status, e.code.as_str()), (400, "ValidationError"));
        let e = err(&emu, &root, "CreateUser", &[("UserName", &"a".repeat(65))]);
        assert_eq!(e.code, "ValidationError");
        let e = err(
            &emu,
            &root,
            "CreateUser",
            &[("UserName", "x"), ("Path", "team")],
        );
        assert_eq!(e.code, "ValidationError");
        let e = err(&emu, &root, "CreateUser", &[]);
        assert_eq!(e.code, "ValidationError");

        // Lookups ignore case too, and answer with the stored name.
        let x = ok(&emu, &root, "GetUser", &[("UserName", "BOB")]);
        assert!(x.contains("<UserName>bob</UserName>"), "{x}");
        let e = err(&emu, &root, "GetUser", &[("UserName", "alice")]);
        assert_eq!((e.status, e.code.as_str()), (404, "NoSuchEntity"));
        assert_eq!(e.message, "The user with name alice cannot be found.");
    }

    #[test]
    fn denied_without_permission_then_allowed() {
        let (emu, root) = emulator();
        user(&emu, &root, "bob");
        ok(
            &emu,
            &root,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "s3"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        let bob = caller_of(&emu, &root, "bob");
        let trust = trust_for(&format!("arn:aws:iam::{A}:user/bob"));
        let params = [
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", trust.as_str()),
        ];
        let e = err(&emu, &bob, "CreateRole", &params);
        assert_eq!((e.status, e.code.as_str()), (403, "AccessDenied"));
        assert_eq!(
            e.message,
            format!("User: arn:aws:iam::{A}:user/bob is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::{A}:role/r because no identity-based policy allows the iam:CreateRole action")
        );
        // An explicit deny is named as such.
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},{"Effect":"Deny","Action":"iam:ListUsers","Resource":"*"}]}"#;
        ok(
            &emu,
            &root,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "iam"),
                ("PolicyDocument", deny),
            ],
        );
        let bob = caller_of(&emu, &root, "bob");
        let e = err(&emu, &bob, "ListUsers", &[]);
        // AWS: "... with an explicit deny in an identity-based policy". The article comes from
        // `Response::because` in the policy engine, so only the rest is pinned here.
        let expected = format!("User: arn:aws:iam::{A}:user/bob is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::{A}:user/ with an explicit deny in a");
        assert!(e.message.starts_with(&expected), "{}", e.message);
        assert!(
            e.message.ends_with(" identity-based policy"),
            "{}",
            e.message
        );
        // Now allowed; the role exists afterwards.
        ok(&emu, &bob, "CreateRole", &params);
        ok(&emu, &root, "GetRole", &[("RoleName", "r")]);
        // A denied caller learns nothing about missing entities.
        let carol = user(&emu, &root, "carol");
        let e = err(&emu, &carol, "GetRole", &[("RoleName", "missing")]);
        assert_eq!(e.code, "AccessDenied");
        assert!(
            e.message
                .contains(&format!("on resource: arn:aws:iam::{A}:role/missing ")),
            "{}",
            e.message
        );
    }

    #[test]
    fn malformed_policies() {
        let (emu, root) = emulator();
        ok(&emu, &root, "CreateUser", &[("UserName", "bob")]);
        for doc in [
            "{not json",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}"#,
        ] {
            let e = err(
                &emu,
                &root,
                "PutUserPolicy",
                &[
                    ("UserName", "bob"),
                    ("PolicyName", "p"),
                    ("PolicyDocument", doc),
                ],
            );
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, "MalformedPolicyDocument"),
                "{doc}"
            );
            assert!(!e.message.is_empty());
        }
        let e = err(
            &emu,
            &root,
            "CreatePolicy",
            &[("PolicyName", "p"), ("PolicyDocument", "[]")],
        );
        assert_eq!(e.code, "MalformedPolicyDocument");
        // Oversized inline policies are a quota, as AWS reports them.
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}/*"}}]}}"#,
            "b".repeat(2100)
        );
        let e = err(
            &emu,
            &root,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "p"),
                ("PolicyDocument", &big),
            ],
        );
        assert_eq!((e.status, e.code.as_str()), (409, "LimitExceeded"));
        assert_eq!(
            e.message,
            "Maximum policy size of 2048 bytes exceeded for user bob"
        );
    }

    #[test]
    fn trust_policies_name_existing_principals() {
        let (emu, root) = emulator();
        let ghost = format!("arn:aws:iam::{A}:user/ghost");
        let trust = trust_for(&ghost);
        let e = err(
            &emu,
            &root,
            "CreateRole",
            &[("RoleName", "r"), ("AssumeRolePolicyDocument", &trust)],
        );
        assert_eq!(
            (e.status, e.code.as_str()),
            (400, "MalformedPolicyDocument")
        );
        assert_eq!(
            e.message,
            format!("Invalid principal in policy: \"AWS\":\"{ghost}\"")
        );
        // A trust policy without Principal is malformed too.
        let e = err(
            &emu,
            &root,
            "CreateRole",
            &[("RoleName", "r"), ("AssumeRolePolicyDocument", ALLOW_S3)],
        );
        assert_eq!(e.code, "MalformedPolicyDocument");

        ok(&emu, &root, "CreateUser", &[("UserName", "bob")]);
        let bob_trust = trust_for(&format!("arn:aws:iam::{A}:user/bob"));
        let x = ok(
            &emu,
            &root,
            "CreateRole",
            &[
                ("RoleName", "Reader"),
                ("Path", "/svc/"),
                ("AssumeRolePolicyDocument", &bob_trust),
                ("Description", "reads"),
            ],
        );
        assert!(between(&x, "RoleId").starts_with("AROA"), "{x}");
        let x = ok(&emu, &root, "GetRole", &[("RoleName", "reader")]);
        assert_eq!(
            between(&x, "AssumeRolePolicyDocument"),
            url_encode(&bob_trust)
        );
        assert!(
            x.contains("<MaxSessionDuration>3600</MaxSessionDuration>"),
            "{x}"
        );
        assert!(
            x.contains(&format!("<Arn>arn:aws:iam::{A}:role/svc/Reader</Arn>")),
            "{x}"
        );
        assert!(x.contains("<Description>reads</Description>"), "{x}");

        let e = err(
            &emu,
            &root,
            "CreateRole",
            &[
                ("RoleName", "READER"),
                ("AssumeRolePolicyDocument", &bob_trust),
            ],
        );
        assert_eq!((e.status, e.code.as_str()), (409, "EntityAlreadyExists"));
        assert_eq!(e.message, "Role with name READER already exists.");

        let e = err(
            &emu,
            &root,
            "UpdateAssumeRolePolicy",
            &[("RoleName", "Reader"), ("PolicyDocument", &trust)],
        );
        assert_eq!(e.code, "MalformedPolicyDocument");
        let root_trust = trust_for(A);
        ok(
            &emu,
            &root,
            "UpdateAssumeRolePolicy",
            &[("RoleName", "Reader"), ("PolicyDocument", &root_trust)],
        );
        let x = ok(&emu, &root, "GetRole", &[("RoleName", "Reader")]);
        assert_eq!(
            between(&x, "AssumeRolePolicyDocument"),
            url_encode(&root_trust)
        );

        let e = err(
            &emu,
            &root,
            "CreateRole",
            &[
                ("RoleName", "long"),
                ("AssumeRolePolicyDocument", &bob_trust),
                ("MaxSessionDuration", "50000"),
            ],
        );
        assert_eq!(e.code, "ValidationError");
    }

    #[test]
    fn managed_policies_attach_and_detach() {
        let (emu, root) = emulator();
        ok(&emu, &root, "CreateUser", &[("UserName", "bob")]);
        let x = ok(
            &emu,
            &root,
            "CreatePolicy",
            &[
                ("PolicyName", "s3"),
                ("Path", "/team/"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        let arn = format!("arn:aws:iam::{A}:policy/team/s3");
        assert_eq!(between(&x, "Arn"), arn);
        assert!(between(&x, "PolicyId").starts_with("ANPA"), "{x}");
        assert!(x.contains("<DefaultVersionId>v1</DefaultVersionId>"), "{x}");
        assert!(x.contains("<IsAttachable>true</IsAttachable>"), "{x}");
        let e = err(
            &emu,
            &root,
            "CreatePolicy",
            &[("PolicyName", "S3"), ("PolicyDocument", ALLOW_S3)],
        );
        assert_eq!(e.status, 409);
        assert_eq!(
            e.message,
            "A policy called S3 already exists. Duplicate names are not allowed."
        );

        ok(
            &emu,
            &root,
            "AttachUserPolicy",
            &[("UserName", "bob"), ("PolicyArn", &arn)],
        );
        let admin = "arn:aws:iam::aws:policy/IAMReadOnlyAccess";
        ok(
            &emu,
            &root,
            "AttachUserPolicy",
            &[("UserName", "bob"), ("PolicyArn", admin)],
        );
        let missing = format!("arn:aws:iam::{A}:policy/nope");
        let e = err(
            &emu,
            &root,
            "AttachUserPolicy",
            &[("UserName", "bob"), ("PolicyArn", &missing)],
        );
        assert_eq!((e.status, e.code.as_str()), (404, "NoSuchEntity"));
        assert_eq!(
            e.message,
            format!("Policy {missing} does not exist or is not attachable.")
        );
        let e = err(
            &emu,
            &root,
            "AttachUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyArn", "arn:aws:iam::aws:policy/NoSuchThing"),
            ],
        );
        assert_eq!(e.code, "NoSuchEntity");

        let x = ok(
            &emu,
            &root,
            "ListAttachedUserPolicies",
            &[("UserName", "bob")],
        );
        assert!(
            x.contains(&format!(
                "<member><PolicyName>s3</PolicyName><PolicyArn>{arn}</PolicyArn></member>"
            )),
            "{x}"
        );
        assert!(
            x.contains("<PolicyName>IAMReadOnlyAccess</PolicyName>"),
            "{x}"
        );
        assert!(x.contains("<IsTruncated>false</IsTruncated>"), "{x}");
        let x = ok(
            &emu,
            &root,
            "ListAttachedUserPolicies",
            &[("UserName", "bob"), ("PathPrefix", "/team/")],
        );
        assert!(
            x.contains("<PolicyName>s3</PolicyName>") && !x.contains("IAMReadOnlyAccess"),
            "{x}"
        );

        // The attached policy now governs bob.
        let bob = caller_of(&emu, &root, "bob");
        ok(&emu, &bob, "ListUsers", &[]);

        let x = ok(&emu, &root, "GetPolicy", &[("PolicyArn", &arn)]);
        assert!(x.contains("<AttachmentCount>1</AttachmentCount>"), "{x}");
        let x = ok(&emu, &root, "GetPolicy", &[("PolicyArn", admin)]);
        assert!(
            x.contains("<Path>/</Path>")
                && x.contains("<PolicyName>IAMReadOnlyAccess</PolicyName>"),
            "{x}"
        );
        let x = ok(
            &emu,
            &root,
            "GetPolicyVersion",
            &[("PolicyArn", &arn), ("VersionId", "v1")],
        );
        assert_eq!(between(&x, "Document"), url_encode(ALLOW_S3));
        assert!(
            x.contains("<IsDefaultVersion>true</IsDefaultVersion>"),
            "{x}"
        );
        let e = err(
            &emu,
            &root,
            "GetPolicyVersion",
            &[("PolicyArn", &arn), ("VersionId", "v2")],
        );
        assert_eq!(e.code, "NoSuchEntity");
        let e = err(&emu, &root, "GetPolicy", &[("PolicyArn", &missing)]);
        assert_eq!(e.message, format!("Policy {missing} was not found."));

        let e = err(&emu, &root, "DeletePolicy", &[("PolicyArn", &arn)]);
        assert_eq!((e.status, e.code.as_str()), (409, "DeleteConflict"));
        assert_eq!(e.message, "Cannot delete a policy attached to entities.");
        ok(
            &emu,
            &root,
            "DetachUserPolicy",
            &[("UserName", "bob"), ("PolicyArn", &arn)],
        );
        let e = err(
            &emu,
            &root,
            "DetachUserPolicy",
            &[("UserName", "bob"), ("PolicyArn", &arn)],
        );
        assert_eq!(e.code, "NoSuchEntity");
        ok(&emu, &root, "DeletePolicy", &[("PolicyArn", &arn)]);
        let e = err(&emu, &root, "GetPolicy", &[("PolicyArn", &arn)]);
        assert_eq!(e.code, "NoSuchEntity");

        // Roles attach the same way.
        let trust = trust_for(A);
        ok(
            &emu,
            &root,
            "CreateRole",
            &[("RoleName", "r"), ("AssumeRolePolicyDocument", &trust)],
        );
        ok(
            &emu,
            &root,
            "AttachRolePolicy",
            &[("RoleName", "r"), ("PolicyArn", admin)],
        );
        let x = ok(
            &emu,
            &root,
            "ListAttachedRolePolicies",
            &[("RoleName", "r")],
        );
        assert!(
            x.contains(&format!("<PolicyArn>{admin}</PolicyArn>")),
            "{x}"
        );
        ok(
            &emu,
            &root,
            "DetachRolePolicy",
            &[("RoleName", "r"), ("PolicyArn", admin)],
        );
        let x = ok(
            &emu,
            &root,
            "ListAttachedRolePolicies",
            &[("RoleName", "r")],
        );
        assert!(x.contains("<AttachedPolicies></AttachedPolicies>"), "{x}");
    }

    #[test]
    fn inline_policies_round_trip() {
        let (emu, root) = emulator();
        ok(&emu, &root, "CreateUser", &[("UserName", "bob")]);
        ok(
            &emu,
            &root,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "s3"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        let x = ok(
            &emu,
            &root,
            "GetUserPolicy",
            &[("UserName", "bob"), ("PolicyName", "s3")],
        );
        assert_eq!(between(&x, "PolicyDocument"), url_encode(ALLOW_S3));
        assert!(x.contains("<UserName>bob</UserName>"), "{x}");
        let x = ok(&emu, &root, "ListUserPolicies", &[("UserName", "bob")]);
        assert!(
            x.contains("<PolicyNames><member>s3</member></PolicyNames>"),
            "{x}"
        );
        let e = err(
            &emu,
            &root,
            "GetUserPolicy",
            &[("UserName", "bob"), ("PolicyName", "x")],
        );
        assert_eq!(e.message, "The user policy with name x cannot be found.");
        ok(
            &emu,
            &root,
            "DeleteUserPolicy",
            &[("UserName", "bob"), ("PolicyName", "s3")],
        );
        let e = err(
            &emu,
            &root,
            "DeleteUserPolicy",
            &[("UserName", "bob"), ("PolicyName", "s3")],
        );
        assert_eq!(e.code, "NoSuchEntity");

        let trust = trust_for(A);
        ok(
            &emu,
            &root,
            "CreateRole",
            &[("RoleName", "r"), ("AssumeRolePolicyDocument", &trust)],
        );
        ok(
            &emu,
            &root,
            "PutRolePolicy",
            &[
                ("RoleName", "r"),
                ("PolicyName", "s3"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        let x = ok(
            &emu,
            &root,
            "GetRolePolicy",
            &[("RoleName", "r"), ("PolicyName", "s3")],
        );
        assert!(x.contains("<RoleName>r</RoleName>"), "{x}");
        let x = ok(&emu, &root, "ListRolePolicies", &[("RoleName", "r")]);
        assert!(x.contains("<member>s3</member>"), "{x}");
        let e = err(
            &emu,
            &root,
            "GetRolePolicy",
            &[("RoleName", "r"), ("PolicyName", "x")],
        );
        assert_eq!(e.message, "The role policy with name x cannot be found.");
        let e = err(
            &emu,
            &root,
            "PutRolePolicy",
            &[
                ("RoleName", "nope"),
                ("PolicyName", "s3"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        assert_eq!(e.message, "The role with name nope cannot be found.");
    }

    #[test]
    fn lists_filter_by_path_prefix() {
        let (emu, root) = emulator();
        for (name, path) in [
            ("zed", "/a/"),
            ("Amy", "/a/b/"),
            ("bob", "/b/"),
            ("cy", "/"),
        ] {
            ok(
                &emu,
                &root,
                "CreateUser",
                &[("UserName", name), ("Path", path)],
            );
        }
        let x = ok(&emu, &root, "ListUsers", &[]);
        let order: Vec<usize> = ["Amy", "bob", "cy", "zed"]
            .iter()
            .map(|n| x.find(&format!("<UserName>{n}</UserName>")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{x}");
        let x = ok(&emu, &root, "ListUsers", &[("PathPrefix", "/a/")]);
        assert!(
            x.contains("<UserName>zed</UserName>") && x.contains("<UserName>Amy</UserName>"),
            "{x}"
        );
        assert!(
            !x.contains("bob") && !x.contains("<UserName>cy</UserName>"),
            "{x}"
        );
        assert!(x.contains("<IsTruncated>false</IsTruncated>"), "{x}");
        let e = err(&emu, &root, "ListUsers", &[("PathPrefix", "a")]);
        assert_eq!(e.code, "ValidationError");

        // Pagination.
        let x = ok(&emu, &root, "ListUsers", &[("MaxItems", "3")]);
        assert!(x.contains("<IsTruncated>true</IsTruncated>"), "{x}");
        let marker = between(&x, "Marker").to_owned();
        let x = ok(
            &emu,
            &root,
            "ListUsers",
            &[("MaxItems", "3"), ("Marker", &marker)],
        );
        assert!(
            x.contains("<UserName>zed</UserName>") && !x.contains("Amy"),
            "{x}"
        );

        let trust = trust_for(A);
        for (name, path) in [("r1", "/svc/"), ("r2", "/")] {
            ok(
                &emu,
                &root,
                "CreateRole",
                &[
                    ("RoleName", name),
                    ("Path", path),
                    ("AssumeRolePolicyDocument", &trust),
                ],
            );
        }
        let x = ok(&emu, &root, "ListRoles", &[("PathPrefix", "/svc/")]);
        assert!(
            x.contains("<RoleName>r1</RoleName>") && !x.contains("<RoleName>r2</RoleName>"),
            "{x}"
        );
        assert!(x.contains("<AssumeRolePolicyDocument>"), "{x}");
        let x = ok(&emu, &root, "ListRoles", &[]);
        assert!(
            x.contains("<RoleName>r1</RoleName>") && x.contains("<RoleName>r2</RoleName>"),
            "{x}"
        );

        // Another account sees none of them.
        let root_b = emu
            .read()
            .caller("AKIAFERRYROOTB000002", SystemTime::now())
            .unwrap();
        let x = ok(&emu, &root_b, "ListUsers", &[]);
        assert!(x.contains("<Users></Users>"), "{x}");
    }

    #[test]
    fn delete_conflicts() {
        let (emu, root) = emulator();
        let _bob = user(&emu, &root, "bob");
        let e = err(&emu, &root, "DeleteUser", &[("UserName", "bob")]);
        assert_eq!((e.status, e.code.as_str()), (409, "DeleteConflict"));
        assert_eq!(
            e.message,
            "Cannot delete entity, must delete access keys first."
        );
        let x = ok(&emu, &root, "ListAccessKeys", &[("UserName", "bob")]);
        let key = between(&x, "AccessKeyId").to_owned();
        assert!(
            x.contains("<Status>Active</Status>") && x.contains("<UserName>bob</UserName>"),
            "{x}"
        );
        ok(
            &emu,
            &root,
            "DeleteAccessKey",
            &[("UserName", "bob"), ("AccessKeyId", &key)],
        );
        let e = err(
            &emu,
            &root,
            "DeleteAccessKey",
            &[("UserName", "bob"), ("AccessKeyId", &key)],
        );
        assert_eq!(
            e.message,
            format!("The Access Key with id {key} cannot be found.")
        );
        assert!(emu.read().caller(&key, SystemTime::now()).is_err());

        ok(
            &emu,
            &root,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "s3"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        let e = err(&emu, &root, "DeleteUser", &[("UserName", "bob")]);
        assert_eq!(
            e.message,
            "Cannot delete entity, must delete policies first."
        );
        ok(
            &emu,
            &root,
            "DeleteUserPolicy",
            &[("UserName", "bob"), ("PolicyName", "s3")],
        );
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        ok(
            &emu,
            &root,
            "AttachUserPolicy",
            &[("UserName", "bob"), ("PolicyArn", admin)],
        );
        let e = err(&emu, &root, "DeleteUser", &[("UserName", "bob")]);
        assert_eq!(
            e.message,
            "Cannot delete entity, must detach all policies first."
        );
        ok(
            &emu,
            &root,
            "DetachUserPolicy",
            &[("UserName", "bob"), ("PolicyArn", admin)],
        );
        ok(&emu, &root, "DeleteUser", &[("UserName", "bob")]);
        let e = err(&emu, &root, "GetUser", &[("UserName", "bob")]);
        assert_eq!(e.code, "NoSuchEntity");
        let e = err(&emu, &root, "DeleteUser", &[("UserName", "bob")]);
        assert_eq!(e.code, "NoSuchEntity");

        let trust = trust_for(A);
        ok(
            &emu,
            &root,
            "CreateRole",
            &[("RoleName", "r"), ("AssumeRolePolicyDocument", &trust)],
        );
        ok(
            &emu,
            &root,
            "PutRolePolicy",
            &[
                ("RoleName", "r"),
                ("PolicyName", "s3"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        let e = err(&emu, &root, "DeleteRole", &[("RoleName", "r")]);
        assert_eq!(
            (e.status, e.message.as_str()),
            (409, "Cannot delete entity, must delete policies first.")
        );
        ok(
            &emu,
            &root,
            "DeleteRolePolicy",
            &[("RoleName", "r"), ("PolicyName", "s3")],
        );
        ok(
            &emu,
            &root,
            "AttachRolePolicy",
            &[("RoleName", "r"), ("PolicyArn", admin)],
        );
        let e = err(&emu, &root, "DeleteRole", &[("RoleName", "r")]);
        assert_eq!(
            e.message,
            "Cannot delete entity, must detach all policies first."
        );
        ok(
            &emu,
            &root,
            "DetachRolePolicy",
            &[("RoleName", "r"), ("PolicyArn", admin)],
        );
        ok(&emu, &root, "DeleteRole", &[("RoleName", "r")]);
        let e = err(&emu, &root, "GetRole", &[("RoleName", "r")]);
        assert_eq!(e.message, "The role with name r cannot be found.");
    }

    #[test]
    fn access_keys() {
        let (emu, root) = emulator();
        let bob = user(&emu, &root, "bob");
        // Without UserName a user acts on itself (given permission).
        let e = err(&emu, &bob, "CreateAccessKey", &[]);
        assert_eq!(e.code, "AccessDenied");
        assert!(
            e.message.contains(&format!(
                "iam:CreateAccessKey on resource: arn:aws:iam::{A}:user/bob "
            )),
            "{}",
            e.message
        );
        let x = ok(&emu, &root, "CreateAccessKey", &[("UserName", "bob")]);
        assert!(
            x.contains("<UserName>bob</UserName>") && x.contains("<Status>Active</Status>"),
            "{x}"
        );
        assert_eq!(between(&x, "SecretAccessKey").len(), 40);
        let e = err(&emu, &root, "CreateAccessKey", &[("UserName", "bob")]);
        assert_eq!((e.status, e.code.as_str()), (409, "LimitExceeded"));
        assert_eq!(e.message, "Cannot exceed quota for AccessKeysPerUser: 2");
        let e = err(&emu, &root, "CreateAccessKey", &[("UserName", "nobody")]);
        assert_eq!(e.code, "NoSuchEntity");

        // Root creates a root key (the world's root key counts toward the quota of 2).
        let x = ok(&emu, &root, "CreateAccessKey", &[]);
        assert!(!x.contains("<UserName>"), "{x}");
        let id = between(&x, "AccessKeyId").to_owned();
        let again = emu.read().caller(&id, SystemTime::now()).unwrap();
        assert_eq!(again.principal.arn, format!("arn:aws:iam::{A}:root"));
        let e = err(&emu, &root, "CreateAccessKey", &[]);
        assert_eq!(e.code, "LimitExceeded");
        let x = ok(&emu, &root, "ListAccessKeys", &[]);
        assert!(x.contains(ROOT_A) && x.contains(&id), "{x}");
        ok(&emu, &root, "DeleteAccessKey", &[("AccessKeyId", &id)]);
        // Another user's key is not the root's to delete by this route.
        let x = ok(&emu, &root, "ListAccessKeys", &[("UserName", "bob")]);
        let bob_key = between(&x, "AccessKeyId").to_owned();
        let e = err(&emu, &root, "DeleteAccessKey", &[("AccessKeyId", &bob_key)]);
        assert_eq!(e.code, "NoSuchEntity");
    }

    #[test]
    fn cached_callers_follow_iam_and_key_changes() {
        let (emu, root) = emulator();
        user(&emu, &root, "bob");
        let x = ok(&emu, &root, "ListAccessKeys", &[("UserName", "bob")]);
        let key = between(&x, "AccessKeyId").to_owned();
        let now = SystemTime::now();
        let resolve = |at: SystemTime| {
            let st = emu.read();
            emu.caller(&st, &key, at)
        };
        let first = resolve(now).unwrap();
        assert!(first.identity.is_empty());
        // Cached: the same record, also across bucket changes.
        assert!(Arc::ptr_eq(&first, &resolve(now).unwrap()));
        emu.write().buckets.clear();
        assert!(Arc::ptr_eq(&first, &resolve(now).unwrap()));
        // An IAM change is seen at once.
        ok(
            &emu,
            &root,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "s3"),
                ("PolicyDocument", ALLOW_S3),
            ],
        );
        let second = resolve(now).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(second.identity.len(), 1);
        assert_eq!(*second.principal.arn, *first.principal.arn);
        // So is a deleted key.
        ok(
            &emu,
            &root,
            "DeleteAccessKey",
            &[("UserName", "bob"), ("AccessKeyId", &key)],
        );
        assert_eq!(resolve(now).unwrap_err(), KeyError::Unknown);
        // A cached session still expires.
        let expires = now + std::time::Duration::from_secs(60);
        let (id, _, _) = emu.write().issue_session(Session {
            account: A.parse().unwrap(),
            kind: SessionKind::Root,
            token: "t".to_owned(),
            expires,
            policies: Vec::new(),
            chained: false,
        });
        let st = emu.read();
        assert!(emu.caller(&st, &id, now).is_ok());
        assert!(emu.caller(&st, &id, now).is_ok());
        assert_eq!(
            emu.caller(&st, &id, expires).unwrap_err(),
            KeyError::Expired
        );
    }

    #[test]
    fn get_user_for_root_user_and_session() {
        let (emu, root) = emulator();
        let x = ok(&emu, &root, "GetUser", &[]);
        assert!(
            x.contains(&format!("<Arn>arn:aws:iam::{A}:root</Arn>")),
            "{x}"
        );
        assert!(x.contains(&format!("<UserId>{A}</UserId>")), "{x}");
        assert!(!x.contains("<UserName>") && !x.contains("<Path>"), "{x}");
        assert!(x.contains("<CreateDate>"), "{x}");

        ok(&emu, &root, "CreateUser", &[("UserName", "bob")]);
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","sts:AssumeRole"],"Resource":"*"}]}"#;
        ok(
            &emu,
            &root,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "p"),
                ("PolicyDocument", allow),
            ],
        );
        let bob = caller_of(&emu, &root, "bob");
        let x = ok(&emu, &bob, "GetUser", &[]);
        assert!(x.contains("<UserName>bob</UserName>"), "{x}");

        let trust = trust_for(&format!("arn:aws:iam::{A}:user/bob"));
        ok(
            &emu,
            &root,
            "CreateRole",
            &[("RoleName", "r"), ("AssumeRolePolicyDocument", &trust)],
        );
        let body = format!(
            "RoleArn={}&RoleSessionName=s1",
            url_encode(&format!("arn:aws:iam::{A}:role/r"))
        );
        let x = super::super::sts::handle(
            &emu,
            &bob,
            "AssumeRole",
            &Params::parse(&[body.as_bytes()]),
            &META,
        )
        .unwrap();
        let key = between(&x, "AccessKeyId").to_owned();
        let session = emu.read().caller(&key, SystemTime::now()).unwrap();
        let e = err(&emu, &session, "GetUser", &[]);
        assert_eq!((e.status, e.code.as_str()), (400, "ValidationError"));
        assert_eq!(
            e.message,
            "Must specify userName when calling with non-User credentials"
        );
        // Deleting the role ends its sessions.
        ok(&emu, &root, "DeleteRole", &[("RoleName", "r")]);
        assert!(emu.read().caller(&key, SystemTime::now()).is_err());
    }

    #[test]
    fn unknown_action() {
        let (emu, root) = emulator();
        let e = err(&emu, &root, "CreateGroup", &[]);
        assert_eq!((e.status, e.code.as_str()), (400, "InvalidAction"));
    }

    #[test]
    fn aws_managed_table_matches_state() {
        for (name, text) in AWS_MANAGED {
            let arn = format!("arn:aws:iam::aws:policy/{name}");
            assert!(super::super::state::is_known_aws_managed(&arn), "{name}");
            assert!(
                crate::policy::parse(text, PolicyKind::Managed).is_ok(),
                "{name}"
            );
        }
        assert_eq!(
            aws_policy_id("AdministratorAccess"),
            aws_policy_id("AdministratorAccess")
        );
        assert_eq!(aws_policy_id("AdministratorAccess").len(), 21);
        assert_eq!(
            policy_path_name("arn:aws:iam::aws:policy/service-role/X"),
            ("/service-role/".to_owned(), "X".to_owned())
        );
    }
}
