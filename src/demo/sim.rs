//! Turns a [`Profile`] into one account's records by simulating it day by
//! day: income, rent, bills and purchases post to the current account, a
//! monthly transfer and interest grow the savings, investments drift.
//!
//! The current account's end-of-day balance is always the previous day's
//! plus that day's transactions, and never negative.

use anyhow::{Context, bail, ensure};
use chrono::{Datelike, Days, Months, NaiveDate};

use super::catalog::{self, Basket, METRO};
use super::dice::{Dice, Stream};
use super::profiles::{Biller, Profile};
use crate::domain::{
    Account, AccountId, BalancePoint, Bill, CountryCode, Currency, EmailAddress, FullName, HoldingKind, Money,
    PassportNumber, PhoneNumber, RecordId, Transaction,
};

/// One account's records, ready to write.
pub(crate) struct Simulated {
    pub account: Account,
    pub transactions: Vec<Transaction>,
    /// Grouped by holding, then by date.
    pub balances: Vec<BalancePoint>,
    pub bills: Vec<Bill>,
}

/// Seconds in the window when people shop: 08:00–22:00 China time is
/// 00:00–14:00 UTC, so the UTC date is also the local date.
const DAY_WINDOW_SECS: u64 = 14 * 3600;
/// Interest on Chinese deposits is settled on the 20th of the last month of
/// each quarter and credited the next day.
const INTEREST_MONTHS: [u32; 4] = [3, 6, 9, 12];
const INTEREST_DAY: u32 = 21;

fn yuan(y: i64) -> i64 {
    y * 100
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlowKind {
    /// Must be paid: income, rent, bills, events.
    Fixed,
    /// A purchase; declined if it would take the balance below the floor.
    Discretionary,
    /// The monthly move to savings; the amount is decided when it happens.
    Sweep,
    /// Quarterly interest on the current account, from the accrual.
    Interest,
}

struct Flow {
    secs: u64,
    minor: i64,
    category: &'static str,
    merchant: &'static str,
    kind: FlowKind,
}

/// One planned bill and how it is (or is not) paid.
struct PlannedBill {
    biller: &'static str,
    kind: &'static str,
    category: &'static str,
    due_on: NaiveDate,
    minor: i64,
    key: u64,
    early_days: u64,
    late_days: u64,
    secs: u64,
    paid_on: Option<NaiveDate>,
}

struct HoldingState {
    id: RecordId,
    kind: HoldingKind,
    currency: Currency,
    minor: i64,
    rate_bp: i64,
    daily_vol_bp: i64,
    /// Interest earned but not yet credited, in minor units × 10,000 × 365.
    accrued: i128,
}

impl HoldingState {
    fn accrue(&mut self) {
        self.accrued += i128::from(self.minor) * i128::from(self.rate_bp);
    }

    /// Takes the whole minor units out of the accrued interest; keeps the rest.
    fn take_interest(&mut self) -> i64 {
        let per = 10_000 * 365;
        let whole = self.accrued / per;
        self.accrued -= whole * per;
        i64::try_from(whole).unwrap_or(0)
    }

    /// Adds the accrued interest to the balance.
    fn credit(&mut self) {
        self.minor += self.take_interest();
    }
}

fn month_day(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    // Clamp to the month's last day (a payday of 31 in February).
    (0..4).find_map(|back| NaiveDate::from_ymd_opt(year, month, day.saturating_sub(back).max(1)))
}

/// The first day of every month from `start`'s month to `end`'s month.
fn months(start: NaiveDate, end: NaiveDate) -> impl Iterator<Item = (i32, u32)> {
    let first = start.with_day(1).unwrap_or(start);
    (0..)
        .map_while(move |i| first.checked_add_months(Months::new(i)))
        .take_while(move |m| *m <= end)
        .map(|m| (m.year(), m.month()))
}

fn biller_details(b: &Biller, p: &Profile) -> (&'static str, &'static str, &'static str) {
    match b {
        Biller::Electricity(_) => (p.city.electricity, "utility", "utilities"),
        Biller::Gas(_) => (p.city.gas, "utility", "utilities"),
        Biller::Water(_) => (p.city.water, "utility", "utilities"),
        Biller::Mobile { carrier, .. } => (carrier, "telecom", "telecom"),
        Biller::Property { company, .. } => (company, "housing", "housing"),
    }
}

fn plan_bills(p: &Profile, start: NaiveDate, end: NaiveDate, as_of: NaiveDate) -> anyhow::Result<Vec<PlannedBill>> {
    let mut dice = Dice::new(p.id, Stream::Bills);
    let mut bills = Vec::new();
    for (year, month) in months(start, end) {
        let Some(due_on) = NaiveDate::from_ymd_opt(year, month, 15) else {
            continue;
        };
        for b in p.billers {
            // The same number of draws for every bill, whatever its fate.
            let key = dice.next();
            let noise = dice.gauss();
            let early_days = dice.below(11);
            let late_days = 1 + dice.below(20);
            let secs = dice.below(DAY_WINDOW_SECS);
            if due_on < start || due_on > end {
                continue;
            }
            let season = |table: &[i64; 12]| table.get(month as usize - 1).copied().unwrap_or(100);
            let (typical, factor) = match b {
                Biller::Electricity(t) => (yuan(*t) * season(&catalog::ELECTRICITY_SEASON) / 100, 1.0 + 0.12 * noise),
                Biller::Gas(t) => (yuan(*t) * season(&catalog::GAS_SEASON) / 100, 1.0 + 0.12 * noise),
                Biller::Water(t) => (yuan(*t), 1.0 + 0.08 * noise),
                Biller::Mobile { plan, .. } => (yuan(*plan), 1.0),
                Biller::Property { monthly, .. } => (yuan(*monthly), 1.0),
            };
            let minor = ((typical as f64) * factor).round().max(100.0) as i64;
            let (biller, kind, category) = biller_details(b, p);
            bills.push(PlannedBill {
                biller,
                kind,
                category,
                due_on,
                minor,
                key,
                early_days,
                late_days,
                secs,
                paid_on: None,
            });
        }
    }

    // Late and missed bills: the exact counts the profile asks for, among the
    // bills due in the last 12 months, chosen by each bill's own key so that
    // one more late bill leaves the earlier choices alone.
    let window_start = as_of.checked_sub_months(Months::new(12)).context("as-of date out of range")?;
    let mut recent: Vec<usize> = (0..bills.len()).filter(|&i| bills[i].due_on > window_start).collect();
    let missed = p.missed_bills as usize;
    let late = p.late_bills as usize;
    ensure!(
        missed + late <= recent.len(),
        "{}: {} late + {} missed bills asked for, but only {} bills are due in the last 12 months",
        p.id,
        late,
        missed,
        recent.len()
    );
    recent.sort_by_key(|&i| bills[i].key);
    let mut fate = vec![0u8; bills.len()]; // 0 on time, 1 late, 2 missed
    for (rank, &i) in recent.iter().enumerate() {
        fate[i] = if rank < missed {
            2
        } else if rank < missed + late {
            1
        } else {
            0
        };
    }
    for (bill, fate) in bills.iter_mut().zip(fate) {
        bill.paid_on = match fate {
            0 => Some(bill.due_on.checked_sub_days(Days::new(bill.early_days)).unwrap_or(bill.due_on).max(start)),
            1 => Some(bill.due_on.checked_add_days(Days::new(bill.late_days)).unwrap_or(bill.due_on).min(end)),
            _ => None,
        };
    }
    Ok(bills)
}

fn account(p: &Profile) -> anyhow::Result<Account> {
    let ctx = || format!("demo profile {}", p.id);
    Ok(Account {
        id: AccountId::parse(p.id).with_context(ctx)?,
        full_name: FullName::parse(p.full_name).with_context(ctx)?,
        date_of_birth: p.date_of_birth,
        nationality: CountryCode::parse(p.nationality).with_context(ctx)?,
        passport_number: PassportNumber::parse(p.passport_number).with_context(ctx)?,
        passport_country: CountryCode::parse(p.passport_country).with_context(ctx)?,
        phone: PhoneNumber::parse(p.phone).with_context(ctx)?,
        email: EmailAddress::parse(p.email).with_context(ctx)?,
        opened_on: p.opened_on,
        phone_since: p.phone_since,
        address_since: p.address_since,
    })
}

/// The first and last day of a profile's data.
pub(crate) fn span(p: &Profile, as_of: NaiveDate) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let end = as_of.pred_opt().context("as-of date out of range")?;
    let window = as_of.checked_sub_months(Months::new(p.history_months)).context("history out of range")?;
    let start = window.max(p.opened_on);
    ensure!(start <= end, "{}: opened on {} which is after the last day of data", p.id, p.opened_on);
    Ok((start, end))
}

pub(crate) fn simulate(p: &Profile, as_of: NaiveDate) -> anyhow::Result<Simulated> {
    let account = account(p)?;
    let (start, end) = span(p, as_of)?;

    let mut holdings = Vec::with_capacity(p.holdings.len());
    for (n, h) in p.holdings.iter().enumerate() {
        holdings.push(HoldingState {
            id: RecordId::parse(&format!("H-{}-{}", p.id, n + 1))?,
            kind: h.kind,
            currency: h.currency,
            minor: h.start * h.currency.minor_per_major(),
            rate_bp: h.rate_bp,
            daily_vol_bp: h.daily_vol_bp,
            accrued: 0,
        });
    }
    match holdings.first() {
        Some(h) if h.kind == HoldingKind::Current && h.currency == Currency::CNY => {}
        _ => bail!("{}: the first holding must be the CNY current account", p.id),
    }
    let sweep_to = holdings.iter().position(|h| h.kind == HoldingKind::Savings && h.currency == Currency::CNY);

    // Fixed flows, by day offset from `start`.
    let n_days = usize::try_from((end - start).num_days() + 1)?;
    let mut fixed: Vec<Vec<Flow>> = (0..n_days).map(|_| Vec::new()).collect();
    let mut add = |date: NaiveDate, flow: Flow| {
        let slot = usize::try_from((date - start).num_days()).ok().and_then(|i| fixed.get_mut(i));
        if let Some(v) = slot {
            v.push(flow);
        }
    };
    for (year, month) in months(start, end) {
        let Some(payday) = month_day(year, month, p.income.day) else {
            continue;
        };
        let next = |d: u64| payday.checked_add_days(Days::new(d)).unwrap_or(payday);
        let fixed_flow =
            |secs, minor, category, merchant| Flow { secs, minor, category, merchant, kind: FlowKind::Fixed };
        add(payday, fixed_flow(2 * 3600, yuan(p.income.monthly), p.income.category, p.income.payer));
        if sweep_to.is_some() {
            let minor = yuan(p.income.monthly) * p.savings_rate_pct / 100;
            add(
                next(1),
                Flow {
                    secs: 3 * 3600,
                    minor,
                    category: "transfer_out",
                    merchant: catalog::TO_SAVINGS,
                    kind: FlowKind::Sweep,
                },
            );
        }
        if p.rent > 0 {
            add(next(1), fixed_flow(4 * 3600, -yuan(p.rent), "housing", p.landlord));
        }
        if p.insurance > 0 {
            add(next(2), fixed_flow(5 * 3600, -yuan(p.insurance), "insurance", p.insurer));
        }
        if INTEREST_MONTHS.contains(&month)
            && let Some(day) = NaiveDate::from_ymd_opt(year, month, INTEREST_DAY)
        {
            let merchant = catalog::CURRENT_INTEREST;
            add(day, Flow { secs: 3600, minor: 0, category: "interest", merchant, kind: FlowKind::Interest });
        }
    }
    for e in p.events {
        ensure!(e.on >= start && e.on <= end, "{}: event on {} is outside the data ({start}..{end})", p.id, e.on);
        add(
            e.on,
            Flow {
                secs: 6 * 3600,
                minor: yuan(e.amount),
                category: e.category,
                merchant: e.merchant,
                kind: FlowKind::Fixed,
            },
        );
    }
    let planned = plan_bills(p, start, end, as_of)?;
    for b in &planned {
        if let Some(paid) = b.paid_on {
            add(
                paid,
                Flow { secs: b.secs, minor: -b.minor, category: b.category, merchant: b.biller, kind: FlowKind::Fixed },
            );
        }
    }

    // Discretionary spending: the expected monthly total is the profile's
    // `monthly_spending`.
    let per_day = p.tx_per_day_tenths as f64 / 10.0;
    let daily_budget = yuan(p.monthly_spending) as f64 * 12.0 / 365.0;
    let basket = Basket::new(if per_day > 0.0 { daily_budget / per_day } else { 0.0 });
    // Purchases a day: binomial with `trials` draws, mean `per_day`.
    let trials = 2 * p.tx_per_day_tenths.div_ceil(10) + 2;
    let p_trial = per_day / trials as f64;
    let volatility = p.spending_volatility_pct as f64 / 100.0;

    let mut spend = Dice::new(p.id, Stream::Spending);
    let mut market = Dice::new(p.id, Stream::Holdings);
    let mut month_factor = 1.0;
    let mut raw: Vec<(NaiveDate, u64, i64, &'static str, &'static str)> = Vec::new();
    let mut balances = vec![Vec::with_capacity(n_days); holdings.len()];

    for (offset, mut flows) in fixed.into_iter().enumerate() {
        let day = start.checked_add_days(Days::new(offset as u64)).context("date out of range")?;
        if offset == 0 || day.day() == 1 {
            month_factor = (1.0 + volatility * spend.gauss()).max(0.3);
        }
        let count = (0..trials).filter(|_| spend.chance(p_trial)).count();
        for _ in 0..count {
            let (m, minor) = basket.draw(&mut spend, month_factor);
            let secs = spend.below(DAY_WINDOW_SECS);
            let merchant = if m.name == METRO { p.city.metro } else { m.name };
            flows.push(Flow { secs, minor: -minor, category: m.category, merchant, kind: FlowKind::Discretionary });
        }
        flows.sort_by_key(|f| f.secs);

        let [cur, rest @ ..] = holdings.as_mut_slice() else { bail!("{}: no holdings", p.id) };
        for mut f in flows {
            match f.kind {
                FlowKind::Discretionary => {
                    if cur.minor + f.minor < yuan(p.floor) {
                        continue;
                    }
                }
                FlowKind::Fixed => {
                    if cur.minor + f.minor < 0 {
                        bail!(
                            "{}: the current account would go negative on {day} paying {} ({}); \
                             raise income, the floor or the starting balance, or lower spending",
                            p.id,
                            f.merchant,
                            Money::from_minor(f.minor, Currency::CNY)
                        );
                    }
                }
                FlowKind::Sweep => {
                    let over_cap = cur.minor - yuan(p.current_cap);
                    let amount = f.minor.max(over_cap).min(cur.minor - yuan(p.keep_in_current));
                    let Some(target) = sweep_to.and_then(|i| i.checked_sub(1)).and_then(|i| rest.get_mut(i)) else {
                        continue;
                    };
                    if amount <= 0 {
                        continue;
                    }
                    target.minor += amount;
                    f.minor = -amount;
                }
                FlowKind::Interest => {
                    f.minor = cur.take_interest();
                    if f.minor <= 0 {
                        continue;
                    }
                }
            }
            cur.minor += f.minor;
            raw.push((day, f.secs, f.minor, f.category, f.merchant));
        }

        // End of day for every holding.
        let settles = INTEREST_MONTHS.contains(&day.month()) && day.day() == INTEREST_DAY;
        let weekday = day.weekday().number_from_monday() <= 5;
        cur.accrue();
        for h in rest.iter_mut() {
            match h.kind {
                HoldingKind::Current | HoldingKind::Savings => {
                    if settles {
                        h.credit();
                    }
                    h.accrue();
                }
                HoldingKind::MoneyMarketFund => {
                    h.accrue();
                    h.credit();
                }
                HoldingKind::TimeDeposit => {
                    h.accrue();
                    if offset > 0 && offset.is_multiple_of(365) {
                        h.credit();
                    }
                }
                HoldingKind::Investment => {
                    if weekday {
                        let r = h.rate_bp as f64 / 10_000.0 / 252.0 + h.daily_vol_bp as f64 / 10_000.0 * market.gauss();
                        h.minor = ((h.minor as f64) * (1.0 + r)).round().max(0.0) as i64;
                    }
                }
            }
        }
        for (series, h) in balances.iter_mut().zip(holdings.iter()) {
            ensure!(h.minor >= 0, "{}: holding {} went negative on {day}", p.id, h.id);
            series.push(BalancePoint {
                account: account.id.clone(),
                holding: h.id.clone(),
                kind: h.kind,
                date: day,
                amount: Money::from_minor(h.minor, h.currency),
                institution: Some(super::catalog::institution(account.id.as_str(), h.kind).to_owned()),
            });
        }
    }

    let transactions = raw
        .into_iter()
        .enumerate()
        .map(|(i, (day, secs, minor, category, merchant))| {
            let posted_at = day.and_hms_opt(0, 0, 0).context("midnight")?.and_utc()
                + chrono::Duration::seconds(i64::try_from(secs)?);
            Ok(Transaction {
                id: RecordId::parse(&format!("T-{}-{:06}", p.id, i + 1))?,
                account: account.id.clone(),
                posted_at,
                amount: Money::from_minor(minor, Currency::CNY),
                category: category.to_owned(),
                merchant: Some(merchant.to_owned()),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    let bills = planned
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            Ok(Bill {
                id: RecordId::parse(&format!("B-{}-{:04}", p.id, i + 1))?,
                account: account.id.clone(),
                biller: b.biller.to_owned(),
                kind: b.kind.to_owned(),
                due_on: b.due_on,
                amount: Money::from_minor(b.minor, Currency::CNY),
                paid_on: b.paid_on,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    Ok(Simulated { account, transactions, balances: balances.into_iter().flatten().collect(), bills })
}
