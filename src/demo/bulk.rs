//! Many transactions for one account, fast, for import benchmarks: one
//! `account` line, then `n` `transaction` lines, written through one reused
//! buffer without serde or `format!` per line.

use std::io::Write;

use anyhow::{Context, ensure};
use chrono::{Datelike, Days};

use super::DEMO_AS_OF;
use super::catalog::{Basket, METRO, SHANGHAI};
use super::dice::{Dice, Stream};
use super::jsonl::push_json_escaped;
use crate::domain::RecordId;

/// Spread over at most about five years, at least 11 a day.
const MAX_DAYS: usize = 5 * 365;
const MIN_PER_DAY: usize = 11;
const SECS_PER_DAY: usize = 86_400;
const FLUSH_AT: usize = 1 << 16;
/// CNY 60.00 in fen: a purchase on average.
const AVERAGE_TICKET_MINOR: f64 = 6_000.0;
/// CNY 26,000.00 in fen.
const MONTHLY_SALARY_MINOR: i64 = 2_600_000;

fn push_padded(buf: &mut String, mut v: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    while v > 0 || i == digits.len() {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    for _ in (digits.len() - i)..width {
        buf.push('0');
    }
    for &d in &digits[i..] {
        buf.push(char::from(d));
    }
}

fn push_amount(buf: &mut String, minor: i64) {
    if minor < 0 {
        buf.push('-');
    }
    let abs = minor.unsigned_abs();
    push_padded(buf, abs / 100, 1);
    buf.push('.');
    push_padded(buf, abs % 100, 2);
}

/// Writes one `account` line for `account_id` followed by `n` `transaction`
/// lines (ids `T-{account_id}-0000001`…), posted in time order and ending on
/// the day before [`DEMO_AS_OF`]. The same `seed` gives the same bytes.
pub fn write_bulk_transactions(out: &mut impl Write, account_id: &str, n: usize, seed: u64) -> anyhow::Result<()> {
    let id = RecordId::parse(account_id).context("bulk account id")?;
    let width = n.to_string().len().max(7);
    ensure!(
        id.as_str().len() + 3 + width <= 64,
        "account id `{}` is too long for transaction ids of 64 characters",
        id.as_str()
    );
    let per_day = n.div_ceil(MAX_DAYS).clamp(MIN_PER_DAY, SECS_PER_DAY);
    let days = n.div_ceil(per_day);
    let slot = (SECS_PER_DAY / per_day) as u64;
    let first = DEMO_AS_OF.checked_sub_days(Days::new(days as u64)).context("too many days")?;

    let mut dice = Dice::from_seed(seed, Stream::Bulk);
    let mut buf = String::with_capacity(FLUSH_AT + 4096);
    let mut quoted_id = String::new();
    push_json_escaped(&mut quoted_id, id.as_str());

    // The account: a synthetic but valid identity derived from the seed.
    let tag = dice.below(100_000_000);
    let opened = first.checked_sub_days(Days::new(30)).unwrap_or(first);
    buf.push_str("{\"type\":\"account\",\"id\":\"");
    buf.push_str(&quoted_id);
    buf.push_str("\",\"full_name\":\"BENCHMARK Applicant\",\"date_of_birth\":\"1990-01-01\",\"nationality\":\"CHN\",\"passport_number\":\"B");
    push_padded(&mut buf, tag, 8);
    buf.push_str("\",\"passport_country\":\"CHN\",\"phone\":\"+86139");
    push_padded(&mut buf, tag, 8);
    buf.push_str("\",\"email\":\"bench");
    push_padded(&mut buf, tag, 8);
    buf.push_str("@example.com\",\"opened_on\":\"");
    let opened = opened.format("%Y-%m-%d").to_string();
    buf.push_str(&opened);
    buf.push_str("\",\"phone_since\":\"");
    buf.push_str(&opened);
    buf.push_str("\",\"address_since\":\"");
    buf.push_str(&opened);
    buf.push_str("\"}\n");

    let basket = Basket::new(AVERAGE_TICKET_MINOR);
    let mut day = first;
    let mut date = day.format("%Y-%m-%d").to_string();
    for i in 0..n {
        let in_day = i % per_day;
        if i > 0 && in_day == 0 {
            day = day.succ_opt().context("date out of range")?;
            date = day.format("%Y-%m-%d").to_string();
        }
        let secs = in_day as u64 * slot + dice.below(slot);
        let (minor, category, merchant) = if in_day == 0 && day.day() == 10 {
            (MONTHLY_SALARY_MINOR, "salary", "上海东方物流集团有限公司 Shanghai Dongfang Logistics Group Co., Ltd.")
        } else {
            let (m, minor) = basket.draw(&mut dice, 1.0);
            let merchant = if m.name == METRO { SHANGHAI.metro } else { m.name };
            (-minor, m.category, merchant)
        };

        buf.push_str("{\"type\":\"transaction\",\"id\":\"T-");
        buf.push_str(&quoted_id);
        buf.push('-');
        push_padded(&mut buf, i as u64 + 1, width);
        buf.push_str("\",\"account\":\"");
        buf.push_str(&quoted_id);
        buf.push_str("\",\"posted_at\":\"");
        buf.push_str(&date);
        buf.push('T');
        push_padded(&mut buf, secs / 3600, 2);
        buf.push(':');
        push_padded(&mut buf, secs / 60 % 60, 2);
        buf.push(':');
        push_padded(&mut buf, secs % 60, 2);
        buf.push_str("Z\",\"amount\":\"");
        push_amount(&mut buf, minor);
        buf.push_str("\",\"currency\":\"CNY\",\"category\":\"");
        buf.push_str(category);
        buf.push_str("\",\"merchant\":\"");
        buf.push_str(merchant);
        buf.push_str("\"}\n");

        if buf.len() >= FLUSH_AT {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    out.write_all(buf.as_bytes())?;
    out.flush()?;
    Ok(())
}
