//! The HTTP listener: hyper with every limit a public edge needs, since `axum::serve` sets no
//! timer (so hyper's header-read timeout never fires) and takes any number of connections.
//!
//! - a connection limit: past it a connection is answered `503` (JSON) and closed, and counted;
//! - a header-read timeout, which hyper also starts as soon as a kept-alive connection is idle,
//!   so it bounds both slow headers and idle keep-alive connections;
//! - a bounded read buffer (the largest request head);
//! - hyper's own refusals (`400`, `414`, `431`, sent before any route runs) carry the JSON
//!   error body like every other refusal;
//! - graceful shutdown: open connections finish their request, then close.
//!
//! Request and body timeouts and body limits are tower layers on the router (`serve::router`).

use crate::config::ServerConfig;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The connection limits of one listener, from `[server]`.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
}

impl Limits {
    pub fn from_config(c: &ServerConfig) -> Self {
        Limits {
            max_connections: c.max_connections,
            header_read_timeout: Duration::from_secs(c.header_read_timeout_secs),
            max_header_bytes: c.max_header_bytes,
        }
    }
}

/// Connections refused at the limit are answered by a few tasks at most; past that they are
/// simply closed (a flood must not turn into a flood of answering tasks).
const MAX_SHEDDING: usize = 64;
/// How long a refused connection gets to take its `503`.
const SHED_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `stop` is cancelled, then lets open connections finish
/// their current request. Returns once every connection has closed.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let shedding = Arc::new(AtomicUsize::new(0));
    let tracker = TaskTracker::new();
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, _peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            shed(stream, &shedding, &tracker);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let limits = limits.clone();
        let stop = stop.clone();
        let open = Arc::clone(&open);
        tracker.spawn(async move {
            let n = open.fetch_add(1, Ordering::Relaxed) + 1;
            metrics::gauge!("stratus_http_connections").set(n as f64);
            connection(stream, app, &limits, stop).await;
            let n = open.fetch_sub(1, Ordering::Relaxed) - 1;
            metrics::gauge!("stratus_http_connections").set(n as f64);
            drop(slot);
        });
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// One connection, HTTP/1.1 (Graph, browsers and agents' WebSockets all speak it).
async fn connection(stream: TcpStream, app: Router, limits: &Limits, stop: CancellationToken) {
    let io = TokioIo::new(JsonRefusals::new(stream));
    let service = TowerToHyperService::new(app);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => log_end(r),
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            log_end(conn.await);
        }
    }
}

fn log_end(r: Result<(), hyper::Error>) {
    if let Err(e) = r {
        if e.is_timeout() {
            metrics::counter!("stratus_http_connections_timed_out_total").increment(1);
        }
        tracing::debug!(error = %e, "connection ended");
    }
}

/// Past the connection limit: a `503` with the JSON error body, then the connection closes.
fn shed(mut stream: TcpStream, shedding: &Arc<AtomicUsize>, tracker: &TaskTracker) {
    metrics::counter!("stratus_http_connections_shed_total").increment(1);
    if shedding.fetch_add(1, Ordering::Relaxed) >= MAX_SHEDDING {
        shedding.fetch_sub(1, Ordering::Relaxed);
        return; // dropped: closed at once
    }
    let shedding = Arc::clone(shedding);
    tracker.spawn(async move {
        let answer = canned(
            503,
            "unavailable",
            "the server is at its connection limit; retry",
        );
        let _ = tokio::time::timeout(SHED_WRITE_TIMEOUT, stream.write_all(&answer)).await;
        let _ = tokio::time::timeout(SHED_WRITE_TIMEOUT, stream.shutdown()).await;
        shedding.fetch_sub(1, Ordering::Relaxed);
    });
}

/// A whole HTTP/1.1 response with the JSON error body, closing the connection.
fn canned(status: u16, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let retry = if status == 503 {
        "retry-after: 1\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{retry}connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// hyper answers an unreadable request head itself (`400`, `414`, `431` with an empty body,
/// then closes the connection): this swaps that answer for the same status with the JSON error
/// body. Every response the router makes has a body, so an empty-bodied 4xx head is hyper's.
struct JsonRefusals<IO> {
    io: IO,
    /// A replacement being written: its bytes, how many are out, and the length hyper wrote.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<IO> JsonRefusals<IO> {
    fn new(io: IO) -> Self {
        JsonRefusals { io, pending: None }
    }
}

/// The JSON answer for one of hyper's own empty-bodied refusals, if `head` is one.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head.get(..head.len().min(512))?).ok()?;
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    let lower = text.to_ascii_lowercase();
    if !lower.contains("\r\ncontent-length: 0\r\n") || lower.contains("\r\ncontent-type:") {
        return None;
    }
    let (code, message) = match status {
        "400" => ("bad_request", "the request could not be read as HTTP/1.1"),
        "414" => ("uri_too_long", "the request URI is too long"),
        "431" => (
            "headers_too_large",
            "the request headers are larger than the server accepts",
        ),
        _ => return None,
    };
    metrics::counter!("stratus_http_unreadable_requests_total", "status" => status.to_string())
        .increment(1);
    tracing::info!(status, "unreadable request refused");
    Some(canned(status.parse().ok()?, code, message))
}

impl<IO: AsyncRead + Unpin> AsyncRead for JsonRefusals<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let me = &mut *self;
        if me.pending.is_none()
            && let Some(answer) = replacement(buf)
        {
            me.pending = Some((answer, 0, buf.len()));
        }
        let Some((answer, sent, claimed)) = me.pending.as_mut() else {
            return Pin::new(&mut me.io).poll_write(cx, buf);
        };
        while *sent < answer.len() {
            let n = ready!(Pin::new(&mut me.io).poll_write(cx, &answer[*sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            *sent += n;
        }
        let claimed = *claimed;
        me.pending = None;
        Poll::Ready(Ok(claimed))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn only_hypers_empty_refusals_are_replaced() {
        let hyper =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let r = String::from_utf8(replacement(hyper).unwrap()).unwrap();
        assert!(r.starts_with("HTTP/1.1 431 "), "{r}");
        assert!(r.contains("content-type: application/json"), "{r}");
        assert!(r.ends_with("}}"), "{r}");
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(ours).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(ok).is_none());
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n";
        assert!(replacement(with_body).is_none());
    }
}
