//! Shared pieces of the built-in corpus generators: word lists, identifier casing, comment text, and
//! random helpers that give the same answers on every platform.
//!
//! Only `u32`-ranged draws are used: fastrand's `usize` draws take a different path on 32-bit targets,
//! which would make the corpus differ between machines.

use fastrand::Rng;

/// Verbs for function and method names (`load_user`, `parseToken`).
pub(super) const VERBS: &[&str] = &[
    "get",
    "set",
    "load",
    "save",
    "parse",
    "build",
    "find",
    "make",
    "read",
    "write",
    "send",
    "fetch",
    "merge",
    "split",
    "check",
    "apply",
    "reset",
    "clear",
    "update",
    "render",
    "encode",
    "decode",
    "scan",
    "sort",
    "push",
    "pop",
    "open",
    "close",
    "flush",
    "emit",
    "track",
    "count",
    "resolve",
    "compute",
    "join",
    "sync",
    "init",
    "add",
    "remove",
    "insert",
    "lookup",
    "validate",
    "normalize",
    "collect",
    "visit",
    "wrap",
    "handle",
    "store",
    "drain",
    "pick",
    "select",
    "convert",
    "prepare",
    "register",
    "attach",
    "detach",
    "format",
    "refresh",
    "restore",
    "rank",
];

/// Nouns for variables, fields and types. None of them is a keyword or a common builtin in Python,
/// Rust or TypeScript, so any of them can stand alone as a name.
pub(super) const NOUNS: &[&str] = &[
    "user", "order", "item", "cart", "token", "node", "edge", "path", "line", "word", "key",
    "value", "entry", "record", "event", "task", "job", "queue", "cache", "config", "buffer",
    "block", "frame", "span", "page", "row", "column", "field", "score", "price", "total", "limit",
    "name", "label", "tag", "group", "batch", "chunk", "slot", "peer", "host", "port", "route",
    "request", "reply", "header", "body", "session", "account", "invoice", "ticket", "report",
    "metric", "sample", "point", "shape", "color", "layer", "asset", "image", "style", "theme",
    "rule", "state", "step", "stage", "level", "offset", "size", "width", "height", "delay",
    "retry", "message", "status", "result", "query", "target", "source", "owner", "client",
    "server", "worker", "member", "vendor", "product", "region", "zone", "bucket", "segment",
    "channel", "signal", "payload", "cursor", "window", "digest", "ledger", "budget", "quota",
    "lease", "grant", "policy", "device", "sensor",
];

/// Adjectives that prefix nouns (`raw_value`, `PendingOrder`).
pub(super) const ADJECTIVES: &[&str] = &[
    "raw", "next", "prev", "last", "first", "new", "old", "main", "base", "local", "remote",
    "shared", "pending", "active", "cached", "parsed", "sorted", "inner", "outer", "max", "min",
    "full", "empty", "valid", "dirty", "fresh", "stale", "extra", "spare", "primary", "current",
    "total",
];

/// Terse local names; none shadows a builtin or keyword in the three languages.
const SHORT_NAMES: &[&str] = &[
    "n", "i", "j", "k", "s", "x", "buf", "acc", "idx", "val", "res", "out", "cur", "tmp", "pos",
    "cnt", "off", "msg", "ctx", "src", "dst", "num", "ok", "raw",
];

/// Suffixes that turn a noun into a type name (`OrderStore`, `TokenKind`).
pub(super) const SUFFIXES: &[&str] = &[
    "Info", "Map", "List", "Set", "Store", "Error", "State", "Kind", "Builder", "Config", "Handle",
    "Id", "Spec", "Stats", "Options", "Event", "Entry", "Record", "Registry", "Index", "Queue",
    "Pool", "Cache", "Writer", "Reader", "Parser", "View", "Table", "Summary", "Policy", "Service",
    "Manager",
];

/// Words for free-running comment text, every length from 2 to 11.
const COMMENT_WORDS: &[&str] = &[
    "to",
    "of",
    "in",
    "on",
    "if",
    "is",
    "we",
    "it",
    "the",
    "and",
    "for",
    "not",
    "one",
    "any",
    "per",
    "may",
    "set",
    "can",
    "then",
    "when",
    "each",
    "only",
    "from",
    "with",
    "same",
    "keep",
    "once",
    "this",
    "that",
    "data",
    "fast",
    "path",
    "must",
    "cache",
    "order",
    "field",
    "value",
    "stays",
    "calls",
    "first",
    "later",
    "never",
    "cheap",
    "small",
    "entry",
    "parse",
    "reuse",
    "stable",
    "always",
    "before",
    "helper",
    "module",
    "record",
    "simple",
    "lookup",
    "loaded",
    "shared",
    "between",
    "request",
    "handles",
    "returns",
    "invalid",
    "current",
    "default",
    "storage",
    "optional",
    "matching",
    "together",
    "callers",
    "existing",
    "consumer",
    "sessions",
    "internal",
    "separate",
    "ordering",
    "requests",
    "assumes",
    "rebuilds",
    "validated",
    "temporary",
    "otherwise",
    "expensive",
    "duplicate",
    "fallback",
    "recovered",
    "malformed",
    "consistent",
    "background",
    "downstream",
    "configured",
    "throughput",
    "normalized",
    "boundaries",
    "allocation",
    "invariants",
    "explicitly",
    "definitions",
    "unsupported",
    "concurrency",
    "transaction",
    "incremental",
    "persistence",
    "deliberate",
    "serialized",
];

/// Words that can end a module description (`Order cache`, `Token parsing helpers`), every length
/// from 3 to 11.
const ENDINGS: &[&str] = &[
    "api",
    "ids",
    "map",
    "log",
    "code",
    "data",
    "list",
    "keys",
    "cache",
    "rules",
    "store",
    "types",
    "utils",
    "checks",
    "models",
    "schema",
    "layout",
    "helpers",
    "parsing",
    "records",
    "lookups",
    "handling",
    "protocol",
    "defaults",
    "encoding",
    "utilities",
    "adapters",
    "migration",
    "iteration",
    "validation",
    "formatting",
    "conversion",
    "persistence",
    "bookkeeping",
    "maintenance",
];

/// Realistic one-line remarks; `{}` becomes a noun and `{s}` its plural.
const REMARKS: &[&str] = &[
    "Skip cached {s}.",
    "Fall back to the default {}.",
    "Keep {s} sorted.",
    "TODO: handle an empty {}.",
    "The {} may be shared.",
    "Avoid a second pass.",
    "NOTE: ids start at one.",
    "Retry once; the {} may be stale.",
    "Cheap check first.",
    "Normalise first.",
    "FIXME: ignores the {} limit.",
    "Old clients send a bare {}.",
    "Guard against a missing {}.",
    "Order matters here.",
    "Validated upstream.",
    "Collect, then mutate.",
    "Count each {} once.",
    "Bail out early.",
    "See the {} docs.",
    "Small {s} are common.",
];

/// One-line documentation sentences; `{}` becomes a noun and `{s}` its plural.
const DOCS: &[&str] = &[
    "Returns the {}.",
    "Builds a new {}.",
    "Checks the {}.",
    "Loads all {s}.",
    "Merges two {s}.",
    "Parses a {}.",
    "Looks up a {} by key.",
    "Drops stale {s}.",
    "Counts the {s}.",
    "Applies the {} rules.",
    "Writes the {} back.",
    "Resolves a {} by name.",
    "A {} and its metadata.",
    "Errors from {} parsing.",
    "Tracks the current {}.",
    "Settings for {s}.",
];

/// Per-file random state plus the file's topic, so names within one file hang together.
pub(super) struct Ctx {
    rng: Rng,
    topic: [&'static str; 3],
}

impl Ctx {
    pub(super) fn new(seed: u64) -> Ctx {
        let mut rng = Rng::with_seed(seed);
        let topic = [
            NOUNS[rng.u32(..NOUNS.len() as u32) as usize],
            NOUNS[rng.u32(..NOUNS.len() as u32) as usize],
            NOUNS[rng.u32(..NOUNS.len() as u32) as usize],
        ];
        Ctx { rng, topic }
    }

    /// The same topic with a fresh random stream, for text that must not disturb the file's own draws.
    pub(super) fn reseeded(&self, seed: u64) -> Ctx {
        Ctx {
            rng: Rng::with_seed(seed),
            topic: self.topic,
        }
    }

    /// A uniform draw from `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.rng.u32(..n as u32) as usize
    }

    /// A uniform draw from `lo..=hi` (`lo <= hi`).
    pub(super) fn range(&mut self, lo: usize, hi: usize) -> usize {
        self.rng.u32(lo as u32..=hi as u32) as usize
    }

    /// True with probability `percent / 100`.
    pub(super) fn chance(&mut self, percent: u32) -> bool {
        self.rng.u32(..100) < percent
    }

    pub(super) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// A noun, biased towards the file's topic.
    pub(super) fn noun(&mut self) -> &'static str {
        if self.chance(45) {
            let topic = self.topic;
            self.pick(&topic)
        } else {
            self.pick(NOUNS)
        }
    }

    pub(super) fn verb(&mut self) -> &'static str {
        self.pick(VERBS)
    }

    pub(super) fn adj(&mut self) -> &'static str {
        self.pick(ADJECTIVES)
    }

    /// A type name such as `Order`, `OrderStore` or `PendingOrder`.
    pub(super) fn type_name(&mut self) -> String {
        let noun = self.noun();
        match self.below(20) {
            0..=7 => pascal(&[noun]),
            8..=10 => pascal(&[self.adj(), noun]),
            _ => pascal(&[noun]) + self.pick(SUFFIXES),
        }
    }

    /// Local variable words: a noun, sometimes with an adjective, sometimes one of the terse names
    /// real code is full of.
    pub(super) fn var_words(&mut self) -> Vec<&'static str> {
        if self.chance(25) {
            return vec![self.pick(SHORT_NAMES)];
        }
        let noun = self.noun();
        if self.chance(12) {
            vec![self.adj(), noun]
        } else {
            vec![noun]
        }
    }

    /// `k` distinct elements of `xs`, in a random order.
    pub(super) fn sample<T: Copy>(&mut self, xs: &[T], k: usize) -> Vec<T> {
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        let k = k.min(xs.len());
        for i in 0..k {
            let j = self.range(i, xs.len() - 1);
            idx.swap(i, j);
        }
        idx[..k].iter().map(|&i| xs[i]).collect()
    }

    /// A realistic one-line remark (without comment markers).
    pub(super) fn remark(&mut self) -> String {
        let template = self.pick(REMARKS);
        let noun = self.noun();
        template.replace("{s}", &plural(noun)).replace("{}", noun)
    }

    /// A one-line documentation sentence (without comment markers).
    pub(super) fn doc(&mut self) -> String {
        let template = self.pick(DOCS);
        let noun = self.noun();
        template.replace("{s}", &plural(noun)).replace("{}", noun)
    }

    /// A capitalised phrase of exactly `len` bytes (real words from 3 bytes on), without a full stop.
    /// Used for each file's doc line, whose length absorbs the corpus-wide byte budget.
    pub(super) fn sentence(&mut self, len: usize) -> String {
        // Short lines name the topic: `Orders`, `Order cache`, `Token types`.
        if len <= 18 {
            let mut nouns = self.topic.to_vec();
            for _ in 0..6 {
                nouns.push(self.pick(NOUNS));
            }
            let mut fits = Vec::new();
            for noun in nouns {
                for form in [capitalize(noun), capitalize(&plural(noun))] {
                    if form.len() == len {
                        fits.push(form.clone());
                    }
                    for ending in ENDINGS {
                        if form.len() + 1 + ending.len() == len {
                            fits.push(format!("{form} {ending}"));
                        }
                    }
                }
            }
            if !fits.is_empty() {
                let i = self.below(fits.len());
                return fits.swap_remove(i);
            }
        }
        // Built as " w1 w2 ..." of length len + 1, then the leading space is dropped.
        let mut out = String::with_capacity(len + 1);
        let mut left = len + 1;
        // Open with a topic phrase when it leaves a remainder the word fill can finish (0 or 4+).
        for _ in 0..6 {
            let head = self.topic_phrase();
            match left.checked_sub(head.len() + 1) {
                Some(rest) if rest == 0 || rest >= 4 => {
                    out.push(' ');
                    out.push_str(&head);
                    left = rest;
                    break;
                }
                _ => {}
            }
        }
        while left > 16 {
            let w = self.pick(COMMENT_WORDS);
            out.push(' ');
            out.push_str(w);
            left -= w.len() + 1;
        }
        // Now left is 0 or 4..=16 unless `len` itself was tiny: finish with an exactly sized word that
        // can end a phrase, preceded by one more word when that alone would be too long.
        if left >= 13 {
            let first = self.range(left.saturating_sub(13).max(2), (left - 5).min(11));
            self.push_word(&mut out, COMMENT_WORDS, first);
            left -= first + 1;
        }
        if left >= 4 {
            self.push_word(&mut out, ENDINGS, left - 1);
        } else if left > 0 {
            // Only reachable for len < 3; pad so the length is still exact.
            out.push_str(&"x".repeat(left));
        }
        let mut text = out.split_off(1);
        if let Some(first) = text.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        text
    }

    /// What a module is about, e.g. `Order parsing` or `Helpers for tokens`.
    fn topic_phrase(&mut self) -> String {
        let noun = self.noun();
        let (cap, plural) = (capitalize(noun), plural(noun));
        match self.below(10) {
            0 => format!("{cap} helpers"),
            1 => capitalize(&plural),
            2 => format!("{cap} parsing"),
            3 => format!("{cap} storage"),
            4 => format!("Helpers for {plural}"),
            5 => format!("The {noun} model"),
            6 => format!("{cap} types"),
            7 => format!("{cap} lookups"),
            8 => format!("Tests for {plural}"),
            _ => format!("{cap} state"),
        }
    }

    fn push_word(&mut self, out: &mut String, words: &[&'static str], len: usize) {
        let fits: Vec<&str> = words.iter().copied().filter(|w| w.len() == len).collect();
        out.push(' ');
        out.push_str(self.pick(&fits));
    }

    /// Splits `n` lines (`n >= min`) into blocks of `min..=max` lines separated by `sep` blank lines;
    /// block sizes plus separators add up to exactly `n`.
    pub(super) fn split(&mut self, n: usize, sep: usize, min: usize, max: usize) -> Vec<usize> {
        debug_assert!(n >= min && max >= 2 * min + sep);
        let mut sizes = Vec::new();
        let mut left = n;
        loop {
            let can_split = left >= 2 * min + sep;
            if !can_split || (left <= max && self.chance(35)) {
                sizes.push(left);
                return sizes;
            }
            let size = self.range(min, max.min(left - sep - min));
            sizes.push(size);
            left -= size + sep;
        }
    }
}

/// `snake_case` from words.
pub(super) fn snake(words: &[&str]) -> String {
    words.join("_")
}

/// `UPPER_SNAKE_CASE` from words.
pub(super) fn upper(words: &[&str]) -> String {
    words.join("_").to_ascii_uppercase()
}

/// `PascalCase` from words.
pub(super) fn pascal(words: &[&str]) -> String {
    words.iter().map(|w| capitalize(w)).collect()
}

/// `camelCase` from words.
pub(super) fn camel(words: &[&str]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i == 0 {
            out.push_str(w);
        } else {
            out.push_str(&capitalize(w));
        }
    }
    out
}

fn capitalize(word: &str) -> String {
    let mut out = word.to_string();
    if let Some(first) = out.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    out
}

/// The plural of an English noun from [`NOUNS`] (`entry` -> `entries`, `status` -> `statuses`).
pub(super) fn plural(word: &str) -> String {
    if let Some(stem) = word.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if word.ends_with(['s', 'x']) || word.ends_with("ch") || word.ends_with("sh") {
        return format!("{word}es");
    }
    format!("{word}s")
}

/// `n` spaces of indentation for nesting level `level` with `width`-space indents.
pub(super) fn indent(level: usize, width: usize) -> String {
    " ".repeat(level * width)
}
