//! The `standing` binary as an operator runs it.

use crate::helpers::*;

#[tokio::test]
async fn import_command_names_the_bad_line_and_leaves_the_database_as_it_was() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.jsonl", &[account("A1001", "ZHANG Wei", "E12345678")]);
    let out = standing(&db).arg("import").arg("--quiet").arg(&good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("imported 1 records") && stdout.contains("rows/s"), "{stdout}");

    let bad = write_file(
        dir.path(),
        "bad.jsonl",
        &[
            transaction("T-1", "A1001", "2026-01-03T12:00:00Z", "-1.00"),
            transaction("T-2", "A1001", "2026-01-03T12:00:00Z", "-1.00").replace("\"CNY\"", "\"RMB\""),
            transaction("T-3", "A1001", "2026-01-03T12:00:00Z", "-1.00"),
        ],
    );
    let out = standing(&db).arg("import").arg(&bad).output().unwrap();

    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.jsonl:2: field `currency`: `RMB` is not an active ISO 4217"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let state = state(&db).await;
    assert_eq!(state.store.counts().await.unwrap().transactions, 0);
}

#[tokio::test]
async fn migrate_command_is_idempotent() {
    let db = TestDb::new().await;
    for _ in 0..2 {
        let out = standing(&db).arg("migrate").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
