//! The PostgreSQL backend: production, shared by several instances.
//!
//! Bulk writes bind one array per column and insert `FROM UNNEST(...)`, so a
//! batch of thousands of rows is one statement with a handful of parameters.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction as DbTx};

use super::rows::StoreRow;
use super::{
    AccountRow, Backend, CategorySpending, ImportTx, ImportWriter, MonthlyFlow, NewReport, ReportRow, Result,
    TableCounts,
};
use super::{COUNTS_SQL, rows};
use crate::domain::{AccountId, BalancePoint, Bill, FxRate, ReportNumber, Transaction};

pub(super) mod outbox;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

pub struct PgImport {
    tx: DbTx<'static, Postgres>,
    /// The secondary index on transactions was dropped for a first load and
    /// must be built again before commit.
    rebuild_transactions_index: bool,
}

/// Must match `migrations/postgres`: dropped and rebuilt around a first load.
const TRANSACTIONS_INDEX: &str = "CREATE INDEX transactions_account_posted ON transactions (account_id, posted_at)";

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("standing");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(PgStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Backend for PgStore {
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
        let mut tx = self.pool.begin().await?;
        // A first load into an empty table: building the secondary index once
        // at the end (a sort) is far cheaper than maintaining it row by row,
        // and PostgreSQL's single backend is the import's bottleneck. The
        // drop is part of the transaction, so a rollback restores the index;
        // until commit the table is locked, which costs nothing while empty.
        let empty: bool =
            sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM transactions)").fetch_one(&mut *tx).await?;
        if empty {
            sqlx::query("DROP INDEX transactions_account_posted").execute(&mut *tx).await?;
        }
        Ok(ImportTx::Postgres(PgImport { tx, rebuild_transactions_index: empty }))
    }

    async fn account(&self, id: &AccountId) -> Result<Option<AccountRow>> {
        let row = sqlx::query(
            "SELECT id, full_name, date_of_birth, nationality, passport_sealed, passport_index, \
             passport_country, phone, email, opened_on, phone_since, address_since FROM accounts WHERE id = $1",
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
             WHERE account_id = $1 AND posted_at >= $2 AND posted_at < $3 ORDER BY posted_at, id",
        )
        .bind(account.as_str())
        .bind(from)
        .bind(to)
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
            "SELECT to_char(posted_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, currency, \
                 COALESCE(SUM(CASE WHEN amount_minor < 0 THEN (-amount_minor) >> 32 ELSE 0 END), 0)::int8 AS spending_hi, \
                 COALESCE(SUM(CASE WHEN amount_minor < 0 THEN (-amount_minor) & 4294967295 ELSE 0 END), 0)::int8 AS spending_lo, \
                 COUNT(CASE WHEN amount_minor < 0 THEN 1 END) AS spending_count, \
                 COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor >> 32 ELSE 0 END), 0)::int8 AS income_hi, \
                 COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor & 4294967295 ELSE 0 END), 0)::int8 AS income_lo, \
                 COUNT(CASE WHEN amount_minor > 0 THEN 1 END) AS income_count \
             FROM transactions WHERE account_id = $1 AND category NOT IN ('transfer_in', 'transfer_out') \
               AND posted_at >= $2 AND posted_at < $3 \
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(account.as_str())
        .bind(from)
        .bind(to)
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
            "SELECT to_char(posted_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, category, currency, \
                 SUM((-amount_minor) >> 32)::int8 AS spending_hi, SUM((-amount_minor) & 4294967295)::int8 AS spending_lo \
             FROM transactions WHERE account_id = $1 AND amount_minor < 0 \
               AND category NOT IN ('transfer_in', 'transfer_out') AND posted_at >= $2 AND posted_at < $3 \
             GROUP BY 1, 2, 3 ORDER BY 1, 2",
        )
        .bind(account.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::category_spending).collect()
    }

    async fn balances_between(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<BalancePoint>> {
        let rows = sqlx::query(
            "SELECT account_id, holding, kind, date, amount_minor, currency, institution FROM balances \
             WHERE account_id = $1 AND date >= $2 AND date <= $3 ORDER BY holding, date",
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
        let rows = sqlx::query(
            "SELECT b.account_id, b.holding, b.kind, b.date, b.amount_minor, b.currency, b.institution \
             FROM (SELECT holding, MAX(date) AS last FROM balances \
                   WHERE account_id = $1 AND holding = ANY($2) AND date < $3 GROUP BY holding) m \
             JOIN balances b ON b.account_id = $1 AND b.holding = m.holding AND b.date = m.last \
             ORDER BY b.holding",
        )
        .bind(account.as_str())
        .bind(holdings)
        .bind(date)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::balance).collect()
    }

    async fn last_posted_before(&self, account: &AccountId, before: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let row =
            sqlx::query("SELECT MAX(posted_at) AS last FROM transactions WHERE account_id = $1 AND posted_at < $2")
                .bind(account.as_str())
                .bind(before)
                .fetch_one(&self.pool)
                .await?;
        row.optional_timestamp("last")
    }

    async fn bills(&self, account: &AccountId, from: NaiveDate, to: NaiveDate) -> Result<Vec<Bill>> {
        let rows = sqlx::query(
            "SELECT id, account_id, biller, kind, due_on, amount_minor, currency, paid_on FROM bills \
             WHERE account_id = $1 AND due_on >= $2 AND due_on <= $3 ORDER BY due_on, id",
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
             WHERE base = $1 AND quote = $2 AND date <= $3 ORDER BY date DESC LIMIT 1",
        )
        .bind(base)
        .bind(quote)
        .bind(date)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::fx_rate).transpose()
    }

    async fn report(&self, number: &ReportNumber) -> Result<Option<ReportRow>> {
        let row = sqlx::query(concat!("SELECT ", report_columns!(), " FROM reports WHERE report_number = $1"))
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::report).transpose()
    }

    async fn report_json_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>> {
        let json = sqlx::query_scalar("SELECT report_json_sealed FROM reports WHERE report_number = $1")
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(json)
    }

    async fn report_pdf_sealed(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>> {
        let pdf = sqlx::query_scalar("SELECT pdf_sealed FROM reports WHERE report_number = $1")
            .bind(number.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(pdf)
    }

    async fn reports(&self, account: Option<&AccountId>, limit: u32) -> Result<Vec<ReportRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            report_columns!(),
            " FROM reports WHERE ($1::text IS NULL OR account_id = $1) ORDER BY issued_at DESC, report_number LIMIT $2"
        ))
        .bind(account.map(AccountId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::report).collect()
    }
}

pub(super) async fn insert_report(tx: &mut DbTx<'static, Postgres>, r: &NewReport) -> Result<()> {
    insert_report_query(r).execute(&mut **tx).await?;
    Ok(())
}

pub(super) async fn revoke_report(
    tx: &mut DbTx<'static, Postgres>,
    number: &ReportNumber,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE reports SET status = 'revoked', revoked_at = $1, revoked_reason = $2 \
         WHERE report_number = $3 AND status = 'valid'",
    )
    .bind(at)
    .bind(reason)
    .bind(number.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `new` and marks `old` superseded by it; false when `old` was not
/// valid (the caller rolls back). A racing reissue blocks on the row lock;
/// once the first commits, PostgreSQL re-reads the row, the guard no longer
/// holds and nothing is updated.
pub(super) async fn supersede_report(
    tx: &mut DbTx<'static, Postgres>,
    old: &ReportNumber,
    new: &NewReport,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    insert_report_query(new).execute(&mut **tx).await?;
    let done = sqlx::query(
        "UPDATE reports SET status = 'superseded', superseded_by = $1, superseded_at = $2, supersede_reason = $3 \
         WHERE report_number = $4 AND status = 'valid'",
    )
    .bind(new.report_number.to_string())
    .bind(at)
    .bind(reason)
    .bind(old.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn insert_report_query(r: &NewReport) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(
        "INSERT INTO reports (report_number, code_hash, account_id, as_of, issued_at, valid_until, pdf_sha256, \
             key_id, status, report_json_sealed, key_facts_sealed, pdf_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'valid', $9, $10, $11)",
    )
    .bind(r.report_number.to_string())
    .bind(r.code_hash.as_slice())
    .bind(r.account_id.as_str())
    .bind(r.as_of)
    .bind(r.issued_at)
    .bind(r.valid_until)
    .bind(r.pdf_sha256.as_slice())
    .bind(r.key_id.as_str())
    .bind(r.report_json_sealed.as_slice())
    .bind(r.key_facts_sealed.as_slice())
    .bind(r.pdf_sealed.as_slice())
}

impl ImportWriter for PgImport {
    async fn upsert_accounts(&mut self, rows: &[AccountRow], now: DateTime<Utc>) -> Result<u64> {
        // The sealed passport changes on every encryption (fresh nonce), so it
        // is only replaced when the blind index says the number itself changed.
        let result = sqlx::query(
            "INSERT INTO accounts (id, full_name, date_of_birth, nationality, passport_sealed, passport_index, \
                 passport_country, phone, email, opened_on, phone_since, address_since, updated_at) \
             SELECT u.*, $13 FROM UNNEST($1::text[], $2::text[], $3::date[], $4::text[], $5::bytea[], $6::bytea[], \
                 $7::text[], $8::text[], $9::text[], $10::date[], $11::date[], $12::date[]) AS u \
             ON CONFLICT (id) DO UPDATE SET \
                 full_name = excluded.full_name, date_of_birth = excluded.date_of_birth, \
                 nationality = excluded.nationality, \
                 passport_sealed = CASE WHEN accounts.passport_index = excluded.passport_index \
                     THEN accounts.passport_sealed ELSE excluded.passport_sealed END, \
                 passport_index = excluded.passport_index, passport_country = excluded.passport_country, \
                 phone = excluded.phone, email = excluded.email, opened_on = excluded.opened_on, \
                 phone_since = excluded.phone_since, address_since = excluded.address_since, \
                 updated_at = excluded.updated_at \
             WHERE (accounts.full_name, accounts.date_of_birth, accounts.nationality, accounts.passport_index, \
                    accounts.passport_country, accounts.phone, accounts.email, accounts.opened_on, \
                    accounts.phone_since, accounts.address_since) \
               IS DISTINCT FROM (excluded.full_name, excluded.date_of_birth, excluded.nationality, \
                    excluded.passport_index, excluded.passport_country, excluded.phone, excluded.email, \
                    excluded.opened_on, excluded.phone_since, excluded.address_since)",
        )
        .bind(rows.iter().map(|a| a.id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.full_name.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.date_of_birth).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.nationality.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.passport_sealed.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.passport_index.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.passport_country.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.phone.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.email.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.opened_on).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.phone_since).collect::<Vec<_>>())
        .bind(rows.iter().map(|a| a.address_since).collect::<Vec<_>>())
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected())
    }

    async fn upsert_transactions(&mut self, rows: &[Transaction]) -> Result<u64> {
        let result = sqlx::query(
            "INSERT INTO transactions (id, account_id, posted_at, amount_minor, currency, category, merchant) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::int8[], $5::text[], $6::text[], $7::text[]) \
             ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, posted_at = excluded.posted_at, \
                 amount_minor = excluded.amount_minor, currency = excluded.currency, \
                 category = excluded.category, merchant = excluded.merchant \
             WHERE (transactions.account_id, transactions.posted_at, transactions.amount_minor, \
                    transactions.currency, transactions.category, transactions.merchant) \
               IS DISTINCT FROM (excluded.account_id, excluded.posted_at, excluded.amount_minor, \
                    excluded.currency, excluded.category, excluded.merchant)",
        )
        .bind(rows.iter().map(|t| t.id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.account.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.posted_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.amount.minor()).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.amount.currency().code()).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.category.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|t| t.merchant.as_deref()).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected())
    }

    async fn upsert_balances(&mut self, rows: &[BalancePoint]) -> Result<u64> {
        let result = sqlx::query(
            "INSERT INTO balances (account_id, holding, kind, date, amount_minor, currency, institution) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::date[], $5::int8[], $6::text[], $7::text[]) \
             ON CONFLICT (account_id, holding, date) DO UPDATE SET kind = excluded.kind, \
                 amount_minor = excluded.amount_minor, currency = excluded.currency, \
                 institution = excluded.institution \
             WHERE (balances.kind, balances.amount_minor, balances.currency, balances.institution) \
               IS DISTINCT FROM (excluded.kind, excluded.amount_minor, excluded.currency, excluded.institution)",
        )
        .bind(rows.iter().map(|b| b.account.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.holding.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.date).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.amount.minor()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.amount.currency().code()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.institution.as_deref()).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected())
    }

    async fn upsert_bills(&mut self, rows: &[Bill]) -> Result<u64> {
        let result = sqlx::query(
            "INSERT INTO bills (id, account_id, biller, kind, due_on, amount_minor, currency, paid_on) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::int8[], $7::text[], $8::date[]) \
             ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, biller = excluded.biller, \
                 kind = excluded.kind, due_on = excluded.due_on, amount_minor = excluded.amount_minor, \
                 currency = excluded.currency, paid_on = excluded.paid_on \
             WHERE (bills.account_id, bills.biller, bills.kind, bills.due_on, bills.amount_minor, \
                    bills.currency, bills.paid_on) \
               IS DISTINCT FROM (excluded.account_id, excluded.biller, excluded.kind, excluded.due_on, \
                    excluded.amount_minor, excluded.currency, excluded.paid_on)",
        )
        .bind(rows.iter().map(|b| b.id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.account.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.biller.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.due_on).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.amount.minor()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.amount.currency().code()).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.paid_on).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected())
    }

    async fn upsert_fx_rates(&mut self, rows: &[FxRate]) -> Result<u64> {
        let result = sqlx::query(
            "INSERT INTO fx_rates (base, quote, date, rate, source) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::date[], $4::text[], $5::text[]) \
             ON CONFLICT (base, quote, date) DO UPDATE SET rate = excluded.rate, source = excluded.source \
             WHERE (fx_rates.rate, fx_rates.source) IS DISTINCT FROM (excluded.rate, excluded.source)",
        )
        .bind(rows.iter().map(|r| r.base.code()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.quote.code()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.date).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.rate.to_string()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.source.as_str()).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected())
    }

    async fn existing_accounts(&mut self, ids: &[String]) -> Result<Vec<String>> {
        let found = sqlx::query_scalar::<_, String>("SELECT id FROM accounts WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(found)
    }

    async fn commit(mut self) -> Result<()> {
        if self.rebuild_transactions_index {
            sqlx::query(TRANSACTIONS_INDEX).execute(&mut *self.tx).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}
