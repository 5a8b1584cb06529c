//! The applicant's identity checks, as pure parts the applicant journey
//! ([`crate::applications`]) builds on: [`input`] checks the application
//! form; [`mrz`] reads a TD3 passport's machine-readable zone and checks it
//! against what was typed; [`otp`] makes and checks one-time codes within
//! NIST SP 800-63B; [`evidence`] checks and cleans the identity photos;
//! [`webhook`] checks a KYC vendor's signed webhooks (for the vendor path,
//! still to come). Time and randomness are passed in.

pub mod evidence;
pub mod input;
pub mod mrz;
pub mod otp;
pub mod webhook;
