//! Command-line interface: clap definitions (no I/O here) and one module per subcommand.
//!
//! Only commands that exist are listed; each lands with the issue that builds it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod copy;
pub mod explain;
pub mod serve;

/// Move data and prove permissions between AWS accounts.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy objects between S3 locations (or a local folder and S3), each side with its own identity.
    #[command(after_help = copy::EXAMPLE)]
    Copy(copy::CopyArgs),
    /// Copy what is missing or changed (and with --delete remove what the source lacks).
    #[command(after_help = copy::EXAMPLE)]
    Sync(copy::SyncArgs),
    /// Decide whether a request is allowed, as AWS would, and show which statements decided it.
    Explain(explain::ExplainArgs),
    /// Run the multi-account AWS emulator (S3, STS, IAM) on a local port.
    Serve(serve::ServeArgs),
}

/// Runs the parsed command line. Exit codes: 0 success (or allowed), 1 denied or partial
/// failure, 2 usage or configuration errors.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Copy(args) => copy::run(&args),
        Command::Sync(args) => copy::run_sync(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Serve(args) => serve::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ferry: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
