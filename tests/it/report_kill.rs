//! `standing report` killed (SIGKILL) at any moment never leaves a signed
//! file that the registry does not know: such a file would verify offline
//! yet could be neither found nor revoked.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use standing::demo::demo_dir;

use crate::helpers::*;

fn start(db: &TestDb, out: &Path) -> Child {
    standing(db)
        .args(["report", "A1012", "--as-of", "2026-11-21", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn any_file_with_bytes(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| e.unwrap().metadata().is_ok_and(|m| m.len() > 0))
}

#[tokio::test]
async fn a_report_killed_at_any_moment_leaves_no_signed_file_the_registry_does_not_know() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let work = tempfile::tempdir().unwrap();

    // Two full runs: the first also makes the keys; the second is how long
    // one takes, over which the kills are spread.
    let mut full = Duration::ZERO;
    for i in 0..2 {
        let started = Instant::now();
        let status = start(&db, &work.path().join(format!("full-{i}.pdf"))).wait().unwrap();
        assert!(status.success());
        full = started.elapsed();
    }

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x5eed);
    let mut killed = 0;
    for run in 0..36 {
        let dir = work.path().join(format!("run-{run}"));
        std::fs::create_dir(&dir).unwrap();
        let mut child = start(&db, &dir.join("report.pdf"));
        if run < 8 {
            // The worst moment: as soon as anything is on disk.
            loop {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if any_file_with_bytes(&dir) {
                    killed += u32::from(child.kill().is_ok());
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        } else {
            // Anywhere from start-up to the end.
            std::thread::sleep(full.mul_f64(rng.random_range(0.0..1.2)));
            killed += u32::from(child.kill().is_ok());
        }
        child.wait().unwrap();
    }
    println!("{killed} of 36 runs killed before they ended (a full run takes {full:?})");

    // Every report the registry knows, as issued.
    let mut issued = Vec::new();
    for report in state.registry.list(Some(&acct("A1012")), 1000).await.unwrap() {
        issued.push((report.number.to_string(), state.registry.pdf(&report.number).await.unwrap().unwrap()));
    }
    state.store.close().await;
    let mut files = 0;
    for run in std::fs::read_dir(work.path()).unwrap() {
        let run = run.unwrap().path();
        let entries: Vec<_> = if run.is_dir() {
            std::fs::read_dir(&run).unwrap().map(|e| e.unwrap().path()).collect()
        } else {
            vec![run]
        };
        for file in entries {
            let bytes = std::fs::read(&file).unwrap();
            files += 1;
            // Complete, or cut short while being written: a prefix of a
            // recorded report either way.
            assert!(
                issued.iter().any(|(_, pdf)| pdf.starts_with(&bytes)),
                "{} ({} bytes) is no report the registry knows",
                file.display(),
                bytes.len()
            );
        }
    }
    assert!(files >= 2);
}
