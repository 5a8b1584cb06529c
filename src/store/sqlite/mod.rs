//! The SQLite backend: the embedded default, one file under `var/`.
//!
//! WAL journal so readers never wait for the importer; `BEGIN IMMEDIATE` for
//! writes so two writers queue on the lock instead of failing half-way.
//! Timestamps are stored as fixed-width RFC 3339 UTC text
//! (`2026-01-03T12:00:00.000000Z`) so that text order is time order.
//!
//! The database holds personal data (names, dates of birth, phones,
//! transactions), so on Unix its file is private to the service's user like
//! the key files: created with mode 0600 before SQLite opens it (SQLite gives
//! the `-wal` and `-shm` files it creates the database file's mode), in a
//! directory created 0700 when we create it. A database left readable by
//! others by an older version is narrowed to 0600 on open, with a warning.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Sqlite, SqlitePool, Transaction as DbTx};

use super::rows::StoreRow;
use super::{
    AccountRow, Backend, CategorySpending, ImportTx, ImportWriter, MonthlyFlow, NewReport, ReportRow, Result,
    StoreError, TableCounts,
};
use super::{COUNTS_SQL, rows};
use crate::domain::{AccountId, BalancePoint, Bill, FxRate, ReportNumber, Transaction};

pub(super) mod outbox;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite accepts at most 32,766 bound parameters in one statement.
const MAX_PARAMS: usize = 32_766;

const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub(in crate::store) fn timestamp(t: DateTime<Utc>) -> String {
    t.format(TIMESTAMP_FORMAT).to_string()
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

pub struct SqliteImport(DbTx<'static, Sqlite>);

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = options.to_url_lossy().query_pairs().any(|(k, v)| k == "mode" && v == "memory");
        let path = options.get_filename();
        if !in_memory && !path.as_os_str().is_empty() {
            create_private_file(path)?;
        }
        let pool = SqlitePoolOptions::new().max_connections(max_connections.max(1)).connect_with(options).await?;
        Ok(SqliteStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Creates the database file (and its directory) private to this user
/// before SQLite opens it, or narrows an existing one that others can read.
fn create_private_file(path: &Path) -> Result<()> {
    let open_error = |what: &str, p: &Path, e: std::io::Error| StoreError::Open(format!("{what} {}: {e}", p.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| open_error("creating", dir, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        // An empty file is an empty database to SQLite.
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => narrow_existing(path),
        Err(e) => Err(open_error("creating", path, e)),
    }
}

/// A database file (or its `-wal`/`-shm`, which SQLite reuses) that group
/// or others may read is set to 0600, once, with a warning: files from
/// before modes were set.
fn narrow_existing(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = Path::new(&name);
            let Ok(meta) = std::fs::metadata(file) else { continue };
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_file() && mode & 0o077 != 0 {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| StoreError::Open(format!("narrowing the mode of {}: {e}", file.display())))?;
                tracing::warn!(path = %file.display(), old_mode = %format!("{mode:o}"), "database file was readable by other users; its mode is now 600");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `INSERT INTO table (cols) VALUES (?, ...), ... ON CONFLICT (key) DO UPDATE
/// SET col = excluded.col ... WHERE <any column differs>`: an upsert that
/// leaves identical rows alone, so `rows_affected` counts real changes.
fn upsert_sql(table: &str, cols: &[&str], key: &[&str], rows: usize) -> String {
    let tuple = format!("({})", vec!["?"; cols.len()].join(", "));
    let values = vec![tuple.as_str(); rows].join(", ");
    let updates: Vec<&str> = cols.iter().copied().filter(|c| !key.contains(c)).collect();
    let set = updates.iter().map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ");
    let differs = updates.iter().map(|c| format!("{table}.{c} IS NOT excluded.{c}")).collect::<Vec<_>>().join(" OR ");
    format!(
        "INSERT INTO {table} ({}) VALUES {values} ON CONFLICT ({}) DO UPDATE SET {set} WHERE {differs}",
        cols.join(", "),
        key.join(", ")
    )
}

impl Backend for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn counts(&self) -> Result<TableCounts> {
        let row = sqlx::query(COUNTS_SQL).fetch_one(&self.pool).await?;
        rows::table_counts(&row)
    }

    async fn begin_import(&self) -> Result<ImportTx> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(ImportTx::Sqlite(SqliteImport(tx)))
    }

    async fn account(&self, id: &AccountId) -> Result<Option<AccountRow>> {
        let row = sqlx::query(
            "SELECT id, full_name, date_of_birth, nationality, passport_sealed, passport_index, \
             passport_country, phone, email, opened_on, phone_since, address_since FROM accounts WHERE id = ?",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn transactions(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Transaction>> {
        let rows = sqlx::query(
            "SELECT id, account_id, posted_at, amount_minor, currency, category, merchant FROM transactions \
             WHERE account_id = ? AND posted_at >= ? AND posted_at < ? ORDER BY posted_at, id",
        )
        .bind(account.as_str())
        .bind(timestamp(from))
        .bind(timestamp(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::transaction).collect()
    }

    async fn monthly_flows(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<MonthlyFlow>> {
        let rows = sqlx::query(
            "SELECT substr(posted_at, 1, 7) AS month, currency, \
                 COALESCE(SUM(CASE WHEN amount_minor < 0 THEN (-amount_minor) >> 32 ELSE 0 END), 0) AS spending_hi, \
                 COALESCE(SUM(CASE WHEN amount_minor < 0 THEN (-amount_minor) & 4294967295 ELSE 0 END), 0) AS spending_lo, \
                 COUNT(CASE WHEN amount_minor < 0 THEN 1 END) AS spending_count, \
                 COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor >> 32 ELSE 0 END), 0) AS income_hi, \
                 COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor & 4294967295 ELSE 0 END), 0) AS income_lo, \
                 COUNT(CASE WHEN amount_minor > 0 THEN 1 END) AS income_count \
             FROM transactions WHERE account_id = ? AND category NOT IN ('transfer_in', 'transfer_out') \
               AND posted_at >= ? AND posted_at < ? \
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(account.as_str())
        .bind(timestamp(from))
        .bind(timestamp(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::monthly_flow).collect()
    }

    async fn category_spending(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CategorySpending>> {
        let rows = sqlx::query(
            "SELECT substr(posted_at, 1, 7) AS month, category, currency, \
                 SUM((-amount_minor) >> 32) AS spending_hi, SUM((-amount_minor) & 4294967295) AS spending_lo \
             FROM transactions WHERE account_id = ? AND amount_minor < 0 \
               AND category NOT IN ('transfer_in', 'transfer_out') AND posted_at >= ? AND posted_at < ? \
             GROUP BY 1, 2, 3 ORDER BY 1, 2",
        )
        .bind(account.as_str())
        .bind(timestamp(from))
        .bind(timestamp(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::category_spending).collect()
    }

    async fn balances_between(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<BalancePoint>> {
        let rows = sqlx::query(
            "SELECT account_id, holding, kind, date, amount_minor, currency, institution FROM balances \
             WHERE account_id = ? AND date >= ? AND date <= ? ORDER BY holding, date",
        )
        .bind(account.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::balance).collect()
    }

    async fn balances_before(
        &self,
        account: &AccountId,
        holdings: &[&str],
        date: NaiveDate,
    ) -> Result<Vec<BalancePoint>> {
        let marks = vec!["?"; holdings.len()].join(", ");
        let sql = format!(
            "SELECT b.account_id, b.holding, b.kind, b.date, b.amount_minor, b.currency, b.institution \
             FROM (SELECT holding, MAX(date) AS last FROM balances \
                   WHERE account_id = ? AND holding IN ({marks}) AND date < ? GROUP BY holding) m \
             JOIN balances b ON b.account_id = ? AND b.holding = m.holding AND b.date = m.last \
             ORDER BY b.holding"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(account.as_str());
        for h in holdings {
            q = q.bind(*h);
        }
        let rows = q.bind(date).bind(account.as_str()).fetch_all(&self.pool).await?;
        rows.iter().map(rows::balance).collect()
    }

    async fn last_posted_before(&self, account: &AccountId, before: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT MAX(posted_at) AS last FROM transactions WHERE account_id = ? AND posted_at < ?")
            .bind(account.as_str())
            .bind(timestamp(before))
            .fetch_one(&self.pool)
            .await?;
        row.optional_timestamp("last")
    }

    async fn bills(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<Bill>> {
        let rows = sqlx::query(
            "SELECT id, account_id, biller, kind, due_on, amount_minor, currency, paid_on FROM bills \
             WHERE account_id = ? AND due_on >= ? AND due_on <= ? ORDER BY due_on, id",
        )
        .bind(account.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::bill).collect()
    }

    async fn fx_rate_on_or_before(&self, base: &str, quote: &str, date: NaiveDate) -> Result<Option<FxRate>> {
        let row = sqlx::query(
            "SELECT base, quote, date, rate, source FROM fx_rates \
             WHERE base = ? AND quote = ? AND date <= ? ORDER BY date DESC LIMIT 1",
        )
        .bind(base)
        .bind(quote)
        .bind(date)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::fx_rate).transpose()
    }

    async fn report(&self, number: &ReportNumber) -> Result<Option<ReportRow>> {
        let row = sqlx::query(concat!("SELECT ", report_columns!(), " FROM reports WHERE report_number = ?"))
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::report).transpose()
    }

    async fn report_json_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>> {
        let json = sqlx::query_scalar("SELECT report_json_sealed FROM reports WHERE report_number = ?")
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(json)
    }

    async fn report_pdf_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>> {
        let pdf = sqlx::query_scalar("SELECT pdf_sealed FROM reports WHERE report_number = ?")
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(pdf)
    }

    async fn reports(&self, account: Option<&AccountId>, limit: u32) -> Result<Vec<ReportRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            report_columns!(),
            " FROM reports WHERE (?1 IS NULL OR account_id = ?1) ORDER BY issued_at DESC, report_number LIMIT ?2"
        ))
        .bind(account.map(AccountId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::report).collect()
    }
}

pub(super) async fn insert_report(tx: &mut DbTx<'static, Sqlite>, r: &NewReport) -> Result<()> {
    insert_report_query(r).execute(&mut **tx).await?;
    Ok(())
}

pub(super) async fn revoke_report(
    tx: &mut DbTx<'static, Sqlite>,
    number: &ReportNumber,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE reports SET status = 'revoked', revoked_at = ?, revoked_reason = ? \
         WHERE report_number = ? AND status = 'valid'",
    )
    .bind(timestamp(at))
    .bind(reason)
    .bind(number.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `new` and marks `old` superseded by it; false when `old` was not
/// valid (the caller rolls back).
pub(super) async fn supersede_report(
    tx: &mut DbTx<'static, Sqlite>,
    old: &ReportNumber,
    new: &NewReport,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    insert_report_query(new).execute(&mut **tx).await?;
    let done = sqlx::query(
        "UPDATE reports SET status = 'superseded', superseded_by = ?, superseded_at = ?, supersede_reason = ? \
         WHERE report_number = ? AND status = 'valid'",
    )
    .bind(new.report_number.to_string())
    .bind(timestamp(at))
    .bind(reason)
    .bind(old.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn insert_report_query(r: &NewReport) -> SqliteQuery<'_> {
    sqlx::query(
        "INSERT INTO reports (report_number, code_hash, account_id, as_of, issued_at, valid_until, pdf_sha256, \
             key_id, status, report_json_sealed, key_facts_sealed, pdf_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'valid', ?, ?, ?)",
    )
    .bind(r.report_number.to_string())
    .bind(r.code_hash.as_slice())
    .bind(r.account_id.as_str())
    .bind(r.as_of)
    .bind(timestamp(r.issued_at))
    .bind(r.valid_until)
    .bind(r.pdf_sha256.as_slice())
    .bind(r.key_id.as_str())
    .bind(r.report_json_sealed.as_slice())
    .bind(r.key_facts_sealed.as_slice())
    .bind(r.pdf_sealed.as_slice())
}

type SqliteQuery<'a> = sqlx::query::Query<'a, Sqlite, sqlx::sqlite::SqliteArguments>;

/// Runs one upsert per chunk of rows that fits SQLite's parameter limit.
async fn upsert_chunks<T>(
    tx: &mut DbTx<'static, Sqlite>,
    table: &str,
    cols: &[&str],
    key: &[&str],
    rows: &[T],
    bind: impl for<'a> Fn(SqliteQuery<'a>, &'a T) -> SqliteQuery<'a>,
) -> Result<u64> {
    let mut changed = 0;
    for chunk in rows.chunks(MAX_PARAMS / cols.len()) {
        let sql = upsert_sql(table, cols, key, chunk.len());
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in chunk {
            query = bind(query, row);
        }
        changed += query.execute(&mut **tx).await?.rows_affected();
    }
    Ok(changed)
}

impl ImportWriter for SqliteImport {
    async fn upsert_accounts(&mut self, rows: &[AccountRow], now: DateTime<Utc>) -> Result<u64> {
        // The sealed passport changes on every encryption (fresh nonce), so it
        // is only replaced when the blind index says the number itself changed.
        let cols = [
            "id",
            "full_name",
            "date_of_birth",
            "nationality",
            "passport_sealed",
            "passport_index",
            "passport_country",
            "phone",
            "email",
            "opened_on",
            "phone_since",
            "address_since",
            "updated_at",
        ];
        let now = timestamp(now);
        let mut changed = 0;
        for chunk in rows.chunks(MAX_PARAMS / cols.len()) {
            let tuple = format!("({})", vec!["?"; cols.len()].join(", "));
            let sql = format!(
                "INSERT INTO accounts ({}) VALUES {} ON CONFLICT (id) DO UPDATE SET \
                 full_name = excluded.full_name, date_of_birth = excluded.date_of_birth, \
                 nationality = excluded.nationality, \
                 passport_sealed = CASE WHEN accounts.passport_index = excluded.passport_index \
                     THEN accounts.passport_sealed ELSE excluded.passport_sealed END, \
                 passport_index = excluded.passport_index, passport_country = excluded.passport_country, \
                 phone = excluded.phone, email = excluded.email, opened_on = excluded.opened_on, \
                 phone_since = excluded.phone_since, address_since = excluded.address_since, \
                 updated_at = excluded.updated_at \
                 WHERE accounts.full_name IS NOT excluded.full_name \
                 OR accounts.date_of_birth IS NOT excluded.date_of_birth \
                 OR accounts.nationality IS NOT excluded.nationality \
                 OR accounts.passport_index IS NOT excluded.passport_index \
                 OR accounts.passport_country IS NOT excluded.passport_country \
                 OR accounts.phone IS NOT excluded.phone OR accounts.email IS NOT excluded.email \
                 OR accounts.opened_on IS NOT excluded.opened_on \
                 OR accounts.phone_since IS NOT excluded.phone_since \
                 OR accounts.address_since IS NOT excluded.address_since",
                cols.join(", "),
                vec![tuple.as_str(); chunk.len()].join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(a.id.as_str())
                    .bind(&a.full_name)
                    .bind(a.date_of_birth)
                    .bind(&a.nationality)
                    .bind(&a.passport_sealed)
                    .bind(&a.passport_index)
                    .bind(&a.passport_country)
                    .bind(&a.phone)
                    .bind(&a.email)
                    .bind(a.opened_on)
                    .bind(a.phone_since)
                    .bind(a.address_since)
                    .bind(now.clone());
            }
            changed += q.execute(&mut *self.0).await?.rows_affected();
        }
        Ok(changed)
    }

    async fn upsert_transactions(&mut self, rows: &[Transaction]) -> Result<u64> {
        upsert_chunks(
            &mut self.0,
            "transactions",
            &["id", "account_id", "posted_at", "amount_minor", "currency", "category", "merchant"],
            &["id"],
            rows,
            |q, t| {
                q.bind(t.id.as_str())
                    .bind(t.account.as_str())
                    .bind(timestamp(t.posted_at))
                    .bind(t.amount.minor())
                    .bind(t.amount.currency().code())
                    .bind(t.category.as_str())
                    .bind(t.merchant.as_deref())
            },
        )
        .await
    }

    async fn upsert_balances(&mut self, rows: &[BalancePoint]) -> Result<u64> {
        upsert_chunks(
            &mut self.0,
            "balances",
            &["account_id", "holding", "kind", "date", "amount_minor", "currency", "institution"],
            &["account_id", "holding", "date"],
            rows,
            |q, b| {
                q.bind(b.account.as_str())
                    .bind(b.holding.as_str())
                    .bind(b.kind.as_str())
                    .bind(b.date)
                    .bind(b.amount.minor())
                    .bind(b.amount.currency().code())
                    .bind(b.institution.as_deref())
            },
        )
        .await
    }

    async fn upsert_bills(&mut self, rows: &[Bill]) -> Result<u64> {
        upsert_chunks(
            &mut self.0,
            "bills",
            &["id", "account_id", "biller", "kind", "due_on", "amount_minor", "currency", "paid_on"],
            &["id"],
            rows,
            |q, b| {
                q.bind(b.id.as_str())
                    .bind(b.account.as_str())
                    .bind(b.biller.as_str())
                    .bind(b.kind.as_str())
                    .bind(b.due_on)
                    .bind(b.amount.minor())
                    .bind(b.amount.currency().code())
                    .bind(b.paid_on)
            },
        )
        .await
    }

    async fn upsert_fx_rates(&mut self, rows: &[FxRate]) -> Result<u64> {
        upsert_chunks(
            &mut self.0,
            "fx_rates",
            &["base", "quote", "date", "rate", "source"],
            &["base", "quote", "date"],
            rows,
            |q, r| {
                q.bind(r.base.code()).bind(r.quote.code()).bind(r.date).bind(r.rate.to_string()).bind(r.source.as_str())
            },
        )
        .await
    }

    async fn existing_accounts(&mut self, ids: &[String]) -> Result<Vec<String>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!("SELECT id FROM accounts WHERE id IN ({})", vec!["?"; chunk.len()].join(", "));
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.as_str());
            }
            found.extend(q.fetch_all(&mut *self.0).await?);
        }
        Ok(found)
    }

    async fn commit(self) -> Result<()> {
        self.0.commit().await?;
        Ok(())
    }
}
