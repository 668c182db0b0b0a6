//! Shared test support: start an emulator in-process and build real SDK clients for it.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_s3::config::Region;
use ferry::emu::{server, Emulator, Options, World};

/// A running emulator for one test.
pub struct Emu {
    pub running: server::Running,
}

impl Emu {
    pub async fn start(world: World, options: Options) -> Emu {
        let emu = Arc::new(Emulator::new(&world, options).expect("world builds"));
        let running = server::start(emu, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("emulator listens");
        Emu { running }
    }

    pub async fn default() -> Emu {
        Emu::start(World::default_world(), Options::default()).await
    }

    /// Loads `scenarios/NAME`.
    pub async fn scenario(name: &str) -> Emu {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        Emu::start(
            World::load(&path).expect("scenario loads"),
            Options::default(),
        )
        .await
    }

    pub fn endpoint(&self) -> String {
        self.running.endpoint()
    }

    pub fn s3(&self, key: &Key) -> aws_sdk_s3::Client {
        s3_client(&self.endpoint(), key)
    }

    pub fn sts(&self, key: &Key) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::Config::builder()
            .behavior_version_latest()
            .region(Region::new("us-east-1"))
            .credentials_provider(key.creds())
            .endpoint_url(self.endpoint())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub fn iam(&self, key: &Key) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::Config::builder()
            .behavior_version_latest()
            .region(Region::new("us-east-1"))
            .credentials_provider(key.creds())
            .endpoint_url(self.endpoint())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// Assumes a role with `key` and returns the session's key.
    pub async fn assume(&self, key: &Key, role_arn: &str, session: &str) -> Key {
        let out = self
            .sts(key)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .send()
            .await
            .expect("assume role");
        let c = out.credentials().expect("credentials");
        Key {
            id: c.access_key_id().to_owned(),
            secret: c.secret_access_key().to_owned(),
            token: Some(c.session_token().to_owned()),
        }
    }
}

pub fn s3_client(endpoint: &str, key: &Key) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(key.creds())
        .endpoint_url(endpoint)
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Credentials for a test principal.
#[derive(Clone, Debug)]
pub struct Key {
    pub id: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Key {
    pub fn new(id: &str, secret: &str) -> Key {
        Key {
            id: id.to_owned(),
            secret: secret.to_owned(),
            token: None,
        }
    }

    /// The root key of a default-world account (`A`, `B`, `C`).
    pub fn root(alias: &str) -> Key {
        let (_, _, id, secret) = ferry::emu::world::DEFAULT_ACCOUNTS
            .iter()
            .find(|a| a.0 == alias)
            .expect("default account");
        Key::new(id, secret)
    }

    pub fn creds(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.id.clone(),
            self.secret.clone(),
            self.token.clone(),
            None,
            "ferry-tests",
        )
    }
}

/// The S3 error code of a failed SDK call.
pub fn code<E, R>(r: &Result<R, aws_sdk_s3::error::SdkError<E>>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
{
    match r {
        Ok(_) => "Ok".to_owned(),
        Err(e) => e
            .as_service_error()
            .and_then(|s| s.code())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{e:?}")),
    }
}

/// The HTTP status of a failed SDK call.
pub fn status<E: std::fmt::Debug, R>(r: &Result<R, aws_sdk_s3::error::SdkError<E>>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0),
    }
}

pub const A: &str = "111111111111";
pub const B: &str = "222222222222";
pub const C: &str = "333333333333";

pub fn canonical(account: &str) -> String {
    account
        .parse::<ferry::types::AccountId>()
        .unwrap()
        .canonical_user_id()
}

// ---- Added for emu_sts.rs / emu_s3_authz.rs ----

/// Builds an emulator from inline world-file TOML (see `docs/WORLD.md`).
pub async fn emu_from_toml(toml_text: &str, options: Options) -> Emu {
    let world = World::parse(toml_text, Path::new("test.toml")).expect("test world parses");
    Emu::start(world, options).await
}

/// The default world's three accounts as world-file TOML, for tests that add users, roles and
/// buckets under them (append `[[account.user]]` etc. after the account they belong to).
pub fn default_account_toml(alias: &str) -> String {
    let (alias, id, key, secret) = ferry::emu::world::DEFAULT_ACCOUNTS
        .iter()
        .find(|a| a.0 == alias)
        .expect("default account");
    format!(
        "[[account]]\nalias = \"{alias}\"\nid = \"{id}\"\naccess_key = \"{key}\"\nsecret_key = \"{secret}\"\n"
    )
}

/// The key of temporary credentials returned by STS.
pub fn key_from_sts(c: &aws_sdk_sts::types::Credentials) -> Key {
    Key {
        id: c.access_key_id().to_owned(),
        secret: c.secret_access_key().to_owned(),
        token: Some(c.session_token().to_owned()),
    }
}

/// The error message of a failed SDK call (empty when none).
pub fn err_message<E, R>(r: &Result<R, aws_sdk_s3::error::SdkError<E>>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    match r {
        Ok(_) => String::new(),
        Err(e) => e
            .as_service_error()
            .and_then(|s| s.message())
            .unwrap_or_default()
            .to_owned(),
    }
}

/// An S3 client that signs nothing (anonymous requests).
pub fn anonymous_s3(emu: &Emu) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .force_path_style(true)
            .allow_no_auth()
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    )
}

/// A plain HTTP/1.1 GET to the emulator over a raw TCP socket (no SDK): returns the status and
/// body. `path_and_query` is sent verbatim; `headers` are extra `(name, value)` pairs.
pub async fn raw_http_get(
    addr: std::net::SocketAddr,
    host: &str,
    path_and_query: &str,
    headers: &[(String, String)],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to emulator");
    let mut req = format!("GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("send request");
    let mut raw = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("response within 10 s")
        .expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || tail.len() < n {
                break;
            }
            out.push_str(&tail[..n]);
            rest = tail[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_owned()
    };
    (status, body)
}
