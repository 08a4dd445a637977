//! Writing result files so that an interrupted or failed run never leaves a half-written one, nor a mix of
//! old and new files: every file is first written in full to a temporary file beside its destination; only
//! then are they renamed into place, one by one, each old file kept aside until all are in place; if a rename
//! fails, the files already replaced get their old contents back.

use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes every `(path, contents)`, all replaced together (see the module documentation).
pub fn write_atomically(files: &[(PathBuf, Vec<u8>)]) -> anyhow::Result<()> {
    write_atomically_with(files, |_| Ok(()))
}

/// [`write_atomically`], calling `before_rename(path)` before each file is renamed into place: tests inject a
/// failure there to see that the old files survive.
fn write_atomically_with(
    files: &[(PathBuf, Vec<u8>)],
    mut before_rename: impl FnMut(&Path) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, contents) in files {
        let dir = parent(path);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut temp = temp_file_in(dir, path)?;
        temp.write_all(contents)
            .and_then(|()| temp.as_file().sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        staged.push((temp, path));
    }
    // Old files move aside (as hard links, so each path always holds a whole file) until every new one is in.
    let mut replaced: Vec<(&PathBuf, Option<tempfile::TempPath>)> = Vec::with_capacity(files.len());
    for (temp, path) in staged {
        let result = keep_old(path).and_then(|old| {
            before_rename(path)?;
            temp.persist(path).map_err(|e| e.error)?;
            Ok(old)
        });
        match result {
            Ok(old) => replaced.push((path, old)),
            Err(error) => {
                restore(replaced);
                return Err(error).with_context(|| format!("cannot replace {}", path.display()));
            }
        }
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn temp_file_in(dir: &Path, path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Temporary files are private (0600); results are ordinary files.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))
}

/// A hard link to the current file at `path`, if there is one, deleted when dropped.
fn keep_old(path: &Path) -> std::io::Result<Option<tempfile::TempPath>> {
    if !path.exists() {
        return Ok(None);
    }
    let aside = tempfile::Builder::new()
        .prefix(".old.")
        .tempfile_in(parent(path))?
        .into_temp_path();
    std::fs::remove_file(&aside)?;
    std::fs::hard_link(path, &aside)?;
    Ok(Some(aside))
}

/// Puts the old files back where new ones were already renamed (and removes new files that had no old one).
fn restore(replaced: Vec<(&PathBuf, Option<tempfile::TempPath>)>) {
    for (path, old) in replaced.into_iter().rev() {
        let _ = match old {
            Some(old) => old.persist(path).map(|_| ()).map_err(|e| e.error),
            None => std::fs::remove_file(path),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn all_files_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.md"), dir.path().join("sub/b.json"));
        std::fs::write(&a, "old a").unwrap();
        write_atomically(&[
            (a.clone(), b"new a".to_vec()),
            (b.clone(), b"new b".to_vec()),
        ])
        .unwrap();
        assert_eq!((read(&a), read(&b)), ("new a".into(), "new b".into()));
        assert_eq!(
            leftovers(dir.path()),
            ["a.md", "sub"],
            "no temporary file left"
        );
    }

    /// A failure at any rename leaves every old file whole and no new file, staged or renamed, behind.
    #[test]
    fn a_failure_at_a_rename_leaves_the_old_files_intact() {
        for failing in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let paths: Vec<PathBuf> = ["compare.md", "compare.json", "new.svg"]
                .iter()
                .map(|n| dir.path().join(n))
                .collect();
            std::fs::write(&paths[0], "old md").unwrap();
            std::fs::write(&paths[1], "old json").unwrap();
            let files: Vec<(PathBuf, Vec<u8>)> =
                paths.iter().map(|p| (p.clone(), b"new".to_vec())).collect();
            let mut renames = 0;
            let result = write_atomically_with(&files, |_| {
                renames += 1;
                if renames > failing {
                    Err(std::io::Error::other("injected failure"))
                } else {
                    Ok(())
                }
            });
            let error = format!("{:#}", result.unwrap_err());
            assert!(error.contains("injected failure"), "{error}");
            assert_eq!(read(&paths[0]), "old md", "failing at rename {failing}");
            assert_eq!(read(&paths[1]), "old json", "failing at rename {failing}");
            assert!(!paths[2].exists(), "failing at rename {failing}");
            assert_eq!(
                leftovers(dir.path()),
                ["compare.json", "compare.md"],
                "failing at rename {failing}: no temporary file left"
            );
        }
    }
}
