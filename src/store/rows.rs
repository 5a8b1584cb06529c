//! Rows back into records, once for both backends.
//!
//! [`StoreRow`] is the little each backend must say about its column types
//! (SQLite keeps timestamps as text, PostgreSQL as `timestamptz`); the
//! record builders below are written once against it.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{
    AccountRow, CategorySpending, ClaimedMail, MailRow, MonthlyFlow, ReportRow, Result, StoreError, TableCounts, decode,
};
use crate::domain::{BalancePoint, Bill, FxRate, Transaction};

/// Typed column access shared by `SqliteRow` and `PgRow`.
pub(crate) trait StoreRow {
    fn text(&self, column: &str) -> Result<String>;
    fn optional_text(&self, column: &str) -> Result<Option<String>>;
    fn int(&self, column: &str) -> Result<i64>;
    fn bytes(&self, column: &str) -> Result<Vec<u8>>;
    fn optional_bytes(&self, column: &str) -> Result<Option<Vec<u8>>>;
    fn optional_int(&self, column: &str) -> Result<Option<i64>>;
    fn boolean(&self, column: &str) -> Result<bool>;
    fn date(&self, column: &str) -> Result<NaiveDate>;
    fn optional_date(&self, column: &str) -> Result<Option<NaiveDate>>;
    fn timestamp(&self, column: &str) -> Result<DateTime<Utc>>;
    fn optional_timestamp(&self, column: &str) -> Result<Option<DateTime<Utc>>>;
}

macro_rules! plain_columns {
    () => {
        fn text(&self, column: &str) -> Result<String> {
            Ok(self.try_get(column)?)
        }
        fn optional_text(&self, column: &str) -> Result<Option<String>> {
            Ok(self.try_get(column)?)
        }
        fn int(&self, column: &str) -> Result<i64> {
            Ok(self.try_get(column)?)
        }
        fn bytes(&self, column: &str) -> Result<Vec<u8>> {
            Ok(self.try_get(column)?)
        }
        fn optional_bytes(&self, column: &str) -> Result<Option<Vec<u8>>> {
            Ok(self.try_get(column)?)
        }
        fn optional_int(&self, column: &str) -> Result<Option<i64>> {
            Ok(self.try_get(column)?)
        }
        fn boolean(&self, column: &str) -> Result<bool> {
            Ok(self.try_get(column)?)
        }
        fn date(&self, column: &str) -> Result<NaiveDate> {
            Ok(self.try_get(column)?)
        }
        fn optional_date(&self, column: &str) -> Result<Option<NaiveDate>> {
            Ok(self.try_get(column)?)
        }
    };
}

impl StoreRow for sqlx::sqlite::SqliteRow {
    plain_columns!();

    /// Stored as fixed-width RFC 3339 text (see `sqlite.rs`).
    fn timestamp(&self, column: &str) -> Result<DateTime<Utc>> {
        let s: String = self.try_get(column)?;
        parse_timestamp(&s)
    }

    fn optional_timestamp(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        let s: Option<String> = self.try_get(column)?;
        s.as_deref().map(parse_timestamp).transpose()
    }
}

fn parse_timestamp(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{s}`: {e}")))
}

impl StoreRow for sqlx::postgres::PgRow {
    plain_columns!();

    fn timestamp(&self, column: &str) -> Result<DateTime<Utc>> {
        Ok(self.try_get(column)?)
    }

    fn optional_timestamp(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.try_get(column)?)
    }
}

pub(crate) fn account(r: &impl StoreRow) -> Result<AccountRow> {
    Ok(AccountRow {
        id: decode::account_id(&r.text("id")?)?,
        full_name: r.text("full_name")?,
        date_of_birth: r.date("date_of_birth")?,
        nationality: r.text("nationality")?,
        passport_sealed: r.bytes("passport_sealed")?,
        passport_index: r.bytes("passport_index")?,
        passport_country: r.text("passport_country")?,
        phone: r.text("phone")?,
        email: r.text("email")?,
        opened_on: r.date("opened_on")?,
        phone_since: r.date("phone_since")?,
        address_since: r.date("address_since")?,
    })
}

pub(crate) fn transaction(r: &impl StoreRow) -> Result<Transaction> {
    Ok(Transaction {
        id: decode::id(&r.text("id")?)?,
        account: decode::account_id(&r.text("account_id")?)?,
        posted_at: r.timestamp("posted_at")?,
        amount: decode::money(r.int("amount_minor")?, &r.text("currency")?)?,
        category: r.text("category")?,
        merchant: r.optional_text("merchant")?,
    })
}

pub(crate) fn monthly_flow(r: &impl StoreRow) -> Result<MonthlyFlow> {
    Ok(MonthlyFlow {
        month: decode::month(&r.text("month")?)?,
        currency: decode::currency(&r.text("currency")?)?,
        spending: split_sum(r, "spending")?,
        spending_count: r.int("spending_count")?,
        income: split_sum(r, "income")?,
        income_count: r.int("income_count")?,
    })
}

pub(crate) fn category_spending(r: &impl StoreRow) -> Result<CategorySpending> {
    Ok(CategorySpending {
        month: decode::month(&r.text("month")?)?,
        category: r.text("category")?,
        currency: decode::currency(&r.text("currency")?)?,
        spending: split_sum(r, "spending")?,
    })
}

/// A sum the database returns in two halves, `{name}_hi` (the sum of each
/// value's upper bits, `v >> 32`) and `{name}_lo` (the sum of its lower 32
/// bits), so that neither SQLite's 64-bit `SUM` nor a cast of PostgreSQL's
/// `numeric` sum can overflow however many large amounts are added; the
/// total is put together here in `i128`. Each half fits easily: a record's
/// amount is bounded at import, so `v >> 32` is below 2^24.
fn split_sum(r: &impl StoreRow, name: &str) -> Result<i128> {
    let hi = r.int(&format!("{name}_hi"))?;
    let lo = r.int(&format!("{name}_lo"))?;
    Ok((i128::from(hi) << 32) + i128::from(lo))
}

pub(crate) fn balance(r: &impl StoreRow) -> Result<BalancePoint> {
    Ok(BalancePoint {
        account: decode::account_id(&r.text("account_id")?)?,
        holding: decode::id(&r.text("holding")?)?,
        kind: decode::kind(&r.text("kind")?)?,
        date: r.date("date")?,
        amount: decode::money(r.int("amount_minor")?, &r.text("currency")?)?,
        institution: r.optional_text("institution")?,
    })
}

pub(crate) fn bill(r: &impl StoreRow) -> Result<Bill> {
    Ok(Bill {
        id: decode::id(&r.text("id")?)?,
        account: decode::account_id(&r.text("account_id")?)?,
        biller: r.text("biller")?,
        kind: r.text("kind")?,
        due_on: r.date("due_on")?,
        amount: decode::money(r.int("amount_minor")?, &r.text("currency")?)?,
        paid_on: r.optional_date("paid_on")?,
    })
}

pub(crate) fn fx_rate(r: &impl StoreRow) -> Result<FxRate> {
    Ok(FxRate {
        base: decode::currency(&r.text("base")?)?,
        quote: decode::currency(&r.text("quote")?)?,
        date: r.date("date")?,
        rate: decode::rate(&r.text("rate")?)?,
        source: r.text("source")?,
    })
}

pub(crate) fn table_counts(r: &impl StoreRow) -> Result<TableCounts> {
    Ok(TableCounts {
        accounts: r.int("accounts")?,
        transactions: r.int("transactions")?,
        balances: r.int("balances")?,
        bills: r.int("bills")?,
        fx_rates: r.int("fx_rates")?,
    })
}

pub(crate) fn report(r: &impl StoreRow) -> Result<ReportRow> {
    Ok(ReportRow {
        report_number: decode::report_number(&r.text("report_number")?)?,
        code_hash: r.bytes("code_hash")?,
        account_id: decode::account_id(&r.text("account_id")?)?,
        as_of: r.date("as_of")?,
        issued_at: r.timestamp("issued_at")?,
        valid_until: r.date("valid_until")?,
        pdf_sha256: r.bytes("pdf_sha256")?,
        key_id: r.text("key_id")?,
        status: r.text("status")?,
        revoked_at: r.optional_timestamp("revoked_at")?,
        revoked_reason: r.optional_text("revoked_reason")?,
        superseded_by: r.optional_text("superseded_by")?,
        superseded_at: r.optional_timestamp("superseded_at")?,
        supersede_reason: r.optional_text("supersede_reason")?,
        key_facts_sealed: r.bytes("key_facts_sealed")?,
    })
}

pub(crate) fn mail(row: &impl StoreRow) -> Result<MailRow> {
    Ok(MailRow {
        id: row.text("id")?,
        kind: row.text("kind")?,
        report_number: row.optional_text("report_number")?,
        subject: row.text("subject")?,
        recipient_sealed: row.bytes("recipient_sealed")?,
        message_bytes: row.int("message_bytes")?,
        reason: row.optional_text("reason")?,
        status: row.text("status")?,
        attempts: row.int("attempts")?,
        created_at: row.timestamp("created_at")?,
        next_attempt_at: row.timestamp("next_attempt_at")?,
        give_up_at: row.timestamp("give_up_at")?,
        lease_until: row.optional_timestamp("lease_until")?,
        last_error: row.optional_text("last_error")?,
        last_attempt_at: row.optional_timestamp("last_attempt_at")?,
        sent_at: row.optional_timestamp("sent_at")?,
        delivered_as: row.optional_text("delivered_as")?,
        sent_by: row.optional_text("sent_by")?,
    })
}

pub(crate) fn claimed_mail(row: &impl StoreRow) -> Result<ClaimedMail> {
    Ok(ClaimedMail {
        id: row.text("id")?,
        recipient_sealed: row.bytes("recipient_sealed")?,
        message_sealed: row.bytes("message_sealed")?,
        attempts: row.int("attempts")?,
        created_at: row.timestamp("created_at")?,
        give_up_at: row.timestamp("give_up_at")?,
    })
}
