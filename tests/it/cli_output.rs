//! The command line's output: a reader that goes away early, logs that are
//! captured, help that describes what exists.

use std::process::Stdio;

use standing::demo::demo_dir;

use crate::helpers::*;

async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    state.store.close().await;
    db
}

/// Runs `standing args...` with standard output a pipe whose reader is
/// already gone (as `| head -1` leaves it once it has its line): the exit
/// code and standard error.
fn with_closed_stdout(db: &TestDb, args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = standing(db).args(args).stdout(Stdio::from(writer)).stderr(Stdio::piped()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn a_closed_stdout_ends_every_command_quietly_with_its_own_status() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    let out = standing(&db).args(["report", "A1012", "--as-of", "2026-11-21", "--out"]).arg(&pdf).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut tampered = std::fs::read(&pdf).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let bad = dir.path().join("tampered.pdf");
    std::fs::write(&bad, tampered).unwrap();
    let another = dir.path().join("another.pdf");

    let cases: Vec<(Vec<&std::ffi::OsStr>, i32)> = vec![
        (vec!["verify".as_ref(), pdf.as_os_str()], 0),
        (vec!["verify".as_ref(), pdf.as_os_str(), "--json".as_ref()], 0),
        // The status is the command's own even when nobody reads the answer.
        (vec!["verify".as_ref(), bad.as_os_str()], 1),
        (vec!["keys".as_ref(), "list".as_ref()], 0),
        (vec!["keys".as_ref(), "list".as_ref(), "--json".as_ref()], 0),
        (vec!["reports".as_ref(), "list".as_ref()], 0),
        (vec!["score".as_ref(), "A1012".as_ref(), "--as-of".as_ref(), "2026-11-21".as_ref()], 0),
        (vec!["migrate".as_ref()], 0),
        (
            vec![
                "report".as_ref(),
                "A1012".as_ref(),
                "--as-of".as_ref(),
                "2026-11-21".as_ref(),
                "--out".as_ref(),
                another.as_os_str(),
            ],
            0,
        ),
        (vec!["report".as_ref(), "--help".as_ref()], 0),
    ];
    for (args, expected) in cases {
        let (code, stderr) = with_closed_stdout(&db, &args);
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_eq!(code, Some(expected), "{args:?}: {stderr}");
    }
    assert!(another.exists(), "the report was still issued and written");
}

#[tokio::test]
async fn captured_logs_carry_no_colour_codes() {
    let db = TestDb::new().await;
    let out = standing(&db)
        .env_remove("NO_COLOR")
        .env("STANDING_LOG", "info")
        .args(["keys", "rotate"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INFO") && stderr.contains("signing key"), "a log line was written: {stderr}");
    assert!(!out.stderr.contains(&0x1b), "no ESC byte in captured logs: {stderr:?}");
}

#[test]
fn report_help_describes_what_exists() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_standing")).args(["report", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(!help.to_lowercase().contains("web flow"), "{help}");
    assert!(help.contains("record") && help.contains("eligible"), "{help}");
}
