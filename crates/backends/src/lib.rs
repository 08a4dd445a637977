//! The backend registry. To add a backend, write its crate (implementing `cst_measure::Backend`), add it to
//! this crate's `Cargo.toml`, and add one line to [`ALL`]: `cargo xtask compare` then measures it and the
//! conformance suite in `tests/conformance.rs` tests it.

use cst_measure::harness::BackendEntry;

/// Every backend, in table order.
pub const ALL: &[BackendEntry] = &[
    BackendEntry::of::<backend_tree_sitter::TreeSitter>(),
    BackendEntry::of::<backend_rowan::Rowan>(),
    BackendEntry::of::<backend_rowan::RowanSharedCache>(),
    BackendEntry::of::<backend_arena::Arena>(),
    BackendEntry::of::<backend_cstree::Cstree>(),
    BackendEntry::of::<backend_cstree::CstreeShared>(),
    BackendEntry::of::<backend_syntree::Syntree>(),
    BackendEntry::of::<backend_frozen::Frozen>(),
];

/// The backend called `name`.
pub fn find(name: &str) -> Option<&'static BackendEntry> {
    ALL.iter().find(|entry| entry.name == name)
}

/// Every backend name, comma-separated (for error messages and help).
pub fn names() -> String {
    ALL.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
}
