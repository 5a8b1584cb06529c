//! The scorecard on the demo data, through the store: every account's exact
//! score as of the demo date, the gate at 750 (refused) and 751 (eligible),
//! and `standing score` as an operator runs it.
//!
//! The table below is also printed in `docs/scoring.md` ("The demo
//! accounts"). A change to the scorecard, to `load_inputs` or to the demo
//! profiles that moves any score fails here; update both together.

use chrono::NaiveDate;
use standing::demo::demo_dir;
use standing::demo::{Band, DEMO_AS_OF, PROFILES};
use standing::domain::Currency;
use standing::scoring::{self, DEFAULT_THRESHOLD, Decision, SCORECARD_VERSION};
use standing::web::AppState;

use crate::helpers::*;

/// Every demo account's score as of 2026-11-21 (threshold 750).
const EXPECTED: &[(&str, u16)] = &[
    ("A1001", 924),
    ("A1002", 924),
    ("A1003", 750),
    ("A1004", 751),
    ("A1005", 746),
    ("A1006", 775),
    ("A1007", 787),
    ("A1008", 724),
    ("A1009", 560),
    ("A1010", 625),
    ("A1011", 726),
    ("A1012", 942),
    ("A1013", 882),
    ("A1014", 745),
];

/// The account that scores exactly the threshold, and the one just above it.
const AT_THE_GATE: &str = "A1003";
const JUST_ABOVE: &str = "A1004";

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

async fn demo_state(db: &TestDb) -> AppState {
    let state = state(db).await;
    assert!(state.load_demo_if_empty(&demo_dir()).await.unwrap(), "the database was empty");
    state
}

async fn decide(state: &AppState, id: &str) -> Decision {
    let (account, inputs) = scoring::load::load_inputs(&state.store, &acct(id), as_of(), Currency::CAD)
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(account.id.as_str(), id);
    scoring::decide(&inputs, DEFAULT_THRESHOLD)
}

#[tokio::test]
async fn demo_accounts_score_as_documented_and_the_gate_is_strictly_above_750() {
    assert_eq!(DEMO_AS_OF, as_of());
    assert_eq!(DEFAULT_THRESHOLD, 750);
    let ids: Vec<&str> = PROFILES.iter().map(|p| p.id).collect();
    let table: Vec<&str> = EXPECTED.iter().map(|(id, _)| *id).collect();
    assert_eq!(table, ids, "the table lists every demo account, in order");

    let db = TestDb::new().await;
    let state = demo_state(&db).await;

    let mut got = Vec::new();
    for profile in PROFILES {
        let d = decide(&state, profile.id).await;
        let id = profile.id;
        assert_eq!(d.scorecard, SCORECARD_VERSION, "{id}");
        assert_eq!(d.as_of, as_of(), "{id}");
        assert_eq!(d.currency, Currency::CNY, "{id}: scored in the scorecard's currency");
        assert_eq!(d.threshold, 750, "{id}");
        assert_eq!(d.factors.len(), 13, "{id}");
        assert_eq!(d.score, d.base + d.points, "{id}");
        assert_eq!(d.points, d.factors.iter().map(|f| f.points).sum::<u16>(), "{id}");
        assert_eq!(d.eligible, d.score > 750, "{id}: eligible iff the score is above 750");

        match profile.band {
            Band::Strong => assert!(d.score >= 880 && d.eligible, "{id}: strong, scored {}", d.score),
            Band::NearGate => assert!((700..=800).contains(&d.score), "{id}: near the gate, scored {}", d.score),
            Band::Weak => assert!(!d.eligible, "{id}: weak, scored {} and was found eligible", d.score),
        }

        if d.eligible {
            assert!(d.reasons.is_empty() && d.alternatives.is_none(), "{id}: eligible, so no reasons");
        } else {
            assert!(!d.reasons.is_empty() && d.reasons.len() <= 4, "{id}: {} reasons", d.reasons.len());
            for r in &d.reasons {
                assert!(r.points_lost > 0 && !r.text.is_empty() && !r.improve.is_empty(), "{id}: {r:?}");
            }
            let alternatives = d.alternatives.unwrap_or_else(|| panic!("{id}: refused without alternatives"));
            assert!(alternatives.contains("IRCC"), "{id}: {alternatives}");
        }
        got.push((id, d.score));
    }
    // All at once, so one run shows every score that moved.
    assert_eq!(got, EXPECTED, "demo scores as of {}", as_of());

    // The gate: exactly 750 is refused, 751 is eligible.
    let at = decide(&state, AT_THE_GATE).await;
    assert_eq!((at.score, at.eligible), (750, false), "{AT_THE_GATE}");
    assert!(!at.reasons.is_empty() && at.alternatives.is_some(), "{AT_THE_GATE}");
    let above = decide(&state, JUST_ABOVE).await;
    assert_eq!((above.score, above.eligible), (751, true), "{JUST_ABOVE}");
    assert!(above.reasons.is_empty() && above.alternatives.is_none(), "{JUST_ABOVE}");

    // Near-gate accounts land on both sides of the gate.
    let near: Vec<u16> = got
        .iter()
        .filter(|(id, _)| PROFILES.iter().any(|p| p.id == *id && p.band == Band::NearGate))
        .map(|(_, s)| *s)
        .collect();
    assert!(near.iter().filter(|s| **s < 750).count() >= 2, "{near:?}");
    assert!(near.iter().filter(|s| **s > 750).count() >= 2, "{near:?}");

    // An unknown account is an error naming it, not a score.
    let err = scoring::load::load_inputs(&state.store, &acct("NOPE"), as_of(), Currency::CAD).await.unwrap_err();
    assert!(matches!(err, scoring::load::LoadError::UnknownAccount(ref id) if id.as_str() == "NOPE"), "{err}");
}

#[tokio::test]
async fn score_command_prints_the_decision_as_json_and_rejects_unknown_accounts() {
    let db = TestDb::new().await;
    let state = demo_state(&db).await;
    state.store.close().await;

    let out = standing(&db).args(["score", "A1009", "--as-of", "2026-11-21", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(v["account"], "A1009");
    assert_eq!(v["score"].as_u64(), Some(560), "{v}");
    assert_eq!(v["eligible"], false);
    assert_eq!(v["threshold"], 750);
    assert_eq!(v["scorecard"], "scorecard-v2");
    assert_eq!(v["as_of"], "2026-11-21");
    let factors = v["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 13);
    assert!(factors.iter().all(|f| f["key"].is_string() && f["points"].is_u64() && f["max_points"].is_u64()));
    let reasons = v["reasons"].as_array().unwrap();
    assert!(!reasons.is_empty() && reasons.iter().all(|r| r["factor"].is_string() && r["text"].is_string()));
    assert!(v["alternatives"].as_str().is_some_and(|a| a.contains("IRCC")), "{v}");

    let out = standing(&db).args(["score", "NOPE", "--as-of", "2026-11-21"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no account `NOPE`"), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_documentation_lists_the_same_demo_scores() {
    let doc = include_str!("../../docs/scoring.md");
    let section = doc.split("## The demo accounts").nth(1).expect("docs/scoring.md has \"The demo accounts\"");
    let section = section.split("\n## ").next().unwrap_or(section);
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| A")).collect();
    let want: Vec<String> = EXPECTED
        .iter()
        .map(|(id, score)| {
            let name = PROFILES.iter().find(|p| p.id == *id).map(|p| p.full_name).unwrap();
            let decision = if *score > 750 { "eligible" } else { "not eligible" };
            format!("| {id} | {name} | {score} | {decision} |")
        })
        .collect();
    assert_eq!(rows, want, "docs/scoring.md, \"The demo accounts\", must match EXPECTED");
}
