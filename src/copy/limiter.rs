//! The adaptive in-flight limit: objects in flight start at `-j`, halve when S3 answers
//! `503 SlowDown` and grow back by one for every window of successes (AIMD, as TCP does).
//!
//! A burst of SlowDowns from requests that were already in flight when the first one arrived
//! halves the limit once, not once per request: a decrease is taken at most once per
//! `cooldown`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    /// Successes since the last change of `limit`.
    successes: usize,
    last_decrease: Option<Instant>,
    decreases: u64,
}

/// Shared by every worker of one job (and by the SDK interceptor that sees SlowDowns).
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    cooldown: Duration,
    state: Mutex<State>,
    freed: Notify,
}

/// A slot in flight; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        {
            let mut st = self.limiter.lock();
            st.in_flight = st.in_flight.saturating_sub(1);
        }
        self.limiter.freed.notify_waiters();
    }
}

impl Limiter {
    pub fn new(max: usize) -> Limiter {
        Limiter::with_cooldown(max, Duration::from_millis(500))
    }

    pub fn with_cooldown(max: usize, cooldown: Duration) -> Limiter {
        let max = max.max(1);
        Limiter {
            max,
            cooldown,
            state: Mutex::new(State {
                limit: max,
                in_flight: 0,
                successes: 0,
                last_decrease: None,
                decreases: 0,
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a slot under the current limit.
    pub async fn acquire_owned(self: Arc<Self>) -> Permit {
        loop {
            let notified = self.freed.notified();
            tokio::pin!(notified);
            // Register before checking, so a slot freed in between is not missed.
            notified.as_mut().enable();
            {
                let mut st = self.lock();
                if st.in_flight < st.limit {
                    st.in_flight += 1;
                    drop(st);
                    return Permit {
                        limiter: self.clone(),
                    };
                }
            }
            notified.await;
        }
    }

    /// S3 asked to slow down: halve the limit (at most once per cooldown).
    pub fn slow_down(&self) {
        let mut st = self.lock();
        let now = Instant::now();
        if st
            .last_decrease
            .is_some_and(|t| now.duration_since(t) < self.cooldown)
        {
            return;
        }
        st.limit = (st.limit / 2).max(1);
        st.successes = 0;
        st.last_decrease = Some(now);
        st.decreases += 1;
    }

    /// A request succeeded: after `limit` successes the limit grows by one, up to the maximum.
    pub fn success(&self) {
        let grew = {
            let mut st = self.lock();
            if st.limit >= self.max {
                return;
            }
            st.successes += 1;
            if st.successes >= st.limit {
                st.successes = 0;
                st.limit += 1;
                true
            } else {
                false
            }
        };
        if grew {
            self.freed.notify_waiters();
        }
    }

    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// How many times the limit was halved.
    pub fn decreases(&self) -> u64 {
        self.lock().decreases
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn halves_once_per_cooldown_and_grows_back_additively() {
        let l = Limiter::with_cooldown(64, Duration::from_secs(3600));
        l.slow_down();
        l.slow_down(); // same burst: ignored
        assert_eq!(l.limit(), 32);
        assert_eq!(l.decreases(), 1);
        for _ in 0..32 {
            l.success();
        }
        assert_eq!(l.limit(), 33);
        for _ in 0..33 {
            l.success();
        }
        assert_eq!(l.limit(), 34);
    }

    #[test]
    fn never_below_one_nor_above_the_maximum() {
        let l = Limiter::with_cooldown(4, Duration::ZERO);
        for _ in 0..10 {
            l.slow_down();
        }
        assert_eq!(l.limit(), 1);
        for _ in 0..100 {
            l.success();
        }
        assert_eq!(l.limit(), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_flight_never_exceeds_the_limit() {
        let l = Arc::new(Limiter::with_cooldown(8, Duration::ZERO));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        l.slow_down(); // 4
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (l, now, peak) = (l.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    let _p = l.clone().acquire_owned().await;
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 4, "{peak:?}");
        assert_eq!(now.load(Ordering::SeqCst), 0);
    }
}
