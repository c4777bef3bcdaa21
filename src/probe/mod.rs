//! The probe engine: sends a probe's requests to an address the target chose and
//! decides, with the format's convergence rule, whether its expectations hold.

pub mod client;
pub(crate) mod expect;
pub(crate) mod observe;
pub(crate) mod split;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use serde::Serialize;

use crate::scenario::{CONSECUTIVE_PASSES, Probe};
use client::{ClientError, PinnedClient, SendError};
use expect::Mismatch;
use observe::Observation;
use split::SplitVerdict;

/// How long to wait after a failed try before the next.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// Requests of a split sample in flight at once.
const SPLIT_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    pub passed: bool,
    pub attempts: u32,
    pub requests: u32,
    #[serde(rename = "elapsedSeconds", with = "crate::report::secs")]
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

impl ProbeResult {
    /// The result of one try of `requests` requests, before the split is judged.
    fn of_try(
        requests: u32,
        mismatches: Vec<Mismatch>,
        error: Option<String>,
        last: Option<Observation>,
    ) -> Self {
        ProbeResult {
            passed: mismatches.is_empty() && error.is_none(),
            attempts: 1,
            requests,
            elapsed: Duration::ZERO,
            mismatches,
            error,
            last,
            split: None,
        }
    }
}

fn failed_early(error: ClientError, start: Instant) -> ProbeResult {
    ProbeResult {
        passed: false,
        attempts: 0,
        requests: 0,
        elapsed: start.elapsed(),
        mismatches: vec![],
        error: Some(error.to_string()),
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
            ProbeResult::of_try(1, mismatches, None, Some(obs))
        }
        Err(e) => ProbeResult::of_try(1, vec![], Some(e.to_string()), None),
    }
}

/// Sends a split probe's whole sample and judges it: each answer against the
/// other expectations, the counts per backend against the weights.
async fn sample_split(
    client: &PinnedClient,
    probe: &Probe,
    weights: &BTreeMap<String, u32>,
) -> (u32, ProbeResult) {
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut first_bad: Option<ProbeResult> = None;
    let mut last = None;
    let mut sent = 0;
    for res in send_sample(client, probe).await {
        sent += 1;
        let (mismatches, error, obs) = match res {
            Ok(obs) => {
                *counts.entry(answered_by(&obs)).or_default() += 1;
                (
                    expect::check(&probe.expect, &obs, &probe.url),
                    None,
                    Some(obs),
                )
            }
            Err(e) => (vec![], Some(e.to_string()), None),
        };
        let bad = !mismatches.is_empty() || error.is_some();
        if bad && first_bad.is_none() {
            first_bad = Some(ProbeResult::of_try(sent, mismatches, error, obs.clone()));
        }
        if obs.is_some() {
            last = obs;
        }
    }
    let rule = split::Rule {
        weights,
        tolerance: probe.tolerance,
        auto: probe.auto.as_ref(),
    };
    let verdict = split::judge(rule, &counts);
    let mut result = first_bad.unwrap_or(ProbeResult::of_try(sent, vec![], None, last));
    result.passed = result.passed && verdict.passed;
    result.split = Some(verdict);
    (sent, result)
}

/// Sends `probe.samples` requests, [`SPLIT_CONCURRENCY`] at a time, and returns
/// what each got, in the order they completed.
async fn send_sample(client: &PinnedClient, probe: &Probe) -> Vec<Result<Observation, SendError>> {
    use tokio::task::JoinSet;
    let total = probe.samples;
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
            results.push(res.unwrap_or_else(|e| Err(SendError::Task(e))));
        }
    }
    results
}

/// Which backend an answer counts for: its echo Service, or its status when
/// no echo backend answered.
fn answered_by(obs: &Observation) -> String {
    match &obs.echo {
        Some(echo) => echo.service.clone(),
        None => format!("(status {} without echo JSON)", obs.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_try_passes_without_mismatch_or_error() {
        assert!(ProbeResult::of_try(3, vec![], None, None).passed);
        assert!(!ProbeResult::of_try(1, vec![], Some("refused".into()), None).passed);
        let m = Mismatch {
            field: "status".into(),
            expected: "200".into(),
            actual: "404".into(),
        };
        let r = ProbeResult::of_try(2, vec![m], None, None);
        assert!(!r.passed);
        assert_eq!((r.attempts, r.requests), (1, 2));
    }

    #[test]
    fn answers_count_for_their_echo_service_or_their_status() {
        let echo = r#"{"path":"/","host":"h","method":"GET","proto":"HTTP/1.1","headers":{},"namespace":"ns","service":"app-v2","pod":"p"}"#;
        assert_eq!(
            answered_by(&Observation::new(200, vec![], echo.into())),
            "app-v2"
        );
        assert_eq!(
            answered_by(&Observation::new(503, vec![], "no".into())),
            "(status 503 without echo JSON)"
        );
    }
}
