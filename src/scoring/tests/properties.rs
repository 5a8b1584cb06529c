//! Properties of the scorecard over generated accounts.

use super::*;

// --- Properties ---------------------------------------------------------------

fn arb_inputs() -> impl Strategy<Value = ScoringInputs> {
    (
        0u64..3_000,
        (-60i64..4_000, -60i64..4_000, -60i64..4_000),
        prop::collection::vec((0u64..800, prop::option::weighted(0.85, -40i64..200)), 0..60),
        // Balances: how many days, a magnitude (10^scale minor units, so every
        // money band is reached), and a tilt that makes the recent or the
        // earlier months larger (so the trend is exercised).
        (0u64..=365, 3u32..=10, any::<bool>(), 1i64..=5),
        prop::collection::vec((prop::bool::weighted(0.9), -50i64..1_000), 365),
        3u32..=9,
        prop::collection::vec(prop::option::weighted(0.9, (0i64..1_000, 0i64..1_000)), 0..=12),
    )
        .prop_map(
            |(
                as_of_days,
                (opened, phone, address),
                bills,
                (n_days, scale, recent_larger, tilt),
                days,
                flow_scale,
                flows,
            )| {
                let as_of = d("2019-01-01") + Days::new(as_of_days);
                let back = |n: i64| {
                    if n >= 0 { as_of - Days::new(n as u64) } else { as_of + Days::new(n.unsigned_abs()) }
                };
                let bills = bills
                    .into_iter()
                    .map(|(due_back, paid)| {
                        let due_on = as_of - Days::new(due_back);
                        let paid_on = paid.map(|p| {
                            if p >= 0 { due_on + Days::new(p as u64) } else { due_on - Days::new(p.unsigned_abs()) }
                        });
                        BillOutcome { due_on, paid_on }
                    })
                    .collect();
                let daily_balances = (1..=n_days)
                    .rev()
                    .filter_map(|k| {
                        let (present, v) = days[(k - 1) as usize];
                        let tilted = if (k <= 91) == recent_larger { v * tilt } else { v };
                        present.then(|| (as_of - Days::new(k), i128::from(tilted * 10_i64.pow(scale) / 100)))
                    })
                    .collect();
                let first = as_of.with_day(1).unwrap();
                let n = flows.len() as u32;
                let months = flows
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, f)| {
                        f.map(|(spending, income)| MonthFlow {
                            month: first - Months::new(n - i as u32),
                            spending: i128::from(spending * 10_i64.pow(flow_scale) / 100),
                            income: i128::from(income * 10_i64.pow(flow_scale) / 100),
                            transactions: 10,
                        })
                    })
                    .collect();
                ScoringInputs {
                    as_of,
                    currency: Currency::CNY,
                    opened_on: back(opened),
                    phone_since: back(phone),
                    address_since: back(address),
                    bills,
                    daily_balances,
                    months,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn score_stays_within_350_to_950_and_adds_up(inputs in arb_inputs(), threshold in 300u16..1000) {
        let s = score(&inputs);
        prop_assert!((350..=950).contains(&s.score));
        prop_assert_eq!(s.score, BASE_SCORE + s.factors.iter().map(|f| f.points).sum::<u16>());
        for f in &s.factors {
            prop_assert!(f.points <= f.max_points);
        }
        let dec = decide(&inputs, threshold);
        prop_assert_eq!(dec.score, s.score);
        prop_assert_eq!(dec.eligible, s.score > threshold);
        prop_assert_eq!(dec.alternatives.is_some(), !dec.eligible);
        prop_assert!(dec.reasons.len() <= scorecard::MAX_REASONS);
        prop_assert!(dec.eligible <= dec.reasons.is_empty());
        prop_assert!(dec.reasons.windows(2).all(|w| w[0].points_lost >= w[1].points_lost));
        prop_assert!(dec.reasons.iter().all(|r| r.points_lost > 0 && !r.text.is_empty()));
    }

    #[test]
    fn score_is_deterministic_and_ignores_input_order(inputs in arb_inputs()) {
        let a = decide(&inputs, DEFAULT_THRESHOLD);
        let b = decide(&inputs.clone(), DEFAULT_THRESHOLD);
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        prop_assert_eq!(render_text(&a), render_text(&b));
        let mut reversed = inputs.clone();
        reversed.bills.reverse();
        reversed.daily_balances.reverse();
        reversed.months.reverse();
        prop_assert_eq!(decide(&reversed, DEFAULT_THRESHOLD), a);
    }

    #[test]
    fn an_extra_on_time_bill_never_lowers_the_score(
        inputs in arb_inputs(), due_back in 0u64..760, early in 0u64..30,
    ) {
        let before = score(&inputs).score;
        let mut more = inputs;
        let due_on = more.as_of - Days::new(due_back);
        more.bills.push(BillOutcome { due_on, paid_on: Some(due_on - Days::new(early)) });
        prop_assert!(score(&more).score >= before);
    }

    #[test]
    fn turning_an_on_time_bill_late_never_raises_the_score(
        inputs in arb_inputs(), pick in any::<prop::sample::Index>(), delay in 1u64..400,
    ) {
        let as_of = inputs.as_of;
        let on_time: Vec<usize> = (0..inputs.bills.len())
            .filter(|&i| inputs.bills[i].status(as_of) == BillStatus::OnTime)
            .collect();
        prop_assume!(!on_time.is_empty());
        let before = score(&inputs).score;
        let mut worse = inputs;
        let bill = &mut worse.bills[on_time[pick.index(on_time.len())]];
        bill.paid_on = Some(bill.due_on + Days::new(delay));
        prop_assert!(score(&worse).score <= before);
    }

    #[test]
    fn higher_balances_never_lower_the_score(
        inputs in arb_inputs(),
        span in (0usize..1_000, 0usize..1_000),
        scale in 2u32..=9,
        deltas in prop::collection::vec(prop::option::weighted(0.8, 0i64..1_000), 365),
    ) {
        // Days in a random span (only earlier days, only recent ones, one day
        // or all) get more money; no day gets less.
        let before = score(&inputs).score;
        let mut richer = inputs;
        let n = richer.daily_balances.len();
        let (lo, hi) = (span.0.min(span.1) * n / 1_000, span.0.max(span.1) * n / 1_000);
        for (i, (day, delta)) in richer.daily_balances.iter_mut().zip(deltas).enumerate() {
            if (lo..=hi).contains(&i) {
                day.1 += i128::from(delta.unwrap_or(0) * 10_i64.pow(scale) / 100);
            }
        }
        prop_assert!(score(&richer).score >= before);
    }

    #[test]
    fn a_longer_held_phone_number_never_lowers_the_score(inputs in arb_inputs(), earlier in 0u64..5_000) {
        let before = score(&inputs);
        let mut longer = inputs.clone();
        longer.phone_since = longer.phone_since - Days::new(earlier);
        prop_assert!(score(&longer).score >= before.score);
        // Same for the address and the account's age.
        let mut longer = inputs.clone();
        longer.address_since = longer.address_since - Days::new(earlier);
        longer.opened_on = longer.opened_on - Days::new(earlier);
        prop_assert!(score(&longer).score >= before.score);
    }

    #[test]
    fn extreme_values_never_panic(
        balances in prop::collection::vec((0u64..400, any::<i64>()), 0..200),
        flows in prop::collection::vec((0u32..14, any::<i64>(), any::<i64>()), 0..20),
        as_of_days in 0u64..3_000_000,
    ) {
        let as_of = NaiveDate::MIN + Days::new(as_of_days);
        let inputs = ScoringInputs {
            as_of,
            currency: Currency::CNY,
            opened_on: NaiveDate::MIN,
            phone_since: NaiveDate::MAX,
            address_since: as_of,
            bills: vec![BillOutcome { due_on: NaiveDate::MIN, paid_on: Some(NaiveDate::MAX) }],
            daily_balances: balances
                .into_iter()
                .filter_map(|(k, v)| as_of.checked_sub_days(Days::new(k)).map(|d| (d, i128::from(v))))
                .collect(),
            months: flows
                .into_iter()
                .filter_map(|(m, s, i)| {
                    as_of.with_day(1)?.checked_sub_months(Months::new(m)).map(|month| MonthFlow {
                        month,
                        spending: i128::from(s),
                        income: i128::from(i),
                        transactions: 0,
                    })
                })
                .collect(),
        };
        let dec = decide(&inputs, 0);
        prop_assert!((350..=950).contains(&dec.score));
        let _ = render_text(&dec);
    }
}
