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
        Ok(self
            .found(query, tree)?
            .into_iter()
            .map(|f| f.matched)
            .collect())
    }

    /// Every match with what `captures` orders it by.
    fn found<T: QueryTree>(&mut self, query: &Query, tree: &T) -> Result<Vec<Found>, Unsupported> {
        query.check_supported()?;
        self.exceeded = false;
        let mut out = Vec::new();
        let mut texts: Vec<(u32, &[u8])> = Vec::new();
        for node in 0..tree.node_count() {
            for (pattern_index, pattern) in query.patterns.iter().enumerate() {
                let item = pattern.item.as_ref().expect("checked supported");
                let lists = self.root_matches(tree, item, node);
                for list in lists {
                    texts.clear();
                    texts.extend(list.captures.iter().map(|c| (c.index, tree.text(c.node))));
                    if satisfied(&query.predicates[pattern_index].text, &texts) {
                        out.push(Found {
                            matched: Match {
                                pattern_index,
                                captures: list.captures,
                            },
                            last: list.last,
                            late_parent: list.late_parent,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Every capture of every match, in document order, as tree-sitter's `captures` streams them: by
    /// the captured node's start, then pattern index, then the order in which the matches finish (the
    /// last node each matched, in preorder), then the order within the match.
    ///
    /// Refused where that order is not known to be tree-sitter's: two matches of one pattern with
    /// captures starting at the same byte (tree-sitter's order among them depends on which of its
    /// states are in progress), and a captured wildcard root that tree-sitter captures late (at its
    /// first child).
    pub fn captures<T: QueryTree>(
        &mut self,
        query: &Query,
        tree: &T,
    ) -> Result<Vec<(Match, usize)>, Unsupported> {
        let found = self.found(query, tree)?;
        let mut order: Vec<(usize, usize)> = Vec::new();
        for (m, f) in found.iter().enumerate() {
            if f.late_parent {
                return Err(Unsupported {
                    pattern: f.matched.pattern_index,
                    feature:
                        "captures() of a captured wildcard root with a non-wildcard first child",
                });
            }
            order.extend((0..f.matched.captures.len()).map(|i| (m, i)));
        }
        let key = |&(m, i): &(usize, usize)| {
            let f: &Found = &found[m];
            let start = tree.byte_range(f.matched.captures[i].node).start;
            (start, f.matched.pattern_index, f.last, m, i)
        };
        order.sort_by_key(key);
        for pair in order.windows(2) {
            let (a, b) = (key(&pair[0]), key(&pair[1]));
            if a.0 == b.0 && a.1 == b.1 && a.3 != b.3 {
                return Err(Unsupported {
                    pattern: a.1,
                    feature: "captures() of two matches of one pattern starting at one byte",
                });
            }
        }
        Ok(order
            .into_iter()
            .map(|(m, i)| (found[m].matched.clone(), i))
            .collect())
    }

    /// The distinct capture lists of `item` rooted at `node`.
    fn root_matches<T: QueryTree>(&mut self, tree: &T, item: &Item, node: usize) -> Vec<List> {
        let mut lists = Vec::new();
        for step in first_steps(item) {
            if let Some(field) = step.field {
                if tree.field_id(node) != Some(field) {
                    continue;
                }
            }
            let pattern = step.pattern;
            // tree-sitter starts a pattern whose root is a wildcard without a field and whose first
            // child is a non-wildcard at that child, and then only asks that the child have a parent:
            // of any kind, named or not, ERROR included, its negated fields unchecked.
            let skip_root_test = pattern.symbol == WILDCARD_SYMBOL
                && !pattern.missing
                && step.field.is_none()
                && pattern.children.first().is_some_and(|first| {
                    matches!(&first.expr, Expr::Node(child) if child.symbol != WILDCARD_SYMBOL)
                        && !first.immediate
                });
            if skip_root_test {
                // With more than one child item the pattern is not rooted at that child: tree-sitter
                // then does not start it under an ERROR node.
                if pattern.children.len() > 1 && tree.kind_id(node) == ERROR_SYMBOL {
                    continue;
                }
            } else if !node_test(tree, pattern, node) {
                continue;
            }
            let late_parent = skip_root_test && !step.captures.is_empty();
            lists.extend(self.node_lists(tree, &step, node).into_iter().map(|mut l| {
                l.late_parent = late_parent;
                l
            }));
        }
        dedup_in_order(&mut lists);
        lists
    }

    /// The capture lists of one node step matched at `node`: its own captures, then its children's.
    fn node_lists<T: QueryTree>(&mut self, tree: &T, step: &Step<'_>, node: usize) -> Vec<List> {
        let own: Vec<Capture> = step
            .captures
            .iter()
            .take(MAX_CAPTURES_PER_STEP)
            .map(|&index| Capture { index, node })
            .collect();
        let own = List {
            captures: own,
            last: node,
            late_parent: false,
        };
        if step.pattern.children.is_empty() {
            return vec![own];
        }
        let children: Vec<usize> = tree.children(node).collect();
        let mut out = Vec::new();
        self.assign(tree, &step.pattern.children, &children, 0, own, &mut out);
        out
    }

    /// Every way to match `items` against `children[from..]` in order, each appended to `prefix`.
    fn assign<T: QueryTree>(
        &mut self,
        tree: &T,
        items: &[Item],
        children: &[usize],
        from: usize,
        prefix: List,
        out: &mut Vec<List>,
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
        let steps = first_steps(item);
        for (offset, &child) in children[from..].iter().enumerate() {
            let mut here = Vec::new();
            for step in &steps {
                if let Some(field) = step.field {
                    if tree.field_id(child) != Some(field) {
                        continue;
                    }
                }
                if !node_test(tree, step.pattern, child) {
                    continue;
                }
                here.extend(self.node_lists(tree, step, child));
            }
            dedup_in_order(&mut here);
            for list in here {
                let mut next = prefix.clone();
                next.captures.extend(list.captures);
                next.last = list.last;
                self.assign(tree, rest, children, from + offset + 1, next, out);
            }
        }
    }
}

/// A match in progress: its captures, the last node it matched (preorder), and whether its root is a
/// wildcard tree-sitter captures only at the first child.
#[derive(Clone)]
struct List {
    captures: Vec<Capture>,
    last: usize,
    late_parent: bool,
}

/// A match found, with what orders its captures.
struct Found {
    matched: Match,
    last: usize,
    late_parent: bool,
}

/// A node pattern with the field and captures its item and enclosing alternations give it.
struct Step<'q> {
    pattern: &'q NodePattern,
    field: Option<u16>,
    captures: Vec<u32>,
}

/// The node steps an item can begin with: the node itself, or every branch of an alternation (the
/// outer field replacing a branch's, the outer captures after the branch's own).
fn first_steps(item: &Item) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    collect_steps(item, None, &[], &mut out);
    out
}

fn collect_steps<'q>(item: &'q Item, field: Option<u16>, outer: &[u32], out: &mut Vec<Step<'q>>) {
    let field = field.or(item.field);
    let mut captures = item.captures.clone();
    captures.extend_from_slice(outer);
    match &item.expr {
        Expr::Node(pattern) => out.push(Step {
            pattern,
            field,
            captures,
        }),
        Expr::Alternation(branches) => {
            for branch in branches {
                collect_steps(branch, field, &captures, out);
            }
        }
        Expr::Group(_) => unreachable!("checked supported"),
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

/// Removes lists with the captures of an earlier one, keeping the first of each.
fn dedup_in_order(lists: &mut Vec<List>) {
    let mut seen = std::collections::HashSet::new();
    lists.retain(|l| seen.insert(l.captures.clone()));
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
        Expr::Alternation(branches) => branches.iter().try_for_each(check_item),
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
