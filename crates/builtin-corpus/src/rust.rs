//! Rust modules for the built-in corpus: `use` lines, constants, structs, enums, traits, inherent and
//! trait impls, free functions and a `#[cfg(test)]` module, with statements nested at most two deep.

use super::common::{indent, pascal, plural, snake, upper, Ctx, NOUNS};
use super::Body;

/// `use` lines in rustfmt order; a file takes a sorted subset.
const USES: &[&str] = &[
    "use crate::Error;",
    "use serde::Serialize;",
    "use std::collections::HashMap;",
    "use std::fmt;",
    "use std::io;",
    "use std::path::Path;",
    "use std::sync::Arc;",
    "use std::time::Duration;",
    "use super::*;",
];

const FIELD_TYPES: &[&str] = &[
    "u32",
    "u64",
    "usize",
    "i64",
    "f64",
    "bool",
    "String",
    "Vec<u8>",
    "Vec<String>",
    "Option<u32>",
    "HashMap<String, u64>",
    "PathBuf",
    "Duration",
];

const PARAM_TYPES: &[&str] = &[
    "&str",
    "&str",
    "&[u8]",
    "&Path",
    "&[u64]",
    "u32",
    "u64",
    "usize",
    "bool",
    "Option<&str>",
];

const RETURN_TYPES: &[&str] = &[
    "bool",
    "usize",
    "u64",
    "String",
    "Option<u32>",
    "Result<(), Error>",
    "Vec<String>",
    "io::Result<usize>",
];

const NUMBERS: &[&str] = &[
    "0", "1", "2", "3", "8", "16", "64", "100", "1024", "0xff", "1_000",
];

const DERIVES: &[&str] = &[
    "#[derive(Debug)]",
    "#[derive(Debug, Clone)]",
    "#[derive(Debug, Clone)]",
    "#[derive(Debug, Clone, PartialEq)]",
    "#[derive(Debug, Default)]",
    "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]",
    "#[derive(Debug, Serialize, Deserialize)]",
];

/// Generates the body of a Rust module with exactly `n` lines (`n >= 4`).
pub(super) fn module(cx: Ctx, n: usize) -> Body {
    let mut rs = Rs {
        cx,
        out: Vec::with_capacity(n),
        fns: Vec::new(),
        types: Vec::new(),
        traits: Vec::new(),
        fields: Vec::new(),
        scope: Vec::new(),
        lists: Vec::new(),
        in_loop: false,
        in_method: false,
        in_trait: false,
        after_type: false,
        fallible: false,
    };
    rs.module(n);
    debug_assert_eq!(rs.out.len(), n);
    let inner = rs.cx.chance(75);
    Body {
        lines: rs.out,
        flex_prefix: if inner { "//! " } else { "// " },
        flex_suffix: ".",
    }
}

/// A struct or enum defined earlier in the file.
struct Ty {
    name: String,
    /// Generic parameters as declared, e.g. `<T>` or `<'a>`, or empty.
    generics: &'static str,
    fields: Vec<String>,
    /// Enum variants as match patterns, e.g. `Kind::Open` or `Kind::Failed(_)`.
    patterns: Vec<String>,
}

struct Rs {
    cx: Ctx,
    out: Vec<String>,
    fns: Vec<String>,
    types: Vec<Ty>,
    traits: Vec<String>,
    /// Fields reachable through `self` in the impl being written.
    fields: Vec<String>,
    scope: Vec<String>,
    /// Collection-valued locals as (plural, singular).
    lists: Vec<(String, String)>,
    in_loop: bool,
    in_method: bool,
    in_trait: bool,
    /// Whether the previous item declared a struct or enum.
    after_type: bool,
    /// Whether the current function returns a `Result`, so `?` is allowed.
    fallible: bool,
}

impl Rs {
    fn emit(&mut self, level: usize, text: impl AsRef<str>) {
        let line = indent(level, 4) + text.as_ref();
        self.out.push(line);
    }

    fn blank(&mut self) {
        self.out.push(String::new());
    }

    fn module(&mut self, n: usize) {
        let k = self.cx.range(0, ((n - 2) / 4).min(2));
        let mut left = n;
        if k > 0 {
            let all: Vec<usize> = (0..USES.len()).collect();
            let mut chosen = self.cx.sample(&all, k);
            chosen.sort_unstable();
            for i in chosen {
                self.emit(0, USES[i]);
            }
            self.blank();
            left -= k + 1;
        }
        let blocks = self.cx.split(left, 1, 1, 12);
        let count = blocks.len();
        for (i, size) in blocks.into_iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            self.item(size, i + 1 == count);
        }
    }

    fn item(&mut self, size: usize, last: bool) {
        match size {
            1 => return self.one_liner(),
            2 => return self.two_liner(),
            _ => {}
        }
        if last && size >= 9 && self.cx.chance(35) {
            return self.tests(size);
        }
        // A type is usually followed by its impl.
        if std::mem::take(&mut self.after_type) && self.cx.chance(55) {
            if size >= 5 && self.cx.chance(25) {
                return self.trait_impl(size);
            }
            return self.impl_block(size);
        }
        let r = self.cx.below(100);
        let has_types = !self.types.is_empty();
        if r < 24 {
            self.structure(size);
            self.after_type = true;
        } else if r < 40 {
            self.enumeration(size);
            self.after_type = true;
        } else if r < 47 {
            self.trait_def(size);
        } else if r < 67 && has_types {
            self.impl_block(size);
        } else if r < 74 && has_types && size >= 5 {
            self.trait_impl(size);
        } else {
            self.function(0, size, false);
        }
    }

    // ---- names and expressions -------------------------------------------------------------------

    fn fn_name(&mut self) -> String {
        if !self.fns.is_empty() && self.cx.chance(50) {
            let i = self.cx.below(self.fns.len());
            return self.fns[i].clone();
        }
        let (verb, noun) = (self.cx.verb(), self.cx.noun());
        snake(&[verb, noun])
    }

    fn type_name(&mut self) -> String {
        if !self.types.is_empty() && self.cx.chance(60) {
            let i = self.cx.below(self.types.len());
            return self.types[i].name.clone();
        }
        self.cx.type_name()
    }

    fn field(&mut self) -> String {
        if self.fields.is_empty() {
            return self.cx.noun().to_string();
        }
        let i = self.cx.below(self.fields.len());
        self.fields[i].clone()
    }

    fn var(&mut self) -> String {
        if self.in_method && !self.fields.is_empty() && self.cx.chance(25) {
            return format!("self.{}", self.field());
        }
        if !self.scope.is_empty() && self.cx.chance(85) {
            let i = self.cx.below(self.scope.len());
            return self.scope[i].clone();
        }
        let words = self.cx.var_words();
        snake(&words)
    }

    fn list(&mut self) -> (String, String) {
        if !self.lists.is_empty() && self.cx.chance(70) {
            let i = self.cx.below(self.lists.len());
            return self.lists[i].clone();
        }
        let noun = self.cx.noun();
        (plural(noun), noun.to_string())
    }

    /// A collection and a closure parameter for it, usually just its initial (`|u| u.name`), as
    /// most authors write it.
    fn closure_list(&mut self) -> (String, String) {
        let (list, x) = self.list();
        if self.cx.chance(70) {
            let initial = x[..1].to_string();
            (list, initial)
        } else {
            (list, x)
        }
    }

    fn fresh(&mut self) -> String {
        let words = self.cx.var_words();
        let name = snake(&words);
        if !self.scope.contains(&name) {
            self.scope.push(name.clone());
        }
        name
    }

    fn fresh_list(&mut self) -> String {
        let noun = self.cx.noun();
        let name = plural(noun);
        if !self.scope.contains(&name) {
            self.scope.push(name.clone());
            self.lists.push((name.clone(), noun.to_string()));
        }
        name
    }

    fn expr(&mut self) -> String {
        if self.cx.chance(70) {
            return self.short_expr();
        }
        let v = self.var();
        match self.cx.below(22) {
            0 => v,
            1 => format!("{v}.len()"),
            2 => format!("{v}.clone()"),
            3 | 4 => format!("{}(&{v})", self.fn_name()),
            5 => format!("{v}.{}", self.field()),
            6 => self.cx.pick(NUMBERS).to_string(),
            7 => format!("\"{}\".to_string()", self.cx.noun()),
            8 => format!("String::from(\"{}\")", self.cx.noun()),
            9 => format!("{v}.unwrap_or({})", self.cx.pick(NUMBERS)),
            10 => format!("{v}.iter().sum::<u64>()"),
            11 => format!("{}::default()", self.type_name()),
            12 => format!("{v} * {}", self.cx.pick(NUMBERS)),
            13 => format!("{v}.is_some()"),
            14 => format!("Some({v})"),
            15 => format!("vec![{}, {}]", self.cx.pick(NUMBERS), self.cx.pick(NUMBERS)),
            16 => format!("{v}.min({})", self.var()),
            17 => {
                let c = self.cond();
                format!("if {c} {{ {v} }} else {{ 0 }}")
            }
            18 => format!("{v}.get(&{}).copied()", self.var()),
            19 => format!("format!(\"{{}}/{{}}\", {v}, {})", self.var()),
            20 => format!("{v}.iter().map(|x| x.{}).max()", self.field()),
            _ => format!("{v}.saturating_sub({})", self.cx.pick(NUMBERS)),
        }
    }

    fn cond(&mut self) -> String {
        let v = self.var();
        match self.cx.below(10) {
            0 => format!("{v} > {}", self.cx.pick(NUMBERS)),
            1 => format!("{v}.is_empty()"),
            2 => format!("!{v}.is_empty()"),
            3 => format!("{v}.is_none()"),
            4 => format!("{v} == \"{}\"", self.cx.noun()),
            5 => format!("{v}.contains(&{})", self.var()),
            6 => format!("{v} >= {}", upper(&[self.cx.adj(), self.cx.noun()])),
            7 => format!("{v}.starts_with('_')"),
            8 => format!("matches!({v}, Some(_))"),
            _ => format!("{v}.len() < {}", self.cx.pick(NUMBERS)),
        }
    }

    /// A tail expression plausible for a function returning `ret`.
    fn tail(&mut self, ret: &str) -> String {
        let v = self.var();
        match ret {
            "bool" => self.cond(),
            "usize" | "u64" | "io::Result<usize>" => {
                let e = match self.cx.below(3) {
                    0 => format!("{v}.len()"),
                    1 => format!("{v} + 1"),
                    _ => v,
                };
                if ret.starts_with("io::") {
                    format!("Ok({e})")
                } else {
                    e
                }
            }
            "String" => match self.cx.below(2) {
                0 => format!("{v}.to_string()"),
                _ => format!("format!(\"{}: {{}}\", {v})", self.cx.noun()),
            },
            "Option<u32>" => match self.cx.below(3) {
                0 => "None".to_string(),
                1 => format!("Some({v})"),
                _ => format!("{v}.first().copied()"),
            },
            "Result<(), Error>" => "Ok(())".to_string(),
            "Vec<String>" => format!("{v}.into_iter().collect()"),
            "Self" => {
                let f = self.field();
                if f.starts_with(char::is_alphabetic) && self.cx.chance(50) {
                    format!("Self {{ {f}, ..Default::default() }}")
                } else {
                    "Self::default()".to_string()
                }
            }
            _ => v,
        }
    }

    // ---- statements --------------------------------------------------------------------------------

    fn stmts(&mut self, level: usize, n: usize, depth: usize) {
        let mut left = n;
        // Blank lines split a body into paragraphs: only after code, never first or last.
        let mut after_code = false;
        while left > 0 {
            if left >= 2 && after_code && depth == 0 && self.cx.chance(25) {
                self.blank();
                left -= 1;
                after_code = false;
                continue;
            }
            after_code = true;
            if left >= 2 && self.cx.chance(5) {
                let remark = self.cx.remark();
                self.emit(level, format!("// {remark}"));
                left -= 1;
                after_code = false;
                continue;
            }
            if left >= 3 && self.cx.chance(15) {
                left -= self.literal(level, left);
                continue;
            }
            if depth < 2 && left >= 3 && self.cx.chance(45) {
                let mark = (self.scope.len(), self.lists.len());
                left -= self.compound(level, left, depth);
                // Names bound inside the block go out of scope with it.
                self.scope.truncate(mark.0);
                self.lists.truncate(mark.1);
                continue;
            }
            self.simple(level);
            left -= 1;
        }
    }

    /// A struct literal, `vec!` or iterator chain spread over lines, rustfmt-style, of at most `left`
    /// lines (`left >= 3`).
    fn literal(&mut self, level: usize, left: usize) -> usize {
        let size = self.cx.range(3, left.min(7));
        let inner = level + 1;
        match self.cx.below(3) {
            0 => {
                let structs: Vec<usize> = (0..self.types.len())
                    .filter(|&i| self.types[i].fields.len() >= size - 2)
                    .filter(|&i| self.types[i].fields[0] != "0")
                    .collect();
                let (name, fields) = if structs.is_empty() {
                    let names = self.cx.sample(NOUNS, size - 2);
                    (
                        self.cx.type_name(),
                        names.iter().map(|f| f.to_string()).collect(),
                    )
                } else {
                    let ty = &self.types[self.cx.pick(&structs)];
                    (ty.name.clone(), ty.fields[..size - 2].to_vec())
                };
                let head = if self.cx.chance(40) {
                    format!("let {} = {name} {{", self.fresh())
                } else {
                    format!("{}({name} {{", self.fn_name())
                };
                let close = if head.starts_with("let") { "};" } else { "});" };
                self.emit(level, head);
                for f in fields {
                    if self.scope.contains(&f) {
                        self.emit(inner, format!("{f},"));
                    } else {
                        let value = self.short_expr();
                        self.emit(inner, format!("{f}: {value},"));
                    }
                }
                self.emit(level, close);
            }
            1 => {
                let name = self.fresh_list();
                self.emit(level, format!("let {name} = vec!["));
                for _ in 0..size - 2 {
                    let value = format!("\"{}\"", self.cx.noun());
                    self.emit(inner, format!("{value},"));
                }
                self.emit(level, "];");
            }
            _ => {
                let (list, x) = self.closure_list();
                let name = self.fresh_list();
                self.emit(level, format!("let {name}: Vec<_> = {list}"));
                self.emit(inner, ".iter()");
                for _ in 0..size - 3 {
                    let f = self.field();
                    let step = match self.cx.below(5) {
                        0 => format!(".filter(|{x}| {x}.{f} > 0)"),
                        1 => format!(".map(|{x}| {x}.{f})"),
                        2 => format!(".take({})", self.cx.pick(NUMBERS)),
                        3 => ".rev()".to_string(),
                        _ => ".cloned()".to_string(),
                    };
                    self.emit(inner, step);
                }
                self.emit(inner, ".collect();");
            }
        }
        size
    }

    fn short_expr(&mut self) -> String {
        let v = self.var();
        match self.cx.below(8) {
            0 | 1 => v,
            2 => format!("{v}.len()"),
            3 => format!("{v} + 1"),
            4 => format!("{}(&{v})", self.fn_name()),
            5 => format!("{v}.clone()"),
            6 => self.cx.pick(NUMBERS).to_string(),
            _ => format!("{v}.is_empty()"),
        }
    }

    fn simple(&mut self, level: usize) {
        // Most statements are short: a binding, a bump, a call.
        if self.cx.chance(45) {
            let line = match self.cx.below(4) {
                0 | 1 => {
                    let e = self.short_expr();
                    format!("let {} = {e};", self.fresh())
                }
                2 => format!("{} += 1;", self.var()),
                _ => format!("{}(&{});", self.fn_name(), self.var()),
            };
            return self.emit(level, line);
        }
        let line = match self.cx.below(24) {
            0..=3 => {
                let e = self.expr();
                let kw = if self.cx.chance(30) { "let mut" } else { "let" };
                format!("{kw} {} = {e};", self.fresh())
            }
            4 => {
                let t = self.cx.pick(FIELD_TYPES);
                let e = self.expr();
                format!("let {}: {t} = {e};", self.fresh())
            }
            5 => format!("{} += {};", self.var(), self.cx.pick(NUMBERS)),
            6 => {
                let (list, _) = self.list();
                format!("{list}.push({});", self.expr())
            }
            7 => format!("println!(\"{} {{}}\", {});", self.cx.verb(), self.var()),
            8 => format!("debug!(\"{{:?}}\", {});", self.var()),
            9 => format!("assert!({});", self.cond()),
            10 if self.in_method && !self.fields.is_empty() => {
                let f = self.field();
                format!("self.{f} = {};", self.expr())
            }
            11 => {
                let (list, x) = self.closure_list();
                let f = self.field();
                let name = self.fresh_list();
                format!("let {name}: Vec<_> = {list}.iter().map(|{x}| {x}.{f}).collect();")
            }
            12 => {
                let (list, x) = self.closure_list();
                let f = self.field();
                format!(
                    "let {} = {list}.iter().filter(|{x}| {x}.{f} > 0).count();",
                    self.fresh()
                )
            }
            13 => format!("{}.insert({}, {});", self.var(), self.var(), self.expr()),
            14 if self.in_loop => self.cx.pick(&["continue;", "break;"]).to_string(),
            15 if self.fallible => {
                let f = self.fn_name();
                format!("let {} = {f}(&{})?;", self.fresh(), self.var())
            }
            16 => {
                let f = self.fresh();
                format!("let {f} = |x: u32| x * {};", self.cx.pick(NUMBERS))
            }
            17 => {
                let (list, _) = self.list();
                let f = self.field();
                format!("{list}.sort_by(|a, b| a.{f}.cmp(&b.{f}));")
            }
            18 if self.in_loop => {
                let v = self.fresh();
                format!("let Some({v}) = {}.get(i) else {{ continue }};", self.var())
            }
            19 => format!("let {} = {}.unwrap_or_default();", self.fresh(), self.var()),
            20 => format!(
                "let {} = format!(\"{{}}-{{}}\", {}, {});",
                self.fresh(),
                self.var(),
                self.var()
            ),
            21 => format!("drop({});", self.var()),
            _ => {
                let f = self.fn_name();
                format!("{f}(&{});", self.var())
            }
        };
        self.emit(level, line);
    }

    fn compound(&mut self, level: usize, left: usize, depth: usize) -> usize {
        let cap = left.min(10 - 4 * depth);
        // (kind, minimum lines); `match` is listed twice to weigh it up, as idiomatic Rust leans on it.
        let kinds: &[(u8, usize)] = &[
            (0, 3),
            (1, 3),
            (2, 3),
            (3, 4),
            (4, 5),
            (5, 4),
            (5, 4),
            (6, 5),
        ];
        let fitting: Vec<(u8, usize)> = kinds.iter().copied().filter(|k| k.1 <= cap).collect();
        let (kind, min) = self.cx.pick(&fitting);
        let size = self.cx.range(min, cap.min(min + 4));
        let inner = level + 1;
        match kind {
            0 => {
                let c = self.cond();
                self.emit(level, format!("if {c} {{"));
                self.stmts(inner, size - 2, depth + 1);
                self.emit(level, "}");
            }
            1 => {
                let x = self.cx.noun();
                let head = match self.cx.below(3) {
                    0 => format!("if let Some({x}) = {}.get(&{}) {{", self.var(), self.var()),
                    1 => format!("if let Ok({x}) = {}.parse::<u32>() {{", self.var()),
                    _ => format!("if let Some({x}) = {} {{", self.var()),
                };
                self.emit(level, head);
                self.scope.push(x.to_string());
                self.stmts(inner, size - 2, depth + 1);
                self.emit(level, "}");
            }
            2 => {
                let (list, x) = self.list();
                let head = match self.cx.below(5) {
                    0 => format!("for (i, {x}) in {list}.iter().enumerate() {{"),
                    1 => format!("for i in 0..{} {{", self.cx.pick(NUMBERS)),
                    2 => format!("for {x} in {list}.iter() {{"),
                    _ => format!("for {x} in &{list} {{"),
                };
                self.emit(level, &head);
                self.scope.push(if head.starts_with("for i in") {
                    "i".to_string()
                } else {
                    x
                });
                let was = std::mem::replace(&mut self.in_loop, true);
                self.stmts(inner, size - 2, depth + 1);
                self.in_loop = was;
                self.emit(level, "}");
            }
            3 => {
                let counter = self.fresh();
                self.emit(level, format!("let mut {counter} = 0;"));
                let bound = self.var();
                self.emit(level, format!("while {counter} < {bound}.len() {{"));
                let was = std::mem::replace(&mut self.in_loop, true);
                self.stmts(inner, size - 4, depth + 1);
                self.in_loop = was;
                self.emit(inner, format!("{counter} += 1;"));
                self.emit(level, "}");
            }
            4 => {
                let c = self.cond();
                self.emit(level, format!("if {c} {{"));
                let a = self.cx.range(1, size - 4);
                self.stmts(inner, a, depth + 1);
                self.emit(level, "} else {");
                self.stmts(inner, size - 3 - a, depth + 1);
                self.emit(level, "}");
            }
            5 => self.match_stmt(level, size, depth),
            _ => {
                self.emit(level, "loop {");
                let was = std::mem::replace(&mut self.in_loop, true);
                self.stmts(inner, size - 5, depth + 1);
                self.in_loop = was;
                let c = self.cond();
                self.emit(inner, format!("if {c} {{"));
                self.emit(inner + 1, "break;");
                self.emit(inner, "}");
                self.emit(level, "}");
            }
        }
        size
    }

    /// A `match` statement of exactly `size` lines (`size >= 4`).
    fn match_stmt(&mut self, level: usize, size: usize, depth: usize) {
        // Arm sizes: one-line arms, and block arms of 3+ lines; the last arm is a one-line catch-all.
        let mut arms = Vec::new();
        let mut left = size - 2;
        while left > 1 {
            let s = if left >= 4 && self.cx.chance(25) {
                self.cx.range(3, (left - 1).min(5))
            } else {
                1
            };
            arms.push(s);
            left -= s;
        }
        arms.push(1);
        let enums: Vec<usize> = (0..self.types.len())
            .filter(|&i| self.types[i].patterns.len() >= arms.len() - 1)
            .collect();
        let v = self.var();
        let (head, patterns): (String, Vec<String>) = if !enums.is_empty() && self.cx.chance(60) {
            let ty = &self.types[self.cx.pick(&enums)];
            (format!("match {v} {{"), ty.patterns.clone())
        } else if self.cx.chance(50) {
            let words = self.cx.sample(NOUNS, arms.len());
            let pats = words.iter().map(|w| format!("\"{w}\"")).collect();
            (format!("match {v}.as_str() {{"), pats)
        } else {
            let pats = (0..arms.len())
                .map(|i| match i % 3 {
                    0 => i.to_string(),
                    1 => format!("{} | {}", i * 10, i * 10 + 1),
                    _ => format!("{}..={}", i * 10, i * 10 + 9),
                })
                .collect();
            (format!("match {v} {{"), pats)
        };
        self.emit(level, head);
        let inner = level + 1;
        let count = arms.len();
        for (i, s) in arms.into_iter().enumerate() {
            let pat = if i + 1 == count {
                "_".to_string()
            } else {
                patterns[i].clone()
            };
            if s == 1 {
                let body = match self.cx.below(6) {
                    0 => "{}".to_string(),
                    1 => format!("{} += 1", self.var()),
                    2 => format!("{}(&{})", self.fn_name(), self.var()),
                    3 if self.in_loop => "continue".to_string(),
                    4 => format!("println!(\"{}\")", self.cx.noun()),
                    _ => format!("{}.push({})", self.list().0, self.var()),
                };
                self.emit(inner, format!("{pat} => {body},"));
            } else {
                self.emit(inner, format!("{pat} => {{"));
                self.stmts(inner + 1, s - 2, depth + 1);
                self.emit(inner, "}");
            }
        }
        self.emit(level, "}");
    }

    // ---- items -------------------------------------------------------------------------------------

    fn one_liner(&mut self) {
        let line = match self.cx.below(9) {
            1 => format!(
                "const {}: &str = \"{}\";",
                upper(&[self.cx.noun()]),
                self.cx.noun()
            ),
            2 => {
                let t = self.type_name();
                let name = pascal(&[self.cx.noun()]);
                format!("pub type {name}Map = HashMap<String, {t}>;")
            }
            3 => {
                let name = pascal(&[self.cx.noun()]) + "Id";
                self.types.push(Ty {
                    name: name.clone(),
                    generics: "",
                    fields: vec!["0".to_string()],
                    patterns: Vec::new(),
                });
                format!("pub struct {name}(pub u64);")
            }
            4 => format!(
                "static {}: &str = \"{}\";",
                upper(&[self.cx.noun()]),
                self.cx.noun()
            ),
            5 => format!("pub mod {};", plural(self.cx.noun())),
            6 => self.one_line_fn(false),
            _ => format!(
                "pub const {}: usize = {};",
                upper(&[self.cx.adj(), self.cx.noun()]),
                self.cx.pick(NUMBERS)
            ),
        };
        self.emit(0, line);
    }

    fn two_liner(&mut self) {
        match self.cx.below(3) {
            0 => {
                self.one_liner();
                self.one_liner();
            }
            1 => {
                let attr = self
                    .cx
                    .pick(&["#[inline]", "#[must_use]", "#[allow(dead_code)]"]);
                self.emit(0, attr);
                let line = self.one_line_fn(false);
                self.emit(0, line);
            }
            _ => {
                let derive = self.cx.pick(DERIVES);
                self.emit(0, derive);
                let name = self.cx.type_name();
                let t = self.cx.pick(FIELD_TYPES);
                self.emit(0, format!("pub struct {name}(pub {t});"));
                self.types.push(Ty {
                    name,
                    generics: "",
                    fields: vec!["0".to_string()],
                    patterns: Vec::new(),
                });
            }
        }
    }

    /// A whole function on one line, e.g. `pub fn double_size(x: u32) -> u32 { x * 2 }`.
    fn one_line_fn(&mut self, method: bool) -> String {
        if method {
            let f = self.field();
            // Tuple-struct fields (`0`) cannot name a method.
            let named = f.starts_with(char::is_alphabetic);
            return match self.cx.below(if named { 5 } else { 3 }) {
                0 => format!("pub fn len(&self) -> usize {{ self.{f}.len() }}"),
                1 => format!("pub fn is_empty(&self) -> bool {{ self.{f}.is_empty() }}"),
                2 => "pub fn new() -> Self { Self::default() }".to_string(),
                3 => format!("pub fn {f}(&self) -> &str {{ &self.{f} }}"),
                _ => format!("fn {f}_mut(&mut self) -> &mut Vec<u8> {{ &mut self.{f} }}"),
            };
        }
        let name = self.fn_name();
        let line = match self.cx.below(4) {
            0 => format!(
                "pub fn {name}(x: u32) -> u32 {{ x * {} }}",
                self.cx.pick(NUMBERS)
            ),
            1 => format!("fn {name}(s: &str) -> bool {{ s.starts_with('_') }}"),
            2 => format!(
                "pub fn {name}() -> Duration {{ Duration::from_millis({}) }}",
                self.cx.pick(NUMBERS)
            ),
            _ => format!("fn {name}<T: Clone>(items: &[T]) -> Vec<T> {{ items.to_vec() }}"),
        };
        self.fns.push(name);
        line
    }

    fn doc_line(&mut self, level: usize) {
        let doc = self.cx.doc();
        self.emit(level, format!("/// {doc}"));
    }

    fn structure(&mut self, size: usize) {
        let mut left = size;
        if left >= 4 && self.cx.chance(40) {
            self.doc_line(0);
            left -= 1;
        }
        if left >= 3 && self.cx.chance(65) {
            let derive = self.cx.pick(DERIVES);
            self.emit(0, derive);
            left -= 1;
        }
        let name = self.cx.type_name();
        if left == 2 {
            let attr = self.cx.pick(&["#[non_exhaustive]", "#[repr(transparent)]"]);
            self.emit(0, attr);
            left -= 1;
        }
        let mut ty = Ty {
            name: name.clone(),
            generics: "",
            fields: Vec::new(),
            patterns: Vec::new(),
        };
        if left == 1 {
            let t = self.cx.pick(FIELD_TYPES);
            self.emit(0, format!("pub struct {name}(pub {t});"));
            ty.fields.push("0".to_string());
        } else {
            ty.generics = match self.cx.below(10) {
                0 => "<T>",
                1 => "<'a>",
                _ => "",
            };
            self.emit(0, format!("pub struct {name}{} {{", ty.generics));
            let names = self.cx.sample(NOUNS, left - 2);
            for (i, field) in names.into_iter().enumerate() {
                let t = match (ty.generics, i) {
                    ("<T>", 0) => "Vec<T>",
                    ("<'a>", 0) => "&'a str",
                    _ => self.cx.pick(FIELD_TYPES),
                };
                let vis = if self.cx.chance(25) { "pub " } else { "" };
                self.emit(1, format!("{vis}{field}: {t},"));
                ty.fields.push(field.to_string());
            }
            self.emit(0, "}");
        }
        self.types.push(ty);
    }

    fn enumeration(&mut self, size: usize) {
        let mut left = size;
        if left >= 5 && self.cx.chance(40) {
            self.doc_line(0);
            left -= 1;
        }
        if left >= 4 {
            let derive = self.cx.pick(DERIVES);
            self.emit(0, derive);
            left -= 1;
        }
        let name = pascal(&[self.cx.noun()]) + self.cx.pick(&["Kind", "State", "Mode", "Event"]);
        self.emit(0, format!("pub enum {name} {{"));
        let variants = self.cx.sample(NOUNS, left - 2);
        let mut patterns = Vec::new();
        for variant in variants {
            let v = pascal(&[variant]);
            match self.cx.below(8) {
                0 => {
                    self.emit(1, format!("{v}(u32),"));
                    patterns.push(format!("{name}::{v}(_)"));
                }
                1 => {
                    let field = self.cx.noun();
                    self.emit(1, format!("{v} {{ {field}: String }},"));
                    patterns.push(format!("{name}::{v} {{ .. }}"));
                }
                _ => {
                    self.emit(1, format!("{v},"));
                    patterns.push(format!("{name}::{v}"));
                }
            }
        }
        self.emit(0, "}");
        self.types.push(Ty {
            name,
            generics: "",
            fields: Vec::new(),
            patterns,
        });
    }

    fn trait_def(&mut self, size: usize) {
        let mut left = size;
        if left >= 4 && self.cx.chance(40) {
            self.doc_line(0);
            left -= 1;
        }
        let name =
            pascal(&[self.cx.noun()]) + self.cx.pick(&["Source", "Sink", "Store", "Visitor"]);
        let head = match self.cx.below(4) {
            0 => format!("pub trait {name}: fmt::Debug {{"),
            1 => format!("pub trait {name}<T> {{"),
            _ => format!("pub trait {name} {{"),
        };
        self.emit(0, head);
        let mut body = left - 2;
        while body > 0 {
            if body >= 3 && self.cx.chance(25) {
                let s = self.cx.range(3, body.min(5));
                self.in_trait = true;
                self.function(1, s, true);
                self.in_trait = false;
                body -= s;
                continue;
            }
            let (verb, noun) = (self.cx.verb(), self.cx.noun());
            let name = if self.cx.chance(35) {
                verb.to_string()
            } else {
                snake(&[verb, noun])
            };
            let line = match self.cx.below(5) {
                0 => format!(
                    "fn {name}(&self, {noun}: {}) -> {};",
                    self.cx.pick(PARAM_TYPES),
                    self.cx.pick(RETURN_TYPES)
                ),
                1 => format!(
                    "fn {name}(&mut self, {noun}: {});",
                    self.cx.pick(PARAM_TYPES)
                ),
                2 => format!("fn {name}(&self) -> {};", self.cx.pick(RETURN_TYPES)),
                3 => format!("const {}: usize;", upper(&[self.cx.adj(), noun])),
                _ => format!("fn {name}(&self) -> Option<&str>;"),
            };
            self.emit(1, line);
            body -= 1;
        }
        self.emit(0, "}");
        self.traits.push(name);
    }

    /// Picks an earlier struct or enum and sets `self.fields` to its fields.
    fn pick_type(&mut self) -> (String, &'static str) {
        let i = self.cx.below(self.types.len());
        let ty = &self.types[i];
        self.fields = ty.fields.clone();
        (ty.name.clone(), ty.generics)
    }

    fn impl_block(&mut self, size: usize) {
        let (name, generics) = self.pick_type();
        let head = match generics {
            "<T>" => format!("impl<T: Clone> {name}<T> {{"),
            "<'a>" => format!("impl<'a> {name}<'a> {{"),
            _ => format!("impl {name} {{"),
        };
        self.emit(0, head);
        self.methods(size - 2);
        self.emit(0, "}");
        self.fields.clear();
    }

    /// Exactly `n` lines of methods separated by blank lines (`n >= 1`).
    fn methods(&mut self, n: usize) {
        // Mostly full methods; one-liners only fill leftovers.
        let sizes = if n >= 3 && self.cx.chance(80) {
            self.cx.split(n, 1, 3, 12)
        } else {
            self.cx.split(n, 1, 1, 12)
        };
        for (i, s) in sizes.into_iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            match s {
                1 => {
                    let line = self.one_line_fn(true);
                    self.emit(1, line);
                }
                2 => {
                    let attr = self.cx.pick(&["#[inline]", "#[must_use]"]);
                    self.emit(1, attr);
                    let line = self.one_line_fn(true);
                    self.emit(1, line);
                }
                _ => self.function(1, s, true),
            }
        }
    }

    fn trait_impl(&mut self, size: usize) {
        let (name, generics) = self.pick_type();
        let name = match generics {
            "<'a>" => format!("{name}<'_>"),
            "<T>" => format!("{name}<u32>"),
            _ => name,
        };
        let r = self.cx.below(4);
        if r == 0 && !self.traits.is_empty() {
            let t = self.traits[self.cx.below(self.traits.len())].clone();
            self.emit(0, format!("impl {t} for {name} {{"));
            self.methods(size - 2);
            self.emit(0, "}");
        } else {
            let (head, sig, last) = match r {
                1 => (
                    format!("impl From<u32> for {name} {{"),
                    "fn from(value: u32) -> Self {",
                    "Self::default()".to_string(),
                ),
                _ => (
                    format!("impl fmt::Display for {name} {{"),
                    "fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {",
                    format!("write!(f, \"{{}}\", self.{})", self.field()),
                ),
            };
            self.emit(0, head);
            self.emit(1, sig);
            let saved = std::mem::take(&mut self.scope);
            if r == 1 {
                self.scope.push("value".to_string());
            }
            self.in_method = r != 1;
            self.stmts(2, size - 5, 1);
            self.in_method = false;
            self.scope = saved;
            self.emit(2, last);
            self.emit(1, "}");
            self.emit(0, "}");
        }
        self.fields.clear();
    }

    /// A function or method of exactly `size` lines (`size >= 3`).
    fn function(&mut self, level: usize, size: usize, method: bool) {
        let mut left = size;
        if left >= 4 && self.cx.chance(40) {
            self.doc_line(level);
            left -= 1;
        }
        if left >= 4 && self.cx.chance(12) {
            let attr = self
                .cx
                .pick(&["#[must_use]", "#[inline]", "#[cfg(feature = \"std\")]"]);
            self.emit(level, attr);
            left -= 1;
        }
        // Trait items take no visibility.
        let vis = if self.in_trait {
            ""
        } else {
            self.cx.pick(&["pub ", "pub ", "pub ", "", "", ""])
        };
        let (verb, noun) = (self.cx.verb(), self.cx.noun());
        // Methods often get by with a bare verb: the type supplies the noun.
        let name = if method && self.cx.chance(35) {
            verb.to_string()
        } else {
            snake(&[verb, noun])
        };
        let mut params: Vec<String> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        self.in_method = false;
        if method {
            let receiver = self.cx.pick(&["&self", "&self", "&mut self", "self", ""]);
            if !receiver.is_empty() {
                params.push(receiver.to_string());
            }
            self.in_method = receiver.contains("self");
        }
        let mut generics = "";
        let mut ret = match self.cx.below(4) {
            0 => "",
            _ => self.cx.pick(RETURN_TYPES),
        };
        match self.cx.below(16) {
            0 => {
                generics = "<T: Clone>";
                params.push("items: &[T]".to_string());
                names.push("items".to_string());
                ret = "Option<T>";
            }
            1 => {
                generics = "<'a>";
                params.push("input: &'a str".to_string());
                names.push("input".to_string());
                ret = "&'a str";
            }
            _ => {}
        }
        if method && params.is_empty() && ret.is_empty() {
            ret = "Self";
        }
        for _ in 0..self.cx.pick(&[0, 1, 1, 1, 2]) {
            let p = snake(&self.cx.var_words());
            if names.contains(&p) {
                continue;
            }
            params.push(format!("{p}: {}", self.cx.pick(PARAM_TYPES)));
            names.push(p);
        }
        let arrow = if ret.is_empty() {
            String::new()
        } else {
            format!(" -> {ret}")
        };
        // Long generic signatures get a `where` clause, as rustfmt would lay them out.
        let where_clause = generics == "<T: Clone>" && left >= 6 && self.cx.chance(40);
        if where_clause {
            generics = "<T>";
        }
        self.emit(
            level,
            format!("{vis}fn {name}{generics}({}){arrow}", params.join(", "))
                + if where_clause { "" } else { " {" },
        );
        if where_clause {
            self.emit(level, "where");
            self.emit(level + 1, "T: Clone,");
            self.emit(level, "{");
            left -= 3;
        }
        let saved_scope = std::mem::replace(&mut self.scope, names);
        let saved_lists = std::mem::take(&mut self.lists);
        self.fallible = ret.starts_with("Result") || ret.starts_with("io::");
        let saved_loop = std::mem::replace(&mut self.in_loop, false);
        if ret.is_empty() {
            self.stmts(level + 1, left - 2, 0);
        } else {
            // A blank line often sets the result apart from the work before it.
            let body = left - 3;
            if body >= 3 && self.cx.chance(50) {
                self.stmts(level + 1, body - 1, 0);
                self.blank();
            } else {
                self.stmts(level + 1, body, 0);
            }
            let tail = match ret {
                "Option<T>" => "items.first().cloned()".to_string(),
                "&'a str" => "input.trim()".to_string(),
                _ => self.tail(ret),
            };
            self.emit(level + 1, tail);
        }
        self.emit(level, "}");
        self.in_loop = saved_loop;
        self.fallible = false;
        self.scope = saved_scope;
        self.lists = saved_lists;
        self.in_method = false;
        if !method {
            self.fns.push(name);
        }
    }

    /// A `#[cfg(test)]` module of exactly `size` lines (`size >= 9`).
    fn tests(&mut self, size: usize) {
        self.emit(0, "#[cfg(test)]");
        self.emit(0, "mod tests {");
        self.emit(1, "use super::*;");
        self.blank();
        let sizes = self.cx.split(size - 5, 1, 4, 10);
        for (i, s) in sizes.into_iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            self.emit(1, "#[test]");
            let (verb, noun) = (self.cx.verb(), self.cx.noun());
            let name = match self.cx.below(3) {
                0 => format!("{verb}_{noun}_works"),
                1 => format!("{verb}_rejects_{}_{noun}", self.cx.adj()),
                _ => format!("{verb}_{}", plural(noun)),
            };
            self.emit(1, format!("fn {name}() {{"));
            self.scope.clear();
            self.lists.clear();
            self.stmts(2, s - 4, 1);
            let (a, b) = (self.var(), self.expr());
            self.emit(2, format!("assert_eq!({a}, {b});"));
            self.emit(1, "}");
        }
        self.emit(0, "}");
    }
}
