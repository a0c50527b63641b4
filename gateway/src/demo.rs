//! `stratus demo`: the real server on SQLite with a seeded tenant (3 services, 20 agents with
//! skills) and the built-in Graph simulator playing callers and the agents' Teams phones.

use crate::auth::{Role, mint};
use crate::config::{Config, GraphMode};
use crate::seed;
use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use stratus_graph::sim::{AgentBehaviour, CallerSpec, SimHandle};
use stratus_routing::model::{Activity, Availability};
use tokio::time::{Instant, MissedTickBehavior};

pub struct DemoOptions {
    /// Stop after this long (default: until Ctrl-C).
    pub duration: Option<Duration>,
    pub calls_per_sec: f64,
    pub port: u16,
    /// SQLite file of the demo.
    pub database: String,
}

/// How the simulated agents behave: most answer within seconds and talk a while; some let it
/// ring (RONA), one declines now and then.
fn behaviour(n: u128, rng: &mut StdRng) -> AgentBehaviour {
    match n % 10 {
        4 => AgentBehaviour::Ignore,
        7 => AgentBehaviour::Decline {
            after: Duration::from_secs(2),
        },
        _ => AgentBehaviour::Answer {
            after: Duration::from_millis(rng.random_range(1_000..4_000)),
            talk: Some(Duration::from_secs(rng.random_range(5..15))),
        },
    }
}

pub async fn run(opts: DemoOptions) -> anyhow::Result<()> {
    let secret = format!("demo-{:032x}", rand::random::<u128>());
    let mut config = Config::default();
    config.server.listen = format!("127.0.0.1:{}", opts.port);
    config.database.url = format!("sqlite://{}", opts.database);
    config.auth.hs256_secret = secret.clone();
    config.graph.mode = GraphMode::Simulator;
    config.validate()?;

    let server = crate::serve::start(config).await?;
    let state = server.state.clone();
    let sim = server
        .simulator
        .clone()
        .context("the demo needs the built-in Graph simulator")?;
    seed::seed(state.store.as_ref())
        .await
        .context("seeding the demo tenant")?;
    state.tenant_changed(seed::DEMO_TENANT).await;

    let mut rng = StdRng::seed_from_u64(7);
    for n in 1..=seed::AGENTS {
        sim.set_agent_behaviour(seed::agent(n), behaviour(n, &mut rng));
        sim.set_presence(seed::agent(n), Availability::Available, Activity::Available)
            .await;
    }

    let base = server.base_url();
    let token = mint(
        &secret,
        &seed::DEMO_TENANT.to_string(),
        "demo-admin",
        &[Role::TenantAdmin],
        Duration::from_secs(12 * 3600),
    )?;
    println!(
        "Stratus demo is running: tenant \"Contoso Demo\", 3 services, {} agents.",
        seed::AGENTS
    );
    println!("  API       {base}/api/v1   (OpenAPI: {base}/api/v1/openapi.json)");
    println!("  metrics   {base}/metrics");
    println!("  Graph     simulated at {}", sim.base_url());
    println!("  token     export TOKEN={token}");
    println!(
        "  try       curl -H \"Authorization: Bearer $TOKEN\" {base}/api/v1/services/{}/live",
        seed::SUPPORT
    );
    println!("Placing {:.1} calls/s. Ctrl-C stops.", opts.calls_per_sec);

    let until = opts.duration.map(|d| Instant::now() + d);
    let caller = tokio::spawn(place_calls(sim.clone(), opts.calls_per_sec, until));
    let mut summary = tokio::time::interval(Duration::from_secs(3));
    summary.set_missed_tick_behavior(MissedTickBehavior::Delay);
    summary.tick().await;
    loop {
        let stop = async {
            match until {
                Some(u) => tokio::time::sleep_until(u).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = stop => break,
            _ = summary.tick() => {
                let s = state.node.stats();
                println!(
                    "waiting {:>3}  ringing {:>3}  connected {:>3}  wrap-up {:>3}  handled {:>5}  RONA {:>4}  abandoned {:>4}",
                    s.waiting, s.ringing, s.connected, s.wrap_up, s.handled, s.rona, s.abandoned
                );
            }
        }
    }
    caller.abort();
    println!("stopping…");
    server.shutdown().await;
    Ok(())
}

/// Simulated callers dial the three services at `rate` calls/s, each with a patience of 30–90 s.
async fn place_calls(sim: SimHandle, rate: f64, until: Option<Instant>) {
    if rate <= 0.0 {
        return;
    }
    let mut rng = StdRng::seed_from_u64(42);
    let services = [seed::SUPPORT, seed::SALES, seed::HOTLINE];
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut n = 0u64;
    loop {
        tick.tick().await;
        if until.is_some_and(|u| Instant::now() >= u) {
            return;
        }
        n += 1;
        let service = services[rng.random_range(0..services.len())];
        let mut spec = CallerSpec::phone(
            &format!("+4144{:07}", n % 10_000_000),
            &seed::app_instance(service),
        )
        .with_patience(Duration::from_secs(rng.random_range(30..90)));
        spec.tenant = Some(seed::DEMO_M365_TENANT);
        if let Err(e) = sim.place_call(spec).await {
            tracing::warn!(error = %e, "the simulated caller could not dial");
        }
    }
}
