//! Losslessness check: a backend's file must give back the source byte for byte and tree-sitter's exact
//! preorder node sequence (kind, start, end, missing), compared node by node against a fresh parse.

use crate::backend::{CstCursor, CstStore};
use crate::reference::{next_preorder, TreeSitterCursor};

/// Compares file `index` of `store` with `source` and its reference parse; returns the number of nodes
/// checked, or the first difference.
pub fn verify_file<S: CstStore>(
    store: &S,
    index: usize,
    source: &str,
    reference: &tree_sitter::Tree,
) -> Result<u64, String> {
    let text = store.text(index);
    if text != source {
        let at = text
            .bytes()
            .zip(source.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(text.len().min(source.len()));
        return Err(format!(
            "text differs from the source at byte {at} (backend {} bytes, source {} bytes)",
            text.len(),
            source.len()
        ));
    }
    let mut expected = TreeSitterCursor::new(reference.root_node(), source);
    let mut actual = store.cursor(index);
    let mut nodes = 0u64;
    loop {
        let (want, got) = (expected.node(), actual.node());
        if want != got {
            return Err(format!(
                "node #{nodes} differs: tree-sitter has {want:?}, backend has {got:?}"
            ));
        }
        nodes += 1;
        match (next_preorder(&mut expected), next_preorder(&mut actual)) {
            (true, true) => continue,
            (false, false) => return Ok(nodes),
            (true, false) => {
                return Err(format!(
                    "backend ends after {nodes} nodes; tree-sitter has more"
                ))
            }
            (false, true) => {
                return Err(format!("backend has more than tree-sitter's {nodes} nodes"))
            }
        }
    }
}
