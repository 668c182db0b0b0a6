//! `ferry check [PATHS]`: run Gherkin permission scenarios against the emulator (default) or
//! real accounts (`--target aws --accounts accounts.toml`). Exit 0 when every scenario
//! passed, 1 when any failed (or a step is unknown), 2 for errors before running.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::{Args, ValueEnum};

use crate::harness::{self, CheckOptions, Target};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// A fresh in-process emulator per scenario (accounts A, B, C).
    Emulator,
    /// Accounts named in --accounts (profiles or roles), or any endpoint speaking AWS's APIs.
    Aws,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ferry check                                  # features/ against the emulator\n  ferry check --target aws --accounts accounts.toml features/seed002.feature\n  ferry check --target aws --accounts accounts.toml --no-provision   # @verify only\n  ferry check --list-steps"
)]
pub struct CheckArgs {
    /// Feature files or directories (default: features/).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = TargetKind::Emulator)]
    pub target: TargetKind,
    /// accounts.toml: alias -> profile or role ARN (see features/README.md). Needed with --target aws.
    #[arg(long, value_name = "FILE")]
    pub accounts: Option<PathBuf>,
    /// Overrides every account's endpoint (an emulator, an S3-compatible store).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Run only scenarios tagged @verify, which check existing infrastructure and create nothing.
    #[arg(long)]
    pub no_provision: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Cucumber JSON report.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Only scenarios whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub name: Option<String>,
    /// Scenarios run at once (default: 16 on the emulator, 4 on AWS).
    #[arg(long, short = 'j')]
    pub concurrency: Option<usize>,
    /// Seconds an action waits after IAM or bucket policy changes, for AWS's eventual
    /// consistency (default: 10 on AWS, 0 with an endpoint override).
    #[arg(long, value_name = "SECONDS")]
    pub iam_settle: Option<u64>,
    /// List the step vocabulary and exit.
    #[arg(long)]
    pub list_steps: bool,
}

pub fn run(args: &CheckArgs) -> Result<ExitCode> {
    if args.list_steps {
        print!("{}", harness::list_steps());
        return Ok(ExitCode::SUCCESS);
    }
    let target = match (args.target, &args.accounts) {
        (TargetKind::Emulator, None) => {
            if args.endpoint.is_some() {
                bail!("--endpoint needs --target aws (the emulator target starts its own)");
            }
            Target::Emulator
        }
        (TargetKind::Emulator, Some(_)) => {
            bail!("--accounts needs --target aws")
        }
        (TargetKind::Aws, None) => bail!("--target aws needs --accounts FILE"),
        (TargetKind::Aws, Some(file)) => Target::Aws {
            accounts: file.clone(),
            endpoint: args.endpoint.clone(),
        },
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("features")]
    } else {
        args.paths.clone()
    };
    let concurrency = args.concurrency.unwrap_or(match target {
        Target::Emulator => 16,
        Target::Aws { .. } => 4,
    });
    let opts = CheckOptions {
        paths,
        target,
        no_provision: args.no_provision,
        junit: args.junit.clone(),
        json: args.json.clone(),
        name_filter: args.name.clone(),
        concurrency,
        quiet: false,
        iam_settle: args.iam_settle.map(std::time::Duration::from_secs),
    };
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let summary = rt.block_on(harness::run(opts))?;
    if summary.interrupted {
        return Ok(ExitCode::from(130));
    }
    if summary.scenarios == 0 && summary.parsing_errors == 0 {
        eprintln!(
            "ferry: no scenario ran (check the paths, --name and --no-provision's @verify tag)"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
