//! `ferry serve`: run the multi-account emulator on a local port until interrupted.
//!
//! Prints the endpoint and, for each account, its ID, canonical user ID and root keys (these
//! are the emulator's own made-up credentials, printed so clients can use them), and writes
//! the same as JSON with `--credentials-out`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;

use crate::emu::{self, Emulator, Faults, Options, World};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// World file (TOML) with accounts, users, roles, policies and buckets; see docs/WORLD.md.
    /// Without it: accounts A, B and C with the documented root keys.
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// New buckets default to ObjectWriter without Block Public Access (pre-2023 accounts).
    #[arg(long)]
    pub legacy_defaults: bool,
    /// Write the endpoint and each account's ID, canonical ID and root keys as JSON.
    #[arg(long, value_name = "FILE")]
    pub credentials_out: Option<PathBuf>,
    /// Cap STS session lifetimes (for example `5s`), to exercise clients' credential refresh.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub session_lifetime: Option<Duration>,
    /// Log every authorization decision with the statements that decided it.
    #[arg(long)]
    pub explain: bool,
    /// Inject faults into S3 requests: `slowdown=0.05,internal=0.01,drop=0.01,expired=0.02,latency=5ms`.
    #[arg(long, value_name = "SPEC", value_parser = Faults::parse)]
    pub faults: Option<Faults>,
    /// Smallest multipart part size in bytes except the last (AWS: 5 MiB).
    #[arg(long, value_name = "BYTES")]
    pub min_part_size: Option<u64>,
    /// Largest single PUT, part and CopyObject source in bytes (AWS: 5 GiB).
    #[arg(long, value_name = "BYTES", hide = true)]
    pub max_single_size: Option<u64>,
}

/// Parses `500ms`, `5s`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .ok_or_else(|| format!("`{s}` needs a unit (ms, s or m)"))?;
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("`{s}`: unit must be ms, s or m")),
    }
}

/// The credentials file's shape.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CredentialsFile {
    pub endpoint: String,
    pub region: String,
    pub accounts: Vec<AccountCredentials>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct AccountCredentials {
    pub alias: String,
    pub account_id: String,
    pub canonical_user_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Each account's root credentials.
pub fn credentials(emu: &Emulator, endpoint: &str) -> CredentialsFile {
    let st = emu.read();
    let accounts = st
        .accounts
        .values()
        .map(|a| AccountCredentials {
            alias: a.alias.clone(),
            account_id: a.id.to_string(),
            canonical_user_id: a.canonical_id.clone(),
            access_key_id: a.root_key.clone(),
            secret_access_key: st
                .keys
                .get(&a.root_key)
                .map(|k| k.secret.clone())
                .unwrap_or_default(),
        })
        .collect();
    CredentialsFile {
        endpoint: endpoint.to_owned(),
        region: "us-east-1".to_owned(),
        accounts,
    }
}

pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    let world = match &args.world {
        Some(p) => World::load(p)?,
        None => World::default_world(),
    };
    let options = Options {
        legacy_defaults: args.legacy_defaults,
        session_lifetime: args.session_lifetime,
        explain: args.explain,
        faults: args.faults.clone().unwrap_or_default(),
        min_part_size: args.min_part_size,
        max_single_size: args.max_single_size,
        record_decisions: false,
    };
    let emu = Arc::new(Emulator::new(&world, options)?);
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async move {
        let running = emu::server::start(emu.clone(), args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let creds = credentials(&emu, &running.endpoint());
        if let Some(path) = &args.credentials_out {
            let json = serde_json::to_string_pretty(&creds)?;
            std::fs::write(path, json)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        println!("ferry emulator listening on {}", running.endpoint());
        println!("  (virtual-hosted style: http://BUCKET.localhost:{})", running.addr.port());
        println!("  region: us-east-1");
        for a in &creds.accounts {
            println!(
                "  account {} ({}): canonical {}\n    root AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
                a.alias, a.account_id, a.canonical_user_id, a.access_key_id, a.secret_access_key
            );
        }
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        running.shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
