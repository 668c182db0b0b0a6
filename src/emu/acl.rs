//! S3 access control lists and Object Ownership: pure functions, no I/O.
//!
//! - [`parse_request`] reads what a write asked for (`x-amz-acl` or the `x-amz-grant-*`
//!   headers); [`parse_put_acl`] does the same for PutObjectAcl/PutBucketAcl, which may also
//!   carry an XML [`dto::AccessControlPolicy`] body.
//! - [`build`] expands that request into the [`Acl`] stored on a new bucket or object.
//! - [`grants`] answers whether an ACL grants a permission to a caller; [`is_public`] and
//!   [`without_public`] serve Block Public Access.
//! - [`check_enforced`], [`check_create_bucket_enforced`], [`new_object_owner`] and
//!   [`only_owner`] implement Object Ownership.
//! - [`to_dto`], [`from_policy`] and friends convert to and from the `s3s` DTOs.
//!
//! Sources: S3 User Guide *Access control list (ACL) overview*, *Controlling ownership of
//! objects and disabling ACLs*, *Troubleshooting* (Object Ownership error responses), and the
//! S3 API reference for PutObjectAcl/PutBucketAcl (email grantees discontinued on
//! 2025-10-01). `/work/shared/AWS-RULES.md` rules 21–28 summarise them.

use std::fmt;
use std::str::FromStr;

use s3s::dto;

use crate::types::AccountId;

/// URI of the AllUsers group (everyone, including anonymous callers).
pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// URI of the AuthenticatedUsers group (any signed request from any AWS account).
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
/// URI of the LogDelivery group (S3 server access logging).
pub const LOG_DELIVERY_URI: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
/// The canonical user that `aws-exec-read` grants READ: Amazon EC2 (`za-team`), which reads
/// AMI bundles. AWS stores this canned ACL as a CanonicalUser grant, not a group grant.
pub const EC2_CANONICAL_ID: &str =
    "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why an ACL request is refused. [`AclError::code`], [`AclError::status`] and
/// [`AclError::message`] give the S3 error response; [`AclError::to_s3_error`] builds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclError {
    /// `x-amz-acl` together with `x-amz-grant-*` headers: 400 `InvalidRequest`.
    CannedAndGrants,
    /// An ACL other than none / bucket-owner-full-control on a BucketOwnerEnforced bucket:
    /// 400 `AccessControlListNotSupported`.
    NotSupported,
    /// BucketOwnerEnforced together with a bucket ACL that grants anyone but the bucket owner
    /// (CreateBucket with such an ACL, or PutBucketOwnershipControls on such a bucket):
    /// 400 `InvalidBucketAclWithObjectOwnership`.
    InvalidBucketAclWithObjectOwnership,
    /// An `emailAddress=` / `AmazonCustomerByEmail` grantee. AWS discontinued email grantees
    /// on 2025-10-01 and answers such requests with HTTP 405: `MethodNotAllowed`.
    EmailGrantee,
    /// A malformed header value, grantee or canned ACL name: 400 `InvalidArgument` with this
    /// message (AWS's wording where known: `Invalid id`, `Invalid group uri`,
    /// `Argument format not recognized`).
    Malformed(String),
    /// An XML body that does not fit the schema (no `Owner`, a grant without grantee or
    /// permission, an unknown permission or grantee type): 400 `MalformedACLError`.
    MalformedXml,
    /// The XML body names an `Owner` other than the resource's owner: 403 `AccessDenied`.
    OwnerMismatch,
    /// A public ACL while the bucket's BlockPublicAcls is on: 403 `AccessDenied`.
    PublicAclBlocked,
    /// Put*Acl with both headers (canned or grants) and an XML body: 400 `UnexpectedContent`.
    UnexpectedContent,
    /// Put*Acl with neither headers nor body: 400 `MissingSecurityHeader`.
    MissingAcl,
}

impl AclError {
    /// The S3 error code.
    pub fn code(&self) -> &'static str {
        match self {
            AclError::CannedAndGrants => "InvalidRequest",
            AclError::NotSupported => "AccessControlListNotSupported",
            AclError::InvalidBucketAclWithObjectOwnership => "InvalidBucketAclWithObjectOwnership",
            AclError::EmailGrantee => "MethodNotAllowed",
            AclError::Malformed(_) => "InvalidArgument",
            AclError::MalformedXml => "MalformedACLError",
            AclError::OwnerMismatch | AclError::PublicAclBlocked => "AccessDenied",
            AclError::UnexpectedContent => "UnexpectedContent",
            AclError::MissingAcl => "MissingSecurityHeader",
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            AclError::EmailGrantee => 405,
            AclError::OwnerMismatch | AclError::PublicAclBlocked => 403,
            _ => 400,
        }
    }

    /// The error message, in AWS's wording where known.
    pub fn message(&self) -> String {
        match self {
            AclError::CannedAndGrants => {
                "Specifying both Canned ACLs and Header Grants is not allowed".to_owned()
            }
            AclError::NotSupported => "The bucket does not allow ACLs".to_owned(),
            AclError::InvalidBucketAclWithObjectOwnership => {
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
                    .to_owned()
            }
            AclError::EmailGrantee => {
                "The specified method is not allowed against this resource.".to_owned()
            }
            AclError::Malformed(msg) => msg.clone(),
            AclError::MalformedXml => "The XML you provided was not well-formed or did not \
                                       validate against our published schema"
                .to_owned(),
            AclError::OwnerMismatch | AclError::PublicAclBlocked => "Access Denied".to_owned(),
            AclError::UnexpectedContent => "This request does not support content".to_owned(),
            AclError::MissingAcl => "Your request was missing a required header".to_owned(),
        }
    }

    /// The `s3s` error to return. Every code used here has its default status in `s3s`
    /// equal to [`AclError::status`].
    pub fn to_s3_error(&self) -> s3s::S3Error {
        let code = s3s::S3ErrorCode::from_bytes(self.code().as_bytes())
            .unwrap_or(s3s::S3ErrorCode::InvalidRequest);
        s3s::S3Error::with_message(code, self.message())
    }
}

impl fmt::Display for AclError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for AclError {}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// An ACL permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::Read,
        Permission::Write,
        Permission::ReadAcp,
        Permission::WriteAcp,
        Permission::FullControl,
    ];

    /// The name used in ACL XML: `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP`, `FULL_CONTROL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::FullControl => "FULL_CONTROL",
        }
    }

    /// The request header that grants this permission (`x-amz-grant-read`, ...), lowercase.
    pub fn header_name(self) -> &'static str {
        match self {
            Permission::Read => "x-amz-grant-read",
            Permission::Write => "x-amz-grant-write",
            Permission::ReadAcp => "x-amz-grant-read-acp",
            Permission::WriteAcp => "x-amz-grant-write-acp",
            Permission::FullControl => "x-amz-grant-full-control",
        }
    }

    /// Whether holding `self` gives `wanted`: equal, or `self` is FULL_CONTROL.
    pub fn implies(self, wanted: Permission) -> bool {
        self == wanted || self == Permission::FullControl
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = AclError;
    /// Exact, uppercase names only: S3 refuses e.g. `Write` with `MalformedACLError`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(AclError::MalformedXml)
    }
}

/// A predefined Amazon S3 group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    AllUsers,
    AuthenticatedUsers,
    LogDelivery,
}

impl Group {
    pub const ALL: [Group; 3] = [
        Group::AllUsers,
        Group::AuthenticatedUsers,
        Group::LogDelivery,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            Group::AllUsers => ALL_USERS_URI,
            Group::AuthenticatedUsers => AUTHENTICATED_USERS_URI,
            Group::LogDelivery => LOG_DELIVERY_URI,
        }
    }

    /// The group with exactly this URI.
    pub fn from_uri(uri: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.uri() == uri)
    }

    /// AllUsers and AuthenticatedUsers make an ACL public (Block Public Access); LogDelivery
    /// does not.
    pub fn is_public(self) -> bool {
        matches!(self, Group::AllUsers | Group::AuthenticatedUsers)
    }
}

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grantee {
    /// A canonical user ID: 64 lowercase hex characters (every principal of an account
    /// shares the account's canonical ID).
    CanonicalUser(String),
    Group(Group),
}

impl Grantee {
    /// A canonical-user grantee from 64 hex characters (either case; stored lowercase).
    pub fn canonical(id: &str) -> Result<Grantee, AclError> {
        if is_canonical_id(id) {
            Ok(Grantee::CanonicalUser(id.to_ascii_lowercase()))
        } else {
            Err(AclError::Malformed("Invalid id".to_owned()))
        }
    }

    /// Whether this grantee covers the caller: `caller_canonical` is the caller's account's
    /// canonical ID, `None` for an anonymous request. LogDelivery matches no emulated caller.
    pub fn matches(&self, caller_canonical: Option<&str>) -> bool {
        match self {
            Grantee::CanonicalUser(id) => {
                caller_canonical.is_some_and(|c| c.eq_ignore_ascii_case(id))
            }
            Grantee::Group(Group::AllUsers) => true,
            Grantee::Group(Group::AuthenticatedUsers) => caller_canonical.is_some(),
            Grantee::Group(Group::LogDelivery) => false,
        }
    }

    pub fn is_public(&self) -> bool {
        matches!(self, Grantee::Group(g) if g.is_public())
    }
}

/// Whether `s` has the syntax of a canonical user ID: 64 hex characters.
pub fn is_canonical_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One grant: a grantee and a permission.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

impl Grant {
    pub fn new(grantee: Grantee, permission: Permission) -> Grant {
        Grant {
            grantee,
            permission,
        }
    }

    /// A grant to a canonical user ID that is already known to be valid (e.g. produced by
    /// `AccountId::canonical_user_id`); it is stored lowercase.
    pub fn user(canonical: &str, permission: Permission) -> Grant {
        Grant::new(
            Grantee::CanonicalUser(canonical.to_ascii_lowercase()),
            permission,
        )
    }

    pub fn group(group: Group, permission: Permission) -> Grant {
        Grant::new(Grantee::Group(group), permission)
    }
}

/// The ACL stored on a bucket or object: its owner and its grants, in order. AWS stores the
/// owner's FULL_CONTROL as an ordinary grant, so an ACL may also leave the owner out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acl {
    pub owner: AccountId,
    pub grants: Vec<Grant>,
}

/// A canned ACL (`x-amz-acl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CannedAcl {
    Private,
    PublicRead,
    PublicReadWrite,
    AwsExecRead,
    AuthenticatedRead,
    BucketOwnerRead,
    BucketOwnerFullControl,
    LogDeliveryWrite,
}

impl CannedAcl {
    pub const ALL: [CannedAcl; 8] = [
        CannedAcl::Private,
        CannedAcl::PublicRead,
        CannedAcl::PublicReadWrite,
        CannedAcl::AwsExecRead,
        CannedAcl::AuthenticatedRead,
        CannedAcl::BucketOwnerRead,
        CannedAcl::BucketOwnerFullControl,
        CannedAcl::LogDeliveryWrite,
    ];

    /// The header value, e.g. `bucket-owner-full-control`.
    pub fn as_str(self) -> &'static str {
        match self {
            CannedAcl::Private => "private",
            CannedAcl::PublicRead => "public-read",
            CannedAcl::PublicReadWrite => "public-read-write",
            CannedAcl::AwsExecRead => "aws-exec-read",
            CannedAcl::AuthenticatedRead => "authenticated-read",
            CannedAcl::BucketOwnerRead => "bucket-owner-read",
            CannedAcl::BucketOwnerFullControl => "bucket-owner-full-control",
            CannedAcl::LogDeliveryWrite => "log-delivery-write",
        }
    }

    /// public-read, public-read-write and authenticated-read grant to AllUsers or
    /// AuthenticatedUsers, which Block Public Access calls public.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            CannedAcl::PublicRead | CannedAcl::PublicReadWrite | CannedAcl::AuthenticatedRead
        )
    }
}

impl fmt::Display for CannedAcl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CannedAcl {
    type Err = AclError;
    /// Exact header values only; anything else is 400 `InvalidArgument`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CannedAcl::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| AclError::Malformed(format!("`{s}` is not a canned ACL")))
    }
}

/// What a request asked for.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum AclRequest {
    /// No ACL headers (and, for Put*Acl, no body).
    #[default]
    None,
    /// `x-amz-acl`.
    Canned(CannedAcl),
    /// `x-amz-grant-*` headers, or the grants of a Put*Acl XML body, exactly as given.
    Grants(Vec<Grant>),
}

impl AclRequest {
    /// Whether the request asks for a public ACL (Block Public Access's BlockPublicAcls).
    pub fn is_public(&self) -> bool {
        match self {
            AclRequest::None => false,
            AclRequest::Canned(c) => c.is_public(),
            AclRequest::Grants(g) => g.iter().any(|g| g.grantee.is_public()),
        }
    }

    /// The canonical user IDs the request names, for callers that check they exist.
    pub fn canonical_ids(&self) -> impl Iterator<Item = &str> {
        let grants: &[Grant] = match self {
            AclRequest::Grants(g) => g,
            _ => &[],
        };
        grants.iter().filter_map(|g| match &g.grantee {
            Grantee::CanonicalUser(id) => Some(id.as_str()),
            Grantee::Group(_) => None,
        })
    }
}

/// S3 Object Ownership (a bucket setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ObjectOwnership {
    /// ACLs disabled; the bucket owner owns every object (default for new buckets).
    #[default]
    BucketOwnerEnforced,
    /// Objects written with `bucket-owner-full-control` become the bucket owner's.
    BucketOwnerPreferred,
    /// The writing account owns the object.
    ObjectWriter,
}

impl ObjectOwnership {
    pub const ALL: [ObjectOwnership; 3] = [
        ObjectOwnership::BucketOwnerEnforced,
        ObjectOwnership::BucketOwnerPreferred,
        ObjectOwnership::ObjectWriter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    /// Whether ACLs are disabled (BucketOwnerEnforced).
    pub fn acls_disabled(self) -> bool {
        self == ObjectOwnership::BucketOwnerEnforced
    }
}

impl fmt::Display for ObjectOwnership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ObjectOwnership {
    type Err = AclError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectOwnership::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| AclError::Malformed(format!("`{s}` is not an ObjectOwnership value")))
    }
}

impl From<ObjectOwnership> for dto::ObjectOwnership {
    fn from(o: ObjectOwnership) -> Self {
        dto::ObjectOwnership::from_static(o.as_str())
    }
}

impl TryFrom<&dto::ObjectOwnership> for ObjectOwnership {
    type Error = AclError;
    fn try_from(o: &dto::ObjectOwnership) -> Result<Self, Self::Error> {
        o.as_str().parse()
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing requests
// ---------------------------------------------------------------------------------------------

/// Reads the ACL a write asks for from `x-amz-acl` and the `x-amz-grant-*` headers
/// (`grant_headers` pairs each present header's permission with its value; see
/// [`Permission::header_name`]). Header values that are empty or blank count as absent.
///
/// Errors: both kinds of header → [`AclError::CannedAndGrants`]; an unknown canned ACL or a
/// malformed grant value → [`AclError::Malformed`]; an email grantee →
/// [`AclError::EmailGrantee`].
pub fn parse_request(
    x_amz_acl: Option<&str>,
    grant_headers: &[(Permission, &str)],
) -> Result<AclRequest, AclError> {
    let canned = x_amz_acl.map(str::trim).filter(|s| !s.is_empty());
    let headers: Vec<(Permission, &str)> = grant_headers
        .iter()
        .map(|&(p, v)| (p, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    match (canned, headers.is_empty()) {
        (Some(_), false) => Err(AclError::CannedAndGrants),
        (Some(c), true) => Ok(AclRequest::Canned(c.parse()?)),
        (None, true) => Ok(AclRequest::None),
        (None, false) => {
            let mut grants = Vec::new();
            for (perm, value) in headers {
                for grantee in parse_grant_header(value)? {
                    grants.push(Grant::new(grantee, perm));
                }
            }
            Ok(AclRequest::Grants(grants))
        }
    }
}

/// Parses one `x-amz-grant-*` value: comma-separated `type=value` pairs, where type is `id`
/// (a canonical user ID), `uri` (a group URI) or `emailAddress`, and the value is quoted
/// (`id="…"`, as the S3 docs write it) or bare (`id=…`, as the aws CLI passes it through).
/// Types match case-insensitively.
///
/// Errors (400 `InvalidArgument` unless noted): `Invalid id` for an ID that is not 64 hex
/// characters; `Invalid group uri` for an unknown group; `Argument format not recognized`
/// for anything else malformed; an `emailAddress` → [`AclError::EmailGrantee`] (405).
pub fn parse_grant_header(value: &str) -> Result<Vec<Grantee>, AclError> {
    let unrecognized = || AclError::Malformed("Argument format not recognized".to_owned());
    let mut out = Vec::new();
    let mut rest = value.trim_start();
    loop {
        let (kind, after_eq) = rest.split_once('=').ok_or_else(unrecognized)?;
        let kind = kind.trim();
        let after_eq = after_eq.trim_start();
        let (val, after_val) = if let Some(quoted) = after_eq.strip_prefix('"') {
            let end = quoted.find('"').ok_or_else(unrecognized)?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after_eq.find(',').unwrap_or(after_eq.len());
            (after_eq[..end].trim_end(), &after_eq[end..])
        };
        if kind.is_empty() || val.is_empty() {
            return Err(unrecognized());
        }
        out.push(grantee_from_pair(kind, val)?);
        let after_val = after_val.trim_start();
        if after_val.is_empty() {
            return Ok(out);
        }
        rest = after_val
            .strip_prefix(',')
            .ok_or_else(unrecognized)?
            .trim_start();
        if rest.is_empty() {
            // A trailing comma.
            return Err(unrecognized());
        }
    }
}

fn grantee_from_pair(kind: &str, value: &str) -> Result<Grantee, AclError> {
    if kind.eq_ignore_ascii_case("id") {
        Grantee::canonical(value)
    } else if kind.eq_ignore_ascii_case("uri") {
        Group::from_uri(value)
            .map(Grantee::Group)
            .ok_or_else(|| AclError::Malformed("Invalid group uri".to_owned()))
    } else if kind.eq_ignore_ascii_case("emailAddress") {
        Err(AclError::EmailGrantee)
    } else {
        Err(AclError::Malformed(
            "Argument format not recognized".to_owned(),
        ))
    }
}

/// Reads what a PutObjectAcl/PutBucketAcl asks for: exactly one of `x-amz-acl`, the
/// `x-amz-grant-*` headers, or an XML body. `resource_owner_canonical` is the canonical ID of
/// the bucket's or object's current owner, which the body's `Owner` must name.
///
/// Errors: none of the three → [`AclError::MissingAcl`]; canned and grant headers →
/// [`AclError::CannedAndGrants`]; headers and a body → [`AclError::UnexpectedContent`]; and
/// those of [`parse_request`] and [`from_policy`].
pub fn parse_put_acl(
    x_amz_acl: Option<&str>,
    grant_headers: &[(Permission, &str)],
    body: Option<&dto::AccessControlPolicy>,
    resource_owner_canonical: &str,
) -> Result<AclRequest, AclError> {
    let from_headers = parse_request(x_amz_acl, grant_headers)?;
    match (from_headers, body) {
        (AclRequest::None, None) => Err(AclError::MissingAcl),
        (AclRequest::None, Some(policy)) => Ok(AclRequest::Grants(from_policy(
            policy,
            resource_owner_canonical,
        )?)),
        (_, Some(_)) => Err(AclError::UnexpectedContent),
        (req, None) => Ok(req),
    }
}

// ---------------------------------------------------------------------------------------------
// Building and evaluating ACLs
// ---------------------------------------------------------------------------------------------

/// The ACL stored on a new object or bucket (or replacing one, for Put*Acl).
///
/// No request and `private`: owner FULL_CONTROL. `public-read`: + AllUsers READ.
/// `public-read-write`: + AllUsers READ and WRITE. `aws-exec-read`: + READ to EC2's canonical
/// user ([`EC2_CANONICAL_ID`]). `authenticated-read`: + AuthenticatedUsers READ.
/// `bucket-owner-read`: + bucket owner READ. `bucket-owner-full-control`: + bucket owner
/// FULL_CONTROL. `log-delivery-write`: + LogDelivery WRITE and READ_ACP.
/// The two bucket-owner ACLs add their grant only when the bucket owner is not the owner
/// (so on a bucket, where they are the same, S3 "ignores" them, as the docs say).
/// Explicit grants are stored exactly as given: S3 does not add the owner's FULL_CONTROL.
pub fn build(
    req: &AclRequest,
    owner: AccountId,
    bucket_owner: AccountId,
    canonical_of: &dyn Fn(AccountId) -> String,
) -> Acl {
    use Permission::{FullControl, Read, ReadAcp, Write};
    let grants = match req {
        AclRequest::Grants(g) => g.clone(),
        AclRequest::None => vec![Grant::user(&canonical_of(owner), FullControl)],
        AclRequest::Canned(canned) => {
            let mut g = vec![Grant::user(&canonical_of(owner), FullControl)];
            match canned {
                CannedAcl::Private => {}
                CannedAcl::PublicRead => g.push(Grant::group(Group::AllUsers, Read)),
                CannedAcl::PublicReadWrite => {
                    g.push(Grant::group(Group::AllUsers, Read));
                    g.push(Grant::group(Group::AllUsers, Write));
                }
                CannedAcl::AwsExecRead => g.push(Grant::user(EC2_CANONICAL_ID, Read)),
                CannedAcl::AuthenticatedRead => {
                    g.push(Grant::group(Group::AuthenticatedUsers, Read));
                }
                CannedAcl::BucketOwnerRead => {
                    if bucket_owner != owner {
                        g.push(Grant::user(&canonical_of(bucket_owner), Read));
                    }
                }
                CannedAcl::BucketOwnerFullControl => {
                    if bucket_owner != owner {
                        g.push(Grant::user(&canonical_of(bucket_owner), FullControl));
                    }
                }
                CannedAcl::LogDeliveryWrite => {
                    g.push(Grant::group(Group::LogDelivery, Write));
                    g.push(Grant::group(Group::LogDelivery, ReadAcp));
                }
            }
            g
        }
    };
    Acl { owner, grants }
}

/// What GetObjectAcl/GetBucketAcl show on a BucketOwnerEnforced bucket, whatever is stored:
/// the bucket owner, with FULL_CONTROL.
pub fn enforced_view(bucket_owner: AccountId, canonical_of: &dyn Fn(AccountId) -> String) -> Acl {
    Acl {
        owner: bucket_owner,
        grants: vec![Grant::user(
            &canonical_of(bucket_owner),
            Permission::FullControl,
        )],
    }
}

/// Whether `acl` grants `perm` to the caller. `caller_canonical` is the caller's account's
/// canonical ID, `None` for an anonymous request. FULL_CONTROL implies every permission;
/// AllUsers matches everyone, AuthenticatedUsers every signed caller.
///
/// Only explicit grants count: the owner gets nothing implicitly (AWS stores its
/// FULL_CONTROL as a grant; the owner account's own access goes through the policy layer,
/// AWS-RULES 1 and 3). `_owner_canonical` is therefore unused; it is kept so call sites
/// written against the original signature compile. For Block Public Access's
/// IgnorePublicAcls, evaluate [`without_public`] instead.
pub fn grants(
    acl: &Acl,
    caller_canonical: Option<&str>,
    perm: Permission,
    _owner_canonical: &str,
) -> bool {
    acl.grants
        .iter()
        .any(|g| g.permission.implies(perm) && g.grantee.matches(caller_canonical))
}

/// Whether the ACL grants anything to AllUsers or AuthenticatedUsers (what Block Public
/// Access calls a public ACL).
pub fn is_public(acl: &Acl) -> bool {
    acl.grants.iter().any(|g| g.grantee.is_public())
}

/// [`AclRequest::is_public`], as a free function.
pub fn is_public_request(req: &AclRequest) -> bool {
    req.is_public()
}

/// The ACL with its public grants removed: what S3 evaluates while IgnorePublicAcls is on.
pub fn without_public(acl: &Acl) -> Acl {
    Acl {
        owner: acl.owner,
        grants: acl
            .grants
            .iter()
            .filter(|g| !g.grantee.is_public())
            .cloned()
            .collect(),
    }
}

/// BlockPublicAcls: a request carrying a public ACL is refused with 403 `AccessDenied`.
pub fn check_block_public(req: &AclRequest, block_public_acls: bool) -> Result<(), AclError> {
    if block_public_acls && req.is_public() {
        Err(AclError::PublicAclBlocked)
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Object Ownership
// ---------------------------------------------------------------------------------------------

/// A write to a BucketOwnerEnforced bucket (PutObject, CopyObject, CreateMultipartUpload,
/// PutObjectAcl, PutBucketAcl) may carry no ACL, the `bucket-owner-full-control` canned ACL,
/// or explicit grants that all give FULL_CONTROL to the bucket owner (the header or XML form
/// of the same ACL). Anything else, `private` included, is [`AclError::NotSupported`].
///
/// CreateBucket is different: see [`check_create_bucket_enforced`].
pub fn check_enforced(req: &AclRequest, bucket_owner_canonical: &str) -> Result<(), AclError> {
    let ok = match req {
        AclRequest::None => true,
        AclRequest::Canned(c) => *c == CannedAcl::BucketOwnerFullControl,
        AclRequest::Grants(g) => {
            !g.is_empty()
                && g.iter().all(|g| {
                    g.permission == Permission::FullControl
                        && matches!(&g.grantee, Grantee::CanonicalUser(id)
                            if id.eq_ignore_ascii_case(bucket_owner_canonical))
                })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(AclError::NotSupported)
    }
}

/// CreateBucket with BucketOwnerEnforced (the default) accepts an ACL as long as it grants
/// nothing to anyone but the bucket owner (`private`, or the bucket-owner ACLs, which are
/// the owner's own FULL_CONTROL on a bucket); otherwise 400
/// `InvalidBucketAclWithObjectOwnership`.
pub fn check_create_bucket_enforced(
    req: &AclRequest,
    owner_canonical: &str,
) -> Result<(), AclError> {
    let ok = match req {
        AclRequest::None => true,
        AclRequest::Canned(c) => matches!(
            c,
            CannedAcl::Private | CannedAcl::BucketOwnerRead | CannedAcl::BucketOwnerFullControl
        ),
        AclRequest::Grants(g) => g.iter().all(|g| is_user(&g.grantee, owner_canonical)),
    };
    if ok {
        Ok(())
    } else {
        Err(AclError::InvalidBucketAclWithObjectOwnership)
    }
}

/// Who owns a newly written object. BucketOwnerEnforced: the bucket owner.
/// BucketOwnerPreferred: the bucket owner if the write carried the
/// `bucket-owner-full-control` canned ACL, otherwise the writer; AWS documents only the
/// canned ACL here, so equivalent explicit grants do not transfer ownership (and
/// `_bucket_owner_canonical` is unused; kept for call-site compatibility).
/// ObjectWriter: the writer.
pub fn new_object_owner(
    mode: ObjectOwnership,
    req: &AclRequest,
    writer: AccountId,
    bucket_owner: AccountId,
    _bucket_owner_canonical: &str,
) -> AccountId {
    match mode {
        ObjectOwnership::BucketOwnerEnforced => bucket_owner,
        ObjectOwnership::BucketOwnerPreferred => {
            if *req == AclRequest::Canned(CannedAcl::BucketOwnerFullControl) {
                bucket_owner
            } else {
                writer
            }
        }
        ObjectOwnership::ObjectWriter => writer,
    }
}

/// Whether the ACL grants nothing to anyone but the owner. PutBucketOwnershipControls to
/// BucketOwnerEnforced on a bucket whose ACL fails this is 400
/// `InvalidBucketAclWithObjectOwnership`.
pub fn only_owner(acl: &Acl, owner_canonical: &str) -> bool {
    acl.grants
        .iter()
        .all(|g| is_user(&g.grantee, owner_canonical))
}

fn is_user(grantee: &Grantee, canonical: &str) -> bool {
    matches!(grantee, Grantee::CanonicalUser(id) if id.eq_ignore_ascii_case(canonical))
}

// ---------------------------------------------------------------------------------------------
// s3s DTOs
// ---------------------------------------------------------------------------------------------

/// An `Owner` element: the canonical ID, without DisplayName (AWS stopped returning it in
/// 2025).
pub fn owner_to_dto(canonical: String) -> dto::Owner {
    dto::Owner {
        display_name: None,
        id: Some(canonical),
    }
}

/// One grant as an `s3s` DTO (`xsi:type` CanonicalUser with `ID`, or Group with `URI`).
pub fn grant_to_dto(grant: &Grant) -> dto::Grant {
    let grantee = match &grant.grantee {
        Grantee::CanonicalUser(id) => dto::Grantee {
            display_name: None,
            email_address: None,
            id: Some(id.clone()),
            type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
            uri: None,
        },
        Grantee::Group(g) => dto::Grantee {
            display_name: None,
            email_address: None,
            id: None,
            type_: dto::Type::from_static(dto::Type::GROUP),
            uri: Some(g.uri().to_owned()),
        },
    };
    dto::Grant {
        grantee: Some(grantee),
        permission: Some(dto::Permission::from_static(grant.permission.as_str())),
    }
}

/// The owner and grants of an ACL as `s3s` DTOs.
pub fn to_dto(
    acl: &Acl,
    canonical_of: &dyn Fn(AccountId) -> String,
) -> (dto::Owner, Vec<dto::Grant>) {
    (
        owner_to_dto(canonical_of(acl.owner)),
        acl.grants.iter().map(grant_to_dto).collect(),
    )
}

/// The GetObjectAcl response for `acl`.
pub fn to_get_object_acl_output(
    acl: &Acl,
    canonical_of: &dyn Fn(AccountId) -> String,
) -> dto::GetObjectAclOutput {
    let (owner, grants) = to_dto(acl, canonical_of);
    dto::GetObjectAclOutput {
        grants: Some(grants),
        owner: Some(owner),
        request_charged: None,
    }
}

/// The GetBucketAcl response for `acl`.
pub fn to_get_bucket_acl_output(
    acl: &Acl,
    canonical_of: &dyn Fn(AccountId) -> String,
) -> dto::GetBucketAclOutput {
    let (owner, grants) = to_dto(acl, canonical_of);
    dto::GetBucketAclOutput {
        grants: Some(grants),
        owner: Some(owner),
    }
}

/// One DTO grant as a [`Grant`]. Missing grantee or permission, an unknown permission or
/// grantee type, or a grantee without its `ID`/`URI` → [`AclError::MalformedXml`]; a bad ID
/// → `Invalid id`, an unknown group → `Invalid group uri` (400 `InvalidArgument`);
/// `AmazonCustomerByEmail` → [`AclError::EmailGrantee`].
pub fn grant_from_dto(grant: &dto::Grant) -> Result<Grant, AclError> {
    let grantee = grant.grantee.as_ref().ok_or(AclError::MalformedXml)?;
    let permission: Permission = grant
        .permission
        .as_ref()
        .ok_or(AclError::MalformedXml)?
        .as_str()
        .parse()?;
    let grantee = match grantee.type_.as_str() {
        dto::Type::CANONICAL_USER => {
            Grantee::canonical(grantee.id.as_deref().ok_or(AclError::MalformedXml)?)?
        }
        dto::Type::GROUP => {
            let uri = grantee.uri.as_deref().ok_or(AclError::MalformedXml)?;
            Grantee::Group(
                Group::from_uri(uri)
                    .ok_or_else(|| AclError::Malformed("Invalid group uri".to_owned()))?,
            )
        }
        dto::Type::AMAZON_CUSTOMER_BY_EMAIL => return Err(AclError::EmailGrantee),
        _ => return Err(AclError::MalformedXml),
    };
    Ok(Grant::new(grantee, permission))
}

/// The grants of a Put*Acl XML body. The body must name an `Owner` with an `ID`
/// (else [`AclError::MalformedXml`]), and it must be the resource's current owner
/// `resource_owner_canonical` (else [`AclError::OwnerMismatch`], 403: an ACL cannot give the
/// resource away). An empty or absent `AccessControlList` yields no grants (revoke all).
pub fn from_policy(
    policy: &dto::AccessControlPolicy,
    resource_owner_canonical: &str,
) -> Result<Vec<Grant>, AclError> {
    let owner_id = policy
        .owner
        .as_ref()
        .and_then(|o| o.id.as_deref())
        .ok_or(AclError::MalformedXml)?;
    let grants = policy
        .grants
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(grant_from_dto)
        .collect::<Result<Vec<_>, _>>()?;
    if !owner_id.eq_ignore_ascii_case(resource_owner_canonical) {
        return Err(AclError::OwnerMismatch);
    }
    Ok(grants)
}

/// The body a client would send to put `acl` back (Owner and grants).
pub fn to_policy(
    acl: &Acl,
    canonical_of: &dyn Fn(AccountId) -> String,
) -> dto::AccessControlPolicy {
    let (owner, grants) = to_dto(acl, canonical_of);
    dto::AccessControlPolicy {
        grants: Some(grants),
        owner: Some(owner),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::{FullControl, Read, ReadAcp, Write, WriteAcp};

    fn acct(s: &str) -> AccountId {
        s.parse().unwrap()
    }
    fn a() -> AccountId {
        acct("111111111111")
    }
    fn b() -> AccountId {
        acct("222222222222")
    }
    fn c() -> AccountId {
        acct("333333333333")
    }
    fn canon(x: AccountId) -> String {
        x.canonical_user_id()
    }
    fn canonical_of(x: AccountId) -> String {
        canon(x)
    }
    fn built(req: &AclRequest, owner: AccountId, bucket_owner: AccountId) -> Vec<Grant> {
        build(req, owner, bucket_owner, &canonical_of).grants
    }
    fn canned(c: CannedAcl) -> AclRequest {
        AclRequest::Canned(c)
    }
    fn malformed(msg: &str) -> AclError {
        AclError::Malformed(msg.to_owned())
    }

    const ID1: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

    #[test]
    fn canned_acl_names_round_trip_and_bad_ones_fail() {
        for c in CannedAcl::ALL {
            assert_eq!(c.as_str().parse::<CannedAcl>(), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        for bad in [
            "",
            "Private",
            "public_read",
            "bucket-owner-full-control ",
            "nope",
        ] {
            let err = bad.parse::<CannedAcl>().unwrap_err();
            assert_eq!(err.code(), "InvalidArgument", "{bad}");
        }
        assert_eq!(
            "bucket-owner-full-control".parse::<CannedAcl>(),
            Ok(CannedAcl::BucketOwnerFullControl)
        );
    }

    #[test]
    fn every_canned_acl_expands_as_aws_documents() {
        let (owner, bucket_owner) = (a(), b());
        let o = canon(owner);
        let bo = canon(bucket_owner);
        let own = Grant::user(&o, FullControl);
        let cases: Vec<(CannedAcl, Vec<Grant>)> = vec![
            (CannedAcl::Private, vec![own.clone()]),
            (
                CannedAcl::PublicRead,
                vec![own.clone(), Grant::group(Group::AllUsers, Read)],
            ),
            (
                CannedAcl::PublicReadWrite,
                vec![
                    own.clone(),
                    Grant::group(Group::AllUsers, Read),
                    Grant::group(Group::AllUsers, Write),
                ],
            ),
            (
                CannedAcl::AwsExecRead,
                vec![own.clone(), Grant::user(EC2_CANONICAL_ID, Read)],
            ),
            (
                CannedAcl::AuthenticatedRead,
                vec![own.clone(), Grant::group(Group::AuthenticatedUsers, Read)],
            ),
            (
                CannedAcl::BucketOwnerRead,
                vec![own.clone(), Grant::user(&bo, Read)],
            ),
            (
                CannedAcl::BucketOwnerFullControl,
                vec![own.clone(), Grant::user(&bo, FullControl)],
            ),
            (
                CannedAcl::LogDeliveryWrite,
                vec![
                    own.clone(),
                    Grant::group(Group::LogDelivery, Write),
                    Grant::group(Group::LogDelivery, ReadAcp),
                ],
            ),
        ];
        assert_eq!(cases.len(), CannedAcl::ALL.len());
        for (c, want) in cases {
            let acl = build(&canned(c), owner, bucket_owner, &canonical_of);
            assert_eq!(acl.owner, owner, "{c}");
            assert_eq!(acl.grants, want, "{c}");
        }
        // No ACL at all is `private`.
        assert_eq!(built(&AclRequest::None, owner, bucket_owner), vec![own]);
    }

    #[test]
    fn bucket_owner_acls_add_no_duplicate_when_owner_is_bucket_owner() {
        for c in [
            CannedAcl::BucketOwnerRead,
            CannedAcl::BucketOwnerFullControl,
        ] {
            assert_eq!(
                built(&canned(c), a(), a()),
                vec![Grant::user(&canon(a()), FullControl)],
                "{c}"
            );
        }
    }

    #[test]
    fn explicit_grants_are_stored_exactly() {
        let g = vec![Grant::group(Group::AllUsers, Read)];
        let acl = build(&AclRequest::Grants(g.clone()), a(), b(), &canonical_of);
        assert_eq!(acl.owner, a());
        assert_eq!(acl.grants, g);
        let empty = build(&AclRequest::Grants(vec![]), a(), b(), &canonical_of);
        assert!(empty.grants.is_empty());
    }

    #[test]
    fn grant_headers_parse_quoted_unquoted_and_multiple() {
        let uri = format!("uri=\"{ALL_USERS_URI}\"");
        assert_eq!(
            parse_grant_header(&format!("id=\"{ID1}\", {uri}")),
            Ok(vec![
                Grantee::CanonicalUser(ID1.to_owned()),
                Grantee::Group(Group::AllUsers)
            ])
        );
        // Bare values, as the aws CLI sends them; no spaces; uppercase hex is normalised.
        assert_eq!(
            parse_grant_header(&format!(
                "id={},uri={LOG_DELIVERY_URI}",
                ID1.to_ascii_uppercase()
            )),
            Ok(vec![
                Grantee::CanonicalUser(ID1.to_owned()),
                Grantee::Group(Group::LogDelivery)
            ])
        );
        // Whitespace around everything, type names in any case.
        assert_eq!(
            parse_grant_header(&format!(
                "  ID = \"{ID1}\" ,URI={AUTHENTICATED_USERS_URI}  "
            )),
            Ok(vec![
                Grantee::CanonicalUser(ID1.to_owned()),
                Grantee::Group(Group::AuthenticatedUsers)
            ])
        );
    }

    #[test]
    fn bad_grant_headers_are_refused() {
        let bad_id = malformed("Invalid id");
        let bad_uri = malformed("Invalid group uri");
        let unrecognized = malformed("Argument format not recognized");
        let cases: Vec<(String, AclError)> = vec![
            ("id=abc".into(), bad_id.clone()),
            (format!("id=\"{ID1}0\""), bad_id.clone()),
            ("id=111111111111".into(), bad_id.clone()),
            (format!("id=\"{}\"", "g".repeat(64)), bad_id),
            (
                "uri=http://acs.amazonaws.com/groups/global/Nobody".into(),
                bad_uri.clone(),
            ),
            (format!("uri=\"{ALL_USERS_URI}/\""), bad_uri),
            (
                "emailAddress=\"someone@example.com\"".into(),
                AclError::EmailGrantee,
            ),
            (
                format!("id={ID1}, emailaddress=x@example.com"),
                AclError::EmailGrantee,
            ),
            (ID1.to_owned(), unrecognized.clone()),
            (format!("user={ID1}"), unrecognized.clone()),
            ("id=".into(), unrecognized.clone()),
            ("id=\"\"".into(), unrecognized.clone()),
            (format!("=\"{ID1}\""), unrecognized.clone()),
            (format!("id=\"{ID1}"), unrecognized.clone()),
            (
                format!("id=\"{ID1}\" uri={ALL_USERS_URI}"),
                unrecognized.clone(),
            ),
            (format!("id={ID1},"), unrecognized.clone()),
            (format!("id={ID1},,uri={ALL_USERS_URI}"), unrecognized),
        ];
        for (value, want) in cases {
            assert_eq!(parse_grant_header(&value), Err(want), "{value}");
        }
        assert_eq!(AclError::EmailGrantee.status(), 405);
        assert_eq!(AclError::EmailGrantee.code(), "MethodNotAllowed");
    }

    #[test]
    fn parse_request_combines_headers() {
        assert_eq!(parse_request(None, &[]), Ok(AclRequest::None));
        assert_eq!(
            parse_request(Some("public-read"), &[]),
            Ok(canned(CannedAcl::PublicRead))
        );
        let full = format!("id=\"{ID1}\"");
        let read = format!("uri=\"{ALL_USERS_URI}\", id={ID1}");
        assert_eq!(
            parse_request(None, &[(FullControl, &full), (Read, &read)]),
            Ok(AclRequest::Grants(vec![
                Grant::user(ID1, FullControl),
                Grant::group(Group::AllUsers, Read),
                Grant::user(ID1, Read),
            ]))
        );
        // Blank values count as absent.
        assert_eq!(parse_request(None, &[(Read, "  ")]), Ok(AclRequest::None));
        assert_eq!(
            parse_request(Some("private"), &[(WriteAcp, "")]),
            Ok(canned(CannedAcl::Private))
        );
        assert_eq!(
            parse_request(Some("privat"), &[]).map_err(|e| e.code()),
            Err("InvalidArgument")
        );
        assert_eq!(
            parse_request(None, &[(Read, "emailAddress=a@b.c")]),
            Err(AclError::EmailGrantee)
        );
    }

    #[test]
    fn canned_and_grant_headers_conflict() {
        let full = format!("id=\"{ID1}\"");
        let err =
            parse_request(Some("bucket-owner-full-control"), &[(FullControl, &full)]).unwrap_err();
        assert_eq!(err, AclError::CannedAndGrants);
        assert_eq!(err.code(), "InvalidRequest");
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.message(),
            "Specifying both Canned ACLs and Header Grants is not allowed"
        );
        // The conflict is reported even when the canned value is itself invalid.
        assert_eq!(
            parse_request(Some("bogus"), &[(Read, &full)]),
            Err(AclError::CannedAndGrants)
        );
    }

    #[test]
    fn enforced_accepts_only_no_acl_or_bucket_owner_full_control() {
        let bo = canon(b());
        assert_eq!(check_enforced(&AclRequest::None, &bo), Ok(()));
        assert_eq!(
            check_enforced(&canned(CannedAcl::BucketOwnerFullControl), &bo),
            Ok(())
        );
        // The explicit equivalent, through the header (any hex case).
        let header = format!("id={}", bo.to_ascii_uppercase());
        let req = parse_request(None, &[(FullControl, &header)]).unwrap();
        assert_eq!(check_enforced(&req, &bo), Ok(()));
        // Refused: every other canned ACL (private too), grants to others, other permissions.
        for c in CannedAcl::ALL {
            if c != CannedAcl::BucketOwnerFullControl {
                assert_eq!(
                    check_enforced(&canned(c), &bo),
                    Err(AclError::NotSupported),
                    "{c}"
                );
            }
        }
        let refused = [
            vec![Grant::user(&canon(c()), FullControl)],
            vec![
                Grant::user(&bo, FullControl),
                Grant::user(&canon(c()), Read),
            ],
            vec![Grant::user(&bo, Read)],
            vec![Grant::group(Group::AllUsers, Read)],
            vec![],
        ];
        for g in refused {
            assert_eq!(
                check_enforced(&AclRequest::Grants(g.clone()), &bo),
                Err(AclError::NotSupported),
                "{g:?}"
            );
        }
        let e = AclError::NotSupported;
        assert_eq!(
            (e.code(), e.status(), e.message().as_str()),
            (
                "AccessControlListNotSupported",
                400,
                "The bucket does not allow ACLs"
            )
        );
    }

    #[test]
    fn create_bucket_enforced_refuses_acls_granting_others() {
        let o = canon(a());
        for c in [
            CannedAcl::Private,
            CannedAcl::BucketOwnerRead,
            CannedAcl::BucketOwnerFullControl,
        ] {
            assert_eq!(check_create_bucket_enforced(&canned(c), &o), Ok(()), "{c}");
        }
        for c in [
            CannedAcl::PublicRead,
            CannedAcl::PublicReadWrite,
            CannedAcl::AuthenticatedRead,
            CannedAcl::AwsExecRead,
            CannedAcl::LogDeliveryWrite,
        ] {
            assert_eq!(
                check_create_bucket_enforced(&canned(c), &o),
                Err(AclError::InvalidBucketAclWithObjectOwnership),
                "{c}"
            );
        }
        assert_eq!(check_create_bucket_enforced(&AclRequest::None, &o), Ok(()));
        let mine = AclRequest::Grants(vec![Grant::user(&o, FullControl)]);
        assert_eq!(check_create_bucket_enforced(&mine, &o), Ok(()));
        let theirs = AclRequest::Grants(vec![Grant::user(&canon(b()), Read)]);
        assert_eq!(
            check_create_bucket_enforced(&theirs, &o),
            Err(AclError::InvalidBucketAclWithObjectOwnership)
        );
    }

    #[test]
    fn object_owner_per_ownership_mode() {
        let (writer, bucket_owner) = (a(), b());
        let bo = canon(bucket_owner);
        let bofc = canned(CannedAcl::BucketOwnerFullControl);
        let explicit = AclRequest::Grants(vec![Grant::user(&bo, FullControl)]);
        let reqs = [
            AclRequest::None,
            canned(CannedAcl::Private),
            bofc.clone(),
            explicit.clone(),
        ];
        for req in &reqs {
            assert_eq!(
                new_object_owner(
                    ObjectOwnership::BucketOwnerEnforced,
                    req,
                    writer,
                    bucket_owner,
                    &bo
                ),
                bucket_owner
            );
            assert_eq!(
                new_object_owner(
                    ObjectOwnership::ObjectWriter,
                    req,
                    writer,
                    bucket_owner,
                    &bo
                ),
                writer
            );
        }
        let preferred = |req: &AclRequest| {
            new_object_owner(
                ObjectOwnership::BucketOwnerPreferred,
                req,
                writer,
                bucket_owner,
                &bo,
            )
        };
        assert_eq!(preferred(&bofc), bucket_owner);
        assert_eq!(preferred(&AclRequest::None), writer);
        assert_eq!(preferred(&canned(CannedAcl::BucketOwnerRead)), writer);
        assert_eq!(preferred(&explicit), writer);

        // The ACL stored after an ownership transfer: the bucket owner's FULL_CONTROL only.
        let owner = preferred(&bofc);
        assert_eq!(
            built(&bofc, owner, bucket_owner),
            vec![Grant::user(&bo, FullControl)]
        );
    }

    #[test]
    fn object_ownership_names() {
        for o in ObjectOwnership::ALL {
            assert_eq!(o.as_str().parse::<ObjectOwnership>(), Ok(o));
            let d: dto::ObjectOwnership = o.into();
            assert_eq!(d.as_str(), o.as_str());
            assert_eq!(ObjectOwnership::try_from(&d), Ok(o));
        }
        assert!("bucketownerenforced".parse::<ObjectOwnership>().is_err());
        assert_eq!(
            ObjectOwnership::default(),
            ObjectOwnership::BucketOwnerEnforced
        );
        assert!(ObjectOwnership::BucketOwnerEnforced.acls_disabled());
        assert!(!ObjectOwnership::ObjectWriter.acls_disabled());
    }

    #[test]
    fn only_owner_detects_other_grantees() {
        let o = canon(a());
        let private = build(&canned(CannedAcl::Private), a(), a(), &canonical_of);
        assert!(only_owner(&private, &o));
        assert!(only_owner(
            &Acl {
                owner: a(),
                grants: vec![]
            },
            &o
        ));
        assert!(only_owner(
            &Acl {
                owner: a(),
                grants: vec![Grant::user(&o, Read)]
            },
            &o
        ));
        for c in [
            CannedAcl::PublicRead,
            CannedAcl::AuthenticatedRead,
            CannedAcl::LogDeliveryWrite,
            CannedAcl::AwsExecRead,
        ] {
            assert!(
                !only_owner(&build(&canned(c), a(), a(), &canonical_of), &o),
                "{c}"
            );
        }
        let cross = build(&canned(CannedAcl::BucketOwnerRead), b(), a(), &canonical_of);
        assert!(!only_owner(&cross, &canon(b())));
    }

    #[test]
    fn grants_for_owner_other_anonymous_and_groups() {
        let (o, other) = (canon(a()), canon(b()));
        let private = build(&AclRequest::None, a(), a(), &canonical_of);
        // FULL_CONTROL implies every permission.
        for p in Permission::ALL {
            assert!(grants(&private, Some(&o), p, &o), "{p}");
            assert!(!grants(&private, Some(&other), p, &o), "{p}");
            assert!(!grants(&private, None, p, &o), "{p}");
        }
        // The owner gets nothing beyond its explicit grants.
        let revoked = Acl {
            owner: a(),
            grants: vec![Grant::user(&o, Read)],
        };
        assert!(grants(&revoked, Some(&o), Read, &o));
        for p in [Write, ReadAcp, WriteAcp, FullControl] {
            assert!(!grants(&revoked, Some(&o), p, &o), "{p}");
        }
        // A grant of one permission gives only that one.
        let read_acp = Acl {
            owner: a(),
            grants: vec![Grant::user(&other, ReadAcp)],
        };
        assert!(grants(&read_acp, Some(&other), ReadAcp, &o));
        assert!(!grants(&read_acp, Some(&other), Read, &o));
        assert!(!grants(&read_acp, Some(&other), FullControl, &o));
        // Canonical IDs compare case-insensitively.
        assert!(grants(
            &read_acp,
            Some(&other.to_ascii_uppercase()),
            ReadAcp,
            &o
        ));

        let public = build(&canned(CannedAcl::PublicRead), a(), a(), &canonical_of);
        assert!(grants(&public, None, Read, &o));
        assert!(grants(&public, Some(&other), Read, &o));
        assert!(!grants(&public, None, Write, &o));

        let authed = build(
            &canned(CannedAcl::AuthenticatedRead),
            a(),
            a(),
            &canonical_of,
        );
        assert!(grants(&authed, Some(&other), Read, &o));
        assert!(!grants(&authed, None, Read, &o));
        assert!(!grants(&authed, Some(&other), ReadAcp, &o));

        let logs = build(
            &canned(CannedAcl::LogDeliveryWrite),
            a(),
            a(),
            &canonical_of,
        );
        assert!(!grants(&logs, Some(&other), Write, &o));
        assert!(!grants(&logs, None, Write, &o));

        let group_full = Acl {
            owner: a(),
            grants: vec![Grant::group(Group::AuthenticatedUsers, FullControl)],
        };
        for p in Permission::ALL {
            assert!(grants(&group_full, Some(&other), p, &o), "{p}");
            assert!(!grants(&group_full, None, p, &o), "{p}");
        }

        let exec = build(&canned(CannedAcl::AwsExecRead), a(), a(), &canonical_of);
        assert!(grants(&exec, Some(EC2_CANONICAL_ID), Read, &o));
        assert!(!grants(&exec, Some(&other), Read, &o));
    }

    #[test]
    fn public_acls_for_block_public_access() {
        for c in CannedAcl::ALL {
            let acl = build(&canned(c), a(), b(), &canonical_of);
            assert_eq!(is_public(&acl), c.is_public(), "{c}");
            assert_eq!(canned(c).is_public(), c.is_public(), "{c}");
            assert_eq!(is_public_request(&canned(c)), c.is_public(), "{c}");
        }
        assert!(CannedAcl::PublicRead.is_public());
        assert!(CannedAcl::PublicReadWrite.is_public());
        assert!(CannedAcl::AuthenticatedRead.is_public());
        assert!(!CannedAcl::LogDeliveryWrite.is_public());
        assert!(!AclRequest::None.is_public());
        let g = AclRequest::Grants(vec![
            Grant::user(ID1, Read),
            Grant::group(Group::AuthenticatedUsers, ReadAcp),
        ]);
        assert!(g.is_public());
        assert_eq!(
            check_block_public(&g, true),
            Err(AclError::PublicAclBlocked)
        );
        assert_eq!(check_block_public(&g, false), Ok(()));
        assert_eq!(
            check_block_public(&canned(CannedAcl::Private), true),
            Ok(())
        );
        assert_eq!(AclError::PublicAclBlocked.status(), 403);
        assert_eq!(AclError::PublicAclBlocked.code(), "AccessDenied");

        // IgnorePublicAcls: evaluate without the public grants.
        let o = canon(a());
        let public = build(&canned(CannedAcl::PublicReadWrite), a(), a(), &canonical_of);
        let ignored = without_public(&public);
        assert_eq!(ignored.grants, vec![Grant::user(&o, FullControl)]);
        assert!(!grants(&ignored, None, Read, &o));
        assert!(grants(&ignored, Some(&o), Read, &o));
        assert!(!is_public(&ignored));
    }

    #[test]
    fn canonical_ids_of_a_request() {
        let req = AclRequest::Grants(vec![
            Grant::user(ID1, Read),
            Grant::group(Group::AllUsers, Read),
            Grant::user(EC2_CANONICAL_ID, Write),
        ]);
        assert_eq!(
            req.canonical_ids().collect::<Vec<_>>(),
            vec![ID1, EC2_CANONICAL_ID]
        );
        assert_eq!(canned(CannedAcl::PublicRead).canonical_ids().count(), 0);
    }

    #[test]
    fn dto_round_trip() {
        let o = canon(a());
        let mut acl = build(
            &canned(CannedAcl::BucketOwnerFullControl),
            a(),
            b(),
            &canonical_of,
        );
        acl.grants.push(Grant::group(Group::AllUsers, Read));
        acl.grants.push(Grant::group(Group::LogDelivery, WriteAcp));
        acl.grants.push(Grant::user(EC2_CANONICAL_ID, ReadAcp));

        let (owner, dto_grants) = to_dto(&acl, &canonical_of);
        assert_eq!(owner.id.as_deref(), Some(o.as_str()));
        assert_eq!(owner.display_name, None);
        assert_eq!(dto_grants.len(), acl.grants.len());
        let first = dto_grants[0].grantee.as_ref().unwrap();
        assert_eq!(first.type_.as_str(), "CanonicalUser");
        assert_eq!(first.id.as_deref(), Some(o.as_str()));
        assert_eq!(
            dto_grants[0].permission.as_ref().unwrap().as_str(),
            "FULL_CONTROL"
        );
        let group = dto_grants[2].grantee.as_ref().unwrap();
        assert_eq!(group.type_.as_str(), "Group");
        assert_eq!(group.uri.as_deref(), Some(ALL_USERS_URI));
        assert_eq!(group.id, None);

        let out = to_get_object_acl_output(&acl, &canonical_of);
        assert_eq!(out.owner, Some(owner.clone()));
        assert_eq!(out.grants.as_deref(), Some(dto_grants.as_slice()));
        let bout = to_get_bucket_acl_output(&acl, &canonical_of);
        assert_eq!(bout.grants.as_deref(), Some(dto_grants.as_slice()));

        // Back again, through the Put*Acl body.
        let policy = to_policy(&acl, &canonical_of);
        assert_eq!(from_policy(&policy, &o), Ok(acl.grants.clone()));
        assert_eq!(
            parse_put_acl(None, &[], Some(&policy), &o),
            Ok(AclRequest::Grants(acl.grants.clone()))
        );
    }

    #[test]
    fn dto_round_trip_through_xml() {
        use s3s::xml::{Deserialize, Deserializer, Serialize, Serializer};
        let o = canon(a());
        let mut acl = build(&canned(CannedAcl::PublicRead), a(), a(), &canonical_of);
        acl.grants.push(Grant::user(&canon(b()), WriteAcp));
        let out = to_get_object_acl_output(&acl, &canonical_of);
        let mut buf = Vec::new();
        out.serialize(&mut Serializer::new(&mut buf)).unwrap();
        let xml = String::from_utf8(buf.clone()).unwrap();
        assert!(xml.contains("xsi:type=\"CanonicalUser\""), "{xml}");
        assert!(
            xml.contains(&format!("<URI>{ALL_USERS_URI}</URI>")),
            "{xml}"
        );
        assert!(!xml.contains("DisplayName"), "{xml}");
        let policy = dto::AccessControlPolicy::deserialize(&mut Deserializer::new(&buf)).unwrap();
        assert_eq!(from_policy(&policy, &o), Ok(acl.grants));
    }

    fn dto_grantee(type_: &'static str, id: Option<&str>, uri: Option<&str>) -> dto::Grantee {
        dto::Grantee {
            display_name: None,
            email_address: None,
            id: id.map(str::to_owned),
            type_: dto::Type::from_static(type_),
            uri: uri.map(str::to_owned),
        }
    }

    fn dto_grant(grantee: Option<dto::Grantee>, perm: Option<&'static str>) -> dto::Grant {
        dto::Grant {
            grantee,
            permission: perm.map(dto::Permission::from_static),
        }
    }

    #[test]
    fn bad_dto_grants_are_refused() {
        let user = Some(dto_grantee(dto::Type::CANONICAL_USER, Some(ID1), None));
        let cases = [
            (dto_grant(None, Some("READ")), AclError::MalformedXml),
            (dto_grant(user.clone(), None), AclError::MalformedXml),
            (
                dto_grant(user.clone(), Some("Read")),
                AclError::MalformedXml,
            ),
            (dto_grant(user, Some("DELETE")), AclError::MalformedXml),
            (
                dto_grant(
                    Some(dto_grantee(dto::Type::CANONICAL_USER, None, None)),
                    Some("READ"),
                ),
                AclError::MalformedXml,
            ),
            (
                dto_grant(
                    Some(dto_grantee(dto::Type::CANONICAL_USER, Some("abc"), None)),
                    Some("READ"),
                ),
                malformed("Invalid id"),
            ),
            (
                dto_grant(
                    Some(dto_grantee(dto::Type::GROUP, None, None)),
                    Some("READ"),
                ),
                AclError::MalformedXml,
            ),
            (
                dto_grant(
                    Some(dto_grantee(dto::Type::GROUP, None, Some("http://x/"))),
                    Some("READ"),
                ),
                malformed("Invalid group uri"),
            ),
            (
                dto_grant(
                    Some(dto::Grantee {
                        email_address: Some("a@example.com".to_owned()),
                        ..dto_grantee(dto::Type::AMAZON_CUSTOMER_BY_EMAIL, None, None)
                    }),
                    Some("READ"),
                ),
                AclError::EmailGrantee,
            ),
            (
                dto_grant(Some(dto_grantee("Robot", Some(ID1), None)), Some("READ")),
                AclError::MalformedXml,
            ),
        ];
        for (g, want) in cases {
            assert_eq!(grant_from_dto(&g), Err(want), "{g:?}");
        }
        // A group grantee ignores a stray ID; a user one a stray URI.
        assert_eq!(
            grant_from_dto(&dto_grant(
                Some(dto_grantee(
                    dto::Type::GROUP,
                    Some(ID1),
                    Some(ALL_USERS_URI)
                )),
                Some("WRITE"),
            )),
            Ok(Grant::group(Group::AllUsers, Write))
        );
    }

    #[test]
    fn policy_owner_must_be_present_and_match() {
        let o = canon(a());
        let grants = vec![grant_to_dto(&Grant::user(&o, FullControl))];
        let with_owner = |id: Option<&str>| dto::AccessControlPolicy {
            grants: Some(grants.clone()),
            owner: Some(dto::Owner {
                display_name: None,
                id: id.map(str::to_owned),
            }),
        };
        assert_eq!(
            from_policy(
                &dto::AccessControlPolicy {
                    grants: Some(grants.clone()),
                    owner: None
                },
                &o
            ),
            Err(AclError::MalformedXml)
        );
        assert_eq!(
            from_policy(&with_owner(None), &o),
            Err(AclError::MalformedXml)
        );
        let err = from_policy(&with_owner(Some(&canon(b()))), &o).unwrap_err();
        assert_eq!((err.code(), err.status()), ("AccessDenied", 403));
        assert_eq!(
            from_policy(&with_owner(Some(&o.to_ascii_uppercase())), &o),
            Ok(vec![Grant::user(&o, FullControl)])
        );
        // Revoke all: no AccessControlList at all.
        let empty = dto::AccessControlPolicy {
            grants: None,
            owner: Some(owner_to_dto(o.clone())),
        };
        assert_eq!(from_policy(&empty, &o), Ok(vec![]));
        let e = AclError::MalformedXml;
        assert_eq!((e.code(), e.status()), ("MalformedACLError", 400));
    }

    #[test]
    fn put_acl_takes_exactly_one_source() {
        let o = canon(a());
        let policy = to_policy(
            &build(&AclRequest::None, a(), a(), &canonical_of),
            &canonical_of,
        );
        let full = format!("id={o}");
        assert_eq!(
            parse_put_acl(None, &[], None, &o),
            Err(AclError::MissingAcl)
        );
        assert_eq!(
            parse_put_acl(Some("private"), &[], None, &o),
            Ok(canned(CannedAcl::Private))
        );
        assert_eq!(
            parse_put_acl(None, &[(FullControl, &full)], None, &o),
            Ok(AclRequest::Grants(vec![Grant::user(&o, FullControl)]))
        );
        assert_eq!(
            parse_put_acl(Some("private"), &[], Some(&policy), &o),
            Err(AclError::UnexpectedContent)
        );
        assert_eq!(
            parse_put_acl(None, &[(FullControl, &full)], Some(&policy), &o),
            Err(AclError::UnexpectedContent)
        );
        assert_eq!(
            parse_put_acl(Some("private"), &[(FullControl, &full)], Some(&policy), &o),
            Err(AclError::CannedAndGrants)
        );
        assert_eq!(
            parse_put_acl(None, &[], Some(&policy), &o),
            Ok(AclRequest::Grants(vec![Grant::user(&o, FullControl)]))
        );
        for e in [AclError::MissingAcl, AclError::UnexpectedContent] {
            assert_eq!(e.status(), 400);
        }
        assert_eq!(AclError::MissingAcl.code(), "MissingSecurityHeader");
        assert_eq!(AclError::UnexpectedContent.code(), "UnexpectedContent");
    }

    #[test]
    fn enforced_view_shows_bucket_owner_full_control() {
        let acl = enforced_view(b(), &canonical_of);
        assert_eq!(acl.owner, b());
        assert_eq!(acl.grants, vec![Grant::user(&canon(b()), FullControl)]);
    }

    #[test]
    fn errors_map_to_s3s_codes_and_statuses() {
        let all = [
            AclError::CannedAndGrants,
            AclError::NotSupported,
            AclError::InvalidBucketAclWithObjectOwnership,
            AclError::EmailGrantee,
            AclError::Malformed("Invalid id".to_owned()),
            AclError::MalformedXml,
            AclError::OwnerMismatch,
            AclError::PublicAclBlocked,
            AclError::UnexpectedContent,
            AclError::MissingAcl,
        ];
        for e in all {
            let s3 = e.to_s3_error();
            assert_eq!(s3.code().as_str(), e.code(), "{e}");
            assert_eq!(s3.message(), Some(e.message().as_str()), "{e}");
            let status = s3.code().status_code().map(|s| s.as_u16());
            assert_eq!(status, Some(e.status()), "{e}");
            assert!(e.to_string().starts_with(e.code()));
        }
        assert_eq!(
            AclError::InvalidBucketAclWithObjectOwnership.message(),
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        );
    }

    #[test]
    fn permissions_and_groups() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
            assert!(p.header_name().starts_with("x-amz-grant-"));
            assert!(FullControl.implies(p));
            assert!(p.implies(p));
        }
        assert!(!Read.implies(Write));
        assert!(!WriteAcp.implies(FullControl));
        for g in Group::ALL {
            assert_eq!(Group::from_uri(g.uri()), Some(g));
        }
        assert_eq!(
            Group::from_uri("http://acs.amazonaws.com/groups/global/allusers"),
            None
        );
        assert!(Grantee::canonical(ID1).is_ok());
        assert!(is_canonical_id(EC2_CANONICAL_ID));
        assert!(!is_canonical_id("111111111111"));
    }
}
