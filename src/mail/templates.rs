//! The messages' words: one askama template each for the subject, the plain
//! text and the HTML (`templates/mail/<kind>/`). Plain, accessible HTML with
//! inline styles, no remote images and no scripts; nothing secret beyond
//! what the report itself prints.

use askama::Template;

use super::MailError;

/// A message in words, before it is made into MIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who sends, and how the applicant reaches us: in every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub issuer_name: String,
    pub issuer_legal_name: String,
    pub contact: String,
}

/// A report as the applicant's email describes it (read from its
/// `report.json`, so a resend says what the report says).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ReportFacts {
    pub number: String,
    pub code: String,
    pub verification_url: String,
    pub full_name: String,
    pub as_of: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    /// The authority's name.
    pub authority: String,
}

macro_rules! mail_template {
    ($name:ident, $ctx:ty, $subject:literal, $text:literal, $html:literal) => {
        mod $name {
            use super::*;

            #[derive(Template)]
            #[template(path = $subject)]
            pub(super) struct Subject<'a>(pub &'a $ctx);

            #[derive(Template)]
            #[template(path = $text)]
            pub(super) struct Text<'a>(pub &'a $ctx);

            #[derive(Template)]
            #[template(path = $html)]
            pub(super) struct Html<'a>(pub &'a $ctx);

            impl std::ops::Deref for Subject<'_> {
                type Target = $ctx;
                fn deref(&self) -> &$ctx {
                    self.0
                }
            }
            impl std::ops::Deref for Text<'_> {
                type Target = $ctx;
                fn deref(&self) -> &$ctx {
                    self.0
                }
            }
            impl std::ops::Deref for Html<'_> {
                type Target = $ctx;
                fn deref(&self) -> &$ctx {
                    self.0
                }
            }
        }

        impl $ctx {
            pub fn render(&self) -> Result<Rendered, MailError> {
                let subject = $name::Subject(self).render()?;
                Ok(Rendered {
                    // One line, whatever the template's whitespace.
                    subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
                    text: $name::Text(self).render()? + "\n",
                    html: $name::Html(self).render()? + "\n",
                })
            }
        }
    };
}

/// A report issued (`replaces: None`) or reissued (`Some(old number)`),
/// the PDF attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMail {
    pub report: ReportFacts,
    pub replaces: Option<String>,
    /// The attached file's name.
    pub attachment: String,
    /// `{public}/verify`: number and code, or an upload.
    pub verify_page: String,
    /// `{public}/.well-known/jwks.json`.
    pub jwks_url: String,
    pub signature: Signature,
}

mail_template!(
    report_issued,
    ReportMail,
    "mail/report_issued/subject.txt",
    "mail/report_issued/body.txt",
    "mail/report_issued/body.html"
);

/// The same context, in the reissue's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReissueMail(pub ReportMail);

impl std::ops::Deref for ReissueMail {
    type Target = ReportMail;
    fn deref(&self) -> &ReportMail {
        &self.0
    }
}

mail_template!(
    report_reissued,
    ReissueMail,
    "mail/report_reissued/subject.txt",
    "mail/report_reissued/body.txt",
    "mail/report_reissued/body.html"
);

/// A report revoked, with the reason officers are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedMail {
    pub number: String,
    pub full_name: String,
    pub revoked_on: chrono::NaiveDate,
    pub reason: String,
    pub signature: Signature,
}

mail_template!(
    report_revoked,
    RevokedMail,
    "mail/report_revoked/subject.txt",
    "mail/report_revoked/body.txt",
    "mail/report_revoked/body.html"
);

/// An application refused because the score is not above the threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IneligibleMail {
    pub application: String,
    pub full_name: String,
    pub as_of: chrono::NaiveDate,
    pub threshold: u16,
    /// The scorecard's reasons, in words.
    pub reasons: Vec<String>,
    pub authority: String,
    /// Documents the authority accepts as proof of funds instead.
    pub alternatives: Vec<String>,
    /// The authority's own page on proof of funds.
    pub authority_guidance: String,
    pub signature: Signature,
}

mail_template!(
    application_ineligible,
    IneligibleMail,
    "mail/application_ineligible/subject.txt",
    "mail/application_ineligible/body.txt",
    "mail/application_ineligible/body.html"
);

/// The outcome of an identity review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityMail {
    pub application: String,
    pub full_name: String,
    pub approved: bool,
    /// Why it was rejected (shown only when rejected).
    pub reason: String,
    pub apply_page: String,
    pub status_page: String,
    pub signature: Signature,
}

mail_template!(
    identity_outcome,
    IdentityMail,
    "mail/identity_outcome/subject.txt",
    "mail/identity_outcome/body.txt",
    "mail/identity_outcome/body.html"
);

/// The documents IRCC lists as proof of financial support for a study
/// permit, besides a financial institution's letter (what an applicant we
/// cannot serve can use instead).
pub const IRCC_ALTERNATIVES: [&str; 6] = [
    "bank statements for the past 4 months, in your name",
    "a letter from a bank or financial institution showing your balances",
    "proof of a Canadian bank account in your name, if you have transferred money to Canada",
    "a Guaranteed Investment Certificate (GIC) from a participating Canadian financial institution",
    "proof of a student or education loan from a financial institution",
    "a letter from the person or school giving you money, or proof of a scholarship or funding",
];

/// IRCC's page on proof of financial support.
pub const IRCC_GUIDANCE: &str = "https://www.canada.ca/en/immigration-refugees-citizenship/services/study-canada/study-permit/get-documents/financial-support.html";
