//! RLP decoding of trie nodes as they appear in witnesses and proofs.

use alloc::{boxed::Box, vec::Vec};
use alloy_primitives::B256;
use alloy_rlp::Header;

use crate::{nibbles::hex_prefix_decode, TrieError};

/// A child reference inside a decoded node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NodeChild {
    /// No child.
    #[default]
    Empty,
    /// A node referenced by hash (its RLP is 32 bytes or longer).
    Hash(B256),
    /// A node embedded in its parent (its RLP is shorter than 32 bytes).
    Inline(Box<DecodedNode>),
}

/// One trie node, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodedNode {
    /// Terminal node: remaining key nibbles and the value.
    Leaf {
        /// Remaining key nibbles.
        path: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Shared key nibbles followed by one child.
    Extension {
        /// Shared key nibbles.
        path: Vec<u8>,
        /// The child.
        child: NodeChild,
    },
    /// Sixteen children and an optional value for keys ending here.
    Branch {
        /// One child per nibble.
        children: Box<[NodeChild; 16]>,
        /// The value of a key ending here.
        value: Option<Vec<u8>>,
    },
}

fn invalid(hash: B256, reason: &'static str) -> TrieError {
    TrieError::InvalidNode { hash, reason }
}

struct Item<'a> {
    list: bool,
    raw: &'a [u8],
    payload: &'a [u8],
}

fn next_item<'a>(buf: &mut &'a [u8]) -> Option<Item<'a>> {
    let start = *buf;
    let mut cursor = *buf;
    let header = Header::decode(&mut cursor).ok()?;
    let header_len = start.len() - cursor.len();
    let total = header_len.checked_add(header.payload_length)?;
    if total > start.len() {
        return None;
    }
    let raw = &start[..total];
    let payload = &start[header_len..total];
    *buf = &start[total..];
    Some(Item { list: header.list, raw, payload })
}

/// Decodes a node's RLP. `hash` is only used to name the node in errors.
pub fn decode_node(rlp: &[u8], hash: B256) -> Result<DecodedNode, TrieError> {
    decode::<DecodedNode>(rlp, hash)
}

/// What a node's RLP is decoded into: [`DecodedNode`], or the trie's own nodes, built directly
/// (in a zkVM an intermediate node and its copy cost as much as the parsing).
pub(crate) trait Build: Sized {
    /// A child reference.
    type Child;
    fn empty() -> Self::Child;
    fn hash(hash: B256) -> Self::Child;
    fn inline(node: Self) -> Self::Child;
    /// Sixteen empty children.
    fn children() -> Box<[Self::Child; 16]>;
    fn leaf(path: Vec<u8>, value: Vec<u8>) -> Self;
    fn extension(path: Vec<u8>, child: Self::Child) -> Self;
    fn branch(children: Box<[Self::Child; 16]>, value: Option<Vec<u8>>) -> Self;
}

impl Build for DecodedNode {
    type Child = NodeChild;
    fn empty() -> NodeChild {
        NodeChild::Empty
    }
    fn hash(hash: B256) -> NodeChild {
        NodeChild::Hash(hash)
    }
    fn inline(node: Self) -> NodeChild {
        NodeChild::Inline(Box::new(node))
    }
    fn children() -> Box<[NodeChild; 16]> {
        Box::default()
    }
    fn leaf(path: Vec<u8>, value: Vec<u8>) -> Self {
        DecodedNode::Leaf { path, value }
    }
    fn extension(path: Vec<u8>, child: NodeChild) -> Self {
        DecodedNode::Extension { path, child }
    }
    fn branch(children: Box<[NodeChild; 16]>, value: Option<Vec<u8>>) -> Self {
        DecodedNode::Branch { children, value }
    }
}

/// Decodes a node's RLP into `N`, item by item: a 2-item list is a leaf or an extension (by
/// its hex-prefix flag), a 17-item list a branch; anything else is invalid.
pub(crate) fn decode<N: Build>(rlp: &[u8], hash: B256) -> Result<N, TrieError> {
    let mut buf = rlp;
    let outer = next_item(&mut buf).ok_or_else(|| invalid(hash, "malformed RLP"))?;
    if !outer.list || !buf.is_empty() {
        return Err(invalid(hash, "not a single RLP list"));
    }
    let mut payload = outer.payload;
    let first = next(&mut payload, hash)?;
    let second = next(&mut payload, hash)?;
    if payload.is_empty() {
        return decode_short(&first, &second, hash);
    }
    let mut children = N::children();
    children[0] = decode_child::<N>(&first, hash)?;
    children[1] = decode_child::<N>(&second, hash)?;
    for slot in &mut children[2..] {
        next_child::<N>(slot, &mut payload, hash)?;
    }
    let value_item = next(&mut payload, hash)?;
    if !payload.is_empty() {
        return Err(invalid(hash, "node is neither a 2-item nor a 17-item list"));
    }
    if value_item.list {
        return Err(invalid(hash, "branch value is not a string"));
    }
    let value = if value_item.payload.is_empty() { None } else { Some(value_item.payload.to_vec()) };
    Ok(N::branch(children, value))
}

/// A 2-item node: a leaf or an extension.
fn decode_short<N: Build>(path_item: &Item<'_>, second: &Item<'_>, hash: B256) -> Result<N, TrieError> {
    if path_item.list {
        return Err(invalid(hash, "node path is not a string"));
    }
    let (path, is_leaf) = hex_prefix_decode(path_item.payload).ok_or_else(|| invalid(hash, "bad hex-prefix path"))?;
    if is_leaf {
        if second.list {
            return Err(invalid(hash, "leaf value is not a string"));
        }
        return Ok(N::leaf(path, second.payload.to_vec()));
    }
    if path.is_empty() {
        return Err(invalid(hash, "extension with an empty path"));
    }
    if !second.list && second.payload.is_empty() {
        return Err(invalid(hash, "extension without a child"));
    }
    Ok(N::extension(path, decode_child::<N>(second, hash)?))
}

/// The next item of a node's list; running out means the list has the wrong length.
fn next<'a>(payload: &mut &'a [u8], hash: B256) -> Result<Item<'a>, TrieError> {
    if payload.is_empty() {
        return Err(invalid(hash, "node is neither a 2-item nor a 17-item list"));
    }
    next_item(payload).ok_or_else(|| invalid(hash, "malformed RLP item"))
}

/// Reads the next child of a branch into `slot`, which [`Build::children`] left empty. The
/// two encodings nearly every child has, an empty string and a 32-byte hash, are read from
/// their first byte (an empty one is not written at all: in a zkVM moving a child costs more
/// than reading it); anything else goes through [`decode_child`], the same decisions from a
/// general RLP header.
fn next_child<N: Build>(slot: &mut N::Child, payload: &mut &[u8], hash: B256) -> Result<(), TrieError> {
    const HASH_STRING: u8 = alloy_rlp::EMPTY_STRING_CODE + 32;
    match *payload {
        [alloy_rlp::EMPTY_STRING_CODE, rest @ ..] => *payload = rest,
        [HASH_STRING, rest @ ..] if rest.len() >= 32 => {
            let (child, rest) = rest.split_at(32);
            *payload = rest;
            *slot = N::hash(read_hash(child));
        }
        _ => *slot = decode_child::<N>(&next(payload, hash)?, hash)?,
    }
    Ok(())
}

/// A child's hash by explicit loads and stores (64 instructions): `B256::from_slice` is a call to
/// `memcpy`, which loops byte by byte, at more than twice the cost, when source and destination
/// are unequally aligned, as a hash in a node mostly is (each child of a node adds 33 bytes).
fn read_hash(bytes: &[u8]) -> B256 {
    let mut words = [0u32; 8];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    let mut hash = B256::ZERO;
    for (chunk, word) in hash.0.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    hash
}

fn decode_child<N: Build>(item: &Item<'_>, hash: B256) -> Result<N::Child, TrieError> {
    if item.list {
        if item.raw.len() >= 32 {
            return Err(invalid(hash, "embedded child node of 32 bytes or more"));
        }
        return Ok(N::inline(decode::<N>(item.raw, hash)?));
    }
    match item.payload.len() {
        0 => Ok(N::empty()),
        32 => Ok(N::hash(B256::from_slice(item.payload))),
        _ => Err(invalid(hash, "child reference is neither empty, a hash nor a list")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// An RLP list of already-encoded items.
    fn list(items: &[&[u8]]) -> Vec<u8> {
        let payload = items.concat();
        let mut out = Vec::new();
        Header { list: true, payload_length: payload.len() }.encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }

    fn string(bytes: &[u8]) -> Vec<u8> {
        alloy_rlp::encode(bytes)
    }

    fn reason(rlp: &[u8]) -> &'static str {
        match decode_node(rlp, B256::ZERO) {
            Err(TrieError::InvalidNode { reason, .. }) => reason,
            other => panic!("{other:?} for {rlp:02x?}"),
        }
    }

    /// A branch of empty children with `child` at index 5 (after the fast-path children 2..).
    fn branch_with(child: &[u8]) -> Vec<u8> {
        let empty = string(&[]);
        let mut items: Vec<&[u8]> = vec![&empty; 17];
        items[5] = child;
        list(&items)
    }

    #[test]
    fn branch_children_by_every_encoding() {
        let hash = string(&[7; 32]);
        let leaf = list(&[&string(&[0x20]), &string(b"v")]);
        let empty = string(&[]);
        let mut items: Vec<&[u8]> = vec![&empty; 17];
        items[0] = &hash;
        items[3] = &leaf;
        items[9] = &hash;
        items[15] = &leaf;
        let value = string(b"value");
        items[16] = &value;
        let Ok(DecodedNode::Branch { children, value }) = decode_node(&list(&items), B256::ZERO) else {
            panic!("not a branch");
        };
        let inline = NodeChild::Inline(Box::new(DecodedNode::Leaf { path: vec![], value: b"v".to_vec() }));
        for (index, child) in children.iter().enumerate() {
            let expected = match index {
                0 | 9 => NodeChild::Hash(B256::repeat_byte(7)),
                3 | 15 => inline.clone(),
                _ => NodeChild::Empty,
            };
            assert_eq!(child, &expected, "child {index}");
        }
        assert_eq!(value, Some(b"value".to_vec()));
    }

    #[test]
    fn rejects_bad_children_on_the_fast_path_too() {
        // A 32-byte string cut short by the end of the node.
        let empty = string(&[]);
        let cut = list(&[&empty, &empty, &empty, &empty, &empty, &[0xa0], &[7; 10]]);
        assert_eq!(reason(&cut), "malformed RLP item");
        // References that are neither empty, 32 bytes nor a list.
        assert_eq!(reason(&branch_with(&string(&[7; 31]))), "child reference is neither empty, a hash nor a list");
        assert_eq!(reason(&branch_with(&string(&[7; 33]))), "child reference is neither empty, a hash nor a list");
        assert_eq!(reason(&branch_with(&[0x07])), "child reference is neither empty, a hash nor a list");
        // The long form of a 32-byte string is not canonical RLP.
        let long_form = [&[0xb8, 32][..], &[7; 32]].concat();
        assert_eq!(reason(&branch_with(&long_form)), "malformed RLP item");
        // An embedded node of 32 bytes or more must be referenced by hash.
        let big = list(&[&string(&[0x20]), &string(&[1; 40])]);
        assert_eq!(reason(&branch_with(&big)), "embedded child node of 32 bytes or more");
        // Sixteen children and no value, or an extra item.
        let empty = string(&[]);
        assert_eq!(reason(&list(&[&empty[..]; 16])), "node is neither a 2-item nor a 17-item list");
        assert_eq!(reason(&list(&[&empty[..]; 18])), "node is neither a 2-item nor a 17-item list");
        assert_eq!(reason(&list(&[&empty[..]; 3])), "node is neither a 2-item nor a 17-item list");
    }
}
