//! TypeScript modules for the built-in corpus: imports, constants, type aliases, interfaces, enums,
//! classes, functions and arrow functions, with statements nested at most two levels deep.

use super::common::{camel, indent, pascal, plural, upper, Ctx, NOUNS};
use super::Body;

const IMPORTS: &[&str] = &[
    "import * as path from \"path\";",
    "import { EventEmitter } from \"events\";",
    "import { readFile } from \"fs\";",
    "import type { Logger } from \"./log\";",
    "import { assert } from \"./util\";",
    "import config from \"./config\";",
];

/// Repeats make the primitive types more likely, as in real code.
const TYPES: &[&str] = &[
    "number",
    "number",
    "number",
    "string",
    "string",
    "string",
    "boolean",
    "boolean",
    "string[]",
    "number[]",
    "Date",
    "Record<string, number>",
    "Map<string, number>",
    "Set<string>",
    "unknown",
];

const NUMBERS: &[&str] = &["0", "1", "2", "3", "8", "10", "60", "100", "1000", "0.5"];

const LITERALS: &[&str] = &[
    "0",
    "1",
    "\"\"",
    "null",
    "undefined",
    "[]",
    "{}",
    "false",
    "true",
];

/// Generates the body of a TypeScript module with exactly `n` lines (`n >= 4`).
pub(super) fn module(cx: Ctx, n: usize) -> Body {
    let mut ts = Ts {
        cx,
        out: Vec::with_capacity(n),
        fns: Vec::new(),
        types: Vec::new(),
        enums: Vec::new(),
        classes: Vec::new(),
        fields: Vec::new(),
        scope: Vec::new(),
        lists: Vec::new(),
        ret: String::new(),
        in_loop: false,
        in_method: false,
        in_async: false,
        no_decl: false,
    };
    ts.module(n);
    debug_assert_eq!(ts.out.len(), n);
    let jsdoc = ts.cx.chance(40);
    Body {
        lines: ts.out,
        flex_prefix: if jsdoc { "/** " } else { "// " },
        flex_suffix: if jsdoc { ". */" } else { "." },
    }
}

struct Ts {
    cx: Ctx,
    out: Vec<String>,
    fns: Vec<String>,
    /// Interfaces and type aliases with their fields.
    types: Vec<(String, Vec<String>)>,
    /// Enums with their members.
    enums: Vec<(String, Vec<String>)>,
    classes: Vec<String>,
    /// Fields reachable through `this` in the class being written.
    fields: Vec<String>,
    scope: Vec<String>,
    /// Array-valued locals as (plural, singular).
    lists: Vec<(String, String)>,
    /// Return type of the function being written (`void` or empty for none).
    ret: String,
    in_loop: bool,
    in_method: bool,
    in_async: bool,
    /// Inside a `case` clause, where declarations would leak into the whole `switch`.
    no_decl: bool,
}

impl Ts {
    fn emit(&mut self, level: usize, text: impl AsRef<str>) {
        let line = indent(level, 2) + text.as_ref();
        self.out.push(line);
    }

    fn blank(&mut self) {
        self.out.push(String::new());
    }

    fn module(&mut self, n: usize) {
        let k = self.cx.range(0, ((n - 2) / 8).min(2));
        let mut left = n;
        if k > 0 {
            for i in 0..k {
                let line = match (i, self.cx.below(3)) {
                    (0, 0) => {
                        let (verb, noun) = (self.cx.verb(), self.cx.noun());
                        let (a, b) = (camel(&[verb, noun]), camel(&["is", noun]));
                        self.fns.push(a.clone());
                        format!("import {{ {a}, {b} }} from \"./{noun}\";")
                    }
                    (_, 1) => {
                        let t = self.cx.type_name();
                        format!("import type {{ {t} }} from \"./{}\";", self.cx.noun())
                    }
                    _ => self.cx.pick(IMPORTS).to_string(),
                };
                if !self.out.contains(&line) {
                    self.emit(0, line);
                } else {
                    let t = pascal(&[self.cx.noun()]) + "Client";
                    self.emit(0, format!("import {{ {t} }} from \"./clients\";"));
                }
            }
            self.blank();
            left -= k + 1;
        }
        let blocks = self.cx.split(left, 1, 1, 12);
        for (i, size) in blocks.into_iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            self.item(size);
        }
    }

    fn item(&mut self, size: usize) {
        match size {
            1 => return self.one_liner(),
            2 => {
                if self.cx.chance(50) {
                    let doc = self.cx.doc();
                    self.emit(0, format!("/** {doc} */"));
                } else {
                    self.one_liner();
                }
                return self.one_liner();
            }
            _ => {}
        }
        let r = self.cx.below(100);
        if r < 20 {
            self.interface(size);
        } else if r < 28 {
            self.object_type(size);
        } else if r < 40 {
            self.enumeration(size);
        } else if r < 60 {
            self.class(size);
        } else if r < 82 {
            self.function(size, false);
        } else if r < 88 {
            self.function(size, true);
        } else {
            self.const_object(size);
        }
    }

    // ---- names and expressions -------------------------------------------------------------------

    fn fn_name(&mut self) -> String {
        if !self.fns.is_empty() && self.cx.chance(50) {
            let i = self.cx.below(self.fns.len());
            return self.fns[i].clone();
        }
        let (verb, noun) = (self.cx.verb(), self.cx.noun());
        camel(&[verb, noun])
    }

    fn type_name(&mut self) -> String {
        if !self.types.is_empty() && self.cx.chance(60) {
            let i = self.cx.below(self.types.len());
            return self.types[i].0.clone();
        }
        self.cx.type_name()
    }

    fn type_ref(&mut self) -> String {
        match self.cx.below(12) {
            0 => self.type_name(),
            1 => format!("{}[]", self.type_name()),
            _ => self.cx.pick(TYPES).to_string(),
        }
    }

    fn field(&mut self) -> String {
        if !self.fields.is_empty() && self.cx.chance(70) {
            let i = self.cx.below(self.fields.len());
            return self.fields[i].clone();
        }
        self.cx.noun().to_string()
    }

    fn var(&mut self) -> String {
        if self.in_method && !self.fields.is_empty() && self.cx.chance(25) {
            let i = self.cx.below(self.fields.len());
            return format!("this.{}", self.fields[i]);
        }
        if !self.scope.is_empty() && self.cx.chance(85) {
            let i = self.cx.below(self.scope.len());
            return self.scope[i].clone();
        }
        let words = self.cx.var_words();
        camel(&words)
    }

    fn list(&mut self) -> (String, String) {
        if !self.lists.is_empty() && self.cx.chance(70) {
            let i = self.cx.below(self.lists.len());
            return self.lists[i].clone();
        }
        let noun = self.cx.noun();
        (plural(noun), noun.to_string())
    }

    /// A collection and a callback parameter for it, usually just its initial (`(u) => u.name`), as
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

    /// A new local; a name already in scope is avoided, since `const` cannot be redeclared.
    fn fresh(&mut self) -> Option<String> {
        for _ in 0..4 {
            let words = self.cx.var_words();
            let name = camel(&words);
            if !self.scope.contains(&name) {
                self.scope.push(name.clone());
                return Some(name);
            }
        }
        None
    }

    fn fresh_list(&mut self) -> Option<String> {
        let noun = self.cx.noun();
        let name = plural(noun);
        if self.scope.contains(&name) {
            return None;
        }
        self.scope.push(name.clone());
        self.lists.push((name.clone(), noun.to_string()));
        Some(name)
    }

    fn template(&mut self) -> String {
        let v = self.var();
        match self.cx.below(3) {
            0 => format!("`${{{v}}}: ${{{}}}`", self.var()),
            1 => format!("`{} ${{{v}}} not found`", self.cx.noun()),
            _ => format!("`/{}/${{{v}}}`", plural(self.cx.noun())),
        }
    }

    fn expr(&mut self) -> String {
        if self.cx.chance(70) {
            return self.short_expr();
        }
        let v = self.var();
        match self.cx.below(20) {
            0 => v,
            1 => format!("{v}.length"),
            2 | 3 => format!("{}({v})", self.fn_name()),
            4 => format!("{v}.{}", self.field()),
            5 => self.cx.pick(NUMBERS).to_string(),
            6 => format!("\"{}\"", self.cx.noun()),
            7 => self.template(),
            8 => "new Map<string, number>()".to_string(),
            9 => format!("{v} ?? {}", self.cx.pick(LITERALS)),
            10 => format!("{v} * {}", self.cx.pick(NUMBERS)),
            11 => format!("Math.max({v}, {})", self.cx.pick(NUMBERS)),
            12 => format!("{v}.toString()"),
            13 => format!("Object.keys({v})"),
            14 => format!("{v}.slice(1)"),
            15 => {
                let c = self.cond();
                format!("{c} ? {v} : {}", self.cx.pick(LITERALS))
            }
            16 => format!("JSON.stringify({v})"),
            17 if !self.enums.is_empty() => {
                let i = self.cx.below(self.enums.len());
                let (name, members) = &self.enums[i];
                let m = members[self.cx.below(members.len())].clone();
                format!("{name}.{m}")
            }
            18 if !self.classes.is_empty() => {
                let i = self.cx.below(self.classes.len());
                format!("new {}()", self.classes[i])
            }
            _ => format!("{v}?.{}", self.field()),
        }
    }

    fn cond(&mut self) -> String {
        let v = self.var();
        match self.cx.below(10) {
            0 => format!("{v} > {}", self.cx.pick(NUMBERS)),
            1 => format!("{v}.length === 0"),
            2 => format!("!{v}"),
            3 => format!("{v} === \"{}\"", self.cx.noun()),
            4 => format!("{v} !== undefined"),
            5 => format!("{v}.has({})", self.var()),
            6 => format!("typeof {v} === \"string\""),
            7 => format!("Array.isArray({v})"),
            8 => format!("{v} && {}", self.var()),
            _ => format!("{v}.includes({})", self.var()),
        }
    }

    /// A returned expression plausible for the current return type.
    fn tail(&mut self) -> String {
        let ret = self.ret.clone();
        let inner = ret
            .strip_prefix("Promise<")
            .and_then(|r| r.strip_suffix('>'))
            .unwrap_or(&ret);
        let v = self.var();
        match inner {
            "number" => match self.cx.below(3) {
                0 => format!("{v}.length"),
                1 => format!("{v} + 1"),
                _ => v,
            },
            "string" => match self.cx.below(2) {
                0 => self.template(),
                _ => format!("{v}.trim()"),
            },
            "boolean" => self.cond(),
            "T | undefined" => "items[0]".to_string(),
            _ if inner.ends_with("[]") => {
                let (list, x) = self.closure_list();
                format!("{list}.filter(({x}) => {x}.{} > 0)", self.field())
            }
            _ if inner.ends_with("| undefined") => {
                let (list, x) = self.closure_list();
                format!("{list}.find(({x}) => {x}.{} === {v})", self.field())
            }
            _ => v,
        }
    }

    /// `return x;` for the current function, or a bare `return;`.
    fn return_stmt(&mut self) -> String {
        if self.ret.is_empty() || self.ret == "void" || self.ret == "Promise<void>" {
            "return;".to_string()
        } else {
            format!("return {};", self.tail())
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

    /// An object literal, array or call chain spread over lines, prettier-style, of at most `left`
    /// lines (`left >= 3`).
    fn literal(&mut self, level: usize, left: usize) -> usize {
        let size = self.cx.range(3, left.min(7));
        let inner = level + 1;
        let kind = if self.no_decl { 0 } else { self.cx.below(3) };
        match kind {
            0 => {
                let returns =
                    !(self.ret.is_empty() || self.ret.ends_with("void>") || self.ret == "void");
                let head = if self.no_decl {
                    format!("{}({{", self.fn_name())
                } else if returns && self.cx.chance(40) {
                    "return {".to_string()
                } else {
                    match self.fresh() {
                        Some(v) => format!("const {v} = {{"),
                        None => format!("{}({{", self.fn_name()),
                    }
                };
                let close = if head.ends_with("({") { "});" } else { "};" };
                self.emit(level, &head);
                for key in self.cx.sample(NOUNS, size - 2) {
                    if self.scope.iter().any(|s| s == key) {
                        self.emit(inner, format!("{key},"));
                    } else {
                        let value = self.short_expr();
                        self.emit(inner, format!("{key}: {value},"));
                    }
                }
                self.emit(level, close);
            }
            1 => {
                let head = match self.fresh_list() {
                    Some(name) => format!("const {name} = ["),
                    None => format!("{}([", self.fn_name()),
                };
                let close = if head.ends_with("([") { "]);" } else { "];" };
                self.emit(level, &head);
                for _ in 0..size - 2 {
                    let value = format!("\"{}\"", self.cx.noun());
                    self.emit(inner, format!("{value},"));
                }
                self.emit(level, close);
            }
            _ => {
                let (list, x) = self.closure_list();
                let head = match self.fresh_list() {
                    Some(name) => format!("const {name} = {list}"),
                    None => list.clone(),
                };
                self.emit(level, head);
                for i in 0..size - 1 {
                    let f = self.field();
                    let mut step = match self.cx.below(4) {
                        0 => format!(".filter(({x}) => {x}.{f})"),
                        1 => format!(".map(({x}) => {x}.{f})"),
                        2 => format!(".slice(0, {})", self.cx.pick(NUMBERS)),
                        _ => ".reverse()".to_string(),
                    };
                    if i + 2 == size {
                        step.push(';');
                    }
                    self.emit(inner, step);
                }
            }
        }
        size
    }

    fn short_expr(&mut self) -> String {
        let v = self.var();
        match self.cx.below(8) {
            0 | 1 => v,
            2 => format!("{v}.length"),
            3 => format!("{v} + 1"),
            4 => format!("{}({v})", self.fn_name()),
            5 => format!("\"{}\"", self.cx.noun()),
            6 => self.cx.pick(NUMBERS).to_string(),
            _ => format!("{v}.{}", self.field()),
        }
    }

    fn simple(&mut self, level: usize) {
        // Most statements are short: a binding, a bump, a call.
        if self.cx.chance(45) {
            let line = match self.cx.below(4) {
                0 | 1 if !self.no_decl => {
                    let e = self.short_expr();
                    match self.fresh() {
                        Some(v) => format!("const {v} = {e};"),
                        None => format!("{}({e});", self.fn_name()),
                    }
                }
                2 => format!("{}++;", self.var()),
                _ => format!("{}({});", self.fn_name(), self.var()),
            };
            return self.emit(level, line);
        }
        let kind = self.cx.below(24);
        // Declarations are replaced by plain calls where they would be out of place.
        let decl = matches!(kind, 0..=4 | 8..=11 | 19..=21);
        let line = if decl && self.no_decl {
            format!("{}({});", self.fn_name(), self.var())
        } else {
            self.simple_kind(kind)
        };
        self.emit(level, line);
    }

    fn simple_kind(&mut self, kind: usize) -> String {
        match kind {
            0..=3 => {
                let e = self.expr();
                match self.fresh() {
                    Some(v) => format!("const {v} = {e};"),
                    None => format!("{}({e});", self.fn_name()),
                }
            }
            4 => {
                let t = self.cx.pick(TYPES);
                let lit = match t {
                    "number" => self.cx.pick(NUMBERS),
                    "string" => "\"\"",
                    "boolean" => "false",
                    _ if t.ends_with("[]") => "[]",
                    "Date" => "new Date()",
                    "unknown" => "null",
                    _ => "{}",
                };
                let lit = if t.starts_with("Map") || t.starts_with("Set") {
                    format!("new {t}()")
                } else {
                    lit.to_string()
                };
                match self.fresh() {
                    Some(v) => format!("let {v}: {t} = {lit};"),
                    None => format!("{}({lit});", self.fn_name()),
                }
            }
            5 => format!("{} += {};", self.var(), self.cx.pick(NUMBERS)),
            6 => {
                let (list, _) = self.list();
                format!("{list}.push({});", self.expr())
            }
            7 => format!("console.log({});", self.template()),
            8 | 9 => {
                let (list, x) = self.closure_list();
                let f = self.field();
                let rhs = if kind == 8 {
                    format!("{list}.filter(({x}) => {x}.{f} > 0)")
                } else {
                    format!("{list}.map(({x}) => {x}.{f})")
                };
                match self.fresh_list() {
                    Some(v) => format!("const {v} = {rhs};"),
                    None => format!("{rhs};"),
                }
            }
            10 => {
                let (list, x) = self.closure_list();
                let f = self.field();
                match self.fresh() {
                    Some(v) => {
                        format!("const {v} = {list}.reduce((sum, {x}) => sum + {x}.{f}, 0);")
                    }
                    None => format!("{list}.sort((a, b) => a.{f} - b.{f});"),
                }
            }
            11 => {
                let nouns = self.cx.sample(NOUNS, 2);
                let src = self.var();
                let names: Vec<&str> = nouns
                    .into_iter()
                    .filter(|n| !self.scope.iter().any(|s| s == n))
                    .collect();
                if names.is_empty() {
                    format!("Object.freeze({src});")
                } else {
                    self.scope.extend(names.iter().map(|n| n.to_string()));
                    format!("const {{ {} }} = {src};", names.join(", "))
                }
            }
            12 => format!("{}.set({}, {});", self.var(), self.var(), self.expr()),
            13 => {
                let c = self.cond();
                if self.in_loop {
                    format!("if ({c}) continue;")
                } else {
                    format!("if ({c}) {}", self.return_stmt())
                }
            }
            14 if self.cx.chance(40) => {
                format!("throw new Error({});", self.template())
            }
            15 if self.in_method && !self.fields.is_empty() => {
                let i = self.cx.below(self.fields.len());
                let f = self.fields[i].clone();
                format!("this.{f} = {};", self.expr())
            }
            16 if self.in_async => format!("await {}({});", self.fn_name(), self.var()),
            17 => format!("{}++;", self.var()),
            19 => {
                let (list, _) = self.list();
                if self.scope.iter().any(|s| s == "first" || s == "rest") {
                    format!("{list}.reverse();")
                } else {
                    self.scope.push("first".to_string());
                    self.scope.push("rest".to_string());
                    format!("const [first, ...rest] = {list};")
                }
            }
            20 => {
                let e = format!("{} ?? {}", self.var(), self.cx.pick(LITERALS));
                match self.fresh() {
                    Some(v) => format!("const {v} = {e};"),
                    None => format!("{e};"),
                }
            }
            21 if self.in_async => {
                let f = self.fn_name();
                let a = self.var();
                match self.fresh() {
                    Some(v) => format!("const {v} = await {f}({a});"),
                    None => format!("await {f}({a});"),
                }
            }
            _ => format!("{}({});", self.fn_name(), self.var()),
        }
    }

    fn compound(&mut self, level: usize, left: usize, depth: usize) -> usize {
        let cap = left.min(10 - 4 * depth);
        // (kind, minimum lines)
        let kinds: &[(u8, usize)] = &[
            (0, 3),
            (1, 3),
            (2, 3),
            (3, 4),
            (4, 5),
            (5, 5),
            (5, 5),
            (6, 5),
        ];
        let fitting: Vec<(u8, usize)> = kinds.iter().copied().filter(|k| k.1 <= cap).collect();
        let (kind, min) = self.cx.pick(&fitting);
        let size = self.cx.range(min, cap.min(min + 4));
        let inner = level + 1;
        let d = depth + 1;
        match kind {
            0 => {
                let c = self.cond();
                self.emit(level, format!("if ({c}) {{"));
                self.stmts(inner, size - 2, d);
                self.emit(level, "}");
            }
            1 => {
                let (list, x) = self.list();
                self.emit(level, format!("for (const {x} of {list}) {{"));
                self.scope.push(x);
                self.loop_body(inner, size - 2, d);
                self.emit(level, "}");
            }
            2 => {
                let (list, _) = self.list();
                self.emit(level, format!("for (let i = 0; i < {list}.length; i++) {{"));
                self.scope.push("i".to_string());
                self.loop_body(inner, size - 2, d);
                self.emit(level, "}");
            }
            3 => {
                let v = self.var();
                let bound = self.cx.pick(NUMBERS);
                self.emit(level, format!("while ({v} < {bound}) {{"));
                self.loop_body(inner, size - 3, d);
                self.emit(inner, format!("{v}++;"));
                self.emit(level, "}");
            }
            4 => {
                let c = self.cond();
                self.emit(level, format!("if ({c}) {{"));
                let a = self.cx.range(1, size - 4);
                self.stmts(inner, a, d);
                if size - 3 - a >= 3 && self.cx.chance(40) {
                    let c = self.cond();
                    self.emit(level, format!("}} else if ({c}) {{"));
                    let b = self.cx.range(1, size - 5 - a);
                    self.stmts(inner, b, d);
                    self.emit(level, "} else {");
                    self.stmts(inner, size - 4 - a - b, d);
                } else {
                    self.emit(level, "} else {");
                    self.stmts(inner, size - 3 - a, d);
                }
                self.emit(level, "}");
            }
            5 => self.switch(level, size, d),
            _ => {
                self.emit(level, "try {");
                let with_finally = size >= 7 && self.cx.chance(30);
                let body = size - 3 - if with_finally { 2 } else { 0 };
                let a = self.cx.range(1, body - 1);
                self.stmts(inner, a, d);
                self.emit(level, "} catch (err) {");
                self.scope.push("err".to_string());
                self.stmts(inner, body - a, d);
                if with_finally {
                    self.emit(level, "} finally {");
                    let v = self.var();
                    self.emit(inner, format!("{v}.close();"));
                }
                self.emit(level, "}");
            }
        }
        size
    }

    fn loop_body(&mut self, level: usize, n: usize, depth: usize) {
        let was = std::mem::replace(&mut self.in_loop, true);
        self.stmts(level, n, depth);
        self.in_loop = was;
    }

    /// A `switch` of exactly `size` lines (`size >= 5`): case groups, then a two-line `default`.
    fn switch(&mut self, level: usize, size: usize, depth: usize) {
        let v = self.var();
        // Three labels always suffice: `size` is at most 10, and every label but the last takes 2+ lines.
        let enums: Vec<usize> = (0..self.enums.len())
            .filter(|&i| self.enums[i].1.len() >= 3)
            .collect();
        let labels: Vec<String> = if !enums.is_empty() && self.cx.chance(50) {
            let i = self.cx.pick(&enums);
            let (name, members) = &self.enums[i];
            members.iter().map(|m| format!("{name}.{m}")).collect()
        } else {
            let words = self.cx.sample(NOUNS, 6);
            words.iter().map(|w| format!("\"{w}\"")).collect()
        };
        self.emit(level, format!("switch ({v}) {{"));
        let (case, body) = (level + 1, level + 2);
        let was = std::mem::replace(&mut self.no_decl, true);
        let mut left = size - 4;
        let mut next = 0;
        while left > 0 {
            // Past the last label, the remaining lines go to a case's body.
            let label = labels.get(next).cloned();
            next += 1;
            let s = match label {
                None => left,
                Some(_) if left == 1 => 1,
                Some(_) => self.cx.range(2, left.min(4)),
            };
            if let Some(label) = label {
                self.emit(case, format!("case {label}:"));
            } else {
                self.simple(body);
            }
            match s {
                1 => {}
                2 => {
                    let end = if self.cx.chance(50) {
                        self.return_stmt()
                    } else {
                        "break;".to_string()
                    };
                    self.emit(body, end);
                }
                _ => {
                    self.stmts(body, s - 2, depth + 1);
                    self.emit(body, "break;");
                }
            }
            left -= s;
        }
        self.emit(case, "default:");
        let end = match self.cx.below(3) {
            0 => format!("throw new Error({});", self.template()),
            1 => self.return_stmt(),
            _ => format!("{}({});", self.fn_name(), self.var()),
        };
        self.emit(body, end);
        self.no_decl = was;
        self.emit(level, "}");
    }

    // ---- items -------------------------------------------------------------------------------------

    fn one_liner(&mut self) {
        let noun = self.cx.noun();
        let line = match self.cx.below(20) {
            0..=8 => format!(
                "export const {} = {};",
                upper(&[self.cx.adj(), noun]),
                self.cx.pick(NUMBERS)
            ),
            9..=11 => format!("const {} = \"{}\";", upper(&[noun]), self.cx.noun()),
            12..=14 => format!("export type {}Id = string;", pascal(&[noun])),
            15 => {
                let states = self.cx.sample(NOUNS, 3);
                let name = pascal(&[noun]) + "Status";
                format!(
                    "export type {name} = \"{}\" | \"{}\" | \"{}\";",
                    states[0], states[1], states[2]
                )
            }
            16 => {
                let t = self.type_name();
                format!("type {}Handler = (event: {t}) => void;", pascal(&[noun]))
            }
            17 => {
                let t = self.type_name();
                format!("const {noun}Cache = new Map<string, {t}>();")
            }
            18 => {
                let name = self.fn_name();
                self.fns.push(name.clone());
                format!(
                    "export const {name} = (n: number) => n * {};",
                    self.cx.pick(NUMBERS)
                )
            }
            _ => {
                let name = camel(&["is", self.cx.adj(), noun]);
                self.fns.push(name.clone());
                format!("export const {name} = (s: string) => s.length > 0;")
            }
        };
        self.emit(0, line);
    }

    fn doc(&mut self, level: usize) {
        let doc = self.cx.doc();
        self.emit(level, format!("/** {doc} */"));
    }

    /// Member lines shared by interfaces and object types; records the field names.
    fn member_lines(&mut self, n: usize) -> Vec<String> {
        let names = self.cx.sample(NOUNS, n);
        let mut lines = Vec::new();
        for name in names {
            let t = self.type_ref();
            let line = match self.cx.below(6) {
                0 => format!("{name}?: {t};"),
                1 => format!("readonly {name}: {t};"),
                2 => {
                    let verb = self.cx.verb();
                    let r = self.type_ref();
                    format!("{}({name}: {t}): {r};", camel(&[verb, name]))
                }
                _ => format!("{name}: {t};"),
            };
            lines.push(line);
        }
        lines
    }

    fn interface(&mut self, size: usize) {
        let mut left = size;
        if left >= 4 && self.cx.chance(35) {
            self.doc(0);
            left -= 1;
        }
        let name = self.cx.type_name();
        let head = match self.cx.below(5) {
            0 => format!("export interface {name}<T> {{"),
            1 if !self.types.is_empty() => {
                let base = self.type_name();
                format!("interface {name} extends {base} {{")
            }
            _ => format!("export interface {name} {{"),
        };
        self.emit(0, head);
        self.type_body(name, left - 2, "}");
    }

    fn object_type(&mut self, size: usize) {
        let name = self.cx.type_name();
        self.emit(0, format!("export type {name} = {{"));
        self.type_body(name, size - 2, "};");
    }

    /// The `members` member lines and `close` of an interface or object type whose head is written, and
    /// the type recorded (with made-up fields) for later code to use.
    fn type_body(&mut self, name: String, members: usize, close: &str) {
        for line in self.member_lines(members) {
            self.emit(1, line);
        }
        self.emit(0, close);
        let fields = self
            .cx
            .sample(NOUNS, 3)
            .iter()
            .map(|s| s.to_string())
            .collect();
        self.types.push((name, fields));
    }

    fn enumeration(&mut self, size: usize) {
        let name = pascal(&[self.cx.noun()]) + self.cx.pick(&["Kind", "State", "Mode", "Level"]);
        let head = if self.cx.chance(20) {
            format!("export const enum {name} {{")
        } else {
            format!("export enum {name} {{")
        };
        self.emit(0, head);
        let style = self.cx.below(3);
        let nouns = self.cx.sample(NOUNS, size - 2);
        let mut members = Vec::new();
        for (i, noun) in nouns.into_iter().enumerate() {
            let m = pascal(&[noun]);
            let line = match style {
                0 => format!("{m} = \"{noun}\","),
                1 => format!("{m} = {},", 1 << i.min(20)),
                _ => format!("{m},"),
            };
            self.emit(1, line);
            members.push(m);
        }
        self.emit(0, "}");
        self.enums.push((name, members));
    }

    fn const_object(&mut self, size: usize) {
        let name = upper(&[self.cx.noun(), "defaults"]);
        let nouns = self.cx.sample(NOUNS, size - 2);
        if self.cx.chance(50) {
            self.emit(
                0,
                format!("export const {name}: Record<string, number> = {{"),
            );
            for noun in nouns {
                let n = self.cx.pick(NUMBERS);
                self.emit(1, format!("{noun}: {n},"));
            }
            self.emit(0, "};");
        } else {
            let list = upper(&[self.cx.noun(), "names"]);
            self.emit(0, format!("const {list} = ["));
            for noun in nouns {
                self.emit(1, format!("\"{noun}\","));
            }
            self.emit(0, "] as const;");
        }
    }

    fn class(&mut self, size: usize) {
        let mut left = size;
        if left >= 4 && self.cx.chance(30) {
            self.doc(0);
            left -= 1;
        }
        let name = self.cx.type_name();
        let mut extends = false;
        let head = match self.cx.below(6) {
            0 if !self.classes.is_empty() => {
                extends = true;
                let i = self.cx.below(self.classes.len());
                format!("export class {name} extends {} {{", self.classes[i])
            }
            1 if !self.types.is_empty() => {
                let i = self.cx.below(self.types.len());
                format!("export class {name} implements {} {{", self.types[i].0)
            }
            2 => {
                extends = true;
                format!("export class {name} extends EventEmitter {{")
            }
            3 => format!("export class {name}<T> {{"),
            _ => format!("export class {name} {{"),
        };
        self.emit(0, head);
        self.fields.clear();
        let sizes = self.cx.split(left - 2, 1, 1, 12);
        for (i, s) in sizes.into_iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            if s <= 2 || (i == 0 && s <= 4 && self.cx.chance(50)) {
                for _ in 0..s {
                    self.field_line();
                }
            } else if i <= 1 && self.cx.chance(50) {
                self.constructor(s, extends);
            } else {
                self.method(s);
            }
        }
        self.emit(0, "}");
        self.fields.clear();
        self.classes.push(name);
    }

    fn field_line(&mut self) {
        let words = self.cx.var_words();
        let f = camel(&words);
        let line = match self.cx.below(6) {
            0 => {
                let t = self.type_ref();
                format!("private {f}: {t};")
            }
            4 => {
                let t = self.type_ref();
                format!("{f}: {t};")
            }
            1 => format!("{f} = {};", self.cx.pick(NUMBERS)),
            2 => {
                let t = self.type_name();
                format!("private {f}: {t}[] = [];")
            }
            3 if self.cx.chance(30) => {
                let t = self.type_name();
                format!(
                    "get {f}(): {t} | undefined {{ return this.{}; }}",
                    self.field()
                )
            }
            _ => format!("{f}?: string;"),
        };
        if !line.starts_with("get ") {
            self.fields.push(f);
        }
        self.emit(1, line);
    }

    fn constructor(&mut self, size: usize, extends: bool) {
        let count = self.cx.range(1, 3);
        let names = self.cx.sample(NOUNS, count);
        let params: Vec<String> = names
            .iter()
            .map(|n| {
                let t = self.type_ref();
                format!("{n}: {t}")
            })
            .collect();
        self.emit(1, format!("constructor({}) {{", params.join(", ")));
        let mut left = size - 2;
        if extends {
            self.emit(2, "super();");
            left -= 1;
        }
        for i in 0..left {
            let line = match names.get(i) {
                Some(n) => {
                    self.fields.push(n.to_string());
                    format!("this.{n} = {n};")
                }
                None => {
                    let f = self.field();
                    format!("this.{f} = {};", self.cx.pick(LITERALS))
                }
            };
            self.emit(2, line);
        }
        self.emit(1, "}");
    }

    fn params(&mut self) -> (Vec<String>, String) {
        let count = self.cx.pick(&[0, 1, 1, 1, 2]);
        let mut names: Vec<String> = Vec::new();
        let mut parts = Vec::new();
        for i in 0..count {
            let words = self.cx.var_words();
            let name = camel(&words);
            if names.contains(&name) {
                continue;
            }
            let t = self.type_ref();
            let default = match t.as_str() {
                "number" => Some(self.cx.pick(NUMBERS)),
                "string" => Some("\"\""),
                "boolean" => Some("false"),
                _ => None,
            };
            if let Some(default) = default.filter(|_| i + 1 == count && self.cx.chance(25)) {
                // The type is inferred from the default, as prettier-formatted code usually leaves it.
                parts.push(format!("{name} = {default}"));
            } else if i + 1 == count && self.cx.chance(15) {
                parts.push(format!("{name}?: {t}"));
            } else {
                parts.push(format!("{name}: {t}"));
            }
            names.push(name);
        }
        (names, parts.join(", "))
    }

    fn return_type(&mut self) -> String {
        match self.cx.below(10) {
            0 | 1 => "void".to_string(),
            2 | 3 => "number".to_string(),
            4 => "string".to_string(),
            5 => "boolean".to_string(),
            6 => format!("{}[]", self.type_name()),
            7 => format!("{} | undefined", self.type_name()),
            _ => self.cx.pick(TYPES).to_string(),
        }
    }

    /// The body of a function or method: exactly `n` lines at `level`, ending in a `return`.
    fn body(&mut self, level: usize, n: usize, names: Vec<String>, is_async: bool) {
        let saved_scope = std::mem::replace(&mut self.scope, names);
        let saved_lists = std::mem::take(&mut self.lists);
        self.in_async = is_async;
        let returns = self.ret != "void" && self.ret != "Promise<void>";
        if returns {
            // A blank line often sets the result apart from the work before it.
            if n >= 4 && self.cx.chance(50) {
                self.stmts(level, n - 2, 0);
                self.blank();
            } else {
                self.stmts(level, n - 1, 0);
            }
            let r = self.return_stmt();
            self.emit(level, r);
        } else {
            self.stmts(level, n, 0);
        }
        self.in_async = false;
        self.scope = saved_scope;
        self.lists = saved_lists;
    }

    /// A class method of exactly `size` lines (`size >= 3`).
    fn method(&mut self, size: usize) {
        let mut left = size;
        if left >= 4 && self.cx.chance(30) {
            self.doc(1);
            left -= 1;
        }
        let modifier = self
            .cx
            .pick(&["", "", "private ", "async ", "static ", "protected "]);
        let is_async = modifier == "async ";
        let (verb, noun) = (self.cx.verb(), self.cx.noun());
        // Methods often get by with a bare verb; `get` and `set` would read as accessors.
        let name = if self.cx.chance(35) && !matches!(verb, "get" | "set") {
            verb.to_string()
        } else {
            camel(&[verb, noun])
        };
        let (names, params) = self.params();
        let mut ret = self.return_type();
        if is_async {
            ret = format!("Promise<{ret}>");
        }
        self.emit(1, format!("{modifier}{name}({params}): {ret} {{"));
        self.ret = ret;
        self.in_method = modifier != "static ";
        self.body(2, left - 2, names, is_async);
        self.in_method = false;
        self.emit(1, "}");
    }

    /// A function declaration, or an arrow function bound to a `const`, of exactly `size` lines.
    fn function(&mut self, size: usize, arrow: bool) {
        let mut left = size;
        let generic = !arrow && self.cx.chance(12);
        if left >= 8 && self.cx.chance(30) {
            // A multi-line JSDoc block.
            let doc = self.cx.doc();
            self.emit(0, "/**");
            self.emit(0, format!(" * {doc}"));
            self.emit(0, " */");
            left -= 3;
        } else if left >= 4 && self.cx.chance(30) {
            self.doc(0);
            left -= 1;
        }
        let is_async = self.cx.chance(15);
        let (verb, noun) = (self.cx.verb(), self.cx.noun());
        let name = camel(&[verb, noun]);
        let (mut names, mut params) = self.params();
        let mut ret = self.return_type();
        let mut generics = "";
        if generic {
            generics = "<T>";
            params = if params.is_empty() {
                "items: T[]".to_string()
            } else {
                format!("items: T[], {params}")
            };
            names.push("items".to_string());
            ret = "T | undefined".to_string();
        }
        if is_async {
            ret = format!("Promise<{ret}>");
        }
        let export = if self.cx.chance(70) { "export " } else { "" };
        let asyncness = if is_async { "async " } else { "" };
        let head = if arrow {
            format!("{export}const {name} = {asyncness}({params}): {ret} => {{")
        } else {
            format!("{export}{asyncness}function {name}{generics}({params}): {ret} {{")
        };
        self.emit(0, head);
        self.ret = ret;
        self.body(1, left - 2, names, is_async);
        self.emit(0, if arrow { "};" } else { "}" });
        self.ret.clear();
        self.fns.push(name);
    }
}
