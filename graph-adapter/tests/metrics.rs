#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Graph requests are counted by operation and status, with their latency in seconds.

mod common;

use common::*;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use std::sync::{Arc, Mutex};
use stratus_graph::sim::Fault;
use stratus_routing::port::CallAction;

/// (metric name, labels, value) of every increment and histogram record.
type Log = Arc<Mutex<Vec<(String, Vec<(String, String)>, f64)>>>;

#[derive(Default, Clone)]
struct Rec(Log);

struct Handle(Key, Log);

impl Handle {
    fn push(&self, v: f64) {
        let labels = self
            .0
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        self.1
            .lock()
            .unwrap()
            .push((self.0.name().to_owned(), labels, v));
    }
}

impl CounterFn for Handle {
    fn increment(&self, v: u64) {
        self.push(v as f64);
    }
    fn absolute(&self, v: u64) {
        self.push(v as f64);
    }
}

impl HistogramFn for Handle {
    fn record(&self, v: f64) {
        self.push(v);
    }
}

impl Recorder for Rec {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle(key.clone(), self.0.clone())))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Handle(key.clone(), self.0.clone())))
    }
}

fn label<'a>(labels: &'a [(String, String)], k: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
}

#[test]
fn graph_requests_are_counted_by_operation_and_status_with_latency() {
    let rec = Rec::default();
    // One thread, so every task records into this test's recorder.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&rec, || {
        rt.block_on(async {
            let mut env = env(|_| {}).await;
            let (call, t) = env.answered_call(pstn()).await;
            env.sim.inject(Fault::ServerError {
                count: 1,
                status: 503,
            });
            env.run(&call, t, CallAction::KeepAlive).await.unwrap();
        })
    });
    let log = rec.0.lock().unwrap().clone();
    let statuses = |op: &str| -> Vec<String> {
        log.iter()
            .filter(|(n, l, _)| {
                n == "stratus_graph_requests_total" && label(l, "operation") == Some(op)
            })
            .map(|(_, l, v)| {
                assert_eq!(*v, 1.0);
                label(l, "status").unwrap().to_owned()
            })
            .collect()
    };
    assert_eq!(statuses("answer"), vec!["202"]);
    assert_eq!(statuses("keepAlive"), vec!["503", "200"]);
    let latencies: Vec<f64> = log
        .iter()
        .filter(|(n, l, _)| {
            n == "stratus_graph_request_duration_seconds"
                && label(l, "operation") == Some("keepAlive")
        })
        .map(|(_, _, v)| *v)
        .collect();
    assert_eq!(latencies.len(), 2);
    // Seconds, not milliseconds: a loopback request takes well under one.
    assert!(
        latencies.iter().all(|s| *s > 0.0 && *s < 1.0),
        "{latencies:?}"
    );
}
