//! Email latency and throughput through real SMTP to a local receiver
//! (`standing::testing::smtp`), on SQLite and (with `BENCH_DATABASE_URL`)
//! PostgreSQL. Each message is a report's email: the signed PDF of the
//! 5-year demo account attached (about 115 KB).
//!
//! - latency: from the commit of the report's outbox row to the receiver
//!   having the whole message (its 250 after DATA follows at once), one
//!   message at a time, with `standing serve`'s worker running; p50 and p99;
//! - throughput: messages per second with 8 concurrent SMTP connections
//!   (`mail.concurrency = 8`), draining a queue.
//!
//! `cargo bench --bench mail` (`BENCH_MESSAGES`, `BENCH_BATCH` to vary)
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rand::SeedableRng;
use standing::config::{MailTransportKind, SmtpUrl};
use standing::demo::demo_dir;
use standing::keys::load_signer;
use standing::mail::notices;
use standing::testing::smtp::SmtpReceiver;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run(label: &str, url: String) {
    let dir = tempfile::tempdir().unwrap();
    let receiver = SmtpReceiver::start().await.unwrap();
    let mut state = common::open_state(&url, dir.path()).await;
    let mut settings = (*state.settings).clone();
    settings.mail.transport = MailTransportKind::Smtp;
    settings.mail.smtp_url = Some(SmtpUrl::new(format!("smtp://127.0.0.1:{}", receiver.port())));
    settings.mail.concurrency = 8;
    state.settings = Arc::new(settings);
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let now = state.clock.now();
    let signer = load_signer(&state.settings, &state.cipher, now).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let account = standing::domain::AccountId::parse("A1013").unwrap();
    let (issued, _) =
        state.notifier().issue(&signer, &account, now.date_naive(), now, &mut rng, None, None).await.unwrap();
    let to = state.notifier().address_on_file(&account).await.unwrap();
    let json = serde_json::to_value(&issued.data).unwrap();
    let facts = notices::report_facts(&json).unwrap();
    let queue_one = |rng: &mut rand_chacha::ChaCha20Rng| {
        let id = notices::new_id(rng);
        let mail =
            notices::report_issued(&state.settings, &id, now, &to, facts.clone(), issued.pdf.clone(), None).unwrap();
        state.outbox.seal(&mail, Some(&issued.number), None, now)
    };

    // Latency, with the worker running as in `standing serve`.
    let messages = env_or("BENCH_MESSAGES", 300);
    let worker = Arc::new(state.mail_worker().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut rx = stopped.clone();
    let running = tokio::spawn(worker.clone().run(async move {
        let _ = rx.wait_for(|s| *s).await;
    }));
    let mut latencies = Vec::with_capacity(messages);
    let bytes = queue_one(&mut rng).message_bytes;
    for i in 0..messages {
        let row = queue_one(&mut rng);
        // `queue` returns once the row's transaction has committed.
        state.outbox.queue(&row).await.unwrap();
        let committed = SystemTime::now();
        let received = receiver.wait_for_accepted(i + 1, Duration::from_secs(30)).await;
        let arrived = received.iter().find(|r| r.message_id.as_deref().is_some_and(|m| m.contains(&row.id))).unwrap();
        latencies.push(arrived.at.duration_since(committed).unwrap_or_default());
    }
    let (median, p99) = common::median_p99_ms(&mut latencies);
    println!(
        "{label:<10} latency, outbox commit to message received: median {median:.2} ms, p99 {p99:.2} ms over \
         {messages} messages of {} KB",
        bytes / 1024
    );
    let _ = stop.send(true);
    running.await.unwrap();

    // Throughput: a queue of messages drained with 8 connections.
    let batch = env_or("BENCH_BATCH", 1000);
    for _ in 0..batch {
        state.outbox.queue(&queue_one(&mut rng)).await.unwrap();
    }
    let before = receiver.accepted().len();
    let started = Instant::now();
    let summary = worker.run_pass().await.unwrap();
    let took = started.elapsed();
    assert_eq!(summary.sent as usize, batch, "{summary:?}");
    assert_eq!(receiver.accepted().len() - before, batch);
    println!(
        "{label:<10} throughput: {:.0} messages/s ({batch} messages, {} KB each, 8 SMTP connections, {:.2} s)",
        batch as f64 / took.as_secs_f64(),
        bytes / 1024,
        took.as_secs_f64()
    );
    state.store.close().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(run("sqlite", format!("sqlite:{}", dir.path().join("bench.db").display())));
    runtime.block_on(common::with_fresh_postgres("mail", |url| async move { run("postgres", url).await }));
}
