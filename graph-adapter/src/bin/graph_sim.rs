//! `graph-sim`: Microsoft Graph and the Teams phones on one port, for demos and load tests.
//!
//! ```text
//! graph-sim --webhook http://127.0.0.1:8080/graph/calls --bot-app-id <app id> \
//!     --agent-base 00000000-0000-0000-0000-00d310000000 --agents 50 \
//!     --app-instance <resource account id> --calls 200 --rate 5
//! ```
//! Point Stratus at the printed Graph base, authority and OpenID configuration URLs.

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::net::SocketAddr;
use std::time::Duration;
use stratus_graph::sim::{BehaviourMix, CallPlan, Fault, SimConfig, SimHandle, Simulator};
use stratus_routing::ids::{Guid, M365TenantId, UserId};

#[derive(Parser, Debug)]
#[command(
    name = "graph-sim",
    version,
    about = "Simulated Microsoft Graph and Teams phones"
)]
struct Args {
    /// Address to serve Graph, the token endpoint, the OpenID configuration and the JWKS on.
    #[arg(long, env = "GRAPH_SIM_LISTEN", default_value = "127.0.0.1:9080")]
    listen: SocketAddr,
    /// The bot's calling webhook: incoming calls are delivered there.
    #[arg(long, env = "GRAPH_SIM_WEBHOOK")]
    webhook: String,
    /// The bot's app id (audience of the signed callback tokens).
    #[arg(long, env = "GRAPH_SIM_BOT_APP_ID")]
    bot_app_id: String,
    /// Seed of every id and random draw.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Microsoft 365 tenant id of the calls.
    #[arg(long)]
    tenant: Option<String>,
    /// `iss` of the callback tokens.
    #[arg(long, default_value = "https://graph.microsoft.com")]
    issuer: String,

    /// Agents are users `agent-base + 1 ..= agent-base + agents` (GUIDs as 128-bit numbers).
    #[arg(long, default_value = "00000000-0000-0000-0000-000000000000")]
    agent_base: String,
    #[arg(long, default_value_t = 0)]
    agents: u32,
    /// Agents answer after a delay drawn from this range, milliseconds (`MIN-MAX`).
    #[arg(long, default_value = "1000-4000")]
    answer_after_ms: String,
    /// Agents hang up after a talk time drawn from this range, milliseconds (`0`: never).
    #[arg(long, default_value = "20000-90000")]
    talk_ms: String,
    #[arg(long, default_value_t = 0)]
    decline_pct: u8,
    #[arg(long, default_value_t = 0)]
    ignore_pct: u8,
    #[arg(long, default_value_t = 0)]
    busy_pct: u8,
    #[arg(long, default_value_t = 0)]
    unreachable_pct: u8,
    /// An unanswered invitation fails with 408 after this many seconds.
    #[arg(long, default_value_t = 60)]
    ring_timeout_s: u64,
    /// Keep agents' presence as set, instead of Busy / InACall while on a call.
    #[arg(long)]
    static_presence: bool,
    /// Every this many milliseconds one agent off a call steps Away or back (0: never).
    #[arg(long, default_value_t = 0)]
    presence_churn_ms: u64,

    /// Resource accounts (application instance ids) the callers dial, in turn.
    #[arg(long = "app-instance")]
    app_instances: Vec<String>,
    /// Calls to place (0: none; the simulator still serves Graph).
    #[arg(long, default_value_t = 0)]
    calls: u32,
    /// New calls per second.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// Callers hang up when no agent joined within a patience drawn from this range, seconds
    /// (`0`: they wait until served).
    #[arg(long, default_value = "30-90")]
    patience_s: String,
    /// Exit once every call has ended instead of serving on.
    #[arg(long)]
    exit_when_done: bool,

    /// Every this many seconds, inject the faults below (0: never).
    #[arg(long, default_value_t = 0)]
    fault_every_s: u64,
    /// Requests answered 429 per fault round.
    #[arg(long, default_value_t = 0)]
    fault_429: u32,
    /// `Retry-After` of those 429s, seconds (fractions allowed).
    #[arg(long, default_value_t = 1.0)]
    retry_after_s: f64,
    /// Requests answered 503 per fault round.
    #[arg(long, default_value_t = 0)]
    fault_5xx: u32,
    /// Responses delayed per fault round, and by how much (milliseconds).
    #[arg(long, default_value_t = 0)]
    fault_slow: u32,
    #[arg(long, default_value_t = 3000)]
    slow_ms: u64,
    /// Keep every request and callback in memory (off by default: long runs would grow).
    #[arg(long)]
    keep_records: bool,
    /// Callbacks dropped per fault round.
    #[arg(long, default_value_t = 0)]
    fault_lose: u32,
}

/// `A-B` or a single `A`, in `unit`s; `0` is `None`.
fn range(s: &str, unit: Duration) -> Result<Option<(Duration, Duration)>> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u32 = a.trim().parse().with_context(|| format!("range {s:?}"))?;
    let b: u32 = b.trim().parse().with_context(|| format!("range {s:?}"))?;
    if b < a {
        bail!("range {s:?}: the end is below the start");
    }
    Ok((b > 0).then(|| (unit * a, unit * b)))
}

fn guid(s: &str) -> Result<Guid> {
    s.parse::<Guid>()
        .map_err(|e| anyhow::anyhow!("{s:?} is not a GUID: {e:?}"))
}

fn config(a: &Args) -> Result<(SimConfig, BehaviourMix)> {
    let mut cfg = SimConfig::new(a.webhook.clone(), a.bot_app_id.clone());
    cfg.bind = a.listen;
    cfg.seed = a.seed;
    cfg.issuer = a.issuer.clone();
    cfg.ring_timeout = Duration::from_secs(a.ring_timeout_s);
    cfg.presence_follows_calls = !a.static_presence;
    cfg.keep_records = a.keep_records;
    cfg.presence_churn =
        (a.presence_churn_ms > 0).then(|| Duration::from_millis(a.presence_churn_ms));
    if let Some(t) = &a.tenant {
        cfg.default_tenant = M365TenantId(guid(t)?);
    }
    let ms = Duration::from_millis(1);
    let mix = BehaviourMix {
        answer_after: range(&a.answer_after_ms, ms)?.unwrap_or_default(),
        talk: range(&a.talk_ms, ms)?,
        decline_pct: a.decline_pct,
        ignore_pct: a.ignore_pct,
        busy_pct: a.busy_pct,
        unreachable_pct: a.unreachable_pct,
    };
    let shares = [a.decline_pct, a.ignore_pct, a.busy_pct, a.unreachable_pct];
    if shares.iter().map(|p| u32::from(*p)).sum::<u32>() > 100 {
        bail!("the behaviour shares add up to more than 100 %");
    }
    Ok((cfg, mix))
}

fn print_stats(sim: &SimHandle) {
    let s = sim.stats();
    println!(
        "placed {} refused {} answered {} agents joined {} abandoned {} ended {} live {} presence changes {} graph requests {} callbacks {}",
        s.calls_placed,
        s.calls_refused,
        s.calls_answered,
        s.agents_joined,
        s.callers_abandoned,
        s.calls_ended,
        s.calls_live,
        s.presence_changes,
        s.graph_requests,
        s.callbacks_sent,
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let (cfg, mix) = config(&args)?;
    let base = guid(&args.agent_base)?;
    let sim = Simulator::start(cfg)
        .await
        .context("starting the simulator")?;
    println!("graph base url:   {}", sim.graph_base_url());
    println!("authority url:    {}", sim.authority_url());
    println!("openid config:    {}", sim.openid_config_url());
    println!("calling webhook:  {}", args.webhook);

    let users: Vec<UserId> = (1..=u128::from(args.agents))
        .map(|n| UserId(Guid(base.0.wrapping_add(n))))
        .collect();
    let agents = sim.agents_from_mix(&users, &mix);
    sim.add_agents(&agents).await;
    if let (Some(first), Some(last)) = (users.first(), users.last()) {
        println!("agents:           {} ({first} .. {last})", users.len());
    }

    if args.fault_every_s > 0 {
        let s = sim.clone();
        let a = (
            args.fault_429,
            args.retry_after_s,
            args.fault_5xx,
            args.fault_slow,
            args.slow_ms,
            args.fault_lose,
        );
        let every = Duration::from_secs(args.fault_every_s);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let (n429, ra, n5xx, nslow, slow_ms, nlose) = a;
                if n429 > 0 {
                    s.inject(Fault::Throttle {
                        count: n429,
                        retry_after_s: ra,
                    });
                }
                if n5xx > 0 {
                    s.inject(Fault::ServerError {
                        count: n5xx,
                        status: 503,
                    });
                }
                if nslow > 0 {
                    s.inject(Fault::Slow {
                        count: nslow,
                        delay: Duration::from_millis(slow_ms),
                    });
                }
                if nlose > 0 {
                    s.inject(Fault::LoseCallbacks { count: nlose });
                }
            }
        });
    }

    let placing = if args.calls > 0 {
        if args.app_instances.is_empty() {
            bail!("--calls needs at least one --app-instance");
        }
        let mut plan = CallPlan::new(args.calls, args.rate, args.app_instances[0].clone());
        plan.app_instances = args.app_instances.clone();
        plan.patience = range(&args.patience_s, Duration::from_secs(1))?;
        let s = sim.clone();
        Some(tokio::spawn(async move { s.place_calls(plan).await }))
    } else {
        None
    };

    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    let mut placing = placing;
    loop {
        let placed = async {
            match placing.as_mut() {
                Some(h) => h.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => print_stats(&sim),
            r = placed => {
                placing = None;
                let failed = r.map_or(0, |v| v.iter().filter(|x| x.is_err()).count());
                println!("all {} calls placed ({failed} not taken by the webhook)", args.calls);
            }
        }
        if args.exit_when_done && placing.is_none() && sim.stats().calls_live == 0 {
            break;
        }
    }
    print_stats(&sim);
    sim.shutdown();
    Ok(())
}
