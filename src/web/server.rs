//! Serving HTTP/1.1 connections with the limits a service on the open
//! internet needs: a client that sends half a header, or opens a connection
//! and goes quiet, must not hold it for ever; many of them must not use up
//! the process's file descriptors; and a stop must stop.
//!
//! - **Connection limit.** At most `max_connections` are served at once.
//!   Past it we stop calling `accept`: new connections wait in the
//!   operating system's accept queue, holding none of our descriptors, and
//!   are served in order as slots free. Served connections are unaffected.
//! - **Header-read timeout.** A new connection has `header_read_timeout`
//!   to deliver its first request's line and headers; on a kept-alive
//!   connection the clock starts at the next request's first byte.
//! - **Idle timeout.** A kept-alive connection with nothing in flight and
//!   nothing sent or received for `idle_timeout` is closed.
//! - **Request timeout.** In the router (`TimeoutLayer`, 408).
//! - **Shutdown deadline.** On shutdown we stop accepting, ask every
//!   connection to finish its current request and close, and after
//!   `shutdown_timeout` drop whatever is still open.
//!
//! Each connection has a small watchdog beside hyper's own connection
//! future: the socket wrapper notes when bytes arrive, the service wrapper
//! when a request starts and ends, and the watchdog closes the connection
//! when the deadline those imply has passed. hyper's own header timer is
//! kept as a backstop at `idle + header`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ServerSettings;

/// The largest request head (request line and headers) hyper buffers. The
/// router answers URIs longer than [`super::MAX_URI_BYTES`] itself (414, in
/// the caller's format); a head beyond this is refused by hyper with a bare
/// 431 before any request exists.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Descriptors kept free beside the connections: the listener, database
/// connections, key and log files.
const RESERVED_DESCRIPTORS: u64 = 64;

/// The limits one server runs with (from [`ServerSettings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub fn from_settings(settings: &ServerSettings) -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(settings.header_read_timeout_seconds),
            idle_timeout: Duration::from_secs(settings.idle_timeout_seconds),
            shutdown_timeout: Duration::from_secs(settings.shutdown_timeout_seconds),
            max_connections: settings.max_connections,
        }
    }

    /// The connection limit the process's descriptor limit can hold, with
    /// `other` descriptors (the database pool) beside it: raises the soft
    /// limit toward the hard one when needed, and lowers the connection
    /// limit (with a warning) when even that is not enough.
    pub fn fit_to_descriptors(mut self, other: u64) -> Self {
        let wanted = self.max_connections as u64 + RESERVED_DESCRIPTORS + other;
        let available = descriptor_limit(wanted);
        if let Some(available) = available
            && available < wanted
        {
            let fits = available.saturating_sub(RESERVED_DESCRIPTORS + other).max(1);
            tracing::warn!(
                configured = self.max_connections,
                serving = fits,
                descriptor_limit = available,
                "server.max_connections does not fit the open-file limit (ulimit -n); serving fewer connections \
                 at once. Raise the limit (e.g. LimitNOFILE= in the systemd unit) to serve more"
            );
            self.max_connections = usize::try_from(fits).unwrap_or(1);
        }
        self
    }
}

/// The soft open-file limit, raised toward `wanted` (at most the hard
/// limit); `None` where it cannot be read.
#[cfg(unix)]
fn descriptor_limit(wanted: u64) -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    if current >= wanted {
        return Some(current);
    }
    let raised = limit.maximum.map_or(wanted, |max| max.min(wanted));
    if raised > current && setrlimit(Resource::Nofile, Rlimit { current: Some(raised), maximum: limit.maximum }).is_ok()
    {
        return Some(raised);
    }
    Some(current)
}

#[cfg(not(unix))]
fn descriptor_limit(_wanted: u64) -> Option<u64> {
    None
}

/// Connection counts, readable while the server runs (tests, logs).
#[derive(Debug, Default)]
pub struct ConnectionCounts {
    open: AtomicUsize,
    accepted: AtomicU64,
    timed_out: AtomicU64,
}

impl ConnectionCounts {
    /// Connections being served now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Connections accepted since the start.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections closed for a header-read or idle timeout.
    pub fn timed_out(&self) -> u64 {
        self.timed_out.load(Ordering::SeqCst)
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains
/// (see the module documentation).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    counts: Arc<ConnectionCounts>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    'accept: loop {
        // A free slot first: at the limit, callers wait in the kernel's
        // queue rather than in our descriptor table.
        let permit = tokio::select! {
            () = &mut shutdown => break 'accept,
            Some(done) = connections.join_next(), if !connections.is_empty() => {
                log_join(done);
                continue 'accept;
            }
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed.
                Err(_) => break 'accept,
            },
        };
        let (stream, peer) = loop {
            tokio::select! {
                () = &mut shutdown => break 'accept,
                Some(done) = connections.join_next(), if !connections.is_empty() => log_join(done),
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => break accepted,
                    Err(e) if is_connection_error(&e) => {}
                    Err(e) => {
                        // Out of descriptors (EMFILE) or memory: wait a
                        // little rather than spin; established connections
                        // go on and free them.
                        tracing::error!(error = %e, "accepting a connection failed; retrying shortly");
                        tokio::select! {
                            () = &mut shutdown => break 'accept,
                            () = tokio::time::sleep(Duration::from_millis(100)) => {}
                        }
                    }
                },
            }
        };
        counts.accepted.fetch_add(1, Ordering::SeqCst);
        counts.open.fetch_add(1, Ordering::SeqCst);
        let open = OpenGuard(counts.clone());
        let router = router.clone();
        let stopping = stopping.clone();
        let counts = counts.clone();
        connections.spawn(async move {
            let _slot = permit;
            let _open = open;
            serve_connection(stream, peer, router, limits, counts, stopping).await;
        });
    }
    // Stop accepting: callers still queued are refused at once instead of
    // waiting for a server that is going away.
    drop(listener);
    let _ = stop.send(true);
    let open = connections.len();
    if open > 0 {
        tracing::info!(open, "finishing in-flight requests");
    }
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while let Some(done) = connections.join_next().await {
            log_join(done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            dropped = connections.len(),
            seconds = limits.shutdown_timeout.as_secs(),
            "shutdown deadline reached; dropping the connections still open"
        );
        connections.shutdown().await;
    }
}

fn log_join(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        tracing::error!(error = %e, "a connection task panicked");
    }
}

/// Errors that concern one connection only; accepting goes on at once.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
    )
}

struct OpenGuard(Arc<ConnectionCounts>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    counts: Arc<ConnectionCounts>,
    mut stopping: watch::Receiver<bool>,
) {
    // Small answers go out at once rather than waiting on Nagle.
    let _ = stream.set_nodelay(true);
    let watch = Arc::new(Watch::new());
    let io = TokioIo::new(WatchedIo { inner: stream, watch: watch.clone() });
    let service_watch = watch.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // The peer address feeds the per-client limits.
        request.extensions_mut().insert(ConnectInfo(peer));
        let in_flight = InFlight::start(service_watch.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await;
            drop(in_flight);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout + limits.idle_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut draining = *stopping.borrow();
    if draining {
        connection.as_mut().graceful_shutdown();
    }
    // One timer, moved as the deadline moves (cheaper than a new one per
    // request on a busy kept-alive connection).
    let timer = tokio::time::sleep_until(Instant::now() + limits.header_read_timeout);
    tokio::pin!(timer);
    let mut armed: Option<Instant> = None;
    loop {
        let deadline = watch.deadline(&limits);
        if let Some(deadline) = deadline
            && armed != Some(deadline)
        {
            timer.as_mut().reset(deadline);
            armed = Some(deadline);
        }
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = watch.changed.notified() => {}
            () = &mut timer, if deadline.is_some() => {
                if watch.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    counts.timed_out.fetch_add(1, Ordering::SeqCst);
                    tracing::debug!("closing a connection that sent no complete request in time");
                    // Dropping the connection closes the socket.
                    return;
                }
            }
            _ = stopping.changed(), if !draining => {
                draining = true;
                // Finishes the request in flight, then closes; an idle
                // connection closes at once.
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What one connection's watchdog needs to know.
struct Watch {
    timeline: Mutex<Timeline>,
    /// Signalled when a request starts or ends, or a new request's first
    /// byte arrives: the deadline changes.
    changed: Notify,
}

struct Timeline {
    opened: Instant,
    in_flight: usize,
    served: u64,
    /// When the last request's answer was handed back (or the connection
    /// opened).
    idle_since: Instant,
    /// The last time bytes went out (a response body being written).
    last_write: Instant,
    /// The first byte of the next request, once it arrived.
    head_started: Option<Instant>,
}

impl Watch {
    fn new() -> Self {
        let now = Instant::now();
        Watch {
            timeline: Mutex::new(Timeline {
                opened: now,
                in_flight: 0,
                served: 0,
                idle_since: now,
                last_write: now,
                head_started: None,
            }),
            changed: Notify::new(),
        }
    }

    fn timeline(&self) -> std::sync::MutexGuard<'_, Timeline> {
        // Plain data: usable even if a holder panicked.
        self.timeline.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the connection is to be closed unless something happens;
    /// `None` while a request is being answered (the request timeout
    /// bounds that).
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        let t = self.timeline();
        if t.in_flight > 0 {
            None
        } else if t.served == 0 {
            Some(t.opened + limits.header_read_timeout)
        } else if let Some(started) = t.head_started {
            Some(started + limits.header_read_timeout)
        } else {
            Some(t.idle_since.max(t.last_write) + limits.idle_timeout)
        }
    }

    fn on_read(&self) {
        let mut t = self.timeline();
        if t.in_flight == 0 && t.head_started.is_none() {
            t.head_started = Some(Instant::now());
            drop(t);
            self.changed.notify_one();
        }
    }

    fn on_write(&self) {
        self.timeline().last_write = Instant::now();
    }
}

/// A request being answered; its end (or cancellation) starts the idle
/// clock.
struct InFlight(Arc<Watch>);

impl InFlight {
    fn start(watch: Arc<Watch>) -> Self {
        {
            let mut t = watch.timeline();
            t.in_flight += 1;
            t.head_started = None;
        }
        watch.changed.notify_one();
        InFlight(watch)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        {
            let mut t = self.0.timeline();
            t.in_flight = t.in_flight.saturating_sub(1);
            t.served += 1;
            t.idle_since = Instant::now();
        }
        self.0.changed.notify_one();
    }
}

/// The socket, noting reads and writes for the watchdog.
struct WatchedIo {
    inner: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.on_read();
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.watch.on_write();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.watch.on_write();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
