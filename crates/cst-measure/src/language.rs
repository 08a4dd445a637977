//! The grammars this project measures and how a file's extension selects one.

use serde::Serialize;
use std::path::Path;

/// A tree-sitter grammar the corpus can be parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Rust,
    TypeScript,
    Tsx,
}

impl Language {
    /// Every language, in the order tables list them.
    pub const ALL: [Language; 4] = [
        Language::Python,
        Language::Rust,
        Language::TypeScript,
        Language::Tsx,
    ];

    /// Picks the grammar from a file extension (`py`, `rs`, `ts`, `tsx`), or `None` for anything else.
    pub fn from_path(path: &Path) -> Option<Language> {
        let extension = path.extension()?.to_str()?;
        Language::ALL
            .into_iter()
            .find(|language| language.extension() == extension)
    }

    /// The file extension that selects this grammar.
    pub fn extension(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::Rust => "rs",
            Language::TypeScript => "ts",
            Language::Tsx => "tsx",
        }
    }

    /// Short lowercase name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Rust => "rust",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
        }
    }

    /// Dense index (0..4), handy for per-language tables and kind-id spaces.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The tree-sitter grammar itself.
    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        }
    }

    /// Creates a parser for this language, with tree-sitter's allocations routed through the counter.
    pub fn parser(self) -> tree_sitter::Parser {
        crate::alloc::route_tree_sitter_allocations();
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&self.grammar())
            .expect("bundled grammar is ABI-compatible with the tree-sitter library");
        parser
    }

    /// Parses `text` with a fresh parser. Convenient for tests; measurement code reuses parsers.
    pub fn parse(self, text: &str) -> tree_sitter::Tree {
        self.parser()
            .parse(text, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    }
}
