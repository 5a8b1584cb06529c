//! The applicant's identity checks, as pure parts the applicant journey
//! builds on: [`mrz`] reads a TD3 passport's machine-readable zone and
//! checks it against what was typed; [`otp`] makes and checks one-time codes
//! within NIST SP 800-63B. Time and randomness are passed in.

pub mod evidence;
pub mod input;
pub mod mrz;
pub mod otp;
