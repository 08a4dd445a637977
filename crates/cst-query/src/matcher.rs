//! The matcher: a query's patterns over a [`QueryTree`], giving `matches` (per pattern) and `captures`
//! (one stream in document order), with the answers of tree-sitter's `QueryCursor`.
//!
//! How: every visible node is tried as the root of every pattern (one pass in preorder). A node pattern
//! with children tries every in-order assignment of its child items to distinct children of the node
//! (siblings need not be adjacent), recursively; each distinct capture list is one match, captures in
//! the order tree-sitter takes them (preorder, then the order written). The text predicates then filter
//! the matches, as tree-sitter's Rust binding does.
//!
//! Cost: for a node and a pattern with k child items over a node of c children, the assignments tried
//! are at most C(c, k) per level (each failed candidate costs one node test); a pattern without
//! children costs one test per node. The match limit ([`QueryCursor::set_match_limit`]) bounds the
//! assignments kept at one root.
//!
//! Refused with [`Unsupported`] (not yet answered exactly): quantifiers, alternations, groups, anchors,
//! supertypes, patterns that are only a predicate. `captures` orders its stream by a sort of the
//! matched captures, which is exact only where no match is held back by an unfinished one
//! (see `NOTES.md`).

use crate::ast::*;
use crate::error::Unsupported;
use crate::predicate::satisfied;
use crate::query::Query;
use crate::tree::QueryTree;

/// One captured node: the capture's id (its index in [`Query::capture_names`]) and the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capture {
    pub index: u32,
    pub node: usize,
}

/// One match of one pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Match {
    pub pattern_index: usize,
    pub captures: Vec<Capture>,
}

/// Runs queries, with an optional match limit (unlimited by default, as tree-sitter's).
#[derive(Default)]
pub struct QueryCursor {
    match_limit: Option<u32>,
    exceeded: bool,
}

impl QueryCursor {
    pub fn new() -> QueryCursor {
        QueryCursor::default()
    }

    /// Bounds the matches kept in progress at one root; beyond it the earliest are dropped and
    /// [`QueryCursor::did_exceed_match_limit`] reports it.
    pub fn set_match_limit(&mut self, limit: u32) {
        self.match_limit = Some(limit);
    }

    pub fn did_exceed_match_limit(&self) -> bool {
        self.exceeded
    }

    /// Every match of every pattern, in order of their roots (preorder), then pattern index. Compare
    /// with tree-sitter's as a multiset: its order is that in which matches finish.
    pub fn matches<T: QueryTree>(
        &mut self,
        query: &Query,
        tree: &T,
    ) -> Result<Vec<Match>, Unsupported> {
        query.check_supported()?;
        self.exceeded = false;
        let mut out = Vec::new();
        let mut texts: Vec<(u32, &[u8])> = Vec::new();
        for node in 0..tree.node_count() {
            for (pattern_index, pattern) in query.patterns.iter().enumerate() {
                let item = pattern.item.as_ref().expect("checked supported");
                let lists = self.root_matches(tree, item, node);
                for captures in lists {
                    texts.clear();
                    texts.extend(captures.iter().map(|c| (c.index, tree.text(c.node))));
                    if satisfied(&query.predicates[pattern_index].text, &texts) {
                        out.push(Match {
                            pattern_index,
                            captures,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Every capture of every match, in document order: by the captured node's start, then its end
    /// (outer nodes first), then pattern index, then the order within the match.
    pub fn captures<T: QueryTree>(
        &mut self,
        query: &Query,
        tree: &T,
    ) -> Result<Vec<(Match, usize)>, Unsupported> {
        let matches = self.matches(query, tree)?;
        let mut out: Vec<(Match, usize)> = Vec::new();
        for m in matches {
            for i in 0..m.captures.len() {
                out.push((m.clone(), i));
            }
        }
        out.sort_by_key(|(m, i)| {
            let range = tree.byte_range(m.captures[*i].node);
            (range.start, std::cmp::Reverse(range.end), m.pattern_index)
        });
        Ok(out)
    }

    /// The distinct capture lists of `item` rooted at `node`.
    fn root_matches<T: QueryTree>(
        &mut self,
        tree: &T,
        item: &Item,
        node: usize,
    ) -> Vec<Vec<Capture>> {
        if let Some(field) = item.field {
            if tree.field_id(node) != Some(field) {
                return Vec::new();
            }
        }
        let Expr::Node(pattern) = &item.expr else {
            unreachable!("checked supported")
        };
        // tree-sitter starts a pattern whose root is a wildcard without a field and whose first child
        // is a non-wildcard at that child, and then only asks that the child have a parent: of any
        // kind, named or not, ERROR included, its negated fields unchecked.
        let skip_root_test = pattern.symbol == WILDCARD_SYMBOL
            && !pattern.missing
            && item.field.is_none()
            && pattern.children.first().is_some_and(|first| {
                matches!(&first.expr, Expr::Node(child) if child.symbol != WILDCARD_SYMBOL)
                    && !first.immediate
            });
        if skip_root_test {
            // With more than one child item the pattern is not rooted at that child: tree-sitter then
            // does not start it under an ERROR node.
            if pattern.children.len() > 1 && tree.kind_id(node) == ERROR_SYMBOL {
                return Vec::new();
            }
        } else if !node_test(tree, pattern, node) {
            return Vec::new();
        }
        let mut lists = self.node_lists(tree, item, pattern, node);
        dedup_in_order(&mut lists);
        lists
    }

    fn node_lists<T: QueryTree>(
        &mut self,
        tree: &T,
        item: &Item,
        pattern: &NodePattern,
        node: usize,
    ) -> Vec<Vec<Capture>> {
        let own: Vec<Capture> = item
            .captures
            .iter()
            .take(MAX_CAPTURES_PER_STEP)
            .map(|&index| Capture { index, node })
            .collect();
        if pattern.children.is_empty() {
            return vec![own];
        }
        let children: Vec<usize> = tree.children(node).collect();
        let mut out = Vec::new();
        self.assign(tree, &pattern.children, &children, 0, own, &mut out);
        out
    }

    /// Every way to match `items` against `children[from..]` in order, each appended to `prefix`.
    fn assign<T: QueryTree>(
        &mut self,
        tree: &T,
        items: &[Item],
        children: &[usize],
        from: usize,
        prefix: Vec<Capture>,
        out: &mut Vec<Vec<Capture>>,
    ) {
        let Some((item, rest)) = items.split_first() else {
            if let Some(limit) = self.match_limit {
                if out.len() >= limit as usize {
                    self.exceeded = true;
                    out.remove(0);
                }
            }
            out.push(prefix);
            return;
        };
        let Expr::Node(pattern) = &item.expr else {
            unreachable!("checked supported")
        };
        for (offset, &child) in children[from..].iter().enumerate() {
            if let Some(field) = item.field {
                if tree.field_id(child) != Some(field) {
                    continue;
                }
            }
            if !node_test(tree, pattern, child) {
                continue;
            }
            for list in self.node_lists(tree, item, pattern, child) {
                let mut next = prefix.clone();
                next.extend(list);
                self.assign(tree, rest, children, from + offset + 1, next, out);
            }
        }
    }
}

/// Whether `node` itself (not its children) satisfies `pattern`: kind, named, MISSING, ERROR and
/// negated fields.
fn node_test<T: QueryTree>(tree: &T, pattern: &NodePattern, node: usize) -> bool {
    let kind = tree.kind_id(node);
    let is_error = kind == ERROR_SYMBOL;
    let ok = if pattern.symbol == WILDCARD_SYMBOL {
        if pattern.missing {
            tree.is_missing(node)
        } else {
            !is_error && (tree.is_named(node) || !pattern.named_only)
        }
    } else {
        kind == pattern.symbol && (!pattern.missing || tree.is_missing(node))
    };
    ok && pattern
        .negated_fields
        .iter()
        .all(|&f| !tree.has_child_in_field(node, f))
}

/// Removes repeated lists, keeping the first of each.
fn dedup_in_order(lists: &mut Vec<Vec<Capture>>) {
    let mut seen = std::collections::HashSet::new();
    lists.retain(|l| seen.insert(l.clone()));
}

impl Query {
    /// Whether every pattern uses only what the matcher answers exactly; the first that does not is
    /// named.
    pub fn check_supported(&self) -> Result<(), Unsupported> {
        for (index, pattern) in self.patterns.iter().enumerate() {
            let Some(item) = &pattern.item else {
                return Err(Unsupported {
                    pattern: index,
                    feature: "a pattern that is only a predicate",
                });
            };
            check_item(item).map_err(|feature| Unsupported {
                pattern: index,
                feature,
            })?;
        }
        Ok(())
    }
}

fn check_item(item: &Item) -> Result<(), &'static str> {
    if item.quantifier != Quantifier::One {
        return Err("a quantifier (`?`, `*` or `+`)");
    }
    if item.immediate {
        return Err("an anchor (`.`)");
    }
    match &item.expr {
        Expr::Alternation(_) => Err("an alternation (`[...]`)"),
        Expr::Group(_) => Err("a group of sibling patterns"),
        Expr::Node(node) => {
            if node.supertype.is_some() {
                return Err("a supertype (`(expression)`)");
            }
            if node.last_child_anchor {
                return Err("an anchor (`.`)");
            }
            node.children.iter().try_for_each(check_item)
        }
    }
}
