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
    let mut buf = rlp;
    let outer = next_item(&mut buf).ok_or_else(|| invalid(hash, "malformed RLP"))?;
    if !outer.list || !buf.is_empty() {
        return Err(invalid(hash, "not a single RLP list"));
    }
    let mut items = Vec::with_capacity(17);
    let mut payload = outer.payload;
    while !payload.is_empty() {
        items.push(next_item(&mut payload).ok_or_else(|| invalid(hash, "malformed RLP item"))?);
    }
    match items.len() {
        2 => {
            if items[0].list {
                return Err(invalid(hash, "node path is not a string"));
            }
            let (path, is_leaf) =
                hex_prefix_decode(items[0].payload).ok_or_else(|| invalid(hash, "bad hex-prefix path"))?;
            if is_leaf {
                if items[1].list {
                    return Err(invalid(hash, "leaf value is not a string"));
                }
                Ok(DecodedNode::Leaf { path, value: items[1].payload.to_vec() })
            } else {
                if path.is_empty() {
                    return Err(invalid(hash, "extension with an empty path"));
                }
                let child = decode_child(&items[1], hash)?;
                if child == NodeChild::Empty {
                    return Err(invalid(hash, "extension without a child"));
                }
                Ok(DecodedNode::Extension { path, child })
            }
        }
        17 => {
            let mut children: Box<[NodeChild; 16]> = Box::default();
            for (slot, item) in children.iter_mut().zip(&items[..16]) {
                *slot = decode_child(item, hash)?;
            }
            let value_item = &items[16];
            if value_item.list {
                return Err(invalid(hash, "branch value is not a string"));
            }
            let value = if value_item.payload.is_empty() { None } else { Some(value_item.payload.to_vec()) };
            Ok(DecodedNode::Branch { children, value })
        }
        _ => Err(invalid(hash, "node is neither a 2-item nor a 17-item list")),
    }
}

fn decode_child(item: &Item<'_>, hash: B256) -> Result<NodeChild, TrieError> {
    if item.list {
        if item.raw.len() >= 32 {
            return Err(invalid(hash, "embedded child node of 32 bytes or more"));
        }
        return Ok(NodeChild::Inline(Box::new(decode_node(item.raw, hash)?)));
    }
    match item.payload.len() {
        0 => Ok(NodeChild::Empty),
        32 => Ok(NodeChild::Hash(B256::from_slice(item.payload))),
        _ => Err(invalid(hash, "child reference is neither empty, a hash nor a list")),
    }
}
