//! `ferry copy` (and `ferry sync`, once built) between two named principals, in process
//! through the copy engine: the command line is parsed with the CLI's own flags, each side
//! gets the credentials of its principal.

use std::sync::Arc;

use aws_sdk_s3::types::ObjectCannedAcl;
use clap::Parser;

use super::{step, Args, StepDef};
use crate::cli::copy::CopyArgs;
use crate::copy::clients::{DestClient, Side, SourceClient};
use crate::copy::engine::{self, CopyError, Counters};
use crate::copy::url::Location;
use crate::harness::world::{fail, Failure, FerryWorld, Output};

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            When,
            r#"^"([^"]+)" and "([^"]+)" run "ferry (copy|sync) ([^"]+)"$"#,
            "Runs `ferry copy SRC DST [FLAGS]` with the first principal's credentials on the source side and the second's on the destination (flags as on the command line, e.g. --acl none). It succeeds when every object was copied.",
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

#[derive(Debug, Parser)]
#[command(name = "ferry copy", no_binary_name = true)]
struct CopyLine {
    #[command(flatten)]
    args: CopyArgs,
}

fn s3(loc: &str) -> (String, String) {
    match loc.parse::<Location>() {
        Ok(Location::S3 { bucket, prefix }) => (bucket, prefix),
        Ok(Location::Local(_)) => fail(format!("`{loc}`: only s3:// locations in features")),
        Err(e) => fail(format!("`{loc}`: {e}")),
    }
}

async fn run(w: &mut FerryWorld, a: Args) {
    let (src_who, dst_who) = (a.get(1).to_owned(), a.get(2).to_owned());
    let command = a.get(3);
    if command != "copy" {
        fail(format!(
            "`ferry {command}` is not built yet in this ferry (only `ferry copy`)"
        ));
    }
    let words: Vec<&str> = a.get(4).split_whitespace().collect();
    let line = match CopyLine::try_parse_from(words) {
        Ok(l) => l.args,
        Err(e) => fail(format!("ferry copy {}: {e}", a.get(4))),
    };
    let acl = match line.acl.as_str() {
        "none" => None,
        x if ObjectCannedAcl::values().contains(&x) => Some(ObjectCannedAcl::from(x)),
        x => fail(format!("--acl `{x}` is not a canned ACL")),
    };
    let opts = engine::Options {
        acl,
        concurrency: line.concurrency.max(1),
        part_concurrency: line.part_concurrency.max(1),
        mode: line.mode,
        dry_run: line.dry_run,
        multipart_threshold: line.multipart_threshold,
        part_size: line.part_size,
        min_part_size: line.min_part_size,
    };
    let src = w.clients(&src_who);
    let dst = w.clients(&dst_who);
    let what = format!("\"{src_who}\" -> \"{dst_who}\": ferry copy {}", a.get(4));
    w.begin().await;
    let r = engine::copy(
        SourceClient(Side {
            s3: src.s3,
            sts: src.sts,
            name: "source",
        }),
        DestClient(Side {
            s3: dst.s3,
            sts: dst.sts,
            name: "destination",
        }),
        s3(&line.source),
        s3(&line.destination),
        opts,
        Arc::new(Counters::default()),
        |_| {},
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
