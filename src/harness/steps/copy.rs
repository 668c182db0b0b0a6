//! `ferry copy` and `ferry sync` between two named principals, in process through the copy
//! engine: the command line is parsed with the CLI's own flags (`cli::copy::options`), each
//! side gets the credentials, region and endpoint of its principal.

use std::sync::Arc;

use aws_credential_types::provider::ProvideCredentials as _;
use clap::{Parser, Subcommand};

use super::{step, Args, StepDef};
use crate::cli::copy::{CopyArgs, SyncArgs};
use crate::copy::clients::{self, DestClient, Side, SideConfig, SourceClient};
use crate::copy::engine::{self, CopyError, Counters, Dest, Event, Events, Kind, Source};
use crate::copy::url::Location;
use crate::harness::world::{fail, Failure, FerryWorld, Output};

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            When,
            r#"^"([^"]+)" and "([^"]+)" run "ferry (copy|sync) ([^"]+)"$"#,
            "Runs `ferry copy SRC DST [FLAGS]` or `ferry sync SRC DST [--delete] [FLAGS]` in process, with the first principal's credentials on the source side and the second's on the destination (flags as on the command line, e.g. --acl none). It succeeds when every object was copied.",
            run
        ),
        step!(
            Then,
            r#"^(\d+) objects? (?:was|were) copied$"#,
            "How many objects the last `ferry copy` copied.",
            copied
        ),
    ]
}

/// `copy ...` or `sync ...`, parsed with the CLI's own flags.
#[derive(Debug, Parser)]
#[command(name = "ferry", no_binary_name = true)]
struct Line {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    Copy(CopyArgs),
    Sync(SyncArgs),
}

fn s3(loc: &str) -> (String, String) {
    match loc.parse::<Location>() {
        Ok(Location::S3 { bucket, prefix }) => (bucket, prefix),
        Ok(Location::Local(_)) => fail(format!("`{loc}`: only s3:// locations in features")),
        Err(e) => fail(format!("`{loc}`: {e}")),
    }
}

/// One side of the job with a principal's credentials, region and endpoint.
async fn side(w: &FerryWorld, who: &str, name: &'static str) -> Side {
    let p = w.principal(who);
    let account = w.account(&p.account);
    let credentials = match p.creds.provide_credentials().await {
        Ok(c) => c,
        Err(e) => fail(format!("the credentials of `{who}`: {e}")),
    };
    let cfg = SideConfig {
        profile: None,
        role_arn: None,
        external_id: None,
        region: account.sdk.region().map(|r| r.as_ref().to_owned()),
        endpoint: account.endpoint.clone(),
        credentials: Some(credentials),
    };
    clients::build(name, &cfg).await
}

async fn run(w: &mut FerryWorld, a: Args) {
    let (src_who, dst_who) = (a.get(1).to_owned(), a.get(2).to_owned());
    let mut words = vec![a.get(3)];
    words.extend(a.get(4).split_whitespace());
    let line = match Line::try_parse_from(words) {
        Ok(l) => l.command,
        Err(e) => fail(format!("ferry {} {}: {e}", a.get(3), a.get(4))),
    };
    let (args, kind) = match line {
        Sub::Copy(c) => (c, Kind::Copy),
        Sub::Sync(s) => (
            s.copy,
            Kind::Sync {
                delete: s.delete,
                max_delete: s.max_delete,
                compare: s.compare,
            },
        ),
    };
    let opts = match crate::cli::copy::options(&args, kind) {
        Ok(o) => o,
        Err(e) => fail(format!("ferry {} {}: {e:#}", a.get(3), a.get(4))),
    };
    let (src_bucket, src_prefix) = s3(&args.source);
    let (dst_bucket, dst_prefix) = s3(&args.destination);
    let src = side(w, &src_who, "source").await;
    let dst = side(w, &dst_who, "destination").await;
    let what = format!(
        "\"{src_who}\" -> \"{dst_who}\": ferry {} {}",
        a.get(3),
        a.get(4)
    );
    let events: Events = Arc::new(|_: &Event| {});
    w.begin().await;
    let r = engine::run(
        Source::S3 {
            client: SourceClient(src),
            bucket: src_bucket,
            prefix: src_prefix,
        },
        Dest::S3 {
            client: DestClient(dst),
            bucket: dst_bucket,
            prefix: dst_prefix,
        },
        opts,
        Arc::new(Counters::default()),
        events,
    )
    .await;
    let result = match r {
        Ok(report) if report.failed.is_empty() => Ok(Output::Text(report.copied.to_string())),
        Ok(report) => {
            let first = &report.failed[0].error;
            // "writing the destination: AccessDenied: ..." -> AccessDenied
            let code = first
                .split(": ")
                .find(|c| {
                    c.starts_with(|ch: char| ch.is_ascii_uppercase())
                        && c.chars().all(|ch| ch.is_ascii_alphanumeric())
                })
                .unwrap_or("CopyFailed")
                .to_owned();
            Err(Failure {
                code,
                message: format!(
                    "{} of {} objects failed: {}",
                    report.failed.len(),
                    report.failed.len() as u64 + report.copied,
                    report
                        .failed
                        .iter()
                        .map(|f| format!("{}: {}", f.key, f.error))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                status: 0,
            })
        }
        Err(e @ CopyError::Permission { .. }) => Err(Failure {
            code: "AccessDenied".to_owned(),
            message: e.to_string(),
            status: 403,
        }),
        Err(e @ CopyError::Config(_)) => Err(Failure {
            code: "ConfigError".to_owned(),
            message: e.to_string(),
            status: 0,
        }),
    };
    w.outcome(what, result);
}

async fn copied(w: &mut FerryWorld, a: Args) {
    let o = w.last();
    match &o.result {
        Ok(Output::Text(n)) if n == a.get(1) => {}
        other => fail(format!(
            "{}: expected {} objects copied, got {other:?}",
            o.what,
            a.get(1)
        )),
    }
}
