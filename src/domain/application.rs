//! An application's status and the only moves between them (DESIGN.md):
//! `awaiting_otp` → `awaiting_identity` → `identity_review` → `rejected` |
//! `ineligible` | `generating` → `issued`; an application left unfinished
//! by the applicant for 24 hours is `expired`. A step asked for out of turn
//! is refused with the status as it is (HTTP 409).

use std::fmt;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    AwaitingOtp,
    AwaitingIdentity,
    IdentityReview,
    Rejected,
    Ineligible,
    Generating,
    Issued,
    Expired,
}

/// What moves an application on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationEvent {
    /// The right one-time code, in time.
    CodeAccepted,
    /// The selfie and the passport page are in.
    EvidenceUploaded,
    /// Identity approved and the account scored: above the threshold or not.
    Approved { eligible: bool },
    /// Identity not confirmed.
    IdentityRejected,
    /// The report is recorded (and its email queued).
    ReportIssued,
    /// Unfinished by the applicant for too long.
    TimedOut,
}

/// A step asked for in the wrong status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the application is {current}: {event:?} does not apply now")]
pub struct WrongStatus {
    pub current: ApplicationStatus,
    pub event: ApplicationEvent,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 8] = [
        ApplicationStatus::AwaitingOtp,
        ApplicationStatus::AwaitingIdentity,
        ApplicationStatus::IdentityReview,
        ApplicationStatus::Rejected,
        ApplicationStatus::Ineligible,
        ApplicationStatus::Generating,
        ApplicationStatus::Issued,
        ApplicationStatus::Expired,
    ];

    /// The status after `event`, or why not.
    pub fn next(self, event: ApplicationEvent) -> Result<ApplicationStatus, WrongStatus> {
        use ApplicationEvent as E;
        use ApplicationStatus as S;
        match (self, event) {
            (S::AwaitingOtp, E::CodeAccepted) => Ok(S::AwaitingIdentity),
            (S::AwaitingIdentity, E::EvidenceUploaded) => Ok(S::IdentityReview),
            (S::IdentityReview, E::Approved { eligible: true }) => Ok(S::Generating),
            (S::IdentityReview, E::Approved { eligible: false }) => Ok(S::Ineligible),
            (S::IdentityReview, E::IdentityRejected) => Ok(S::Rejected),
            (S::Generating, E::ReportIssued) => Ok(S::Issued),
            // Only the applicant's own steps time out: a review waits for
            // staff, and a report being generated is finished by the service.
            (S::AwaitingOtp | S::AwaitingIdentity, E::TimedOut) => Ok(S::Expired),
            (current, event) => Err(WrongStatus { current, event }),
        }
    }

    /// No move leaves it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Rejected | Self::Ineligible | Self::Issued | Self::Expired)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingOtp => "awaiting_otp",
            Self::AwaitingIdentity => "awaiting_identity",
            Self::IdentityReview => "identity_review",
            Self::Rejected => "rejected",
            Self::Ineligible => "ineligible",
            Self::Generating => "generating",
            Self::Issued => "issued",
            Self::Expired => "expired",
        }
    }

    /// The stored name back; `None` for anything else.
    pub fn parse(s: &str) -> Option<ApplicationStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

impl fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ApplicationEvent as E;
    use super::ApplicationStatus as S;
    use super::*;

    const EVENTS: [ApplicationEvent; 7] = [
        E::CodeAccepted,
        E::EvidenceUploaded,
        E::Approved { eligible: true },
        E::Approved { eligible: false },
        E::IdentityRejected,
        E::ReportIssued,
        E::TimedOut,
    ];

    #[test]
    fn exactly_the_designed_moves_are_allowed() {
        let allowed = [
            (S::AwaitingOtp, E::CodeAccepted, S::AwaitingIdentity),
            (S::AwaitingIdentity, E::EvidenceUploaded, S::IdentityReview),
            (S::IdentityReview, E::Approved { eligible: true }, S::Generating),
            (S::IdentityReview, E::Approved { eligible: false }, S::Ineligible),
            (S::IdentityReview, E::IdentityRejected, S::Rejected),
            (S::Generating, E::ReportIssued, S::Issued),
            (S::AwaitingOtp, E::TimedOut, S::Expired),
            (S::AwaitingIdentity, E::TimedOut, S::Expired),
        ];
        for status in S::ALL {
            for event in EVENTS {
                let expected = allowed.iter().find(|(s, e, _)| *s == status && *e == event).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(status.next(event), Ok(to), "{status} {event:?}"),
                    None => assert_eq!(status.next(event), Err(WrongStatus { current: status, event })),
                }
            }
        }
    }

    #[test]
    fn final_statuses_accept_nothing_and_names_round_trip() {
        for status in S::ALL {
            assert_eq!(status.is_final(), EVENTS.iter().all(|e| status.next(*e).is_err()), "{status}");
            assert_eq!(S::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(S::parse("issued "), None);
    }
}
