//! Over a hundred transient faults: every message arrives, none is lost, and
//! a Message-ID arrives twice only after the receiver had taken the message
//! but hung up before its 250 (the one duplicate SMTP cannot prevent; the
//! same Message-ID lets the receiver drop it).

use std::time::Duration;

use rand::{Rng, SeedableRng};
use standing::testing::smtp::{Fault, SmtpReceiver};
use standing::web::AppState;

use super::*;

#[tokio::test]
async fn every_message_arrives_through_transient_faults_and_duplicates_only_follow_a_lost_250() {
    let db = TestDb::new().await;
    let receiver = SmtpReceiver::start().await.unwrap();
    let clock = TestClock::at(start_of_test());
    let state = AppState::open(smtp_settings(&db, &receiver), clock.clone()).await.unwrap();
    let mut ids = queue_messages(&state, 120, 3).await;

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0xfa17);
    let mut faults = Vec::new();
    let (mut stalls, mut dropped_after_data) = (0, 0);
    for _ in 0..150 {
        let fault = match rng.random_range(0..13) {
            0 | 1 => Fault::Refuse421AtGreeting,
            2 | 3 => Fault::Transient451AtMail,
            4 | 5 => Fault::Transient451AtRcpt,
            6 | 7 => Fault::Transient451AfterData,
            8 | 9 => Fault::DropDuringData,
            10 | 11 => {
                dropped_after_data += 1;
                Fault::DropAfterData
            }
            // Past the 2 s send timeout; a few only, each costs real time.
            _ if stalls < 4 => {
                stalls += 1;
                Fault::Stall(Duration::from_secs(3))
            }
            _ => Fault::Transient451AtMail,
        };
        faults.push(fault);
        // Some messages go through between faults.
        if rng.random_range(0..3) == 0 {
            faults.push(Fault::Accept);
        }
    }
    let injected = faults.iter().filter(|f| !matches!(f, Fault::Accept)).count();
    receiver.push_faults(faults);

    let worker = state.mail_worker().unwrap();
    let mut passes = 0;
    loop {
        passes += 1;
        worker.run_pass().await.unwrap();
        let mail = all_mail(&state).await;
        assert!(mail.iter().all(|m| m.status != "dead"), "a transient fault never kills a message");
        if mail.iter().all(|m| m.status == "sent") {
            if receiver.pending_faults() == 0 {
                break;
            }
            // A greeting fault waits for a new connection, and pooled
            // connections may carry many messages first: more mail until
            // every fault has been met.
            ids.extend(queue_messages(&state, 20, 1000 + passes).await);
        }
        assert!(passes < 500, "not delivered after {passes} passes");
        // Past the longest backoff, without waiting for it.
        clock.advance(chrono::Duration::seconds(61));
    }
    assert!(injected >= 100, "{injected}");

    let copies = copies(&receiver.received());
    assert_eq!(copies.len(), ids.len(), "every message arrived");
    for id in &ids {
        let (acknowledged, unacknowledged) = copies[id];
        assert_eq!(acknowledged, 1, "{id}: accepted exactly once");
        let _ = unacknowledged;
    }
    let duplicates: usize = copies.values().map(|(_, extra)| extra).sum();
    assert_eq!(duplicates, dropped_after_data, "a second copy only after a hang-up that followed DATA");
    println!(
        "{injected} transient faults ({dropped_after_data} hang-ups after DATA, {stalls} stalls) over {} messages: \
         all delivered in {passes} passes, {duplicates} duplicate deliveries, all after a lost 250",
        ids.len()
    );
}
