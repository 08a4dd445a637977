//! The matcher: a port of tree-sitter 0.27's query execution (`ts_query_cursor__advance`,
//! `ts_query_cursor_next_match`, `ts_query_cursor_next_capture` in `lib/src/query.c`) over a
//! [`QueryTree`], giving `matches` (per pattern) and `captures` (one stream in document order) with the
//! answers of tree-sitter's `QueryCursor`, order included, and the Rust binding's text predicates
//! applied as the binding applies them (a `captures` match that fails them is removed from the cursor,
//! in progress or finished).
//!
//! Layout: one walk of the visible tree in preorder, each node entered and then left after its
//! subtree. Entering a node starts a state for every pattern whose first step may match it (the
//! pattern map of [`crate::steps`]), then advances every in-progress state whose next step sits at the
//! node's depth: a state splits where its step captures or can fail and a later sibling could match
//! it, and at alternatives, quantifier loops and skips; states whose captures are a subset of another
//! state's at the same step are dropped (the longest-match rule), and a state at its pattern's end
//! finishes unless an alternative with more captures is still in progress. Leaving a node drops the
//! states that needed something inside it and finishes the deferred ones. `captures` merges the
//! finished states in a heap by their next capture's start, pattern and finishing order, holding a
//! capture back while an unfinished state that is not yet guaranteed holds an earlier one.
//!
//! What each node needs of the tree beyond its kind: its parent, next sibling and field (the query
//! cursor's, [`QueryTree::field_id`]), its hidden supertypes ([`QueryTree::has_supertype`]) and, for
//! negated fields, [`QueryTree::has_child_in_field`]. Whether a node has later named siblings, and
//! whether a later sibling has the same field, are derived from the visible tree when a node's children
//! are first reached (one pass over them). tree-sitter asks the grammar whether a later sibling *can*
//! have that field; a later visible sibling that has it is used instead (NOTES.md).
//!
//! Cost: time linear in the tree for a fixed query, times the number of states in progress (bounded by
//! the match limit, [`QueryCursor::set_match_limit`], which abandons the state holding the earliest
//! capture, as tree-sitter does), plus the dedup pass per node, quadratic in the states of one pattern
//! at one root. Working memory: the states and their capture lists, and a byte per child of each node
//! on the path from the root.
//!
//! Nothing is refused: [`Unsupported`] is kept in the signatures for a feature found not to be
//! answered exactly, and none is known.

use crate::ast::{ERROR_SYMBOL, WILDCARD_SYMBOL};
use crate::error::Unsupported;
use crate::predicate::satisfied;
use crate::query::Query;
use crate::steps::{Program, DONE, NONE, NO_CAPTURE};
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

    /// Bounds the capture lists in use at once (tree-sitter's match limit); beyond it the state
    /// holding the earliest capture is abandoned and [`QueryCursor::did_exceed_match_limit`] reports
    /// it.
    pub fn set_match_limit(&mut self, limit: u32) {
        self.match_limit = Some(limit);
    }

    pub fn match_limit(&self) -> u32 {
        self.match_limit.unwrap_or(u32::MAX)
    }

    pub fn did_exceed_match_limit(&self) -> bool {
        self.exceeded
    }

    /// Every match of every pattern that satisfies its text predicates, in the order tree-sitter's
    /// `matches` gives them (the order in which they finish).
    pub fn matches<T: QueryTree>(
        &mut self,
        query: &Query,
        tree: &T,
    ) -> Result<Vec<Match>, Unsupported> {
        let mut run = Run::new(query, tree, self.match_limit());
        let mut out = Vec::new();
        while let Some(m) = run.next_match() {
            if run.satisfies(&m) {
                out.push(m);
            }
        }
        self.exceeded = run.did_exceed;
        Ok(out)
    }

    /// Every capture, as tree-sitter's `captures` streams them: each with its match (the captures it
    /// holds when this one is given) and the capture's position in it.
    pub fn captures<T: QueryTree>(
        &mut self,
        query: &Query,
        tree: &T,
    ) -> Result<Vec<(Match, usize)>, Unsupported> {
        let mut run = Run::new(query, tree, self.match_limit());
        let mut out = Vec::new();
        while let Some((id, m, index)) = run.next_capture() {
            if run.satisfies(&m) {
                out.push((m, index));
            } else {
                run.remove_match(id);
            }
        }
        self.exceeded = run.did_exceed;
        Ok(out)
    }
}

const NO_LIST: u32 = u32::MAX;
const NO_ID: u32 = u32::MAX;

/// An in-progress match (tree-sitter's `QueryState`).
#[derive(Clone, Copy, Debug)]
struct State {
    id: u32,
    list: u32,
    heap_insert_order: u32,
    start_depth: u16,
    step: u32,
    pattern: u32,
    consumed: u32,
    seeking_immediate: bool,
    has_in_progress_alternatives: bool,
    dead: bool,
    needs_parent: bool,
    skipped_quantifier: bool,
}

/// The capture lists, reused, at most `max` in use (tree-sitter's `CaptureListPool`).
struct Pool {
    lists: Vec<Vec<Capture>>,
    in_use: Vec<bool>,
    free: Vec<u32>,
    max: u32,
}

impl Pool {
    fn get(&self, id: u32) -> &[Capture] {
        if id == NO_LIST || id as usize >= self.lists.len() {
            &[]
        } else {
            &self.lists[id as usize]
        }
    }
    fn get_mut(&mut self, id: u32) -> &mut Vec<Capture> {
        &mut self.lists[id as usize]
    }
    fn is_empty(&self) -> bool {
        self.free.is_empty() && self.lists.len() as u64 >= self.max as u64
    }
    fn acquire(&mut self) -> u32 {
        if let Some(id) = self.free.pop() {
            self.lists[id as usize].clear();
            self.in_use[id as usize] = true;
            return id;
        }
        let i = self.lists.len();
        if i as u64 >= self.max as u64 {
            return NO_LIST;
        }
        self.lists.push(Vec::new());
        self.in_use.push(true);
        i as u32
    }
    fn release(&mut self, id: u32) {
        if id == NO_LIST || id as usize >= self.lists.len() || !self.in_use[id as usize] {
            return;
        }
        self.in_use[id as usize] = false;
        self.free.push(id);
    }
}

/// Per child of a node: a later sibling is named, a later sibling has the same field.
const LATER_NAMED: u8 = 1;
const LATER_SAME_FIELD: u8 = 2;

/// One execution of a query over a tree (tree-sitter's `TSQueryCursor` after `exec`).
struct Run<'a, T: QueryTree> {
    query: &'a Query,
    program: &'a Program,
    tree: &'a T,
    states: Vec<State>,
    finished: Vec<State>,
    heap_size: usize,
    pool: Pool,
    depth: u32,
    next_state_id: u32,
    next_finished_id: u32,
    did_exceed: bool,
    /// The node the walk is at, and whether it is being left.
    node: usize,
    ascending: bool,
    halted: bool,
    /// Per level of the path: the flags of the node's siblings (and itself) and its position.
    levels: Vec<(Vec<u8>, usize)>,
    fields_after: Vec<u16>,
}

impl<'a, T: QueryTree> Run<'a, T> {
    fn new(query: &'a Query, tree: &'a T, limit: u32) -> Run<'a, T> {
        let empty = tree.node_count() == 0;
        Run {
            query,
            program: &query.program,
            tree,
            states: Vec::new(),
            finished: Vec::new(),
            heap_size: 0,
            pool: Pool {
                lists: Vec::new(),
                in_use: Vec::new(),
                free: Vec::new(),
                max: limit,
            },
            depth: 0,
            next_state_id: 0,
            next_finished_id: 0,
            did_exceed: false,
            node: 0,
            ascending: false,
            halted: empty,
            levels: vec![(vec![0], 0)],
            fields_after: Vec::new(),
        }
    }

    fn satisfies(&mut self, m: &Match) -> bool {
        let predicates = &self.query.predicates[m.pattern_index].text;
        if predicates.is_empty() {
            return true;
        }
        let tree = self.tree;
        let texts: Vec<(u32, &[u8])> = m
            .captures
            .iter()
            .map(|c| (c.index, tree.text(c.node)))
            .collect();
        satisfied(predicates, &texts)
    }

    fn start(&self, node: usize) -> usize {
        self.tree.byte_range(node).start
    }

    fn end(&self, node: usize) -> usize {
        self.tree.byte_range(node).end
    }

    fn step_of(&self, state: &State) -> &'a crate::steps::Step {
        &self.program.steps[state.step as usize]
    }

    fn captures_of(&self, state: &State) -> &[Capture] {
        self.pool.get(state.list)
    }

    /// The flags of every child of `parent`, from one pass over them backwards.
    fn child_flags(&mut self, parent: usize) -> Vec<u8> {
        let children: Vec<usize> = self.tree.children(parent).collect();
        let mut flags = vec![0u8; children.len()];
        let mut later_named = false;
        self.fields_after.clear();
        for (i, &child) in children.iter().enumerate().rev() {
            let mut f = 0;
            if later_named {
                f |= LATER_NAMED;
            }
            if let Some(field) = self.tree.field_id(child) {
                if self.fields_after.contains(&field) {
                    f |= LATER_SAME_FIELD;
                } else {
                    self.fields_after.push(field);
                }
            }
            later_named |= self.tree.is_named(child);
            flags[i] = f;
        }
        flags
    }

    // ---- the walk (ts_query_cursor__advance) ----

    fn advance(&mut self, stop_on_definite_step: bool) -> bool {
        let mut did_match = false;
        loop {
            if self.halted {
                while let Some(state) = self.states.pop() {
                    self.pool.release(state.list);
                }
            }
            if did_match || self.halted {
                return did_match;
            }
            if self.ascending {
                self.leave(&mut did_match);
                if let Some(sibling) = self.tree.next_sibling(self.node) {
                    self.node = sibling;
                    self.levels.last_mut().expect("a level").1 += 1;
                    self.ascending = false;
                } else if let Some(parent) = self.tree.parent(self.node) {
                    self.node = parent;
                    self.depth -= 1;
                    self.levels.pop();
                } else {
                    self.halted = true;
                }
            } else {
                self.enter(stop_on_definite_step, &mut did_match);
                if let Some(child) = self.tree.first_child(self.node) {
                    let flags = self.child_flags(self.node);
                    self.levels.push((flags, 0));
                    self.node = child;
                    self.depth += 1;
                } else {
                    self.ascending = true;
                }
            }
        }
    }

    /// Leaving a node: finish the deferred states that started below it, drop the states that
    /// needed something inside it.
    fn leave(&mut self, did_match: &mut bool) {
        let depth = self.depth;
        let mut kept = 0;
        for i in 0..self.states.len() {
            let state = self.states[i];
            let step = self.step_of(&state);
            if step.depth == DONE && (state.start_depth as u32 > depth || depth == 0) {
                self.push_finished(state);
                *did_match = true;
            } else if step.depth != DONE && state.start_depth as u32 + step.depth as u32 > depth {
                self.pool.release(state.list);
            } else {
                self.states[kept] = state;
                kept += 1;
            }
        }
        self.states.truncate(kept);
    }

    fn push_finished(&mut self, mut state: State) {
        state.heap_insert_order = self.next_finished_id;
        self.next_finished_id += 1;
        self.finished.push(state);
    }

    /// Entering a node: start the patterns it may begin, advance the states it may continue.
    fn enter(&mut self, stop_on_definite_step: bool, did_match: &mut bool) {
        let tree = self.tree;
        let program = self.program;
        let node = self.node;
        let depth = self.depth;
        let symbol = tree.kind_id(node);
        let is_named = tree.is_named(node);
        let is_missing = tree.is_missing(node);
        let field_id = tree.field_id(node).unwrap_or(0);
        let has_later_siblings = tree.next_sibling(node).is_some();
        let flags = {
            let (flags, position) = self.levels.last().expect("a level");
            flags[*position]
        };
        let has_later_named_siblings = flags & LATER_NAMED != 0;
        let can_have_later_siblings_with_this_field = flags & LATER_SAME_FIELD != 0;
        let parent = tree.parent(node);
        let node_is_error = symbol == ERROR_SYMBOL;
        let parent_is_error = parent.is_some_and(|p| tree.kind_id(p) == ERROR_SYMBOL);

        // Patterns whose first step is a wildcard.
        if !node_is_error {
            for i in 0..program.wildcard_roots {
                let entry = program.pattern_map[i];
                let step = &program.steps[entry.step as usize];
                let start_ok = entry.is_rooted || !parent_is_error;
                if start_ok
                    && (step.field == 0 || field_id == step.field)
                    && (step.supertype == 0 || tree.has_supertype(node, step.supertype))
                {
                    self.add_state(entry.step, entry.pattern);
                }
            }
        }
        // Patterns whose first step is this node's kind.
        let map = &program.pattern_map[program.wildcard_roots..];
        let first = map.partition_point(|e| program.steps[e.step as usize].symbol < symbol);
        for entry in &map[first..] {
            let step = &program.steps[entry.step as usize];
            if step.symbol != symbol {
                break;
            }
            if (entry.is_rooted || !parent_is_error) && (step.field == 0 || field_id == step.field)
            {
                self.add_state(entry.step, entry.pattern);
            }
        }

        // Advance every in-progress state at this depth.
        let mut j = 0;
        while j < self.states.len() {
            let mut copy_count = 0;
            self.states[j].has_in_progress_alternatives = false;
            let state = self.states[j];
            let step = &program.steps[state.step as usize];
            if state.start_depth as u32 + step.depth as u32 != depth {
                j += 1;
                continue;
            }
            let mut node_does_match = if step.symbol == WILDCARD_SYMBOL {
                if step.is_missing {
                    is_missing
                } else {
                    !node_is_error && (is_named || !step.is_named)
                }
            } else {
                symbol == step.symbol && (!step.is_missing || is_missing)
            };
            let mut later_sibling_can_match = has_later_siblings;
            if (step.is_immediate && is_named && !state.skipped_quantifier)
                || state.seeking_immediate
            {
                later_sibling_can_match = false;
            }
            if step.is_last_child && has_later_named_siblings {
                node_does_match = false;
            }
            if step.supertype != 0 && !tree.has_supertype(node, step.supertype) {
                node_does_match = false;
            }
            if step.field != 0 {
                if step.field == field_id {
                    if !can_have_later_siblings_with_this_field {
                        later_sibling_can_match = false;
                    }
                } else {
                    node_does_match = false;
                }
            }
            if step
                .negated_fields
                .iter()
                .any(|&f| tree.has_child_in_field(node, f))
            {
                node_does_match = false;
            }
            if !node_does_match {
                if !later_sibling_can_match {
                    self.pool.release(state.list);
                    self.states.remove(j);
                } else {
                    j += 1;
                }
                continue;
            }

            // Split: one state takes this node, one waits for a later sibling.
            if later_sibling_can_match
                && (step.contains_captures || program.step_is_fallible(state.step))
                && self.copy_state(j).is_some()
            {
                copy_count += 1;
            }

            // A pattern started at its second step, under a wildcard root: capture the parent.
            if self.states[j].needs_parent {
                match parent {
                    None => self.states[j].dead = true,
                    Some(parent) => {
                        self.states[j].needs_parent = false;
                        let mut skipped = state.step as usize;
                        loop {
                            skipped -= 1;
                            let s = &program.steps[skipped];
                            if !(s.is_dead_end || s.is_pass_through || s.depth > 0) {
                                break;
                            }
                        }
                        if program.steps[skipped].has_captures() {
                            self.capture(j, skipped as u32, parent);
                        }
                    }
                }
            }
            if step.has_captures() {
                self.capture(j, state.step, node);
            }
            if self.states[j].dead {
                // The copy, now at `j`, waits for a later sibling: it is not advanced here.
                self.states.remove(j);
                j += copy_count;
                continue;
            }

            // Advance to the next step.
            let s = &mut self.states[j];
            s.step += 1;
            let next_step = &program.steps[s.step as usize];
            s.seeking_immediate =
                step.symbol == WILDCARD_SYMBOL && !step.is_named && next_step.is_immediate;
            s.skipped_quantifier = false;
            if stop_on_definite_step && next_step.root_pattern_guaranteed {
                *did_match = true;
            }

            // Alternatives: dead ends jump, pass-throughs and branches split.
            let mut end_index = j + 1;
            let mut k = j;
            while k < end_index {
                let child_step = &program.steps[self.states[k].step as usize];
                if child_step.alternative != NONE {
                    if child_step.is_dead_end {
                        self.states[k].step = child_step.alternative;
                        continue;
                    }
                    if child_step.is_pass_through {
                        self.states[k].step += 1;
                    }
                    if child_step.alternative_is_skip
                        && child_step.is_last_child
                        && has_later_named_siblings
                    {
                        if !child_step.is_pass_through {
                            k += 1;
                        }
                        continue;
                    }
                    let child_step_index = self.states[k].step;
                    if let Some(copy) = self.copy_state(k) {
                        end_index += 1;
                        copy_count += 1;
                        let c = &mut self.states[copy];
                        c.step = child_step.alternative;
                        if child_step.is_pass_through {
                            c.seeking_immediate = true;
                        }
                        if child_step.alternative_is_skip {
                            if !child_step.is_immediate {
                                let target = &program.steps[child_step.alternative as usize];
                                c.skipped_quantifier = target.depth == child_step.depth;
                            } else if program.steps[child_step_index as usize - 1].depth
                                < child_step.depth
                            {
                                c.seeking_immediate = true;
                            }
                        }
                    }
                    if child_step.is_pass_through {
                        continue;
                    }
                }
                k += 1;
            }
            j += 1 + copy_count;
        }

        self.sort_states_by_capture();
        self.dedup_and_finish(did_match);
    }

    /// tree-sitter's `ts_query_cursor__add_state`: states stay ordered by start depth, then pattern.
    fn add_state(&mut self, step_index: u32, pattern: u32) {
        let step = &self.program.steps[step_index as usize];
        let start_depth = (self.depth as u16).wrapping_sub(step.depth);
        let mut index = self.states.len();
        while index > 0 {
            let prev = &self.states[index - 1];
            if prev.start_depth < start_depth {
                break;
            }
            if prev.start_depth == start_depth {
                if prev.pattern == pattern && prev.step == step_index {
                    return;
                }
                if prev.pattern <= pattern {
                    break;
                }
            }
            index -= 1;
        }
        self.states.insert(
            index,
            State {
                id: NO_ID,
                list: NO_LIST,
                heap_insert_order: u32::MAX,
                start_depth,
                step: step_index,
                pattern,
                consumed: 0,
                seeking_immediate: true,
                has_in_progress_alternatives: false,
                dead: false,
                needs_parent: step.depth == 1,
                skipped_quantifier: false,
            },
        );
    }

    /// A capture list for a state that has none; when none is left, the list of the state holding
    /// the earliest capture (not `preserve`) is taken and that state dies.
    fn acquire_list(&mut self, preserve: usize) -> Option<u32> {
        let id = self.pool.acquire();
        if id != NO_LIST {
            return Some(id);
        }
        self.did_exceed = true;
        match self.first_in_progress_capture(None) {
            Some((index, _, _)) if index != preserve => {
                let other = &mut self.states[index];
                let id = other.list;
                other.list = NO_LIST;
                other.dead = true;
                self.pool.get_mut(id).clear();
                Some(id)
            }
            _ => None,
        }
    }

    fn capture(&mut self, state_index: usize, step_index: u32, node: usize) {
        if self.states[state_index].dead {
            return;
        }
        if self.states[state_index].list == NO_LIST {
            match self.acquire_list(usize::MAX) {
                Some(id) => self.states[state_index].list = id,
                None => {
                    self.states[state_index].dead = true;
                    return;
                }
            }
        }
        let list = self.states[state_index].list;
        let step = &self.program.steps[step_index as usize];
        for &index in step.captures.iter().take_while(|&&c| c != NO_CAPTURE) {
            self.pool.get_mut(list).push(Capture { index, node });
        }
    }

    /// Duplicates state `index` just after it; `None` when no capture list is left for the copy.
    fn copy_state(&mut self, index: usize) -> Option<usize> {
        let mut copy = self.states[index];
        copy.list = NO_LIST;
        let old = self.states[index].list;
        if old != NO_LIST {
            let id = self.acquire_list(index)?;
            let captures = self.pool.get(old).to_vec();
            self.pool.get_mut(id).extend_from_slice(&captures);
            copy.list = id;
        }
        self.states.insert(index + 1, copy);
        Some(index + 1)
    }

    /// tree-sitter's `ts_query_cursor__first_in_progress_capture`: the state holding the earliest
    /// unconsumed capture (ties to the lower pattern). Without `definite`, states whose step is
    /// guaranteed are passed over; with it, it says whether the found one is guaranteed.
    fn first_in_progress_capture(
        &mut self,
        mut definite: Option<&mut bool>,
    ) -> Option<(usize, usize, u32)> {
        let mut result: Option<(usize, usize, u32)> = None;
        let mut i = 0;
        while i < self.states.len() {
            let state = self.states[i];
            if state.dead {
                i += 1;
                continue;
            }
            let captures = self.pool.get(state.list);
            if state.consumed as usize >= captures.len() {
                i += 1;
                continue;
            }
            let node = captures[state.consumed as usize].node;
            if self.end(node) == 0 {
                self.states[i].consumed += 1;
                continue;
            }
            let start = self.start(node);
            let better = match result {
                None => true,
                Some((_, byte, pattern)) => {
                    start < byte || (start == byte && state.pattern < pattern)
                }
            };
            if better {
                let step = self.step_of(&state);
                if let Some(d) = definite.as_deref_mut() {
                    *d = step.root_pattern_guaranteed && !step.is_immediate;
                } else if step.root_pattern_guaranteed {
                    i += 1;
                    continue;
                }
                result = Some((i, start, state.pattern));
            }
            i += 1;
        }
        result
    }

    /// Whether a node comes first in a depth-first walk: -1, 1, or 0 for one node or the same range.
    fn compare_nodes(&self, left: usize, right: usize) -> i8 {
        if left != right {
            let (l, r) = (self.tree.byte_range(left), self.tree.byte_range(right));
            if l.start < r.start {
                return -1;
            }
            if l.start > r.start {
                return 1;
            }
            if l.end > r.end {
                return -1;
            }
            if l.end < r.end {
                return 1;
            }
        }
        0
    }

    /// tree-sitter's `ts_query_cursor__compare_captures`: (left ⊇ right, right ⊇ left).
    fn compare_captures(&self, left: &State, right: &State) -> (bool, bool) {
        let l = self.captures_of(left);
        let r = self.captures_of(right);
        let (mut left_contains_right, mut right_contains_left) = (true, true);
        let (mut i, mut j) = (0, 0);
        loop {
            if i < l.len() {
                if j < r.len() {
                    if l[i].node == r[j].node && l[i].index == r[j].index {
                        i += 1;
                        j += 1;
                    } else {
                        match self.compare_nodes(l[i].node, r[j].node) {
                            -1 => {
                                right_contains_left = false;
                                i += 1;
                            }
                            1 => {
                                left_contains_right = false;
                                j += 1;
                            }
                            _ => {
                                right_contains_left = false;
                                left_contains_right = false;
                                i += 1;
                                j += 1;
                            }
                        }
                    }
                } else {
                    right_contains_left = false;
                    break;
                }
            } else {
                if j < r.len() {
                    left_contains_right = false;
                }
                break;
            }
        }
        (left_contains_right, right_contains_left)
    }

    fn state_precedes(&self, a: &State, b: &State) -> bool {
        if a.start_depth != b.start_depth {
            return a.start_depth < b.start_depth;
        }
        if a.pattern != b.pattern {
            return a.pattern < b.pattern;
        }
        let (ac, bc) = (self.captures_of(a), self.captures_of(b));
        if ac.is_empty() != bc.is_empty() {
            return ac.is_empty();
        }
        if ac.is_empty() {
            return false;
        }
        self.start(ac[0].node) < self.start(bc[0].node)
    }

    /// A stable insertion sort by [`Run::state_precedes`].
    fn sort_states_by_capture(&mut self) {
        for i in 1..self.states.len() {
            if !self.state_precedes(&self.states[i], &self.states[i - 1]) {
                continue;
            }
            let key = self.states[i];
            let mut j = i;
            loop {
                self.states[j] = self.states[j - 1];
                j -= 1;
                if !(j > 0 && self.state_precedes(&key, &self.states[j - 1])) {
                    break;
                }
            }
            self.states[j] = key;
        }
    }

    /// The longest-match rule, then finishing the states at their pattern's end.
    fn dedup_and_finish(&mut self, did_match: &mut bool) {
        let mut j = 0;
        while j < self.states.len() {
            if self.states[j].dead {
                self.states.remove(j);
                continue;
            }
            let mut did_remove = false;
            let mut k = j + 1;
            while k < self.states.len() {
                let state = self.states[j];
                let other = self.states[k];
                if other.start_depth != state.start_depth || other.pattern != state.pattern {
                    break;
                }
                let (sc, oc) = (self.captures_of(&state), self.captures_of(&other));
                if !sc.is_empty()
                    && !oc.is_empty()
                    && self.start(oc[0].node) >= self.end(sc[sc.len() - 1].node)
                {
                    break;
                }
                let (left_contains_right, right_contains_left) =
                    self.compare_captures(&state, &other);
                if left_contains_right {
                    if state.step == other.step
                        && (other.seeking_immediate || !state.seeking_immediate)
                    {
                        self.pool.release(other.list);
                        self.states.remove(k);
                        continue;
                    }
                    self.states[k].has_in_progress_alternatives = true;
                }
                if right_contains_left {
                    if state.step == other.step
                        && (state.seeking_immediate || !other.seeking_immediate)
                    {
                        self.pool.release(state.list);
                        self.states.remove(j);
                        did_remove = true;
                        break;
                    }
                    self.states[j].has_in_progress_alternatives = true;
                }
                k += 1;
            }
            if did_remove {
                continue;
            }
            let state = self.states[j];
            if self.step_of(&state).depth == DONE && !state.has_in_progress_alternatives {
                self.push_finished(state);
                self.states.remove(j);
                *did_match = true;
                continue;
            }
            j += 1;
        }
    }

    // ---- matches (ts_query_cursor_next_match) ----

    fn next_match(&mut self) -> Option<Match> {
        if self.finished.is_empty() && !self.advance(false) {
            return None;
        }
        let state = self.finished.remove(0);
        let captures = self.pool.get(state.list).to_vec();
        self.pool.release(state.list);
        Some(Match {
            pattern_index: state.pattern as usize,
            captures,
        })
    }

    // ---- captures (ts_query_cursor_next_capture) ----

    fn finished_precedes(&self, a: &State, b: &State) -> bool {
        let (ac, bc) = (self.captures_of(a), self.captures_of(b));
        if a.consumed as usize >= ac.len() {
            return false;
        }
        if b.consumed as usize >= bc.len() {
            return true;
        }
        let ab = self.start(ac[a.consumed as usize].node);
        let bb = self.start(bc[b.consumed as usize].node);
        if ab != bb {
            return ab < bb;
        }
        if a.pattern != b.pattern {
            return a.pattern < b.pattern;
        }
        a.heap_insert_order < b.heap_insert_order
    }

    fn sift_down(&mut self, mut index: usize) {
        let size = self.finished.len();
        loop {
            let mut smallest = index;
            let (left, right) = (2 * index + 1, 2 * index + 2);
            if left < size && self.finished_precedes(&self.finished[left], &self.finished[smallest])
            {
                smallest = left;
            }
            if right < size
                && self.finished_precedes(&self.finished[right], &self.finished[smallest])
            {
                smallest = right;
            }
            if smallest == index {
                break;
            }
            self.finished.swap(index, smallest);
            index = smallest;
        }
    }

    fn sift_up(&mut self, mut index: usize) {
        while index > 0 {
            let parent = (index - 1) / 2;
            if self.finished_precedes(&self.finished[index], &self.finished[parent]) {
                self.finished.swap(index, parent);
                index = parent;
            } else {
                break;
            }
        }
    }

    fn heapify(&mut self) {
        while self.heap_size < self.finished.len() {
            self.sift_up(self.heap_size);
            self.heap_size += 1;
        }
    }

    fn pop_finished(&mut self) {
        let last = self.finished.pop().expect("a finished state");
        if !self.finished.is_empty() {
            self.finished[0] = last;
            self.sift_down(0);
        }
    }

    fn erase_finished(&mut self, index: usize) {
        let last = self.finished.pop().expect("a finished state");
        if index == self.finished.len() {
            return;
        }
        self.finished[index] = last;
        if index > 0
            && self.finished_precedes(&self.finished[index], &self.finished[(index - 1) / 2])
        {
            self.sift_up(index);
        } else {
            self.sift_down(index);
        }
    }

    /// The next capture in document order: the match's id, the match as it stands, and the
    /// capture's index in it.
    fn next_capture(&mut self) -> Option<(u32, Match, usize)> {
        loop {
            self.heapify();
            let mut definite = false;
            let unfinished = self.first_in_progress_capture(Some(&mut definite));
            let (first_byte, first_pattern) = match unfinished {
                Some((_, byte, pattern)) => (byte, pattern),
                None => (usize::MAX, u32::MAX),
            };
            let mut first_finished = false;
            while let Some(state) = self.finished.first().copied() {
                let captures = self.captures_of(&state);
                if state.consumed as usize >= captures.len() {
                    self.pool.release(state.list);
                    self.pop_finished();
                    self.heap_size = self.finished.len();
                    continue;
                }
                let node = captures[state.consumed as usize].node;
                if self.end(node) == 0 {
                    self.finished[0].consumed += 1;
                    self.sift_down(0);
                    continue;
                }
                let start = self.start(node);
                if start < first_byte || (start == first_byte && state.pattern < first_pattern) {
                    first_finished = true;
                }
                break;
            }
            let chosen = if first_finished {
                Some(&mut self.finished[0])
            } else if definite {
                let (index, _, _) = unfinished.expect("a definite state was found");
                Some(&mut self.states[index])
            } else {
                None
            };
            if let Some(state) = chosen {
                if state.id == NO_ID {
                    state.id = self.next_state_id;
                    self.next_state_id += 1;
                }
                let index = state.consumed as usize;
                state.consumed += 1;
                let (id, pattern, list) = (state.id, state.pattern, state.list);
                let captures = self.pool.get(list).to_vec();
                if first_finished {
                    self.sift_down(0);
                }
                return Some((
                    id,
                    Match {
                        pattern_index: pattern as usize,
                        captures,
                    },
                    index,
                ));
            }
            if self.pool.is_empty() {
                if let Some((index, _, _)) = unfinished {
                    let state = self.states.remove(index);
                    self.pool.release(state.list);
                }
            }
            if !self.advance(true) && self.finished.is_empty() {
                return None;
            }
        }
    }

    /// tree-sitter's `ts_query_cursor_remove_match`.
    fn remove_match(&mut self, id: u32) {
        if self.heap_size > 0 {
            self.heapify();
        }
        if let Some(i) = self.finished.iter().position(|s| s.id == id) {
            self.pool.release(self.finished[i].list);
            if self.heap_size > 0 {
                self.erase_finished(i);
                self.heap_size = self.finished.len();
            } else {
                self.finished.remove(i);
            }
            return;
        }
        if let Some(i) = self.states.iter().position(|s| s.id == id) {
            self.pool.release(self.states[i].list);
            self.states.remove(i);
        }
    }
}
