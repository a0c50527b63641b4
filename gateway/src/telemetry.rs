//! Structured logs: `RUST_LOG` filters, `STRATUS_LOG_FORMAT=json` switches to JSON lines.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber; `default_filter` applies when `RUST_LOG` is unset.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("STRATUS_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The filter for `serve`: routing at info, chatty dependencies at warn.
pub const SERVE_FILTER: &str = "info,sqlx=warn,hyper=warn";
/// The filter for `demo`: its summary line is the output; only problems are logged.
pub const DEMO_FILTER: &str = "warn";
