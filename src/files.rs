//! Working files that hold personal data or secrets: directories private
//! to the service's user.

use std::path::Path;

/// Creates `dir` and its missing parents, mode 0700 on Unix (an existing
/// directory is left as it is).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
