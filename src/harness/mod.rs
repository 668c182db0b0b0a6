//! `ferry check`: the Gherkin scenarios in `features/` (the seed walkthroughs' permission
//! cases, Object Ownership, cross-account copies) run with the `cucumber` crate against an
//! in-process emulator or real AWS accounts, through the real aws-sdk clients.
//!
//! - [`world`]: the cucumber World of one scenario: its accounts, named principals, the
//!   resources it created (by logical name, with the scenario's `${run}` suffix), the outcome
//!   of its last action; placeholders.
//! - [`accounts`]: targets: the emulator's default accounts, or `accounts.toml` (alias →
//!   profile or role ARN) for real accounts.
//! - [`cleanup`]: what each scenario created, deleted after it (also on failure or Ctrl-C).
//! - [`steps`]: the step vocabulary, one module per domain (accounts, iam, sts, s3, copy,
//!   outcomes), registered as anchored regular expressions.
//!
//! This module owns no AWS logic: it wires the runner (fresh World per scenario,
//! `fail_on_skipped`, hooks, writers) and returns a [`Summary`].

pub mod accounts;
pub mod cleanup;
pub mod steps;
pub mod world;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cucumber::writer::{self, Stats as _};
use cucumber::{event, WriterExt as _};
use futures::FutureExt as _;

pub use accounts::{AccountsFile, Target};
pub use world::FerryWorld;

/// Why a run could not start (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("feature path `{0}` does not exist")]
    MissingPath(String),
    #[error("cannot write `{path}`: {source}")]
    Output {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Accounts(String),
}

/// What to run and where.
#[derive(Debug)]
pub struct CheckOptions {
    /// Feature files or directories.
    pub paths: Vec<PathBuf>,
    pub target: Target,
    /// Only scenarios tagged `@verify`; steps that create resources fail.
    pub no_provision: bool,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    /// Only scenarios whose name contains this text.
    pub name_filter: Option<String>,
    /// Scenarios in flight at once.
    pub concurrency: usize,
    /// Console output (off for `tests/features.rs` when quiet).
    pub quiet: bool,
    /// Wait after IAM changes before the next action (default: 10 s on real AWS, none with an
    /// endpoint override or on the emulator).
    pub iam_settle: Option<std::time::Duration>,
}

/// The result of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub scenarios: usize,
    pub failed_scenarios: usize,
    pub failed_steps: usize,
    pub skipped_steps: usize,
    pub parsing_errors: usize,
    pub hook_errors: usize,
    /// Stopped by Ctrl-C (what had been created was removed).
    pub interrupted: bool,
}

impl Summary {
    pub fn passed(&self) -> bool {
        !self.interrupted
            && self.failed_scenarios == 0
            && self.failed_steps == 0
            && self.skipped_steps == 0
            && self.parsing_errors == 0
            && self.hook_errors == 0
    }
}

/// Shared by every scenario of a run.
#[derive(Debug)]
pub struct Env {
    pub target: accounts::Resolved,
    pub no_provision: bool,
    /// How long an action waits after IAM or bucket policy changes (IAM is eventually
    /// consistent on AWS; zero on the emulator).
    pub iam_settle: std::time::Duration,
    pub cleanup: cleanup::Registry,
    next_scenario: AtomicU64,
}

fn output(path: &Option<PathBuf>) -> Result<Box<dyn Write>, HarnessError> {
    match path {
        None => Ok(Box::new(std::io::sink())),
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|source| HarnessError::Output {
                path: p.display().to_string(),
                source,
            })?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
    }
}

/// Runs the features. Errors are problems found before running (bad paths or accounts);
/// failed scenarios are in the [`Summary`].
pub async fn run(opts: CheckOptions) -> Result<Summary, HarnessError> {
    for p in &opts.paths {
        if !p.exists() {
            return Err(HarnessError::MissingPath(p.display().to_string()));
        }
    }
    let target = accounts::resolve(&opts.target)
        .await
        .map_err(HarnessError::Accounts)?;
    let iam_settle = opts.iam_settle.unwrap_or(match &opts.target {
        Target::Aws { endpoint: None, .. } if !target.has_endpoint_override() => {
            std::time::Duration::from_secs(10)
        }
        _ => std::time::Duration::ZERO,
    });
    let env = Arc::new(Env {
        target,
        no_provision: opts.no_provision,
        iam_settle,
        cleanup: cleanup::Registry::default(),
        next_scenario: AtomicU64::new(1),
    });
    let junit = output(&opts.junit)?;
    let json = output(&opts.json)?;
    let console: Box<dyn Write> = if opts.quiet {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stdout())
    };
    let failed = Arc::new(Mutex::new(0usize));
    let scenarios = Arc::new(Mutex::new(0usize));

    let writer = writer::Basic::raw(console, writer::Coloring::Auto, 0)
        .summarized()
        .tee::<FerryWorld, _>(writer::JUnit::for_tee(junit, 0))
        .tee::<FerryWorld, _>(writer::Json::for_tee(json))
        .normalized::<FerryWorld>();
    let mut cucumber = cucumber::Cucumber::<FerryWorld, _, _, _, _>::custom(
        Paths,
        cucumber::runner::Basic::default(),
        writer,
    )
    .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
    .max_concurrent_scenarios(opts.concurrency.max(1))
    .fail_on_skipped();
    for def in steps::all() {
        let Ok(re) = regex::Regex::new(def.pattern) else {
            continue; // every pattern is compiled by a unit test
        };
        cucumber = match def.kind {
            steps::Kind::Given => cucumber.given(re, def.run),
            // Actions double as setup: `Given "bob" assumes role ...` must succeed.
            steps::Kind::When => cucumber.when(re.clone(), def.run).given(re, def.run),
            steps::Kind::Then => cucumber.then(re, def.run),
        };
    }
    let before_env = env.clone();
    let (after_failed, after_scenarios) = (failed.clone(), scenarios.clone());
    let cucumber = cucumber
        .before(move |feature, _rule, scenario, world| {
            let env = before_env.clone();
            async move {
                let id = env.next_scenario.fetch_add(1, Ordering::Relaxed);
                world.start(env, id, feature, scenario).await;
            }
            .boxed_local()
        })
        .after(move |_feature, _rule, _scenario, finished, world| {
            let failed = after_failed.clone();
            let scenarios = after_scenarios.clone();
            async move {
                *scenarios.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                if !matches!(finished, event::ScenarioFinished::StepPassed) {
                    *failed.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                }
                // Without a World (its before hook failed) nothing was created; anything
                // registered is removed at the end of the run anyway.
                if let Some(world) = world {
                    world.finish().await;
                }
            }
            .boxed_local()
        });

    let paths = opts.paths.clone();
    let no_provision = opts.no_provision;
    let name_filter = opts.name_filter.clone();
    let is_aws = env.target.is_aws();
    let filter = move |feature: &cucumber::gherkin::Feature,
                       rule: Option<&cucumber::gherkin::Rule>,
                       scenario: &cucumber::gherkin::Scenario| {
        let tags = || {
            feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| &r.tags))
                .chain(&scenario.tags)
        };
        if no_provision && !tags().any(|t| t == "verify") {
            return false;
        }
        // Scenarios that only make sense on the emulator (root credentials of an account).
        if is_aws && tags().any(|t| t == "emulator-only") {
            return false;
        }
        name_filter
            .as_deref()
            .is_none_or(|n| scenario.name.contains(n))
    };

    let mut summary = Summary::default();
    let run_all = cucumber.filter_run(paths, filter);
    tokio::select! {
        w = run_all => {
            summary.failed_steps = w.failed_steps();
            summary.skipped_steps = w.skipped_steps();
            summary.parsing_errors = w.parsing_errors();
            summary.hook_errors = w.hook_errors();
        }
        _ = tokio::signal::ctrl_c() => {
            summary.interrupted = true;
            eprintln!("ferry: interrupted: removing what the scenarios created");
        }
    }
    // Whatever is still registered (interrupted scenarios, lost Worlds) is removed now.
    env.cleanup.clean_all(&env.target).await;
    summary.failed_scenarios = *failed.lock().unwrap_or_else(|p| p.into_inner());
    summary.scenarios = *scenarios.lock().unwrap_or_else(|p| p.into_inner());
    Ok(summary)
}

/// Cucumber's file parser over several paths (files or directories), in the order given.
#[derive(Clone, Copy, Debug)]
struct Paths;

impl cucumber::Parser<Vec<PathBuf>> for Paths {
    type Cli = cucumber::parser::basic::Cli;
    type Output = futures::stream::Iter<
        std::vec::IntoIter<Result<cucumber::gherkin::Feature, cucumber::parser::Error>>,
    >;

    fn parse(self, input: Vec<PathBuf>, cli: Self::Cli) -> Self::Output {
        let mut all = Vec::new();
        for p in input {
            let one = cucumber::Parser::parse(cucumber::parser::Basic::new(), p, cli.clone());
            // The basic parser reads files synchronously; its stream is ready at once.
            all.extend(futures::executor::block_on(futures::StreamExt::collect::<
                Vec<_>,
            >(one)));
        }
        futures::stream::iter(all)
    }
}

/// The step vocabulary as `KIND PATTERN  - what it does` lines (`ferry check --list-steps`).
pub fn list_steps() -> String {
    let mut out = String::new();
    out.push_str(
        "Steps (`When` actions may also be written as `Given`: then they must succeed).\n\n",
    );
    for def in steps::all() {
        out.push_str(&format!(
            "{:<5} {}\n      {}\n",
            def.kind.keyword(),
            def.pattern,
            def.doc
        ));
    }
    out
}

/// The directory holding `scenarios/` for `@world:NAME` tags: the nearest ancestor of the
/// feature file that has one.
pub fn scenarios_dir(feature: Option<&Path>) -> Option<PathBuf> {
    let start = feature?.parent()?;
    start
        .ancestors()
        .map(|d| d.join("scenarios"))
        .find(|d| d.is_dir())
}
