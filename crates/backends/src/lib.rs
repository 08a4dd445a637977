//! The backend registry. To add a backend, write its crate (implementing `cst_measure::Backend`), add it to
//! this crate's `Cargo.toml`, and add one line to [`ALL`]: `cargo xtask compare` then measures it and the
//! conformance suite in `tests/conformance.rs` tests it. Every row runs the shipped query files
//! ([`cst_query::ops::ShippedQueries`], set with `with_operations`) after the harness's own operations. [`TEXT_REFERENCES`] are the rows that hold the text
//! alone (no tree), measured beside the backends for scale.
//!
//! Both are `static` tables of a few entries: [`find`] is a scan of [`ALL`]'s names, and nothing here
//! allocates or measures. A text-only row's name and description give the zstd level its code uses
//! ([`backend_frozen::TEXT_REFERENCE_LEVEL`]; a test ties them).

use cst_measure::harness::BackendEntry;
use cst_query::ops::ShippedQueries;

/// Every backend, in table order.
pub const ALL: &[BackendEntry] = &[
    BackendEntry::of::<backend_tree_sitter::TreeSitter>()
        .with_operations::<backend_tree_sitter::TreeSitter, ShippedQueries>(),
    BackendEntry::of::<backend_rowan::Rowan>()
        .with_operations::<backend_rowan::Rowan, ShippedQueries>(),
    BackendEntry::of::<backend_rowan::RowanSharedCache>()
        .with_operations::<backend_rowan::RowanSharedCache, ShippedQueries>(),
    BackendEntry::of::<backend_arena::Arena>()
        .with_operations::<backend_arena::Arena, ShippedQueries>(),
    BackendEntry::of::<backend_cstree::Cstree>()
        .with_operations::<backend_cstree::Cstree, ShippedQueries>(),
    BackendEntry::of::<backend_cstree::CstreeShared>()
        .with_operations::<backend_cstree::CstreeShared, ShippedQueries>(),
    BackendEntry::of::<backend_syntree::Syntree>()
        .with_operations::<backend_syntree::Syntree, ShippedQueries>(),
    BackendEntry::of::<backend_frozen::Frozen>()
        .with_operations::<backend_frozen::Frozen, ShippedQueries>(),
];

/// A row that holds the text alone, no tree: what a cold tier is judged against.
pub struct TextReferenceEntry {
    pub name: &'static str,
    /// What the row's retained bytes include.
    pub retains: &'static str,
    pub measure: fn(&[&str]) -> backend_frozen::TextReference,
}

/// The text-only reference rows, measured in the same run as the backends.
pub const TEXT_REFERENCES: &[TextReferenceEntry] = &[
    TextReferenceEntry {
        name: "zstd -19 per file",
        retains: "each file's text compressed alone with zstd at level 19 (a standard frame), end to end in one \
             exactly-sized buffer, and a u32 offset per file; no tree",
        measure: |texts| backend_frozen::measure_text_reference(texts, false),
    },
    TextReferenceEntry {
        name: "zstd -19 per file, trained dictionary",
        retains: "each file's text compressed alone with zstd at level 19 and a dictionary trained on the corpus \
             (its size chosen to make the total smallest), end to end in one exactly-sized buffer, a u32 offset \
             per file, and the dictionary; no tree",
        measure: |texts| backend_frozen::measure_text_reference(texts, true),
    },
];

/// The backend called `name`.
pub fn find(name: &str) -> Option<&'static BackendEntry> {
    ALL.iter().find(|entry| entry.name == name)
}

/// Every backend name, comma-separated (for error messages and help).
pub fn names() -> String {
    ALL.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::TEXT_REFERENCES;
    use backend_frozen::TEXT_REFERENCE_LEVEL;

    /// The text-only rows' names and descriptions give the zstd level they are compressed at.
    #[test]
    fn the_text_rows_name_the_level_the_code_uses() {
        for row in TEXT_REFERENCES {
            let name = format!("zstd -{TEXT_REFERENCE_LEVEL} per file");
            assert!(
                row.name.starts_with(&name),
                "{:?} is not {name:?}",
                row.name
            );
            let level = format!("with zstd at level {TEXT_REFERENCE_LEVEL}");
            assert!(
                row.retains.contains(&level),
                "{:?} lacks {level:?}",
                row.retains
            );
        }
    }
}
