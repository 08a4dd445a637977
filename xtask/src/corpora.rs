//! `cargo xtask check-corpora`: refuses a training set and a measured set that share anything a sceptic would
//! call the same code: a source file's content, a package, a repository, or a fork of one.
//!
//! Layout read: each set directory holds `LANGUAGE/PACKAGE` directories, as `scripts/fetch-real-code.sh` lays
//! them out before it keeps only the source files. A package's identity is read from its own metadata, in
//! its directory or in its `package/` folder (how npm tarballs unpack): `PKG-INFO` (a PyPI sdist: `Name`,
//! `Version`, `Home-page`, and the `Project-URL`s labelled as source, home or issues), `Cargo.toml`
//! (crates.io: `package.name`, `.version`, `.repository`) or `package.json` (npm: `name`, `version`,
//! `repository`, a string or `{ url, directory }`). A package that names no repository is refused: nothing
//! could then show it is unrelated.
//!
//! What counts as the same:
//! - **file**: byte-identical content of a source file (what the corpus loader measures: `.py`, `.rs`, `.ts`,
//!   `.tsx`, declaration files `.d.ts` excepted, as the fetch script removes them); files with no content
//!   (empty or whitespace only) are not compared.
//! - **package**: the same registry and name, whatever the versions (names normalised as each registry
//!   compares them: PyPI's PEP 503 form, crates.io's `-` for `_`, npm's lower case).
//! - **repository**: one repository URL in common, each normalised by [`normalise_repository`] (lower case,
//!   https, no `.git`, no trailing slash, no query; on a code host only `owner/name`, so the directory of a
//!   package in a monorepo is ignored).
//! - **fork**: repositories joined by the forks table (`scripts/forks.txt`, one `FORK ORIGIN REASON` a line),
//!   transitively.
//!
//! Cost: every source file of both sets is read once; the measured set's contents are held as the keys of
//! one hash map (memory about the measured set's size) and each training file is looked up in it, so the
//! time is proportional to the bytes read. Package pairs are compared all against all (tens of packages).

use anyhow::{bail, Context, Result};
use cst_measure::Language;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The forks table kept in the repository.
pub const FORKS_TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/forks.txt");

/// Hosts whose URLs name a repository as `host/owner/name/...`: the rest of the path is a place inside it.
const CODE_HOSTS: [&str; 4] = ["github.com", "gitlab.com", "bitbucket.org", "codeberg.org"];

/// `Project-URL` labels of PKG-INFO that name the project's repository or home (normalised: lower case, no
/// spaces, dashes, underscores or dots); documentation, changelogs, funding and chat do not.
const PYPI_REPOSITORY_LABELS: [&str; 12] = [
    "source",
    "sourcecode",
    "code",
    "repository",
    "repo",
    "github",
    "gitlab",
    "homepage",
    "home",
    "issues",
    "issuetracker",
    "tracker",
];

/// The registry a package came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Registry {
    PyPi,
    Crates,
    Npm,
}

impl Registry {
    fn name(self) -> &'static str {
        match self {
            Registry::PyPi => "PyPI",
            Registry::Crates => "crates.io",
            Registry::Npm => "npm",
        }
    }

    /// The name as the registry compares names.
    fn normalise_name(self, name: &str) -> String {
        let name = name.trim().to_lowercase();
        match self {
            Registry::PyPi => {
                let mut out = String::with_capacity(name.len());
                for c in name.chars() {
                    let c = if matches!(c, '-' | '_' | '.') { '-' } else { c };
                    if !(c == '-' && out.ends_with('-')) {
                        out.push(c);
                    }
                }
                out
            }
            Registry::Crates => name.replace('_', "-"),
            Registry::Npm => name,
        }
    }
}

/// One package of a set, as its metadata names it.
#[derive(Debug)]
struct Package {
    set: &'static str,
    dir: PathBuf,
    registry: Registry,
    name: String,
    version: String,
    repositories: BTreeSet<String>,
    source_files: usize,
    source_bytes: u64,
}

impl Package {
    fn label(&self) -> String {
        format!(
            "{} {} {} ({})",
            self.set,
            self.registry.name(),
            self.name,
            self.version
        )
    }
}

/// A repository that began as a copy of another.
#[derive(Debug)]
struct Fork {
    fork: String,
    origin: String,
    reason: String,
}

/// Reads the forks table: `FORK ORIGIN REASON` a line, `#` comments and blank lines ignored.
fn read_forks(path: &Path) -> Result<Vec<Fork>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the forks table {}", path.display()))?;
    parse_forks(&text).with_context(|| format!("in the forks table {}", path.display()))
}

fn parse_forks(text: &str) -> Result<Vec<Fork>> {
    let mut forks = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.splitn(3, char::is_whitespace);
        let (Some(fork), Some(origin), Some(reason)) = (words.next(), words.next(), words.next())
        else {
            bail!(
                "line {}: expected `FORK ORIGIN REASON`, found {line:?}",
                number + 1
            );
        };
        let reason = reason.trim();
        if reason.is_empty() {
            bail!("line {}: the fork {fork} gives no reason", number + 1);
        }
        forks.push(Fork {
            fork: normalise_repository(fork),
            origin: normalise_repository(origin),
            reason: reason.to_string(),
        });
    }
    Ok(forks)
}

/// A repository URL in the one form every metadata spelling of it reduces to: lower case, `https://HOST/PATH`
/// (from `git+https://`, `git://`, `http://`, `ssh://git@`, `git@HOST:`, npm's `github:` and `owner/name`
/// shorthands), no `www.`, query, fragment, `.git` or trailing slash; on a code host only `owner/name`.
pub fn normalise_repository(url: &str) -> String {
    let mut url = url.trim().to_lowercase();
    for (shorthand, host) in [
        ("github:", "github.com"),
        ("gitlab:", "gitlab.com"),
        ("bitbucket:", "bitbucket.org"),
    ] {
        if let Some(rest) = url.strip_prefix(shorthand) {
            url = format!("https://{host}/{rest}");
        }
    }
    if let Some(rest) = url.strip_prefix("git+") {
        url = rest.to_string();
    }
    let rest = if let Some((_, rest)) = url.split_once("://") {
        let rest = rest.split_once('@').map_or(rest, |(user, host)| {
            // `ssh://git@host/...`: a user before the host, not an `@` later in the path.
            if user.contains('/') {
                rest
            } else {
                host
            }
        });
        rest.to_string()
    } else if let Some(rest) = url.strip_prefix("git@") {
        rest.replacen(':', "/", 1)
    } else if url.split('/').count() == 2 && !url.contains(':') && !url.contains('.') {
        format!("github.com/{url}")
    } else {
        url.clone()
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let mut parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    if let Some(host) = parts.first() {
        // A port on a code host's ssh URL (`github.com:22`) names the same host.
        let host = host.split(':').next().unwrap_or(host);
        if CODE_HOSTS.contains(&host) {
            parts[0] = host;
            if host == "gitlab.com" {
                if let Some(dash) = parts.iter().position(|p| *p == "-") {
                    parts.truncate(dash);
                }
            } else {
                parts.truncate(3);
            }
        }
    }
    let mut out = format!("https://{}", parts.join("/"));
    while let Some(stripped) = out.strip_suffix(".git") {
        out = stripped.to_string();
    }
    out
}

/// The metadata file of the package in `dir`: in it, or in its `package/` folder.
fn metadata_file(dir: &Path) -> Option<(Registry, PathBuf)> {
    for base in [dir.to_path_buf(), dir.join("package")] {
        for (registry, name) in [
            (Registry::PyPi, "PKG-INFO"),
            (Registry::Crates, "Cargo.toml"),
            (Registry::Npm, "package.json"),
        ] {
            let path = base.join(name);
            if path.is_file() {
                return Some((registry, path));
            }
        }
    }
    None
}

/// (name, version, repositories) from a PyPI sdist's PKG-INFO: its headers, up to the first blank line.
fn read_pkg_info(text: &str) -> Result<(String, String, Vec<String>)> {
    let (mut name, mut version, mut urls) = (None, None, Vec::new());
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue; // a continued header (an old-style description)
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value.to_string()),
            "version" => version = Some(value.to_string()),
            "home-page" if !value.is_empty() && value != "UNKNOWN" => urls.push(value.to_string()),
            "project-url" => {
                let Some((label, url)) = value.split_once(',') else {
                    continue;
                };
                let label: String = label
                    .to_lowercase()
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
                    .collect();
                if PYPI_REPOSITORY_LABELS.contains(&label.as_str()) {
                    urls.push(url.trim().to_string());
                }
            }
            _ => {}
        }
    }
    Ok((
        name.context("no `Name:` header")?,
        version.context("no `Version:` header")?,
        urls,
    ))
}

/// (name, version, repositories) from a crate's Cargo.toml.
fn read_cargo_toml(text: &str) -> Result<(String, String, Vec<String>)> {
    let table: toml::Table = toml::from_str(text).context("not valid TOML")?;
    let package = table
        .get("package")
        .and_then(toml::Value::as_table)
        .context("no [package] table")?;
    let field = |key: &str| package.get(key).and_then(toml::Value::as_str);
    Ok((
        field("name").context("no package.name")?.to_string(),
        field("version").context("no package.version")?.to_string(),
        field("repository")
            .map(str::to_string)
            .into_iter()
            .collect(),
    ))
}

/// (name, version, repositories) from an npm package.json.
fn read_package_json(text: &str) -> Result<(String, String, Vec<String>)> {
    let json: serde_json::Value = serde_json::from_str(text).context("not valid JSON")?;
    let field = |key: &str| json.get(key).and_then(serde_json::Value::as_str);
    let repository = match json.get("repository") {
        Some(serde_json::Value::String(url)) => Some(url.clone()),
        Some(object) => object
            .get("url")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
        None => None,
    };
    Ok((
        field("name").context("no `name`")?.to_string(),
        field("version").context("no `version`")?.to_string(),
        repository.into_iter().collect(),
    ))
}

/// Whether the corpus loader measures this file once the fetch script has pruned the packages.
fn is_source(path: &Path) -> bool {
    Language::from_path(path).is_some()
        && !path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".d.ts"))
}

/// A source file's path and content.
type Source = (PathBuf, Vec<u8>);

/// Every source file under `dir` that holds more than whitespace, with its content.
fn source_files(dir: &Path) -> Result<Vec<Source>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("walking {}", dir.display()))?;
        if !entry.file_type().is_file() || !is_source(entry.path()) {
            continue;
        }
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        files.push((entry.path().to_path_buf(), bytes));
    }
    Ok(files)
}

/// The packages of one set directory (`SET/LANGUAGE/PACKAGE`), each with its source files.
fn read_set(set: &'static str, root: &Path) -> Result<Vec<(Package, Vec<Source>)>> {
    let mut packages = Vec::new();
    let mut languages: Vec<PathBuf> = std::fs::read_dir(root)
        .with_context(|| format!("reading the {set} set {}", root.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading the {set} set {}", root.display()))?;
    languages.sort();
    for language in languages {
        if !language.is_dir() {
            bail!(
                "{} is not in a language's folder (the layout is SET/LANGUAGE/PACKAGE)",
                language.display()
            );
        }
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&language)
            .with_context(|| format!("reading {}", language.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("reading {}", language.display()))?;
        dirs.sort();
        for dir in dirs {
            if !dir.is_dir() {
                bail!(
                    "{} is not in a package's folder (the layout is SET/LANGUAGE/PACKAGE)",
                    dir.display()
                );
            }
            packages.push(read_package(set, root, &dir)?);
        }
    }
    if packages.is_empty() {
        bail!("the {set} set {} holds no package", root.display());
    }
    Ok(packages)
}

fn read_package(set: &'static str, root: &Path, dir: &Path) -> Result<(Package, Vec<Source>)> {
    let (registry, path) = metadata_file(dir).with_context(|| {
        format!(
            "{} has no package metadata (PKG-INFO, Cargo.toml or package.json): its repository cannot be told",
            dir.display()
        )
    })?;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (it must be UTF-8)", path.display()))?;
    let (name, version, urls) = match registry {
        Registry::PyPi => read_pkg_info(&text),
        Registry::Crates => read_cargo_toml(&text),
        Registry::Npm => read_package_json(&text),
    }
    .with_context(|| format!("reading {}", path.display()))?;
    let repositories: BTreeSet<String> = urls.iter().map(|u| normalise_repository(u)).collect();
    if repositories.is_empty() {
        bail!(
            "{} names no repository: nothing can show that {} {name} is unrelated to the other set's code",
            path.display(),
            registry.name()
        );
    }
    let files = source_files(dir)?;
    let package = Package {
        set,
        // Named from the set's folder on (`measured/rust/rowan-0.16.1`), wherever it was staged.
        dir: dir
            .strip_prefix(root.parent().unwrap_or(root))
            .unwrap_or(dir)
            .to_path_buf(),
        registry,
        name: registry.normalise_name(&name),
        version,
        repositories,
        source_files: files.len(),
        source_bytes: files.iter().map(|(_, b)| b.len() as u64).sum(),
    };
    Ok((package, files))
}

/// Repositories joined into families by the forks table.
struct Families {
    parent: HashMap<String, String>,
}

impl Families {
    fn new(forks: &[Fork]) -> Families {
        let mut families = Families {
            parent: HashMap::new(),
        };
        for fork in forks {
            let (a, b) = (families.root(&fork.fork), families.root(&fork.origin));
            if a != b {
                families.parent.insert(a, b);
            }
        }
        families
    }

    fn root(&self, repository: &str) -> String {
        let mut at = repository;
        while let Some(up) = self.parent.get(at) {
            at = up;
        }
        at.to_string()
    }
}

/// Checks the sets; prints the packages (stdout) and returns false, having listed every overlap (stderr),
/// when a training set and a measured set share anything.
pub fn run(training: &[PathBuf], measured: &[PathBuf], forks: &Path) -> Result<bool> {
    let forks = read_forks(forks)?;
    let (report, overlaps) = check(training, measured, &forks)?;
    print!("{report}");
    if overlaps.is_empty() {
        return Ok(true);
    }
    eprintln!(
        "error: the training and measured sets overlap in {} ways:",
        overlaps.len()
    );
    for overlap in &overlaps {
        eprintln!("- {overlap}");
    }
    Ok(false)
}

/// The packages' listing and every overlap found, one sentence each.
fn check(
    training: &[PathBuf],
    measured: &[PathBuf],
    forks: &[Fork],
) -> Result<(String, Vec<String>)> {
    if training.is_empty() || measured.is_empty() {
        bail!("give at least one --training and one --measured set");
    }
    let mut measured_packages = Vec::new();
    let mut contents: HashMap<Vec<u8>, (usize, PathBuf)> = HashMap::new();
    for root in measured {
        for (package, files) in read_set("measured", root)? {
            for (path, bytes) in files {
                contents
                    .entry(bytes)
                    .or_insert((measured_packages.len(), path));
            }
            measured_packages.push(package);
        }
    }
    let mut training_packages = Vec::new();
    // (measured package, training package) -> (files with the same content, the first such pair).
    let mut same_files: BTreeMap<(usize, usize), (usize, PathBuf, PathBuf)> = BTreeMap::new();
    for root in training {
        for (package, files) in read_set("training", root)? {
            for (path, bytes) in files {
                if let Some((m, measured_path)) = contents.get(&bytes) {
                    same_files
                        .entry((*m, training_packages.len()))
                        .or_insert((0, measured_path.clone(), path))
                        .0 += 1;
                }
            }
            training_packages.push(package);
        }
    }

    let families = Families::new(forks);
    let mut overlaps = Vec::new();
    for (i, m) in measured_packages.iter().enumerate() {
        for (j, t) in training_packages.iter().enumerate() {
            let pair = format!("{} and {}", m.label(), t.label());
            if let Some((count, a, b)) = same_files.get(&(i, j)) {
                overlaps.push(format!(
                    "{pair}: {count} source file{} with the same content (the first: {} and {})",
                    if *count == 1 { "" } else { "s" },
                    a.display(),
                    b.display()
                ));
            }
            if m.registry == t.registry && m.name == t.name {
                overlaps.push(format!("{pair}: the same package"));
            }
            let shared: Vec<&String> = m.repositories.intersection(&t.repositories).collect();
            if !shared.is_empty() {
                let shared: Vec<&str> = shared.iter().map(|s| s.as_str()).collect();
                overlaps.push(format!("{pair}: the same repository {}", shared.join(", ")));
                continue;
            }
            for a in &m.repositories {
                for b in &t.repositories {
                    let family = families.root(a);
                    if family != families.root(b) {
                        continue;
                    }
                    let reasons: Vec<String> = forks
                        .iter()
                        .filter(|f| families.root(&f.fork) == family)
                        .map(|f| format!("{} is a fork of {}: {}", f.fork, f.origin, f.reason))
                        .collect();
                    overlaps.push(format!(
                        "{pair}: {a} and {b} are one repository's forks ({})",
                        reasons.join("; ")
                    ));
                }
            }
        }
    }

    let mut report = String::new();
    for p in measured_packages.iter().chain(&training_packages) {
        let repositories: Vec<&str> = p.repositories.iter().map(String::as_str).collect();
        let _ = writeln!(
            report,
            "{:<9} {:<9} {:<28} {:>4} source files with content, {:>9} bytes  {}  ({})",
            p.set,
            p.registry.name(),
            format!("{} {}", p.name, p.version),
            p.source_files,
            p.source_bytes,
            repositories.join(" "),
            p.dir.display(),
        );
    }
    let _ = writeln!(
        report,
        "{} measured and {} training packages compared by source file content, package, repository and {} \
         listed forks: {}",
        measured_packages.len(),
        training_packages.len(),
        forks.len(),
        if overlaps.is_empty() {
            "disjoint".to_string()
        } else {
            format!("{} overlaps", overlaps.len())
        }
    );
    Ok((report, overlaps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_urls_reduce_to_one_form() {
        let regex = "https://github.com/rust-lang/regex";
        for url in [
            "https://github.com/rust-lang/regex",
            "https://github.com/rust-lang/regex/",
            "https://github.com/rust-lang/regex.git",
            "https://github.com/rust-lang/regex/tree/master/regex-syntax",
            "git+https://github.com/Rust-Lang/regex.git",
            "git://github.com/rust-lang/regex.git",
            "http://www.github.com/rust-lang/regex#readme",
            "ssh://git@github.com/rust-lang/regex.git",
            "git@github.com:rust-lang/regex.git",
            "github:rust-lang/regex",
            "rust-lang/regex",
            "https://github.com/rust-lang/regex/issues",
        ] {
            assert_eq!(normalise_repository(url), regex, "{url}");
        }
        assert_eq!(
            normalise_repository("https://gitlab.com/group/sub/project/-/tree/main"),
            "https://gitlab.com/group/sub/project"
        );
        assert_eq!(
            normalise_repository("https://www.djangoproject.com/"),
            "https://djangoproject.com"
        );
    }

    #[test]
    fn registry_names_compare_as_the_registry_compares_them() {
        assert_eq!(Registry::PyPi.normalise_name("Jinja2"), "jinja2");
        assert_eq!(
            Registry::PyPi.normalise_name("zope.interface"),
            "zope-interface"
        );
        assert_eq!(Registry::PyPi.normalise_name("a__b-.c"), "a-b-c");
        assert_eq!(Registry::Crates.normalise_name("serde_core"), "serde-core");
        assert_eq!(
            Registry::Npm.normalise_name("@TanStack/query-core"),
            "@tanstack/query-core"
        );
    }

    #[test]
    fn pkg_info_headers_give_the_repository_urls_and_stop_at_the_body() {
        let text = "Metadata-Version: 2.1\nName: Flask\nVersion: 3.0.3\nHome-page: UNKNOWN\n\
                    Project-URL: Donate, https://palletsprojects.com/donate\n\
                    Project-URL: Source Code, https://github.com/pallets/flask/\n\
                    Project-URL: Issue Tracker, https://github.com/pallets/flask/issues/\n\n\
                    Project-URL: Source, https://github.com/not/a-header\n";
        let (name, version, urls) = read_pkg_info(text).unwrap();
        assert_eq!((name.as_str(), version.as_str()), ("Flask", "3.0.3"));
        assert_eq!(
            urls,
            [
                "https://github.com/pallets/flask/",
                "https://github.com/pallets/flask/issues/"
            ]
        );
    }

    #[test]
    fn the_forks_table_needs_a_reason_for_every_entry() {
        assert!(parse_forks("# c\n\nhttps://a/b https://c/d because\n").is_ok());
        assert!(parse_forks("https://a/b https://c/d\n").is_err());
        assert!(parse_forks("https://a/b\n").is_err());
    }

    #[test]
    fn the_committed_forks_table_reads() {
        let forks = read_forks(Path::new(FORKS_TABLE)).unwrap();
        assert!(forks
            .iter()
            .any(|f| f.fork == "https://github.com/domenicquirl/cstree"
                && f.origin == "https://github.com/rust-analyzer/rowan"));
    }
}
