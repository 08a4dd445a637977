//! Editing: what a keystroke costs one backend, and what keeping versions costs.
//!
//! For each file of an evenly spread sample, a deterministic script of edits ([`crate::edits::script`]; fewer
//! in a file whose nodes would take it past [`EditOptions::max_session_nodes`]) is applied the way an editor
//! does: `Tree::edit` with the edit, an incremental `Parser::parse` from the old tree
//! (timed, with `changed_ranges`: the *reparse*, the part every backend shares), then [`CstStore::update`]
//! (timed: the backend's own part). Each new version is verified like any file (text, nodes, shape, fields,
//! lookups) against the tree it was built from, and (after every fourth edit) a full rebuild of the same file
//! into a fresh store is timed for comparison. The last `versions` versions of every file stay alive
//! ([`CstStore::version`]), as an undo history or a snapshot would keep them; at the end each kept version is
//! restored and verified again.
//!
//! Memory is measured by freeing: once everything else is dropped, dropping the kept versions frees what they
//! hold on their own (what the extra versions cost), and dropping the store then frees one version of every file.

use crate::alloc;
use crate::backend::{Backend, CstStore, FileEdit};
use crate::corpus::Corpus;
use crate::edits::script;
pub use crate::measurement::EditMeasurement;
use crate::measurement::{
    median_and_p99, FileFailure, Progress, UncountedEdits, UNCOUNTED_EDIT_FILES,
};
use crate::reference::ReferenceTree;
use crate::verify::{spread_offsets, verify_against, verify_lookups};
use crate::Language;

use std::time::Instant;

/// How to edit.
#[derive(Clone, Debug)]
pub struct EditOptions {
    /// Edits per file (0 skips editing).
    pub edits: usize,
    /// Files edited: this many, spread evenly over the corpus.
    pub files: usize,
    /// Files larger than this are left out of the sample (a full rebuild per keystroke of a 20 MB file is a
    /// measurement of its size, not of editing).
    pub max_file_bytes: u64,
    /// Versions of each file kept alive, the current one included.
    pub versions: usize,
    /// Nodes a file's session may rebuild and verify in all, counted as its nodes (tree-sitter's, hidden ones
    /// included) times its edits: a file with more nodes than this over `edits` makes fewer edits (at least
    /// one). Every version is verified in full and most updates rebuild the path to the edit, so a session
    /// costs about its file's nodes per edit; this keeps the costliest file's session (a 100,000-level
    /// nesting is 300,000 nodes) within what 20 edits of a 100,000-node file take.
    pub max_session_nodes: u64,
    /// Offsets per version at which lookups are verified (fewer than for a whole file: a version differs from
    /// the one before by one edit).
    pub lookup_checks: usize,
}

impl Default for EditOptions {
    fn default() -> Self {
        EditOptions {
            edits: 20,
            files: 3000,
            max_file_bytes: 1 << 20,
            versions: 10,
            max_session_nodes: 2_000_000,
            lookup_checks: 4,
        }
    }
}

impl EditOptions {
    /// Edits made in a file of `nodes` nodes: [`EditOptions::edits`], fewer where they would take the session
    /// past [`EditOptions::max_session_nodes`], and at least one.
    pub fn edits_for(&self, nodes: u64) -> usize {
        let within = (self.max_session_nodes / nodes.max(1)).max(1);
        self.edits
            .min(usize::try_from(within).unwrap_or(usize::MAX))
    }
}

/// One kept version, with what the harness needs to check it later.
struct Kept<V> {
    version: V,
    text: String,
    reference: ReferenceTree,
}

/// The full rebuild is timed after every this many edits (a fixed subset, so the median is of the same edits
/// on every backend and every run).
const REBUILD_EVERY: u64 = 4;

/// Failures listed by name; the rest are only counted.
const LISTED_FAILURES: usize = 20;

/// Checks one version of file `index` of `store`.
fn check<S: CstStore>(
    store: &S,
    index: usize,
    language: Language,
    text: &str,
    reference: &ReferenceTree,
    lookup_checks: usize,
) -> Result<(), String> {
    verify_against(store, index, language, text, reference)?;
    let offsets = spread_offsets(text.len() as u32, lookup_checks);
    verify_lookups(store, index, text, reference, offsets).map_err(|e| format!("lookup: {e}"))?;
    Ok(())
}

/// Runs the edit sessions of backend `B` over a sample of `corpus`.
pub fn measure_edits<B: Backend>(
    corpus: &Corpus,
    options: &EditOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<EditMeasurement> {
    let sample = corpus.spread(options.files);
    let left_out = sample
        .iter()
        .filter(|f| f.bytes > options.max_file_bytes)
        .count() as u64;
    let files: Vec<(&str, Language, String)> = sample
        .iter()
        .filter(|f| f.bytes <= options.max_file_bytes)
        .map(|f| Ok((f.path.as_str(), f.language, f.text()?.into_owned())))
        .collect::<anyhow::Result<_>>()?;
    let mut failures = Vec::new();
    let mut failed = 0u64;
    let mut fail = |path: &str, error: String| {
        failed += 1;
        if failures.len() < LISTED_FAILURES {
            failures.push(FileFailure {
                path: path.to_string(),
                error,
            });
        }
    };

    // Every file's first version, from a fresh parse. The trees are not kept (a corpus's trees can take far
    // more memory than the store): each file is parsed again when its session starts.
    let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
    let mut store = B::new_store();
    let mut held = Vec::with_capacity(files.len());
    for (index, (path, language, text)) in files.iter().enumerate() {
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let tree = parser.parse(text, None).expect("no timeout is set");
        match store.add(*language, text, tree) {
            Ok(()) => held.push(index),
            Err(error) => fail(path, format!("build: {error}")),
        }
    }
    store.finish();

    let keep = options.versions.saturating_sub(1);
    // The harness's lists of kept versions are allocated now, at their full size, and taken out of the
    // freed bytes at the end. What checks them (each version's text and reference tree) lives only while
    // its file is edited.
    let mut versions: Vec<Vec<<B::Store as CstStore>::Version>> =
        (0..held.len()).map(|_| Vec::with_capacity(keep)).collect();
    let (mut reparse, mut update, mut rebuild) = (Vec::new(), Vec::new(), Vec::new());
    let (mut edits, mut verified, mut fewer) = (0u64, 0u64, 0u64);
    // How many edits each file made.
    let mut made = Vec::with_capacity(held.len());
    progress.phase("editing", held.len() as u64);
    for (position, &index) in held.iter().enumerate() {
        let first_edit = update.len();
        let (path, language, original) = (files[index].0, files[index].1, &files[index].2);
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let mut text = original.clone();
        let mut tree = parser.parse(&text, None).expect("no timeout is set");
        let mut kept: std::collections::VecDeque<Kept<<B::Store as CstStore>::Version>> =
            std::collections::VecDeque::with_capacity(keep);
        let mut reference = ReferenceTree::of(&tree);
        let count = options.edits_for(tree.root_node().descendant_count() as u64);
        fewer += u64::from(count < options.edits);
        for edit in script(&text, count, 0x0ed1_7000 + index as u64) {
            let input = edit.input_edit(&text);
            let new_text = edit.apply(&text);
            let mut old_tree = tree.clone();
            old_tree.edit(&input);
            let clock = Instant::now();
            let new_tree = parser
                .parse(&new_text, Some(&old_tree))
                .expect("no timeout is set");
            let changed: Vec<tree_sitter::Range> = old_tree.changed_ranges(&new_tree).collect();
            reparse.push(clock.elapsed().as_secs_f64());
            let new_reference = ReferenceTree::of(&new_tree);

            // The version this edit replaces stays alive (the oldest kept one goes).
            if keep > 0 {
                if kept.len() == keep {
                    kept.pop_front();
                }
                kept.push_back(Kept {
                    version: store.version(position),
                    text: text.clone(),
                    reference,
                });
            }
            let file_edit = FileEdit {
                language,
                old_text: &text,
                text: &new_text,
                input,
                old_tree: &old_tree,
                tree: new_tree.clone(),
                changed: &changed,
            };
            let clock = Instant::now();
            let updated = store.update(position, file_edit);
            update.push(clock.elapsed().as_secs_f64());
            edits += 1;
            if let Err(error) = updated {
                fail(path, format!("update {edits}: {error}"));
                break;
            }
            match check(
                &store,
                position,
                language,
                &new_text,
                &new_reference,
                options.lookup_checks,
            ) {
                Ok(()) => verified += 1,
                Err(error) => {
                    fail(
                        path,
                        format!("version after edit {edits} ({:?}): {error}", edit.kind),
                    );
                    break;
                }
            }

            if edits % REBUILD_EVERY == 0 {
                let clock = Instant::now();
                let mut fresh = B::new_store();
                let built = fresh.add(language, &new_text, new_tree.clone());
                fresh.finish();
                rebuild.push(clock.elapsed().as_secs_f64());
                drop(fresh);
                built.map_err(|e| anyhow::anyhow!("{path}: rebuild: {e}"))?;
            }

            text = new_text;
            tree = new_tree;
            reference = new_reference;
        }
        // Every kept version is still what it was: restore it, check it, and put the current one back.
        let current = store.version(position);
        for (age, old) in kept.iter().enumerate() {
            store.restore(position, &old.version);
            match check(
                &store,
                position,
                language,
                &old.text,
                &old.reference,
                options.lookup_checks,
            ) {
                Ok(()) => verified += 1,
                Err(error) => fail(path, format!("kept version {age} restored: {error}")),
            }
        }
        store.restore(position, &current);
        drop(current);
        made.push(update.len() - first_edit);
        versions[position].extend(kept.into_iter().map(|k| k.version));
        progress.advance(position as u64 + 1);
    }
    drop(parsers);

    // What the harness kept beside the versions goes first; then the versions, then the store.
    let bookkeeping = versions.capacity() * std::mem::size_of::<Vec<()>>()
        + versions
            .iter()
            .map(|v| v.capacity() * std::mem::size_of::<<B::Store as CstStore>::Version>())
            .sum::<usize>();
    let bookkeeping_footprint =
        alloc::vec_footprint(&versions) + versions.iter().map(alloc::vec_footprint).sum::<u64>();
    let extra_versions: usize = versions.iter().map(Vec::len).sum();
    let before = alloc::snapshot();
    drop(versions);
    let middle = alloc::snapshot();
    drop(store);
    let after = alloc::snapshot();
    let freed_versions = before.live_bytes - middle.live_bytes - bookkeeping as u64;
    let freed_versions_footprint =
        before.live_footprint - middle.live_footprint - bookkeeping_footprint;
    let one_version = middle.live_bytes - after.live_bytes;
    let one_version_footprint = middle.live_footprint - after.live_footprint;

    // The edits of a spread of the files replayed, counted and with counting off, when every session went
    // through: what counting costs an edit.
    let replayed: Vec<usize> = if failed == 0 {
        let step = held.len().div_ceil(UNCOUNTED_EDIT_FILES).max(1);
        (0..held.len()).step_by(step).collect()
    } else {
        Vec::new()
    };
    let uncounted = (!replayed.is_empty()).then(|| {
        let sessions: Vec<(Language, &str, usize, u64)> = replayed
            .iter()
            .map(|&p| {
                let index = held[p];
                let seed = 0x0ed1_7000 + index as u64;
                (files[index].1, files[index].2.as_str(), made[p], seed)
            })
            .collect();
        let room: usize = sessions.iter().map(|s| s.2).sum();
        let mut counted = (Vec::with_capacity(room), Vec::with_capacity(room));
        let mut uncounted = (Vec::with_capacity(room), Vec::with_capacity(room));
        replay::<B>(&sessions, &mut counted);
        alloc::without_counting(|| replay::<B>(&sessions, &mut uncounted));
        UncountedEdits {
            edits: uncounted.1.len() as u64,
            reparse_counted_median_seconds: median_and_p99(counted.0).0,
            reparse_median_seconds: median_and_p99(std::mem::take(&mut uncounted.0)).0,
            update_counted_median_seconds: median_and_p99(counted.1).0,
            update_median_seconds: median_and_p99(std::mem::take(&mut uncounted.1)).0,
        }
    });

    let (reparse_median, reparse_p99) = median_and_p99(reparse);
    let (update_median, update_p99) = median_and_p99(update);
    let (rebuild_median, _) = median_and_p99(rebuild);
    Ok(EditMeasurement {
        files: held.len() as u64,
        source_bytes: held.iter().map(|&i| files[i].2.len() as u64).sum(),
        files_left_out: left_out,
        edits,
        edits_per_file: options.edits as u64,
        files_with_fewer_edits: fewer,
        max_session_nodes: options.max_session_nodes,
        reparse_median_seconds: reparse_median,
        reparse_p99_seconds: reparse_p99,
        update_median_seconds: update_median,
        update_p99_seconds: update_p99,
        rebuild_median_seconds: rebuild_median,
        uncounted,
        versions_kept: options.versions as u64,
        retained_bytes_one_version: one_version,
        retained_bytes_all_versions: one_version + freed_versions,
        bytes_per_extra_version: if extra_versions == 0 {
            0.0
        } else {
            freed_versions as f64 / extra_versions as f64
        },
        bytes_per_file_version: if held.is_empty() {
            0.0
        } else {
            one_version as f64 / held.len() as f64
        },
        footprint_one_version: one_version_footprint,
        footprint_all_versions: one_version_footprint + freed_versions_footprint,
        versions_verified: verified,
        failed,
        failures,
    })
}

/// Replays each session (language, original text, edits made, script seed) as [`measure_edits`] made it,
/// in one store of those files, timing the reparse and the update only (into `times`, whose room is made
/// beforehand), and drops everything: for timing edits with counting on and off, where nothing is verified
/// or kept.
fn replay<B: Backend>(sessions: &[(Language, &str, usize, u64)], times: &mut (Vec<f64>, Vec<f64>)) {
    let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
    let mut store = B::new_store();
    let mut trees = Vec::with_capacity(sessions.len());
    for &(language, text, _, _) in sessions {
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let tree = parser.parse(text, None).expect("no timeout is set");
        if store.add(language, text, tree.clone()).is_err() {
            return;
        }
        trees.push(tree);
    }
    store.finish();
    for (position, (&(language, original, count, seed), tree)) in
        sessions.iter().zip(trees).enumerate()
    {
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let (mut text, mut tree) = (original.to_string(), tree);
        for edit in script(&text, count, seed) {
            let input = edit.input_edit(&text);
            let new_text = edit.apply(&text);
            let mut old_tree = tree.clone();
            old_tree.edit(&input);
            let clock = Instant::now();
            let new_tree = parser
                .parse(&new_text, Some(&old_tree))
                .expect("no timeout is set");
            let changed: Vec<tree_sitter::Range> = old_tree.changed_ranges(&new_tree).collect();
            times.0.push(clock.elapsed().as_secs_f64());
            let file_edit = FileEdit {
                language,
                old_text: &text,
                text: &new_text,
                input,
                old_tree: &old_tree,
                tree: new_tree.clone(),
                changed: &changed,
            };
            let clock = Instant::now();
            let updated = store.update(position, file_edit);
            times.1.push(clock.elapsed().as_secs_f64());
            if updated.is_err() {
                return;
            }
            text = new_text;
            tree = new_tree;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EditOptions;

    #[test]
    fn a_file_makes_fewer_edits_only_where_they_would_pass_the_session_nodes() {
        let options = EditOptions::default();
        assert_eq!((options.edits, options.max_session_nodes), (20, 2_000_000));
        // Of the measured real code, Effect.ts (60,809 nodes) makes every edit and internal/stream.ts (125,685
        // nodes, the only file past 100,000) makes 15.
        assert_eq!(options.edits_for(60_809), 20);
        assert_eq!(options.edits_for(100_000), 20);
        assert_eq!(options.edits_for(100_001), 19);
        assert_eq!(options.edits_for(125_685), 15);
        // A 100,000-level nesting (300,000 nodes): 6 edits, 1,800,000 nodes.
        assert_eq!(options.edits_for(300_008), 6);
        // However large, one edit; an empty tree counts as one node.
        assert_eq!(options.edits_for(u64::MAX), 1);
        assert_eq!(options.edits_for(0), 20);
    }
}
