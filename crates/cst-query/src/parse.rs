//! The query-source parser: one pass over the text, building [`Pattern`]s and resolving names against a
//! `tree_sitter::Language`.
//!
//! It follows the grammar of tree-sitter's `ts_query__parse_pattern` and reports the first error at the
//! byte offset tree-sitter reports it (a name error at the name, an unterminated string at its quote, any
//! other syntax error where the scan stopped). Time is linear in the source, plus one symbol-table scan
//! per node name (tree-sitter's `ts_language_symbol_for_name`, through `Language::id_for_node_kind`) and
//! a linear search of the capture names per capture. Characters are classified as ASCII (identifiers are
//! `[A-Za-z0-9_-.]`, whitespace is ASCII whitespace): non-ASCII letters in names are not accepted.
//!
//! Not done here: tree-sitter's analysis of the grammar's parse table after parsing
//! (`ts_query__analyze_patterns`), which rejects some patterns that can never match with a `Structure`
//! error; [`crate::steps`] reads that analysis from tree-sitter's own compilation of the same source, and
//! [`crate::Query::new`] returns its error. The `Structure` errors of `(a/b)` (no such supertype, or, on
//! a grammar of ABI 15 or later, no such subtype) are found here.

use crate::ast::*;
use crate::error::{QueryError, QueryErrorKind};

/// A predicate as written: its name (with its `?` or `!`) and arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPredicate {
    pub name: String,
    pub args: Vec<RawArg>,
}

/// An argument of a predicate as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawArg {
    Capture(u32),
    String(String),
}

/// What parsing the source gives before the predicates are interpreted.
pub struct Parsed {
    pub patterns: Vec<Pattern>,
    /// Where each predicate is written, `(` to `)`: blanking these out leaves a query whose steps
    /// sit at the same offsets.
    pub predicate_spans: Vec<std::ops::Range<usize>>,
    pub predicates: Vec<Vec<RawPredicate>>,
    pub capture_names: Vec<String>,
}

struct Stream<'s> {
    src: &'s str,
    /// Byte offset of `next`.
    pos: usize,
}

impl<'s> Stream<'s> {
    /// The character at the position, or `'\0'` at the end (as tree-sitter's stream reads it).
    fn next(&self) -> char {
        self.src[self.pos..].chars().next().unwrap_or('\0')
    }
    fn advance(&mut self) {
        if let Some(c) = self.src[self.pos..].chars().next() {
            self.pos += c.len_utf8();
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }
    fn skip_whitespace(&mut self) {
        loop {
            let c = self.next();
            if c.is_ascii_whitespace() || c == '\u{0b}' {
                self.advance();
            } else if c == ';' {
                self.advance();
                while !self.at_end() && self.next() != '\n' {
                    self.advance();
                }
            } else {
                break;
            }
        }
    }
    fn is_ident_start(&self) -> bool {
        let c = self.next();
        c.is_ascii_alphanumeric() || c == '_' || c == '-'
    }
    /// Scans an identifier (the first character is taken as is) and returns it.
    fn scan_identifier(&mut self) -> &'s str {
        let start = self.pos;
        self.advance();
        loop {
            let c = self.next();
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                self.advance();
            } else {
                break;
            }
        }
        &self.src[start..self.pos]
    }
}

/// A failure inside the parse: an error kind with its offset, or the closing bracket of an enclosing
/// construct (tree-sitter's `PARENT_DONE`).
enum Stop {
    Error(QueryErrorKind, usize),
    ParentDone,
}

type Res<T> = Result<T, Stop>;

fn syntax<T>(offset: usize) -> Res<T> {
    Err(Stop::Error(QueryErrorKind::Syntax, offset))
}

/// What one call of the pattern parser produced.
enum Piece {
    Item(Item),
    /// A predicate, which adds no step.
    Predicate,
}

struct Parser<'s, 'l> {
    s: Stream<'s>,
    language: &'l tree_sitter::Language,
    capture_names: Vec<String>,
    predicates: Vec<RawPredicate>,
    predicate_spans: Vec<std::ops::Range<usize>>,
}

/// Where tree-sitter's Rust binding puts an offset: the row and column by `str::lines`.
pub fn row_column(source: &str, offset: usize) -> (usize, usize) {
    let mut line_start = 0;
    let mut row = 0;
    for line in source.lines() {
        let line_end = line_start + line.len() + 1;
        if line_end > offset {
            break;
        }
        line_start = line_end;
        row += 1;
    }
    (row, offset.saturating_sub(line_start))
}

/// The row the binding gives a pattern's predicate errors: newlines before its start.
pub fn pattern_row(source: &str, start_byte: usize) -> usize {
    source.as_bytes()[..start_byte.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Parses `source` into patterns for `language`.
pub fn parse(language: &tree_sitter::Language, source: &str) -> Result<Parsed, QueryError> {
    let mut p = Parser {
        s: Stream {
            src: source,
            pos: 0,
        },
        language,
        capture_names: Vec::new(),
        predicates: Vec::new(),
        predicate_spans: Vec::new(),
    };
    let mut patterns = Vec::new();
    let mut predicates = Vec::new();
    p.s.skip_whitespace();
    while !p.s.at_end() {
        let start_byte = p.s.pos;
        let result = p.pattern(0, false);
        let item = match result {
            Ok(Piece::Item(item)) => Some(item),
            Ok(Piece::Predicate) => None,
            Err(stop) => {
                let (kind, offset) = match stop {
                    Stop::Error(kind, offset) => (kind, offset),
                    Stop::ParentDone => (QueryErrorKind::Syntax, p.s.pos),
                };
                return Err(error_at(source, kind, offset));
            }
        };
        patterns.push(Pattern {
            item,
            start_byte,
            end_byte: p.s.pos,
        });
        predicates.push(std::mem::take(&mut p.predicates));
    }
    Ok(Parsed {
        patterns,
        predicate_spans: p.predicate_spans,
        predicates,
        capture_names: p.capture_names,
    })
}

fn error_at(source: &str, kind: QueryErrorKind, offset: usize) -> QueryError {
    let (row, column) = row_column(source, offset);
    let rest = &source[offset.min(source.len())..];
    let message = match kind {
        QueryErrorKind::NodeType | QueryErrorKind::Field | QueryErrorKind::Capture => {
            // The name as the binding cuts it: to the closing quote (past escaped ones) after a quote,
            // else to the first character not in an identifier.
            let in_quotes = offset > 0 && source.as_bytes().get(offset - 1) == Some(&b'"');
            let mut backslashes = 0;
            let end = rest
                .find(|c: char| {
                    if in_quotes {
                        if c == '"' && backslashes % 2 == 0 {
                            return true;
                        }
                        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
                        false
                    } else {
                        !c.is_alphanumeric() && c != '_' && c != '-'
                    }
                })
                .unwrap_or(rest.len());
            format!("\"{}\"", &rest[..end])
        }
        _ => match source.lines().nth(row) {
            Some(line) => format!("{line}\n{}^", " ".repeat(column)),
            None => "Unexpected EOF".to_string(),
        },
    };
    QueryError {
        row,
        column,
        offset,
        kind,
        message,
    }
}

impl<'s, 'l> Parser<'s, 'l> {
    fn symbol(&self, name: &str, named: bool) -> u16 {
        self.language.id_for_node_kind(name, named)
    }

    fn field(&self, name: &str) -> Option<u16> {
        self.language.field_id_for_name(name).map(|f| f.get())
    }

    fn insert_capture(&mut self, name: &str) -> u32 {
        if let Some(i) = self.capture_names.iter().position(|n| n == name) {
            return i as u32;
        }
        self.capture_names.push(name.to_string());
        (self.capture_names.len() - 1) as u32
    }

    /// A double-quoted string with tree-sitter's escapes (`\n \r \t \0`, any other `\x` is `x`); an
    /// unterminated string, or one broken by a newline, is a syntax error at its opening quote.
    fn string_literal(&mut self) -> Res<String> {
        let start = self.s.pos;
        if self.s.next() != '"' {
            return syntax(start);
        }
        self.s.advance();
        let mut out = String::new();
        let mut escaped = false;
        loop {
            if self.s.at_end() {
                self.s.pos = start;
                return syntax(start);
            }
            let c = self.s.next();
            if escaped {
                escaped = false;
                out.push(match c {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    other => other,
                });
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.s.advance();
                return Ok(out);
            } else if c == '\n' {
                self.s.pos = start;
                return syntax(start);
            } else {
                out.push(c);
            }
            self.s.advance();
        }
    }

    fn predicate(&mut self) -> Res<()> {
        if !self.s.is_ident_start() {
            return syntax(self.s.pos);
        }
        let start = self.s.pos;
        self.s.scan_identifier();
        let c = self.s.next();
        if c != '?' && c != '!' {
            return syntax(self.s.pos);
        }
        self.s.advance();
        let name = self.s.src[start..self.s.pos].to_string();
        let mut args = Vec::new();
        self.s.skip_whitespace();
        loop {
            let c = self.s.next();
            if c == ')' {
                self.s.advance();
                self.s.skip_whitespace();
                break;
            } else if c == '@' {
                self.s.advance();
                if !self.s.is_ident_start() {
                    return syntax(self.s.pos);
                }
                let at = self.s.pos;
                let capture = self.s.scan_identifier();
                match self.capture_names.iter().position(|n| n == capture) {
                    Some(i) => args.push(RawArg::Capture(i as u32)),
                    None => return Err(Stop::Error(QueryErrorKind::Capture, at)),
                }
            } else if c == '"' {
                args.push(RawArg::String(self.string_literal()?));
            } else if self.s.is_ident_start() {
                args.push(RawArg::String(self.s.scan_identifier().to_string()));
            } else {
                return syntax(self.s.pos);
            }
            self.s.skip_whitespace();
        }
        self.predicates.push(RawPredicate { name, args });
        Ok(())
    }

    /// One pattern (tree-sitter's `ts_query__parse_pattern`), with its suffixes.
    fn pattern(&mut self, depth: u32, is_immediate: bool) -> Res<Piece> {
        let start = self.s.pos;
        let c = self.s.next();
        if self.s.at_end() || c == '\0' {
            return syntax(self.s.pos);
        }
        if c == ')' || c == ']' {
            return Err(Stop::ParentDone);
        }
        let mut item = if c == '[' {
            self.s.advance();
            self.s.skip_whitespace();
            let mut branches = Vec::new();
            loop {
                match self.pattern(depth, is_immediate) {
                    Ok(Piece::Item(item)) => branches.push(item),
                    Ok(Piece::Predicate) => {}
                    Err(Stop::ParentDone) => {
                        if self.s.next() == ']' && !branches.is_empty() {
                            self.s.advance();
                            break;
                        }
                        return syntax(self.s.pos);
                    }
                    Err(e) => return Err(e),
                }
            }
            plain(Expr::Alternation(branches), is_immediate)
        } else if c == '(' {
            self.s.advance();
            self.s.skip_whitespace();
            let c = self.s.next();
            if c == '(' || c == '"' || c == '[' {
                let mut items = Vec::new();
                let mut child_immediate = is_immediate;
                loop {
                    if self.s.next() == '.' {
                        let anchor = self.s.pos;
                        child_immediate = true;
                        self.s.advance();
                        self.s.skip_whitespace();
                        if self.s.next() == ')' {
                            self.s.pos = anchor;
                            return syntax(anchor);
                        }
                    }
                    match self.pattern(depth, child_immediate) {
                        Ok(Piece::Item(item)) => items.push(item),
                        Ok(Piece::Predicate) => {}
                        Err(Stop::ParentDone) => {
                            if self.s.next() == ')' {
                                self.s.advance();
                                break;
                            }
                            return syntax(self.s.pos);
                        }
                        Err(e) => return Err(e),
                    }
                    child_immediate = false;
                }
                // A group of one item compiles to that item's own steps: it is that item.
                if items.len() == 1 {
                    items.pop().expect("one item")
                } else {
                    plain(Expr::Group(items), is_immediate)
                }
            } else if c == '.' || c == '#' {
                self.s.advance();
                self.predicate()?;
                self.predicate_spans.push(start..self.s.pos);
                return Ok(Piece::Predicate);
            } else {
                plain(Expr::Node(self.named_node(depth)?), is_immediate)
            }
        } else if c == '_' {
            self.s.advance();
            self.s.skip_whitespace();
            plain(
                Expr::Node(NodePattern {
                    symbol: WILDCARD_SYMBOL,
                    named_only: false,
                    ..leaf(WILDCARD_SYMBOL)
                }),
                is_immediate,
            )
        } else if c == '"' {
            let start = self.s.pos;
            let text = self.string_literal()?;
            let symbol = self.symbol(&text, false);
            if symbol == 0 {
                self.s.pos = start + 1;
                return Err(Stop::Error(QueryErrorKind::NodeType, start + 1));
            }
            plain(Expr::Node(leaf(symbol)), is_immediate)
        } else if self.s.is_ident_start() {
            let field_start = self.s.pos;
            let name = self.s.scan_identifier();
            self.s.skip_whitespace();
            if self.s.next() != ':' {
                self.s.pos = field_start;
                return syntax(field_start);
            }
            self.s.advance();
            self.s.skip_whitespace();
            let inner = match self.pattern(depth, is_immediate) {
                Ok(Piece::Item(item)) => Some(item),
                Ok(Piece::Predicate) => None,
                Err(Stop::ParentDone) => return syntax(self.s.pos),
                Err(e) => return Err(e),
            };
            let Some(field) = self.field(name) else {
                self.s.pos = field_start;
                return Err(Stop::Error(QueryErrorKind::Field, field_start));
            };
            match inner {
                Some(mut item) => {
                    item.field = Some(field);
                    item
                }
                // `f: (#pred?)` puts the field on no step of its own; nothing is left to match.
                None => return Ok(Piece::Predicate),
            }
        } else {
            return syntax(self.s.pos);
        };

        self.s.skip_whitespace();
        // The suffixes of a group of one item that already has a quantifier make a second repetition
        // around it; it stays a group.
        let inner_quantified = item.quantifier != Quantifier::One;
        let mut wrapped = false;
        loop {
            let c = self.s.next();
            if inner_quantified && !wrapped && matches!(c, '+' | '*' | '?') {
                item = plain(Expr::Group(vec![item]), is_immediate);
                wrapped = true;
            }
            match c {
                '+' => {
                    item.quantifier = Quantifier::OneOrMore.join(item.quantifier);
                    self.s.advance();
                    self.s.skip_whitespace();
                }
                '*' => {
                    item.quantifier = Quantifier::ZeroOrMore.join(item.quantifier);
                    self.s.advance();
                    self.s.skip_whitespace();
                }
                '?' => {
                    item.quantifier = Quantifier::ZeroOrOne.join(item.quantifier);
                    self.s.advance();
                    self.s.skip_whitespace();
                }
                '@' => {
                    self.s.advance();
                    if !self.s.is_ident_start() {
                        return syntax(self.s.pos);
                    }
                    let name = self.s.scan_identifier();
                    self.s.skip_whitespace();
                    let id = self.insert_capture(name);
                    item.captures.push(id);
                }
                _ => break,
            }
        }
        // The outermost call that begins these steps (a field's name, a group's `(`) places them.
        item.start = start;
        Ok(Piece::Item(item))
    }

    /// After `(`: a node name (or `_`, `MISSING`, `super/sub`), negated fields and child patterns, up
    /// to the closing `)`.
    fn named_node(&mut self, depth: u32) -> Res<NodePattern> {
        let node_start = self.s.pos;
        if !self.s.is_ident_start() {
            return syntax(self.s.pos);
        }
        let name = self.s.scan_identifier();
        let mut node;
        if name == "_" {
            node = leaf(WILDCARD_SYMBOL);
            node.named_only = true;
        } else if name == "MISSING" {
            self.s.skip_whitespace();
            let symbol = if self.s.is_ident_start() {
                let at = self.s.pos;
                let missing_name = self.s.scan_identifier();
                let symbol = self.symbol(missing_name, true);
                if symbol == 0 {
                    self.s.pos = at;
                    return Err(Stop::Error(QueryErrorKind::NodeType, at));
                }
                symbol
            } else if self.s.next() == '"' {
                let at = self.s.pos;
                let text = self.string_literal()?;
                let symbol = self.symbol(&text, false);
                if symbol == 0 {
                    self.s.pos = at + 1;
                    return Err(Stop::Error(QueryErrorKind::NodeType, at + 1));
                }
                symbol
            } else if self.s.next() == ')' {
                WILDCARD_SYMBOL
            } else {
                return syntax(self.s.pos);
            };
            node = leaf(symbol);
            node.missing = true;
            node.named_only = symbol == WILDCARD_SYMBOL;
        } else {
            let symbol = self.symbol(name, true);
            if symbol == 0 {
                self.s.pos = node_start;
                return Err(Stop::Error(QueryErrorKind::NodeType, node_start));
            }
            node = leaf(symbol);
        }
        if node.symbol != WILDCARD_SYMBOL && self.language.node_kind_is_supertype(node.symbol) {
            node.supertype = Some(node.symbol);
            node.symbol = WILDCARD_SYMBOL;
        }

        if self.s.next() == '/' {
            let Some(supertype) = node.supertype else {
                return Err(Stop::Error(
                    QueryErrorKind::Structure,
                    node_start.saturating_sub(1),
                ));
            };
            self.s.advance();
            let sub_start = self.s.pos;
            let symbol = if self.s.is_ident_start() {
                let sub = self.s.scan_identifier();
                self.symbol(sub, true)
            } else if self.s.next() == '"' {
                let text = self.string_literal()?;
                self.symbol(&text, false)
            } else {
                return syntax(self.s.pos);
            };
            if symbol == 0 {
                self.s.pos = sub_start;
                return Err(Stop::Error(QueryErrorKind::NodeType, sub_start));
            }
            // As `query.c`: grammars older than ABI 15 carry no subtype lists, so any subtype is taken.
            if self.language.abi_version() >= 15
                && !self
                    .language
                    .subtypes_for_supertype(supertype)
                    .contains(&symbol)
            {
                return Err(Stop::Error(
                    QueryErrorKind::Structure,
                    node_start.saturating_sub(1),
                ));
            }
            node.symbol = symbol;
        }

        self.s.skip_whitespace();
        let mut child_immediate = false;
        let mut any_child = false;
        loop {
            if self.s.next() == '!' {
                self.s.advance();
                self.s.skip_whitespace();
                if !self.s.is_ident_start() {
                    return syntax(self.s.pos);
                }
                let at = self.s.pos;
                let field_name = self.s.scan_identifier();
                self.s.skip_whitespace();
                let Some(field) = self.field(field_name) else {
                    self.s.pos = at;
                    return Err(Stop::Error(QueryErrorKind::Field, at));
                };
                if node.negated_fields.len() < MAX_NEGATED_FIELDS {
                    node.negated_fields.push(field);
                }
                continue;
            }
            if self.s.next() == '.' {
                child_immediate = true;
                self.s.advance();
                self.s.skip_whitespace();
            }
            match self.pattern(depth + 1, child_immediate) {
                Ok(Piece::Item(item)) => {
                    node.children.push(item);
                    any_child = true;
                }
                // A predicate adds no step; tree-sitter's last-child bookkeeping then points at the
                // step before it, which this parser follows by leaving the last child as it was.
                Ok(Piece::Predicate) => any_child = true,
                Err(Stop::ParentDone) => {
                    if self.s.next() == ')' {
                        if child_immediate {
                            if !any_child {
                                return syntax(self.s.pos);
                            }
                            node.last_child_anchor = true;
                        }
                        self.s.advance();
                        break;
                    }
                    return syntax(self.s.pos);
                }
                Err(e) => return Err(e),
            }
            child_immediate = false;
        }
        Ok(node)
    }
}

fn leaf(symbol: u16) -> NodePattern {
    NodePattern {
        symbol,
        named_only: false,
        supertype: None,
        missing: false,
        children: Vec::new(),
        negated_fields: Vec::new(),
        last_child_anchor: false,
    }
}

fn plain(expr: Expr, immediate: bool) -> Item {
    Item {
        expr,
        field: None,
        captures: Vec::new(),
        quantifier: Quantifier::One,
        immediate,
        start: 0,
    }
}
