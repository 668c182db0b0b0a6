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
