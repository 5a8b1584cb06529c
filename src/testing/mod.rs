//! For tests only (unit and integration alike): the outside tools that
//! judge our PDFs — pyHanko, qpdf, poppler's pdfsig and pdftotext, zbarimg,
//! NSS's certutil. One runner, so every test treats a missing tool the same
//! way: skipped with a notice locally, a failure in CI (`CI=true`; `.ci/run`
//! installs them). [`smtp`] is an SMTP receiver with fault injection.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod smtp;

/// The master key every test and benchmark uses (base64 of the bytes
/// 0..=31): one constant, so a value sealed by one helper opens in another.
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// What a tool said.
pub struct ToolOutput {
    pub success: bool,
    pub stdout: String,
    /// Standard output and error together, for messages.
    pub text: String,
}

/// Runs `tool args...`; `None` (after a notice) when the tool is not
/// installed. Under `CI=true` a missing tool is a failure.
#[allow(clippy::unwrap_used, clippy::expect_used)] // a test helper fails loudly
pub fn run(tool: &str, args: &[&OsStr]) -> Option<ToolOutput> {
    match Command::new(tool).args(args).output() {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
            Some(ToolOutput { success: out.status.success(), stdout, text })
        }
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is required in CI (.ci/run installs it): {e}"
            );
            eprintln!("NOTICE: {tool} is not installed ({e}); skipping its check");
            None
        }
    }
}

/// A directory removed when dropped, for the files a tool reads.
struct Scratch(PathBuf);

impl Scratch {
    #[allow(clippy::unwrap_used)] // a test helper fails loudly
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("standing-tool-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tool args...` where the argument `{pdf}` stands for a temporary
/// file holding `pdf`.
#[allow(clippy::unwrap_used)] // a test helper fails loudly
pub fn run_on_pdf(tool: &str, args: &[&str], pdf: &[u8]) -> Option<ToolOutput> {
    let scratch = Scratch::new();
    let file = scratch.0.join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let args: Vec<&OsStr> = args.iter().map(|a| if *a == "{pdf}" { file.as_os_str() } else { OsStr::new(a) }).collect();
    run(tool, &args)
}

/// pyHanko's verdict on the file `pdf`, trusting only the root in `root_pem`.
pub fn pyhanko_validate(pdf: &Path, root_pem: &Path) -> Option<ToolOutput> {
    let args = ["sign", "validate", "--pretty-print", "--trust-replace", "--trust"];
    let mut args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    args.extend([root_pem.as_os_str(), pdf.as_os_str()]);
    run("pyhanko", &args)
}

/// pyHanko's verdict on `pdf` in memory, trusting only the root `root_der`.
#[allow(clippy::unwrap_used)] // a test helper fails loudly
pub fn pyhanko_validate_bytes(pdf: &[u8], root_der: &[u8]) -> Option<ToolOutput> {
    let scratch = Scratch::new();
    let (file, root) = (scratch.0.join("report.pdf"), scratch.0.join("root.pem"));
    std::fs::write(&file, pdf).unwrap();
    std::fs::write(&root, crate::keys::certificate_pem(root_der).unwrap()).unwrap();
    pyhanko_validate(&file, &root)
}

/// `pdftotext -layout FILE -` as a string.
pub fn pdftotext(pdf: &Path) -> Option<String> {
    run("pdftotext", &["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()]).map(|o| o.text)
}
