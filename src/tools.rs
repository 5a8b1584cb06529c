//! The reference tools the unit tests ask about our PDFs: pyHanko, qpdf and
//! poppler. A missing tool skips its check with a notice locally and fails
//! the test in CI (`CI=true`; `.ci/run` installs them). The integration tests
//! have their own copy in `tests/it/tools.rs`: they cannot reach this one.

use std::process::{Command, ExitStatus};

pub(crate) struct ToolOutput {
    pub status: ExitStatus,
    pub stdout: String,
    /// Standard output and error together, for messages.
    pub text: String,
}

/// Runs `tool args...` where the argument `{pdf}` stands for a temporary
/// file holding `pdf`; `None` (after a notice) when the tool is missing.
pub(crate) fn run_on_pdf(tool: &str, args: &[&str], pdf: &[u8]) -> Option<ToolOutput> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let file = file.to_str().unwrap();
    let args: Vec<&str> = args.iter().map(|a| if *a == "{pdf}" { file } else { a }).collect();
    run(tool, &args)
}

/// pyHanko's verdict on `pdf`, trusting only `root_der`.
pub(crate) fn pyhanko_validate(pdf: &[u8], root_der: &[u8]) -> Option<ToolOutput> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, crate::keys::certificate_pem(root_der).unwrap()).unwrap();
    let root = root.to_str().unwrap();
    run_on_pdf("pyhanko", &["sign", "validate", "--pretty-print", "--trust-replace", "--trust", root, "{pdf}"], pdf)
}

fn run(tool: &str, args: &[&str]) -> Option<ToolOutput> {
    match Command::new(tool).args(args).output() {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
            Some(ToolOutput { status: out.status, stdout, text })
        }
        Err(e) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{tool} is required in CI: {e}");
            eprintln!("NOTICE: {tool} is not installed ({e}); skipping its check");
            None
        }
    }
}
