//! The check that cstree's cache gave back the tree that was built.
//!
//! cstree's `NodeCache` deduplicates every node with at most 3 children, keyed by its `GreenNodeHead`: kind,
//! text length and a *32-bit* hash of the children, compared by those three fields only (cstree 0.14,
//! `green/builder.rs`). Two different subtrees of the same kind and length whose child hashes collide are one
//! entry, and the second gets the first's children: a wrong tree, silently. That is not far-fetched: the child
//! hash is FxHash, and the unit test below meets a collision after about 20,000 random subtrees of one shape
//! (kind and length), fewer than a random 32-bit hash would need (about 77,000 for even odds); a shared cache
//! over a large corpus holds far more. So the conversion logs what it asked the builder for (one `u32` per
//! start, token and finish, freed before `add` returns; `Library::CHECK_BUILD`), and [`check`] walks the
//! finished green tree against that log and the source, O(file); a difference is a [`BuildError::Limit`], never
//! a wrong tree.

use backend_green::convert::{FINISH, TOKEN};
use cst_measure::BuildError;
use cstree::green::GreenNode;
use cstree::interning::TokenInterner;
use cstree::util::NodeOrToken;

/// Checks that `green` is the tree the builder was asked for in `events`, its tokens holding `source` in order
/// (see the module doc: cstree's cache can hand back a different subtree on a 32-bit hash collision).
pub(crate) fn check(
    green: &GreenNode,
    events: &[u32],
    source: &str,
    resolver: &TokenInterner,
) -> Result<(), BuildError> {
    let mut expected = events.iter().copied();
    let mut same = |actual: u32| expected.next() == Some(actual);
    let mut pos = 0usize;
    let mut ok = same(green.kind().0);
    let mut stack = vec![green.children()];
    while ok {
        let Some(children) = stack.last_mut() else {
            break;
        };
        match children.next() {
            Some(NodeOrToken::Node(node)) => {
                ok = same(node.kind().0);
                stack.push(node.children());
            }
            Some(NodeOrToken::Token(token)) => {
                let text = token.text(resolver).unwrap_or_default();
                let end = pos + text.len();
                ok = same(token.kind().0 | TOKEN) && source.get(pos..end) == Some(text);
                pos = end;
            }
            None => {
                ok = same(FINISH);
                stack.pop();
            }
        }
    }
    if ok && expected.next().is_none() && pos == source.len() {
        Ok(())
    } else {
        Err(BuildError::Limit(format!(
            "cstree's NodeCache gave back a different subtree near byte {pos} (same kind, text length and 32-bit \
             child hash: a hash collision), so the green tree is not this file's; refused rather than kept wrong"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CstreeGreen, Kind};
    use backend_green::convert::write_text;
    use cstree::build::{GreenNodeBuilder, NodeCache};

    /// Builds, with `cache`, the FILE-like tree `1[2[5[3:a 4:b] 3:c]]` and returns it with its event log and text.
    fn build(
        cache: &mut NodeCache<'static>,
        a: &str,
        b: &str,
        c: &str,
    ) -> (GreenNode, Vec<u32>, String) {
        let mut builder: GreenNodeBuilder<'_, 'static, Kind> = GreenNodeBuilder::with_cache(cache);
        builder.start_node(Kind(1));
        builder.start_node(Kind(2));
        builder.start_node(Kind(5));
        builder.token(Kind(3), a);
        builder.token(Kind(4), b);
        builder.finish_node();
        builder.token(Kind(3), c);
        builder.finish_node();
        builder.finish_node();
        let (green, _) = builder.finish();
        let events = vec![
            1,
            2,
            5,
            3 | TOKEN,
            4 | TOKEN,
            FINISH,
            3 | TOKEN,
            FINISH,
            FINISH,
        ];
        (green, events, format!("{a}{b}{c}"))
    }

    /// cstree's cache does conflate different subtrees of one kind and length (here after about 20,000 of
    /// them), and the check refuses the tree it gives back then.
    #[test]
    fn the_check_catches_the_caches_hash_collisions() {
        let mut cache = NodeCache::new();
        let mut state: u64 = 12345;
        let mut random = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("{:03}", state % 130)
        };
        for _ in 0..100_000 {
            let (a, b, c) = (random(), random(), random());
            let (green, events, text) = build(&mut cache, &a, &b, &c);
            let mut built = String::new();
            write_text::<CstreeGreen>(&green, cache.interner(), &mut built);
            let checked = check(&green, &events, &text, cache.interner());
            if built == text {
                assert_eq!(checked, Ok(()));
                // A log or a text that is not the tree's is refused too.
                assert!(check(&green, &events[1..], &text, cache.interner()).is_err());
                assert!(check(&green, &events, &text[1..], cache.interner()).is_err());
            } else {
                assert!(
                    matches!(checked, Err(BuildError::Limit(m)) if m.contains("hash collision"))
                );
                return;
            }
        }
        panic!("no collision in 100,000 subtrees: has cstree's NodeCache changed its key?");
    }
}
