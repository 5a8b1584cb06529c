//! `standing report` (issue one) and `standing reports
//! list|show|revoke|reissue` (the operators' commands on issued reports).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use standing::clock::SharedClock;
use standing::config::Settings;
use standing::domain::AccountId;
use standing::domain::ReportNumber;
use standing::keys;
use standing::mail::compose::Composed;
use standing::mail::notify::{NotifyError, Recipient};
use standing::registry::issue::{self, IssuedReport};
use standing::registry::{RegisteredReport, RegistryError, ReportState};
use standing::report::build::BuildError;
use standing::scoring;
use standing::store::AttemptOutcome;
use standing::web::AppState;

use super::ReportsCommand;
use super::output::Staged;

/// `standing report ACCOUNT --out FILE [--email]`: issued and recorded
/// first (with its email queued in the same transaction), then written, then
/// the email sent.
pub async fn issue(
    mut settings: Settings,
    clock: SharedClock,
    account: &AccountId,
    path: &Path,
    as_of: Option<chrono::NaiveDate>,
    email: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    // One connection: for a one-shot command its queries wait less on each
    // other than new connections take to open (about 2 ms of 28 on SQLite).
    settings.database.max_connections = 1;
    let state = AppState::open(settings, clock).await?;
    let now = state.clock.now();
    let as_of = as_of.unwrap_or_else(|| now.date_naive());
    let signer = keys::load_signer(&state.settings, &state.cipher, now)?;
    // A signed report the registry does not know would verify offline yet
    // fail every officer's online check, and could not be revoked. So the
    // registry records it before anything signed touches the disk: killed at
    // any moment, this command leaves either nothing or (part of) a recorded
    // report. A disk that fails afterwards leaves a recorded report to
    // export or revoke.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
    let recipient = email.then_some(Recipient::OnFile);
    let result = state.notifier().issue(&signer, account, as_of, now, &mut rng, recipient, None).await;
    let result = match result {
        Ok(done) => Ok(done),
        Err(NotifyError::Registry(e)) => Err(e),
        Err(e @ NotifyError::NoAddress { .. }) => {
            note!("error: {e}; nothing was written.");
            state.store.close().await;
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            state.store.close().await;
            return Err(e).context("issuing the report failed; nothing was written");
        }
    };
    let (issued, mail) = match result {
        Err(e) => {
            state.store.close().await;
            return issue_refused(account, e);
        }
        Ok(done) => done,
    };
    let written = Staged::write(path, &issued.pdf).and_then(Staged::publish).with_context(|| {
        format!(
            "report {} is recorded but its file could not be written; \
             export it with `standing reports show {} --pdf FILE`",
            issued.data.report_number, issued.data.report_number
        )
    });
    let sent = match &mail {
        Some(mail) => Some(send_now(&state, mail).await),
        None => None,
    };
    state.store.close().await;
    written?;
    writeln!(out, "report {} for account {account} as of {as_of}", issued.data.report_number)?;
    print_issued(out, &issued)?;
    writeln!(out, "  written to        {} ({} bytes)", path.display(), issued.pdf.len())?;
    if let (Some(mail), Some(sent)) = (&mail, sent) {
        print_sent(out, mail, &sent)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Why `standing report` refused, with its exit code.
fn issue_refused(account: &AccountId, e: RegistryError) -> anyhow::Result<ExitCode> {
    match e {
        RegistryError::Issue(issue::IssueError::Build(BuildError::Ineligible(decision))) => {
            note!("account {account} is not eligible for a report; nothing was written.\n");
            note!("{}", scoring::render_text(&decision));
            Ok(ExitCode::FAILURE)
        }
        RegistryError::Issue(issue::IssueError::Build(BuildError::UnknownAccount(id))) => {
            note!("error: no account `{id}` (import it first, or check the id)");
            Ok(ExitCode::from(2))
        }
        RegistryError::Issue(issue::IssueError::Build(
            e @ (BuildError::FutureAsOf { .. } | BuildError::StaleData { .. } | BuildError::TooLarge(_)),
        )) => {
            note!("error: {e}. Nothing was written.");
            Ok(ExitCode::from(2))
        }
        RegistryError::NotFound(what) => {
            note!("error: no {what}");
            Ok(ExitCode::from(2))
        }
        other => Err(other).context("issuing the report failed; nothing was written"),
    }
}

/// Sends a message just queued, once, now (the serving process's worker,
/// or `standing mail run`, retries it if this fails).
async fn send_now(state: &AppState, mail: &Composed) -> Result<Option<AttemptOutcome>, String> {
    let worker = state.mail_worker().map_err(|e| format!("{e:#}"))?;
    worker.deliver_now(&mail.id).await.map_err(|e| e.to_string())
}

fn print_sent(
    out: &mut dyn Write,
    mail: &Composed,
    sent: &Result<Option<AttemptOutcome>, String>,
) -> std::io::Result<()> {
    writeln!(out, "  email             {} to {} ({})", mail.id, mail.to, mail.message_id)?;
    match sent {
        Ok(Some(AttemptOutcome::Sent { delivered_as })) => writeln!(out, "  email sent        {delivered_as}"),
        Ok(Some(AttemptOutcome::Retry { at, error })) => {
            writeln!(out, "  email queued      not sent yet ({error}); next attempt {at}")
        }
        Ok(Some(AttemptOutcome::Dead { error })) => {
            writeln!(out, "  email dead        {error}; see `standing mail list --status dead`")
        }
        Ok(None) => writeln!(out, "  email queued      a running worker is sending it"),
        Err(error) => writeln!(out, "  email queued      not sent yet ({error}); `standing mail run` sends it"),
    }
}

/// The operators' commands on issued reports.
pub async fn reports(state: &AppState, action: ReportsCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let registry = &state.registry;
    let now = state.clock.now();
    let today = now.date_naive();
    match action {
        ReportsCommand::List { account, limit } => {
            let reports = registry.list(account.as_ref(), limit).await?;
            if reports.is_empty() {
                writeln!(out, "no reports")?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(
                out,
                "{:<19}  {:<12}  {:<10}  {:<10}  {:<11}  {:<10}",
                "NUMBER", "ACCOUNT", "AS OF", "ISSUED", "VALID UNTIL", "STATUS"
            )?;
            for r in &reports {
                writeln!(
                    out,
                    "{:<19}  {:<12}  {:<10}  {:<10}  {:<11}  {:<10}",
                    r.number.to_string(),
                    r.account_id,
                    r.as_of,
                    r.issued_at.date_naive(),
                    r.valid_until,
                    r.status(today).as_str()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportsCommand::Show { number, pdf, json } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            let Some(report) = registry.find(&number).await? else { return Ok(unknown(&number)) };
            if let Some(path) = &pdf {
                let bytes =
                    registry.pdf(&number).await?.ok_or_else(|| anyhow::anyhow!("report {number} has no PDF"))?;
                Staged::write(path, &bytes)?.publish()?;
            }
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&describe_json(&report, today))?)?;
            } else {
                print_report(out, &report, today)?;
            }
            if let Some(path) = &pdf {
                writeln!(out, "  PDF written to    {}", path.display())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportsCommand::Revoke { number, reason, no_email } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
            match state.notifier().revoke(&number, &reason, now, &mut rng, !no_email).await {
                Ok((report, mail)) => {
                    writeln!(out, "report {number} revoked")?;
                    print_report(out, &report, today)?;
                    if let Some(mail) = &mail {
                        print_sent(out, mail, &send_now(state, mail).await)?;
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => notify_refused(&number, e),
            }
        }
        ReportsCommand::Resend { number, to, reason } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
            let to = to.map_or(Recipient::OnFile, Recipient::Address);
            match state.notifier().resend(&number, to, &reason, now, &mut rng).await {
                Ok(mail) => {
                    writeln!(out, "report {number}: email queued")?;
                    print_sent(out, &mail, &send_now(state, &mail).await)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => notify_refused(&number, e),
            }
        }
        ReportsCommand::Reissue { number, reason, out: path, no_email } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            let signer = keys::load_signer(&state.settings, &state.cipher, now)?;
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
            // The new PDF is written only once the transaction that records
            // it has committed, for the same reason as `standing report`.
            let result = state.notifier().reissue(&signer, &number, &reason, now, &mut rng, !no_email).await;
            let (issued, old, mail) = match result {
                Ok(done) => done,
                Err(NotifyError::Registry(RegistryError::Issue(issue::IssueError::Build(BuildError::Ineligible(
                    decision,
                ))))) => {
                    note!("account is no longer eligible for a report; {number} stays as it was.\n");
                    note!("{}", scoring::render_text(&decision));
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return notify_refused(&number, e),
            };
            writeln!(
                out,
                "report {} issued for account {} as of {}",
                issued.data.report_number, old.account_id, issued.data.as_of
            )?;
            print_issued(out, &issued)?;
            match &path {
                Some(path) => {
                    Staged::write(path, &issued.pdf).and_then(Staged::publish).with_context(|| {
                        format!(
                            "the new report is recorded but its file could not be written; \
                             export it with `standing reports show {} --pdf FILE`",
                            issued.data.report_number
                        )
                    })?;
                    writeln!(out, "  written to        {} ({} bytes)", path.display(), issued.pdf.len())?;
                }
                None => writeln!(
                    out,
                    "  the PDF is kept in the registry: `standing reports show {} --pdf FILE`",
                    issued.data.report_number
                )?,
            }
            writeln!(out, "report {number} is now superseded by {}", issued.data.report_number)?;
            if let Some(mail) = &mail {
                print_sent(out, mail, &send_now(state, mail).await)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_number(text: &str) -> Option<ReportNumber> {
    match ReportNumber::parse(text) {
        Ok(n) => Some(n),
        Err(e) => {
            note!("error: `{}`: {}", text.trim(), e.0);
            None
        }
    }
}

fn unknown(number: &ReportNumber) -> ExitCode {
    note!("error: no report {number}");
    ExitCode::from(2)
}

/// [`refused`], and 2 when the applicant's address cannot be mailed.
fn notify_refused(number: &ReportNumber, e: NotifyError) -> anyhow::Result<ExitCode> {
    match e {
        NotifyError::Registry(e) => refused(number, e),
        e @ NotifyError::NoAddress { .. } => {
            note!("error: {e}; nothing was changed (use --no-email, or --to for a resend)");
            Ok(ExitCode::from(2))
        }
        NotifyError::Mail(e) => Err(e).context("composing the email failed; nothing was changed"),
    }
}

/// Exit codes: 2 for an unknown number or an unusable reason (the command
/// was wrong), 1 when the report's state forbids the action.
fn refused(number: &ReportNumber, e: RegistryError) -> anyhow::Result<ExitCode> {
    match e {
        RegistryError::NotFound(_) => Ok(unknown(number)),
        RegistryError::WrongState { state, .. } => {
            let why = match state {
                "revoked" => "a revoked report cannot be revoked again or reissued",
                "superseded" => "it was already replaced by a newer report; act on that one",
                "expired" => "its validity has ended; reissue it instead",
                _ => "its state does not allow this",
            };
            note!("error: report {number} is {state}: {why}");
            Ok(ExitCode::FAILURE)
        }
        e @ (RegistryError::EmptyReason
        | RegistryError::ReasonTooLong { .. }
        | RegistryError::ReasonHasControlCharacters) => {
            note!("error: --reason: {e}");
            Ok(ExitCode::from(2))
        }
        other => Err(other.into()),
    }
}

fn print_issued(out: &mut dyn Write, issued: &IssuedReport) -> std::io::Result<()> {
    writeln!(out, "  verification code {}", issued.data.verification_code)?;
    writeln!(out, "  verify at         {}", issued.data.verification_url)?;
    writeln!(out, "  valid until       {}", issued.data.valid_until)?;
    writeln!(out, "  signed with       {} key {}", issued.data.signing.algorithm, issued.data.signing.key_id)?;
    writeln!(out, "  sha-256           {}", hex::encode(issued.sha256))?;
    Ok(())
}

fn print_report(out: &mut dyn Write, r: &RegisteredReport, today: chrono::NaiveDate) -> std::io::Result<()> {
    let facts = r.key_facts();
    writeln!(out, "report {}  {}", r.number, r.status(today).as_str().to_uppercase())?;
    match &r.state {
        ReportState::Valid => {}
        ReportState::Revoked { at, reason } => writeln!(out, "  revoked           {at} ({reason})")?,
        ReportState::Superseded { by, at, reason } => writeln!(out, "  superseded by     {by} on {at} ({reason})")?,
    }
    writeln!(out, "  account           {}", r.account_id)?;
    writeln!(out, "  name              {}", facts.full_name)?;
    writeln!(out, "  passport          {} ({})", facts.passport_masked, facts.passport_country)?;
    writeln!(out, "  as of             {}", r.as_of)?;
    writeln!(out, "  issued at         {}", r.issued_at)?;
    writeln!(out, "  valid until       {}", r.valid_until)?;
    writeln!(out, "  total assets      {}", facts.total_assets)?;
    writeln!(out, "  monthly spending  {}", facts.average_monthly_spending)?;
    writeln!(out, "  bills on time     {}", facts.on_time_bill_rate)?;
    writeln!(out, "  key id            {}", r.key_id)?;
    writeln!(out, "  sha-256           {}", facts.pdf_sha256)?;
    Ok(())
}

fn describe_json(r: &RegisteredReport, today: chrono::NaiveDate) -> serde_json::Value {
    let mut v = serde_json::json!({
        "report_number": r.number,
        "status": r.status(today),
        "account": r.account_id,
        "as_of": r.as_of,
        "issued_at": r.issued_at,
        "valid_until": r.valid_until,
        "key_id": r.key_id,
        "pdf_sha256": hex::encode(r.pdf_sha256),
        "key_facts": r.key_facts(),
    });
    match &r.state {
        ReportState::Valid => {}
        ReportState::Revoked { at, reason } => v["revoked"] = serde_json::json!({ "at": at, "reason": reason }),
        ReportState::Superseded { by, at, reason } => {
            v["superseded_by"] = by.as_str().into();
            v["superseded"] = serde_json::json!({ "by": by, "at": at, "reason": reason });
        }
    }
    v
}
