//! `standing verify --jwks URL`: the published keys and the report's status
//! from a running service.
//!
//! `URL` is the JWKS (`https://host/.well-known/jwks.json`) or the service's
//! base (`https://host`). The root certificate comes from
//! `/.well-known/standing-root.pem` when the service serves it, else from the
//! keys' `x5c` chains; either way it is trusted because it came over HTTPS
//! from the service. The status is `GET /api/v1/reports/{number}?code=...`.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::{IssuedFacts, IssuedStatus};
use crate::keys::{KeyError, KeyRing};

const JWKS_PATH: &str = "/.well-known/jwks.json";
const ROOT_PATH: &str = "/.well-known/standing-root.pem";
const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{0} is not an http(s) URL")]
    BadUrl(String),
    #[error("{url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: the service answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: unexpected answer: {what}")]
    Malformed { url: String, what: String },
    #[error("the service's keys: {0}")]
    Keys(#[from] KeyError),
}

/// The service at a base URL.
#[derive(Debug, Clone)]
pub struct Service {
    base: reqwest::Url,
    client: reqwest::Client,
}

impl Service {
    /// From the JWKS URL or the base URL.
    pub fn new(url: &str) -> Result<Self, RemoteError> {
        let trimmed = url.trim_end_matches('/');
        let base = trimmed.strip_suffix(JWKS_PATH).unwrap_or(trimmed);
        let base = reqwest::Url::parse(base).map_err(|_| RemoteError::BadUrl(url.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(RemoteError::BadUrl(url.to_string()));
        }
        // Keys fetched over plain HTTP could be anyone's: only on this machine.
        let host = base.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if base.scheme() == "http" && !loopback {
            return Err(RemoteError::BadUrl(format!(
                "{url} (use https: keys fetched over plain http could be forged)"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("standing-verify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| RemoteError::Http { url: url.to_string(), source })?;
        Ok(Service { base, client })
    }

    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    async fn get(&self, url: reqwest::Url) -> Result<reqwest::Response, RemoteError> {
        let shown = redact(&url);
        self.client.get(url).send().await.map_err(|source| RemoteError::Http { url: shown, source })
    }

    /// The published keys, with the root.
    pub async fn key_ring(&self) -> Result<KeyRing, RemoteError> {
        let jwks_url = self.url(JWKS_PATH);
        let parsed = reqwest::Url::parse(&jwks_url).map_err(|_| RemoteError::BadUrl(jwks_url.clone()))?;
        let response = self.get(parsed).await?;
        if !response.status().is_success() {
            return Err(RemoteError::Status { url: jwks_url, status: response.status().as_u16() });
        }
        let jwks: Value =
            response.json().await.map_err(|e| RemoteError::Malformed { url: jwks_url.clone(), what: e.to_string() })?;
        let root_pem = match reqwest::Url::parse(&self.url(ROOT_PATH)) {
            Ok(url) => match self.get(url).await {
                Ok(r) if r.status().is_success() => r.text().await.ok(),
                _ => None,
            },
            Err(_) => None,
        };
        Ok(KeyRing::from_jwks(&jwks, root_pem.as_deref())?)
    }

    /// The report's status; `None` when the service does not know the
    /// number with this code (404).
    pub async fn status(&self, number: &str, code: &str) -> Result<Option<IssuedFacts<'static>>, RemoteError> {
        let mut url =
            reqwest::Url::parse(&self.url("/api/v1/reports")).map_err(|_| RemoteError::BadUrl(self.url("")))?;
        url.path_segments_mut().map_err(|_| RemoteError::BadUrl(self.url("")))?.push(number);
        url.query_pairs_mut().append_pair("code", code);
        let shown = redact(&url);
        let response = self.get(url).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(RemoteError::Status { url: shown, status: response.status().as_u16() });
        }
        let body: Value =
            response.json().await.map_err(|e| RemoteError::Malformed { url: shown.clone(), what: e.to_string() })?;
        parse_status(&body).map(Some).map_err(|what| RemoteError::Malformed { url: shown, what })
    }
}

/// The URL without its query: the verification code stays out of messages.
fn redact(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

/// The status API's answer (`{"report_number", "status", "revoked": {"at",
/// "reason"}?, "superseded": {"by", "at"}?, "valid_until", "pdf_sha256", ...}`) as the
/// facts verification uses.
pub fn parse_status(body: &Value) -> Result<IssuedFacts<'static>, String> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).ok_or_else(|| format!("no `{k}`"));
    let report_number = text("report_number")?.to_string();
    let valid_until: NaiveDate = text("valid_until")?.parse().map_err(|_| "`valid_until` is not a date".to_string())?;
    let sha = hex::decode(text("pdf_sha256")?).map_err(|_| "`pdf_sha256` is not hex".to_string())?;
    let pdf_sha256: [u8; 32] = sha.try_into().map_err(|_| "`pdf_sha256` is not 32 bytes".to_string())?;
    let time = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|s| s.parse::<DateTime<Utc>>().ok());
    let status = match text("status")? {
        "valid" => IssuedStatus::Valid,
        "expired" => IssuedStatus::Expired,
        "revoked" => {
            let revoked = body.get("revoked");
            IssuedStatus::Revoked {
                at: time(revoked.and_then(|r| r.get("at"))).ok_or("`revoked.at` is not a time")?,
                reason: revoked.and_then(|r| r.get("reason")).and_then(Value::as_str).unwrap_or_default().to_string(),
            }
        }
        "superseded" => {
            let superseded = body.get("superseded");
            IssuedStatus::Superseded {
                by: superseded
                    .and_then(|s| s.get("by"))
                    .and_then(Value::as_str)
                    .ok_or("no `superseded.by`")?
                    .to_string(),
                at: time(superseded.and_then(|s| s.get("at"))),
            }
        }
        other => return Err(format!("unknown status `{other}`")),
    };
    Ok(IssuedFacts { report_number, report_json: None, pdf_sha256, valid_until, status })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base_urls() {
        assert_eq!(Service::new("https://example.org/.well-known/jwks.json").unwrap().base(), "https://example.org");
        assert_eq!(Service::new("http://127.0.0.1:8080/").unwrap().base(), "http://127.0.0.1:8080");
        assert_eq!(Service::new("https://h/standing/.well-known/jwks.json").unwrap().base(), "https://h/standing");
        assert!(Service::new("file:///etc/passwd").is_err());
        assert!(Service::new("http://example.org/.well-known/jwks.json").is_err(), "plain http only on loopback");
        assert!(Service::new("http://localhost:8080").is_ok());
        assert!(Service::new("not a url").is_err());
    }

    #[test]
    fn status_answers() {
        let sha = "ab".repeat(32);
        let revoked = json!({"report_number": "SR-KYYF-9TKJ-6Q8Q", "status": "revoked",
            "revoked": {"at": "2026-12-01T10:00:00Z", "reason": "issued in error"},
            "issued_at": "2026-11-21T09:00:00Z", "valid_until": "2027-02-19", "pdf_sha256": sha, "key_facts": {}});
        let facts = parse_status(&revoked).unwrap();
        assert_eq!(facts.report_number, "SR-KYYF-9TKJ-6Q8Q");
        assert_eq!(facts.pdf_sha256, [0xab; 32]);
        assert!(matches!(facts.status, IssuedStatus::Revoked { ref reason, .. } if reason == "issued in error"));
        let superseded = json!({"report_number": "SR-A", "status": "superseded",
            "superseded": {"by": "SR-B", "at": "2026-12-01T10:00:00Z"}, "valid_until": "2027-02-19", "pdf_sha256": sha});
        assert!(
            matches!(parse_status(&superseded).unwrap().status, IssuedStatus::Superseded { ref by, .. } if by == "SR-B")
        );
        let odd = json!({"report_number": "SR-A", "status": "lost", "valid_until": "2027-02-19", "pdf_sha256": sha});
        assert!(parse_status(&odd).is_err());
        assert!(parse_status(&json!({"status": "valid"})).is_err());
    }

    #[test]
    fn the_code_is_kept_out_of_messages() {
        let url = reqwest::Url::parse("https://h/api/v1/reports/SR-1?code=SECRET").unwrap();
        assert_eq!(redact(&url), "https://h/api/v1/reports/SR-1");
    }
}
