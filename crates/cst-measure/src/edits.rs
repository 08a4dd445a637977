//! Edit scripts that look like a person editing a file, deterministic for a given seed: typing a few characters
//! one keystroke at a time (each keystroke one edit, with the transient syntax errors typing makes), inserting a
//! line copied from elsewhere in the file, deleting a line, renaming one occurrence of an identifier, pasting a
//! block of a few lines, and undoing the last edit. [`TextEdit::input_edit`] turns an edit into what
//! tree-sitter's `Tree::edit` takes.

use std::ops::Range;

/// One edit: the bytes `range` of the text before it are replaced by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range<usize>,
    pub text: String,
    /// What kind of editing step this is part of.
    pub kind: EditKind,
}

/// The editing steps a script is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditKind {
    Keystroke,
    CopyLine,
    DeleteLine,
    Rename,
    PasteBlock,
    Undo,
}

impl TextEdit {
    /// Applies the edit to `text`.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.text.len());
        out.push_str(&text[..self.range.start]);
        out.push_str(&self.text);
        out.push_str(&text[self.range.end..]);
        out
    }

    /// The edit that undoes this one on the text it produced from `before`.
    fn inverse(&self, before: &str) -> TextEdit {
        TextEdit {
            range: self.range.start..self.range.start + self.text.len(),
            text: before[self.range.clone()].to_string(),
            kind: EditKind::Undo,
        }
    }

    /// tree-sitter's description of this edit of `before` (rows and byte columns).
    pub fn input_edit(&self, before: &str) -> tree_sitter::InputEdit {
        let start_position = point_at(before, self.range.start);
        let old_end_position = point_at(before, self.range.end);
        // The new end: the start advanced over the inserted text.
        let new_lines = self.text.bytes().filter(|&b| b == b'\n').count();
        let new_end_position = if new_lines == 0 {
            tree_sitter::Point::new(start_position.row, start_position.column + self.text.len())
        } else {
            let last_line = self.text.len() - self.text.rfind('\n').expect("has a newline") - 1;
            tree_sitter::Point::new(start_position.row + new_lines, last_line)
        };
        tree_sitter::InputEdit {
            start_byte: self.range.start,
            old_end_byte: self.range.end,
            new_end_byte: self.range.start + self.text.len(),
            start_position,
            old_end_position,
            new_end_position,
        }
    }
}

/// Row and byte column of `offset` in `text`.
fn point_at(text: &str, offset: usize) -> tree_sitter::Point {
    let before = &text.as_bytes()[..offset];
    let row = before.iter().filter(|&&b| b == b'\n').count();
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    tree_sitter::Point::new(row, column)
}

/// Byte ranges of the lines of `text`, each with its newline.
fn lines(text: &str) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            lines.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < text.len() {
        lines.push(start..text.len());
    }
    lines
}

/// Byte ranges of ASCII identifiers in `text`.
fn identifiers(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            // Not the tail of a longer non-ASCII word.
            if (start == 0 || bytes[start - 1].is_ascii())
                && (i == bytes.len() || bytes[i].is_ascii())
            {
                found.push(start..i);
            }
        } else {
            i += 1;
        }
    }
    found
}

/// What people type: a word, a call, an operator and operand, a new statement.
const TYPED: [&str; 8] = [
    "value",
    "count + 1",
    "(x)",
    "items[0]",
    ", total",
    " = None",
    ".append(y)",
    "result",
];

/// New names for renames.
const NAMES: [&str; 6] = [
    "renamed",
    "total_count",
    "item",
    "next_value",
    "acc",
    "tmp2",
];

/// A script of about `count` edits of `text` (exactly `count`, unless the file is too small for some steps),
/// deterministic for `seed`. The edits apply one after another: each to the text the previous ones left.
pub fn script(text: &str, count: usize, seed: u64) -> Vec<TextEdit> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut current = text.to_string();
    let mut edits: Vec<TextEdit> = Vec::with_capacity(count);
    // The text before the last step, to undo it.
    let mut last: Option<(TextEdit, String)> = None;
    while edits.len() < count {
        let lines = lines(&current);
        let step = rng.u32(0..10);
        let mut produced = Vec::new();
        match step {
            // Typing is what happens most: a few keystrokes at the end of a line or inside it.
            0..=3 if !lines.is_empty() => {
                let line = &lines[rng.usize(..lines.len())];
                let content_end = if current[line.clone()].ends_with('\n') {
                    line.end - 1
                } else {
                    line.end
                };
                let at = if rng.bool() {
                    content_end
                } else {
                    // Inside the line, at an ASCII boundary.
                    let candidates: Vec<usize> = (line.start..=content_end)
                        .filter(|&i| current.is_char_boundary(i))
                        .collect();
                    candidates[rng.usize(..candidates.len())]
                };
                let word = TYPED[rng.usize(..TYPED.len())];
                let keys = word.len().min(count - edits.len());
                for (k, c) in word.chars().take(keys).enumerate() {
                    produced.push(TextEdit {
                        range: at + k..at + k,
                        text: c.to_string(),
                        kind: EditKind::Keystroke,
                    });
                }
            }
            4 if !lines.is_empty() => {
                let copied = current[lines[rng.usize(..lines.len())].clone()].to_string();
                let at = lines[rng.usize(..lines.len())].start;
                let text = if copied.ends_with('\n') {
                    copied
                } else {
                    copied + "\n"
                };
                produced.push(TextEdit {
                    range: at..at,
                    text,
                    kind: EditKind::CopyLine,
                });
            }
            5 if lines.len() > 1 => {
                produced.push(TextEdit {
                    range: lines[rng.usize(..lines.len())].clone(),
                    text: String::new(),
                    kind: EditKind::DeleteLine,
                });
            }
            6 => {
                let names = identifiers(&current);
                if !names.is_empty() {
                    produced.push(TextEdit {
                        range: names[rng.usize(..names.len())].clone(),
                        text: NAMES[rng.usize(..NAMES.len())].to_string(),
                        kind: EditKind::Rename,
                    });
                }
            }
            7 if lines.len() > 2 => {
                let first = rng.usize(..lines.len());
                let last_line = (first + rng.usize(2..=4)).min(lines.len()) - 1;
                let mut block = current[lines[first].start..lines[last_line].end].to_string();
                if !block.ends_with('\n') {
                    block.push('\n');
                }
                let at = lines[rng.usize(..lines.len())].start;
                produced.push(TextEdit {
                    range: at..at,
                    text: block,
                    kind: EditKind::PasteBlock,
                });
            }
            8 | 9 => {
                if let Some((edit, before)) = last.take() {
                    produced.push(edit.inverse(&before));
                }
            }
            _ => {}
        }
        if produced.is_empty() && lines.is_empty() {
            // An empty file: type into it.
            produced.push(TextEdit {
                range: 0..0,
                text: "x".into(),
                kind: EditKind::Keystroke,
            });
        }
        for edit in produced {
            let next = edit.apply(&current);
            let before = std::mem::replace(&mut current, next);
            last = (edit.kind != EditKind::Undo).then(|| (edit.clone(), before));
            edits.push(edit);
        }
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::snippets;
    use crate::reference::ReferenceTree;

    #[test]
    fn scripts_are_deterministic_and_have_every_kind_of_step() {
        let text = "def f(x):\n    y = x + 1\n    return y\n\nclass A:\n    z = f(2)\n";
        let a = script(text, 200, 7);
        assert_eq!(a, script(text, 200, 7));
        assert_ne!(a, script(text, 200, 8));
        assert_eq!(a.len(), 200);
        for kind in [
            EditKind::Keystroke,
            EditKind::CopyLine,
            EditKind::DeleteLine,
            EditKind::Rename,
            EditKind::PasteBlock,
            EditKind::Undo,
        ] {
            assert!(a.iter().any(|e| e.kind == kind), "{kind:?}");
        }
    }

    #[test]
    fn an_undo_restores_the_text_before_the_step_it_undoes() {
        let text = "let a = 1;\nlet b = a + 2;\nfunction f() { return b; }\n";
        let edits = script(text, 300, 3);
        let mut versions = vec![text.to_string()];
        for edit in &edits {
            versions.push(edit.apply(versions.last().unwrap()));
        }
        let mut undos = 0;
        for (i, edit) in edits.iter().enumerate() {
            if edit.kind == EditKind::Undo {
                assert_eq!(versions[i + 1], versions[i - 1], "edit {i}");
                undos += 1;
            }
        }
        assert!(undos > 10);
    }

    /// tree-sitter, told of each edit through `input_edit` and reparsing from the old tree, reaches the same
    /// tree as a fresh parse: the positions are right.
    #[test]
    fn incremental_reparses_match_fresh_parses() {
        for snippet in snippets() {
            let language = snippet.language;
            let mut parser = language.parser();
            let mut text = snippet.text.clone();
            let mut tree = parser.parse(&text, None).unwrap();
            for edit in script(&text, 25, 11) {
                tree.edit(&edit.input_edit(&text));
                text = edit.apply(&text);
                tree = parser.parse(&text, Some(&tree)).unwrap();
                let fresh = language.parse(&text);
                let (a, b) = (ReferenceTree::of(&tree), ReferenceTree::of(&fresh));
                assert_eq!(
                    format!("{a:?}"),
                    format!("{b:?}"),
                    "{} after {edit:?}",
                    snippet.name
                );
            }
        }
    }
}
