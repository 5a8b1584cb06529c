//! `standing import` through the library: all-or-nothing, idempotent,
//! every cross-line rule.

use standing::import::{ImportError, MAX_LISTED_ERRORS};
use standing::store::TableCounts;

use crate::helpers::*;

fn invalid(result: Result<standing::import::ImportReport, ImportError>) -> (Vec<(u64, String)>, u64) {
    match result {
        Err(ImportError::Invalid { listed, total }) => {
            (listed.into_iter().map(|i| (i.line, i.message)).collect(), total)
        }
        other => panic!("expected the import to be refused, got {other:?}"),
    }
}

fn valid_lines() -> Vec<String> {
    vec![
        account("A1001", "ZHANG Wei", "E12345678"),
        account("A1002", "Łukasz KOWALSKI-ZHANG", "EA1234567"),
        transaction("T-1", "A1001", "2026-01-03T12:00:00Z", "-125.40"),
        transaction("T-2", "A1001", "2026-01-04T12:00:00Z", "-5.00"),
        transaction("T-3", "A1002", "2026-01-05T12:00:00Z", "9000.00"),
        balance("A1001", "H-1", "savings", "2026-01-03", "52000.00", "CNY"),
        balance("A1001", "H-1", "savings", "2026-01-04", "52000.00", "CNY"),
        bill("B-1", "A1001", "2026-01-15", Some("2026-01-14")),
        fx_rate("CNY", "CAD", "2026-11-20", "0.1932"),
    ]
}

#[tokio::test]
async fn one_bad_line_in_the_middle_imports_nothing() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines = valid_lines();
    lines.insert(4, transaction("T-9", "A1001", "2026-01-05T12:00:00Z", "-1.005"));
    let file = write_file(dir.path(), "bad.jsonl", &lines);

    let (errors, total) = invalid(import(&state, &[file]).await);

    assert_eq!(total, 1);
    assert_eq!(errors[0].0, 5, "the bad line is line 5");
    assert!(errors[0].1.contains("3 digits after the decimal point; CNY has 2"), "{}", errors[0].1);
    // Batches of 3 were already sent before line 5; all rolled back.
    assert_eq!(state.store.counts().await.unwrap(), TableCounts::default());
    assert_transactions_index_exists(&db).await;
}

/// PostgreSQL drops the transactions index for a first load and rebuilds it
/// before commit; a rollback must bring it back too.
async fn assert_transactions_index_exists(db: &TestDb) {
    if db.is_postgres() {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'transactions_account_posted'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(n, 1, "the transactions index is in place");
        pool.close().await;
    }
}

#[tokio::test]
async fn importing_twice_changes_nothing() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "data.jsonl", &valid_lines());

    let first = import(&state, std::slice::from_ref(&file)).await.unwrap();
    assert_transactions_index_exists(&db).await;
    let counts = state.store.counts().await.unwrap();
    let account = state.store.account(&acct("A1001")).await.unwrap().unwrap();
    let second = import(&state, &[file]).await.unwrap();

    assert_eq!(first.total_records(), 9);
    assert!(first.records.values().all(|c| c.written == c.read), "{first:?}");
    assert!(second.records.values().all(|c| c.written == 0), "nothing is rewritten: {second:?}");
    assert_eq!(state.store.counts().await.unwrap(), counts);
    // Not even the sealed passport is re-encrypted.
    assert_eq!(state.store.account(&acct("A1001")).await.unwrap().unwrap(), account);
}

#[tokio::test]
async fn duplicates_within_a_run_are_refused_with_the_first_line() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines = valid_lines();
    lines.push(transaction("T-1", "A1001", "2026-02-03T12:00:00Z", "-1.00"));
    lines.push(balance("A1001", "H-1", "savings", "2026-01-03", "1.00", "CNY"));
    lines.push(bill("B-1", "A1001", "2026-02-15", None));
    lines.push(account("A1002", "Someone Else", "E99999999"));
    lines.push(fx_rate("CNY", "CAD", "2026-11-20", "0.2"));
    let first_file = write_file(dir.path(), "a.jsonl", &valid_lines()[..1]);
    let file = write_file(dir.path(), "b.jsonl", &lines);

    let (errors, total) = invalid(import(&state, &[first_file, file]).await);

    assert_eq!(total, 6);
    let messages: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
    assert!(messages[0].contains("duplicate account id `A1001`") && messages[0].contains("a.jsonl:1"), "{messages:?}");
    assert!(messages[1].contains("duplicate transaction id `T-1` (first on line 3)"), "{messages:?}");
    assert!(
        messages[2].contains("duplicate balance of holding `H-1` of account `A1001` on 2026-01-03"),
        "{messages:?}"
    );
    assert!(messages[3].contains("duplicate bill id `B-1`"), "{messages:?}");
    assert!(messages[4].contains("duplicate account id `A1002`"), "{messages:?}");
    assert!(messages[5].contains("duplicate fx_rate CNY/CAD on 2026-11-20"), "{messages:?}");
    assert_eq!(state.store.counts().await.unwrap(), TableCounts::default());
}

#[tokio::test]
async fn child_records_need_a_known_account() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();

    // An account defined later in the run is fine (forward reference)...
    let forward = write_file(
        dir.path(),
        "forward.jsonl",
        &[transaction("T-1", "A1001", "2026-01-03T12:00:00Z", "-1.00"), account("A1001", "ZHANG Wei", "E12345678")],
    );
    import(&state, &[forward]).await.unwrap();

    // ...an account stored by an earlier import is fine...
    let later = write_file(dir.path(), "later.jsonl", &[transaction("T-2", "A1001", "2026-01-04T12:00:00Z", "-1.00")]);
    import(&state, &[later]).await.unwrap();

    // ...an account nobody knows is refused, on every line that names it.
    let unknown = write_file(
        dir.path(),
        "unknown.jsonl",
        &[
            transaction("T-3", "A1001", "2026-01-05T12:00:00Z", "-1.00"),
            transaction("T-4", "A7777", "2026-01-05T12:00:00Z", "-1.00"),
            bill("B-1", "A7777", "2026-01-15", None),
            balance("A8888", "H-1", "current", "2026-01-03", "5.00", "CNY"),
        ],
    );
    let (errors, total) = invalid(import(&state, &[unknown]).await);
    assert_eq!(total, 3);
    assert_eq!(errors.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [2, 3, 4]);
    assert!(errors[0].1.contains("account `A7777` is not in this import nor in the database"));
    assert!(errors[2].1.contains("`A8888`"));
    assert_eq!(state.store.counts().await.unwrap().transactions, 2, "T-3 was rolled back with the rest");
}

#[tokio::test]
async fn a_holding_keeps_its_kind_and_currency() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "h.jsonl",
        &[
            account("A1001", "ZHANG Wei", "E12345678"),
            balance("A1001", "H-1", "savings", "2026-01-03", "5.00", "CNY"),
            balance("A1001", "H-1", "savings", "2026-01-04", "5.00", "USD"),
            balance("A1001", "H-1", "investment", "2026-01-05", "5.00", "CNY"),
        ],
    );
    let (errors, _) = invalid(import(&state, &[file]).await);
    assert_eq!(errors.len(), 2);
    assert!(errors[0].1.contains("holding `H-1` is savings USD here but savings CNY at"), "{}", errors[0].1);
}

#[tokio::test]
async fn many_bad_lines_list_the_first_hundred_and_count_the_rest() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines = vec![account("A1001", "ZHANG Wei", "E12345678")];
    lines.extend((0..250).map(|i| transaction(&format!("T-{i}"), "A1001", "yesterday", "-1.00")));
    lines.insert(3, String::new()); // blank lines are skipped, not errors
    let file = write_file(dir.path(), "many.jsonl", &lines);

    let (errors, total) = invalid(import(&state, &[file]).await);

    assert_eq!(total, 250);
    assert_eq!(errors.len(), MAX_LISTED_ERRORS);
    assert_eq!(errors[0].0, 2);
    assert_eq!(errors[2].0, 5, "line numbers count the blank line");
    assert!(errors[0].1.contains("field `posted_at`"));
}

#[tokio::test]
async fn a_missing_file_is_reported_before_any_work() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let result = import(&state, &["/nonexistent/x.jsonl".into()]).await;
    assert!(matches!(result, Err(ImportError::Read { .. })), "{result:?}");
}

#[tokio::test]
async fn impossible_dates_are_refused_by_line_and_field() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut born_in_year_one: serde_json::Value =
        serde_json::from_str(&account("A1002", "LI Na", "E22345678")).unwrap();
    born_in_year_one["date_of_birth"] = "0001-01-01".into();
    let lines = vec![
        account("A1001", "ZHANG Wei", "E12345678"),
        transaction("T-1", "A1001", "0000-01-01T00:00:00Z", "-1.00"),
        transaction("T-2", "A1001", "9999-12-31T23:59:59Z", "-1.00"),
        balance("A1001", "H-1", "savings", "0001-01-01", "1.00", "CNY"),
        bill("B-1", "A1001", "9999-12-31", None),
        bill("B-2", "A1001", "2026-01-15", Some("1969-12-31")),
        fx_rate("CNY", "CAD", "2101-01-01", "0.19"),
        born_in_year_one.to_string(),
        transaction("T-3", "A1001", "2026-01-03T12:00:00Z", "-1.00"),
    ];
    let file = write_file(dir.path(), "dates.jsonl", &lines);

    let (errors, total) = invalid(import(&state, &[file]).await);

    assert_eq!(total, 7);
    let expected = [
        (
            2,
            "field `posted_at`: 0000-01-01T00:00:00Z is not a plausible transaction date (accepted: 1970-01-01 to 2100-12-31)",
        ),
        (3, "field `posted_at`: 9999-12-31T23:59:59Z is not a plausible transaction date"),
        (4, "field `date`: 0001-01-01 is not a plausible balance date"),
        (5, "field `due_on`: 9999-12-31 is not a plausible due date"),
        (6, "field `paid_on`: 1969-12-31 is not a plausible payment date"),
        (7, "field `date`: 2101-01-01 is not a plausible rate date"),
        (
            8,
            "field `date_of_birth`: 0001-01-01 is not a plausible date of birth (accepted: 1900-01-01 to 2026-11-21, today)",
        ),
    ];
    for ((line, message), (want_line, want)) in errors.iter().zip(expected) {
        assert_eq!(*line, want_line, "{message}");
        assert!(message.starts_with(want), "line {line}: `{message}`\n  expected `{want}…`");
    }
    assert_eq!(state.store.counts().await.unwrap(), TableCounts::default());
}

/// Writes `before`, then `gap` bytes of one line without storing them (a
/// hole in a sparse file, read back as zero bytes), then `after`.
fn write_sparse(dir: &std::path::Path, name: &str, before: &[String], gap: u64, after: &[&[u8]]) -> std::path::PathBuf {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    for line in before {
        file.write_all(line.as_bytes()).unwrap();
        file.write_all(b"\n").unwrap();
    }
    file.seek(SeekFrom::Current(i64::try_from(gap).unwrap())).unwrap();
    for bytes in after {
        file.write_all(bytes).unwrap();
    }
    path
}

#[tokio::test]
async fn a_line_far_over_the_limit_is_refused_by_number_and_the_rest_still_checked() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let huge: u64 = 50 * 1024 * 1024;
    let bad_amount = transaction("T-2", "A1001", "2026-01-03T12:00:00Z", "-1.005");
    let good = transaction("T-3", "A1001", "2026-01-03T12:00:00Z", "-1.00");
    let after = [b"\n".as_slice(), bad_amount.as_bytes(), b"\n", good.as_bytes(), b"\n", b"{\"type\":\"\xB2\xE2\"}\n"];
    let file = write_sparse(
        dir.path(),
        "long.jsonl",
        &[account("A1001", "ZHANG Wei", "E12345678"), transaction("T-1", "A1001", "2026-01-03T12:00:00Z", "-1.00")],
        huge,
        &after,
    );

    let (errors, total) = invalid(import(&state, &[file]).await);

    assert_eq!(total, 3, "{errors:?}");
    assert_eq!(errors[0].0, 3);
    assert_eq!(
        errors[0].1,
        format!("line is {huge} bytes long; the limit is 65536 bytes (64 KiB) per line (one record per line)")
    );
    assert_eq!(errors[1].0, 4, "the line after the long one is checked: {}", errors[1].1);
    assert!(errors[1].1.contains("field `amount`"), "{}", errors[1].1);
    assert_eq!(errors[2].0, 6);
    assert!(
        errors[2].1.starts_with("not valid UTF-8 at byte offset 9 of the line (bytes there: 0xB2 0xE2 0x22 0x7D)"),
        "{}",
        errors[2].1
    );
    assert_eq!(state.store.counts().await.unwrap(), TableCounts::default());
}

#[tokio::test]
async fn invalid_utf8_is_refused_with_its_line_and_offset_and_the_rest_still_checked() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    // A merchant name exported as GBK ("盒马" is BA D0 C2 ED) instead of UTF-8.
    let prefix = r#"{"type":"transaction","id":"T-2","account":"A1001","posted_at":"2026-01-04T12:00:00Z","amount":"-1.00","currency":"CNY","category":"groceries","merchant":""#;
    let at = prefix.len();
    let gbk = [prefix.as_bytes(), b"\xBA\xD0\xC2\xED\"}"].concat();
    let mut text = Vec::new();
    for line in [account("A1001", "ZHANG Wei", "E12345678").into_bytes(), gbk, b"not json".to_vec()] {
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    let path = dir.path().join("gbk.jsonl");
    std::fs::write(&path, text).unwrap();

    let (errors, total) = invalid(import(&state, &[path]).await);

    assert_eq!(total, 2);
    assert_eq!(errors[0].0, 2);
    assert_eq!(
        errors[0].1,
        format!(
            "not valid UTF-8 at byte offset {at} of the line (bytes there: 0xBA 0xD0 0xC2 0xED); import files must be \
             UTF-8: was this one exported in another encoding, such as GBK or Latin-1?"
        )
    );
    assert_eq!((errors[1].0, errors[1].1.starts_with("invalid JSON")), (3, true), "{}", errors[1].1);
}

#[tokio::test]
async fn crlf_endings_and_a_leading_byte_order_mark_import_like_plain_lines() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let lines = valid_lines();
    let windows = format!("\u{feff}{}\r\n", lines.join("\r\n"));
    let path = dir.path().join("windows.jsonl");
    std::fs::write(&path, windows).unwrap();

    let report = import(&state, std::slice::from_ref(&path)).await.unwrap();

    assert_eq!(report.total_records(), lines.len() as u64);
    assert_eq!(report.lines, lines.len() as u64);
    assert_eq!(state.store.account(&acct("A1001")).await.unwrap().unwrap().full_name, "ZHANG Wei");

    // Two such files joined with `cat`: the second mark is inside the file.
    let joined = dir.path().join("joined.jsonl");
    let second = format!("\u{feff}{}\r\n", transaction("T-9", "A1001", "2026-01-09T12:00:00Z", "-1.00"));
    std::fs::write(&joined, [std::fs::read(&path).unwrap(), second.into_bytes()].concat()).unwrap();
    let (errors, total) = invalid(import(&state, &[joined]).await);
    assert_eq!(total, 1);
    assert_eq!(errors[0].0, lines.len() as u64 + 1);
    assert!(errors[0].1.contains("byte order mark (U+FEFF) may only start a file"), "{}", errors[0].1);
}
