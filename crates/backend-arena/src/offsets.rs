//! [`Offsets`]: a growing list of non-decreasing `u64` offsets stored as `u32`s, for the per-file starts.
//!
//! Every entry keeps its low 32 bits; the few places where the high bits grow (a store past 4 GiB) are
//! listed apart, so the common case costs 4 bytes a file and a corpus of any size still works.

/// Non-decreasing offsets, 4 bytes each.
#[derive(Debug, Default)]
pub(crate) struct Offsets {
    low: Vec<u32>,
    /// `carries[k]` is the first index whose offset is at least `(k + 1) << 32`.
    carries: Vec<usize>,
}

impl Offsets {
    /// Appends `offset`, which must not be below the last one.
    pub(crate) fn push(&mut self, offset: u64) {
        debug_assert!(self.low.is_empty() || offset >= self.get(self.low.len() - 1));
        while (offset >> 32) > self.carries.len() as u64 {
            self.carries.push(self.low.len());
        }
        if self.low.len() == self.low.capacity() {
            // A sixteenth more at a time (see `crate::grow_by`), not double: a build's peak stays near its store.
            self.low.reserve_exact(crate::grow_by(self.low.len(), 1));
        }
        self.low.push(offset as u32);
    }

    /// The offset at `index`.
    pub(crate) fn get(&self, index: usize) -> u64 {
        let high = self.carries.partition_point(|&first| first <= index) as u64;
        (high << 32) | u64::from(self.low[index])
    }

    pub(crate) fn len(&self) -> usize {
        self.low.len()
    }

    /// Drops spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.low.shrink_to_fit();
        self.carries.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::Offsets;

    #[test]
    fn offsets_past_4_gib_come_back() {
        let values = [
            0,
            7,
            u64::from(u32::MAX),
            1 << 32,
            (1 << 32) + 5,
            3 << 32,
            (3 << 32) + 1,
            9 << 32,
        ];
        let mut offsets = Offsets::default();
        for &v in &values {
            offsets.push(v);
        }
        assert_eq!(offsets.len(), values.len());
        for (i, &v) in values.iter().enumerate() {
            assert_eq!(offsets.get(i), v, "entry {i}");
        }
    }
}
