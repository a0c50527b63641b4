//! Instruction-count versions of the routing benches: the same decisions as `routing.rs`, each
//! run once inside a function that `scripts/instructions.sh` isolates with valgrind's callgrind
//! (`--toggle-collect`), so the figure does not move with the machine's neighbours.
//!
//! Run: `scripts/instructions.sh` (builds this bench, runs each case under callgrind and prints
//! the instructions executed). Without valgrind, `cargo bench --bench routing_instructions`
//! just runs every case once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;

use std::hint::black_box;
use stratus_routing::queue::{QueueEffect, ServiceQueue};
use stratus_routing::user::{UserEffect, UserMachine};

#[inline(never)]
fn measured_decision(q: &mut ServiceQueue) -> Vec<QueueEffect> {
    fixtures::decide(q)
}

#[inline(never)]
fn measured_pull(user: &mut UserMachine, queues: &mut [ServiceQueue]) -> Vec<UserEffect> {
    fixtures::pull(user, queues)
}

fn run(case: &str) {
    match case {
        "decision_10k_users_3_level_policy" => {
            let mut q = fixtures::spread_queue();
            let out = black_box(measured_decision(&mut q));
            assert!(out.iter().any(|e| matches!(e, QueueEffect::Reserve { .. })));
        }
        "decision_10k_users_3_level_policy_adversarial" => {
            let mut q = fixtures::adversarial_queue();
            let out = black_box(measured_decision(&mut q));
            assert!(out.iter().any(|e| matches!(e, QueueEffect::Reserve { .. })));
        }
        "agent_pull_20_services" => {
            let (mut user, mut queues) = fixtures::pull_setup();
            let out = black_box(measured_pull(&mut user, &mut queues));
            assert!(out.iter().any(|e| matches!(e, UserEffect::Granted { .. })));
        }
        other => panic!("unknown case {other}"),
    }
}

const CASES: [&str; 3] = [
    "decision_10k_users_3_level_policy",
    "decision_10k_users_3_level_policy_adversarial",
    "agent_pull_20_services",
];

fn main() {
    // `cargo bench` passes `--bench`; a plain argument names one case.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if named.is_empty() {
        for case in CASES {
            run(case);
        }
        println!(
            "ran {} cases once; count instructions with scripts/instructions.sh",
            CASES.len()
        );
    }
    for case in &named {
        run(case);
    }
}
