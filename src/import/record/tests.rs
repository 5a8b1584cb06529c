use super::*;
use chrono::Datelike;
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

const ACCOUNT: &str = r#"{"type":"account","id":"A1001","full_name":"ZHANG Wei","date_of_birth":"1990-04-12","nationality":"CHN","passport_number":"E12345678","passport_country":"CHN","phone":"+8613800138000","email":"zhang.wei@example.com","opened_on":"2014-03-01","phone_since":"2012-06-01","address_since":"2016-01-01"}"#;

#[test]
fn parses_each_design_example() {
    assert!(matches!(parse_line(ACCOUNT, today()), Ok(Record::Account(_))));
    let lines = [
        r#"{"type":"transaction","id":"T-1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":"-125.40","currency":"CNY","category":"groceries","merchant":"Hema"}"#,
        r#"{"type":"balance","account":"A1001","holding":"H-1","kind":"savings","date":"2026-01-03","amount":"52000.00","currency":"CNY"}"#,
        r#"{"type":"bill","id":"B-1","account":"A1001","biller":"State Grid Shanghai","kind":"utility","due_on":"2026-01-15","amount":"230.00","currency":"CNY","paid_on":"2026-01-14"}"#,
        r#"{"type":"bill","id":"B-2","account":"A1001","biller":"China Mobile","kind":"telecom","due_on":"2026-02-15","amount":"88.00","currency":"CNY","paid_on":null}"#,
        r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"0.1932","source":"Bank of Canada"}"#,
    ];
    let kinds: Vec<_> = lines.iter().map(|l| parse_line(l, today()).unwrap().type_name()).collect();
    assert_eq!(kinds, ["transaction", "balance", "bill", "bill", "fx_rate"]);
    let Ok(Record::Transaction(t)) = parse_line(lines[0], today()) else { panic!() };
    assert_eq!(t.amount.minor(), -12540);
}

fn error_of(line: &str) -> String {
    parse_line(line, today()).unwrap_err()
}

fn account_with(field: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(ACCOUNT).unwrap();
    v[field] = serde_json::from_str(value).unwrap();
    v.to_string()
}

#[test]
fn every_rule_has_a_specific_message() {
    let tx = |amount: &str, currency: &str| {
        format!(
            r#"{{"type":"transaction","id":"T-1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":{amount},"currency":"{currency}","category":"groceries"}}"#
        )
    };
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "invalid JSON"),
        ("[1,2]".into(), "invalid JSON"),
        (r#"{"id":"A1"}"#.into(), "missing field `type`"),
        (r#"{"type":"loan","id":"L1"}"#.into(), "unknown record type `loan`"),
        (account_with("color", "\"red\""), "unknown field `color`"),
        (account_with("date_of_birth", "\"1990-4-12\""), "field `date_of_birth`"),
        (account_with("date_of_birth", "\"2090-04-12\""), "plausible"),
        (account_with("nationality", "\"XYZ\""), "field `nationality`"),
        (account_with("passport_number", "\"e123\""), "field `passport_number`"),
        (account_with("phone", "\"13800138000\""), "E.164"),
        (account_with("email", "\"nobody\""), "field `email`"),
        (account_with("opened_on", "\"1980-01-01\""), "field `opened_on`: 1980-01-01 is before the date of birth"),
        (account_with("merchant", "\"x\""), "field `merchant` is not allowed in an account record"),
        (tx("\"-125.405\"", "CNY"), "3 digits after the decimal point; CNY has 2"),
        (tx("\"100.5\"", "JPY"), "JPY has 0"),
        (tx("-125.40", "CNY"), "JSON strings"),
        (tx("\"12,5\"", "CNY"), "not a decimal amount"),
        (tx("\"1.00\"", "RMB"), "`RMB` is not an active ISO 4217"),
        (
            r#"{"type":"transaction","id":"T 1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":"1.00","currency":"CNY","category":"x"}"#.into(),
            "field `id`",
        ),
        (
            r#"{"type":"transaction","id":"T1","account":"A1001","posted_at":"2026-01-03 12:00","amount":"1.00","currency":"CNY","category":"x"}"#.into(),
            "RFC 3339",
        ),
        (
            r#"{"type":"transaction","id":"T1","account":"A1001","amount":"1.00","currency":"CNY","category":"x"}"#.into(),
            "missing field `posted_at`",
        ),
        (
            r#"{"type":"balance","account":"A1001","holding":"H-1","kind":"crypto","date":"2026-01-03","amount":"1.00","currency":"CNY"}"#.into(),
            "not a holding kind",
        ),
        (
            r#"{"type":"bill","id":"B1","account":"A1001","biller":"X","kind":"utility","due_on":"2026-01-15","amount":"0.00","currency":"CNY"}"#.into(),
            "greater than zero",
        ),
        (
            r#"{"type":"fx_rate","base":"CNY","quote":"CNY","date":"2026-11-20","rate":"1","source":"x"}"#.into(),
            "two currencies",
        ),
        (
            r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"-0.19","source":"x"}"#.into(),
            "greater than zero",
        ),
        (
            r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"0.19","source":"x","id":"F1"}"#.into(),
            "field `id` is not allowed in an fx_rate record",
        ),
        (
            r#"{"type":"account","type":"account"}"#.into(),
            "duplicate field",
        ),
    ];
    for (line, expected) in cases {
        let err = error_of(&line);
        assert!(err.contains(expected), "line {line}\n  gave `{err}`\n  expected it to mention `{expected}`");
    }
}

fn set_field(line: &str, field: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    v[field] = value.into();
    v.to_string()
}

const TRANSACTION: &str = r#"{"type":"transaction","id":"T-1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":"-125.40","currency":"CNY","category":"groceries"}"#;
const BALANCE: &str = r#"{"type":"balance","account":"A1001","holding":"H-1","kind":"savings","date":"2026-01-03","amount":"52000.00","currency":"CNY"}"#;
const BILL: &str = r#"{"type":"bill","id":"B-1","account":"A1001","biller":"State Grid Shanghai","kind":"utility","due_on":"2026-01-15","amount":"230.00","currency":"CNY","paid_on":"2026-01-14"}"#;
const FX_RATE: &str =
    r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"0.1932","source":"Bank of Canada"}"#;

/// Every date field of every record type: (record, field, the noun in
/// its message).
const DATE_FIELDS: [(&str, &str, &str); 9] = [
    (ACCOUNT, "date_of_birth", "date of birth"),
    (ACCOUNT, "opened_on", "account opening date"),
    (ACCOUNT, "phone_since", "start date for this phone number"),
    (ACCOUNT, "address_since", "start date at this address"),
    (BALANCE, "date", "balance date"),
    (BILL, "due_on", "due date"),
    (BILL, "paid_on", "payment date"),
    (FX_RATE, "date", "rate date"),
    (TRANSACTION, "posted_at", "transaction date"),
];

fn value_for(field: &str, date: &str) -> String {
    if field == "posted_at" { format!("{date}T12:00:00Z") } else { date.to_owned() }
}

#[test]
fn impossible_dates_are_refused_in_every_date_field() {
    for (record, field, what) in DATE_FIELDS {
        for date in ["0000-01-01", "0001-01-01", "1000-06-15", "9999-12-31", "2101-01-01"] {
            let line = set_field(record, field, &value_for(field, date));
            let err = error_of(&line);
            let expected = format!("field `{field}`: {} is not a plausible {what} (accepted: ", value_for(field, date));
            assert!(err.starts_with(&expected), "{field} = {date}\n  gave `{err}`\n  expected `{expected}…`");
        }
    }
}

#[test]
fn each_window_has_documented_ends() {
    // (record, field, first accepted, last accepted): the last refused and
    // first refused dates are the days around them.
    let now = today().to_string();
    // Born today: opened, phone and address since today too.
    let newborn = ["opened_on", "phone_since", "address_since"]
        .into_iter()
        .fold(ACCOUNT.to_owned(), |line, field| set_field(&line, field, &now));
    let windows = [
        (newborn.as_str(), "date_of_birth", "1900-01-01", now.as_str()),
        (ACCOUNT, "address_since", "1990-04-12", now.as_str()), // not before birth (1990-04-12)
        (ACCOUNT, "phone_since", "1990-04-12", now.as_str()),
        (ACCOUNT, "opened_on", "1990-04-12", now.as_str()),
        (BALANCE, "date", "1970-01-01", "2100-12-31"),
        (BILL, "due_on", "1970-01-01", "2100-12-31"),
        (BILL, "paid_on", "1970-01-01", "2100-12-31"),
        (FX_RATE, "date", "1970-01-01", "2100-12-31"),
        (TRANSACTION, "posted_at", "1970-01-01", "2100-12-31"),
    ];
    for (record, field, first, last) in windows {
        let first = parse_date(first).unwrap();
        let last = parse_date(last).unwrap();
        let at = |d: NaiveDate| parse_line(&set_field(record, field, &value_for(field, &d.to_string())), today());
        assert!(at(first).is_ok(), "{field} {first}: {:?}", at(first));
        assert!(at(last).is_ok(), "{field} {last}: {:?}", at(last));
        let before = first.pred_opt().unwrap();
        let after = last.succ_opt().unwrap();
        assert!(at(before).unwrap_err().contains(&format!("field `{field}`")), "{field} {before}");
        assert!(at(after).unwrap_err().contains(&format!("field `{field}`")), "{field} {after}");
    }
    // Born in 1940, living at the same address since 1965: a person's
    // dates start before the financial window.
    let elder = set_field(&set_field(ACCOUNT, "date_of_birth", "1940-02-01"), "address_since", "1965-07-01");
    assert!(parse_line(&elder, today()).is_ok());
    let early = set_field(&set_field(ACCOUNT, "date_of_birth", "1940-02-01"), "opened_on", "1969-12-31");
    assert!(error_of(&early).contains("accepted: 1970-01-01 to 2026-11-21, today"), "{}", error_of(&early));
}

#[test]
fn a_timestamp_is_checked_by_its_utc_date() {
    let cases = [
        ("2100-12-31T23:30:00-05:00", Some("2101-01-01 in UTC")),
        ("1970-01-01T00:30:00+01:00", Some("1969-12-31 in UTC")),
        ("2101-01-01T03:00:00+05:00", None),
        ("1969-12-31T23:30:00-01:00", None),
        ("2100-12-31T23:59:59.999999999Z", None),
    ];
    for (value, refused) in cases {
        let result = parse_line(&set_field(TRANSACTION, "posted_at", value), today());
        match refused {
            Some(why) => assert!(result.as_ref().unwrap_err().contains(why), "{value}: {result:?}"),
            None => assert!(result.is_ok(), "{value}: {result:?}"),
        }
    }
}

proptest! {
    #[test]
    fn the_date_parser_never_panics(s in "\\PC{0,12}", digits in "[0-9+ -]{10}") {
        let _ = parse_date(&s);
        let _ = parse_date(&digits);
    }

    #[test]
    fn every_calendar_date_round_trips(days in 0i64..3_652_425) {
        // 0000-01-01 to 9999-12-31: the parser reads every date of the
        // form; the windows, not the parser, refuse the implausible ones.
        let d = NaiveDate::from_ymd_opt(0, 1, 1).unwrap() + chrono::Days::new(days as u64);
        prop_assume!(d.year() <= 9999);
        prop_assert_eq!(parse_date(&d.format("%Y-%m-%d").to_string()), Some(d));
    }

    #[test]
    fn the_date_parser_agrees_with_chrono_on_fixed_width_strings(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}") {
        prop_assert_eq!(parse_date(&s), NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    }

    #[test]
    fn only_fixed_width_dates_parse(s in "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}") {
        let fixed = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        prop_assert!(fixed || parse_date(&s).is_none(), "{} parsed", s);
    }

    #[test]
    fn a_financial_date_is_accepted_exactly_within_its_window(
        days in -40_000i64..80_000,
        field in 0usize..5,
    ) {
        let (record, name) = [(BALANCE, "date"), (BILL, "due_on"), (BILL, "paid_on"), (FX_RATE, "date"), (TRANSACTION, "posted_at")][field];
        let d = EARLIEST_FINANCIAL_DATE + chrono::TimeDelta::days(days);
        let result = parse_line(&set_field(record, name, &value_for(name, &d.to_string())), today());
        let inside = (EARLIEST_FINANCIAL_DATE..=LATEST_DATE).contains(&d);
        prop_assert_eq!(result.is_ok(), inside, "{} = {}: {:?}", name, d, result);
    }

    #[test]
    fn a_timestamp_is_accepted_exactly_within_its_window(
        seconds in -5_000_000_000i64..8_000_000_000,
        offset_minutes in -14 * 60i32..=14 * 60,
    ) {
        let zone = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let t = DateTime::from_timestamp(seconds, 0).unwrap();
        let value = t.with_timezone(&zone).to_rfc3339();
        let result = parse_line(&set_field(TRANSACTION, "posted_at", &value), today());
        let inside = (EARLIEST_FINANCIAL_DATE..=LATEST_DATE).contains(&t.date_naive());
        prop_assert_eq!(result.is_ok(), inside, "{}: {:?}", value, result);
    }

    #[test]
    fn arbitrary_lines_never_panic(line in "\\PC{0,200}") {
        let _ = parse_line(&line, today());
    }

    #[test]
    fn amounts_round_trip_through_a_line(minor in -10_i64.pow(12)..10_i64.pow(12)) {
        let amount = Money::from_minor(minor, Currency::CNY).to_decimal_string();
        let line = format!(
            r#"{{"type":"transaction","id":"T1","account":"A1","posted_at":"2026-01-03T12:00:00Z","amount":"{amount}","currency":"CNY","category":"x"}}"#
        );
        let Ok(Record::Transaction(t)) = parse_line(&line, today()) else { panic!("refused {line}") };
        prop_assert_eq!(t.amount.minor(), minor);
    }
}

#[test]
fn amounts_beyond_the_record_limit_are_refused_in_every_amount_field() {
    // The value an outside test imported, and the exact limits either way.
    for (amount, currency, accepted) in [
        ("-92233720368547758.07", "CNY", false),
        ("10000000000000.00", "CNY", true),
        ("-10000000000000.00", "CNY", true),
        ("10000000000000.01", "CNY", false),
        ("10000000000000", "JPY", true),
        ("10000000000001", "JPY", false),
        ("10000000000000.000", "KWD", true),
        ("10000000000000.001", "KWD", false),
    ] {
        for line in [TRANSACTION, BALANCE, BILL] {
            if line == BILL && amount.starts_with('-') {
                continue; // a bill's amount is positive anyway
            }
            let line = set_field(&set_field(line, "currency", currency), "amount", amount);
            let result = parse_line(&line, today());
            assert_eq!(result.is_ok(), accepted, "{line}: {result:?}");
            if !accepted {
                let e = result.unwrap_err();
                assert!(e.contains("field `amount`") && e.contains("largest amount"), "{e}");
            }
        }
    }
}

#[test]
fn a_balance_may_name_its_institution() {
    let line = set_field(BALANCE, "institution", "Bank of China, Shanghai Branch");
    let Ok(Record::Balance(b)) = parse_line(&line, today()) else { panic!("refused {line}") };
    assert_eq!(b.institution.as_deref(), Some("Bank of China, Shanghai Branch"));
    let Ok(Record::Balance(b)) = parse_line(BALANCE, today()) else { panic!() };
    assert_eq!(b.institution, None);
    assert!(error_of(&set_field(BALANCE, "institution", " padded")).contains("field `institution`"));
    assert!(error_of(&set_field(TRANSACTION, "institution", "Bank")).contains("institution"));
}
