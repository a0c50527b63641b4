//! The `stratus` binary: `stratus serve`, `stratus demo`, `stratus token`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use stratus_gateway::auth::{Role, mint};
use stratus_gateway::config::Config;
use stratus_gateway::telemetry;

/// jemalloc, with its background thread purging freed pages after a second
/// (`.cargo/config.toml`): glibc's malloc keeps what thousands of short-lived connections (an
/// attack, a reconnect storm) once held.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "stratus",
    version,
    about = "Real-time call and task distribution for Microsoft Teams contact centres"
)]
struct Cli {
    /// Configuration file (TOML). `STRATUS_*` environment variables override it.
    #[arg(long, short, global = true, env = "STRATUS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Run a self-contained demo: SQLite, a seeded tenant and the built-in Graph simulator.
    Demo {
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        seconds: Option<u64>,
        /// New calls per second placed by the simulated callers (0–1000).
        #[arg(long, default_value_t = 0.7, value_parser = calls_per_sec)]
        calls_per_sec: f64,
        /// Port to listen on.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// SQLite file of the demo (created if missing).
        #[arg(long, default_value = "stratus-demo.db")]
        database: String,
    },
    /// Print the OpenAPI 3.1 document of `/api/v1`.
    Openapi,
    /// Write the Power Automate custom connector (`apiDefinition.swagger.json`,
    /// `apiProperties.json`) generated from the OpenAPI document into a directory.
    Connector {
        #[arg(long, default_value = "docs/connector")]
        out: PathBuf,
    },
    /// Mint a development token (HS256 with `auth.hs256_secret`).
    Token {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
        /// SystemAdmin, PartnerAdmin, TenantAdmin, ServiceOwner, Supervisor or Agent; repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Lifetime in hours (1–720).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=720))]
        hours: u64,
    },
}

fn calls_per_sec(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1000.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0–1000"))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = match cli.command {
        Command::Demo { .. } => telemetry::DEMO_FILTER,
        _ => telemetry::SERVE_FILTER,
    };
    telemetry::init(filter);
    match cli.command {
        Command::Serve => {
            let config = Config::load(cli.config.as_deref())?;
            stratus_gateway::serve::run(config).await
        }
        Command::Demo {
            seconds,
            calls_per_sec,
            port,
            database,
        } => {
            let options = stratus_gateway::demo::DemoOptions {
                duration: seconds.map(Duration::from_secs),
                calls_per_sec,
                port,
                database,
            };
            stratus_gateway::demo::run(options).await
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&stratus_gateway::api::openapi())?
            );
            Ok(())
        }
        Command::Connector { out } => {
            for (name, text) in stratus_gateway::api::connector::files()? {
                let path = out.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Token {
            tenant,
            user,
            roles,
            hours,
        } => {
            let config = Config::load(cli.config.as_deref())?;
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).with_context(|| format!("unknown role {r:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let token = mint(
                &config.auth.hs256_secret,
                &tenant,
                &user,
                &roles,
                Duration::from_secs(hours * 3600),
            )?;
            println!("{token}");
            Ok(())
        }
    }
}
