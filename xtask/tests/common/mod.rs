//! What the CLI tests share: running the built `xtask` binary, its whole output, and a small corpus on disk.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `cargo xtask ARGS` (the binary this test build made) to the end.
pub fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs")
}

/// Its standard output, then its standard error.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every `step`-th built-in file, written under `dir`.
pub fn write_corpus(dir: &Path, step: usize) {
    for f in builtin_corpus::generate().iter().step_by(step) {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &f.text).unwrap();
    }
}
