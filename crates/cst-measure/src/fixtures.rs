//! Test inputs that every part of the project is exercised with, generated rather than checked in: small
//! snippets with syntax errors, empty and odd files, pathological nesting, width and line lengths, and an
//! on-disk tree of bad inputs (binary, non-UTF-8, symlink loops, ...) with what the corpus loader must do with
//! each.

use crate::Language;
use std::path::Path;

/// Nesting depth of the deep fixtures: past any recursion a native stack could take.
pub const DEEP_NESTING: usize = 100_000;
/// Children of the one node of the wide fixtures.
pub const WIDE_SIBLINGS: usize = 100_000;

/// An in-memory test input.
pub struct Snippet {
    pub name: String,
    pub language: Language,
    pub text: String,
}

fn snippet(name: &str, language: Language, text: impl Into<String>) -> Snippet {
    Snippet {
        name: format!("{}/{name}", language.name()),
        language,
        text: text.into(),
    }
}

/// Small inputs per language: valid code, syntax errors (ERROR and MISSING nodes), empty, whitespace only,
/// byte-order mark, CRLF, non-ASCII text.
pub fn snippets() -> Vec<Snippet> {
    use Language::*;
    let mut all = vec![
        snippet("valid.py", Python, "import os\n\n@cache\ndef f(x: int = 1) -> int:\n    \"\"\"Doc.\"\"\"\n    return [y for y in range(x) if y % 2]  # c\n\nclass A(B):\n    def m(self):\n        with open(f'{x}') as h:\n            pass\n"),
        snippet("error.py", Python, "def f(:\n    return\nx = (1 +\n"),
        snippet("missing.py", Python, "print(1\nif x\n    y = 2\n"),
        snippet("valid.rs", Rust, "use std::fmt;\n\n#[derive(Debug)]\nstruct P<'a, T: Clone> { x: &'a T }\n\nimpl<T> Trait for P<'_, T> {\n    fn f(&self) -> Option<u8> { match self.x { Some(v) if v > 1 => None, _ => Some(1) } }\n}\n// done\n"),
        snippet("error.rs", Rust, "fn f( {\n    let x = ;\n}\nstruct {\n"),
        snippet("missing.rs", Rust, "fn main() { let x = 1 }\nfn g() -> u8 { (1 + 2 }\n"),
        snippet("valid.ts", TypeScript, "import { a } from './a';\n\nexport interface I<T> { x: T; y?: string }\n\nenum E { A = 1, B }\n\nexport class C implements I<number> {\n  x = 1;\n  m(a: number): string { return `v${a}`; }\n}\n\nconst f = <T,>(v: T): T => v;\n"),
        snippet("error.ts", TypeScript, "let x = ;\nfunction (a, {\nclass { x: }\n"),
        snippet("missing.ts", TypeScript, "if (x { y(); }\nlet z = [1, 2;\n"),
        snippet("valid.tsx", Tsx, "export const App = (p: { n: number }) => <div className=\"a\">{p.n}<b/></div>;\n"),
        snippet("error.tsx", Tsx, "const x = <div><span></div>;\n"),
    ];
    for language in Language::ALL {
        let code = match language {
            Python => "x = 1\n",
            Rust => "fn main() {}\n",
            TypeScript | Tsx => "let x = 1;\n",
        };
        let ext = language.extension();
        all.push(snippet(&format!("empty.{ext}"), language, ""));
        all.push(snippet(
            &format!("whitespace.{ext}"),
            language,
            "  \n\t\n   \n",
        ));
        all.push(snippet(
            &format!("bom.{ext}"),
            language,
            format!("\u{feff}{code}"),
        ));
        all.push(snippet(
            &format!("crlf.{ext}"),
            language,
            format!("{}\r\n{}\r\n", code.trim_end(), code.trim_end()),
        ));
        all.push(snippet(
            &format!("no-final-newline.{ext}"),
            language,
            code.trim_end(),
        ));
        all.push(snippet(
            &format!("leading-blank-lines.{ext}"),
            language,
            format!("\n\n\n   {code}\n\n\n"),
        ));
        all.push(snippet(
            &format!("non-ascii.{ext}"),
            language,
            format!("{}// é 日本語 😀\n", code)
                .replace("// ", if language == Python { "# " } else { "// " }),
        ));
    }
    all
}

/// An expression nested `depth` levels deep, as a complete file of `language`.
pub fn deep_nesting(language: Language, depth: usize) -> String {
    let expression = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    match language {
        Language::Python => format!("x = {expression}\n"),
        Language::Rust => format!("fn f() {{ let x = {expression}; }}\n"),
        Language::TypeScript | Language::Tsx => format!("let x = {expression};\n"),
    }
}

/// A file whose root has `siblings` children, one short statement each (like generated tables).
pub fn wide_file(language: Language, siblings: usize) -> String {
    let mut text = String::with_capacity(siblings * 24);
    for i in 0..siblings {
        let line = match language {
            Language::Python => format!("x{i} = {i}\n"),
            Language::Rust => format!("const X{i}: u32 = {i};\n"),
            Language::TypeScript | Language::Tsx => format!("let x{i} = {i};\n"),
        };
        text.push_str(&line);
    }
    text
}

/// A single line of about `bytes` bytes: one long list literal.
pub fn long_line(language: Language, bytes: usize) -> String {
    let items = "1, ".repeat(bytes / 3);
    match language {
        Language::Python => format!("x = [{items}]\n"),
        Language::Rust => format!("const X: &[u8] = &[{items}];\n"),
        Language::TypeScript | Language::Tsx => format!("let x = [{items}];\n"),
    }
}

/// A file of about `bytes` bytes of ordinary code (the valid snippet repeated).
pub fn big_file(language: Language, bytes: usize) -> String {
    let unit = snippets()
        .into_iter()
        .find(|s| s.language == language && s.name.contains("/valid."))
        .expect("every language has a valid snippet")
        .text;
    unit.repeat(bytes / unit.len() + 1)
}

/// Tokens of each grammar, valid and invalid, that property tests draw random files from.
pub fn random_tokens(language: Language) -> &'static [&'static str] {
    match language {
        Language::Python => &[
            "def", "class", "if", "else", ":", "(", ")", "[", "]", "{", "}", "=", "+", "x", "y",
            "1", "'s'", "\"t\"", ",", ".", "return", "lambda", "for", "in", "\n", "    ", " ",
            "#c\n", "@", "not", "\\", "é", "f'{", "\r\n",
        ],
        Language::Rust => &[
            "fn", "let", "struct", "impl", "<", ">", "(", ")", "{", "}", "[", "]", ";", ":", "::",
            "=", "=>", "x", "T", "1", "\"s\"", "'a", "&", "mut", "match", ",", "#", "!", "\n", " ",
            "//c\n", "/*", "*/", "é", "r#\"", "///d\n",
        ],
        Language::TypeScript | Language::Tsx => &[
            "function",
            "let",
            "const",
            "class",
            "interface",
            "<",
            ">",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            ";",
            ":",
            "=",
            "=>",
            "x",
            "T",
            "1",
            "'s'",
            "`t${",
            "`",
            ",",
            ".",
            "?",
            "\n",
            " ",
            "//c\n",
            "/*",
            "*/",
            "é",
            "</",
            "/>",
        ],
    }
}

/// What the corpus loader must do with one on-disk fixture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Measured (and verified) like any file.
    Measured,
    /// Listed under `skipped`, with a reason containing this text.
    Skipped(&'static str),
}

/// Writes a corpus of awkward inputs under `dir` and returns each path (relative to `dir`) with what must
/// happen to it. With `huge`, it also holds an 8 MB file (over twenty times the largest file of the real code
/// the notes measure, 355 KB) and a 2 MB single-line file (one list of 667,000 items); both are over the edit
/// sessions' default size limit, as files that large are for a full build, not for keystrokes.
pub fn write_bad_inputs(dir: &Path, huge: bool) -> std::io::Result<Vec<(String, Expected)>> {
    use Expected::*;
    let mut expected = Vec::new();
    let mut put = |name: &str, bytes: &[u8], outcome: Expected| -> std::io::Result<()> {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("fixture paths have a parent"))?;
        std::fs::write(&path, bytes)?;
        expected.push((name.to_string(), outcome));
        Ok(())
    };
    for s in snippets() {
        put(&s.name, s.text.as_bytes(), Measured)?;
    }
    for language in Language::ALL {
        let ext = language.extension();
        put(
            &format!("deep/nested.{ext}"),
            deep_nesting(language, DEEP_NESTING).as_bytes(),
            Measured,
        )?;
        put(
            &format!("wide/siblings.{ext}"),
            wide_file(language, WIDE_SIBLINGS).as_bytes(),
            Measured,
        )?;
    }
    put("odd/latin1.py", b"s = '\xe9t\xe9'\n", Skipped("not UTF-8"))?;
    put(
        "odd/blob.rs",
        b"\x7fELF\x02\x01\x01\x00\x00\x00binary",
        Skipped("binary"),
    )?;
    put(
        "odd/README.md",
        b"# not code\n",
        Skipped("unknown extension"),
    )?;
    put("odd/data.json", b"{}\n", Skipped("unknown extension"))?;
    put("odd/pkg.py/inside.py", b"y = 2\n", Measured)?; // a directory named like a Python file
    if huge {
        put(
            "huge/long_line.ts",
            long_line(Language::TypeScript, 2_000_000).as_bytes(),
            Measured,
        )?;
        put(
            "huge/big.py",
            big_file(Language::Python, 8_000_000).as_bytes(),
            Measured,
        )?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("does-not-exist.py", dir.join("odd/dangling.py"))?;
        expected.push(("odd/dangling.py".into(), Skipped("dangling symlink")));
        symlink("..", dir.join("odd/loop"))?;
        expected.push(("odd/loop".into(), Skipped("symlink loop")));
        // An unreadable file. Root reads through any permission bits, so there use a file the kernel refuses
        // to read: this process's own memory at address 0.
        if is_root() {
            symlink("/proc/self/mem", dir.join("odd/unreadable.py"))?;
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(dir.join("odd/unreadable.py"), b"x = 1\n")?;
            std::fs::set_permissions(
                dir.join("odd/unreadable.py"),
                std::fs::Permissions::from_mode(0o000),
            )?;
        }
        expected.push(("odd/unreadable.py".into(), Skipped("unreadable")));
    }
    Ok(expected)
}

#[cfg(unix)]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file we just created is our effective user.
    let probe = std::env::temp_dir().join(format!("cst-measure-uid-probe-{}", std::process::id()));
    let uid = std::fs::write(&probe, b"")
        .and_then(|()| std::fs::metadata(&probe))
        .map(|m| m.uid());
    let _ = std::fs::remove_file(&probe);
    uid.is_ok_and(|uid| uid == 0)
}

/// One edit of a Python file, applied the way an editor applies it (`Tree::edit`, an incremental reparse,
/// `changed_ranges`), for tests of a backend's incremental update: a file of `lines` definitions (the
/// tenth with a stray `$`, a syntax error away from the edit, when `broken`) and the same file with
/// `inserted` in the middle.
pub struct InsertionEdit {
    pub old_text: String,
    pub new_text: String,
    /// The old text's tree as parsed, before the edit (what a store is built from).
    pub old_parse: tree_sitter::Tree,
    /// The same tree edited (in the new text's positions), which the new tree was parsed from.
    pub old_tree: tree_sitter::Tree,
    pub new_tree: tree_sitter::Tree,
    pub input: tree_sitter::InputEdit,
    pub changed: Vec<tree_sitter::Range>,
}

impl InsertionEdit {
    pub fn new(lines: usize, inserted: &str, broken: bool) -> InsertionEdit {
        let line = |i: usize| {
            let stray = if broken && i == 10 { " $" } else { "" };
            format!("def f{i}(a, b):\n    return g(a, [b, {i}]) + h(b){stray}\n")
        };
        let old_text: String = (0..lines).map(line).collect();
        let mut new_text: String = (0..lines / 2).map(line).collect();
        let at = new_text.len();
        new_text.push_str(inserted);
        new_text.extend((lines / 2..lines).map(line));
        let mut parser = Language::Python.parser();
        let old_parse = parser.parse(&old_text, None).expect("parses");
        let input = tree_sitter::InputEdit {
            start_byte: at,
            old_end_byte: at,
            new_end_byte: at + inserted.len(),
            start_position: tree_sitter::Point::default(),
            old_end_position: tree_sitter::Point::default(),
            new_end_position: tree_sitter::Point::default(),
        };
        let mut old_tree = old_parse.clone();
        old_tree.edit(&input);
        let new_tree = parser.parse(&new_text, Some(&old_tree)).expect("parses");
        let changed = old_tree.changed_ranges(&new_tree).collect();
        InsertionEdit {
            old_text,
            new_text,
            old_parse,
            old_tree,
            new_tree,
            input,
            changed,
        }
    }

    /// The edit as a store's `update` takes it.
    pub fn file_edit(&self) -> crate::FileEdit<'_> {
        crate::FileEdit {
            language: Language::Python,
            old_text: &self.old_text,
            text: &self.new_text,
            input: self.input,
            old_tree: &self.old_tree,
            tree: self.new_tree.clone(),
            changed: &self.changed,
        }
    }
}
