//! A small deterministic mutator: byte-level edits that keep most of a seed, and for JSON,
//! edits of the parsed document, so that mutants get past the first parser into the decoders
//! behind it.

use serde_json::Value;

/// xorshift64*: deterministic, so a failing case can be replayed from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (zero is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Bytes RLP, postcard and the frame format give meaning to.
const INTERESTING: [u8; 12] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xbf, 0xc0, 0xf7, 0xf8, 0xff];

/// Mutates seeds.
#[derive(Debug, Clone)]
pub struct Mutator {
    rng: Rng,
}

impl Mutator {
    /// A mutator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { rng: Rng::new(seed) }
    }

    /// One to four byte-level edits of `seed`.
    pub fn bytes(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..=self.rng.below(4) {
            let at = self.rng.below(out.len() + 1);
            let last = out.len().saturating_sub(1);
            match self.rng.below(7) {
                0 if !out.is_empty() => out[at.min(last)] ^= 1 << self.rng.below(8),
                1 if !out.is_empty() => out[at.min(last)] = INTERESTING[self.rng.below(INTERESTING.len())],
                2 => out.insert(at, INTERESTING[self.rng.below(INTERESTING.len())]),
                3 if !out.is_empty() => {
                    out.remove(at.min(out.len() - 1));
                }
                4 => out.truncate(at),
                5 if !out.is_empty() => {
                    // Repeat a slice (lengths and counts that disagree with the payload).
                    let from = self.rng.below(out.len());
                    let len = self.rng.below(16).min(out.len() - from);
                    let piece = out[from..from + len].to_vec();
                    out.splice(at..at, piece);
                }
                _ if out.len() >= 4 => {
                    // A big-endian length field set to something large.
                    let at = at.min(out.len() - 4);
                    out[at..at + 4].copy_from_slice(&(self.rng.next_u64() as u32 | 0x0100_0000).to_be_bytes());
                }
                _ => out.push(self.rng.next_u64() as u8),
            }
        }
        out
    }

    /// A program input with one part changed and encoded again: a witness node's or code's
    /// bytes, a node dropped or duplicated, a header field, a transaction's bytes, the chain
    /// id. The input still decodes, so the program itself meets the change.
    pub fn program_input(&mut self, seed: &bp_input::ProgramInput) -> Vec<u8> {
        let mut input = seed.clone();
        let pick = |rng: &mut Rng, len: usize| rng.below(len.max(1));
        match self.rng.below(8) {
            0 if !input.witness.state.is_empty() => {
                let at = pick(&mut self.rng, input.witness.state.len());
                input.witness.state[at] = self.bytes(&input.witness.state[at]).into();
            }
            1 if !input.witness.state.is_empty() => {
                let at = pick(&mut self.rng, input.witness.state.len());
                input.witness.state.remove(at);
            }
            2 if !input.witness.codes.is_empty() => {
                let at = pick(&mut self.rng, input.witness.codes.len());
                input.witness.codes[at] = self.bytes(&input.witness.codes[at]).into();
            }
            3 if !input.witness.headers.is_empty() => {
                let at = pick(&mut self.rng, input.witness.headers.len());
                input.witness.headers[at] = self.bytes(&input.witness.headers[at]).into();
            }
            4 => {
                let block = pick(&mut self.rng, input.blocks.len());
                if let Some(block) = input.blocks.get_mut(block) {
                    let header = &mut block.header;
                    match self.rng.below(5) {
                        0 => header.number ^= 1 << self.rng.below(64),
                        1 => header.timestamp ^= 1 << self.rng.below(64),
                        2 => header.gas_limit ^= 1 << self.rng.below(64),
                        3 => header.gas_used ^= 1 << self.rng.below(64),
                        _ => header.state_root.0[self.rng.below(32)] ^= 1,
                    }
                }
            }
            5 => {
                let block = pick(&mut self.rng, input.blocks.len());
                if let Some(block) = input.blocks.get_mut(block) {
                    let at = pick(&mut self.rng, block.body.transactions.len());
                    if let Some(tx) = block.body.transactions.get(at) {
                        use alloy_eips::eip2718::{Decodable2718, Encodable2718};
                        let mutated = self.bytes(&tx.encoded_2718());
                        if let Ok(tx) = bp_input::BlockTx::decode_2718(&mut mutated.as_slice()) {
                            block.body.transactions[at] = tx;
                        }
                    }
                }
            }
            6 => input.chain.chain_id ^= 1 << self.rng.below(8),
            _ => input.parent_header.gas_limit ^= 1 << self.rng.below(64),
        }
        input.to_binary()
    }

    /// Random bytes of up to `max` bytes.
    pub fn random(&mut self, max: usize) -> Vec<u8> {
        (0..self.rng.below(max + 1)).map(|_| self.rng.next_u64() as u8).collect()
    }

    /// One to three edits of a JSON document: a value replaced by another type or a nearby
    /// value, a key removed, an array element duplicated or removed.
    pub fn json(&mut self, seed: &Value) -> Vec<u8> {
        let mut doc = seed.clone();
        for _ in 0..=self.rng.below(3) {
            self.edit(&mut doc, 0);
        }
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    fn edit(&mut self, value: &mut Value, depth: usize) {
        let descend = depth < 12 && self.rng.below(4) != 0;
        match value {
            Value::Object(map) if descend && !map.is_empty() => {
                let key = map.keys().nth(self.rng.below(map.len())).cloned().unwrap_or_default();
                if self.rng.below(8) == 0 {
                    map.remove(&key);
                } else if let Some(child) = map.get_mut(&key) {
                    self.edit(child, depth + 1);
                }
            }
            Value::Array(items) if descend && !items.is_empty() => {
                let at = self.rng.below(items.len());
                match self.rng.below(8) {
                    0 => {
                        items.remove(at);
                    }
                    1 => {
                        let copy = items[at].clone();
                        items.insert(at, copy);
                    }
                    _ => self.edit(&mut items[at], depth + 1),
                }
            }
            _ => *value = self.replacement(value),
        }
    }

    fn replacement(&mut self, value: &Value) -> Value {
        match (self.rng.below(6), value) {
            (0, Value::String(s)) if s.starts_with("0x") => {
                // Same hex string, one digit changed or one dropped.
                let mut chars: Vec<char> = s.chars().collect();
                let at = 2 + self.rng.below(chars.len().saturating_sub(2).max(1));
                if at < chars.len() {
                    if self.rng.below(2) == 0 {
                        chars[at] = "0123456789abcdefg".chars().nth(self.rng.below(17)).unwrap_or('0');
                    } else {
                        chars.remove(at);
                    }
                }
                Value::String(chars.into_iter().collect())
            }
            (1, _) => Value::Null,
            (2, _) => Value::from(self.rng.next_u64()),
            (3, _) => Value::String(format!("0x{:x}", self.rng.next_u64())),
            (4, _) => Value::Array(vec![]),
            _ => Value::String("0x".into()),
        }
    }
}
