//! Storage: the only place with SQL.
//!
//! One contract ([`Backend`] and [`ImportWriter`]), implemented for SQLite
//! (`sqlite.rs`, the embedded default) and PostgreSQL (`postgres.rs`,
//! production). Each has its own migrations under `migrations/`, applied at
//! start-up. [`Store`] is what the rest of the code holds; it dispatches to
//! whichever backend the database URL names. Queries are built at run time
//! with bound parameters (never string-formatted values).

/// The registry's columns that [`rows::report`] reads (the sealed PDF aside:
/// it is read only when asked for). A macro so both backends can `concat!`
/// it into `'static` SQL.
macro_rules! report_columns {
    () => {
        "report_number, code_hash, account_id, as_of, issued_at, valid_until, pdf_sha256, key_id, status, \
         revoked_at, revoked_reason, superseded_by, superseded_at, supersede_reason, key_facts_sealed"
    };
}

mod applications;
mod mail;
mod outbox;
mod postgres;
mod rows;
mod sqlite;
mod tx;

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::DatabaseSettings;
use crate::domain::{AccountId, BalancePoint, Bill, Currency, FxRate, ReportNumber, Transaction};

pub use applications::{
    ApplicationEventRow, ApplicationRow, ClaimedApplication, ConsentRow, EvidenceRow, Move, OtpRow,
};
pub use outbox::{AttemptOutcome, Claim, ClaimedMail, MailFilter, MailRow, NewMail, OUTBOX_CHANNEL};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use tx::Tx;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
    #[error("cannot open the database: {0}")]
    Open(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An account as stored: the passport number only sealed and blind-indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: AccountId,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub nationality: String,
    pub passport_sealed: Vec<u8>,
    pub passport_index: Vec<u8>,
    pub passport_country: String,
    pub phone: String,
    pub email: String,
    pub opened_on: NaiveDate,
    pub phone_since: NaiveDate,
    pub address_since: NaiveDate,
}

/// Money in and out of an account in one calendar month (UTC) and currency,
/// summed by the database. Transfers between the applicant's own holdings
/// (categories [`TRANSFER_CATEGORIES`]) are neither spending nor income.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyFlow {
    /// The first day of the month.
    pub month: NaiveDate,
    pub currency: Currency,
    /// Sum of money out, as a positive number of minor units (`i128`: a sum
    /// of many records may exceed what one record can hold).
    pub spending: i128,
    pub spending_count: i64,
    /// Sum of money in, minor units.
    pub income: i128,
    pub income_count: i64,
}

/// Spending in one category in one month and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySpending {
    pub month: NaiveDate,
    pub category: String,
    pub currency: Currency,
    /// Money out, positive minor units.
    pub spending: i128,
}

/// Transaction categories that move money between holdings or from outside
/// without being earned or spent. The SQL in both backends names them too.
pub const TRANSFER_CATEGORIES: [&str; 2] = ["transfer_in", "transfer_out"];

/// The same query on both backends; read back by [`rows::table_counts`].
const COUNTS_SQL: &str = "SELECT (SELECT count(*) FROM accounts) AS accounts, \
     (SELECT count(*) FROM transactions) AS transactions, (SELECT count(*) FROM balances) AS balances, \
     (SELECT count(*) FROM bills) AS bills, (SELECT count(*) FROM fx_rates) AS fx_rates";

/// How many rows each table holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableCounts {
    pub accounts: i64,
    pub transactions: i64,
    pub balances: i64,
    pub bills: i64,
    pub fx_rates: i64,
}

/// An issued report as the registry stores it, without its sealed PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub report_number: ReportNumber,
    /// HMAC-SHA256 of the verification code (see `crypto::FieldCipher::secret_digest`).
    pub code_hash: Vec<u8>,
    pub account_id: AccountId,
    pub as_of: NaiveDate,
    pub issued_at: DateTime<Utc>,
    pub valid_until: NaiveDate,
    pub pdf_sha256: Vec<u8>,
    pub key_id: String,
    /// `valid`, `revoked` or `superseded`.
    pub status: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub superseded_by: Option<String>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub supersede_reason: Option<String>,
    /// The sealed key facts; the report JSON is read apart ([`Store::report_json_sealed`]).
    pub key_facts_sealed: Vec<u8>,
}

/// A report to record; it starts `valid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub report_number: ReportNumber,
    pub code_hash: Vec<u8>,
    pub account_id: AccountId,
    pub as_of: NaiveDate,
    pub issued_at: DateTime<Utc>,
    pub valid_until: NaiveDate,
    pub pdf_sha256: Vec<u8>,
    pub key_id: String,
    pub report_json_sealed: Vec<u8>,
    pub key_facts_sealed: Vec<u8>,
    pub pdf_sealed: Vec<u8>,
}

/// The storage contract both backends implement. The rest of the crate uses
/// [`Store`], which forwards to the backend in use.
pub(crate) trait Backend {
    async fn migrate(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    async fn counts(&self) -> Result<TableCounts>;
    async fn begin_import(&self) -> Result<ImportTx>;
    async fn account(&self, id: &AccountId) -> Result<Option<AccountRow>>;
    /// Transactions with `from <= posted_at < to`, in posting order.
    async fn transactions(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Transaction>>;
    /// Money in and out per calendar month and currency for
    /// `from <= posted_at < to`, by month.
    async fn monthly_flows(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<MonthlyFlow>>;
    /// Spending per month, category and currency for `from <= posted_at <
    /// to` (transfers excluded), by month.
    async fn category_spending(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CategorySpending>>;
    /// End-of-day balances of every holding with `from <= date <= to`,
    /// ordered by holding then date.
    async fn balances_between(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<BalancePoint>>;
    /// Each of `holdings`' latest balance before `date`, in one statement.
    async fn balances_before(
        &self,
        account: &AccountId,
        holdings: &[&str],
        date: NaiveDate,
    ) -> Result<Vec<BalancePoint>>;
    /// The posting time of the account's latest transaction before `before`.
    async fn last_posted_before(&self, account: &AccountId, before: DateTime<Utc>) -> Result<Option<DateTime<Utc>>>;
    /// Bills with `from <= due_on <= to`, by due date.
    async fn bills(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<Bill>>;
    /// The latest rate from `base` to `quote` published on or before `date`.
    async fn fx_rate_on_or_before(&self, base: &str, quote: &str, date: NaiveDate) -> Result<Option<FxRate>>;

    // The registry of issued reports.
    async fn report(&self, number: &ReportNumber) -> Result<Option<ReportRow>>;
    /// The sealed `report.json` as issued, read apart from the row (it is
    /// large and only the field comparison of an upload needs it).
    async fn report_json_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>>;
    /// The sealed PDF as issued (`reports show --pdf`, exports).
    async fn report_pdf_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>>;
    /// The latest reports first, of one account or of all.
    async fn reports(&self, account: Option<&AccountId>, limit: u32) -> Result<Vec<ReportRow>>;
}

/// Writes of one import, all inside one database transaction: nothing is
/// visible to others until [`ImportTx::commit`], and dropping it without
/// committing rolls everything back.
///
/// Each upsert returns how many rows it inserted or changed; rows whose
/// stored values already equal the record are left untouched, so importing
/// the same file twice writes nothing the second time.
pub(crate) trait ImportWriter {
    async fn upsert_accounts(&mut self, rows: &[AccountRow], now: DateTime<Utc>) -> Result<u64>;
    async fn upsert_transactions(&mut self, rows: &[Transaction]) -> Result<u64>;
    async fn upsert_balances(&mut self, rows: &[BalancePoint]) -> Result<u64>;
    async fn upsert_bills(&mut self, rows: &[Bill]) -> Result<u64>;
    async fn upsert_fx_rates(&mut self, rows: &[FxRate]) -> Result<u64>;
    /// Which of `ids` name stored accounts (including ones written earlier in
    /// this transaction).
    async fn existing_accounts(&mut self, ids: &[String]) -> Result<Vec<String>>;
    async fn commit(self) -> Result<()>;
}

/// The store in use: SQLite or PostgreSQL. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// An open import transaction on either backend.
pub enum ImportTx {
    Sqlite(sqlite::SqliteImport),
    Postgres(postgres::PgImport),
}

macro_rules! dispatch {
    ($self:expr, $b:ident => $call:expr) => {
        match $self {
            Store::Sqlite($b) => $call,
            Store::Postgres($b) => $call,
        }
    };
}

macro_rules! dispatch_tx {
    ($self:expr, $b:ident => $call:expr) => {
        match $self {
            ImportTx::Sqlite($b) => $call,
            ImportTx::Postgres($b) => $call,
        }
    };
}

impl Store {
    /// Opens (creating a SQLite file and its directory if needed) and
    /// migrates the database the settings name.
    pub async fn open(settings: &DatabaseSettings) -> Result<Self> {
        let url = &settings.url;
        let store = if url.is_postgres() {
            Store::Postgres(PgStore::connect(url.expose(), settings.max_connections).await?)
        } else if url.is_sqlite() {
            Store::Sqlite(SqliteStore::connect(url.expose(), settings.max_connections).await?)
        } else {
            return Err(StoreError::Open(format!("unsupported database url {}", url.redacted())));
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        dispatch!(self, b => b.migrate().await)
    }

    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, b => b.ping().await)
    }

    pub async fn counts(&self) -> Result<TableCounts> {
        dispatch!(self, b => b.counts().await)
    }

    pub async fn begin_import(&self) -> Result<ImportTx> {
        dispatch!(self, b => b.begin_import().await)
    }

    pub async fn account(&self, id: &AccountId) -> Result<Option<AccountRow>> {
        dispatch!(self, b => b.account(id).await)
    }

    pub async fn transactions(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Transaction>> {
        dispatch!(self, b => b.transactions(account, from, to).await)
    }

    pub async fn monthly_flows(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<MonthlyFlow>> {
        dispatch!(self, b => b.monthly_flows(account, from, to).await)
    }

    pub async fn category_spending(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CategorySpending>> {
        dispatch!(self, b => b.category_spending(account, from, to).await)
    }

    /// End-of-day balances of every holding with `from <= date <= to`,
    /// ordered by holding then date; a holding whose first balance in the
    /// range comes after `from` also brings its latest balance before `from`,
    /// so callers can carry it into the range. (A holding with no balance in
    /// the range is taken as no longer held.)
    ///
    /// Two statements at most, whatever the number of holdings: the range,
    /// then (only when some holding starts after `from`, which daily data
    /// never does) the carry-ins of those holdings together.
    pub async fn balances(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<BalancePoint>> {
        let window = dispatch!(self, b => b.balances_between(account, from, to).await)?;
        let late: Vec<&str> = window
            .chunk_by(|a, b| a.holding == b.holding)
            .filter(|h| h.first().is_some_and(|first| first.date > from))
            .map(|h| h[0].holding.as_str())
            .collect();
        if late.is_empty() {
            return Ok(window);
        }
        let before = dispatch!(self, b => b.balances_before(account, &late, from).await)?;
        let mut out = Vec::with_capacity(window.len() + before.len());
        let mut carry = before.into_iter().peekable();
        for holding in window.chunk_by(|a, b| a.holding == b.holding) {
            if let Some(p) = carry.next_if(|p| p.holding == holding[0].holding) {
                out.push(p);
            }
            out.extend_from_slice(holding);
        }
        Ok(out)
    }

    /// See [`Backend::last_posted_before`].
    pub async fn last_posted_before(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        dispatch!(self, b => b.last_posted_before(account, before).await)
    }

    pub async fn bills(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<Bill>> {
        dispatch!(self, b => b.bills(account, from, to).await)
    }

    pub async fn fx_rate_on_or_before(&self, base: &str, quote: &str, date: NaiveDate) -> Result<Option<FxRate>> {
        dispatch!(self, b => b.fx_rate_on_or_before(base, quote, date).await)
    }

    pub async fn report(&self, number: &ReportNumber) -> Result<Option<ReportRow>> {
        dispatch!(self, b => b.report(number).await)
    }

    pub async fn report_json_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>> {
        dispatch!(self, b => b.report_json_sealed(number).await)
    }

    pub async fn report_pdf_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>> {
        dispatch!(self, b => b.report_pdf_sealed(number).await)
    }

    pub async fn reports(&self, account: Option<&AccountId>, limit: u32) -> Result<Vec<ReportRow>> {
        dispatch!(self, b => b.reports(account, limit).await)
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }
}

impl ImportTx {
    pub async fn upsert_accounts(&mut self, rows: &[AccountRow], now: DateTime<Utc>) -> Result<u64> {
        dispatch_tx!(self, t => t.upsert_accounts(rows, now).await)
    }

    pub async fn upsert_transactions(&mut self, rows: &[Transaction]) -> Result<u64> {
        dispatch_tx!(self, t => t.upsert_transactions(rows).await)
    }

    pub async fn upsert_balances(&mut self, rows: &[BalancePoint]) -> Result<u64> {
        dispatch_tx!(self, t => t.upsert_balances(rows).await)
    }

    pub async fn upsert_bills(&mut self, rows: &[Bill]) -> Result<u64> {
        dispatch_tx!(self, t => t.upsert_bills(rows).await)
    }

    pub async fn upsert_fx_rates(&mut self, rows: &[FxRate]) -> Result<u64> {
        dispatch_tx!(self, t => t.upsert_fx_rates(rows).await)
    }

    pub async fn existing_accounts(&mut self, ids: &[String]) -> Result<Vec<String>> {
        dispatch_tx!(self, t => t.existing_accounts(ids).await)
    }

    pub async fn commit(self) -> Result<()> {
        dispatch_tx!(self, t => t.commit().await)
    }
}

/// Helpers shared by both backends for turning stored text back into
/// checked domain values.
pub(crate) mod decode {
    use super::{Result, StoreError};
    use crate::domain::{AccountId, Currency, HoldingKind, Money, Rate, RecordId, ReportNumber};

    pub fn id(s: &str) -> Result<RecordId> {
        RecordId::parse(s).map_err(|e| StoreError::Corrupt(e.0))
    }

    pub fn account_id(s: &str) -> Result<AccountId> {
        AccountId::parse(s).map_err(|e| StoreError::Corrupt(e.0))
    }

    pub fn report_number(s: &str) -> Result<ReportNumber> {
        ReportNumber::parse(s).map_err(|e| StoreError::Corrupt(format!("report number `{s}`: {}", e.0)))
    }

    pub fn currency(s: &str) -> Result<Currency> {
        Currency::from_code(s).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    pub fn money(minor: i64, currency_code: &str) -> Result<Money> {
        Ok(Money::from_minor(minor, currency(currency_code)?))
    }

    pub fn kind(s: &str) -> Result<HoldingKind> {
        HoldingKind::parse(s).map_err(|e| StoreError::Corrupt(e.0))
    }

    /// `2026-01` → 2026-01-01.
    pub fn month(s: &str) -> Result<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("month `{s}`: {e}")))
    }

    pub fn rate(s: &str) -> Result<Rate> {
        Rate::parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}
