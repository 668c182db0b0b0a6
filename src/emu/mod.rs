//! The multi-account AWS emulator: S3, STS and the IAM calls ferry needs, with AWS's
//! authorization on every request.
//!
//! - [`Emulator`] holds the state ([`state::State`]) and the options; build one from a
//!   [`world::World`] and [`Options`].
//! - [`server`] serves it over HTTP (in-process on an ephemeral port for tests, or
//!   `ferry serve`); [`gateway`] routes each request by its SigV4 credential scope: `s3` to the
//!   `s3s` service in [`s3`], `sts` and `iam` to the query-protocol handlers.
//! - Every decision goes through [`crate::policy::authorize`]; this module adds what AWS adds
//!   around it (request context keys, S3's three contexts, ACLs, Object Ownership).

pub mod acl;
pub mod gateway;
pub mod iam;
pub mod ids;
pub mod query;
pub mod s3;
pub mod server;
pub mod sigv4;
pub mod state;
pub mod sts;
pub mod world;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use crate::policy::{self, Context, Decision, Named, Policy, PolicySet, Request, Value};
use state::{Caller, KeyError, State};
pub use world::{World, WorldError};

/// Fault injection for the copy engine's tests: rates are probabilities per request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// 503 `SlowDown`.
    pub slow_down: f64,
    /// 500 `InternalError`.
    pub internal_error: f64,
    /// The connection is closed without a response.
    pub drop_connection: f64,
    /// 400 `ExpiredToken` for requests signed with temporary credentials (as if the session
    /// had just expired), so clients' refresh-and-retry paths can be tested on demand.
    pub expired_token: f64,
    /// Added to every request.
    pub latency: Duration,
}

impl Faults {
    pub fn any(&self) -> bool {
        self.slow_down > 0.0
            || self.expired_token > 0.0
            || self.internal_error > 0.0
            || self.drop_connection > 0.0
            || !self.latency.is_zero()
    }

    /// Parses `slowdown=0.05,internal=0.01,drop=0.01,expired=0.02,latency=5ms`.
    pub fn parse(s: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not NAME=VALUE"))?;
            let rate = || -> Result<f64, String> {
                let r: f64 = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
                if (0.0..=1.0).contains(&r) {
                    Ok(r)
                } else {
                    Err(format!("rate `{v}` is not between 0 and 1"))
                }
            };
            match k {
                "slowdown" => f.slow_down = rate()?,
                "internal" => f.internal_error = rate()?,
                "drop" => f.drop_connection = rate()?,
                "expired" => f.expired_token = rate()?,
                "latency" => {
                    let ms = v
                        .strip_suffix("ms")
                        .ok_or_else(|| format!("latency `{v}` must end in ms"))?;
                    f.latency = Duration::from_millis(
                        ms.parse().map_err(|_| format!("`{v}` is not a duration"))?,
                    );
                }
                _ => {
                    return Err(format!(
                    "unknown fault `{k}` (expected slowdown, internal, drop, expired or latency)"
                ))
                }
            }
        }
        Ok(f)
    }
}

/// How the emulator behaves.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// New buckets default to ObjectWriter without Block Public Access (accounts created before
    /// April 2023), instead of BucketOwnerEnforced with Block Public Access on.
    pub legacy_defaults: bool,
    /// Caps every STS session's lifetime (to test clients' credential refresh).
    pub session_lifetime: Option<Duration>,
    /// Log each authorization decision with the statements that decided it.
    pub explain: bool,
    pub faults: Faults,
    /// Smallest multipart part but the last (AWS: 5 MiB); tests lower it to stay fast.
    pub min_part_size: Option<u64>,
    /// Largest PutObject body, UploadPart body and CopyObject source (AWS: 5 GiB); tests lower
    /// it to check the refusals without moving gigabytes.
    pub max_single_size: Option<u64>,
    /// Keep the last 256 authorization decisions with their
    /// explanations, for `ferry check` failure messages ([`Emulator::decisions_since`]).
    pub record_decisions: bool,
}

/// The emulator: state plus options.
#[derive(Debug)]
pub struct Emulator {
    state: RwLock<State>,
    pub options: Options,
    callers: Mutex<CallerCache>,
    decisions: Mutex<DecisionLog>,
}

/// One recorded authorization decision (with [`Options::record_decisions`]).
#[derive(Clone, Debug)]
pub struct DecisionRecord {
    /// Increases by one per decision, from 1.
    pub seq: u64,
    /// The caller's ARN (empty for anonymous callers).
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub allowed: bool,
    /// Which policy and statement allowed or denied, or that nothing allowed.
    pub explanation: String,
}

/// The most recent decisions, bounded.
#[derive(Debug, Default)]
struct DecisionLog {
    last_seq: u64,
    recent: std::collections::VecDeque<DecisionRecord>,
}

impl DecisionLog {
    const CAPACITY: usize = 256;
}

/// Callers resolved from access keys, valid for one [`State::iam_generation`].
#[derive(Debug, Default)]
struct CallerCache {
    generation: u64,
    by_key: HashMap<String, Arc<Caller>>,
}

impl CallerCache {
    /// Bounds the cache (many short sessions would otherwise pile up between IAM changes).
    const MAX: usize = 4096;
}

/// The outcome of an authorization check, owned (no borrows into the policies).
#[derive(Clone, Debug)]
pub struct Verdict {
    pub decision: Decision,
    pub cross_account: bool,
    /// AWS's message tail (`because no identity-based policy allows the s3:GetObject action`).
    pub because: String,
    /// Which statements decided (for logs and `ferry check` failure messages). Written for
    /// denials, and for allows only when [`Options::explain`] is on (nothing else reads it).
    pub explanation: String,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// Facts about the HTTP request that become global condition keys.
#[derive(Clone, Copy, Debug)]
pub struct RequestMeta {
    pub source_ip: Option<IpAddr>,
    pub secure_transport: bool,
}

impl Emulator {
    /// Builds an emulator from a world.
    pub fn new(world: &World, options: Options) -> Result<Emulator, WorldError> {
        let legacy = options.legacy_defaults || world.legacy_defaults();
        let state = world.build(legacy)?;
        Ok(Emulator {
            state: RwLock::new(state),
            options: Options {
                legacy_defaults: legacy,
                ..options
            },
            callers: Mutex::new(CallerCache::default()),
            decisions: Mutex::new(DecisionLog::default()),
        })
    }

    /// [`State::caller`], cached per access key: the cache is dropped whenever accounts, IAM
    /// entities, policies or keys change ([`State::iam_generation`]); a session's expiry is
    /// checked on every use. `st` is the state as read under this emulator's lock.
    pub fn caller(
        &self,
        st: &State,
        access_key: &str,
        now: SystemTime,
    ) -> Result<Arc<Caller>, KeyError> {
        let generation = st.iam_generation();
        let lock = || self.callers.lock().unwrap_or_else(|p| p.into_inner());
        {
            let cache = lock();
            if cache.generation == generation {
                if let Some(c) = cache.by_key.get(access_key) {
                    if c.expires.is_some_and(|e| e <= now) {
                        return Err(KeyError::Expired);
                    }
                    return Ok(c.clone());
                }
            }
        }
        let caller = Arc::new(st.caller(access_key, now)?);
        let mut cache = lock();
        if cache.generation != generation || cache.by_key.len() >= CallerCache::MAX {
            cache.by_key.clear();
            cache.generation = generation;
        }
        cache.by_key.insert(access_key.to_owned(), caller.clone());
        Ok(caller)
    }

    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// The global condition keys of a request: the principal's, plus time, transport and source IP.
    pub fn context(&self, caller: &Caller, meta: &RequestMeta) -> Context {
        let mut ctx = caller.principal_context().clone();
        let now: chrono::DateTime<chrono::Utc> = self.now().into();
        ctx.set("aws:CurrentTime", Value::Date(now.timestamp()));
        ctx.set("aws:EpochTime", Value::Num(now.timestamp() as f64));
        ctx.set("aws:SecureTransport", meta.secure_transport);
        if let Some(ip) = meta.source_ip {
            ctx.set("aws:SourceIp", Value::Ip(ip));
        }
        if caller.token.is_some() {
            ctx.set("aws:MultiFactorAuthPresent", false);
        }
        ctx
    }

    /// Runs [`policy::authorize`] for a caller against an optional resource policy, and logs
    /// the decision when `--explain` is on.
    #[allow(clippy::too_many_arguments)]
    pub fn authorize(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        resource_account: Option<crate::types::AccountId>,
        ctx: &Context,
        resource_policy: Option<(&str, &Policy)>,
        resource_must_allow: bool,
    ) -> Verdict {
        let identity: Vec<Named<'_>> = caller
            .identity
            .iter()
            .map(|(n, p)| Named::new(n, p))
            .collect();
        let session: Option<Vec<Named<'_>>> = caller
            .session
            .as_ref()
            .map(|s| s.iter().map(|(n, p)| Named::new(n, p)).collect());
        let set = PolicySet {
            identity: &identity,
            session: session.as_deref(),
            boundary: caller.boundary.as_ref().map(|(n, p)| Named::new(n, p)),
            resource: resource_policy.map(|(n, p)| Named::new(n, p)),
            resource_must_allow,
        };
        let req = Request {
            principal: &caller.principal,
            action,
            resource,
            resource_account,
            context: ctx,
        };
        let resp = policy::authorize(&req, &set);
        let detail = self.options.explain
            || self.options.record_decisions
            || resp.decision != Decision::Allow;
        let verdict = Verdict {
            decision: resp.decision,
            cross_account: resp.cross_account,
            because: resp.because(action),
            explanation: if detail {
                resp.explain()
            } else {
                String::new()
            },
        };
        if self.options.explain {
            tracing::info!(
                target: "ferry::explain",
                principal = %caller.principal.arn,
                action,
                resource,
                decision = ?verdict.decision,
                "{}",
                verdict.explanation
            );
        }
        self.record(caller, action, resource, &verdict);
        verdict
    }

    /// Records a decision when [`Options::record_decisions`] is on (a no-op otherwise). S3's
    /// ACL and Object Ownership step records its own outcome after the policy decisions.
    pub fn record(&self, caller: &Caller, action: &str, resource: &str, verdict: &Verdict) {
        if !self.options.record_decisions {
            return;
        }
        let mut log = self.decisions.lock().unwrap_or_else(|p| p.into_inner());
        log.last_seq += 1;
        let seq = log.last_seq;
        if log.recent.len() >= DecisionLog::CAPACITY {
            log.recent.pop_front();
        }
        log.recent.push_back(DecisionRecord {
            seq,
            principal: caller.principal.arn.clone(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            allowed: verdict.allowed(),
            explanation: verdict.explanation.clone(),
        });
    }

    /// The sequence number of the last recorded decision (0 before the first).
    pub fn last_decision(&self) -> u64 {
        self.decisions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_seq
    }

    /// The recorded decisions after `seq` that are still kept, oldest first.
    pub fn decisions_since(&self, seq: u64) -> Vec<DecisionRecord> {
        let log = self.decisions.lock().unwrap_or_else(|p| p.into_inner());
        log.recent.iter().filter(|d| d.seq > seq).cloned().collect()
    }
}

/// AWS's same-account denial message.
pub fn denial_message(caller: &Caller, action: &str, resource: &str, verdict: &Verdict) -> String {
    let who = if caller.principal.arn.is_empty() {
        "anonymous"
    } else {
        caller.principal.arn.as_str()
    };
    if verdict.because.is_empty() {
        format!("User: {who} is not authorized to perform: {action} on resource: \"{resource}\"")
    } else {
        format!(
            "User: {who} is not authorized to perform: {action} on resource: \"{resource}\" {}",
            verdict.because
        )
    }
}
