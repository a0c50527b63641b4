#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server's edge under attack, on real sockets against the real `stratus` binary (so its
//! memory can be read from /proc): slow headers, slow bodies, anonymous large bodies, connection
//! floods, idle keep-alive connections and hyper's own refusals. Every loop is bounded in count
//! and time, and every target is loopback.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use stratus_gateway::auth::{Role, mint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "adversarial-secret-0123456789";

/// A `stratus serve` child on loopback; killed when dropped.
struct Stratus {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Stratus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Stratus {
    /// Starts the server with `[server]` overrides (`KEY=value` pairs) and waits until ready.
    async fn start(server: &[(&str, &str)]) -> Stratus {
        let _ = rlimit::increase_nofile_limit(20_000);
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stratus"));
        cmd.arg("serve")
            .env("STRATUS_SERVER__LISTEN", &addr)
            .env(
                "STRATUS_DATABASE__URL",
                format!("sqlite://{}", dir.path().join("s.db").display()),
            )
            .env("STRATUS_AUTH__HS256_SECRET", SECRET)
            .env("STRATUS_AUTH__OPERATOR_TENANTS", "[\"system\"]")
            .env("STRATUS_GRAPH__MODE", "simulator")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in server {
            cmd.env(format!("STRATUS_SERVER__{}", k.to_ascii_uppercase()), v);
        }
        let s = Stratus {
            child: cmd.spawn().unwrap(),
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, _)) = s.request("GET /readyz HTTP/1.1\r\n\r\n").await {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("stratus did not become ready");
    }

    /// Resident memory of the server, KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.addr).await.unwrap()
    }

    /// One request on a fresh connection (`Host` and `Connection: close` added): status and body.
    async fn request(&self, head: &str) -> std::io::Result<(u16, String)> {
        let mut c = TcpStream::connect(&self.addr).await?;
        let (line, rest) = head.split_once("\r\n").unwrap();
        let req = format!("{line}\r\nhost: x\r\nconnection: close\r\n{rest}");
        c.write_all(req.as_bytes()).await?;
        read_response(&mut c, Duration::from_secs(10)).await
    }

    async fn metric(&self, name: &str) -> f64 {
        let (_, body) = self.request("GET /metrics HTTP/1.1\r\n\r\n").await.unwrap();
        body.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Warms the server up (allocator, lazy statics) and returns its memory then.
    async fn baseline(&self) -> u64 {
        for _ in 0..50 {
            self.request("GET /healthz HTTP/1.1\r\n\r\n").await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.rss_kib()
    }
}

/// Reads a whole response (until the server closes or `Content-Length` is met).
async fn read_response(c: &mut TcpStream, within: Duration) -> std::io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut chunk = [0u8; 8192];
        let n = match tokio::time::timeout_at(deadline, c.read(&mut chunk)).await {
            Ok(r) => r?,
            Err(_) => return Err(std::io::ErrorKind::TimedOut.into()),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(done) = complete(&buf) {
            buf.truncate(done);
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    Ok((status, body.unwrap_or_default()))
}

/// The length of a complete response in `buf`, when its `Content-Length` says so.
fn complete(buf: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(buf).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let len: usize = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })?;
    (body.len() >= len).then_some(head.len() + 4 + len)
}

/// Whether the server closed `c` within `within` (EOF or reset), reading and dropping anything
/// it answered first.
async fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, c.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Creates the tenant `admin_token` acts in.
async fn create_tenant(s: &Stratus) {
    let root = mint(
        SECRET,
        "system",
        "root",
        &[Role::SystemAdmin],
        Duration::from_secs(600),
    )
    .unwrap();
    let body = serde_json::json!({
        "id": TENANT, "name": "Attacked", "m365_tenant": "00000000-0000-0000-0000-00000000b001",
    })
    .to_string();
    let (status, answer) = s
        .request(&format!(
            "POST /api/v1/tenants HTTP/1.1\r\nauthorization: Bearer {root}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
        .unwrap();
    assert_eq!(status, 201, "{answer}");
}

const TENANT: &str = "00000000-0000-0000-0000-00000000a001";

fn admin_token() -> String {
    mint(
        SECRET,
        TENANT,
        "admin",
        &[Role::TenantAdmin],
        Duration::from_secs(600),
    )
    .unwrap()
}

fn json_error(body: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("not a JSON error body ({e}): {body:?}"));
    assert!(v["error"]["code"].is_string(), "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_clients_are_cut_off_and_the_memory_returns() {
    let s = Stratus::start(&[("header_read_timeout_secs", "2")]).await;
    let base = s.baseline().await;
    // 1,500 clients, each with 12 KiB of an unfinished header, then one byte every 500 ms.
    let mut conns = Vec::new();
    for _ in 0..1500 {
        let mut c = s.connect().await;
        let mut head = b"POST /api/v1/services HTTP/1.1\r\nhost: x\r\nx-pad: ".to_vec();
        head.extend(std::iter::repeat_n(b'a', 12 * 1024));
        c.write_all(&head).await.unwrap();
        conns.push(c);
    }
    let started = Instant::now();
    let mut peak = s.rss_kib();
    while started.elapsed() < Duration::from_millis(1500) {
        for c in &mut conns {
            let _ = c.write_all(b"a").await;
        }
        peak = peak.max(s.rss_kib());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut open = 0;
    for c in &mut conns {
        if !closed_within(c, Duration::from_secs(4)).await {
            open += 1;
        }
    }
    assert_eq!(open, 0, "connections still open past the header timeout");
    drop(conns);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = s.rss_kib();
    eprintln!("slow headers: baseline {base} KiB, peak {peak} KiB, after {after} KiB");
    assert!(
        peak < base + 150 * 1024,
        "1,500 slow clients took {peak} KiB (baseline {base})"
    );
    assert!(
        after < base + 16 * 1024,
        "memory did not return: {after} KiB after, {base} KiB before"
    );
    assert!(s.metric("stratus_http_connections_timed_out_total").await >= 1500.0);
    // Still serving.
    assert_eq!(
        s.request("GET /healthz HTTP/1.1\r\n\r\n").await.unwrap().0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_large_bodies_are_refused_before_they_are_read() {
    let s = Stratus::start(&[]).await;
    let base = s.baseline().await;
    // Larger than the limit: 413 at once, from Content-Length alone.
    // Within the limit but without a token: 401 before a byte of the body is read.
    // Graph's webhook likewise answers an anonymous sender 403 from its headers.
    for (path, length, status) in [
        ("/api/v1/services", 2_000_000, 413),
        ("/api/v1/services", 900_000, 401),
        ("/graph/calls", 900_000, 403),
    ] {
        let mut conns = Vec::new();
        for _ in 0..500 {
            let mut c = s.connect().await;
            let head = format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
            );
            c.write_all(head.as_bytes()).await.unwrap();
            c.write_all(&vec![b' '; 16 * 1024]).await.unwrap();
            conns.push(c);
        }
        for c in &mut conns {
            let (got, body) = read_response(c, Duration::from_secs(5)).await.unwrap();
            assert_eq!(got, status, "{body}");
            json_error(&body);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = s.rss_kib();
    eprintln!("anonymous bodies: baseline {base} KiB, after {after} KiB");
    assert!(
        after < base + 16 * 1024,
        "memory did not return: {after} KiB after, {base} KiB before"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_cut_off_with_408() {
    let s = Stratus::start(&[("body_timeout_secs", "1"), ("request_timeout_secs", "3")]).await;
    create_tenant(&s).await;
    let mut c = s.connect().await;
    let head = format!(
        "POST /api/v1/services HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"name\":",
        admin_token()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (status, body) = read_response(&mut c, Duration::from_secs(6)).await.unwrap();
    assert!(
        status == 408,
        "a body that stalls is answered 408, got {status} {body}"
    );
    json_error(&body);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_past_the_limit_is_shed_with_503_json() {
    let s = Stratus::start(&[
        ("max_connections", "100"),
        ("header_read_timeout_secs", "30"),
    ])
    .await;
    // 99 idle connections (the readiness check's connection has closed) hold the slots…
    let mut held = Vec::new();
    for _ in 0..100 {
        held.push(s.connect().await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // …so the next ones are answered 503 and closed.
    let mut shed = 0;
    for _ in 0..50 {
        let mut c = s.connect().await;
        let _ = c
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await;
        if let Ok((503, body)) = read_response(&mut c, Duration::from_secs(3)).await {
            json_error(&body);
            shed += 1;
        }
    }
    assert_eq!(shed, 50, "connections past the limit are shed");
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.request("GET /healthz HTTP/1.1\r\n\r\n").await.unwrap().0,
        200
    );
    assert!(s.metric("stratus_http_connections_shed_total").await >= 50.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let s = Stratus::start(&[("header_read_timeout_secs", "1")]).await;
    let mut c = s.connect().await;
    c.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let (status, _) = read_response(&mut c, Duration::from_secs(3)).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        closed_within(&mut c, Duration::from_secs(3)).await,
        "an idle kept-alive connection stays open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hypers_own_refusals_carry_the_json_error_body() {
    let s = Stratus::start(&[]).await;
    let huge = "a".repeat(40 * 1024);
    let (status, body) = s
        .request(&format!("GET /healthz HTTP/1.1\r\nx-huge: {huge}\r\n\r\n"))
        .await
        .unwrap();
    assert_eq!(status, 431, "{body}");
    json_error(&body);
    let mut c = s.connect().await;
    c.write_all(b"NOT HTTP AT ALL\x01\x02\r\n\r\n")
        .await
        .unwrap();
    let (status, body) = read_response(&mut c, Duration::from_secs(3)).await.unwrap();
    assert_eq!(status, 400, "{body}");
    json_error(&body);
}
