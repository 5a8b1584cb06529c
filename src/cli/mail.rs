//! `standing mail list|retry|run`: the operators' view of the outbox.

use std::io::Write;
use std::process::ExitCode;

use standing::domain::ReportNumber;
use standing::mail::QueuedMail;
use standing::store::MailFilter;
use standing::web::AppState;

use super::MailCommand;

/// `--status`: which messages to list.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusFilter {
    Pending,
    Sent,
    Dead,
}

impl StatusFilter {
    fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Pending => "pending",
            StatusFilter::Sent => "sent",
            StatusFilter::Dead => "dead",
        }
    }
}

pub async fn run(state: &AppState, command: MailCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match command {
        MailCommand::List { status, report, limit, json } => {
            let report = match report.as_deref().map(ReportNumber::parse) {
                Some(Err(e)) => {
                    note!("error: --report: {}", e.0);
                    return Ok(ExitCode::from(2));
                }
                Some(Ok(n)) => Some(n),
                None => None,
            };
            let filter = MailFilter { status: status.map(StatusFilter::as_str), report: report.as_ref(), id: None };
            let mails = state.outbox.list(filter, limit).await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&mails)?)?;
            } else {
                print_table(out, &mails)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        MailCommand::Retry { id } => {
            let id = id.trim();
            if state.outbox.retry(id, state.clock.now()).await? {
                writeln!(out, "message {id} is due now")?;
                let worker = state.mail_worker()?;
                match worker.deliver_now(id).await? {
                    Some(outcome) => writeln!(out, "  {}", describe(&outcome))?,
                    None => writeln!(out, "  a running worker is sending it")?,
                }
                return Ok(ExitCode::SUCCESS);
            }
            match state.outbox.find(id).await? {
                Some(mail) => {
                    note!("error: message {id} is {}: only a dead or pending message can be retried", mail.status);
                    note!("(to send a report again as a new message: standing reports resend NUMBER --reason TEXT)");
                    Ok(ExitCode::FAILURE)
                }
                None => {
                    note!("error: no message {id}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        MailCommand::Run => {
            let worker = state.mail_worker()?;
            let summary = worker.run_pass().await?;
            writeln!(
                out,
                "mail run via {}: {} sent, {} to retry, {} dead, {} taken over by another worker",
                worker.mailer().describe(),
                summary.sent,
                summary.retrying,
                summary.dead,
                summary.lease_lost
            )?;
            Ok(if summary.dead > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
    }
}

fn describe(outcome: &standing::store::AttemptOutcome) -> String {
    use standing::store::AttemptOutcome::*;
    match outcome {
        Sent { delivered_as } => format!("sent: {delivered_as}"),
        Retry { at, error } => format!("not sent ({error}); next attempt {at}"),
        Dead { error } => format!("dead: {error}"),
    }
}

fn print_table(out: &mut dyn Write, mails: &[QueuedMail]) -> std::io::Result<()> {
    if mails.is_empty() {
        return writeln!(out, "no messages");
    }
    writeln!(
        out,
        "{:<36}  {:<7}  {:<16}  {:<19}  {:<24}  {:>3}  {:<16}  LAST ERROR / DELIVERED AS",
        "ID", "STATUS", "KIND", "REPORT", "TO", "TRY", "QUEUED"
    )?;
    for m in mails {
        let detail = match m.status.as_str() {
            "sent" => m.delivered_as.clone().unwrap_or_default(),
            "pending" => match &m.last_error {
                Some(e) => format!("next {}: {e}", m.next_attempt_at.format("%Y-%m-%d %H:%M:%S")),
                None => String::new(),
            },
            _ => m.last_error.clone().unwrap_or_default(),
        };
        writeln!(
            out,
            "{:<36}  {:<7}  {:<16}  {:<19}  {:<24}  {:>3}  {:<16}  {}",
            m.id,
            m.status,
            m.kind,
            m.report_number.as_deref().unwrap_or("-"),
            m.to,
            m.attempts,
            m.created_at.format("%Y-%m-%d %H:%M"),
            detail
        )?;
    }
    Ok(())
}
