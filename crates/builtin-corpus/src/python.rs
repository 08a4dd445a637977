//! Python modules for the built-in corpus: imports, constants, functions, classes, dataclasses, enums
//! and a `__main__` guard, with statements nested at most two levels deep inside a function.

use super::common::{indent, pascal, plural, snake, upper, Ctx};
use super::Body;

/// Imports in the order isort would print them; a file takes a sorted subset.
const IMPORTS: &[&str] = &[
    "import asyncio",
    "import json",
    "import logging",
    "import os",
    "import re",
    "import sys",
    "import time",
    "from enum import Enum",
    "from pathlib import Path",
    "from typing import Any, Optional",
    "from . import utils",
];

/// Repeats make the short, common hints more likely.
const TYPES: &[&str] = &[
    "int",
    "int",
    "str",
    "str",
    "float",
    "bool",
    "bytes",
    "list",
    "dict",
    "list[str]",
    "dict[str, int]",
    "Optional[str]",
    "Path",
    "Any",
];

const NUMBERS: &[&str] = &[
    "0", "1", "2", "3", "4", "8", "10", "16", "32", "60", "100", "255", "1024",
];

const LITERALS: &[&str] = &[
    "0", "1", "2", "10", "0.5", "None", "True", "False", "\"\"", "[]", "{}", "()", "-1",
];

const EXCEPTIONS: &[&str] = &[
    "ValueError",
    "KeyError",
    "OSError",
    "TypeError",
    "RuntimeError",
    "LookupError",
];

/// The natural empty value for a type hint (`0`, `""`, `[]`, `None`...).
fn empty_value(hint: &str) -> &'static str {
    match hint {
        "int" => "0",
        "float" => "0.0",
        "str" => "\"\"",
        "bool" => "False",
        "bytes" => "b\"\"",
        _ if hint.starts_with("list") => "[]",
        _ if hint.starts_with("dict") => "{}",
        _ => "None",
    }
}

/// Generates the body of a Python module with exactly `n` lines (`n >= 4`).
pub(super) fn module(cx: Ctx, n: usize) -> Body {
    let mut py = Py {
        cx,
        out: Vec::with_capacity(n),
        funcs: Vec::new(),
        classes: Vec::new(),
        fields: Vec::new(),
        scope: Vec::new(),
        lists: Vec::new(),
        typed: false,
        in_loop: false,
        in_func: false,
        in_method: false,
        in_async: false,
    };
    py.typed = py.cx.chance(55);
    py.module(n);
    debug_assert_eq!(py.out.len(), n);
    let docstring = py.cx.chance(70);
    Body {
        lines: py.out,
        flex_prefix: if docstring { "\"\"\"" } else { "# " },
        flex_suffix: if docstring { ".\"\"\"" } else { "." },
    }
}

struct Py {
    cx: Ctx,
    out: Vec<String>,
    /// Functions defined so far, for calls.
    funcs: Vec<String>,
    /// Classes defined so far, for type hints and base classes.
    classes: Vec<String>,
    /// Attributes of the class being written, for `self.<field>`.
    fields: Vec<String>,
    /// Local names visible in the current function.
    scope: Vec<String>,
    /// Collection-valued locals as (plural, singular), for `for user in users:`.
    lists: Vec<(String, String)>,
    /// Whether this file annotates its functions (many real modules do not).
    typed: bool,
    in_loop: bool,
    in_func: bool,
    in_method: bool,
    in_async: bool,
}

impl Py {
    fn emit(&mut self, level: usize, text: impl AsRef<str>) {
        let line = indent(level, 4) + text.as_ref();
        self.out.push(line);
    }

    fn blank(&mut self) {
        self.out.push(String::new());
    }

    fn module(&mut self, n: usize) {
        let k = self.cx.range(1, ((n - 2) / 4).clamp(1, 3));
        let all: Vec<usize> = (0..IMPORTS.len()).collect();
        let mut chosen = self.cx.sample(&all, k);
        chosen.sort_unstable();
        for i in chosen {
            self.emit(0, IMPORTS[i]);
        }
        // PEP 8 asks for two blank lines between top-level definitions; some files use one.
        let sep = if self.cx.chance(85) && n - k >= 4 {
            2
        } else {
            1
        };
        for _ in 0..sep {
            self.blank();
        }
        let blocks = self.cx.split(n - k - sep, sep, 1, 14);
        let count = blocks.len();
        for (i, size) in blocks.into_iter().enumerate() {
            if i > 0 {
                for _ in 0..sep {
                    self.blank();
                }
            }
            self.top_level(size, i + 1 == count);
        }
    }

    fn top_level(&mut self, size: usize, last: bool) {
        if size == 1 {
            return self.constants(1);
        }
        if last && size <= 5 && self.cx.chance(30) {
            return self.main_guard(size);
        }
        let r = self.cx.below(100);
        if size <= 4 && r < 20 {
            self.constants(size);
        } else if r < 48 {
            self.function(0, size, false);
        } else if size >= 3 && r < 64 {
            self.dataclass(size);
        } else if r < 76 {
            self.enum_class(size);
        } else if size <= 3 && r < 84 {
            self.exception_class(size);
        } else {
            self.class(size);
        }
    }

    // ---- names and expressions -------------------------------------------------------------------

    fn func_name(&mut self) -> String {
        if !self.funcs.is_empty() && self.cx.chance(50) {
            let i = self.cx.below(self.funcs.len());
            return self.funcs[i].clone();
        }
        let (verb, noun) = (self.cx.verb(), self.cx.noun());
        snake(&[verb, noun])
    }

    fn class_name(&mut self) -> String {
        if !self.classes.is_empty() && self.cx.chance(60) {
            let i = self.cx.below(self.classes.len());
            return self.classes[i].clone();
        }
        self.cx.type_name()
    }

    fn type_hint(&mut self) -> String {
        match self.cx.below(20) {
            0 | 1 => self.class_name(),
            _ => self.cx.pick(TYPES).to_string(),
        }
    }

    /// An existing name: a local, an attribute of `self`, or a plausible free name.
    fn var(&mut self) -> String {
        if self.in_method && !self.fields.is_empty() && self.cx.chance(25) {
            let i = self.cx.below(self.fields.len());
            return format!("self.{}", self.fields[i]);
        }
        if !self.scope.is_empty() && self.cx.chance(85) {
            let i = self.cx.below(self.scope.len());
            return self.scope[i].clone();
        }
        let words = self.cx.var_words();
        snake(&words)
    }

    /// A new local name, added to the scope.
    fn fresh(&mut self) -> String {
        let words = self.cx.var_words();
        let name = snake(&words);
        if !self.scope.contains(&name) {
            self.scope.push(name.clone());
        }
        name
    }

    /// A new collection-valued local such as `users` or `raw_entries`.
    fn fresh_list(&mut self) -> String {
        let noun = self.cx.noun();
        let name = if self.cx.chance(25) {
            snake(&[self.cx.adj(), &plural(noun)])
        } else {
            plural(noun)
        };
        if !self.scope.contains(&name) {
            self.scope.push(name.clone());
            self.lists.push((name.clone(), noun.to_string()));
        }
        name
    }

    fn string(&mut self) -> String {
        let noun = self.cx.noun();
        match self.cx.below(5) {
            0 => format!("'{noun}'"),
            1 => format!("\"{}-{noun}\"", self.cx.verb()),
            2 => format!("\"{} {noun}\"", self.cx.verb()),
            _ => format!("\"{noun}\""),
        }
    }

    fn fstring(&mut self) -> String {
        let a = self.var();
        let noun = self.cx.noun();
        match self.cx.below(5) {
            0 => format!("f\"{{{a}}}: {{{}}}\"", self.var()),
            1 => format!("f\"{{{a}!r}} is not a valid {noun}\""),
            2 => format!("f\"{{{a}:>8}}\""),
            3 => format!("f\"{{len({a})}} {}\"", plural(noun)),
            _ => format!("f\"{noun}-{{{a}}}\""),
        }
    }

    /// A short expression: most real right-hand sides are a name, a call or a little arithmetic.
    fn short_expr(&mut self) -> String {
        let a = self.var();
        match self.cx.below(9) {
            0 | 1 => a,
            2 => format!("{a} + 1"),
            3 => format!("len({a})"),
            4 => format!("{}({a})", self.func_name()),
            5 => format!("{a}.{}", self.cx.noun()),
            6 => format!("{a}[0]"),
            7 => self.cx.pick(NUMBERS).to_string(),
            _ => self.cx.pick(LITERALS).to_string(),
        }
    }

    fn expr(&mut self) -> String {
        if self.cx.chance(50) {
            return self.short_expr();
        }
        let a = self.var();
        match self.cx.below(18) {
            0 => format!("{a} + 1"),
            1 => format!("len({a})"),
            2 | 3 => {
                let f = self.func_name();
                if self.cx.chance(50) {
                    format!("{f}({a})")
                } else {
                    format!("{f}({a}, {})", self.var())
                }
            }
            4 => format!("{a}.{}", self.cx.noun()),
            5 => format!("{a}[{}]", self.cx.pick(&["0", "-1", "1:", "key", "i"])),
            6 => format!("{a} or {}", self.cx.pick(LITERALS)),
            7 => self.string(),
            8 => self.fstring(),
            9 => {
                let x = self.cx.pick(&["x", "item", "row", "it"]);
                let attr = self.cx.noun();
                if self.cx.chance(50) {
                    format!("[{x}.{attr} for {x} in {a}]")
                } else {
                    format!("[{x} for {x} in {a} if {x}]")
                }
            }
            10 => format!("{{k: v for k, v in {a}.items()}}"),
            11 => format!("{a} if {a} else {}", self.cx.pick(LITERALS)),
            12 => format!("sorted({a}, key=lambda r: r.{})", self.cx.noun()),
            13 => format!("{}.get({a}, {})", self.var(), self.cx.pick(LITERALS)),
            14 => self.cx.pick(NUMBERS).to_string(),
            15 => format!("{a} * {}", self.cx.pick(NUMBERS)),
            16 => format!("{}({a})", self.class_name()),
            _ => format!(
                "{}({a})",
                self.cx
                    .pick(&["str", "int", "list", "tuple", "sum", "max", "min", "bool", "set"])
            ),
        }
    }

    /// An expression that plausibly has type `hint`, for `return` statements.
    fn value_of(&mut self, hint: &str) -> String {
        match hint {
            "bool" => self.cond(),
            "str" => match self.cx.below(3) {
                0 => self.fstring(),
                1 => self.string(),
                _ => format!("str({})", self.var()),
            },
            "int" => match self.cx.below(3) {
                0 => format!("len({})", self.var()),
                1 => format!("{} + 1", self.var()),
                _ => self.cx.pick(NUMBERS).to_string(),
            },
            _ if hint.starts_with("list") => {
                let x = self.cx.pick(&["x", "item", "row"]);
                format!("[{x} for {x} in {} if {x}]", self.var())
            }
            _ => self.short_expr(),
        }
    }

    fn cond(&mut self) -> String {
        let a = self.var();
        match self.cx.below(11) {
            0 => format!("{a} is None"),
            1 => format!("not {a}"),
            2 => format!("{a} > {}", self.cx.pick(NUMBERS)),
            3 => format!("{a} in {}", self.var()),
            4 => format!(
                "isinstance({a}, {})",
                self.cx.pick(&["str", "int", "dict", "list"])
            ),
            5 => format!("{a} == \"{}\"", self.cx.noun()),
            6 => format!("{a} and {}", self.var()),
            7 => format!("len({a}) >= {}", self.cx.pick(NUMBERS)),
            8 => format!("{a}.startswith(\"_\")"),
            9 => format!("{a} is not None"),
            _ => a,
        }
    }

    // ---- statements --------------------------------------------------------------------------------

    /// Exactly `n` lines of statements at `level`.
    fn stmts(&mut self, level: usize, n: usize, depth: usize) {
        let mut left = n;
        // Blank lines split a body into paragraphs: only after code, never first or last.
        let mut after_code = false;
        while left > 0 {
            if left >= 2 && after_code && depth == 0 && self.cx.chance(22) {
                self.blank();
                left -= 1;
                after_code = false;
                continue;
            }
            after_code = true;
            // A comment is only safe when a statement follows it in the same block.
            if left >= 2 && self.cx.chance(6) {
                let remark = self.cx.remark();
                self.emit(level, format!("# {remark}"));
                left -= 1;
                after_code = false;
                continue;
            }
            if left >= 3 && self.cx.chance(15) {
                left -= self.literal(level, left);
                continue;
            }
            if depth < 2 && left >= 2 && self.cx.chance(35) {
                left -= self.compound(level, left, depth);
                continue;
            }
            self.simple(level);
            left -= 1;
        }
    }

    fn simple(&mut self, level: usize) {
        // Most statements are short: a binding, a bump, a call.
        if self.cx.chance(45) {
            let line = match self.cx.below(4) {
                0 | 1 => {
                    let e = self.short_expr();
                    format!("{} = {e}", self.fresh())
                }
                2 => format!("{} += 1", self.var()),
                _ => format!("{}({})", self.func_name(), self.var()),
            };
            return self.emit(level, line);
        }
        let line = match self.cx.below(22) {
            0..=4 => {
                let e = self.expr();
                let name = if e.starts_with('[') || e.starts_with("sorted(") {
                    self.fresh_list()
                } else {
                    self.fresh()
                };
                format!("{name} = {e}")
            }
            5 => format!("{} += {}", self.var(), self.cx.pick(NUMBERS)),
            6 => format!("{}.append({})", self.var(), self.var()),
            7 => {
                let level = self.cx.pick(&["debug", "info", "warning"]);
                let verb = self.cx.verb();
                format!("logger.{level}(\"{verb} %s\", {})", self.var())
            }
            8 => format!("print({})", self.fstring()),
            9 => {
                let c = self.cond();
                if self.cx.chance(30) {
                    format!("assert {c}, \"{} must be set\"", self.cx.noun())
                } else {
                    format!("assert {c}")
                }
            }
            10 if self.in_method && !self.fields.is_empty() => {
                let i = self.cx.below(self.fields.len());
                let f = self.fields[i].clone();
                format!("self.{f} = {}", self.expr())
            }
            11 if self.scope.len() >= 2 => {
                let (a, b) = (self.scope[0].clone(), self.scope[1].clone());
                format!("{a}, {b} = {b}, {a}")
            }
            12 => format!("{}[{}] = {}", self.var(), self.string(), self.expr()),
            13 => {
                let m = self.cx.pick(&["update", "extend", "discard", "remove"]);
                format!("{}.{m}({})", self.var(), self.var())
            }
            14 if self.in_loop => self.cx.pick(&["continue", "break"]).to_string(),
            15 if self.in_async => {
                let f = self.func_name();
                format!("{} = await {f}({})", self.fresh(), self.var())
            }
            16 if self.cx.chance(40) => {
                let exc = self.cx.pick(EXCEPTIONS);
                format!("raise {exc}({})", self.fstring())
            }
            17 if self.typed => {
                let t = self.type_hint();
                let e = self.expr();
                format!("{}: {t} = {e}", self.fresh())
            }
            18 => format!("del {}[{}]", self.var(), self.var()),
            19 if self.in_func && self.cx.chance(50) => {
                let c = self.cond();
                format!("if {c}: return {}", self.cx.pick(LITERALS))
            }
            _ => {
                let f = self.func_name();
                format!("{f}({})", self.var())
            }
        };
        self.emit(level, line);
    }

    /// A dict, list or call spread over lines, black-style, of at most `left` lines (`left >= 3`).
    fn literal(&mut self, level: usize, left: usize) -> usize {
        let size = self.cx.range(3, left.min(7));
        let items = size - 2;
        let inner = level + 1;
        match self.cx.below(3) {
            0 => {
                let name = self.fresh();
                self.emit(level, format!("{name} = {{"));
                for noun in self.cx.sample(super::common::NOUNS, items) {
                    let value = self.short_expr();
                    self.emit(inner, format!("\"{noun}\": {value},"));
                }
                self.emit(level, "}");
            }
            1 => {
                let name = self.fresh_list();
                self.emit(level, format!("{name} = ["));
                for _ in 0..items {
                    let value = self.string();
                    self.emit(inner, format!("{value},"));
                }
                self.emit(level, "]");
            }
            _ => {
                let class = self.class_name();
                let head = if self.in_func && self.cx.chance(40) {
                    format!("return {class}(")
                } else {
                    format!("{} = {class}(", self.fresh())
                };
                self.emit(level, head);
                for noun in self.cx.sample(super::common::NOUNS, items) {
                    let value = self.short_expr();
                    self.emit(inner, format!("{noun}={value},"));
                }
                self.emit(level, ")");
            }
        }
        size
    }

    /// One compound statement of at most `left` lines (`left >= 2`); returns the lines used.
    fn compound(&mut self, level: usize, left: usize, depth: usize) -> usize {
        let cap = left.min(9 - 3 * depth);
        // (kind, minimum lines)
        let kinds: &[(u8, usize)] = &[(0, 2), (1, 2), (2, 2), (3, 3), (4, 4), (5, 4), (6, 6)];
        let fitting: Vec<(u8, usize)> = kinds.iter().copied().filter(|k| k.1 <= cap).collect();
        let (kind, min) = self.cx.pick(&fitting);
        let size = self.cx.range(min, cap.min(min + 4));
        let inner = level + 1;
        match kind {
            0 => {
                let c = self.cond();
                self.emit(level, format!("if {c}:"));
                self.stmts(inner, size - 1, depth + 1);
            }
            1 => {
                let (it, x) = if !self.lists.is_empty() && self.cx.chance(70) {
                    let i = self.cx.below(self.lists.len());
                    self.lists[i].clone()
                } else {
                    let noun = self.cx.noun();
                    (plural(noun), noun.to_string())
                };
                let head = match self.cx.below(5) {
                    0 => format!("for i, {x} in enumerate({it}):"),
                    1 => format!("for key, {x} in {it}.items():"),
                    2 => format!("for i in range({}):", self.cx.pick(NUMBERS)),
                    _ => format!("for {x} in {it}:"),
                };
                self.emit(level, &head);
                self.scope.push(if head.starts_with("for i in") {
                    "i".to_string()
                } else {
                    x
                });
                let was = std::mem::replace(&mut self.in_loop, true);
                self.stmts(inner, size - 1, depth + 1);
                self.in_loop = was;
            }
            2 => {
                let (head, alias) = match self.cx.below(4) {
                    0 => (format!("with open({}) as fh:", self.var()), "fh"),
                    1 => ("with self._lock:".to_string(), ""),
                    2 => (format!("with {}.session() as conn:", self.var()), "conn"),
                    _ => ("with suppress(KeyError):".to_string(), ""),
                };
                let head = if head.contains("self.") && !self.in_method {
                    "with lock:".to_string()
                } else {
                    head
                };
                self.emit(level, head);
                if !alias.is_empty() {
                    self.scope.push(alias.to_string());
                }
                self.stmts(inner, size - 1, depth + 1);
            }
            3 => {
                let counter = self.fresh();
                let bound = self.var();
                self.emit(level, format!("while {counter} < {bound}:"));
                let was = std::mem::replace(&mut self.in_loop, true);
                self.stmts(inner, size - 2, depth + 1);
                self.in_loop = was;
                self.emit(inner, format!("{counter} += 1"));
            }
            4 => {
                let c = self.cond();
                self.emit(level, format!("if {c}:"));
                let a = self.cx.range(1, size - 3);
                self.stmts(inner, a, depth + 1);
                self.emit(level, "else:");
                self.stmts(inner, size - 2 - a, depth + 1);
            }
            5 => {
                self.emit(level, "try:");
                let with_finally = size >= 6 && self.cx.chance(30);
                let body = size - 2 - if with_finally { 2 } else { 0 };
                let a = self.cx.range(1, body - 1);
                self.stmts(inner, a, depth + 1);
                let exc = self.cx.pick(EXCEPTIONS);
                let head = match self.cx.below(3) {
                    0 => format!("except {exc}:"),
                    1 => format!("except ({exc}, {}) as exc:", self.cx.pick(EXCEPTIONS)),
                    _ => format!("except {exc} as exc:"),
                };
                self.emit(level, head);
                self.stmts(inner, body - a, depth + 1);
                if with_finally {
                    self.emit(level, "finally:");
                    let v = self.var();
                    self.emit(inner, format!("{v}.close()"));
                }
            }
            _ => {
                let body = size - 3;
                let a = self.cx.range(1, body - 2);
                let b = self.cx.range(1, body - a - 1);
                let c = self.cond();
                self.emit(level, format!("if {c}:"));
                self.stmts(inner, a, depth + 1);
                let c = self.cond();
                self.emit(level, format!("elif {c}:"));
                self.stmts(inner, b, depth + 1);
                self.emit(level, "else:");
                self.stmts(inner, body - a - b, depth + 1);
            }
        }
        size
    }

    // ---- definitions -------------------------------------------------------------------------------

    fn params(&mut self, count: usize) -> (Vec<String>, String) {
        let mut names: Vec<String> = Vec::new();
        let mut parts = Vec::new();
        let first_default = self.cx.range(count.saturating_sub(1), count);
        for i in 0..count {
            let words = self.cx.var_words();
            let name = snake(&words);
            if names.contains(&name) {
                continue;
            }
            let hint = self.type_hint();
            if i >= first_default {
                let default = match hint.as_str() {
                    "int" => self.cx.pick(NUMBERS).to_string(),
                    "bool" => self.cx.pick(&["True", "False"]).to_string(),
                    "str" => self.string(),
                    "float" => "0.0".to_string(),
                    _ => "None".to_string(),
                };
                if self.typed {
                    parts.push(format!("{name}: {hint} = {default}"));
                } else {
                    parts.push(format!("{name}={default}"));
                }
            } else if self.typed {
                parts.push(format!("{name}: {hint}"));
            } else {
                parts.push(name.clone());
            }
            names.push(name);
        }
        (names, parts.join(", "))
    }

    /// A function (or method, at `level` 1) of exactly `size` lines (`size >= 2`).
    fn function(&mut self, level: usize, size: usize, method: bool) {
        let mut left = size;
        let saved_scope = std::mem::take(&mut self.scope);
        let mut receiver = if method { Some("self") } else { None };
        let mut property = false;
        if left >= 3 && self.cx.chance(22) {
            let deco = if method {
                self.cx.pick(&[
                    "@property",
                    "@staticmethod",
                    "@classmethod",
                    "@lru_cache(maxsize=None)",
                ])
            } else {
                self.cx.pick(&[
                    "@lru_cache(maxsize=128)",
                    "@cache",
                    "@pytest.fixture",
                    "@retry(times=3)",
                    "@contextmanager",
                    "@timed",
                ])
            };
            match deco {
                "@property" => property = true,
                "@staticmethod" => receiver = None,
                "@classmethod" => receiver = Some("cls"),
                _ => {}
            }
            self.emit(level, deco);
            left -= 1;
        }
        let name = if property {
            let words = self.cx.var_words();
            snake(&words)
        } else {
            let (verb, noun) = (self.cx.verb(), self.cx.noun());
            // Methods often get by with a bare verb: the class supplies the noun.
            let name = if method && self.cx.chance(35) {
                verb.to_string()
            } else {
                snake(&[verb, noun])
            };
            if method && self.cx.chance(15) {
                format!("_{name}")
            } else {
                name
            }
        };
        let count = if property {
            0
        } else {
            self.cx.pick(&[0, 1, 1, 1, 2, 2, 3])
        };
        let (names, params) = self.params(count);
        let params = match (receiver, params.is_empty()) {
            (Some(r), true) => r.to_string(),
            (Some(r), false) => format!("{r}, {params}"),
            (None, _) => params,
        };
        let returns = property || self.cx.chance(78);
        let ret = if returns {
            self.type_hint()
        } else {
            "None".to_string()
        };
        let is_async = !property && self.cx.chance(8);
        let def = if is_async { "async def" } else { "def" };
        let arrow = if self.typed {
            format!(" -> {ret}")
        } else {
            String::new()
        };
        self.emit(level, format!("{def} {name}({params}){arrow}:"));
        left -= 1;
        if left >= 2 && self.cx.chance(30) {
            let doc = self.cx.doc();
            self.emit(level + 1, format!("\"\"\"{doc}\"\"\""));
            left -= 1;
        }
        self.scope = names;
        let saved_lists = std::mem::take(&mut self.lists);
        let saved_flags = (self.in_func, self.in_async, self.in_loop);
        (self.in_func, self.in_async, self.in_loop) = (true, is_async, false);
        if returns {
            // A blank line often sets the result apart from the work before it.
            if left >= 4 && self.cx.chance(50) {
                self.stmts(level + 1, left - 2, 0);
                self.blank();
            } else {
                self.stmts(level + 1, left - 1, 0);
            }
            let e = self.value_of(&ret);
            self.emit(level + 1, format!("return {e}"));
        } else {
            self.stmts(level + 1, left, 0);
        }
        (self.in_func, self.in_async, self.in_loop) = saved_flags;
        self.scope = saved_scope;
        self.lists = saved_lists;
        if !method {
            self.funcs.push(name);
        }
    }

    /// Exactly `n` lines of methods separated by blank lines (`n >= 2`).
    fn methods(&mut self, n: usize, allow_init: bool) {
        let sizes = self.cx.split(n, 1, 2, 10);
        for (i, size) in sizes.into_iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            if i == 0 && allow_init && self.cx.chance(60) {
                self.init_method(size);
            } else if size == 2 && self.cx.chance(40) {
                self.dunder(size);
            } else {
                self.function(1, size, true);
            }
        }
    }

    /// `__init__` storing its parameters, exactly `size` lines.
    fn init_method(&mut self, size: usize) {
        let count = self.cx.range(1, (size - 1).min(3));
        let (names, params) = self.params(count);
        let arrow = if self.typed { " -> None" } else { "" };
        self.emit(1, format!("def __init__(self, {params}){arrow}:"));
        let mut left = size - 1;
        for name in &names {
            if left == 0 {
                break;
            }
            self.emit(2, format!("self.{name} = {name}"));
            self.fields.push(name.clone());
            left -= 1;
        }
        for _ in 0..left {
            let words = self.cx.var_words();
            let field = snake(&words);
            let t = self.type_hint();
            let init = empty_value(&t);
            if self.typed {
                self.emit(2, format!("self._{field}: {t} = {init}"));
            } else {
                self.emit(2, format!("self._{field} = {init}"));
            }
            self.fields.push(format!("_{field}"));
        }
    }

    /// A two-line special method.
    fn dunder(&mut self, size: usize) {
        debug_assert_eq!(size, 2);
        let field = if self.fields.is_empty() {
            "items".to_string()
        } else {
            let i = self.cx.below(self.fields.len());
            self.fields[i].clone()
        };
        match self.cx.below(3) {
            0 => {
                self.emit(1, "def __len__(self) -> int:");
                self.emit(2, format!("return len(self.{field})"));
            }
            1 => {
                self.emit(1, "def __repr__(self) -> str:");
                self.emit(2, format!("return f\"<{{self.{field}!r}}>\""));
            }
            _ => {
                self.emit(1, "def __bool__(self) -> bool:");
                self.emit(2, format!("return bool(self.{field})"));
            }
        }
    }

    fn attribute_line(&mut self) -> String {
        let words = self.cx.var_words();
        let name = snake(&words);
        let t = self.type_hint();
        let line = match t.as_str() {
            "int" => format!("{name}: int = {}", self.cx.pick(NUMBERS)),
            "str" => format!("{name}: str = {}", self.string()),
            "bool" => format!("{name}: bool = False"),
            _ if t.starts_with("list") => {
                format!("{name}: {t} = field(default_factory=list)")
            }
            _ => format!("{name}: {t}"),
        };
        self.fields.push(name);
        line
    }

    fn class(&mut self, size: usize) {
        let name = self.cx.type_name();
        let base = if !self.classes.is_empty() && self.cx.chance(30) {
            let b = self.class_name();
            format!("({b})")
        } else if self.cx.chance(20) {
            self.cx
                .pick(&["(ABC)", "(Protocol)", "(object)"])
                .to_string()
        } else {
            String::new()
        };
        self.emit(0, format!("class {name}{base}:"));
        self.fields.clear();
        self.in_method = true;
        let mut left = size - 1;
        if left >= 2 && self.cx.chance(50) {
            let doc = self.cx.doc();
            self.emit(1, format!("\"\"\"{doc}\"\"\""));
            left -= 1;
        }
        if left <= 2 {
            for _ in 0..left {
                let line = self.attribute_line();
                self.emit(1, line);
            }
        } else {
            if left >= 6 && self.cx.chance(40) {
                let attrs = self.cx.range(1, 2);
                for _ in 0..attrs {
                    let line = self.attribute_line();
                    self.emit(1, line);
                }
                self.blank();
                left -= attrs + 1;
            }
            self.methods(left, true);
        }
        self.in_method = false;
        self.classes.push(name);
    }

    fn dataclass(&mut self, size: usize) {
        let deco = self
            .cx
            .pick(&["@dataclass", "@dataclass(frozen=True)", "@dataclass"]);
        self.emit(0, deco);
        let name = self.cx.type_name();
        self.emit(0, format!("class {name}:"));
        self.fields.clear();
        self.in_method = true;
        let left = size - 2;
        let count = if left <= 6 {
            left
        } else {
            self.cx.range(2, 5.min(left - 3))
        };
        for _ in 0..count {
            let line = self.attribute_line();
            self.emit(1, line);
        }
        if left > count {
            self.blank();
            self.methods(left - count - 1, false);
        }
        self.in_method = false;
        self.classes.push(name);
    }

    fn enum_class(&mut self, size: usize) {
        let name = pascal(&[self.cx.noun()]) + self.cx.pick(&["Kind", "State", "Mode", "Level"]);
        let base = self.cx.pick(&["Enum", "str, Enum", "IntEnum"]);
        self.emit(0, format!("class {name}({base}):"));
        self.fields.clear();
        self.in_method = true;
        let left = size - 1;
        let count = if left <= 7 {
            left
        } else {
            self.cx.range(2, 5.min(left - 3))
        };
        let members = self.cx.sample(super::common::NOUNS, count);
        for (i, member) in members.into_iter().enumerate() {
            let value = if base == "str, Enum" {
                format!("\"{member}\"")
            } else {
                (i + 1).to_string()
            };
            self.emit(1, format!("{} = {value}", upper(&[member])));
        }
        if left > count {
            self.blank();
            self.methods(left - count - 1, false);
        }
        self.in_method = false;
        self.classes.push(name);
    }

    fn exception_class(&mut self, size: usize) {
        let name = pascal(&[self.cx.noun()]) + "Error";
        let base = self.cx.pick(&["Exception", "ValueError", "RuntimeError"]);
        self.emit(0, format!("class {name}({base}):"));
        if size == 3 {
            let doc = self.cx.doc();
            self.emit(1, format!("\"\"\"{doc}\"\"\""));
        }
        self.emit(1, "pass");
        self.classes.push(name);
    }

    fn constants(&mut self, n: usize) {
        for _ in 0..n {
            let words = [self.cx.adj(), self.cx.noun()];
            let name = if self.cx.chance(50) {
                upper(&words[1..])
            } else {
                upper(&words)
            };
            let line = match self.cx.below(9) {
                0 => "logger = logging.getLogger(__name__)".to_string(),
                1 => format!("{name}_PATTERN = re.compile(r\"^[a-z_]+\\d*$\")"),
                2 => {
                    let a = self.func_name();
                    format!("__all__ = [\"{a}\"]")
                }
                3 => {
                    let t = self.class_name();
                    format!("{}Map = dict[str, \"{t}\"]", pascal(&[self.cx.noun()]))
                }
                4 => format!(
                    "{name} = {{\"{}\": {}, \"{}\": {}}}",
                    self.cx.noun(),
                    self.cx.pick(NUMBERS),
                    self.cx.noun(),
                    self.cx.pick(NUMBERS)
                ),
                5 => format!("{name} = {}", self.string()),
                6 => format!("{name} = ({}, {})", self.string(), self.string()),
                7 => format!("{name} = {}.{}", self.cx.pick(NUMBERS), self.cx.range(0, 9)),
                _ => format!("{name} = {}", self.cx.pick(NUMBERS)),
            };
            self.emit(0, line);
        }
    }

    fn main_guard(&mut self, size: usize) {
        self.emit(0, "if __name__ == \"__main__\":");
        for i in 0..size - 1 {
            let last = i + 2 == size;
            let line = match (i, self.cx.below(4)) {
                (0, 0) => "logging.basicConfig(level=logging.INFO)".to_string(),
                (_, 1) if last => "sys.exit(main())".to_string(),
                _ => {
                    let f = self.func_name();
                    format!("{f}(sys.argv[1:])")
                }
            };
            self.emit(1, line);
        }
    }
}
