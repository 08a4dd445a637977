//! The parsed form of a query: patterns as trees of items, names already resolved to the grammar's public
//! kind ids and field ids.
//!
//! Layout: a [`Pattern`] holds one top-level [`Item`] (or none, for a pattern that is only a predicate);
//! an item is a node pattern, an alternation or a group, with the field, captures, quantifier and anchor
//! written around it. Every name is resolved once, at parse time, so matching compares integers only.

/// The kind id tree-sitter uses for a wildcard step (`_`, `(_)`, and a supertype without a subtype).
pub const WILDCARD_SYMBOL: u16 = 0;
/// The kind id of `ERROR` nodes.
pub const ERROR_SYMBOL: u16 = u16::MAX;
/// At most this many captures are kept on one node pattern; more are dropped silently, as tree-sitter does.
pub const MAX_CAPTURES_PER_STEP: usize = 3;
/// At most this many negated fields are kept on one node pattern; more are dropped silently.
pub const MAX_NEGATED_FIELDS: usize = 8;

/// How often an item may repeat (`?`, `*`, `+`, or once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    One,
    ZeroOrOne,
    ZeroOrMore,
    OneOrMore,
}

impl Quantifier {
    /// Combines two suffixes written on one item (`(a)+?` and the like), as tree-sitter's
    /// `quantifier_join` does.
    pub fn join(self, other: Quantifier) -> Quantifier {
        use Quantifier::*;
        match (self, other) {
            (One, One) => One,
            (One, ZeroOrOne) | (ZeroOrOne, One) | (ZeroOrOne, ZeroOrOne) => ZeroOrOne,
            (OneOrMore, One) | (One, OneOrMore) | (OneOrMore, OneOrMore) => OneOrMore,
            _ => ZeroOrMore,
        }
    }
}

/// One element of a pattern: what it matches, and what is written around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub expr: Expr,
    /// `field: ...` in front of the item (tree-sitter puts it on the item's first node step).
    pub field: Option<u16>,
    /// Capture ids written after the item, in order (tree-sitter puts them on its first node step).
    pub captures: Vec<u32>,
    pub quantifier: Quantifier,
    /// Preceded by an anchor `.`.
    pub immediate: bool,
    /// Byte offset where tree-sitter's parser begins this item (a field's name, a group's `(`): the
    /// offset `tree_sitter::Query::is_pattern_guaranteed_at_step` places its first step by.
    pub start: usize,
}

/// What an item matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Node(NodePattern),
    /// `[a b c]`: any one branch.
    Alternation(Vec<Item>),
    /// `((a) (b))`: a sequence of siblings.
    Group(Vec<Item>),
}

/// `(kind children...)`, `"anon"`, `_` or `(_)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePattern {
    /// The public kind id, or [`WILDCARD_SYMBOL`].
    pub symbol: u16,
    /// For a wildcard: whether only named nodes match (`(_)`, `(MISSING)`), as opposed to `_`.
    pub named_only: bool,
    /// `(expression)` or `(expression/identifier)`: the node must lie under a hidden node of this kind.
    pub supertype: Option<u16>,
    /// `(MISSING ...)`: only nodes the parser inserted match.
    pub missing: bool,
    pub children: Vec<Item>,
    /// `!field`: the node must have no child in that field.
    pub negated_fields: Vec<u16>,
    /// `(a (b) .)`: the last child item must match the node's last named child.
    pub last_child_anchor: bool,
}

/// One pattern of a query: its item and where it starts in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// `None` for a pattern that is only a predicate (tree-sitter counts it, and it never matches).
    pub item: Option<Item>,
    pub start_byte: usize,
    pub end_byte: usize,
}
