//! The shipped query files as operations: the list ([`shipped`]), the comparison of answers with tree-sitter's
//! `QueryCursor` ([`Answers`], [`compare`]) that the oracle test and the compare run share, and the compare
//! run's query operations on any store ([`ShippedQueries`], a [`StoreOperations`] the backends' registry sets
//! on every row).
//!
//! Answers are compared as the issue asks: `matches` as a multiset of (pattern index, captures with nodes by
//! preorder index), `captures` as a sequence (order included). Nodes are numbered by preorder index among
//! visible nodes on both sides (tree-sitter's by one cursor walk mapping node ids to indices).
//!
//! Costs, per query file and language: compiling it twice (ours and tree-sitter's); on every file of the
//! language once, counted: the [`StoreTree`] load and our `matches` and `captures` (working memory is read
//! over this pass, `matches` only), then tree-sitter's parse and `QueryCursor` run, uncounted, for the
//! comparison; then `matches` timed in turns with `QueryCursor::matches` over an even spread of the files up
//! to [`QUERY_TIMING_BYTES`] of text per language (tree-sitter's trees of the spread parsed once, uncounted).

use crate::matcher::QueryCursor;
use crate::query::Query;
use crate::store_tree::StoreTree;
use crate::tree::QueryTree;
use cst_measure::alloc;
use cst_measure::harness::{
    record_failure, spread_sample, time_beside, BackendMeasurement, FileFailure, MeasureOptions,
    Progress, QueryTiming, StoreOperations, StoredFile,
};
use cst_measure::{CstStore, Language};
use std::collections::HashMap;
use tree_sitter::StreamingIterator;

/// One shipped query file of one language.
#[derive(Clone, Debug)]
pub struct ShippedQuery {
    pub language: Language,
    /// "highlights", "tags", "injections" (or, for a query file given to `cargo xtask query`, its name).
    pub name: String,
    /// The source, concatenated as the grammar's `tree-sitter.json` lists its files.
    pub source: String,
}

/// The query files the grammar crates ship, per language: Python's highlights and tags; Rust's highlights,
/// tags and injections; for TypeScript and TSX, tree-sitter-javascript's files first and then
/// tree-sitter-typescript's own, as tree-sitter-typescript's `tree-sitter.json` combines them (TypeScript:
/// highlights = JavaScript's + TypeScript's, tags = JavaScript's + TypeScript's; TSX: highlights = JavaScript's
/// JSX highlights + JavaScript's + TypeScript's, tags as TypeScript's). Every one compiles with
/// `tree_sitter::Query` and with ours (a test checks it); none is dropped.
pub fn shipped() -> Vec<ShippedQuery> {
    let js_ts_highlights = [
        tree_sitter_javascript::HIGHLIGHT_QUERY,
        tree_sitter_typescript::HIGHLIGHTS_QUERY,
    ]
    .concat();
    let js_ts_tags = [
        tree_sitter_javascript::TAGS_QUERY,
        tree_sitter_typescript::TAGS_QUERY,
    ]
    .concat();
    let tsx_highlights = [
        tree_sitter_javascript::JSX_HIGHLIGHT_QUERY,
        tree_sitter_javascript::HIGHLIGHT_QUERY,
        tree_sitter_typescript::HIGHLIGHTS_QUERY,
    ]
    .concat();
    let q = |language, name: &str, source: &str| ShippedQuery {
        language,
        name: name.to_string(),
        source: source.to_string(),
    };
    vec![
        q(
            Language::Python,
            "highlights",
            tree_sitter_python::HIGHLIGHTS_QUERY,
        ),
        q(Language::Python, "tags", tree_sitter_python::TAGS_QUERY),
        q(
            Language::Rust,
            "highlights",
            tree_sitter_rust::HIGHLIGHTS_QUERY,
        ),
        q(Language::Rust, "tags", tree_sitter_rust::TAGS_QUERY),
        q(
            Language::Rust,
            "injections",
            tree_sitter_rust::INJECTIONS_QUERY,
        ),
        q(Language::TypeScript, "highlights", &js_ts_highlights),
        q(Language::TypeScript, "tags", &js_ts_tags),
        q(Language::Tsx, "highlights", &tsx_highlights),
        q(Language::Tsx, "tags", &js_ts_tags),
    ]
}

/// One answer: a pattern index and its captures (capture id, node by preorder index).
pub type Answer = (usize, Vec<(u32, usize)>);

/// A query's answers on one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    /// Every match, sorted (a multiset).
    pub matches: Vec<Answer>,
    /// Every capture in stream order, each as its pattern and that one capture; `None` where ours refused.
    pub captures: Option<Vec<Answer>>,
}

/// Our answers on `tree`.
pub fn ours<T: QueryTree>(cursor: &mut QueryCursor, query: &Query, tree: &T) -> Answers {
    let mut matches: Vec<Answer> = cursor
        .matches(query, tree)
        .map(|ms| {
            ms.into_iter()
                .map(|m| {
                    let captures = m.captures.iter().map(|c| (c.index, c.node)).collect();
                    (m.pattern_index, captures)
                })
                .collect()
        })
        .unwrap_or_default();
    matches.sort();
    let captures = cursor.captures(query, tree).ok().map(|captures| {
        captures
            .into_iter()
            .map(|(m, i)| {
                let c = m.captures[i];
                (m.pattern_index, vec![(c.index, c.node)])
            })
            .collect()
    });
    Answers { matches, captures }
}

/// Each visible node's id mapped to its preorder index.
fn preorder_ids(tree: &tree_sitter::Tree) -> HashMap<usize, usize> {
    let mut index = HashMap::new();
    let mut cursor = tree.walk();
    loop {
        index.insert(cursor.node().id(), index.len());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return index;
            }
        }
    }
}

/// tree-sitter's answers on its own tree of `source`.
pub fn theirs(query: &tree_sitter::Query, tree: &tree_sitter::Tree, source: &[u8]) -> Answers {
    let index = preorder_ids(tree);
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut matches = Vec::new();
    let mut it = cursor.matches(query, tree.root_node(), source);
    while let Some(m) = it.next() {
        let captures = m
            .captures()
            .iter()
            .map(|c| (c.index, index[&c.node.id()]))
            .collect();
        matches.push((m.pattern_index, captures));
    }
    matches.sort();
    let mut captures = Vec::new();
    let mut it = cursor.captures(query, tree.root_node(), source);
    while let Some((m, i)) = it.next() {
        let c = m.captures()[*i];
        captures.push((m.pattern_index, vec![(c.index, index[&c.node.id()])]));
    }
    Answers {
        matches,
        captures: Some(captures),
    }
}

/// Where our answers differ from tree-sitter's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The pattern of the first answer that differs.
    pub pattern: usize,
    pub what: String,
}

/// Compares our answers with tree-sitter's (`describe` names a node for the message). Captures refused by
/// ours are not compared (see [`Answers::captures`]).
pub fn compare(
    theirs: &Answers,
    ours: &Answers,
    describe: impl Fn(usize) -> String,
) -> Result<(), Mismatch> {
    if theirs.matches != ours.matches {
        let missing: Vec<&Answer> = theirs
            .matches
            .iter()
            .filter(|m| ours.matches.binary_search(m).is_err())
            .take(3)
            .collect();
        let extra: Vec<&Answer> = ours
            .matches
            .iter()
            .filter(|m| theirs.matches.binary_search(m).is_err())
            .take(3)
            .collect();
        let pattern = missing
            .first()
            .or(extra.first())
            .map_or(0, |m: &&Answer| m.0);
        let show = |v: &[&Answer]| {
            v.iter()
                .map(|(p, c)| {
                    let nodes: Vec<String> = c
                        .iter()
                        .map(|&(id, n)| format!("c{id} {}", describe(n)))
                        .collect();
                    format!("p{p} [{}]", nodes.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(Mismatch {
            pattern,
            what: format!(
                "matches differ ({} theirs, {} ours); missing {}; extra {}",
                theirs.matches.len(),
                ours.matches.len(),
                show(&missing),
                show(&extra)
            ),
        });
    }
    let (Some(their_captures), Some(our_captures)) = (&theirs.captures, &ours.captures) else {
        return Ok(());
    };
    if their_captures != our_captures {
        let at = their_captures
            .iter()
            .zip(our_captures)
            .position(|(a, b)| a != b)
            .unwrap_or(their_captures.len().min(our_captures.len()));
        let window = |v: &[Answer]| {
            v.iter()
                .skip(at.saturating_sub(2))
                .take(6)
                .map(|(p, c)| format!("p{p} c{} {}", c[0].0, describe(c[0].1)))
                .collect::<Vec<_>>()
        };
        let pattern = their_captures
            .get(at)
            .or(our_captures.get(at))
            .map_or(0, |a| a.0);
        return Err(Mismatch {
            pattern,
            what: format!(
                "captures differ ({} theirs, {} ours), first at {at}: theirs {:?} ours {:?}",
                their_captures.len(),
                our_captures.len(),
                window(their_captures),
                window(our_captures)
            ),
        });
    }
    Ok(())
}

/// Text per language over which the compare run times each query file beside `QueryCursor` (an even spread of
/// the language's files, all of them when the whole is within it). With at most [`QUERY_TIMING_REPETITIONS`]
/// repetitions' turns, this keeps the queries' share of a built-in compare run to a few seconds per row.
pub const QUERY_TIMING_BYTES: u64 = 100_000;

/// Files of more visible nodes than this are left out of the query operations (counted in
/// [`QueryTiming::left_out`]) for their working memory, not their time: a pass holds the file's whole
/// [`StoreTree`] table and every match found (about 74 bytes a node in all on `cargo xtask bad-inputs`'
/// Python: 306 MB for its 8 MB file of 4.1 million nodes), where `QueryCursor` keeps states bounded by the
/// depth. Time is linear: on those files (100,000-deep nesting, 100,000 siblings, the 8 MB file; 4.95
/// million nodes) the arena's highlights pass took 0.62x `QueryCursor`'s, with the same answers. A matcher
/// reading the store's cursor as it goes, as `QueryCursor` reads a `TreeCursor`, would lift the bound.
pub const QUERY_FILE_NODES: usize = 100_000;

/// The repetitions (of the run's, each [`cst_measure::harness::PAIR_TURNS_PER_REPETITION`] turns) a query's
/// pair takes at most.
pub const QUERY_TIMING_REPETITIONS: usize = 2;

/// The compare run's query operations: every shipped query file on every file of its language in the store,
/// answers compared with `QueryCursor`'s, `matches` timed beside it (see the module's description).
pub struct ShippedQueries;

impl StoreOperations for ShippedQueries {
    fn measure<S: CstStore>(
        store: &S,
        files: &[StoredFile<'_>],
        options: &MeasureOptions,
        m: &mut BackendMeasurement,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<()> {
        let queries: Vec<ShippedQuery> = match &options.queries {
            Some(given) => given
                .iter()
                .map(|q| ShippedQuery {
                    language: q.language,
                    name: q.name.clone(),
                    source: q.source.clone(),
                })
                .collect(),
            None => shipped(),
        };
        let queries: Vec<ShippedQuery> = queries
            .into_iter()
            .filter(|q| files.iter().any(|f| f.language == q.language))
            .collect();
        progress.phase("queries", queries.len() as u64);
        for (done, shipped) in queries.iter().enumerate() {
            let of_language: Vec<StoredFile<'_>> = files
                .iter()
                .filter(|f| f.language == shipped.language)
                .copied()
                .collect();
            let timing = run_query(store, shipped, &of_language, options, m)?;
            m.queries.push(timing);
            progress.advance(done as u64 + 1);
        }
        Ok(())
    }
}

/// Our `matches` over `files` of `store`, reusing one table: the matches found.
fn our_pass<'s, S: CstStore>(
    store: &'s S,
    table: &mut StoreTree<'s>,
    cursor: &mut QueryCursor,
    query: &Query,
    files: &[usize],
) -> cst_measure::ops::Answer {
    let mut items = 0;
    for &file in files {
        if table.load(store, file).is_err() {
            continue;
        }
        items += cursor.matches(query, table).map_or(0, |m| m.len()) as u64;
    }
    cst_measure::ops::Answer { digest: 0, items }
}

/// `QueryCursor::matches` over tree-sitter's `trees` (with their texts): the matches found.
fn their_pass(
    cursor: &mut tree_sitter::QueryCursor,
    query: &tree_sitter::Query,
    trees: &[(tree_sitter::Tree, &str)],
) -> cst_measure::ops::Answer {
    let mut items = 0;
    for (tree, text) in trees {
        let mut it = cursor.matches(query, tree.root_node(), text.as_bytes());
        while it.next().is_some() {
            items += 1;
        }
    }
    cst_measure::ops::Answer { digest: 0, items }
}

fn run_query<S: CstStore>(
    store: &S,
    shipped: &ShippedQuery,
    files: &[StoredFile<'_>],
    options: &MeasureOptions,
    m: &mut BackendMeasurement,
) -> anyhow::Result<QueryTiming> {
    let grammar = shipped.language.grammar();
    let query = Query::new(&grammar, &shipped.source)
        .map_err(|e| anyhow::anyhow!("{} {}: {e:?}", shipped.language.name(), shipped.name))?;
    let theirs_query = tree_sitter::Query::new(&grammar, &shipped.source)?;
    let mut timing = QueryTiming {
        language: shipped.language.name().to_string(),
        query: shipped.name.to_string(),
        answered: true,
        answers_agree: true,
        ..QueryTiming::default()
    };
    let files: Vec<StoredFile<'_>> = files
        .iter()
        .copied()
        .filter(|f| {
            let small =
                store.fold_preorder(f.position, 0usize, |n, _, _| n + 1) <= QUERY_FILE_NODES;
            timing.left_out += u64::from(!small);
            small
        })
        .collect();
    let files = &files[..];
    let positions: Vec<usize> = files.iter().map(|f| f.position).collect();
    if positions
        .iter()
        .any(|&file| store.query_status(file).is_none())
    {
        timing.answered = false;
        timing.answers_agree = false;
        return Ok(timing);
    }
    // Working memory: `matches` over every file, counted.
    let mut cursor = QueryCursor::new();
    {
        let mut table = StoreTree::default();
        let watch = alloc::Watch::start();
        our_pass(store, &mut table, &mut cursor, &query, &positions);
        drop(table);
        timing.working_bytes = watch.stop();
    }
    // Every file's answers against QueryCursor's.
    let mut parser = shipped.language.parser();
    let mut table = StoreTree::default();
    for stored in files {
        let (file, text) = (stored.position, stored.text);
        table.load(store, file)?;
        let ours = ours(&mut cursor, &query, &table);
        let tree = alloc::without_counting(|| parser.parse(text, None).expect("a parser parses"));
        let theirs = alloc::without_counting(|| theirs(&theirs_query, &tree, text.as_bytes()));
        timing.files += 1;
        timing.nodes += table.node_count() as u64;
        timing.matches += theirs.matches.len() as u64;
        timing.captures += theirs.captures.as_ref().map_or(0, Vec::len) as u64;
        let compared = compare(&theirs, &ours, |n| {
            format!("{:?} kind {}", table.byte_range(n), table.kind_id(n))
        });
        alloc::without_counting(|| drop((tree, theirs)));
        if let Err(mismatch) = compared {
            // Rows as tree-sitter's errors give them: 1-based.
            let row = crate::parse::pattern_row(
                &shipped.source,
                query.start_byte_for_pattern(
                    mismatch
                        .pattern
                        .min(query.pattern_count().saturating_sub(1)),
                ),
            ) + 1;
            let error = format!(
                "query {} {}, pattern {} (row {row}): {}",
                shipped.language.name(),
                shipped.name,
                mismatch.pattern,
                mismatch.what
            );
            if timing.answers_agree {
                timing.mismatch = Some(format!("{}: {error}", stored.path));
            }
            timing.answers_agree = false;
            record_failure(
                m,
                FileFailure {
                    path: stored.path.to_string(),
                    error,
                },
            );
        }
    }
    drop(table);
    // `matches` beside QueryCursor on an even spread of the files.
    if options.repetitions > 1 && !files.is_empty() {
        let sizes: Vec<u64> = files.iter().map(|f| f.text.len() as u64).collect();
        let sample: Vec<usize> = spread_sample(&sizes, QUERY_TIMING_BYTES).collect();
        let timed: Vec<usize> = sample.iter().map(|&i| files[i].position).collect();
        let pair = alloc::without_counting(|| {
            let trees: Vec<(tree_sitter::Tree, &str)> = sample
                .iter()
                .map(|&i| {
                    (
                        parser.parse(files[i].text, None).expect("parses"),
                        files[i].text,
                    )
                })
                .collect();
            let nodes: u64 = trees
                .iter()
                .map(|(t, _)| preorder_ids(t).len() as u64)
                .sum();
            let mut table = StoreTree::default();
            let mut theirs_cursor = tree_sitter::QueryCursor::new();
            let pair = time_beside(
                &mut || our_pass(store, &mut table, &mut cursor, &query, &timed),
                &mut || their_pass(&mut theirs_cursor, &theirs_query, &trees),
                options.repetitions.min(QUERY_TIMING_REPETITIONS),
                options.budget,
            );
            drop((table, trees));
            pair.map(|p| (p, nodes))
        })?;
        timing.timed_files = timed.len() as u64;
        timing.timed_nodes = pair.1;
        timing.beside = Some(pair.0);
    }
    Ok(timing)
}
