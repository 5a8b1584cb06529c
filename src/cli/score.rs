//! `standing score ACCOUNT`: the score, its factors and the decision.

use std::io::Write;
use std::process::ExitCode;

use standing::clock::SharedClock;
use standing::config::Settings;
use standing::domain::AccountId;
use standing::scoring;
use standing::store::Store;

pub async fn run(
    settings: &Settings,
    clock: SharedClock,
    account: &AccountId,
    as_of: Option<chrono::NaiveDate>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let as_of = as_of.unwrap_or_else(|| clock.today());
    if let Err(e) = standing::report::build::check_not_future(as_of, clock.today()) {
        note!("error: {e}");
        return Ok(ExitCode::from(2));
    }
    // One connection, as for `standing report` (see there).
    let database = standing::config::DatabaseSettings { max_connections: 1, ..settings.database.clone() };
    let store = Store::open(&database).await?;
    let loaded = scoring::load::load_inputs(&store, account, as_of, settings.report.authority_currency).await;
    store.close().await;
    let (_, inputs) = match loaded {
        Err(scoring::load::LoadError::UnknownAccount(id)) => {
            note!("error: no account `{id}` (import it first, or check the id)");
            return Ok(ExitCode::from(2));
        }
        other => other?,
    };
    let decision = scoring::decide(&inputs, settings.scoring.threshold);
    if json {
        let mut value = serde_json::to_value(&decision)?;
        value["account"] = account.as_str().into();
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(out, "account {account}\n{}", scoring::render_text(&decision))?;
    }
    Ok(ExitCode::SUCCESS)
}
