//! The deterministic built-in corpus: 3000 small generated modules (1000 each of Python, Rust and
//! TypeScript) that together hold exactly 46,000 lines and 874,000 bytes, the shape and totals of the corpus
//! the published analysis measured (its files were not published, so this corpus is generated to match them).
//!
//! How the totals come out exact:
//! - Line counts are planned up front (5 to 40 lines per file, skewed towards small files, then nudged
//!   one line at a time until they sum to the target), and each language generator fills exactly the
//!   planned number of lines.
//! - Every file opens with a one-line module doc comment whose sentence length is left open. Once all
//!   bodies exist, the bytes still missing from the budget are spread over those sentences: random
//!   lengths around the mean, nudged a byte at a time until they add up exactly.
//!
//! Everything is drawn from seeded [`fastrand::Rng`]s (one per file, plus one for the plans), so the
//! bytes are the same on every call and every machine.
//!
//! What it holds and costs: [`generate`] returns one [`GeneratedFile`] per file, its path and its text as
//! `String`s of exactly their lengths (874,000 bytes of text in all; each `GeneratedFile` is two 24-byte
//! `String` headers).
//! Its time is linear in the bytes: the bodies are written once, and nudging the line plan and the sentence
//! lengths takes one step per line or byte the first draw is off by (`cargo xtask corpus`, which generates and
//! writes every file, takes about 0.14 s). Nothing is read from disk or the network.
//!
//! Limits: the totals are fixed (the tests check them, and that every file parses without errors in its
//! grammar); a sentence stays between `MIN_SENTENCE` and `MAX_SENTENCE` characters (4 and 72), so the byte
//! budget is met only while the bodies leave that much per file, on average, to the doc lines
//! (`builtin_totals_match_the_budget` shows it is).

mod common;
mod python;
mod rust;
mod typescript;

use common::Ctx;

/// One generated file.
pub struct GeneratedFile {
    pub path: String,
    pub text: String,
}

/// A generated module body, without its leading doc line.
struct Body {
    lines: Vec<String>,
    /// What goes before and after the sentence of the doc line (`"""` and `."""`, `//! ` and `.`).
    flex_prefix: &'static str,
    flex_suffix: &'static str,
}

impl Body {
    /// Bytes of the file without the doc-line sentence.
    fn fixed_bytes(&self) -> u64 {
        let doc = self.flex_prefix.len() + self.flex_suffix.len() + 1;
        let body: usize = self.lines.iter().map(|l| l.len() + 1).sum();
        (doc + body) as u64
    }
}

const SEED: u64 = 0x00C5_7C0A_2B05_5EED;
const FILES_PER_LANGUAGE: usize = 1000;
const TOTAL_LINES: u64 = 46_000;
const TOTAL_BYTES: u64 = 874_000;
const MIN_LINES: usize = 5;
const MAX_LINES: usize = 40;
/// Bounds on the doc-line sentence, so it always reads like a normal module comment.
const MIN_SENTENCE: usize = 4;
const MAX_SENTENCE: usize = 72;

/// Directory and extension of each language, in corpus order.
const LANGUAGES: [(&str, &str); 3] = [("python", "py"), ("rust", "rs"), ("typescript", "ts")];

/// The built-in corpus: 3000 files, deterministic (same bytes on every call, every machine).
pub fn generate() -> Vec<GeneratedFile> {
    let plan = plan_lines();
    let bodies: Vec<Body> = plan
        .iter()
        .enumerate()
        .map(|(k, &lines)| {
            let cx = Ctx::new(file_seed(k));
            let body = match k / FILES_PER_LANGUAGE {
                0 => python::module(cx, lines - 1),
                1 => rust::module(cx, lines - 1),
                _ => typescript::module(cx, lines - 1),
            };
            debug_assert_eq!(body.lines.len(), lines - 1);
            body
        })
        .collect();
    let fixed: u64 = bodies.iter().map(Body::fixed_bytes).sum();
    let sentences = plan_sentences(TOTAL_BYTES.saturating_sub(fixed), bodies.len());

    bodies
        .into_iter()
        .zip(sentences)
        .enumerate()
        .map(|(k, (body, len))| {
            let mut text = String::with_capacity(body.fixed_bytes() as usize + len);
            text.push_str(body.flex_prefix);
            // Same topic as the body, so the doc line names what the module is about.
            let mut doc = Ctx::new(file_seed(k)).reseeded(file_seed(k) ^ 0xD0C);
            text.push_str(&doc.sentence(len));
            text.push_str(body.flex_suffix);
            text.push('\n');
            for line in &body.lines {
                text.push_str(line);
                text.push('\n');
            }
            let (dir, ext) = LANGUAGES[k / FILES_PER_LANGUAGE];
            let index = k % FILES_PER_LANGUAGE;
            GeneratedFile {
                path: format!("{dir}/mod_{index:04}.{ext}"),
                text,
            }
        })
        .collect()
}

/// Sentence lengths for `n` doc lines, `MIN_SENTENCE..=MAX_SENTENCE` each, summing to `total` (or as
/// close as those bounds allow).
fn plan_sentences(total: u64, n: usize) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(SEED ^ 0x5E47);
    let total = total.clamp((n * MIN_SENTENCE) as u64, (n * MAX_SENTENCE) as u64);
    let mean = (total / n as u64) as u32;
    let (lo, hi) = (
        (mean / 2).max(MIN_SENTENCE as u32),
        (mean * 3 / 2).clamp(MIN_SENTENCE as u32, MAX_SENTENCE as u32),
    );
    let mut lengths: Vec<usize> = (0..n).map(|_| rng.u32(lo..=hi) as usize).collect();
    let mut sum: u64 = lengths.iter().map(|&l| l as u64).sum();
    while sum != total {
        let i = rng.u32(..n as u32) as usize;
        if sum < total && lengths[i] < MAX_SENTENCE {
            lengths[i] += 1;
            sum += 1;
        } else if sum > total && lengths[i] > MIN_SENTENCE {
            lengths[i] -= 1;
            sum -= 1;
        }
    }
    lengths
}

/// Seed of file `i`: a fixed odd-multiplier mix, so neighbouring files get unrelated streams.
fn file_seed(i: usize) -> u64 {
    SEED ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Line counts of all files, `MIN_LINES..=MAX_LINES` each, summing to exactly `TOTAL_LINES`.
fn plan_lines() -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let n = 3 * FILES_PER_LANGUAGE;
    // The product of two uniform draws is skewed towards small files, like real module sizes.
    let mut lines: Vec<usize> = (0..n)
        .map(|_| {
            let (a, b) = (rng.u32(0..=35) as usize, rng.u32(0..=35) as usize);
            (MIN_LINES + a * b / 30).min(MAX_LINES)
        })
        .collect();
    let mut total: u64 = lines.iter().map(|&l| l as u64).sum();
    while total != TOTAL_LINES {
        let i = rng.u32(..n as u32) as usize;
        if total > TOTAL_LINES && lines[i] > MIN_LINES {
            lines[i] -= 1;
            total -= 1;
        } else if total < TOTAL_LINES && lines[i] < MAX_LINES {
            lines[i] += 1;
            total += 1;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The grammar of a generated file, by its extension.
    fn grammar(path: &str) -> tree_sitter::Language {
        match path.rsplit('.').next() {
            Some("py") => tree_sitter_python::LANGUAGE.into(),
            Some("rs") => tree_sitter_rust::LANGUAGE.into(),
            Some("ts") => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            other => panic!("unexpected extension {other:?} in {path}"),
        }
    }

    fn parse(path: &str, text: &str) -> tree_sitter::Tree {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&grammar(path))
            .expect("compatible grammar");
        parser.parse(text, None).expect("no timeout is set")
    }

    fn line_count(text: &str) -> usize {
        text.bytes().filter(|&b| b == b'\n').count()
    }

    #[test]
    fn builtin_has_1000_files_per_language() {
        let files = generate();
        assert_eq!(files.len(), 3000);
        for (dir, ext) in LANGUAGES {
            let count = files
                .iter()
                .filter(|f| f.path.starts_with(&format!("{dir}/")) && f.path.ends_with(ext))
                .count();
            assert_eq!(count, 1000, "{dir}");
        }
        let paths: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths.len(), 3000, "paths are unique");
        assert_eq!(files[0].path, "python/mod_0000.py");
        assert_eq!(files[999].path, "python/mod_0999.py");
        assert_eq!(files[1999].path, "rust/mod_0999.rs");
        assert_eq!(files[2000].path, "typescript/mod_0000.ts");
    }

    #[test]
    fn builtin_totals_match_the_budget() {
        let files = generate();
        let lines: usize = files.iter().map(|f| line_count(&f.text)).sum();
        let bytes: usize = files.iter().map(|f| f.text.len()).sum();
        let line_error = (lines as f64 - 46_000.0).abs() / 46_000.0;
        let byte_error = (bytes as f64 - 874_000.0).abs() / 874_000.0;
        assert!(line_error <= 0.01, "{lines} lines");
        assert!(byte_error <= 0.02, "{bytes} bytes");
        // The construction is exact; anything else means the bodies outgrew the byte budget.
        assert_eq!(lines, 46_000);
        assert_eq!(bytes, 874_000);
    }

    #[test]
    fn builtin_files_are_well_formed() {
        for f in generate() {
            let lines = line_count(&f.text);
            assert!(
                (MIN_LINES..=MAX_LINES).contains(&lines),
                "{}: {lines} lines",
                f.path
            );
            assert!(f.text.ends_with('\n'), "{}", f.path);
            assert!(!f.text.contains(['\r', '\t']), "{}", f.path);
            for line in f.text.lines() {
                assert_eq!(line, line.trim_end(), "{}: trailing whitespace", f.path);
            }
        }
    }

    #[test]
    fn builtin_layout_is_tidy() {
        for f in generate() {
            let lines: Vec<&str> = f.text.lines().collect();
            assert!(
                !lines[lines.len() - 1].is_empty(),
                "{}: ends with a blank line",
                f.path
            );
            for (i, pair) in lines.windows(2).enumerate() {
                let (prev, line) = (pair[0], pair[1]);
                let opens = prev.ends_with(['{', '(', '[', ':']);
                assert!(
                    !(line.is_empty() && opens),
                    "{}:{}: blank after an opener",
                    f.path,
                    i + 2
                );
                let closes = matches!(line.trim(), "}" | "};" | "});" | ")" | "]" | "];");
                assert!(
                    !(prev.is_empty() && closes),
                    "{}:{}: blank before a closer",
                    f.path,
                    i + 2
                );
                // PEP 8 separates Python definitions by two blank lines; braces languages use one.
                let max_blank = if f.path.ends_with(".py") { 2 } else { 1 };
                let run = lines[..=i + 1]
                    .iter()
                    .rev()
                    .take_while(|l| l.is_empty())
                    .count();
                assert!(run <= max_blank, "{}:{}: {run} blank lines", f.path, i + 2);
            }
        }
    }

    #[test]
    fn builtin_is_deterministic() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.path, y.path);
            assert_eq!(x.text, y.text, "{}", x.path);
        }
    }

    #[test]
    fn builtin_parses_without_errors() {
        let mut failures = Vec::new();
        for f in generate() {
            let tree = parse(&f.path, &f.text);
            if tree.root_node().has_error() {
                failures.push(format!("{}: {}", f.path, first_error(&tree)));
            }
        }
        assert!(
            failures.is_empty(),
            "{} files with errors, e.g.\n{}",
            failures.len(),
            failures[..failures.len().min(10)].join("\n")
        );
    }

    /// Position and kind of the first `ERROR` or `MISSING` node, for failure messages.
    fn first_error(tree: &tree_sitter::Tree) -> String {
        let mut cursor = tree.walk();
        loop {
            let node = cursor.node();
            if node.is_error() || node.is_missing() {
                let p = node.start_position();
                return format!("{} at {}:{}", node.kind(), p.row + 1, p.column + 1);
            }
            if node.has_error() && cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return "error flag without an error node".to_string();
                }
            }
        }
    }

    #[test]
    fn builtin_uses_a_large_vocabulary() {
        let mut names = BTreeSet::new();
        for f in generate() {
            let tree = parse(&f.path, &f.text);
            let mut cursor = tree.walk();
            'walk: loop {
                let node = cursor.node();
                if node.kind().ends_with("identifier") {
                    names.insert(f.text[node.byte_range()].to_string());
                }
                if cursor.goto_first_child() {
                    continue;
                }
                while !cursor.goto_next_sibling() {
                    if !cursor.goto_parent() {
                        break 'walk;
                    }
                }
            }
        }
        assert!(
            names.len() >= 500,
            "only {} distinct identifiers",
            names.len()
        );
    }

    /// The output is pinned: a change to the generator that changes any byte or path shows here (and would
    /// change every published figure). FNV-1a (64-bit) over every path and text in corpus order.
    #[test]
    fn builtin_output_is_byte_identical_to_the_published_one() {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for f in generate() {
            for &byte in f
                .path
                .as_bytes()
                .iter()
                .chain([0].iter())
                .chain(f.text.as_bytes())
            {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        assert_eq!(hash, 0x10de_cd4d_aaab_7f69);
    }

    #[test]
    fn builtin_plan_sums_to_the_line_budget() {
        let plan = plan_lines();
        assert_eq!(plan.len(), 3000);
        assert_eq!(plan.iter().sum::<usize>(), 46_000);
        assert!(plan.iter().all(|l| (MIN_LINES..=MAX_LINES).contains(l)));
    }

    #[test]
    fn builtin_sentences_have_the_exact_length() {
        let mut cx = Ctx::new(7);
        for len in 0..=200 {
            let s = cx.sentence(len);
            assert_eq!(s.len(), len, "{s:?}");
            assert!(!s.contains("  "), "{s:?}");
        }
    }
}
