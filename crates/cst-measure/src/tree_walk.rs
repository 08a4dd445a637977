//! Walking tree-sitter's tree to convert it: a `TreeCursor` that makes only the moves that succeed.
//!
//! tree-sitter's `goto_next_sibling` on a parent's last child does not fail at once: it climbs through the
//! parent's hidden levels, iterating what is left of each one's children, before it gives up. A plain preorder
//! walk (first child, else next sibling, else up) makes one such call per inner node and a `goto_first_child`
//! per leaf. Each node's `child_count`, which tree-sitter keeps in the node (its visible children, hidden
//! levels flattened as the cursor flattens them), says beforehand whether a node has a first child and which
//! child is its parent's last, so [`CountedCursor`] never asks for either (the arena's `convert_bench`
//! example times what that saves). Every backend's conversion of a whole tree walks through it (and the
//! arena's, syntree's and frozen's updates); the rowan and cstree updates, which step tree-sitter's new tree
//! and the old green tree together and compare each move, keep tree-sitter's plain cursor.

/// A `TreeCursor` that knows from child counts which moves succeed and asks tree-sitter only for those.
///
/// Where a count promises more than the cursor finds, the cursor's answer stands; a count of fewer children
/// than the cursor would find (never seen: the recorded references rebuild every tree's shape from these
/// counts, and the tree-sitter row's cursor is verified against them) would end a node's children early.
pub struct CountedCursor<'t> {
    cursor: tree_sitter::TreeCursor<'t>,
    /// Per level below the root: the children after the current one that the parent's count promises.
    remaining: Vec<u32>,
}

impl<'t> CountedCursor<'t> {
    /// A cursor on `tree`'s root.
    pub fn new(tree: &'t tree_sitter::Tree) -> CountedCursor<'t> {
        CountedCursor {
            cursor: tree.walk(),
            // One allocation for the depth of most files (tree-sitter's cursor makes one too).
            remaining: Vec::with_capacity(32),
        }
    }

    /// The node under the cursor.
    #[inline]
    pub fn node(&self) -> tree_sitter::Node<'t> {
        self.cursor.node()
    }

    /// The field id of the node under the cursor in its parent (0 for none).
    #[inline]
    pub fn field_id(&self) -> u16 {
        self.cursor.field_id().map_or(0, |id| id.get())
    }

    /// Goes to the first child of the node under the cursor, whose `child_count` is `children`: for 0, fails
    /// without asking tree-sitter.
    #[inline]
    pub fn goto_first_child(&mut self, children: u32) -> bool {
        if children == 0 || !self.cursor.goto_first_child() {
            return false;
        }
        self.remaining.push(children - 1);
        true
    }

    /// Goes to the next sibling; after the last child its parent's count promised (and at the root), fails
    /// without asking tree-sitter.
    #[inline]
    pub fn goto_next_sibling(&mut self) -> bool {
        match self.remaining.last_mut() {
            Some(left) if *left > 0 => {
                *left -= 1;
                self.cursor.goto_next_sibling()
            }
            _ => false,
        }
    }

    /// Goes to the parent; fails at the root.
    #[inline]
    pub fn goto_parent(&mut self) -> bool {
        self.remaining.pop();
        self.cursor.goto_parent()
    }
}

#[cfg(test)]
mod tests {
    use super::CountedCursor;
    use crate::fixtures;
    use crate::Language;

    /// Every node, in preorder, with its depth: through the counted cursor and through tree-sitter's own,
    /// plain walk, on every fixture (syntax errors, MISSING nodes, deep and wide trees among them).
    #[test]
    fn the_counted_walk_visits_what_the_plain_walk_does() {
        let mut inputs: Vec<(String, Language, String)> = fixtures::snippets()
            .into_iter()
            .map(|s| (s.name, s.language, s.text))
            .collect();
        for language in Language::ALL {
            inputs.push((
                "deep".into(),
                language,
                fixtures::deep_nesting(language, 2_000),
            ));
            inputs.push((
                "wide".into(),
                language,
                fixtures::wide_file(language, 2_000),
            ));
        }
        let mut files = 0;
        for (name, language, text) in inputs {
            let tree = language
                .parser()
                .parse(&text, None)
                .expect("no timeout is set");
            let mut plain = Vec::new();
            let mut cursor = tree.walk();
            let mut depth = 0;
            'plain: loop {
                plain.push((cursor.node().id(), cursor.field_id(), depth));
                if cursor.goto_first_child() {
                    depth += 1;
                    continue;
                }
                while !cursor.goto_next_sibling() {
                    if !cursor.goto_parent() {
                        break 'plain;
                    }
                    depth -= 1;
                }
            }
            let mut counted = Vec::new();
            let mut walk = CountedCursor::new(&tree);
            let mut depth = 0;
            'counted: loop {
                let node = walk.node();
                counted.push((node.id(), std::num::NonZeroU16::new(walk.field_id()), depth));
                if walk.goto_first_child(node.child_count()) {
                    depth += 1;
                    continue;
                }
                while !walk.goto_next_sibling() {
                    if !walk.goto_parent() {
                        break 'counted;
                    }
                    depth -= 1;
                }
            }
            assert_eq!(counted, plain, "{name}");
            files += 1;
        }
        assert!(files > 10);
    }

    /// A count that promises a first child or a sibling the cursor does not find gives way to the cursor;
    /// after the last child a count promises, the cursor is not asked.
    #[test]
    fn the_cursor_is_asked_only_within_the_counts() {
        let tree = Language::Python
            .parser()
            .parse("x = 1\n", None)
            .expect("no timeout is set");
        let mut walk = CountedCursor::new(&tree);
        assert!(walk.goto_first_child(1), "module: its statement");
        assert!(
            walk.goto_first_child(1),
            "expression statement: its assignment"
        );
        assert_eq!(walk.node().kind(), "assignment");
        // The assignment has 3 children; a count of 4 promises one that is not there.
        assert!(walk.goto_first_child(4));
        assert!(
            !walk.goto_first_child(1),
            "`x` has no child, whatever its count says"
        );
        assert!(walk.goto_next_sibling(), "`=` follows `x`");
        assert!(walk.goto_next_sibling(), "`1` follows `=`");
        assert!(
            !walk.goto_next_sibling(),
            "the cursor finds no fourth child"
        );
        assert!(walk.goto_parent());
        // A count of 2 for the same children: the walk stops after the second without asking.
        assert!(walk.goto_first_child(2));
        assert!(walk.goto_next_sibling());
        assert_eq!(walk.node().kind(), "=");
        assert!(!walk.goto_next_sibling(), "the count promised no more");
        assert!(walk.goto_parent());
        assert!(walk.goto_parent());
        assert!(walk.goto_parent());
        assert_eq!(walk.node().kind(), "module");
        assert!(!walk.goto_next_sibling(), "the root has no sibling");
        assert!(!walk.goto_parent());
    }
}
