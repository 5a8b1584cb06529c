//! For tests only: an SMTP receiver on 127.0.0.1 (a random port) that speaks
//! enough real SMTP for lettre's client — EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT; no TLS, no AUTH — and keeps every message it receives. Faults
//! are injected on demand: a refusal at the greeting, 4xx and 5xx replies,
//! hang-ups during and after DATA, a stall.
//!
//! ```ignore
//! let smtp = SmtpReceiver::start().await?;
//! smtp.push_faults([Fault::Transient451AfterData]);
//! // ... point the mailer at 127.0.0.1:smtp.port(), send twice ...
//! let got = smtp.wait_for_accepted(1, Duration::from_secs(5)).await;
//! ```
//!
//! What lettre 0.11.23 does here (the tests check it): a 4xx reply, the
//! greeting's included, is `is_transient()`, a 5xx `is_permanent()`, a
//! hang-up neither. Its `timeout` bounds only the TCP connect, not the
//! replies: bound a send with `tokio::time::timeout`. Its pool checks a
//! parked connection with NOOP (never RSET) and parks it from a spawned
//! task, so a send right after another may open a second connection; a
//! send cancelled mid-command is parked as it is, and the next send's NOOP
//! waits for that command's reply.

use std::collections::VecDeque;
use std::io;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// The longest command line accepted, CRLF included; a longer one is
/// answered 500.
pub const MAX_COMMAND_LINE: usize = 4096;

/// The largest message accepted (advertised with `SIZE`); a larger one is
/// answered 552 and the connection closed.
pub const MAX_MESSAGE_BYTES: usize = 50 * 1024 * 1024;

/// A fault to inject. Connection-level faults ([`Fault::Refuse421AtGreeting`])
/// apply to the next connection; all others to the next mail transaction
/// (taken when its MAIL FROM arrives). A transaction's fault is spent even if
/// the client resets before reaching the point where it would act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 421 as the greeting of the next connection, then close (service not
    /// available); or, if a MAIL FROM comes first on an open connection, 421
    /// to it and close.
    Refuse421AtGreeting,
    /// 451 in reply to MAIL FROM (transient).
    Transient451AtMail,
    /// 451 in reply to every RCPT TO of the transaction.
    Transient451AtRcpt,
    /// Receive the whole DATA, then answer 451 (the message is not stored).
    Transient451AfterData,
    /// 550 to every RCPT TO of the transaction (permanent: mailbox unavailable).
    Permanent550AtRcpt,
    /// Receive the whole DATA, then answer 550 (the message is not stored).
    Permanent550AfterData,
    /// Close the connection once the first bytes of DATA arrived (not stored).
    DropDuringData,
    /// Store the message, then close the connection without the final 250:
    /// the dangerous case, where the sender cannot know the message arrived.
    DropAfterData,
    /// At MAIL FROM, answer nothing and read nothing more for this long
    /// (the connection stays open), then close the connection.
    Stall(Duration),
    /// No fault: this transaction goes through (lets messages pass between
    /// faults in a queue).
    Accept,
}

impl Fault {
    fn at_connection(&self) -> bool {
        matches!(self, Fault::Refuse421AtGreeting)
    }
}

/// A message whose DATA was completely received and stored.
#[derive(Clone, Debug)]
pub struct Received {
    /// The reverse path of MAIL FROM, without the angle brackets ("" for `<>`).
    pub from: String,
    /// The forward paths of the accepted RCPT TOs, in order.
    pub to: Vec<String>,
    /// The message as sent: dot-unstuffed, without the final CRLF.CRLF.
    pub data: Vec<u8>,
    /// The Message-ID header's value, unfolded and trimmed (`<id@host>`).
    pub message_id: Option<String>,
    /// Whether the final 250 after DATA was written to the client.
    pub acknowledged: bool,
    /// When DATA was completely received.
    pub at: SystemTime,
}

/// The receiver: a cheap handle (clones share one receiver). The accept loop
/// runs on the tokio runtime that started it until the last handle drops.
#[derive(Clone)]
pub struct SmtpReceiver {
    shared: Arc<Shared>,
    port: u16,
    _accept_loop: Arc<AcceptLoop>,
}

/// Stops the accept loop when dropped (connections already open finish).
struct AcceptLoop(AbortHandle);

impl Drop for AcceptLoop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    acknowledged: Notify,
}

#[derive(Default)]
struct State {
    faults: VecDeque<Fault>,
    /// Waited before the final reply to every DATA (a slow server).
    reply_delay: Duration,
    received: Vec<Received>,
    connections: usize,
    commands: Vec<String>,
}

impl Shared {
    /// The state; never held across an await.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fault at the front of the queue, taken if it fits the event: at
    /// a new connection only a refusal; at MAIL FROM any fault (a refusal
    /// then is a 421 to MAIL, which SMTP allows at any command), so a
    /// refusal never blocks the queue while pooled connections carry on.
    fn take_fault(&self, at_connection: bool) -> Option<Fault> {
        let mut state = self.state();
        if state.faults.front().is_some_and(|f| !at_connection || f.at_connection()) {
            state.faults.pop_front()
        } else {
            None
        }
    }

    /// Stores a message, not yet acknowledged; returns its index.
    fn store(&self, from: String, to: Vec<String>, data: Vec<u8>) -> usize {
        let message_id = message_id(&data);
        let at = SystemTime::now();
        let mut state = self.state();
        state.received.push(Received { from, to, data, message_id, acknowledged: false, at });
        state.received.len() - 1
    }

    fn acknowledge(&self, index: usize) {
        if let Some(received) = self.state().received.get_mut(index) {
            received.acknowledged = true;
        }
        self.acknowledged.notify_waiters();
    }
}

impl SmtpReceiver {
    /// Binds 127.0.0.1 on a random port and spawns the accept loop on the
    /// current tokio runtime (panics outside one, like `tokio::spawn`).
    pub async fn start() -> io::Result<SmtpReceiver> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(SmtpReceiver { shared, port, _accept_loop: Arc::new(AcceptLoop(task.abort_handle())) })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Queues faults, consumed in order: a connection-level fault by the next
    /// connection, any other by the next MAIL FROM — each only when it is at
    /// the front of the queue. With the queue empty, messages are accepted.
    /// The queue is shared, so concurrent connections take different faults.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.state().faults.extend(faults);
    }

    /// Waits this long before the final reply to every DATA from now on
    /// (a slow server: a sender killed meanwhile has sent but not heard).
    pub fn set_reply_delay(&self, delay: Duration) {
        self.shared.state().reply_delay = delay;
    }

    /// How many queued faults are still to be consumed.
    pub fn pending_faults(&self) -> usize {
        self.shared.state().faults.len()
    }

    /// Every message whose DATA was completely received and stored, whether
    /// or not the final 250 was sent, in the order received.
    pub fn received(&self) -> Vec<Received> {
        self.shared.state().received.clone()
    }

    /// The messages acknowledged with the final 250, in the order received.
    pub fn accepted(&self) -> Vec<Received> {
        self.shared.state().received.iter().filter(|r| r.acknowledged).cloned().collect()
    }

    /// Waits until at least `n` messages were acknowledged with 250 or
    /// `timeout` passed, then returns [`SmtpReceiver::received`].
    pub async fn wait_for_accepted(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.acknowledged.notified();
            tokio::pin!(notified);
            // Registered before the check, so no acknowledgement is missed.
            notified.as_mut().enable();
            let acknowledged = self.shared.state().received.iter().filter(|r| r.acknowledged).count();
            if acknowledged >= n || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }

    /// The number of connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.state().connections
    }

    /// Every command line received (without CRLF), from all connections in
    /// the order they arrived; message contents are not included.
    pub fn commands(&self) -> Vec<String> {
        self.shared.state().commands.clone()
    }
}

/// Accepts connections until aborted; an accept error (descriptors running
/// out, say) is logged and retried, never fatal.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                shared.state().connections += 1;
                let fault = shared.take_fault(true);
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    if let Err(e) = serve(stream, shared, fault).await {
                        tracing::debug!("test SMTP receiver: connection ended: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::debug!("test SMTP receiver: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// One connection; any IO error just ends it.
async fn serve(stream: TcpStream, shared: Arc<Shared>, fault: Option<Fault>) -> io::Result<()> {
    let mut session = Session { stream: BufReader::new(stream), shared, greeted: false, transaction: None };
    if fault == Some(Fault::Refuse421AtGreeting) {
        return session.reply("421 4.3.2 localhost Service not available, closing transmission channel").await;
    }
    session.reply("220 localhost ESMTP standing test receiver").await?;
    while let Some(line) = session.read_command().await? {
        if let Flow::Close = session.command(&line).await? {
            break;
        }
    }
    Ok(())
}

enum Flow {
    Continue,
    Close,
}

struct Session {
    stream: BufReader<TcpStream>,
    shared: Arc<Shared>,
    greeted: bool,
    transaction: Option<Transaction>,
}

/// A mail transaction under way: after MAIL FROM, until DATA or RSET.
struct Transaction {
    from: String,
    to: Vec<String>,
    fault: Option<Fault>,
}

const BAD_SEQUENCE: &str = "503 5.5.1 Bad sequence of commands";
const SYNTAX: &str = "501 5.5.4 Syntax error in parameters or arguments";

impl Session {
    /// Writes one reply (lines joined by CRLF) and flushes it.
    async fn reply(&mut self, reply: &str) -> io::Result<()> {
        let stream = self.stream.get_mut();
        stream.write_all(format!("{reply}\r\n").as_bytes()).await?;
        stream.flush().await
    }

    /// The next command line without its line ending; `None` at the end of
    /// the connection. A line too long is skipped and answered 500.
    async fn read_command(&mut self) -> io::Result<Option<String>> {
        let mut line = Vec::new();
        loop {
            if (&mut self.stream).take(MAX_COMMAND_LINE as u64).read_until(b'\n', &mut line).await? == 0 {
                return Ok(None);
            }
            if line.ends_with(b"\n") {
                let text = String::from_utf8_lossy(&line);
                return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
            }
            if line.len() >= MAX_COMMAND_LINE {
                // Skip the rest of it, a bounded piece at a time.
                while !line.ends_with(b"\n") {
                    line.clear();
                    if (&mut self.stream).take(MAX_COMMAND_LINE as u64).read_until(b'\n', &mut line).await? == 0 {
                        return Ok(None);
                    }
                }
                line.clear();
                self.reply("500 5.5.6 Line too long").await?;
            }
        }
    }

    async fn command(&mut self, line: &str) -> io::Result<Flow> {
        self.shared.state().commands.push(line.to_owned());
        let (verb, args) = line.split_once(' ').unwrap_or((line, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                (self.greeted, self.transaction) = (true, None);
                self.reply(&format!("250-localhost\r\n250-8BITMIME\r\n250 SIZE {MAX_MESSAGE_BYTES}")).await?;
            }
            "HELO" => {
                (self.greeted, self.transaction) = (true, None);
                self.reply("250 localhost").await?;
            }
            "MAIL" => return self.mail(args).await,
            "RCPT" => self.rcpt(args).await?,
            "DATA" => return self.data().await,
            "RSET" => {
                self.transaction = None;
                self.reply("250 2.0.0 OK").await?;
            }
            "NOOP" => self.reply("250 2.0.0 OK").await?,
            "QUIT" => {
                self.reply("221 2.0.0 localhost closing connection").await?;
                return Ok(Flow::Close);
            }
            _ => self.reply("500 5.5.2 Command not recognized").await?,
        }
        Ok(Flow::Continue)
    }

    async fn mail(&mut self, args: &str) -> io::Result<Flow> {
        if !self.greeted || self.transaction.is_some() {
            self.reply(BAD_SEQUENCE).await?;
            return Ok(Flow::Continue);
        }
        let Some(from) = path(args, "FROM:") else {
            self.reply(SYNTAX).await?;
            return Ok(Flow::Continue);
        };
        match self.shared.take_fault(false) {
            Some(Fault::Refuse421AtGreeting) => {
                self.reply("421 4.3.2 localhost Service not available, closing transmission channel").await?;
                return Ok(Flow::Close);
            }
            Some(Fault::Transient451AtMail) => self.reply("451 4.3.0 Try again later").await?,
            Some(Fault::Stall(duration)) => {
                tokio::time::sleep(duration).await;
                return Ok(Flow::Close);
            }
            fault => {
                self.transaction = Some(Transaction { from, to: Vec::new(), fault });
                self.reply("250 2.1.0 OK").await?;
            }
        }
        Ok(Flow::Continue)
    }

    async fn rcpt(&mut self, args: &str) -> io::Result<()> {
        let reply = match (&mut self.transaction, path(args, "TO:")) {
            (None, _) => BAD_SEQUENCE,
            (Some(_), None) => SYNTAX,
            (Some(transaction), Some(to)) => match transaction.fault {
                Some(Fault::Transient451AtRcpt) => "451 4.3.0 Try again later",
                Some(Fault::Permanent550AtRcpt) => "550 5.1.1 Mailbox unavailable",
                _ => {
                    transaction.to.push(to);
                    "250 2.1.5 OK"
                }
            },
        };
        self.reply(reply).await
    }

    async fn data(&mut self) -> io::Result<Flow> {
        let Some(Transaction { from, to, fault }) = self.transaction.take_if(|t| !t.to.is_empty()) else {
            self.reply(BAD_SEQUENCE).await?;
            return Ok(Flow::Continue);
        };
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        if fault == Some(Fault::DropDuringData) {
            self.stream.fill_buf().await?;
            return Ok(Flow::Close);
        }
        let Some(data) = self.read_data().await? else {
            self.reply("552 5.3.4 Message too big").await?;
            return Ok(Flow::Close);
        };
        match fault {
            Some(Fault::Transient451AfterData) => self.reply("451 4.3.0 Try again later").await?,
            Some(Fault::Permanent550AfterData) => self.reply("550 5.7.1 Message rejected").await?,
            fault => {
                let index = self.shared.store(from, to, data);
                if fault == Some(Fault::DropAfterData) {
                    return Ok(Flow::Close);
                }
                let delay = self.shared.state().reply_delay;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                self.reply(&format!("250 2.0.0 OK queued as {index}")).await?;
                self.shared.acknowledge(index);
            }
        }
        Ok(Flow::Continue)
    }

    /// The message after 354, up to the line ".", dot-unstuffed; `None` when
    /// it grows past [`MAX_MESSAGE_BYTES`]. Lines end with CRLF only: a bare
    /// LF is content, and a dot after it is not stuffing (as lettre sends).
    async fn read_data(&mut self) -> io::Result<Option<Vec<u8>>> {
        let (mut data, mut line) = (Vec::new(), Vec::new());
        loop {
            line.clear();
            while !line.ends_with(b"\r\n") {
                // Room for the message, its last CRLF and a stuffed dot.
                let room = (MAX_MESSAGE_BYTES + 3).saturating_sub(data.len() + line.len());
                if room == 0 {
                    return Ok(None);
                }
                if (&mut self.stream).take(room as u64).read_until(b'\n', &mut line).await? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            if line == b".\r\n" {
                break;
            }
            data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
        }
        // The CRLF before the final "." ends the message's last line.
        if data.ends_with(b"\r\n") {
            data.truncate(data.len() - 2);
        }
        Ok(Some(data))
    }
}

/// The address in `FROM:<a@b> PARAMS` (after `prefix`, any case).
fn path(args: &str, prefix: &str) -> Option<String> {
    let head = args.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = args.get(prefix.len()..)?.trim_start().strip_prefix('<')?;
    let (address, _params) = rest.split_once('>')?;
    Some(address.to_owned())
}

/// The Message-ID header's value in the header section of `data`,
/// unfolded and trimmed.
fn message_id(data: &[u8]) -> Option<String> {
    let mut value: Option<String> = None;
    for raw in data.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw));
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A continuation: unfolding removes only the line break.
            if let Some(value) = value.as_mut() {
                value.push_str(&line);
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((name, rest)) = line.split_once(':')
            && name.trim_end().eq_ignore_ascii_case("message-id")
        {
            value = Some(rest.to_owned());
        }
    }
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests;
