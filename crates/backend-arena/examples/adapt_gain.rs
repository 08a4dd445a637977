//! What codes adapted to a corpus would save over the static models: per part, the bits the static codes
//! take and those of Huffman codes built from the corpus's own counts (an estimate, tables not counted).
//!
//! Usage: `cargo run -p backend-arena --release --example adapt_gain -- DIR...`

use backend_arena::RecordParts;
use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::path::Path;

fn huffman_bits(counts: &[u64]) -> u64 {
    let mut heap: BinaryHeap<std::cmp::Reverse<u64>> = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| std::cmp::Reverse(c))
        .collect();
    if heap.len() <= 1 {
        return heap.peek().map_or(0, |c| c.0);
    }
    let mut total = 0;
    while heap.len() > 1 {
        let a = heap.pop().unwrap().0;
        let b = heap.pop().unwrap().0;
        total += a + b;
        heap.push(std::cmp::Reverse(a + b));
    }
    total
}

fn number_symbol(value: u32) -> (usize, u64) {
    if value < 16 {
        (value as usize, 0)
    } else {
        let bits = 31 - value.leading_zeros();
        (16 + bits as usize - 4, u64::from(bits))
    }
}

fn main() {
    let mut by_language: BTreeMap<&str, RecordParts> = BTreeMap::new();
    for arg in std::env::args().skip(1) {
        let corpus = Corpus::scan(Path::new(&arg), DEFAULT_MAX_FILE_BYTES).expect("corpus");
        for file in &corpus.files {
            let text = file.text().expect("readable");
            let parts =
                RecordParts::of(file.language, &text, &file.language.parse(&text)).expect("fits");
            by_language
                .entry(file.language.name())
                .or_default()
                .add(&parts);
        }
    }
    for (name, p) in &by_language {
        let n = p.nodes as f64;
        println!("{name}: {} nodes; static bits per node: symbol {:.3} gap {:.3} length {:.3} size {:.3}",
            p.nodes, p.symbol_bits as f64 / n, p.gap_bits as f64 / n,
            (p.leaf_length_bits + p.inner_length_bits) as f64 / n, p.size_bits as f64 / n);
        // Symbols per context.
        let mut contexts: HashMap<u32, HashMap<u32, u64>> = HashMap::new();
        let mut numbers: HashMap<(u8, u32), [u64; 44]> = HashMap::new();
        let mut by_kind: HashMap<(u8, u32, u16), [u64; 44]> = HashMap::new();
        let mut extra = [0u64; 4];
        // Sizes left out for subtrees of at most `k` descendants (a skip symbol instead).
        for k in [1u32, 2, 3, 4, 6, 8, 12, 16] {
            let mut h = [0u64; 45];
            let mut extra = 0;
            let mut skipped = 0;
            for &(what, size, descendants, _) in &p.counts {
                if what != 4 {
                    continue;
                }
                if descendants <= k {
                    h[44] += 1;
                    skipped += descendants;
                    continue;
                }
                let (symbol, bits) = number_symbol(size);
                h[symbol] += 1;
                extra += bits;
            }
            println!("  sizes with a skip symbol for at most {k} descendants: {:.3} bits per node ({:.3} records decoded to skip per node)",
                (huffman_bits(&h) + extra) as f64 / n, skipped as f64 / n);
        }
        for &(what, code, value, kind) in &p.counts {
            if what == 4 {
                continue;
            }
            if what == 0 {
                *contexts.entry(code).or_default().entry(value).or_default() += 1;
            } else {
                let (symbol, bits) = number_symbol(value);
                numbers.entry((what, code)).or_insert([0; 44])[symbol] += 1;
                by_kind.entry((what, code, kind)).or_insert([0; 44])[symbol] += 1;
                extra[usize::from(what)] += bits;
            }
        }
        let symbol: u64 = contexts
            .values()
            .map(|c| huffman_bits(&c.values().copied().collect::<Vec<_>>()))
            .sum();
        println!(
            "  adapted symbols: {:.3} bits per node ({} contexts used)",
            symbol as f64 / n,
            contexts.len()
        );
        for what in 1..4u8 {
            let codes: Vec<_> = numbers.iter().filter(|(k, _)| k.0 == what).collect();
            let adapted: u64 = codes.iter().map(|(_, h)| huffman_bits(&h[..])).sum::<u64>()
                + extra[usize::from(what)];
            println!(
                "  adapted {} ({} codes): {:.3} bits per node",
                ["", "gap", "length", "size"][usize::from(what)],
                codes.len(),
                adapted as f64 / n
            );
            // Splitting by kind: gain of each kind's own code over its share of the shared code, greedily.
            let mut gains: Vec<(i64, u16, u64)> = Vec::new();
            for (&(w, code, kind), h) in &by_kind {
                if w != what {
                    continue;
                }
                let shared = &numbers[&(w, code)];
                let total: u64 = shared.iter().sum();
                // Bits under the shared adapted code: approximate by its ideal lengths.
                let lens: Vec<f64> = shared
                    .iter()
                    .map(|&c| {
                        if c == 0 {
                            8.0
                        } else {
                            -((c as f64) / total as f64).log2()
                        }
                    })
                    .collect();
                let under_shared: f64 = h.iter().zip(&lens).map(|(&c, &l)| c as f64 * l).sum();
                let own = huffman_bits(&h[..]) as f64;
                gains.push(((under_shared - own) as i64, kind, h.iter().sum()));
            }
            gains.sort_unstable_by(|a, b| b.cmp(a));
            let mut acc = 0i64;
            for (i, (g, kind, count)) in gains.iter().take(12).enumerate() {
                acc += g;
                println!("    split #{i}: kind {kind} ({count} values) saves {} bits ({} B), running {:.0} B", g, g / 8, acc as f64 / 8.0);
            }
        }
    }
}
