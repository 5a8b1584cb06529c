//! Looking a report up by number and code, shared by the status page, the
//! status API and the upload check: rate limits per client address first,
//! then the registry. A wrong code and an unknown number give the same
//! answer and cost the client the same failed-lookup token.

use std::net::IpAddr;

use super::AppState;
use crate::domain::{ReportNumber, VerificationCode};
use crate::registry::RegisteredReport;

pub use super::client_addr::ClientAddr;

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("too many requests from this address; try again in {0} seconds")]
    RateLimited(u64),
    #[error("{0}")]
    BadNumber(String),
    #[error("{0}")]
    BadCode(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Spends one request token of `client`; refuses when it has none left.
pub fn admit(state: &AppState, client: IpAddr) -> Result<(), LookupError> {
    state.limits.requests.take(client, state.clock.now()).map_err(|r| LookupError::RateLimited(r.seconds))
}

/// The report with this number and code, or `None` when the number is
/// unknown or the code wrong (indistinguishable by design). Malformed input
/// is reported as such: the format is public, so saying so reveals nothing.
pub async fn lookup(
    state: &AppState,
    client: IpAddr,
    number: &str,
    code: &str,
) -> Result<Option<RegisteredReport>, LookupError> {
    admit(state, client)?;
    let number = ReportNumber::parse(number).map_err(|e| LookupError::BadNumber(e.0))?;
    let code = VerificationCode::parse(code).map_err(|e| LookupError::BadCode(e.0))?;
    found_or_count(state, client, &number, &code).await
}

/// The registry lookup proper, after admission and parsing. A client out of
/// failed-lookup tokens gets no answer at all, right or wrong; a lookup that
/// finds nothing is charged even past zero, so guesses sent all at once are
/// all counted and paid for before the next one is answered.
pub async fn found_or_count(
    state: &AppState,
    client: IpAddr,
    number: &ReportNumber,
    code: &VerificationCode,
) -> Result<Option<RegisteredReport>, LookupError> {
    state.limits.failed_lookups.check(client, state.clock.now()).map_err(|r| LookupError::RateLimited(r.seconds))?;
    let found = state.registry.find_with_code(number, code.compact()).await.map_err(anyhow::Error::from)?;
    if found.is_none() {
        state.limits.failed_lookups.charge(client, state.clock.now());
        tracing::info!("report lookup found nothing");
    }
    Ok(found)
}
