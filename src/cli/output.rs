//! What every command writes with: [`note!`] for messages on standard
//! error, [`Output`] for the answer on standard output, [`Staged`] for files.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

/// A line on standard error. If standard error itself is gone there is no
/// one left to tell, so a failed write is ignored rather than a panic.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Standard output for a command's answer. When the reader has gone away
/// (a closed pipe), the rest of the answer is dropped without an error, so
/// the command finishes what it was doing and exits with its own status
/// (under `set -o pipefail` a NOT VALID report still fails). Other write
/// errors (a full disk) are returned.
pub struct Output<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> Output<W> {
    pub fn new(inner: W) -> Self {
        Output { inner, closed: false }
    }

    fn quietly(&mut self, result: std::io::Result<()>) -> std::io::Result<()> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write_all(buf);
        self.quietly(result).map(|()| buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.quietly(result)
    }
}

/// A file written beside its destination under a temporary name, moved into
/// place by [`Staged::publish`] (so a reader never sees half a report) or
/// removed when dropped unpublished.
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    published: bool,
}

impl Staged {
    pub fn write(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<Self> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        let tmp = dir.join(format!(".{}.tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
        Ok(Staged { tmp, path: path.to_owned(), published: false })
    }

    pub fn publish(mut self) -> anyhow::Result<()> {
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("moving the report to {}", self.path.display()))?;
        self.published = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every call with `kind`, counting the calls.
    struct Failing(std::io::ErrorKind, usize);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.1 += 1;
            Err(self.0.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            self.1 += 1;
            Err(self.0.into())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_quietly_and_other_errors_are_kept() {
        let mut out = Output::new(Failing(std::io::ErrorKind::BrokenPipe, 0));
        writeln!(out, "first line").unwrap();
        writeln!(out, "second line").unwrap();
        out.flush().unwrap();
        assert_eq!(out.inner.1, 1, "nothing is written once the reader has gone");

        let mut out = Output::new(Failing(std::io::ErrorKind::StorageFull, 0));
        assert!(writeln!(out, "a line").is_err(), "a full disk is an error");

        let mut out = Output::new(Vec::new());
        writeln!(out, "kept").unwrap();
        assert_eq!(out.inner, b"kept\n");
    }
}
