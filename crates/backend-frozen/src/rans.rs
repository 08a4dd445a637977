//! A byte-wise rANS entropy coder (after Fabian Giesen's public-domain `rans_byte`): 32-bit state, bytes out,
//! any precision from 1 to 16 bits per symbol. Static models only, which is what makes rANS's last-in,
//! first-out order harmless: the encoder records every symbol's `(start, freq, bits)` while it walks the tree
//! forwards, then codes them backwards in one go, and the decoder reads them forwards in tree order.
//!
//! Raw bits are symbols of frequency 1 at precision `bits`. Decoding past the end of a stream reads bytes
//! of 1 (a valid stream is never read past its end), so damaged input gives a wrong answer, never a panic,
//! and never a state stuck at 0 (which zeros would keep there, renormalising forever).

/// Lower bound of the normalised state interval `[L, 256 L)`.
const L: u32 = 1 << 23;

/// One coded symbol: its cumulative start and frequency out of `1 << bits`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Symbol {
    pub start: u32,
    pub freq: u32,
    pub bits: u32,
}

/// Collects symbols in decoding order; [`Encoder::finish`] codes them.
#[derive(Default)]
pub(crate) struct Encoder {
    symbols: Vec<Symbol>,
}

impl Encoder {
    pub fn clear(&mut self) {
        self.symbols.clear();
    }

    /// A symbol of a model: `start`, `freq` out of `1 << bits` (`bits` ≤ 16, `freq` ≥ 1).
    #[inline]
    pub fn put(&mut self, start: u32, freq: u32, bits: u32) {
        debug_assert!(freq >= 1 && bits <= 16 && start + freq <= 1 << bits);
        self.symbols.push(Symbol { start, freq, bits });
    }

    /// `bits` raw bits of `value` (any count up to 32).
    #[inline]
    pub fn put_raw(&mut self, value: u32, bits: u32) {
        if bits > 16 {
            self.put(value & 0xffff, 1, 16);
            self.put(value >> 16, 1, bits - 16);
        } else if bits > 0 {
            self.put(value & ((1 << bits) - 1), 1, bits);
        }
    }

    /// Codes every symbol put so far, appending the stream to `out`. An empty sequence gives an empty stream.
    pub fn finish(&self, out: &mut Vec<u8>) {
        if self.symbols.is_empty() {
            return;
        }
        let mut reversed = Vec::with_capacity(self.symbols.len() + 4);
        let mut x = L;
        for s in self.symbols.iter().rev() {
            let x_max = ((L >> s.bits) << 8) * s.freq;
            while x >= x_max {
                reversed.push(x as u8);
                x >>= 8;
            }
            x = ((x / s.freq) << s.bits) + (x % s.freq) + s.start;
        }
        reversed.extend_from_slice(&x.to_le_bytes());
        out.extend(reversed.iter().rev());
    }
}

/// Reads symbols back in the order they were put. (`Copy`: a hot loop works on a copy in registers.)
#[derive(Clone, Copy)]
pub(crate) struct Decoder<'a> {
    x: u32,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(bytes: &'a [u8]) -> Decoder<'a> {
        let mut d = Decoder { x: 0, bytes, at: 0 };
        for _ in 0..4 {
            d.x = (d.x << 8) | u32::from(d.byte());
        }
        d
    }

    #[inline(always)]
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(1);
        self.at += 1;
        b
    }

    /// The slot (`0 .. 1 << bits`) the next symbol's interval contains.
    #[inline(always)]
    pub fn peek(&self, bits: u32) -> u32 {
        self.x & ((1 << bits) - 1)
    }

    /// Consumes the symbol `(start, freq)` found by [`Decoder::peek`].
    #[inline(always)]
    pub fn advance(&mut self, start: u32, freq: u32, bits: u32) {
        self.x = freq * (self.x >> bits) + (self.x & ((1 << bits) - 1)) - start;
        while self.x < L {
            self.x = (self.x << 8) | u32::from(self.byte());
        }
    }

    /// `bits` raw bits, as [`Encoder::put_raw`] wrote them.
    #[inline]
    pub fn raw(&mut self, bits: u32) -> u32 {
        if bits > 16 {
            let low = self.raw(16);
            low | (self.raw(bits - 16) << 16)
        } else if bits > 0 {
            let v = self.peek(bits);
            self.advance(v, 1, bits);
            v
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Decoder, Encoder};

    #[test]
    fn symbols_and_raw_bits_come_back_in_order() {
        let mut rng = fastrand_like(7);
        let mut enc = Encoder::default();
        let mut expected = Vec::new();
        for i in 0..20_000u32 {
            if i % 3 == 0 {
                let bits = rng() % 33;
                let value = if bits == 32 {
                    rng()
                } else {
                    rng() & ((1u64 << bits) - 1) as u32
                };
                enc.put_raw(value, bits);
                expected.push((true, value, bits, 0));
            } else {
                // A skewed three-symbol model at 15 bits: freqs 30000, 2000, 768.
                let (starts, freqs) = ([0, 30000, 32000], [30000, 2000, 768]);
                let s = (rng() % 3) as usize;
                enc.put(starts[s], freqs[s], 15);
                expected.push((false, s as u32, 15, 0));
            }
        }
        let mut out = vec![0xEE];
        enc.finish(&mut out);
        let mut dec = Decoder::new(&out[1..]);
        for (raw, value, bits, _) in expected {
            if raw {
                assert_eq!(dec.raw(bits), value);
            } else {
                let slot = dec.peek(15);
                let s = [0u32, 30000, 32000]
                    .iter()
                    .rposition(|&st| st <= slot)
                    .unwrap();
                assert_eq!(s as u32, value);
                let (starts, freqs) = ([0, 30000, 32000], [30000, 2000, 768]);
                dec.advance(starts[s], freqs[s], 15);
            }
        }
    }

    /// A stream of zeros puts the state at 0, where renormalising with more zeros would never end.
    #[test]
    fn a_stream_of_zeros_decodes_to_its_end() {
        let zeros = [0u8; 64];
        let mut dec = Decoder::new(&zeros);
        for _ in 0..1000 {
            let slot = dec.peek(15);
            let (start, freq) = if slot < 16384 {
                (0, 16384)
            } else {
                (16384, 16384)
            };
            dec.advance(start, freq, 15);
        }
        assert!(dec.at > zeros.len());
    }

    #[test]
    fn an_empty_sequence_is_an_empty_stream() {
        let mut out = Vec::new();
        Encoder::default().finish(&mut out);
        assert!(out.is_empty());
    }

    fn fastrand_like(seed: u64) -> impl FnMut() -> u32 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 16) as u32
        }
    }
}
