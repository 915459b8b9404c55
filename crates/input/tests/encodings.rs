//! Every canonical-encoding rule of block decoding, each with a block that breaks only it and
//! must be refused for that reason (`decode_block`: exact, canonical RLP).

use alloy_consensus::{BlockBody, Header};
use alloy_primitives::{Bytes, B256, U256};
use alloy_rlp::{Encodable, Error as RlpError};
use bp_input::{decode_block, BlockDecodeError, EthBlock};

fn block() -> EthBlock {
    EthBlock {
        header: Header {
            number: 5,
            gas_limit: 30_000_000,
            timestamp: 1_700_000_000,
            extra_data: Bytes::from_static(b"a"),
            base_fee_per_gas: Some(7),
            withdrawals_root: Some(B256::repeat_byte(1)),
            ..Default::default()
        },
        body: BlockBody { transactions: vec![], ommers: vec![], withdrawals: Some(Default::default()) },
    }
}

/// The RLP items of the list `list` (each with its own prefix).
fn items(list: &[u8]) -> Vec<Vec<u8>> {
    let mut payload = list;
    let header = alloy_rlp::Header::decode(&mut payload).unwrap();
    assert!(header.list);
    let mut payload = &payload[..header.payload_length];
    let mut out = Vec::new();
    while !payload.is_empty() {
        let start = payload;
        let item = alloy_rlp::Header::decode(&mut payload).unwrap();
        let consumed = start.len() - payload.len() + item.payload_length;
        out.push(start[..consumed].to_vec());
        payload = &start[consumed..];
    }
    out
}

fn list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload: Vec<u8> = items.concat();
    let mut out = Vec::new();
    alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
    out.extend(payload);
    out
}

/// The block's RLP with header field `index` (8: number, 9: gas limit, 12: extra data, 0:
/// parent hash) replaced by `field`.
fn with_header_field(index: usize, field: &[u8]) -> Vec<u8> {
    let encoded = alloy_rlp::encode(block());
    let mut parts = items(&encoded);
    let mut header = items(&parts[0]);
    header[index] = field.to_vec();
    parts[0] = list(&header);
    list(&parts)
}

#[test]
fn the_canonical_encoding_decodes() {
    let bytes = alloy_rlp::encode(block());
    assert_eq!(decode_block(&bytes), Ok(block()));
    // The helpers rebuild it byte for byte.
    assert_eq!(with_header_field(8, &alloy_rlp::encode(5u64)), bytes);
}

#[test]
fn each_non_canonical_form_is_refused_for_its_reason() {
    let rlp = |e: RlpError| Err(BlockDecodeError::Rlp(e));
    // An integer with a leading zero byte.
    assert_eq!(decode_block(&with_header_field(8, &[0x82, 0x00, 0x05])), rlp(RlpError::LeadingZero));
    // A single byte below 0x80 wrapped in a one-byte string.
    assert_eq!(decode_block(&with_header_field(8, &[0x81, 0x05])), rlp(RlpError::NonCanonicalSingleByte));
    // A short string's length in the long form.
    assert_eq!(decode_block(&with_header_field(12, &[0xb8, 0x01, b'a'])), rlp(RlpError::NonCanonicalSize));
    // A number field out of range (nine bytes for a u64).
    assert_eq!(decode_block(&with_header_field(9, &[0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0])), rlp(RlpError::Overflow));
    // A list where a string belongs.
    assert_eq!(decode_block(&with_header_field(0, &[0xc0])), rlp(RlpError::UnexpectedList));
    // A string where the header's list belongs.
    let mut parts = items(&alloy_rlp::encode(block()));
    parts[0] = alloy_rlp::encode(Bytes::from_static(b"not a header"));
    assert_eq!(decode_block(&list(&parts)), rlp(RlpError::UnexpectedString));
    // Bytes after the block.
    let mut trailing = alloy_rlp::encode(block());
    trailing.push(0x80);
    assert_eq!(decode_block(&trailing), Err(BlockDecodeError::Trailing(1)));
}

#[test]
fn typed_envelopes_must_be_known_and_the_block_list_exact() {
    let mut parts = items(&alloy_rlp::encode(block()));
    // A transaction of an unknown type (0x05) as the body's only transaction.
    let mut unknown = Vec::new();
    Bytes::from_static(&[0x05, 0xc0]).encode(&mut unknown);
    parts[1] = list(&[unknown]);
    assert!(matches!(decode_block(&list(&parts)), Err(BlockDecodeError::Rlp(_))));
    // An extra field in the block's list.
    let mut extra = items(&alloy_rlp::encode(block()));
    extra.push(alloy_rlp::encode(U256::from(1)));
    assert!(decode_block(&list(&extra)).is_err());
}
