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

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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

/// What a split probe's answers came to so far.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<String, u32>,
    first_bad: Option<ProbeResult>,
    last: Option<Observation>,
    /// Requests that got an answer or, after their retries, an error.
    sent: u32,
    /// Requests sent again because the first got no answer.
    retried: u32,
}

impl Tally {
    fn add(&mut self, sent: Sent, probe: &Probe) {
        self.sent += 1;
        self.retried += sent.retries;
        let (mismatches, error, obs) = match sent.result {
            Ok(obs) => {
                *self.counts.entry(answered_by(&obs)).or_default() += 1;
                (
                    expect::check(&probe.expect, &obs, &probe.url),
                    None,
                    Some(obs),
                )
            }
            Err(e) => (vec![], Some(e.to_string()), None),
        };
        let bad = !mismatches.is_empty() || error.is_some();
        if bad && self.first_bad.is_none() {
            self.first_bad = Some(ProbeResult::of_try(
                self.sent,
                mismatches,
                error,
                obs.clone(),
            ));
        }
        if obs.is_some() {
            self.last = obs;
        }
    }
}

/// Sends a split probe's sample and judges it: each answer against the
/// other expectations, the counts per backend against the weights. A fixed
/// sample is sent whole; `samples: auto` with a tolerance is sent look by
/// look of its sequential plan, stopping at the first look that decides (or
/// at an answer that already fails the probe).
async fn sample_split(
    client: &PinnedClient,
    probe: &Probe,
    weights: &BTreeMap<String, u32>,
) -> (u32, ProbeResult) {
    let rule = split::Rule {
        weights,
        tolerance: probe.tolerance,
        auto: probe.auto.as_ref(),
    };
    let sizes = match rule.plan() {
        Some(plan) => plan.sizes(),
        None => vec![u64::from(probe.samples)],
    };
    let mut tally = Tally::default();
    for size in sizes {
        let more = size.saturating_sub(u64::from(tally.sent)) as u32;
        for sent in send_sample(client, probe, more).await {
            tally.add(sent, probe);
        }
        if tally.first_bad.is_some() || split::decided(rule, &tally.counts) {
            break;
        }
    }
    let mut verdict = split::judge(rule, &tally.counts);
    verdict.retried = tally.retried;
    let sent = tally.sent;
    let mut result = tally
        .first_bad
        .unwrap_or(ProbeResult::of_try(sent, vec![], None, tally.last));
    result.passed = result.passed && verdict.passed;
    result.split = Some(verdict);
    (sent, result)
}

/// How often a request of a split sample that got no answer (refused,
/// reset, timed out) is sent again before its error counts: a sample never
/// silently shrinks to the requests that happened to get through.
const SAMPLE_RETRIES: u32 = 2;

/// One request of a sample: its answer or last error, and how many times it
/// was sent again.
struct Sent {
    result: Result<Observation, SendError>,
    retries: u32,
}

/// Sends `total` requests, [`SPLIT_CONCURRENCY`] at a time, each sent again
/// up to [`SAMPLE_RETRIES`] times while it gets no answer, and returns what
/// each got, in the order they completed.
async fn send_sample(client: &PinnedClient, probe: &Probe, total: u32) -> Vec<Sent> {
    use tokio::task::JoinSet;
    let mut set = JoinSet::new();
    let mut launched = 0;
    let mut results = Vec::with_capacity(total as usize);
    while launched < total || !set.is_empty() {
        while launched < total && set.len() < SPLIT_CONCURRENCY {
            let c = client.clone();
            let r = probe.request.clone();
            let m = probe.method.clone();
            set.spawn(async move {
                let mut retries = 0;
                loop {
                    let result = c.send(&m, &r.headers, r.body.as_deref()).await;
                    if result.is_ok() || retries == SAMPLE_RETRIES {
                        return Sent { result, retries };
                    }
                    retries += 1;
                }
            });
            launched += 1;
        }
        if let Some(res) = set.join_next().await {
            results.push(res.unwrap_or_else(|e| Sent {
                result: Err(SendError::Task(e)),
                retries: 0,
            }));
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

    /// A loopback server whose first `garbled` connections answer something
    /// that is not HTTP, and every later one an echo answer from `a`.
    async fn flaky_server(garbled: u32) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for seen in 1.. {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let answer = if seen <= garbled {
                        "not http at all\r\n\r\n".to_string()
                    } else {
                        let body = r#"{"path":"/","host":"h","method":"GET","proto":"HTTP/1.1","headers":{},"namespace":"ns","service":"a","pod":"p"}"#;
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    let _ = s.write_all(answer.as_bytes()).await;
                });
            }
        });
        addr
    }

    fn split_probe(samples: u32) -> Probe {
        Probe {
            name: "split".into(),
            line: 1,
            gateway: None,
            request: crate::scenario::RequestSpec {
                url: "http://h.example/".into(),
                method: None,
                headers: BTreeMap::new(),
                body: None,
                tls: None,
            },
            url: url::Url::parse("http://h.example/").unwrap(),
            method: "GET".into(),
            samples,
            tolerance: None,
            auto: None,
            expect: crate::scenario::ExpectSpec {
                split: Some([("a".to_string(), 1)].into()),
                ..Default::default()
            },
        }
    }

    /// A request of a sample that gets no answer is sent again and counted,
    /// never dropped from the sample; one that never gets an answer is an
    /// error of the probe.
    #[tokio::test]
    async fn a_request_without_an_answer_is_sent_again_not_dropped() {
        let probe = split_probe(10);
        let weights = probe.expect.split.clone().unwrap();
        let addr = flaky_server(2).await;
        let client = PinnedClient::new(&probe.request.url, &probe.url, addr, false, None).unwrap();
        let (sent, r) = sample_split(&client, &probe, &weights).await;
        let split = r.split.clone().unwrap();
        assert_eq!(sent, 10);
        assert_eq!(
            split.counts["a"], 10,
            "every request is in the sample: {split:?}"
        );
        assert_eq!(split.retried, 2, "{split:?}");
        assert!(r.passed, "{r:?}");

        let addr = flaky_server(u32::MAX).await;
        let client = PinnedClient::new(&probe.request.url, &probe.url, addr, false, None).unwrap();
        let (_, r) = sample_split(&client, &probe, &weights).await;
        assert!(!r.passed);
        assert!(r.error.is_some(), "{r:?}");
        assert_eq!(r.split.unwrap().retried, 10 * SAMPLE_RETRIES);
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
