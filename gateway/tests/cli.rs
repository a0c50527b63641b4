#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `stratus` binary's configuration handling: file plus `STRATUS_*` overrides, validated at
//! start with an error naming the bad key; and `stratus token`.

use std::process::Command;
use stratus_gateway::auth::{Role, Verifier};
use stratus_gateway::config::AuthConfig;

fn stratus(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stratus"));
    c.args(args);
    // Start from a clean slate: no configuration leaking in from the environment.
    for (k, _) in std::env::vars() {
        if k.starts_with("STRATUS_") || k == "DATABASE_URL" {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_bad_key_stops_the_server_at_start_and_is_named() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "auth.hs256_secret"),
        (
            &[
                ("STRATUS_AUTH__HS256_SECRET", "0123456789abcdef"),
                ("STRATUS_SERVER__LISTEN", "nowhere"),
            ],
            "server.listen",
        ),
        (
            &[
                ("STRATUS_AUTH__HS256_SECRET", "0123456789abcdef"),
                ("STRATUS_DATABASE__URL", "mysql://db"),
            ],
            "database.url",
        ),
        (
            &[
                ("STRATUS_AUTH__HS256_SECRET", "0123456789abcdef"),
                ("STRATUS_ROUTING__BID_WINDOW_MS", "soon"),
            ],
            "bid_window_ms",
        ),
        (
            &[
                ("STRATUS_AUTH__HS256_SECRET", "0123456789abcdef"),
                ("STRATUS_GRAPH__MODE", "microsoft"),
            ],
            "graph.app_id",
        ),
    ];
    for (env, key) in cases {
        let out = stratus(&["serve"], env);
        assert!(!out.status.success(), "{env:?} started");
        // Environment keys are reported as spelled there (upper case).
        let err = stderr(&out).to_lowercase();
        assert!(err.contains(key), "{env:?}: expected `{key}` in {err}");
    }
}

#[test]
fn a_file_is_read_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stratus.toml");
    std::fs::write(
        &file,
        "[auth]\nhs256_secret = \"file-secret-0123456789\"\n[server]\nlisten = \"bad address\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    // The file's bad listen address is named…
    let out = stratus(&["--config", path, "serve"], &[]);
    assert!(stderr(&out).contains("server.listen"), "{}", stderr(&out));
    // …and an environment variable overrides it: the token command then runs on the file's secret.
    let out = stratus(
        &[
            "--config",
            path,
            "token",
            "--tenant",
            "t1",
            "--user",
            "u1",
            "--role",
            "Supervisor",
        ],
        &[("STRATUS_SERVER__LISTEN", "127.0.0.1:0")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let verifier = Verifier::new(AuthConfig {
        hs256_secret: "file-secret-0123456789".into(),
        ..AuthConfig::default()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let caller = rt.block_on(verifier.verify(&token)).unwrap();
    assert_eq!(caller.tid, "t1");
    assert_eq!(caller.oid, "u1");
    assert_eq!(caller.roles, vec![Role::Supervisor]);
}

#[test]
fn an_unknown_role_is_refused_by_the_token_command() {
    let out = stratus(
        &["token", "--tenant", "t", "--user", "u", "--role", "Emperor"],
        &[("STRATUS_AUTH__HS256_SECRET", "0123456789abcdef")],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Emperor"), "{}", stderr(&out));
}

#[test]
fn the_demo_routes_calls_and_stops_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = stratus(
        &[
            "demo",
            "--seconds",
            "9",
            "--port",
            "0",
            "--calls-per-sec",
            "3",
            "--database",
            db.to_str().unwrap(),
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    assert!(stdout.contains("/api/v1"), "{stdout}");
    // The summary lines show calls being rung or connected.
    let busy = stdout
        .lines()
        .filter(|l| l.starts_with("waiting"))
        .any(|l| {
            let n = |key: &str| -> u64 {
                l.split(key)
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            n("ringing") + n("connected") + n("handled") > 0
        });
    assert!(busy, "no call reached an agent: {stdout}");
}
