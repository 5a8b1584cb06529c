//! `standing serve` as a real process: killed with SIGKILL while it sends,
//! and two instances sharing one database.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use standing::testing::smtp::SmtpReceiver;
use standing::web::AppState;

use super::*;

/// `standing serve` on the test's database, sending to `receiver`.
fn serve(db: &TestDb, receiver: &SmtpReceiver) -> Child {
    standing(db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("STANDING_MAIL_TRANSPORT", "smtp")
        .env("STANDING_MAIL_SMTP_URL", format!("smtp://127.0.0.1:{}", receiver.port()))
        .env("STANDING_MAIL_FROM", "standing <reports@standing.example>")
        .env("STANDING_MAIL_CONNECT_TIMEOUT_SECONDS", "1")
        .env("STANDING_MAIL_SEND_TIMEOUT_SECONDS", "2")
        .env("STANDING_MAIL_LEASE_SECONDS", "4")
        .env("STANDING_MAIL_RETRY_INITIAL_SECONDS", "1")
        .env("STANDING_MAIL_POLL_SECONDS", "1")
        .env("STANDING_MAIL_CONCURRENCY", "4")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A state on the same database for queueing and watching, with the signing
/// keys made up front (so instances starting together do not race to make them).
async fn watcher(db: &TestDb, receiver: &SmtpReceiver) -> AppState {
    let state =
        AppState::open(smtp_settings(db, receiver), std::sync::Arc::new(standing::clock::SystemClock)).await.unwrap();
    standing::keys::load_signer(&state.settings, &state.cipher, state.clock.now()).unwrap();
    state
}

async fn wait_until_all_sent(state: &AppState, deadline: Duration) {
    let started = Instant::now();
    loop {
        let mail = all_mail(state).await;
        if mail.iter().all(|m| m.status == "sent") {
            return;
        }
        let left: Vec<_> = mail.iter().filter(|m| m.status != "sent").map(|m| (&m.status, &m.last_error)).collect();
        assert!(started.elapsed() < deadline, "not all sent after {deadline:?}: {left:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn serve_killed_while_sending_loses_nothing() {
    let db = TestDb::new().await;
    let receiver = SmtpReceiver::start().await.unwrap();
    // A slow server: each message takes a while, so kills land mid-send.
    receiver.set_reply_delay(Duration::from_millis(30));
    let state = watcher(&db, &receiver).await;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x9);
    let mut ids = Vec::new();
    let mut kills = 0;
    for round in 0..20u64 {
        ids.extend(queue_messages(&state, 15, 100 + round).await);
        let child = serve(&db, &receiver);
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..900))).await;
        // SIGKILL: no shutdown, leases left behind.
        stop(child);
        kills += 1;
    }
    let child = serve(&db, &receiver);
    wait_until_all_sent(&state, Duration::from_secs(120)).await;
    stop(child);

    let copies = copies(&receiver.received());
    let mut twice = 0;
    for id in &ids {
        let (acknowledged, _) = copies.get(id).copied().unwrap_or_default();
        assert!(acknowledged >= 1, "{id} never arrived");
        twice += usize::from(acknowledged > 1);
    }
    // A kill between the server's 250 and the database's "sent" sends that
    // message again after its lease: at most the sends in flight per kill.
    assert!(twice <= kills * 4, "{twice} duplicates after {kills} kills");
    println!(
        "{kills} kills of serve while sending {} messages: all delivered; {twice} delivered twice \
         (killed after the server's 250, before the outbox recorded it)",
        ids.len()
    );
}

#[tokio::test]
async fn two_instances_share_the_queue_and_send_each_message_once() {
    let db = TestDb::new().await;
    let receiver = SmtpReceiver::start().await.unwrap();
    receiver.set_reply_delay(Duration::from_millis(30));
    let state = watcher(&db, &receiver).await;
    let a = serve(&db, &receiver);
    let b = serve(&db, &receiver);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids = queue_messages(&state, 150, 7).await;
    wait_until_all_sent(&state, Duration::from_secs(60)).await;
    stop(a);
    stop(b);

    let senders: std::collections::BTreeSet<_> = all_mail(&state).await.into_iter().filter_map(|m| m.sent_by).collect();
    assert_eq!(senders.len(), 2, "both instances sent: {senders:?}");
    let received = receiver.received();
    assert_eq!(received.len(), ids.len(), "each message sent once, none twice");
    let copies = copies(&received);
    for id in &ids {
        assert_eq!(copies.get(id), Some(&(1, 0)), "{id}");
    }
}
