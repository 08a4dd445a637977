//! Static context models: for each context (a 64-bit key), the symbols seen in it across the corpus with
//! their frequencies quantised to 15 bits. Built once in `finish()` from counts over every file (so every
//! symbol the encoder will meet is in its table), held by the store, counted in its retained bytes, and
//! shared by every file's blob.
//!
//! A context with a single symbol costs nothing to code: neither side touches the rANS stream. Tables are
//! ordered by falling frequency, so the decoder's linear scan of a table usually stops at its first entry.
//! A table keeps at most [`MAX_SYMBOLS`]; rarer values are coded as [`ESCAPE`] and 32 raw bits.

use crate::rans::{Decoder, Encoder};
use std::collections::HashMap;

/// Precision of every table: frequencies sum to `1 << PRECISION`.
pub(crate) const PRECISION: u32 = 15;
/// Stands for a value the table does not list (followed by the value in 32 raw bits).
pub(crate) const ESCAPE: u32 = u32::MAX - 1;
/// Most symbols one table lists.
const MAX_SYMBOLS: usize = 4096;
const EMPTY: u64 = 0;

/// How often each value occurred in each context (the first pass over the corpus).
#[derive(Default)]
pub(crate) struct Counts {
    map: HashMap<(u64, u32), u64>,
}

impl Counts {
    #[inline]
    pub fn add(&mut self, key: u64, value: u32) {
        *self.map.entry((key, value)).or_default() += 1;
    }
}

/// The tables, behind an open-addressing index from context key to table.
pub(crate) struct Model {
    /// Context keys by hash slot (`EMPTY` = free; no key is 0).
    keys: Vec<u64>,
    /// Table number of each occupied slot.
    slots: Vec<u32>,
    /// Where each table's entries start; table `t` is `heads[t]..heads[t + 1]`.
    heads: Vec<u32>,
    values: Vec<u32>,
    /// Quantised frequencies (0 in one-symbol tables, which are never coded).
    freqs: Vec<u16>,
    shift: u32,
}

#[inline]
fn hash(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

impl Model {
    /// Builds the tables from `counts` (deterministically: the order of a `HashMap` never shows).
    pub fn build(counts: Counts) -> Model {
        let mut pairs: Vec<((u64, u32), u64)> = counts.map.into_iter().collect();
        pairs.sort_unstable_by(|a, b| (a.0 .0, std::cmp::Reverse(a.1), a.0 .1).cmp(&(b.0 .0, std::cmp::Reverse(b.1), b.0 .1)));
        let tables = pairs.chunk_by(|a, b| a.0 .0 == b.0 .0).count();
        let capacity = (tables * 4 / 3 + 1).next_power_of_two().max(2);
        let mut model = Model {
            keys: vec![EMPTY; capacity],
            slots: vec![0; capacity],
            heads: Vec::with_capacity(tables + 1),
            values: Vec::with_capacity(pairs.len()),
            freqs: Vec::with_capacity(pairs.len()),
            shift: 64 - capacity.trailing_zeros(),
        };
        for group in pairs.chunk_by(|a, b| a.0 .0 == b.0 .0) {
            let key = group[0].0 .0;
            debug_assert_ne!(key, EMPTY);
            let table = model.heads.len() as u32;
            model.heads.push(model.values.len() as u32);
            let mut slot = hash(key, model.shift);
            while model.keys[slot] != EMPTY {
                slot = (slot + 1) & (capacity - 1);
            }
            model.keys[slot] = key;
            model.slots[slot] = table;
            // The most frequent values, and an escape for the rest when there are too many.
            let mut listed: Vec<(u32, u64)> = group.iter().map(|&((_, v), c)| (v, c)).collect();
            if listed.len() > MAX_SYMBOLS {
                let rest: u64 = listed[MAX_SYMBOLS - 1..].iter().map(|p| p.1).sum();
                listed.truncate(MAX_SYMBOLS - 1);
                listed.push((ESCAPE, rest));
                listed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            }
            for (value, freq) in quantise(&listed) {
                model.values.push(value);
                model.freqs.push(freq);
            }
        }
        model.heads.push(model.values.len() as u32);
        model.heads.shrink_to_fit();
        model
    }

    /// Bytes this model holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8 + self.slots.capacity() * 4 + self.heads.capacity() * 4 + self.values.capacity() * 4 + self.freqs.capacity() * 2
    }

    /// Number of contexts and of table entries.
    pub fn sizes(&self) -> (usize, usize) {
        (self.heads.len() - 1, self.values.len())
    }

    #[inline]
    fn table(&self, key: u64) -> std::ops::Range<usize> {
        let mask = self.keys.len() - 1;
        let mut slot = hash(key, self.shift);
        loop {
            let k = self.keys[slot];
            if k == key {
                let t = self.slots[slot] as usize;
                return self.heads[t] as usize..self.heads[t + 1] as usize;
            }
            assert!(k != EMPTY, "context {key:#x} is not in the model: the blob does not belong to this store");
            slot = (slot + 1) & mask;
        }
    }

    /// Codes `value` in context `key` (which the counting pass saw with that value).
    pub fn encode(&self, key: u64, value: u32, enc: &mut Encoder) {
        let range = self.table(key);
        if range.len() == 1 && self.values[range.start] == value {
            return;
        }
        let mut start = 0;
        let mut escape = None;
        for i in range {
            let freq = u32::from(self.freqs[i]);
            if self.values[i] == value {
                enc.put(start, freq, PRECISION);
                return;
            }
            if self.values[i] == ESCAPE {
                escape = Some((start, freq));
            }
            start += freq;
        }
        let (start, freq) = escape.expect("every value counted is listed or escaped");
        enc.put(start, freq, PRECISION);
        enc.put_raw(value, 32);
    }

    /// Decodes the value coded in context `key`.
    #[inline]
    pub fn decode(&self, key: u64, dec: &mut Decoder<'_>) -> u32 {
        let range = self.table(key);
        if range.len() == 1 {
            return self.values[range.start];
        }
        let slot = dec.peek(PRECISION);
        let mut start = 0;
        for i in range.clone() {
            let freq = u32::from(self.freqs[i]);
            if slot < start + freq {
                dec.advance(start, freq, PRECISION);
                let value = self.values[i];
                return if value == ESCAPE { dec.raw(32) } else { value };
            }
            start += freq;
        }
        unreachable!("frequencies sum to 1 << PRECISION")
    }
}

/// Frequencies summing to exactly `1 << PRECISION`, each at least 1 (`counts` sorted by falling count,
/// at most [`MAX_SYMBOLS`] of them). A single value gets 0: it is never coded.
fn quantise(counts: &[(u32, u64)]) -> Vec<(u32, u16)> {
    if counts.len() == 1 {
        return vec![(counts[0].0, 0)];
    }
    let total: u64 = counts.iter().map(|c| c.1).sum();
    let scale = 1u64 << PRECISION;
    let mut freqs: Vec<u64> = counts.iter().map(|c| (c.1 * scale / total).max(1)).collect();
    let mut sum: u64 = freqs.iter().sum();
    // Rounding left a surplus or a shortfall: settle it on the largest entries first.
    let mut i = 0;
    while sum > scale {
        if freqs[i] > 1 {
            let take = (freqs[i] - 1).min(sum - scale);
            freqs[i] -= take;
            sum -= take;
        }
        i = (i + 1) % freqs.len();
    }
    freqs[0] += scale - sum;
    counts.iter().zip(freqs).map(|(c, f)| (c.0, f as u16)).collect()
}

#[cfg(test)]
mod tests {
    use super::{quantise, Counts, Model, ESCAPE, MAX_SYMBOLS, PRECISION};
    use crate::rans::{Decoder, Encoder};

    #[test]
    fn quantised_frequencies_sum_to_the_precision() {
        for n in [2usize, 3, 100, MAX_SYMBOLS] {
            let counts: Vec<(u32, u64)> = (0..n).map(|i| (i as u32, 1_000_000 / (i as u64 + 1) + 1)).collect();
            let q = quantise(&counts);
            assert_eq!(q.iter().map(|p| u64::from(p.1)).sum::<u64>(), 1 << PRECISION);
            assert!(q.iter().all(|p| p.1 >= 1));
        }
    }

    #[test]
    fn values_round_trip_through_every_kind_of_table() {
        let mut counts = Counts::default();
        let mut sequence = Vec::new();
        // Context 1: one value; 2: skewed; 3: more values than a table lists (escapes).
        for i in 0..10_000u32 {
            sequence.push((1u64, 42u32));
            sequence.push((2, if i % 10 == 0 { 7 } else { 8 }));
            sequence.push((3, (i * 7919) % (MAX_SYMBOLS as u32 + 500)));
        }
        sequence.push((3, 0xdead_beef));
        for &(k, v) in &sequence {
            counts.add(k, v);
        }
        let model = Model::build(counts);
        let mut enc = Encoder::default();
        for &(k, v) in &sequence {
            model.encode(k, v, &mut enc);
        }
        let mut bytes = Vec::new();
        enc.finish(&mut bytes);
        let mut dec = Decoder::new(&bytes);
        for &(k, v) in &sequence {
            assert_eq!(model.decode(k, &mut dec), v);
        }
        assert!(model.values.contains(&ESCAPE));
        // The one-value context cost nothing: 10,000 coin-flip-free symbols in far fewer bytes than values.
        assert!(bytes.len() < 40_000, "{}", bytes.len());
    }
}
