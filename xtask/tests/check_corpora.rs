//! `cargo xtask check-corpora` on fixture sets laid out as `scripts/fetch-real-code.sh` stages them: it passes
//! disjoint sets and refuses each kind of overlap (a source file's content, a package, a repository spelled
//! two ways with a monorepo directory, a fork listed in the committed forks table), and a package that names
//! no repository. No network: the packages are written here.

use std::path::Path;
use std::process::{Command, Output};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A crate as crates.io unpacks it: `SET/rust/NAME-VERSION/{Cargo.toml,src/lib.rs}`.
fn crate_package(set: &Path, name: &str, repository: &str, lib: &str) {
    let dir = set.join("rust").join(format!("{name}-1.0.0"));
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nrepository = \"{repository}\"\n"
        ),
    );
    write(&dir.join("src/lib.rs"), lib);
}

/// An npm tarball unpacked: `SET/typescript/NAME-VERSION/package/{package.json,src/index.ts}`.
fn npm_package(set: &Path, name: &str, repository: &str, index: &str) {
    let dir = set.join("typescript").join(format!("{name}-2.0.0"));
    write(
        &dir.join("package/package.json"),
        &format!(
            "{{\"name\": \"{name}\", \"version\": \"2.0.0\", \"repository\": {{\"type\": \"git\", \"url\": \
             \"{repository}\", \"directory\": \"packages/{name}\"}}}}"
        ),
    );
    write(&dir.join("package/src/index.ts"), index);
    write(&dir.join("package/dist/index.d.ts"), "export {};\n");
}

/// A PyPI sdist unpacked: `SET/python/NAME-VERSION/{PKG-INFO,NAME/__init__.py}`.
fn pypi_package(set: &Path, name: &str, url: &str, init: &str) {
    let dir = set.join("python").join(format!("{name}-3.0.0"));
    write(
        &dir.join("PKG-INFO"),
        &format!(
            "Metadata-Version: 2.1\nName: {name}\nVersion: 3.0.0\nProject-URL: Documentation, \
             https://docs.example.org/\nProject-URL: Source, {url}\n\n# {name}\n"
        ),
    );
    write(&dir.join(format!("{name}/__init__.py")), init);
    write(&dir.join(format!("{name}/empty/__init__.py")), "\n");
    write(&dir.join("README.md"), "the same README everywhere\n");
}

/// Disjoint sets: no file, package, repository or fork in common (empty `__init__.py`s, READMEs and `.d.ts`
/// files alike in both, which the check does not compare).
fn disjoint(root: &Path) {
    let (measured, training) = (root.join("measured"), root.join("training"));
    crate_package(
        &measured,
        "rowan",
        "https://github.com/rust-analyzer/rowan",
        "pub fn measured() {}\n",
    );
    npm_package(
        &measured,
        "zod",
        "git+https://github.com/colinhacks/zod.git",
        "export const measured = 1;\n",
    );
    pypi_package(
        &measured,
        "flask",
        "https://github.com/pallets/flask/",
        "measured = 1\n",
    );
    crate_package(
        &training,
        "syn",
        "https://github.com/dtolnay/syn",
        "pub fn training() {}\n",
    );
    npm_package(
        &training,
        "rxjs",
        "https://github.com/reactivex/rxjs.git",
        "export const training = 1;\n",
    );
    pypi_package(
        &training,
        "Django",
        "https://github.com/django/django",
        "training = 1\n",
    );
}

fn check(root: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["check-corpora", "--training"])
        .arg(root.join("training"))
        .arg("--measured")
        .arg(root.join("measured"))
        .output()
        .expect("xtask runs")
}

/// Runs the check and returns its error output, asserting that it refused the sets.
fn refused(root: &Path) -> String {
    let output = check(root);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "accepted overlapping sets");
    assert!(
        !stderr.contains("panicked"),
        "a refusal, not a panic: {stderr}"
    );
    stderr
}

#[test]
fn disjoint_sets_pass() {
    let root = tempfile::tempdir().unwrap();
    disjoint(root.path());
    let output = check(root.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("3 measured and 3 training packages"),
        "{stdout}"
    );
    assert!(stdout.contains(": disjoint"), "{stdout}");
    assert!(
        stdout.contains("https://github.com/colinhacks/zod"),
        "{stdout}"
    );
}

#[test]
fn a_file_with_the_same_content_is_refused() {
    let root = tempfile::tempdir().unwrap();
    disjoint(root.path());
    // A generated table copied from one crate of a repository into another, as regex-syntax's were.
    let table = "pub const PERL_WORD: &[(char, char)] = &[('0', '9')];\n";
    crate_package(
        &root.path().join("measured"),
        "automata",
        "https://github.com/one/automata",
        table,
    );
    crate_package(
        &root.path().join("training"),
        "syntax",
        "https://github.com/two/syntax",
        table,
    );
    let stderr = refused(root.path());
    assert!(
        stderr.contains("automata") && stderr.contains("1 source file with the same content"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("\n- ").count(), 1, "{stderr}");
}

#[test]
fn the_same_package_in_both_sets_is_refused() {
    let root = tempfile::tempdir().unwrap();
    disjoint(root.path());
    // Another version, spelled as PyPI compares names, from a repository recorded elsewhere.
    pypi_package(
        &root.path().join("training"),
        "FLASK",
        "https://gitlab.com/mirror/flask",
        "other = 2\n",
    );
    let stderr = refused(root.path());
    assert!(stderr.contains("the same package"), "{stderr}");
}

#[test]
fn the_same_repository_in_both_sets_is_refused() {
    let root = tempfile::tempdir().unwrap();
    disjoint(root.path());
    // regex-automata measured, regex-syntax trained on: one monorepo, spelled two ways.
    crate_package(
        &root.path().join("measured"),
        "regex-automata",
        "https://github.com/rust-lang/regex/tree/master/regex-automata",
        "pub fn automata() {}\n",
    );
    npm_package(
        &root.path().join("training"),
        "regex-syntax-js",
        "git+ssh://git@github.com/Rust-Lang/regex.git",
        "export const syntax = 1;\n",
    );
    let stderr = refused(root.path());
    assert!(
        stderr.contains("the same repository https://github.com/rust-lang/regex"),
        "{stderr}"
    );
}

#[test]
fn a_listed_fork_is_refused() {
    let root = tempfile::tempdir().unwrap();
    disjoint(root.path());
    // cstree trained on while rowan is measured: the committed forks table joins them.
    crate_package(
        &root.path().join("training"),
        "cstree",
        "https://github.com/domenicquirl/cstree",
        "pub fn fork() {}\n",
    );
    let stderr = refused(root.path());
    assert!(
        stderr.contains("one repository's forks") && stderr.contains("is a fork of"),
        "{stderr}"
    );
}

#[test]
fn a_package_that_names_no_repository_is_refused() {
    let root = tempfile::tempdir().unwrap();
    disjoint(root.path());
    let dir = root.path().join("training/rust/anonymous-1.0.0");
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"anonymous\"\nversion = \"1.0.0\"\n",
    );
    write(&dir.join("src/lib.rs"), "pub fn anonymous() {}\n");
    let stderr = refused(root.path());
    assert!(stderr.contains("names no repository"), "{stderr}");

    std::fs::remove_file(dir.join("Cargo.toml")).unwrap();
    let stderr = refused(root.path());
    assert!(stderr.contains("has no package metadata"), "{stderr}");
}
