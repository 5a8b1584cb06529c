//! `standing reviews list|show|approve|reject`: the manual identity review,
//! until (and beside) the staff console. Each decision is stored with who
//! made it (`--by`, default the login name) and the time.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use standing::applications::{JourneyError, ReviewDecision, request_rng};
use standing::domain::application::ApplicationStatus;
use standing::web::AppState;

use super::ReviewsCommand;

fn reviewer(by: Option<String>) -> String {
    let name = by
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "operator".into());
    format!("staff:{}", name.trim())
}

fn refused(e: JourneyError) -> anyhow::Result<ExitCode> {
    match e {
        JourneyError::Unauthorized => {
            note!("error: no application with this id");
            Ok(ExitCode::from(2))
        }
        JourneyError::WrongStatus(status) => {
            note!("error: the application is {}; only applications in identity_review can be decided", status.as_str());
            Ok(ExitCode::from(3))
        }
        JourneyError::Invalid(fields) => {
            for (field, message) in fields {
                note!("error: {field}: {message}");
            }
            Ok(ExitCode::from(2))
        }
        JourneyError::Internal(e) => Err(e),
        other => Err(anyhow::anyhow!("{other}")),
    }
}

pub async fn run(state: &AppState, command: ReviewsCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let apps = &state.applications;
    match command {
        ReviewsCommand::List { all, json } => {
            let status = if all { None } else { Some(ApplicationStatus::IdentityReview) };
            let rows = state.store.applications(status, 500).await?;
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id, "status": r.status.as_str(), "purpose": r.purpose,
                            "created_at": r.created_at, "updated_at": r.updated_at,
                        })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            if rows.is_empty() {
                writeln!(out, "no applications {}", if all { "yet" } else { "waiting for review" })?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(out, "{:<36}  {:<17}  {:<19}  {:<20}  name", "application", "status", "purpose", "since")?;
            for row in &rows {
                let name = apps.details(row).map(|d| d.full_name).unwrap_or_else(|_| "(cannot open)".into());
                writeln!(
                    out,
                    "{:<36}  {:<17}  {:<19}  {:<20}  {name}",
                    row.id,
                    row.status.as_str(),
                    row.purpose,
                    row.updated_at.format("%Y-%m-%d %H:%M UTC"),
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReviewsCommand::Show { id, out: dir } => {
            let Some(row) = state.store.application(id.trim()).await? else {
                return refused(JourneyError::Unauthorized);
            };
            let details = apps.details(&row).map_err(|e| anyhow::anyhow!("{e}"))?;
            writeln!(out, "application {}", row.id)?;
            writeln!(out, "  status           {}", row.status.as_str())?;
            writeln!(out, "  full name        {}", details.full_name)?;
            writeln!(out, "  passport         {} ({})", details.passport_number, details.passport_country)?;
            writeln!(out, "  nationality      {}", details.nationality)?;
            writeln!(out, "  date of birth    {}", details.date_of_birth)?;
            writeln!(out, "  purpose          {} ({})", details.purpose, details.authority)?;
            writeln!(out, "  MRZ checked      {}", if details.mrz_checked { "yes" } else { "not given" })?;
            writeln!(out, "  matched account  {}", row.account_id.as_deref().unwrap_or("none"))?;
            if let Some(by) = &row.decided_by {
                let at = row.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                writeln!(out, "  decided by       {by} at {at}")?;
            }
            if let Some(score) = row.score {
                writeln!(out, "  score at gate    {score}")?;
            }
            if let Some(number) = &row.report_number {
                writeln!(out, "  report           {number}")?;
            }
            if let Some(error) = &row.last_error {
                writeln!(out, "  last error       {error} (attempts: {})", row.generation_attempts)?;
            }
            writeln!(out, "consents")?;
            for consent in state.store.application_consents(&row.id).await? {
                writeln!(
                    out,
                    "  {:<16} text {} at {}",
                    consent.kind,
                    consent.text_version,
                    consent.given_at.to_rfc3339()
                )?;
            }
            writeln!(out, "history")?;
            for event in state.store.application_events(&row.id).await? {
                writeln!(
                    out,
                    "  {}  {} -> {}  {} by {}",
                    event.at.format("%Y-%m-%d %H:%M:%S"),
                    event.from_status.as_deref().unwrap_or("(new)"),
                    event.to_status,
                    event.cause,
                    event.actor
                )?;
            }
            let evidence = state.store.identity_evidence(&row.id).await?;
            writeln!(out, "photos")?;
            if evidence.is_empty() {
                writeln!(out, "  none uploaded")?;
            }
            for photo in &evidence {
                writeln!(out, "  {:<14} {}x{} {} bytes", photo.kind, photo.width, photo.height, photo.bytes)?;
            }
            if let Some(dir) = dir {
                write_photos(state, &row.id, &evidence, &dir)?;
                writeln!(out, "photos written to {} (readable only by you)", dir.display())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReviewsCommand::Approve { id, by } => {
            let id = id.trim();
            let by = reviewer(by);
            let mut rng = request_rng();
            let status = match apps.decide(id, &ReviewDecision::Approve, &by, &mut rng).await {
                Ok(status) => status,
                Err(e) => return refused(e),
            };
            match status {
                ApplicationStatus::Generating => {
                    writeln!(out, "application {id}: identity approved by {by}; score above the threshold")?;
                    // Issue it now rather than waiting for a running service's
                    // next pass; a running service would take it just the same.
                    let pass =
                        state.generator().run_pass(Some(id), &mut rng).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    match pass.issued.first() {
                        Some((_, number)) => writeln!(out, "report {number} issued; the applicant can download it")?,
                        None if pass.failed > 0 => writeln!(
                            out,
                            "issuing the report failed; it is retried automatically (see `reviews show {id}`)"
                        )?,
                        None => writeln!(out, "the running service is issuing the report")?,
                    }
                }
                other => writeln!(
                    out,
                    "application {id}: identity approved by {by}; score not above the threshold: {}",
                    other.as_str()
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        ReviewsCommand::Reject { id, reason, by } => {
            let id = id.trim();
            let by = reviewer(by);
            match apps.decide(id, &ReviewDecision::Reject { reason }, &by, &mut request_rng()).await {
                Ok(status) => {
                    writeln!(out, "application {id}: {} by {by}", status.as_str())?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}

/// Writes the opened photos to `dir` (created private to this user).
fn write_photos(
    state: &AppState,
    id: &str,
    evidence: &[standing::store::EvidenceRow],
    dir: &Path,
) -> anyhow::Result<()> {
    standing::files::create_private_dir(dir)?;
    for photo in evidence {
        let bytes = state.applications.evidence_image(id, photo).map_err(|e| anyhow::anyhow!("{e}"))?;
        let path = dir.join(format!("{}.jpg", photo.kind));
        write_private(&path, &bytes)?;
    }
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(std::fs::write(path, bytes)?)
}
