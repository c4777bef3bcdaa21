//! The probe engine: sends a probe's requests to an address the target chose and
//! decides, with the format's convergence rule, whether its expectations hold.

pub mod client;
pub mod expect;
pub mod observe;
pub mod split;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use serde::Serialize;

use crate::scenario::{CONSECUTIVE_PASSES, Probe};
use client::PinnedClient;
use expect::Mismatch;
use observe::Observation;
use split::SplitVerdict;

/// How long to wait after a failed try before the next.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// Requests of a split sample in flight at once.
const SPLIT_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub passed: bool,
    pub attempts: u32,
    pub requests: u32,
    pub elapsed: Duration,
    /// What went wrong on the last try (empty when passed).
    pub mismatches: Vec<Mismatch>,
    /// A transport error on the last try, if it was one.
    pub error: Option<String>,
    pub last: Option<Observation>,
    pub split: Option<SplitVerdict>,
}

/// How hard to try: until `timeout`, or only once when the target is settled
/// (its routing is final as soon as objects are applied, so retrying cannot help).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub timeout: Duration,
    pub retry: bool,
}

pub async fn run(
    probe: &Probe,
    addr: SocketAddr,
    anchor: Option<CertificateDer<'static>>,
    policy: Policy,
) -> ProbeResult {
    let start = Instant::now();
    let verify = probe.request.tls.is_some_and(|t| t.verify);
    let client = match PinnedClient::new(&probe.request.url, &probe.url, addr, verify, anchor) {
        Ok(c) => c,
        Err(e) => return failed_early(e, start),
    };
    let needed = if probe.expect.split.is_some() {
        1
    } else {
        CONSECUTIVE_PASSES.max(probe.samples)
    };
    let mut consecutive = 0;
    let mut attempts = 0;
    let mut requests = 0;
    loop {
        attempts += 1;
        let outcome = if let Some(weights) = &probe.expect.split {
            let (n, r) = sample_split(&client, probe, weights).await;
            requests += n;
            r
        } else {
            requests += 1;
            one(&client, probe).await
        };
        let passed = outcome.mismatches.is_empty()
            && outcome.error.is_none()
            && outcome.split.as_ref().is_none_or(|s| s.passed);
        if passed {
            consecutive += 1;
            if consecutive >= needed {
                return ProbeResult {
                    passed: true,
                    attempts,
                    requests,
                    elapsed: start.elapsed(),
                    mismatches: vec![],
                    error: None,
                    last: outcome.last,
                    split: outcome.split,
                };
            }
            continue;
        }
        consecutive = 0;
        let out_of_time = start.elapsed() + RETRY_PAUSE >= policy.timeout;
        if !policy.retry || out_of_time {
            return ProbeResult {
                passed: false,
                attempts,
                requests,
                elapsed: start.elapsed(),
                ..outcome
            };
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

fn failed_early(error: String, start: Instant) -> ProbeResult {
    ProbeResult {
        passed: false,
        attempts: 0,
        requests: 0,
        elapsed: start.elapsed(),
        mismatches: vec![],
        error: Some(error),
        last: None,
        split: None,
    }
}

async fn one(client: &PinnedClient, probe: &Probe) -> ProbeResult {
    let r = &probe.request;
    match client
        .send(&probe.method, &r.headers, r.body.as_deref())
        .await
    {
        Ok(obs) => {
            let mismatches = expect::check(&probe.expect, &obs, &probe.url);
            ProbeResult {
                passed: mismatches.is_empty(),
                attempts: 1,
                requests: 1,
                elapsed: Duration::ZERO,
                mismatches,
                error: None,
                last: Some(obs),
                split: None,
            }
        }
        Err(e) => ProbeResult {
            passed: false,
            attempts: 1,
            requests: 1,
            elapsed: Duration::ZERO,
            mismatches: vec![],
            error: Some(e),
            last: None,
            split: None,
        },
    }
}

/// Sends a split probe's whole sample and judges it: each answer against the
/// other expectations, the counts per backend against the weights.
async fn sample_split(
    client: &PinnedClient,
    probe: &Probe,
    weights: &BTreeMap<String, u32>,
) -> (u32, ProbeResult) {
    use tokio::task::JoinSet;
    let total = probe.samples;
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut first_bad: Option<ProbeResult> = None;
    let mut last = None;
    let mut sent = 0;
    let mut set = JoinSet::new();
    let mut launched = 0;
    let mut results = Vec::with_capacity(total as usize);
    while launched < total || !set.is_empty() {
        while launched < total && set.len() < SPLIT_CONCURRENCY {
            let c = client.clone();
            let r = probe.request.clone();
            let m = probe.method.clone();
            set.spawn(async move { c.send(&m, &r.headers, r.body.as_deref()).await });
            launched += 1;
        }
        if let Some(res) = set.join_next().await {
            results.push(res.unwrap_or_else(|e| Err(format!("request task failed: {e}"))));
        }
    }
    for res in results {
        sent += 1;
        match res {
            Ok(obs) => {
                let mismatches = expect::check(&probe.expect, &obs, &probe.url);
                if let Some(echo) = &obs.echo {
                    *counts.entry(echo.service.clone()).or_default() += 1;
                } else {
                    *counts
                        .entry(format!("(status {} without echo JSON)", obs.status))
                        .or_default() += 1;
                }
                if !mismatches.is_empty() && first_bad.is_none() {
                    first_bad = Some(ProbeResult {
                        passed: false,
                        attempts: 1,
                        requests: sent,
                        elapsed: Duration::ZERO,
                        mismatches,
                        error: None,
                        last: Some(obs.clone()),
                        split: None,
                    });
                }
                last = Some(obs);
            }
            Err(e) => {
                if first_bad.is_none() {
                    first_bad = Some(ProbeResult {
                        passed: false,
                        attempts: 1,
                        requests: sent,
                        elapsed: Duration::ZERO,
                        mismatches: vec![],
                        error: Some(e),
                        last: None,
                        split: None,
                    });
                }
            }
        }
    }
    let verdict = split::judge(weights, &counts);
    let mut result = first_bad.unwrap_or(ProbeResult {
        passed: true,
        attempts: 1,
        requests: sent,
        elapsed: Duration::ZERO,
        mismatches: vec![],
        error: None,
        last,
        split: None,
    });
    result.passed = result.passed && verdict.passed;
    result.split = Some(verdict);
    (sent, result)
}
