//! Inputs shared by this crate's tests: snippets of every language, with syntax errors and awkward text.
#![allow(dead_code)] // Each test binary uses its own part.

use backend_arena::{Arena, ArenaStore};
use cst_measure::{Backend, CstStore, Language};

/// (name, language, text): valid code, syntax errors (ERROR and MISSING nodes), empty and whitespace-only
/// files, CRLF, a byte-order mark, non-ASCII text, leading and trailing blank lines.
pub fn snippets() -> Vec<(String, Language, String)> {
    use Language::*;
    let mut all: Vec<(&str, Language, String)> = vec![
        ("valid.py", Python, "import os\n\n@dec(1)\ndef f(x, *a, y: int = 1, **k) -> int:\n    \"\"\"Doc.\"\"\"\n    return [i * 2 for i in range(x) if i % 2]  # c\n\nclass C(B):\n    async def g(self):\n        await h(f\"{self.x!r:>10} {y}\")\n        lambda: (yield)\n".into()),
        ("error.py", Python, "def f(:\n".into()),
        ("errors.py", Python, "def f(:\n    return\nx = (1 +\nprint(1\nif x\n    y = 2\nclass :\n".into()),
        ("valid.rs", Rust, "//! Crate doc.\nuse std::fmt;\n\n/// Doc.\n#[derive(Debug)]\nstruct P<'a, T: Clone> { x: &'a T }\n\nimpl<T> Trait for P<'_, T> where T: Copy {\n    fn f(&self) -> Option<u8> { match self.x { Some(v) if v > 1 => None, _ => Some(1) } }\n}\nmacro_rules! m { ($e:expr) => { $e }; }\nfn main() { let v: Vec<u8> = vec![1, 2]; println!(\"{}\", v.len()); /* block */ }\n".into()),
        ("error.rs", Rust, "fn f( {".into()),
        ("errors.rs", Rust, "fn f( {\n    let x = ;\n}\nstruct {\nfn main() { let x = 1 }\nfn g() -> u8 { (1 + 2 }\n".into()),
        ("valid.ts", TypeScript, "import { a } from './a';\n\nexport interface I<T> { x: T; y?: string }\nenum E { A = 1, B }\n\nexport class C extends D implements I<number> {\n  private x = 1;\n  m(a: number): string { return `v${a}w`; }\n}\n\nconst f = async <T,>(v: T): Promise<T> => await g(v as any)!;\n// end\n".into()),
        ("error.ts", TypeScript, "let x = ;".into()),
        ("errors.ts", TypeScript, "let x = ;\nfunction (a, {\nclass { x: }\nif (x { y(); }\nlet z = [1, 2;\n".into()),
        ("valid.tsx", Tsx, "export const App = (p: { n: number }) => <div className=\"a\">{p.n}<b/>text</div>;\n".into()),
        ("error.tsx", Tsx, "const x = <div><span></div>;\n".into()),
    ];
    for language in Language::ALL {
        let code = match language {
            Python => "x = 1\n",
            Rust => "fn main() {}\n",
            TypeScript | Tsx => "let x = 1;\n",
        };
        let comment = if language == Python { "#" } else { "//" };
        all.push(("empty", language, String::new()));
        all.push(("whitespace-only", language, "  \n\t\n   \n".into()));
        all.push(("bom", language, format!("\u{feff}{code}")));
        all.push((
            "crlf",
            language,
            format!("{}\r\n{}\r\n", code.trim_end(), code.trim_end()),
        ));
        all.push(("no-final-newline", language, code.trim_end().into()));
        all.push((
            "blank-lines-around",
            language,
            format!("\n\n\n   {code}\n\n\n"),
        ));
        all.push((
            "non-ascii",
            language,
            format!("{code}{comment} é 日本語 😀\n{}", code.replace('1', "'é'")),
        ));
    }
    all.into_iter()
        .map(|(name, language, text)| (format!("{}/{name}", language.name()), language, text))
        .collect()
}

/// A store holding `files`, finished.
pub fn store_of(files: &[(String, Language, String)]) -> ArenaStore {
    let mut store = Arena::new_store();
    for (name, language, text) in files {
        store
            .add(*language, text, language.parse(text))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    store.finish();
    store
}
