//! SSZ decoding and encoding of the stateless input, and of the result, for this one schema.
//!
//! Ours rather than `ethereum_ssz`'s, which the tests use as the reference (every fixture and
//! thousands of mutations of them decode alike, or fail alike): that crate turns on
//! alloy-primitives' `std` and its foldhash maps, which in a zkVM guest would change the hasher
//! of every map the program keeps (foldhash seeds itself from the clock there) and so its
//! cycles. And ours is zero-copy: every byte list is a slice of the input's one buffer, where a
//! decoded crate type is copied once more into the program input.
//!
//! The rules are the SSZ specification's: a container's fixed part holds its fixed-size fields
//! and a 4-byte little-endian offset for each variable-size one; the first offset is the fixed
//! part's length, offsets never decrease and never pass the end, and each variable field runs
//! to the next offset (the last to the end). A list of variable-size items is their offsets
//! then their bodies alike; a list of fixed-size items is their concatenation.

use core::ops::Range;

use alloy_primitives::{Address, Bloom, Bytes, B256, U256};

use crate::containers::{
    ChainConfig, ExecutionPayload, ExecutionWitness, NewPayloadRequest, StatelessInput, StatelessValidationResult,
    Withdrawal,
};

/// Bytes that are not the SSZ encoding of a value of the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SszError {
    /// Shorter than its fixed part, or a fixed-size value of another length.
    #[error("{what}: {got} bytes, expected {expected}")]
    Length {
        /// The value.
        what: &'static str,
        /// Its bytes.
        got: usize,
        /// What its type takes (at least, for a container's fixed part).
        expected: usize,
    },
    /// A list of fixed-size items whose length is not a multiple of theirs.
    #[error("{what}: {got} bytes are not a whole number of {size}-byte items")]
    Items {
        /// The list.
        what: &'static str,
        /// Its bytes.
        got: usize,
        /// One item's.
        size: usize,
    },
    /// An offset that is not where the rules put it.
    #[error("{what}: offset {offset} out of place (it must be at least {min} and at most {max})")]
    Offset {
        /// The container or list.
        what: &'static str,
        /// The offset read.
        offset: usize,
        /// The least it may be.
        min: usize,
        /// The most it may be.
        max: usize,
    },
    /// A boolean byte other than 0 or 1.
    #[error("{what}: boolean byte {got}")]
    Boolean {
        /// The field.
        what: &'static str,
        /// The byte.
        got: u8,
    },
}

/// One field of a container: fixed-size (its bytes) or variable-size (an offset).
#[derive(Clone, Copy)]
enum Field {
    Fixed(usize),
    Variable,
}

/// The input at `range` of `bytes`, sliced without copying.
struct Part<'a> {
    bytes: &'a Bytes,
    range: Range<usize>,
}

impl<'a> Part<'a> {
    fn len(&self) -> usize {
        self.range.len()
    }

    fn slice(&self) -> &'a [u8] {
        &self.bytes[self.range.clone()]
    }

    fn sub(&self, range: Range<usize>) -> Self {
        Part { bytes: self.bytes, range: self.range.start + range.start..self.range.start + range.end }
    }

    fn shared(&self) -> Bytes {
        self.bytes.slice(self.range.clone())
    }

    fn offset_at(&self, at: usize) -> usize {
        let mut word = [0; 4];
        word.copy_from_slice(&self.slice()[at..at + 4]);
        u32::from_le_bytes(word) as usize
    }

    /// The parts of a container of `layout`, in order.
    fn fields(&self, what: &'static str, layout: &[Field]) -> Result<Vec<Self>, SszError> {
        let fixed: usize = layout.iter().map(|f| if let Field::Fixed(n) = f { *n } else { 4 }).sum();
        if self.len() < fixed {
            return Err(SszError::Length { what, got: self.len(), expected: fixed });
        }
        // Each field's start, with the variable ones' ends to be filled from the next offset.
        let mut starts = Vec::with_capacity(layout.len());
        let mut at = 0;
        let mut previous: Option<usize> = None;
        for field in layout {
            match field {
                Field::Fixed(n) => {
                    starts.push((at, Some(at + n)));
                    at += n;
                }
                Field::Variable => {
                    let offset = self.offset_at(at);
                    let min = previous.unwrap_or(fixed);
                    let max = if previous.is_none() { fixed } else { self.len() };
                    if offset < min || offset > max {
                        return Err(SszError::Offset { what, offset, min, max });
                    }
                    previous = Some(offset);
                    starts.push((offset, None));
                    at += 4;
                }
            }
        }
        if previous.is_none() && self.len() != fixed {
            return Err(SszError::Length { what, got: self.len(), expected: fixed });
        }
        let mut parts = Vec::with_capacity(layout.len());
        for (i, &(start, end)) in starts.iter().enumerate() {
            let end = end.unwrap_or_else(|| {
                starts[i + 1..].iter().find(|(_, end)| end.is_none()).map_or(self.len(), |(next, _)| *next)
            });
            parts.push(self.sub(start..end));
        }
        Ok(parts)
    }

    /// The items of a list of variable-size items.
    fn variable_items(&self, what: &'static str) -> Result<Vec<Self>, SszError> {
        if self.len() == 0 {
            return Ok(Vec::new());
        }
        if self.len() < 4 {
            return Err(SszError::Length { what, got: self.len(), expected: 4 });
        }
        let first = self.offset_at(0);
        if first < 4 || !first.is_multiple_of(4) || first > self.len() {
            return Err(SszError::Offset { what, offset: first, min: 4, max: self.len() });
        }
        let count = first / 4;
        let mut offsets = Vec::with_capacity(count + 1);
        offsets.push(first);
        for i in 1..count {
            let offset = self.offset_at(4 * i);
            let previous = offsets[i - 1];
            if offset < previous || offset > self.len() {
                return Err(SszError::Offset { what, offset, min: previous, max: self.len() });
            }
            offsets.push(offset);
        }
        offsets.push(self.len());
        Ok(offsets.windows(2).map(|w| self.sub(w[0]..w[1])).collect())
    }

    /// The items of a list of `size`-byte items.
    fn fixed_items(&self, what: &'static str, size: usize) -> Result<Vec<Self>, SszError> {
        if !self.len().is_multiple_of(size) {
            return Err(SszError::Items { what, got: self.len(), size });
        }
        Ok((0..self.len() / size).map(|i| self.sub(i * size..(i + 1) * size)).collect())
    }

    fn exact(&self, what: &'static str, size: usize) -> Result<&'a [u8], SszError> {
        if self.len() != size {
            return Err(SszError::Length { what, got: self.len(), expected: size });
        }
        Ok(self.slice())
    }

    fn uint64(&self, what: &'static str) -> Result<u64, SszError> {
        let mut word = [0; 8];
        word.copy_from_slice(self.exact(what, 8)?);
        Ok(u64::from_le_bytes(word))
    }

    fn b256(&self, what: &'static str) -> Result<B256, SszError> {
        Ok(B256::from_slice(self.exact(what, 32)?))
    }

    fn address(&self, what: &'static str) -> Result<Address, SszError> {
        Ok(Address::from_slice(self.exact(what, 20)?))
    }

    fn byte_lists(&self, what: &'static str) -> Result<Vec<Bytes>, SszError> {
        Ok(self.variable_items(what)?.iter().map(Part::shared).collect())
    }
}

use Field::{Fixed, Variable};

/// Reads a stateless input; every byte list is a slice of `bytes`.
pub(crate) fn stateless_input(bytes: &Bytes) -> Result<StatelessInput, SszError> {
    let whole = Part { bytes, range: 0..bytes.len() };
    let [request, witness, chain, keys] =
        arrayed(whole.fields("StatelessInput", &[Variable, Variable, Fixed(8), Variable])?);
    Ok(StatelessInput {
        new_payload_request: new_payload_request(&request)?,
        witness: execution_witness(&witness)?,
        chain_config: ChainConfig { chain_id: chain.uint64("chain_id")? },
        public_keys: keys.byte_lists("public_keys")?,
    })
}

fn new_payload_request(part: &Part<'_>) -> Result<NewPayloadRequest, SszError> {
    let [payload, hashes, beacon_root, requests] =
        arrayed(part.fields("NewPayloadRequest", &[Variable, Variable, Fixed(32), Variable])?);
    Ok(NewPayloadRequest {
        execution_payload: execution_payload(&payload)?,
        versioned_hashes: hashes
            .fixed_items("versioned_hashes", 32)?
            .iter()
            .map(|h| h.b256("versioned hash"))
            .collect::<Result<_, _>>()?,
        parent_beacon_block_root: beacon_root.b256("parent_beacon_block_root")?,
        execution_requests: requests.byte_lists("execution_requests")?,
    })
}

fn execution_payload(part: &Part<'_>) -> Result<ExecutionPayload, SszError> {
    const LAYOUT: [Field; 19] = [
        Fixed(32),  // parent_hash
        Fixed(20),  // fee_recipient
        Fixed(32),  // state_root
        Fixed(32),  // receipts_root
        Fixed(256), // logs_bloom
        Fixed(32),  // prev_randao
        Fixed(8),   // block_number
        Fixed(8),   // gas_limit
        Fixed(8),   // gas_used
        Fixed(8),   // timestamp
        Variable,   // extra_data
        Fixed(32),  // base_fee_per_gas
        Fixed(32),  // block_hash
        Variable,   // transactions
        Variable,   // withdrawals
        Fixed(8),   // blob_gas_used
        Fixed(8),   // excess_blob_gas
        Variable,   // block_access_list
        Fixed(8),   // slot_number
    ];
    let f = arrayed::<19>(part.fields("ExecutionPayload", &LAYOUT)?);
    let mut base_fee = [0; 32];
    base_fee.copy_from_slice(f[11].exact("base_fee_per_gas", 32)?);
    Ok(ExecutionPayload {
        parent_hash: f[0].b256("parent_hash")?,
        fee_recipient: f[1].address("fee_recipient")?,
        state_root: f[2].b256("state_root")?,
        receipts_root: f[3].b256("receipts_root")?,
        logs_bloom: Bloom::from_slice(f[4].exact("logs_bloom", 256)?),
        prev_randao: f[5].b256("prev_randao")?,
        block_number: f[6].uint64("block_number")?,
        gas_limit: f[7].uint64("gas_limit")?,
        gas_used: f[8].uint64("gas_used")?,
        timestamp: f[9].uint64("timestamp")?,
        extra_data: f[10].shared(),
        base_fee_per_gas: U256::from_le_bytes(base_fee),
        block_hash: f[12].b256("block_hash")?,
        transactions: f[13].byte_lists("transactions")?,
        withdrawals: f[14].fixed_items("withdrawals", 44)?.iter().map(withdrawal).collect::<Result<_, _>>()?,
        blob_gas_used: f[15].uint64("blob_gas_used")?,
        excess_blob_gas: f[16].uint64("excess_blob_gas")?,
        block_access_list: f[17].shared(),
        slot_number: f[18].uint64("slot_number")?,
    })
}

fn withdrawal(part: &Part<'_>) -> Result<Withdrawal, SszError> {
    let [index, validator, address, amount] =
        arrayed(part.fields("Withdrawal", &[Fixed(8), Fixed(8), Fixed(20), Fixed(8)])?);
    Ok(Withdrawal {
        index: index.uint64("index")?,
        validator_index: validator.uint64("validator_index")?,
        address: address.address("address")?,
        amount: amount.uint64("amount")?,
    })
}

fn execution_witness(part: &Part<'_>) -> Result<ExecutionWitness, SszError> {
    let [state, codes, headers] = arrayed(part.fields("ExecutionWitness", &[Variable, Variable, Variable])?);
    Ok(ExecutionWitness {
        state: state.byte_lists("state")?,
        codes: codes.byte_lists("codes")?,
        headers: headers.byte_lists("headers")?,
    })
}

/// The parts of a container as an array of its field count (`fields` gives one per field).
fn arrayed<const N: usize>(parts: Vec<Part<'_>>) -> [Part<'_>; N] {
    parts.try_into().unwrap_or_else(|parts: Vec<_>| unreachable!("{} parts for {N} fields", parts.len()))
}

/// The result's 41 bytes: the root, the flag, the chain id (little-endian).
pub(crate) fn encode_result(result: &StatelessValidationResult) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(41);
    bytes.extend_from_slice(result.new_payload_request_root.as_slice());
    bytes.push(u8::from(result.successful_validation));
    bytes.extend_from_slice(&result.chain_config.chain_id.to_le_bytes());
    bytes
}

/// Reads [`encode_result`]'s bytes.
pub(crate) fn decode_result(bytes: &[u8]) -> Result<StatelessValidationResult, SszError> {
    let bytes = Bytes::copy_from_slice(bytes);
    let whole = Part { bytes: &bytes, range: 0..bytes.len() };
    let [root, flag, chain] = arrayed(whole.fields("StatelessValidationResult", &[Fixed(32), Fixed(1), Fixed(8)])?);
    let successful_validation = match flag.exact("successful_validation", 1)?[0] {
        0 => false,
        1 => true,
        got => return Err(SszError::Boolean { what: "successful_validation", got }),
    };
    Ok(StatelessValidationResult {
        new_payload_request_root: root.b256("new_payload_request_root")?,
        successful_validation,
        chain_config: ChainConfig { chain_id: chain.uint64("chain_id")? },
    })
}

/// A field as the encoder lays it out: fixed-size bytes in place, variable-size bytes behind
/// an offset.
enum Out {
    Fixed(Vec<u8>),
    Variable(Vec<u8>),
}

/// A container (or a list of variable-size items: all `Variable`): the fixed part with each
/// variable field's offset, then the variable fields in order.
fn container(fields: Vec<Out>) -> Vec<u8> {
    let fixed: usize = fields.iter().map(|f| if let Out::Fixed(b) = f { b.len() } else { 4 }).sum();
    let variable: usize = fields.iter().map(|f| if let Out::Variable(b) = f { b.len() } else { 0 }).sum();
    let mut bytes = Vec::with_capacity(fixed + variable);
    let mut offset = fixed;
    for field in &fields {
        match field {
            Out::Fixed(b) => bytes.extend_from_slice(b),
            Out::Variable(b) => {
                // The bounds of `check_limits` keep every input far below 4 GiB per container.
                bytes.extend_from_slice(&(offset as u32).to_le_bytes());
                offset += b.len();
            }
        }
    }
    for field in fields {
        if let Out::Variable(b) = field {
            bytes.extend_from_slice(&b);
        }
    }
    bytes
}

fn byte_lists(items: &[Bytes]) -> Vec<u8> {
    container(items.iter().map(|b| Out::Variable(b.to_vec())).collect())
}

fn fixed(bytes: &[u8]) -> Out {
    Out::Fixed(bytes.to_vec())
}

fn uint64(value: u64) -> Out {
    Out::Fixed(value.to_le_bytes().to_vec())
}

/// The SSZ encoding of a stateless input (what [`stateless_input`] reads).
pub(crate) fn encode_stateless_input(input: &StatelessInput) -> Vec<u8> {
    let request = &input.new_payload_request;
    let p = &request.execution_payload;
    let withdrawals = p
        .withdrawals
        .iter()
        .flat_map(|w| {
            container(vec![uint64(w.index), uint64(w.validator_index), fixed(w.address.as_slice()), uint64(w.amount)])
        })
        .collect();
    let payload = container(vec![
        fixed(p.parent_hash.as_slice()),
        fixed(p.fee_recipient.as_slice()),
        fixed(p.state_root.as_slice()),
        fixed(p.receipts_root.as_slice()),
        fixed(p.logs_bloom.as_slice()),
        fixed(p.prev_randao.as_slice()),
        uint64(p.block_number),
        uint64(p.gas_limit),
        uint64(p.gas_used),
        uint64(p.timestamp),
        Out::Variable(p.extra_data.to_vec()),
        fixed(&p.base_fee_per_gas.to_le_bytes::<32>()),
        fixed(p.block_hash.as_slice()),
        Out::Variable(byte_lists(&p.transactions)),
        Out::Variable(withdrawals),
        uint64(p.blob_gas_used),
        uint64(p.excess_blob_gas),
        Out::Variable(p.block_access_list.to_vec()),
        uint64(p.slot_number),
    ]);
    let request = container(vec![
        Out::Variable(payload),
        Out::Variable(request.versioned_hashes.iter().flat_map(|h| h.0).collect()),
        fixed(request.parent_beacon_block_root.as_slice()),
        Out::Variable(byte_lists(&request.execution_requests)),
    ]);
    let witness = container(vec![
        Out::Variable(byte_lists(&input.witness.state)),
        Out::Variable(byte_lists(&input.witness.codes)),
        Out::Variable(byte_lists(&input.witness.headers)),
    ]);
    container(vec![
        Out::Variable(request),
        Out::Variable(witness),
        uint64(input.chain_config.chain_id),
        Out::Variable(byte_lists(&input.public_keys)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::fixture_inputs;

    /// Ours and ethereum_ssz's decoder agree: the same value, or both refuse.
    fn agree(bytes: &[u8]) -> bool {
        let ours = stateless_input(&Bytes::copy_from_slice(bytes));
        let theirs = <StatelessInput as ssz::Decode>::from_ssz_bytes(bytes);
        match (&ours, &theirs) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs),
            (Err(_), Err(_)) => {}
            _ => panic!("ours {ours:?}, ethereum_ssz {:?}", theirs.as_ref().map(|_| ())),
        }
        ours.is_ok()
    }

    #[test]
    fn every_fixture_and_its_mutations_decode_as_ethereum_ssz_decodes_them() {
        let inputs = fixture_inputs();
        assert_eq!(inputs.len(), 222);
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut accepted, mut refused) = (0, 0);
        for input in &inputs {
            assert!(agree(input), "a fixture decodes");
            for _ in 0..40 {
                let mut mutated = input.clone();
                match next() % 4 {
                    // A byte of the offsets and fixed fields near the start (where structure lives).
                    0 => {
                        let at = (next() as usize) % mutated.len().min(400);
                        mutated[at] = next() as u8;
                    }
                    // A byte anywhere.
                    1 => {
                        let at = (next() as usize) % mutated.len();
                        mutated[at] ^= 1 << (next() % 8);
                    }
                    2 => mutated.truncate((next() as usize) % mutated.len()),
                    _ => mutated.extend((0..next() % 9).map(|_| next() as u8)),
                }
                if agree(&mutated) {
                    accepted += 1;
                } else {
                    refused += 1;
                }
            }
        }
        assert!(accepted > 1000 && refused > 1000, "both kinds were tried: {accepted} accepted, {refused} refused");
    }

    #[test]
    fn every_fixture_encodes_back_to_its_own_bytes() {
        for input in fixture_inputs() {
            let decoded = stateless_input(&Bytes::copy_from_slice(&input)).expect("decodes");
            let encoded = encode_stateless_input(&decoded);
            assert_eq!(encoded, ssz::Encode::as_ssz_bytes(&decoded), "ethereum_ssz's encoding");
            assert!(encoded == input, "the fixture's own bytes");
        }
    }

    #[test]
    fn the_result_round_trips_and_refuses_a_flag_of_two() {
        let result = StatelessValidationResult {
            new_payload_request_root: B256::repeat_byte(3),
            successful_validation: true,
            chain_config: ChainConfig { chain_id: 7 },
        };
        let bytes = encode_result(&result);
        assert_eq!(bytes, ssz::Encode::as_ssz_bytes(&result), "ethereum_ssz's encoding");
        assert_eq!(decode_result(&bytes), Ok(result));
        let mut two = bytes.clone();
        two[32] = 2;
        assert_eq!(decode_result(&two), Err(SszError::Boolean { what: "successful_validation", got: 2 }));
        assert!(matches!(decode_result(&bytes[..40]), Err(SszError::Length { .. })));
    }
}
