//! Writing result files so that an interrupted run never leaves a half-written one: each file is written to
//! a temporary file in the destination folder and renamed over the old one only when complete.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Writes every `(name, contents)` into `dir`, each replaced atomically. All are staged first, so a failure
/// while writing any of them leaves every old file in place.
pub fn write_atomically(dir: &Path, files: &[(&str, Vec<u8>)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut staged = Vec::with_capacity(files.len());
    for (name, contents) in files {
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Temporary files are private (0600); results are ordinary files.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let mut temp = builder
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        temp.write_all(contents)
            .and_then(|()| temp.as_file().sync_all())
            .with_context(|| format!("cannot write {name}"))?;
        staged.push((temp, dir.join(name)));
    }
    for (temp, path) in staged {
        temp.persist(&path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
    }
    Ok(())
}
