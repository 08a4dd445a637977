//! Static context models: for each context (a 32-bit key), the symbols seen in it across the corpus with
//! their frequencies quantised to 15 bits. Built once in `finish()` from counts over every file (so every
//! symbol the encoder will meet is in its table), held by the store, counted in its retained bytes, and
//! shared by every file's blob.
//!
//! Contexts come in levels: a fine key, and a coarse key in which one component is the wildcard [`WILD`]
//! (see [`coarse`]); node symbols have a finer key in front (with the grandparent, hashed: see
//! [`Counts::add2`]). A fine or finer context keeps its own table only when the bits it saves over the table
//! its values would use otherwise exceed what the table costs to hold; pruned fine contexts share the coarse
//! table, built from their counts alone. Both sides look the finest key up first.
//!
//! A context with a single symbol costs nothing to code: neither side touches the rANS stream. Tables are
//! ordered by falling frequency, so the decoder's linear scan of a table usually stops at its first entry.
//! A table keeps at most [`MAX_SYMBOLS`]; rarer values are coded as [`ESCAPE`] and 32 raw bits.
//!
//! Memory: an open-addressing index of (key, table start) pairs, 8 bytes a slot at a load of 4/5 (the
//! probes of a miss, which a pruned fine context's lookup is, are paid once per thaw: the reader caches
//! its lookups), and 6 bytes per table entry (value and frequency).

use crate::rans::{Decoder, Encoder};
use std::collections::HashMap;

/// Precision of every table: frequencies sum to `1 << PRECISION`.
pub(crate) const PRECISION: u32 = 15;
/// A decoder's lookup table of a table of literal bytes has `1 << LUT_BITS` buckets.
pub(crate) const LUT_BITS: u32 = 12;
/// Stands for a value the table does not list (followed by the value in 32 raw bits).
pub(crate) const ESCAPE: u32 = u32::MAX - 1;
/// The wildcard component of a coarse key.
pub(crate) const WILD: u32 = 0x7ff;
/// Most symbols one table lists.
const MAX_SYMBOLS: usize = 4096;
const EMPTY: u32 = 0;
/// Slot data flag: the context has one value, held in the slot (values are below 2^31 - 1).
const SINGLE: u32 = 1 << 31;
/// The table of a context the model does not hold (a tolerant blob's symbol there is raw; see
/// [`Model::encode_tolerant`]).
pub(crate) const NO_TABLE: u32 = u32::MAX;
/// A tolerant blob's escape flag, coded before each symbol that has a table: this share of the slots of
/// `1 << PRECISION` says "escaped" (the value follows in 32 raw bits), the rest "coded by the table".
const TOLERANT_ESCAPE: u32 = 1;
/// Bytes a context's own table costs besides its entries (index slot at 4/5 load), and per entry.
const CONTEXT_BYTES: f64 = 10.0;
const ENTRY_BYTES: f64 = 6.0;

/// A key: a tag (1..=7, never 0, so no key is 0), a language, and two components below 2^13.
#[inline]
pub(crate) fn key(tag: u32, lang: u32, a: u32, b: u32) -> u32 {
    debug_assert!((1..8).contains(&tag) && lang < 4 && a < 1 << 14 && b < 1 << 13);
    (tag << 29) | (lang << 27) | (a << 13) | b
}

/// The coarse key of a fine one: component `a` wildcarded for tags listed in `wild_a`, `b` otherwise.
/// Keys whose wildcarded component already is [`WILD`] are their own coarse key.
#[inline]
pub(crate) fn coarse(key: u32, wild_a: u8) -> u32 {
    let tag = key >> 29;
    if wild_a & (1 << tag) != 0 {
        (key & !(0x3fff << 13)) | (WILD << 13)
    } else {
        (key & !0x1fff) | WILD
    }
}

/// How often each value occurred in each fine context (the counting pass over the corpus), and for values
/// coded with a finer context in front of the fine one, in each (finer, fine) pair.
#[derive(Default)]
pub(crate) struct Counts {
    map: HashMap<(u32, u32), u64>,
    chains: HashMap<(u32, u32, u32), u64>,
}

impl Counts {
    #[inline]
    pub fn add(&mut self, key: u32, value: u32) {
        *self.map.entry((key, value)).or_default() += 1;
    }

    /// A value coded in context `finer` if the model keeps it, else as in `fine` (see [`Model::table2`]).
    #[inline]
    pub fn add2(&mut self, finer: u32, fine: u32, value: u32) {
        self.add(fine, value);
        *self.chains.entry((finer, fine, value)).or_default() += 1;
    }
}

/// The tables, behind an open-addressing index from context key to table start.
pub(crate) struct Model {
    /// `(key, data)` per slot (key `EMPTY` = free): the table start, or [`SINGLE`] | the value of a
    /// context with a single value (decoded without touching the entries).
    slots: Vec<(u32, u32)>,
    values: Vec<u32>,
    /// Quantised frequencies; a one-value table's single entry has 0 (it is never coded).
    freqs: Vec<u16>,
    wild_a: u8,
}

#[inline]
fn home(key: u32, len: usize) -> usize {
    ((u64::from(key.wrapping_mul(0x9E37_79B1)) * len as u64) >> 32) as usize
}

/// Bits to code the values of `counts` with a table of `table`'s distribution (ideal, unquantised).
fn bits(counts: &[(u32, u64)], table: &HashMap<u32, u64>, total: u64) -> f64 {
    counts
        .iter()
        .map(|&(v, c)| c as f64 * (total as f64 / table[&v] as f64).log2())
        .sum()
}

impl Model {
    /// Builds the tables from `counts` (deterministically: the order of a `HashMap` never shows), pruning
    /// fine contexts that do not pay for themselves. `wild_a` has bit `tag` set for tags whose coarse key
    /// wildcards component `a`.
    pub fn build(counts: Counts, wild_a: u8, lookup: impl Fn(u32) -> bool) -> Model {
        let mut pairs: Vec<(u32, u32, u64)> = counts
            .map
            .into_iter()
            .map(|((k, v), c)| (k, v, c))
            .collect();
        pairs.sort_unstable();
        let groups: Vec<&[(u32, u32, u64)]> = pairs.chunk_by(|a, b| a.0 == b.0).collect();
        let mut all_coarse: HashMap<u32, HashMap<u32, u64>> = HashMap::new();
        for &(k, v, c) in &pairs {
            *all_coarse
                .entry(coarse(k, wild_a))
                .or_default()
                .entry(v)
                .or_default() += c;
        }
        // Which fine contexts keep a table of their own.
        let mut tables: HashMap<u32, HashMap<u32, u64>> = HashMap::new();
        let mut resolved: HashMap<u32, u32> = HashMap::new();
        for group in &groups {
            let key = group[0].0;
            let coarse_key = coarse(key, wild_a);
            let own: Vec<(u32, u64)> = group.iter().map(|&(_, v, c)| (v, c)).collect();
            let keep = key == coarse_key || {
                let total: u64 = own.iter().map(|p| p.1).sum();
                let own_map: HashMap<u32, u64> = own.iter().copied().collect();
                let wide = &all_coarse[&coarse_key];
                let saved = bits(&own, wide, wide.values().sum()) - bits(&own, &own_map, total);
                saved > 8.0 * (CONTEXT_BYTES + ENTRY_BYTES * own.len() as f64)
            };
            let target = if keep { key } else { coarse_key };
            resolved.insert(key, target);
            let table = tables.entry(target).or_default();
            for (v, c) in own {
                *table.entry(v).or_default() += c;
            }
        }
        // Finer contexts keep a table when it saves more than it costs over the tables their values would
        // be coded with otherwise (which already hold those values: every value is counted at both levels).
        let mut chains: Vec<(u32, u32, u32, u64)> = counts
            .chains
            .into_iter()
            .map(|((f, k, v), c)| (f, k, v, c))
            .collect();
        chains.sort_unstable();
        let totals: HashMap<u32, u64> =
            tables.iter().map(|(&k, t)| (k, t.values().sum())).collect();
        let mut finer_tables: Vec<(u32, HashMap<u32, u64>)> = Vec::new();
        for group in chains.chunk_by(|a, b| a.0 == b.0) {
            let mut own: HashMap<u32, u64> = HashMap::new();
            let mut otherwise = 0.0;
            for &(_, fine, v, c) in group {
                *own.entry(v).or_default() += c;
                let target = resolved[&fine];
                otherwise +=
                    c as f64 * (totals[&target] as f64 / tables[&target][&v] as f64).log2();
            }
            let total: u64 = own.values().sum();
            let with_own: f64 = own
                .values()
                .map(|&c| c as f64 * (total as f64 / c as f64).log2())
                .sum();
            if otherwise - with_own > 8.0 * (CONTEXT_BYTES + ENTRY_BYTES * own.len() as f64) {
                finer_tables.push((group[0].0, own));
            }
        }
        tables.extend(finer_tables);
        let mut keys: Vec<u32> = tables.keys().copied().collect();
        keys.sort_unstable();
        let capacity = keys.len() * 5 / 4 + 1;
        let entries: usize = tables.values().map(|t| t.len().min(MAX_SYMBOLS)).sum();
        let mut model = Model {
            slots: vec![(EMPTY, 0); capacity],
            values: Vec::with_capacity(entries),
            freqs: Vec::with_capacity(entries),
            wild_a,
        };
        for key in keys {
            let mut listed: Vec<(u32, u64)> = tables[&key].iter().map(|(&v, &c)| (v, c)).collect();
            listed.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            if listed.len() > MAX_SYMBOLS {
                let rest: u64 = listed[MAX_SYMBOLS - 1..].iter().map(|p| p.1).sum();
                listed.truncate(MAX_SYMBOLS - 1);
                listed.push((ESCAPE, rest));
                listed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            }
            let mut slot = home(key, capacity);
            while model.slots[slot].0 != EMPTY {
                slot = (slot + 1) % capacity;
            }
            if listed.len() == 1 && listed[0].0 < SINGLE - 1 {
                model.slots[slot] = (key, SINGLE | listed[0].0);
                continue;
            }
            let start = model.values.len() as u32;
            model.slots[slot] = (key, start);
            // Tables decoded through a lookup table have frequencies in whole buckets of it.
            let step = if lookup(key) && listed.len() <= 256 {
                PRECISION - LUT_BITS
            } else {
                0
            };
            let quantised = quantise(&listed, step);
            for (value, freq) in quantised {
                model.values.push(value);
                model.freqs.push(freq);
            }
        }
        model.values.shrink_to_fit();
        model.freqs.shrink_to_fit();
        model
    }

    /// The values and frequencies of table `table` if a decoder can build a lookup table for it: at most 256
    /// entries, every frequency a whole number of the `1 << LUT_BITS` buckets (the model builds tables so for
    /// the contexts `build` was told to).
    pub fn lut_entries(&self, table: u32) -> Option<(&[u32], &[u16])> {
        if table & SINGLE != 0 {
            return None;
        }
        let range = self.entries(table as usize);
        let (values, freqs) = (&self.values[range.clone()], &self.freqs[range]);
        let step = (1 << (PRECISION - LUT_BITS)) - 1;
        (values.len() > 1
            && values.len() <= 256
            && freqs.iter().all(|&f| f & step == 0)
            && values.iter().all(|&v| v < 256))
        .then_some((values, freqs))
    }

    /// Bytes this model holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.values.capacity() * 4 + self.freqs.capacity() * 2
    }

    /// Every context key with the number of entries of its table.
    pub fn tables(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.slots
            .iter()
            .filter(|s| s.0 != EMPTY)
            .map(|&(k, data)| {
                (
                    k,
                    if data & SINGLE != 0 {
                        1
                    } else {
                        self.entries(data as usize).len()
                    },
                )
            })
    }

    /// The entries of the table starting at `start`.
    fn entries(&self, start: usize) -> std::ops::Range<usize> {
        if self.freqs[start] == 0 {
            return start..start + 1;
        }
        let mut sum = 0u32;
        let mut end = start;
        while sum < 1 << PRECISION {
            sum += u32::from(self.freqs[end]);
            end += 1;
        }
        start..end
    }

    #[inline]
    fn find(&self, key: u32) -> Option<u32> {
        let capacity = self.slots.len();
        let mut slot = home(key, capacity);
        loop {
            let (k, data) = self.slots[slot];
            if k == key {
                return Some(data);
            }
            if k == EMPTY {
                return None;
            }
            slot = if slot + 1 == capacity { 0 } else { slot + 1 };
        }
    }

    /// The slot data of the table coding context `key` (its own, or its coarse context's): a table start, or
    /// [`SINGLE`] and the only value; [`NO_TABLE`] for a context the model does not hold (which only a
    /// tolerant blob codes).
    #[inline]
    pub fn table(&self, key: u32) -> u32 {
        self.find(key)
            .or_else(|| self.find(coarse(key, self.wild_a)))
            .unwrap_or(NO_TABLE)
    }

    /// The table of a value counted with [`Counts::add2`]: `finer`'s if kept, else `fine`'s as [`Model::table`].
    #[inline]
    pub fn table2(&self, finer: u32, fine: u32) -> u32 {
        self.find(finer).unwrap_or_else(|| self.table(fine))
    }

    /// Whether table `table` can code `value` (lists it or has an escape).
    fn codes(&self, table: u32, value: u32) -> bool {
        if table == NO_TABLE {
            return false;
        }
        if table & SINGLE != 0 {
            return table & !SINGLE == value;
        }
        self.entries(table as usize)
            .any(|i| self.values[i] == value || self.values[i] == ESCAPE)
    }

    /// Codes `value` with table `table` in a tolerant blob (a file frozen after the model was built, which may
    /// hold what the corpus did not): with no table, 32 raw bits; else an escape flag (almost free when it
    /// says "not escaped"), then either the table's symbol or 32 raw bits.
    pub fn encode_tolerant(&self, table: u32, value: u32, enc: &mut Encoder) {
        if table == NO_TABLE {
            enc.put_raw(value, 32);
        } else if self.codes(table, value) {
            enc.put(0, (1 << PRECISION) - TOLERANT_ESCAPE, PRECISION);
            self.encode_at(table, value, enc);
        } else {
            enc.put(
                (1 << PRECISION) - TOLERANT_ESCAPE,
                TOLERANT_ESCAPE,
                PRECISION,
            );
            enc.put_raw(value, 32);
        }
    }

    /// Decodes what [`Model::encode_tolerant`] coded.
    pub fn decode_tolerant(&self, table: u32, dec: &mut Decoder<'_>) -> u32 {
        if table == NO_TABLE {
            return dec.raw(32);
        }
        let limit = (1 << PRECISION) - TOLERANT_ESCAPE;
        if dec.peek(PRECISION) >= limit {
            dec.advance(limit, TOLERANT_ESCAPE, PRECISION);
            dec.raw(32)
        } else {
            dec.advance(0, limit, PRECISION);
            self.decode_at(table, dec)
        }
    }

    /// Codes `value` in context `key` (which the counting pass saw with that value).
    pub fn encode(&self, key: u32, value: u32, enc: &mut Encoder) {
        self.encode_at(self.table(key), value, enc);
    }

    /// Codes `value` with table `table` (from [`Model::table`] or [`Model::table2`]).
    pub fn encode_at(&self, table: u32, value: u32, enc: &mut Encoder) {
        if table & SINGLE != 0 {
            assert_eq!(
                table & !SINGLE,
                value,
                "a one-value context codes its value"
            );
            return;
        }
        let range = self.entries(table as usize);
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

    /// Bits that coding `value` in context `key` costs (an escape's raw bits included).
    pub fn cost(&self, key: u32, value: u32) -> f64 {
        self.cost_at(self.table(key), value)
    }

    /// Bits that coding `value` with table `table` costs.
    pub fn cost_at(&self, table: u32, value: u32) -> f64 {
        if table & SINGLE != 0 {
            return 0.0;
        }
        let range = self.entries(table as usize);
        if range.len() == 1 {
            return 0.0;
        }
        match range.clone().find(|&i| self.values[i] == value) {
            Some(i) => f64::from(PRECISION) - f64::from(self.freqs[i]).log2(),
            None => {
                let i = range
                    .clone()
                    .find(|&i| self.values[i] == ESCAPE)
                    .expect("escaped");
                32.0 + f64::from(PRECISION) - f64::from(self.freqs[i]).log2()
            }
        }
    }

    /// Decodes a value with the table `table` (from [`Model::table`]).
    #[inline(always)]
    pub fn decode_at(&self, table: u32, dec: &mut Decoder<'_>) -> u32 {
        if table & SINGLE != 0 {
            return table & !SINGLE;
        }
        let mut i = table as usize;
        let mut freq = u32::from(self.freqs[i]);
        if freq == 0 {
            return self.values[i];
        }
        let slot = dec.peek(PRECISION);
        let mut start = 0;
        while slot >= start + freq {
            start += freq;
            i += 1;
            freq = u32::from(self.freqs[i]);
        }
        dec.advance(start, freq, PRECISION);
        let value = self.values[i];
        if value == ESCAPE {
            dec.raw(32)
        } else {
            value
        }
    }
}

impl Model {
    /// The model's saved form (`saved.rs`): `wild_a`, the slot count and the entry count (`u32` each), then
    /// every slot's key and data, every entry's value (`u32` each) and every entry's frequency (`u16`).
    pub(crate) fn to_section(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.slots.len() * 8 + self.values.len() * 6);
        for n in [
            u32::from(self.wild_a),
            self.slots.len() as u32,
            self.values.len() as u32,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for &(key, data) in &self.slots {
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&data.to_le_bytes());
        }
        for v in &self.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for f in &self.freqs {
            out.extend_from_slice(&f.to_le_bytes());
        }
        out
    }

    /// Reads a model's saved form, refusing any whose use could panic, read out of bounds or not end: the
    /// section's length must be the counts' exactly (checked before anything is allocated), the entries must
    /// split into tables end to end (a one-entry table of frequency 0, or entries of frequencies 1 and up
    /// summing to exactly `1 << PRECISION`), every slot's table start must be one of theirs, and one slot at
    /// least must be free (a lookup's probe ends at a free slot). O(its size).
    pub(crate) fn from_section(bytes: &[u8]) -> Result<Model, String> {
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        if bytes.len() < 12 {
            return Err(format!(
                "the model takes {} bytes, less than its counts",
                bytes.len()
            ));
        }
        let (wild_a, slots, entries) = (word(0), word(4) as u64, word(8) as u64);
        if 12 + slots * 8 + entries * 6 != bytes.len() as u64 {
            return Err(format!(
                "the model takes {} bytes, not the {} its {slots} slots and {entries} entries need",
                bytes.len(),
                12 + slots * 8 + entries * 6
            ));
        }
        let wild_a = u8::try_from(wild_a)
            .map_err(|_| format!("the model's wildcard mask {wild_a} is not a byte"))?;
        let (slots, entries) = (slots as usize, entries as usize);
        let values_at = 12 + slots * 8;
        let freqs_at = values_at + entries * 4;
        let model = Model {
            slots: (0..slots)
                .map(|i| (word(12 + i * 8), word(16 + i * 8)))
                .collect(),
            values: (0..entries).map(|i| word(values_at + i * 4)).collect(),
            freqs: (0..entries)
                .map(|i| u16::from_le_bytes([bytes[freqs_at + i * 2], bytes[freqs_at + i * 2 + 1]]))
                .collect(),
            wild_a,
        };
        let mut starts = Vec::new();
        let mut at = 0;
        while at < entries {
            starts.push(at as u32);
            if model.freqs[at] == 0 {
                at += 1;
                continue;
            }
            let (start, mut sum) = (at, 0u32);
            while sum < 1 << PRECISION {
                match model.freqs.get(at) {
                    None => {
                        return Err(format!(
                            "the model's table at entry {start} runs past its entries"
                        ))
                    }
                    Some(0) => {
                        return Err(format!(
                            "the model's table at entry {start} has an entry of frequency 0"
                        ))
                    }
                    Some(&f) => sum += u32::from(f),
                }
                at += 1;
            }
            if sum != 1 << PRECISION {
                return Err(format!(
                    "the model's table at entry {start} has frequencies summing to {sum}, not {}",
                    1u32 << PRECISION
                ));
            }
        }
        for &(key, data) in &model.slots {
            if key != EMPTY && data & SINGLE == 0 && starts.binary_search(&data).is_err() {
                return Err(format!(
                    "the model's context {key:#x} points at entry {data}, which starts no table"
                ));
            }
        }
        if !model.slots.iter().any(|s| s.0 == EMPTY) {
            return Err("the model's index has no free slot (a lookup would not end)".into());
        }
        Ok(model)
    }
}

/// Frequencies summing to exactly `1 << PRECISION`, each at least 1 (`counts` sorted by falling count,
/// at most [`MAX_SYMBOLS`] of them), in multiples of `1 << step`. A single value gets 0: it is never coded.
fn quantise(counts: &[(u32, u64)], step: u32) -> Vec<(u32, u16)> {
    if counts.len() == 1 {
        return vec![(counts[0].0, 0)];
    }
    let total: u64 = counts.iter().map(|c| c.1).sum();
    let scale = 1u64 << (PRECISION - step);
    let mut freqs: Vec<u64> = counts
        .iter()
        .map(|c| (c.1 * scale / total).max(1))
        .collect();
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
    counts
        .iter()
        .zip(freqs)
        .map(|(c, f)| (c.0, (f << step) as u16))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{
        coarse, key, quantise, Counts, Model, ESCAPE, MAX_SYMBOLS, NO_TABLE, PRECISION, WILD,
    };
    use crate::rans::{Decoder, Encoder};

    #[test]
    fn quantised_frequencies_sum_to_the_precision() {
        for n in [2usize, 3, 100, MAX_SYMBOLS] {
            let counts: Vec<(u32, u64)> = (0..n)
                .map(|i| (i as u32, 1_000_000 / (i as u64 + 1) + 1))
                .collect();
            let q = quantise(&counts, 0);
            assert_eq!(
                q.iter().map(|p| u64::from(p.1)).sum::<u64>(),
                1 << PRECISION
            );
            assert!(q.iter().all(|p| p.1 >= 1));
        }
    }

    #[test]
    fn coarse_keys_wildcard_one_component() {
        let k = key(2, 1, 17, 300);
        assert_eq!(coarse(k, 1 << 2), key(2, 1, WILD, 300));
        assert_eq!(coarse(k, 0), key(2, 1, 17, WILD));
    }

    #[test]
    fn values_round_trip_through_every_kind_of_table() {
        let mut counts = Counts::default();
        let mut sequence = Vec::new();
        // Context 1: one value; 2: skewed; 3: more values than a table lists (escapes); 4..: rare fine
        // contexts that fall back to their coarse context.
        for i in 0..10_000u32 {
            sequence.push((key(1, 0, 1, 1), 42u32));
            sequence.push((key(1, 0, 2, 2), if i % 10 == 0 { 7 } else { 8 }));
            sequence.push((key(1, 0, 3, 3), (i * 7919) % (MAX_SYMBOLS as u32 + 500)));
            sequence.push((key(1, 0, 4, 4 + i % 1000), i % 3));
        }
        sequence.push((key(1, 0, 3, 3), 0xdead_beef));
        for &(k, v) in &sequence {
            counts.add(k, v);
        }
        let model = Model::build(counts, 0, |_| false);
        assert!(
            model.find(key(1, 0, 4, 5)).is_none(),
            "a rare context shares its coarse table"
        );
        let mut enc = Encoder::default();
        for &(k, v) in &sequence {
            model.encode(k, v, &mut enc);
        }
        let mut bytes = Vec::new();
        enc.finish(&mut bytes);
        let mut dec = Decoder::new(&bytes);
        for &(k, v) in &sequence {
            assert_eq!(model.decode_at(model.table(k), &mut dec), v);
        }
        assert!(model.values.contains(&ESCAPE));
        assert!(bytes.len() < 40_000, "{}", bytes.len());
    }

    #[test]
    fn a_tolerant_stream_codes_what_the_model_lacks() {
        let mut counts = Counts::default();
        for i in 0..1000u32 {
            counts.add(key(1, 0, 1, 1), 42);
            counts.add(key(1, 0, 2, 2), i % 3);
        }
        let model = Model::build(counts, 0, |_| false);
        // Known values, a value its table lacks (one-value and multi-value tables), and a context it lacks.
        let sequence = [
            (key(1, 0, 1, 1), 42u32),
            (key(1, 0, 1, 1), 43),
            (key(1, 0, 2, 2), 2),
            (key(1, 0, 2, 2), 0x7fff_fffe),
            (key(3, 1, 9, 9), 5),
            (key(1, 0, 2, 2), 1),
        ];
        assert_eq!(model.table(key(3, 1, 9, 9)), NO_TABLE);
        let mut enc = Encoder::default();
        for &(k, v) in &sequence {
            model.encode_tolerant(model.table(k), v, &mut enc);
        }
        let mut bytes = Vec::new();
        enc.finish(&mut bytes);
        let mut dec = Decoder::new(&bytes);
        for &(k, v) in &sequence {
            assert_eq!(model.decode_tolerant(model.table(k), &mut dec), v);
        }
    }
}
