//! The storage story: write through an import transaction, read ranges back,
//! upsert changes. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.

use chrono::{NaiveDate, TimeZone, Utc};
use standing::domain::{Currency, Money};
use standing::import::passport_context;

use crate::helpers::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[tokio::test]
async fn storage_story() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();

    // Arrange: one account with data spread over three months.
    let file = write_file(
        dir.path(),
        "data.jsonl",
        &[
            account("A1001", "Zoë Łucja ŌTSUKA-NÚÑEZ", "E12345678"),
            transaction("T-1", "A1001", "2026-01-03T12:00:00Z", "-125.40"),
            transaction("T-2", "A1001", "2026-01-31T23:59:59.5Z", "-10.00"),
            transaction("T-3", "A1001", "2026-02-01T00:00:00Z", "8000.00"),
            transaction("T-4", "A1001", "2026-03-10T08:30:00+08:00", "-99.99"),
            balance("A1001", "H-1", "savings", "2026-01-31", "52000.00", "CNY"),
            balance("A1001", "H-1", "savings", "2026-02-28", "53000.00", "CNY"),
            balance("A1001", "H-2", "current", "2026-02-28", "1500.50", "USD"),
            bill("B-1", "A1001", "2026-01-15", Some("2026-01-14")),
            bill("B-2", "A1001", "2026-02-15", None),
            fx_rate("CNY", "CAD", "2026-01-31", "0.1901"),
            fx_rate("CNY", "CAD", "2026-02-27", "0.1932"),
        ],
    );

    // Act
    let report = import(&state, &[file]).await.unwrap();

    // Assert: counts, and reads by range come back exact.
    assert_eq!(report.total_records(), 12);
    let counts = state.store.counts().await.unwrap();
    assert_eq!((counts.accounts, counts.transactions, counts.balances, counts.bills, counts.fx_rates), (1, 4, 3, 2, 2));

    let stored = state.store.account(&acct("A1001")).await.unwrap().unwrap();
    assert_eq!(stored.full_name, "Zoë Łucja ŌTSUKA-NÚÑEZ");
    assert_eq!(stored.date_of_birth, d("1990-04-12"));
    // The passport number is stored sealed, and opens with the key.
    assert!(!stored.passport_sealed.windows(9).any(|w| w == b"E12345678"));
    let cipher = master_key().field_cipher();
    assert_eq!(cipher.open(&stored.passport_sealed, &passport_context("A1001")).unwrap(), b"E12345678");
    assert_eq!(stored.passport_index, cipher.blind_index("passport", "E12345678").to_vec());
    assert!(state.store.account(&acct("A9999")).await.unwrap().is_none());

    let january = state
        .store
        .transactions(
            &acct("A1001"),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
        )
        .await
        .unwrap();
    let ids: Vec<_> = january.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T-1", "T-2"], "the range is [from, to)");
    assert_eq!(january[0].amount, Money::from_minor(-12540, Currency::CNY));
    assert_eq!(january[0].merchant.as_deref(), Some("盒马鲜生 Hema"));
    assert_eq!(
        january[1].posted_at,
        Utc.with_ymd_and_hms(2026, 1, 31, 23, 59, 59).unwrap() + chrono::Duration::milliseconds(500)
    );

    let march = state
        .store
        .transactions(
            &acct("A1001"),
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        march[0].posted_at,
        Utc.with_ymd_and_hms(2026, 3, 10, 0, 30, 0).unwrap(),
        "offsets are converted to UTC"
    );

    let balances = state.store.balances(&acct("A1001"), d("2026-02-01"), d("2026-02-28")).await.unwrap();
    let got: Vec<_> = balances.iter().map(|b| (b.holding.as_str(), b.date, b.amount.to_string())).collect();
    assert_eq!(
        got,
        [
            // H-1's last balance before the range comes along, to carry in.
            ("H-1", d("2026-01-31"), "CNY 52,000.00".to_owned()),
            ("H-1", d("2026-02-28"), "CNY 53,000.00".to_owned()),
            ("H-2", d("2026-02-28"), "USD 1,500.50".to_owned()),
        ]
    );

    let bills = state.store.bills(&acct("A1001"), d("2026-01-01"), d("2026-12-31")).await.unwrap();
    assert_eq!(bills.len(), 2);
    assert_eq!(bills[0].paid_on, Some(d("2026-01-14")));
    assert_eq!(bills[1].paid_on, None);

    let rate = state.store.fx_rate_on_or_before("CNY", "CAD", d("2026-02-20")).await.unwrap().unwrap();
    assert_eq!((rate.date, rate.rate.to_string()), (d("2026-01-31"), "0.1901".to_owned()));
    let rate = state.store.fx_rate_on_or_before("CNY", "CAD", d("2026-11-20")).await.unwrap().unwrap();
    assert_eq!(rate.rate.to_string(), "0.1932");
    assert!(state.store.fx_rate_on_or_before("CNY", "CAD", d("2025-12-31")).await.unwrap().is_none());
    assert!(state.store.fx_rate_on_or_before("USD", "CAD", d("2026-11-20")).await.unwrap().is_none());

    // Upsert: a changed record replaces the stored one; the rest stay.
    let changed = write_file(
        dir.path(),
        "changed.jsonl",
        &[
            transaction("T-1", "A1001", "2026-01-03T12:00:00Z", "-130.00"),
            bill("B-2", "A1001", "2026-02-15", Some("2026-02-20")),
            account("A1001", "Zoë Łucja ŌTSUKA-NÚÑEZ", "EA7654321"),
        ],
    );
    let report = import(&state, &[changed]).await.unwrap();
    assert_eq!(report.records["transaction"].written, 1);
    let t1 = state
        .store
        .transactions(
            &acct("A1001"),
            Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 4, 0, 0, 0).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(t1[0].amount.minor(), -13000);
    let bills = state.store.bills(&acct("A1001"), d("2026-02-01"), d("2026-02-28")).await.unwrap();
    assert_eq!(bills[0].paid_on, Some(d("2026-02-20")));
    let stored = state.store.account(&acct("A1001")).await.unwrap().unwrap();
    assert_eq!(cipher.open(&stored.passport_sealed, &passport_context("A1001")).unwrap(), b"EA7654321");
    let counts = state.store.counts().await.unwrap();
    assert_eq!((counts.transactions, counts.bills), (4, 2));
}

#[tokio::test]
async fn readiness_reports_the_backend() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.store.ping().await.unwrap();
    assert_eq!(state.store.backend_name(), if db.is_postgres() { "postgres" } else { "sqlite" });
    // Migrating again is a no-op.
    state.store.migrate().await.unwrap();
}

#[tokio::test]
async fn monthly_flows_are_summed_by_the_database() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "flows.jsonl",
        &[
            account("A1001", "ZHANG Wei", "E12345678"),
            transaction("T-1", "A1001", "2026-01-03T12:00:00Z", "-125.40"),
            transaction("T-2", "A1001", "2026-01-31T23:59:59Z", "-10.00"),
            transaction("T-3", "A1001", "2026-01-15T00:00:00Z", "8000.00"),
            // 2026-02-01 07:00 in Shanghai is still January 31 in UTC.
            transaction("T-4", "A1001", "2026-02-01T07:00:00+08:00", "-1.00"),
            transaction("T-5", "A1001", "2026-02-01T08:00:00+08:00", "-2.00"),
            transaction("T-6", "A1001", "2026-03-01T00:00:00Z", "-999.00"),
            // Moving money to one's own savings is not spending.
            transaction("T-7", "A1001", "2026-01-20T00:00:00Z", "-5000.00").replace("groceries", "transfer_out"),
            transaction("T-8", "A1001", "2026-01-21T00:00:00Z", "200000.00").replace("groceries", "transfer_in"),
        ],
    );
    import(&state, &[file]).await.unwrap();

    let flows = state
        .store
        .monthly_flows(
            &acct("A1001"),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
        )
        .await
        .unwrap();

    let got: Vec<_> = flows.iter().map(|f| (f.month, f.spending, f.spending_count, f.income, f.income_count)).collect();
    assert_eq!(got, [(d("2026-01-01"), 13640, 3, 800000, 1), (d("2026-02-01"), 200, 1, 0, 0)]);
    assert_eq!(flows[0].currency, Currency::CNY);
}

/// The SQLite file holds personal data: it and the `-wal`/`-shm` files
/// SQLite makes beside it are private to the service's user, like the key
/// files, and so is the directory when we create it. SQLite only; the
/// PostgreSQL server keeps its own files.
#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_files_are_private_to_their_user() {
    use standing::config::{DatabaseUrl, Secret, Settings};
    use standing::store::Store;
    use std::os::unix::fs::PermissionsExt;

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var").join("db");
    let path = data.join("standing.db");
    let mut settings = Settings::default();
    settings.database.url = DatabaseUrl::new(format!("sqlite:{}", path.display()));
    settings.database.max_connections = 2;
    settings.data_dir = dir.path().join("var");
    settings.master_key = Some(Secret::new(MASTER_KEY));

    // Open (which migrates: the first writes) and import, so that the
    // write-ahead log and its index exist.
    let state = standing::web::AppState::open(settings.clone(), clock()).await.unwrap();
    let file = write_file(dir.path(), "a.jsonl", &[account("A1001", "ZHANG Wei", "E12345678")]);
    import(&state, &[file]).await.unwrap();

    for name in ["standing.db", "standing.db-wal", "standing.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&dir.path().join("var")), 0o700);
    state.store.close().await;

    // A database left readable by others (as versions before this one made
    // it) is narrowed when it is opened again.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&settings.database).await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(mode(&path), 0o600);
    store.close().await;
}
