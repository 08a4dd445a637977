//! The compiled form the matcher runs: every pattern as a flat sequence of steps, with the pattern map
//! that says at which step each pattern starts, as tree-sitter's `ts_query__parse_pattern` and
//! `ts_query_new` build them (same step order, alternatives, dead ends, pass-throughs and the clean
//! copies that quantifiers inside alternations loop back to).
//!
//! Layout: [`Program`] holds one [`Step`] array for the whole query (each pattern's steps end in a
//! step whose depth is [`DONE`]) and the pattern map, wildcard-rooted entries first, then sorted by
//! symbol and pattern index.
//!
//! The flags that tree-sitter derives from an analysis of the grammar's parse table
//! (`root_pattern_guaranteed`, `parent_pattern_guaranteed`) are taken from tree-sitter itself: the
//! same source is compiled with `tree_sitter::Query::new` and each step's flag read by the byte offset
//! it was written at (`Query::is_pattern_guaranteed_at_step`). That is an analysis of the grammar, not
//! of any tree: matching runs on [`crate::QueryTree`] alone. `parent_pattern_guaranteed` is not exposed;
//! it is read from the same query with its predicates blanked out (which removes the one other reason a
//! step is not root-guaranteed), so it also carries the backward propagation of fallibility that the
//! root flag has: a step may be taken as fallible where tree-sitter knows it is not (NOTES.md).
//!
//! Costs: compiling is linear in the number of steps, plus two compilations by tree-sitter (its
//! analysis dominates: milliseconds for the shipped highlights files) and one offset lookup per step.

use crate::ast::*;
use crate::error::QueryError;
use std::ops::Range;

/// No step (an absent alternative).
pub(crate) const NONE: u32 = u32::MAX;
/// The depth of the step that ends a pattern.
pub(crate) const DONE: u16 = u16::MAX;
/// No capture in this slot.
pub(crate) const NO_CAPTURE: u32 = u32::MAX;

/// One step of a pattern (tree-sitter's `QueryStep`).
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub symbol: u16,
    pub supertype: u16,
    pub field: u16,
    pub captures: [u32; MAX_CAPTURES_PER_STEP],
    pub depth: u16,
    pub alternative: u32,
    pub negated_fields: Vec<u16>,
    pub is_named: bool,
    pub is_immediate: bool,
    pub is_last_child: bool,
    pub is_pass_through: bool,
    pub is_dead_end: bool,
    pub is_inside_alternation: bool,
    pub contains_captures: bool,
    pub root_pattern_guaranteed: bool,
    pub parent_pattern_guaranteed: bool,
    pub is_missing: bool,
    pub alternative_is_skip: bool,
}

impl Step {
    fn new(symbol: u16, depth: u16, is_immediate: bool) -> Step {
        Step {
            symbol,
            supertype: 0,
            field: 0,
            captures: [NO_CAPTURE; MAX_CAPTURES_PER_STEP],
            depth,
            alternative: NONE,
            negated_fields: Vec::new(),
            is_named: false,
            is_immediate,
            is_last_child: false,
            is_pass_through: false,
            is_dead_end: false,
            is_inside_alternation: false,
            contains_captures: false,
            root_pattern_guaranteed: false,
            parent_pattern_guaranteed: false,
            is_missing: false,
            alternative_is_skip: false,
        }
    }

    pub fn has_captures(&self) -> bool {
        self.captures[0] != NO_CAPTURE
    }

    fn add_capture(&mut self, capture: u32) {
        if let Some(slot) = self.captures.iter_mut().find(|c| **c == NO_CAPTURE) {
            *slot = capture;
        }
    }
}

/// Where a pattern starts (tree-sitter's `PatternEntry`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PatternEntry {
    pub step: u32,
    pub pattern: u32,
    pub is_rooted: bool,
}

/// A query's steps and pattern map.
#[derive(Clone, Debug, Default)]
pub(crate) struct Program {
    pub steps: Vec<Step>,
    pub pattern_map: Vec<PatternEntry>,
    pub wildcard_roots: usize,
    /// The clean copies of branch steps, with the step each copies.
    copy_of: std::collections::HashMap<u32, u32>,
}

impl Program {
    /// Compiles the parsed patterns; `source` and `predicate_spans` let tree-sitter's own analysis of
    /// the same query supply the guaranteed flags.
    pub fn compile(
        language: &tree_sitter::Language,
        source: &str,
        patterns: &[Pattern],
        predicate_spans: &[Range<usize>],
    ) -> Result<Program, QueryError> {
        let mut b = Builder {
            program: Program::default(),
            offsets: Vec::new(),
        };
        for (index, pattern) in patterns.iter().enumerate() {
            b.pattern(index as u32, pattern.item.as_ref());
        }
        let mut program = b.program;
        let with_offsets = b.offsets;
        program.analyze(language, source, predicate_spans, &with_offsets)?;
        Ok(program)
    }

    fn step(&self, i: u32) -> &Step {
        &self.steps[i as usize]
    }

    /// tree-sitter's `ts_query__step_is_fallible`.
    pub fn step_is_fallible(&self, index: u32) -> bool {
        let step = self.step(index);
        let mut i = index + 1;
        let mut next = self.step(i);
        while next.is_pass_through {
            i += 1;
            next = self.step(i);
        }
        next.depth != DONE
            && (next.depth > step.depth || (next.depth == step.depth && next.is_immediate))
            && (!next.parent_pattern_guaranteed || step.symbol == WILDCARD_SYMBOL)
    }

    /// The first-loop flags of `ts_query__analyze_patterns`, the grammar's answers from tree-sitter,
    /// and the backward propagation of fallibility.
    fn analyze(
        &mut self,
        language: &tree_sitter::Language,
        source: &str,
        predicate_spans: &[Range<usize>],
        offsets: &[(u32, usize)],
    ) -> Result<(), QueryError> {
        let n = self.steps.len();
        for i in 0..n {
            if self.steps[i].depth == DONE {
                self.steps[i].root_pattern_guaranteed = true;
                self.steps[i].parent_pattern_guaranteed = true;
                continue;
            }
            let depth = self.steps[i].depth;
            let wildcard = self.steps[i].symbol == WILDCARD_SYMBOL;
            let mut contains = self.steps[i].has_captures();
            for j in i + 1..n {
                let next = &mut self.steps[j];
                if next.depth == DONE || next.depth <= depth {
                    break;
                }
                contains |= next.has_captures();
                if !wildcard {
                    next.root_pattern_guaranteed = true;
                    next.parent_pattern_guaranteed = true;
                }
            }
            self.steps[i].contains_captures = contains;
        }
        // The grammar's answers, per step written at an offset.
        let blanked: String = {
            let mut bytes = source.as_bytes().to_vec();
            for span in predicate_spans {
                for b in &mut bytes[span.clone()] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
            }
            String::from_utf8(bytes).unwrap_or_default()
        };
        let root = match tree_sitter::Query::new(language, source) {
            Ok(query) => Some(query),
            // The analysis found a pattern the grammar can never produce: tree-sitter's error, as
            // tree-sitter places it (our parser has already accepted the source, so no other kind
            // is expected here; one would be a parser difference, and is not hidden: it is returned
            // too).
            Err(e) if e.kind != tree_sitter::QueryErrorKind::Language => {
                return Err(QueryError::from_tree_sitter(&e))
            }
            Err(_) => None,
        };
        let parent = tree_sitter::Query::new(language, &blanked).ok();
        for &(step, offset) in offsets {
            let s = &mut self.steps[step as usize];
            if s.depth == DONE {
                continue;
            }
            match &root {
                Some(q) => s.root_pattern_guaranteed = q.is_pattern_guaranteed_at_step(offset),
                None => s.root_pattern_guaranteed = false,
            }
            match parent.as_ref().or(root.as_ref()) {
                Some(q) => s.parent_pattern_guaranteed = q.is_pattern_guaranteed_at_step(offset),
                None => s.parent_pattern_guaranteed = false,
            }
        }
        // The clean copies made for quantifiers inside alternations take their original's flags.
        for i in 0..n {
            if let Some(original) = self.copy_of.get(&(i as u32)).copied() {
                let (r, p) = {
                    let o = self.step(original);
                    (o.root_pattern_guaranteed, o.parent_pattern_guaranteed)
                };
                self.steps[i].root_pattern_guaranteed = r;
                self.steps[i].parent_pattern_guaranteed = p;
            }
        }
        // Propagate fallibility backwards, as tree-sitter does.
        let mut done = n == 0;
        while !done {
            done = true;
            for i in (1..n).rev() {
                if self.steps[i].depth == DONE {
                    continue;
                }
                let mut guaranteed = false;
                let mut k = i;
                loop {
                    let s = &self.steps[k];
                    if s.root_pattern_guaranteed {
                        guaranteed = true;
                        break;
                    }
                    if s.alternative == NONE || (s.alternative as usize) < i {
                        break;
                    }
                    k = s.alternative as usize;
                }
                if !guaranteed {
                    let prev = &mut self.steps[i - 1];
                    if !prev.is_dead_end && prev.depth != DONE && prev.root_pattern_guaranteed {
                        prev.root_pattern_guaranteed = false;
                        done = false;
                    }
                }
            }
        }
        Ok(())
    }
}

struct Builder {
    program: Program,
    /// (step, byte offset) for every step that begins an item, in order.
    offsets: Vec<(u32, usize)>,
}

impl Builder {
    fn len(&self) -> u32 {
        self.program.steps.len() as u32
    }

    fn steps(&mut self) -> &mut Vec<Step> {
        &mut self.program.steps
    }

    fn pattern(&mut self, index: u32, item: Option<&Item>) {
        let pattern_start = self.len();
        if let Some(item) = item {
            self.item(item, 0, false);
        }
        self.steps().push(Step::new(0, DONE, false));
        let pattern_end = self.len() - 1;

        // The pattern map: one entry per way the pattern can begin.
        let mut start = pattern_start;
        let mut wildcard_root_alternative = NONE;
        loop {
            let mut step = self.program.step(start).clone();
            if step.symbol == WILDCARD_SYMBOL && step.depth == 0 && step.field == 0 {
                let second = self.program.step(start + 1);
                if second.symbol != WILDCARD_SYMBOL && second.depth == 1 && !second.is_immediate {
                    wildcard_root_alternative = step.alternative;
                    start += 1;
                    step = second.clone();
                }
            }
            let start_depth = step.depth;
            let mut is_rooted = start_depth == 0;
            for s in &self.program.steps[start as usize + 1..] {
                if s.is_dead_end {
                    break;
                }
                if s.depth == start_depth {
                    is_rooted = false;
                    break;
                }
            }
            self.insert_entry(
                step.symbol,
                PatternEntry {
                    step: start,
                    pattern: index,
                    is_rooted,
                },
            );
            if step.symbol == WILDCARD_SYMBOL {
                self.program.wildcard_roots += 1;
            }
            if step.alternative != NONE {
                start = step.alternative;
            } else if wildcard_root_alternative != NONE {
                start = wildcard_root_alternative;
                wildcard_root_alternative = NONE;
            } else {
                break;
            }
        }

        // Quantifier loop-backs inside alternations return to clean copies of their branch's first
        // step, without the link to the next branch.
        for i in pattern_start..pattern_end {
            let s = self.program.step(i);
            if !s.is_pass_through
                || !s.is_inside_alternation
                || s.alternative == NONE
                || s.alternative >= i
            {
                continue;
            }
            let target_index = s.alternative;
            let target = self.program.step(target_index).clone();
            if target.alternative == NONE
                || target.alternative <= target_index
                || target.alternative >= pattern_end
            {
                continue;
            }
            let copy_index = self.len();
            let mut copy = target.clone();
            copy.alternative = NONE;
            let depth = target.depth;
            self.steps().push(copy);
            self.program.copy_of.insert(copy_index, target_index);
            let mut redirect = Step::new(0, depth, false);
            redirect.is_dead_end = true;
            redirect.alternative = target_index + 1;
            self.steps().push(redirect);
            self.program.steps[i as usize].alternative = copy_index;
        }
    }

    /// tree-sitter's `ts_query__pattern_map_insert`: sorted by symbol, then pattern index.
    fn insert_entry(&mut self, symbol: u16, entry: PatternEntry) {
        let map = &self.program.pattern_map;
        let steps = &self.program.steps;
        let sym = |e: &PatternEntry| steps[e.step as usize].symbol;
        let mut index = self.program.wildcard_roots;
        while index < map.len() && sym(&map[index]) < symbol {
            index += 1;
        }
        while index < map.len() && sym(&map[index]) == symbol && map[index].pattern < entry.pattern
        {
            index += 1;
        }
        self.program.pattern_map.insert(index, entry);
    }

    fn note_offset(&mut self, offset: usize) {
        let step = self.len();
        if self.offsets.last().is_none_or(|&(s, _)| s != step) {
            self.offsets.push((step, offset));
        }
    }

    /// Follows `starting`'s chain of forward alternatives (as they stand), applying `f` to each.
    fn along_alternatives(&mut self, starting: u32, mut f: impl FnMut(&mut Step)) {
        let mut index = starting;
        loop {
            let len = self.len();
            let step = &mut self.program.steps[index as usize];
            f(step);
            if step.alternative != NONE && step.alternative > index && step.alternative < len {
                index = step.alternative;
            } else {
                break;
            }
        }
    }

    fn item(&mut self, item: &Item, depth: u16, inside_alternation: bool) {
        self.note_offset(item.start);
        let starting = self.len();
        match &item.expr {
            Expr::Alternation(branches) => {
                let mut starts = Vec::with_capacity(branches.len());
                for branch in branches {
                    let start = self.len();
                    self.item(branch, depth, true);
                    starts.push(start);
                    self.steps().push(Step::new(0, depth, false));
                }
                self.steps().pop();
                for pair in starts.windows(2) {
                    let end = self.len();
                    self.program.steps[pair[0] as usize].alternative = pair[1];
                    let last = &mut self.program.steps[pair[1] as usize - 1];
                    last.alternative = end;
                    last.is_dead_end = true;
                }
            }
            Expr::Group(items) => {
                for child in items {
                    self.item(child, depth, inside_alternation);
                }
            }
            Expr::Node(node) => {
                let mut step = Step::new(node.symbol, depth, item.immediate);
                step.supertype = node.supertype.unwrap_or(0);
                step.is_missing = node.missing;
                step.is_named = node.named_only;
                step.negated_fields = node.negated_fields.clone();
                self.steps().push(step);
                let mut last_child = None;
                for child in &node.children {
                    last_child = Some(self.len());
                    self.item(child, depth + 1, inside_alternation);
                }
                if node.last_child_anchor {
                    if let Some(last) = last_child {
                        let len = self.len();
                        let mut index = last;
                        loop {
                            let step = &mut self.program.steps[index as usize];
                            step.is_last_child = true;
                            if step.alternative != NONE && step.alternative < len {
                                index = step.alternative;
                            } else {
                                break;
                            }
                        }
                    }
                }
            }
        }
        for &capture in &item.captures {
            self.along_alternatives(starting, |s| s.add_capture(capture));
        }
        match item.quantifier {
            Quantifier::One => {}
            Quantifier::OneOrMore | Quantifier::ZeroOrMore => {
                let mut repeat = Step::new(WILDCARD_SYMBOL, depth, false);
                repeat.is_inside_alternation = inside_alternation;
                repeat.alternative = starting;
                repeat.is_pass_through = true;
                self.steps().push(repeat);
                if item.quantifier == Quantifier::ZeroOrMore {
                    let len = self.len();
                    let mut index = starting;
                    loop {
                        let alt = self.program.step(index).alternative;
                        if alt != NONE && alt < len - 1 {
                            index = alt;
                        } else {
                            break;
                        }
                    }
                    let step = &mut self.program.steps[index as usize];
                    step.alternative = len;
                    step.alternative_is_skip = true;
                }
            }
            Quantifier::ZeroOrOne => {
                let len = self.len();
                let mut index = starting;
                loop {
                    let alt = self.program.step(index).alternative;
                    if alt != NONE && alt < len {
                        index = alt;
                    } else {
                        break;
                    }
                }
                let step = &mut self.program.steps[index as usize];
                step.alternative = len;
                step.alternative_is_skip = true;
            }
        }
        if let Some(field) = item.field {
            self.along_alternatives(starting, |s| s.field = field);
        }
    }
}
