//! The incremental update: a file's next green tree after an edit, rebuilt where the edit changed it and sharing
//! every subtree it did not change with the previous version.
//!
//! **What is reused.** A visible node of the new tree-sitter tree takes the previous version's green element
//! where that element is provably what a rebuild would make:
//! - the same tree-sitter node: `Node::id` is the address of the slot that holds the node in its (possibly
//!   hidden) parent's child array, and both trees are alive during the update, so a new node with the id of an
//!   old node sits in the same immutable parent at the same index. It is the same subtree: the same kinds,
//!   fields and MISSING flags below it, and the same text, since an edit marks every subtree it touches as
//!   changed and tree-sitter reuses none of those. Its own field and alias come from above it, so its green
//!   kind (and length) is compared too;
//! - a leaf with the old leaf's range, kind and text;
//! - a node with the old node's range and kind whose children are the old node's: outside the edit's range,
//!   checked on the ids of its visible children (the same tree-sitter nodes at the same offsets, so the gaps
//!   between them hold the same text); anywhere, by planning its children and finding every one of them,
//!   trivia included (compared by text), to be the old node's, in order.
//!
//! This is exact where `changed_ranges` is not: that comparison passes over a subtree whose symbol, position
//! and size match without looking inside it, and ignores fields. The last two rules matter because tree-sitter
//! rebuilds more than it changes: a node whose (often hidden, rebalanced) parent it rebuilt has a new id even
//! when its own subtree was reused, and text it re-parsed gets new nodes even where they come out the same.
//!
//! **How it is found.** The previous version's green tree mirrors the edited old tree-sitter tree (non-trivia
//! green children are the visible children, in order), so an [`OldWalker`] moves a cursor over the old tree and
//! a path through the old green tree in step. The new tree is walked in document order, and so are the nodes it
//! reuses, so the old walker only ever moves forward: past old subtrees that end before the next new node, into
//! old nodes that contain it. An update costs the new nodes visited (those tree-sitter rebuilt, and their
//! children) and the old nodes passed beside them, not the file.
//!
//! **What is rebuilt.** The nodes no rule reuses (the FILE wrapper and tree-sitter's root, whose id is the
//! tree's own, and the path from them to the edit) are made with `GreenNode::new` around their reused children,
//! outside the `NodeCache`; the new tokens are made in one batch through the library's builder (the store's
//! shared cache, or a fresh one; for cstree's per-file rows, a fresh cache over the file's own interner, which
//! every version of the file shares), inside a throwaway node of more than 3 children, which the cache never
//! keeps. A trivia gap beside a reused element takes the old trivia token there when its text is the same.
//!
//! **What it costs.** Planning keeps one step per rebuilt node, new token and reused element (32 bytes each),
//! and the places of the reused subtrees; building makes the path's nodes (a rowan node is 24 bytes plus 16 per
//! child, a cstree node 32 plus 8) and the new tokens. All of it but the new nodes and tokens is freed before
//! `update` returns.

use crate::convert::{check_len, check_nesting, slice, Builder, WIDE};
use crate::kinds::{KindTable, NodeKind, FILE, TRIVIA};
use crate::wide::{self, Moved, WideIndex, WideNode};
use crate::{Element, Library};
use cst_measure::{BuildError, FileEdit};

fn trivia<L: Library>(element: Option<Element<'_, L>>) -> Option<&L::TokenData> {
    match element {
        Some(element @ Element::Token(token)) if element.is_trivia() => Some(token),
        _ => None,
    }
}

/// One element of the old green tree on the walker's path.
struct Place<'g, L: Library> {
    parent: &'g L::NodeData,
    /// Index among the parent's children.
    index: usize,
    element: Element<'g, L>,
    /// Start byte in the old text.
    start: u32,
}

impl<L: Library> Clone for Place<'_, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Library> Copy for Place<'_, L> {}

impl<'g, L: Library> Place<'g, L> {
    /// The trivia token just before the element in its parent, if any.
    fn trivia_before(&self) -> Option<&'g L::TokenData> {
        let index = self.index.checked_sub(1)?;
        trivia::<L>(L::children(self.parent).nth(index).map(L::element))
    }

    /// The trivia token just after it, if any.
    fn trivia_after(&self) -> Option<&'g L::TokenData> {
        trivia::<L>(L::children(self.parent).nth(self.index + 1).map(L::element))
    }
}

/// The first non-trivia child of `parent` at or after `index`, whose start is `start` if it is at `index`.
fn next_visible<L: Library>(
    parent: &L::NodeData,
    index: usize,
    mut start: u32,
) -> Option<Place<'_, L>> {
    for (i, element) in L::children(parent).enumerate().skip(index) {
        let element = L::element(element);
        if !element.is_trivia() {
            return Some(Place {
                parent,
                index: i,
                element,
                start,
            });
        }
        start += element.text_len();
    }
    None
}

/// A cursor over the edited old tree-sitter tree and the path to the same node in the old green tree, moved in
/// step, forward only.
struct OldWalker<'t, 'g, L: Library> {
    cursor: tree_sitter::TreeCursor<'t>,
    /// From tree-sitter's root to the current node; its length is the node's depth.
    path: Vec<Place<'g, L>>,
    /// Every old node has been passed.
    done: bool,
    /// The two trees disagreed: the green tree is not the old tree's, and nothing found may be used.
    broken: bool,
}

impl<'t, 'g, L: Library> OldWalker<'t, 'g, L> {
    fn new(tree: &'t tree_sitter::Tree, file: &'g L::NodeData) -> OldWalker<'t, 'g, L> {
        let root = next_visible::<L>(file, 0, 0);
        OldWalker {
            cursor: tree.walk(),
            done: root.is_none(),
            broken: root.is_none(),
            path: root.into_iter().collect(),
        }
    }

    fn current(&self) -> Place<'g, L> {
        *self
            .path
            .last()
            .expect("a walker that is not done has a node")
    }

    fn disagree(&mut self) -> bool {
        self.broken = true;
        self.done = true;
        false
    }

    fn first_child(&mut self) -> bool {
        if self.done {
            return false;
        }
        let place = self.current();
        let green = match place.element {
            Element::Node(node) => next_visible::<L>(node, 0, place.start),
            Element::Token(_) => None,
        };
        match (self.cursor.goto_first_child(), green) {
            (true, Some(child)) => {
                self.path.push(child);
                true
            }
            (false, None) => false,
            _ => self.disagree(),
        }
    }

    fn next_sibling(&mut self) -> bool {
        if self.path.len() < 2 {
            // tree-sitter's root has no siblings (the wrapper's other children are trivia).
            return false;
        }
        let place = self.current();
        let green = next_visible::<L>(
            place.parent,
            place.index + 1,
            place.start + place.element.text_len(),
        );
        match (self.cursor.goto_next_sibling(), green) {
            (true, Some(next)) => {
                *self.path.last_mut().expect("checked above") = next;
                true
            }
            (false, None) => false,
            _ => self.disagree(),
        }
    }

    /// Moves back to the parent (never above tree-sitter's root).
    fn parent(&mut self) {
        if self.path.len() > 1 {
            self.path.pop();
            self.cursor.goto_parent();
        }
    }

    /// Whether the new node under `cursor` has exactly the visible children of the current old node: the same
    /// tree-sitter nodes (ids) at the same offsets. Both cursors end where they started.
    fn same_children(&mut self, cursor: &mut tree_sitter::TreeCursor<'_>) -> bool {
        if !cursor.goto_first_child() {
            return false;
        }
        if !self.first_child() {
            cursor.goto_parent();
            return false;
        }
        let same = loop {
            let (new, old) = (cursor.node(), self.cursor.node());
            if new.id() != old.id() || new.start_byte() != old.start_byte() {
                break false;
            }
            let next = cursor.goto_next_sibling();
            if next != self.next_sibling() {
                break false;
            }
            if !next {
                break true;
            }
        };
        cursor.goto_parent();
        self.parent();
        same && !self.broken
    }

    /// Moves past the current node's subtree.
    fn skip(&mut self) {
        while !self.done && !self.next_sibling() {
            if self.done || self.path.len() < 2 {
                self.done = true;
                return;
            }
            self.path.pop();
            self.cursor.goto_parent();
        }
    }

    /// Moves forward to the old node that is the new node `start..end` of kind `kind` with this id, or failing
    /// that to one with its range and kind; stays put where a later new node may still be found (the new nodes
    /// come in document order).
    fn find(&mut self, start: u32, end: u32, id: usize, new_kind: u32) -> Found<'g, L> {
        while !self.done {
            let node = self.cursor.node();
            let (s, e) = (node.start_byte() as u32, node.end_byte() as u32);
            if s > start {
                return Found::Nothing;
            }
            if end <= e {
                if s == start && e == end {
                    let place = self.current();
                    if node.id() == id {
                        return Found::Same(place);
                    }
                    if place.element.kind() == new_kind {
                        return Found::Range(place);
                    }
                }
                if !self.first_child() {
                    return Found::Nothing;
                }
            } else if e <= start {
                self.skip();
            } else {
                return Found::Nothing;
            }
        }
        Found::Nothing
    }
}

/// What the old walker found for a new node.
enum Found<'g, L: Library> {
    /// The same tree-sitter node (same id): the same subtree.
    Same(Place<'g, L>),
    /// An old node with its range and green kind, but another id: the same subtree only if its children are.
    Range(Place<'g, L>),
    Nothing,
}

/// What the new green tree is made of, in document order.
enum Step<'g, L: Library> {
    Start {
        kind: u32,
        start: u32,
    },
    Finish,
    /// A new token: its text is the new source's bytes `start..end`.
    Token {
        kind: u32,
        start: u32,
        end: u32,
    },
    Reuse(Element<'g, L>),
}

/// A node being planned.
struct Open<'g, L: Library> {
    /// Its end byte.
    end: usize,
    /// Its start byte.
    start: usize,
    /// Where its `Start` step is.
    step: usize,
    /// How many reused subtrees were recorded before it.
    moved: usize,
    /// An old node of its range and kind, with that node's depth: if the new node's children turn out to be
    /// exactly the old node's, the old node is reused whole.
    candidate: Option<(Place<'g, L>, usize)>,
}

/// The walk over the new tree: steps, and what the new version needs to know of the reused subtrees.
struct Plan<'s, 'g, 'i, L: Library> {
    source: &'s str,
    /// Resolves the old tokens' text.
    resolver: &'i L::Resolver,
    steps: Vec<Step<'g, L>>,
    /// The open nodes, the wrapper first.
    open: Vec<Open<'g, L>>,
    moved: Vec<Moved>,
    /// Green nodes on the longest root-to-leaf path, wrapper included: exact for what is rebuilt, an upper
    /// bound through reused subtrees.
    depth: usize,
    /// The trivia token after the last reused element in its old parent, for the gap that follows it.
    after: Option<&'g L::TokenData>,
}

impl<'g, L: Library> Plan<'_, 'g, '_, L> {
    fn start(
        &mut self,
        kind: u32,
        start: usize,
        end: usize,
        candidate: Option<(Place<'g, L>, usize)>,
    ) {
        self.open.push(Open {
            end,
            start,
            step: self.steps.len(),
            moved: self.moved.len(),
            candidate,
        });
        self.steps.push(Step::Start {
            kind,
            start: start as u32,
        });
        self.depth = self.depth.max(self.open.len());
        self.after = None;
    }

    /// Closes the current node, or, when its planned children are exactly its candidate's, replaces it by the
    /// candidate.
    fn finish(&mut self, old_bound: usize) {
        let open = self.open.pop().expect("finish matches a start");
        if let Some((place, old_depth)) = open.candidate {
            if let Element::Node(old) = place.element {
                let planned = &self.steps[open.step + 1..];
                let same = planned.len() == L::children(old).len()
                    && planned.iter().zip(L::children(old)).all(|(step, child)| {
                        matches!(step, Step::Reuse(reused) if reused.is(L::element(child)))
                    });
                if same {
                    self.steps.truncate(open.step);
                    self.moved.truncate(open.moved);
                    self.reuse(place, old_depth, old_bound, open.start);
                    return;
                }
            }
        }
        self.steps.push(Step::Finish);
        self.after = None;
    }

    fn token(&mut self, kind: u32, start: usize, end: usize) {
        self.steps.push(Step::Token {
            kind,
            start: start as u32,
            end: end as u32,
        });
        self.after = None;
    }

    /// The gap `start..end` as trivia: an old trivia token with the same text, or a new one.
    fn trivia(
        &mut self,
        start: usize,
        end: usize,
        before: Option<&'g L::TokenData>,
    ) -> Result<(), BuildError> {
        if start == end {
            return Ok(());
        }
        let text = slice(self.source, start, end)?;
        let resolver = self.resolver;
        match [before, self.after]
            .into_iter()
            .flatten()
            .find(|token| L::token_text(token, resolver) == text)
        {
            Some(old) => self.steps.push(Step::Reuse(Element::Token(old))),
            None => self.steps.push(Step::Token {
                kind: TRIVIA,
                start: start as u32,
                end: end as u32,
            }),
        }
        self.after = None;
        Ok(())
    }

    /// Takes over the old element at `place` (at `old_depth` in the old tree, whose depth was at most
    /// `old_bound`) as the new node `start..end`.
    fn reuse(&mut self, place: Place<'g, L>, old_depth: usize, old_bound: usize, start: usize) {
        self.steps.push(Step::Reuse(place.element));
        if let Element::Node(node) = place.element {
            let new_depth = self.open.len();
            // Its height is at most what is left of the old bound below it.
            self.depth = self.depth.max(new_depth + old_bound - old_depth);
            self.moved.push(Moved {
                old_depth: old_depth as u32,
                old_start: place.start,
                old_end: place.start + L::node_len(node),
                new_depth: new_depth as u32,
                new_start: start as u32,
            });
        }
        self.after = place.trivia_after();
    }
}

/// The previous version of a file, as the update reads it.
pub(crate) struct Previous<'g, L: Library> {
    /// Its FILE wrapper.
    pub(crate) green: &'g L::NodeData,
    /// Its depth bound (green nodes, wrapper included).
    pub(crate) depth: usize,
    pub(crate) wide: &'g WideIndex,
}

/// The next version of a file.
pub struct Updated<L: Library> {
    pub(crate) green: L::Node,
    /// Green nodes on the longest root-to-leaf path, wrapper included, or more.
    pub(crate) depth: usize,
    pub(crate) wide: WideIndex,
}

/// The plan of a file's next version: what to rebuild, what to reuse.
pub struct Planned<'s, 'g, L: Library> {
    source: &'s str,
    steps: Vec<Step<'g, L>>,
    depth: usize,
    /// The carried-over wide nodes.
    wide: Vec<WideNode>,
    /// The planning's scratch, when it is freed after the build (see [`Library::FREE_PLAN_BEFORE_BUILD`]).
    scratch: Option<Scratch<'s, 'g, L>>,
}

/// What planning used and the build does not need: the open nodes, the reused subtrees' places and the old
/// walker.
struct Scratch<'t, 'g, L: Library> {
    open: Vec<Open<'g, L>>,
    moved: Vec<Moved>,
    walker: OldWalker<'t, 'g, L>,
}

impl<L: Library> Scratch<'_, '_, L> {
    /// Frees it: the open nodes first before the build, the places first after it (the orders the backends
    /// were measured with, which the allocator's footprint of what follows depends on).
    fn free(self, open_first: bool) {
        let Scratch {
            open,
            moved,
            walker,
        } = self;
        if open_first {
            drop(open);
            drop(moved);
        } else {
            drop(moved);
            drop(open);
        }
        drop(walker);
    }
}

/// Plans the file's next version after `edit`, sharing what the edit did not change with `previous` (whose
/// tokens `resolver` resolves); `None` when `previous` is not the tree `edit.old_tree` was (then the caller
/// rebuilds the file).
pub(crate) fn plan<'s, 'g, L: Library>(
    kinds: &mut KindTable<L::Kind>,
    previous: &Previous<'g, L>,
    resolver: &L::Resolver,
    edit: &FileEdit<'s>,
) -> Result<Option<Planned<'s, 'g, L>>, BuildError> {
    let source = edit.text;
    check_len::<L>(source)?;
    if L::node_len(previous.green) as usize != edit.old_text.len() {
        return Ok(None);
    }
    let mut walker = OldWalker::<L>::new(edit.old_tree, previous.green);
    let mut plan = Plan {
        source,
        resolver,
        steps: Vec::new(),
        open: Vec::new(),
        moved: Vec::new(),
        depth: 0,
        after: None,
    };
    let edited = (edit.input.start_byte, edit.input.new_end_byte);
    walk(
        &mut plan,
        &mut walker,
        kinds,
        edit.tree.walk(),
        previous.depth,
        edited,
    )?;
    if walker.broken {
        return Ok(None);
    }
    let mut wide = Vec::new();
    previous.wide.carry(&plan.moved, &mut wide);
    let Plan {
        steps,
        open,
        moved,
        depth,
        ..
    } = plan;
    let scratch = Scratch {
        open,
        moved,
        walker,
    };
    let scratch = if L::FREE_PLAN_BEFORE_BUILD {
        scratch.free(true);
        None
    } else {
        Some(scratch)
    };
    Ok(Some(Planned {
        source,
        steps,
        depth,
        wide,
        scratch,
    }))
}

impl<L: Library> Planned<'_, '_, L> {
    /// Builds the planned version, its new tokens through `builder`.
    pub fn build(self, builder: impl Builder<L>) -> Updated<L> {
        let Planned {
            source,
            steps,
            depth,
            mut wide,
            scratch,
        } = self;
        let green = assemble(builder, source, steps, &mut wide);
        let updated = Updated {
            green,
            depth,
            wide: WideIndex::new(wide),
        };
        if let Some(scratch) = scratch {
            scratch.free(false);
        }
        updated
    }
}

/// Walks the new tree, as `convert::walk` does, reusing what the old walker finds.
fn walk<'g, L: Library>(
    plan: &mut Plan<'_, 'g, '_, L>,
    walker: &mut OldWalker<'_, 'g, L>,
    kinds: &mut KindTable<L::Kind>,
    mut cursor: tree_sitter::TreeCursor<'_>,
    old_bound: usize,
    edited: (usize, usize),
) -> Result<(), BuildError> {
    let source = plan.source;
    plan.start(FILE, 0, source.len(), None);
    // Bytes of the file already planned.
    let mut pos = 0;
    'nodes: loop {
        let node = cursor.node();
        let (start, end) = (node.start_byte(), node.end_byte());
        let limit = plan.open.last().expect("the wrapper is open").end;
        check_nesting(node, pos, limit)?;
        let text = slice(source, start, end)?;
        let new_kind = kinds.encode(NodeKind {
            kind: node.kind_id(),
            field: cursor.field_id().map_or(0, |id| id.get()),
            missing: node.is_missing(),
        })?;
        let mut candidate = None;
        let reused = match walker.find(start as u32, end as u32, node.id(), new_kind) {
            Found::Same(place)
                if place.element.kind() == new_kind
                    && place.element.text_len() as usize == text.len() =>
            {
                Some(place)
            }
            Found::Same(_) => {
                // The same subtree with another field or alias: its children are the old node's.
                walker.first_child();
                None
            }
            // A leaf is its kind and text.
            Found::Range(
                place @ Place {
                    element: Element::Token(token),
                    ..
                },
            ) if L::token_text(token, plan.resolver) == text && !has_children(&mut cursor) => {
                Some(place)
            }
            // Outside the edit, a node whose children are the old node's (and so whose gaps hold the same text)
            // is the old node.
            Found::Range(
                place @ Place {
                    element: Element::Node(_),
                    ..
                },
            ) if (end < edited.0 || start > edited.1) && walker.same_children(&mut cursor) => {
                Some(place)
            }
            Found::Range(
                place @ Place {
                    element: Element::Node(_),
                    ..
                },
            ) => {
                candidate = Some((place, walker.path.len()));
                walker.first_child();
                None
            }
            Found::Range(_) | Found::Nothing => None,
        };
        if let Some(place) = reused {
            plan.trivia(pos, start, place.trivia_before())?;
            plan.reuse(place, walker.path.len(), old_bound, start);
            walker.skip();
        } else {
            plan.trivia(pos, start, candidate.and_then(|(p, _)| p.trivia_before()))?;
            if cursor.goto_first_child() {
                plan.start(new_kind, start, end, candidate);
                pos = start;
                continue;
            }
            plan.token(new_kind, start, end);
        }
        pos = end;
        // Move on: the next sibling, or close parents until one has a next sibling.
        loop {
            if plan.open.len() == 1 {
                // Back at the root's level: only the trailing trivia is left.
                plan.trivia(pos, source.len(), None)?;
                plan.finish(old_bound);
                return Ok(());
            }
            if cursor.goto_next_sibling() {
                continue 'nodes;
            }
            cursor.goto_parent();
            let parent_end = plan.open.last().expect("a parent is open").end;
            plan.trivia(pos, parent_end, None)?;
            pos = parent_end;
            plan.finish(old_bound);
        }
    }
}

/// Whether the cursor's node has a visible child (the cursor stays where it is).
fn has_children(cursor: &mut tree_sitter::TreeCursor<'_>) -> bool {
    cursor.goto_first_child() && cursor.goto_parent()
}

/// Makes the new tokens in one batch and builds the new green tree from the steps, adding its new wide nodes
/// to `wide`.
fn assemble<L: Library, B: Builder<L>>(
    mut builder: B,
    source: &str,
    steps: Vec<Step<'_, L>>,
    wide: &mut Vec<WideNode>,
) -> L::Node {
    builder.start_node(FILE);
    for step in &steps {
        if let Step::Token { kind, start, end } = *step {
            builder.token(kind, &source[start as usize..end as usize]);
        }
    }
    // More than 3 children: the cache does not keep the batch node.
    for _ in 0..4 {
        builder.token(TRIVIA, "");
    }
    builder.finish_node();
    let batch = B::tree(builder.finish());
    let mut tokens = L::children(L::data(&batch)).map(L::element);

    let mut children: Vec<L::OwnedElement> = Vec::new();
    let mut parents: Vec<(u32, usize, u32)> = Vec::new();
    for step in steps {
        match step {
            Step::Start { kind, start } => parents.push((kind, children.len(), start)),
            Step::Token { .. } => {
                let token = tokens
                    .next()
                    .and_then(Element::token)
                    .expect("one batch token per token step");
                children.push(token.to_owned().into());
            }
            Step::Reuse(Element::Node(node)) => children.push(node.to_owned().into()),
            Step::Reuse(Element::Token(token)) => children.push(token.to_owned().into()),
            Step::Finish => {
                let (kind, first, start) = parents.pop().expect("finish matches a start");
                let count = children.len() - first;
                let node = L::new_node(kind, children.drain(first..));
                let data = L::data(&node);
                let end = start + L::node_len(data);
                // Not the wrapper (the root of the depths), nor an empty node (which lookups never scan).
                if count > WIDE && !parents.is_empty() && end > start {
                    wide.push(WideNode {
                        depth: parents.len() as u32,
                        start,
                        end,
                        children: count as u32,
                        samples: wide::samples_of::<L>(data),
                    });
                }
                children.push(node.into());
            }
        }
    }
    drop(tokens);
    drop(batch);
    match children.pop().and_then(L::into_node) {
        Some(file) if children.is_empty() => file,
        _ => unreachable!("the steps open and close the wrapper once"),
    }
}
