use alloc::{boxed::Box, vec, vec::Vec};
use alloy_primitives::{keccak256, B256};
use alloy_rlp::{Encodable, Header};

use crate::{
    nibbles::{bytes_to_nibbles, common_prefix, hex_prefix_encode, nibbles_to_hex},
    node::{decode, Build},
    NodeSource, TrieError, EMPTY_ROOT,
};

/// How a node is referenced from its parent: by hash, or embedded when its RLP is short. The
/// `u32` tag keeps the hash word-aligned, as in [`Link`].
#[derive(Debug, Clone)]
#[repr(u32)]
enum NodeRefBytes {
    Hash(B256),
    Inline(Vec<u8>),
}

/// A pointer to a subtree: absent, known only by hash, or in memory. The `u32` tag puts the
/// hash at a word boundary: copying it in or out is then a word copy, not a byte loop.
#[derive(Debug, Clone, Default)]
#[repr(u32)]
enum Link {
    #[default]
    Empty,
    Digest(B256),
    Node(Box<Node>),
}

impl Link {
    fn is_empty(&self) -> bool {
        matches!(self, Link::Empty)
    }
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    /// Memoized reference bytes; `None` once the node or anything below it changed.
    cached: Option<NodeRefBytes>,
}

#[derive(Debug, Clone)]
enum Kind {
    Leaf { path: Vec<u8>, value: Vec<u8> },
    Extension { path: Vec<u8>, child: Link },
    Branch { children: Box<[Link; 16]>, value: Option<Vec<u8>> },
}

fn boxed(kind: Kind) -> Box<Node> {
    Box::new(Node { kind, cached: None })
}

fn leaf(path: Vec<u8>, value: Vec<u8>) -> Box<Node> {
    boxed(Kind::Leaf { path, value })
}

fn extension(path: Vec<u8>, child: Link) -> Box<Node> {
    boxed(Kind::Extension { path, child })
}

fn branch(children: Box<[Link; 16]>, value: Option<Vec<u8>>) -> Box<Node> {
    boxed(Kind::Branch { children, value })
}

fn empty_children() -> Box<[Link; 16]> {
    Box::default()
}

/// Puts `node` under an extension of `prefix`, unless the prefix is empty.
fn under_prefix(prefix: &[u8], node: Box<Node>) -> Box<Node> {
    if prefix.is_empty() {
        node
    } else {
        extension(prefix.to_vec(), Link::Node(node))
    }
}

/// Witness nodes decode straight into trie nodes.
impl Build for Node {
    type Child = Link;
    fn empty() -> Link {
        Link::Empty
    }
    fn hash(hash: B256) -> Link {
        Link::Digest(hash)
    }
    fn inline(node: Self) -> Link {
        Link::Node(Box::new(node))
    }
    fn children() -> Box<[Link; 16]> {
        empty_children()
    }
    fn leaf(path: Vec<u8>, value: Vec<u8>) -> Self {
        Node { kind: Kind::Leaf { path, value }, cached: None }
    }
    fn extension(path: Vec<u8>, child: Link) -> Self {
        Node { kind: Kind::Extension { path, child }, cached: None }
    }
    fn branch(children: Box<[Link; 16]>, value: Option<Vec<u8>>) -> Self {
        Node { kind: Kind::Branch { children, value }, cached: None }
    }
}

fn load(hash: B256, path: &[u8], source: &mut dyn NodeSource) -> Result<Box<Node>, TrieError> {
    let rlp = source.node(&hash).ok_or_else(|| TrieError::MissingNode { hash, path: nibbles_to_hex(path) })?;
    let mut node = decode::<Node>(&rlp, hash)?;
    node.cached = Some(NodeRefBytes::Hash(hash));
    Ok(Box::new(node))
}

/// Turns a link into an in-memory node, loading it from `source` if needed.
fn resolve(link: Link, path: &[u8], source: &mut dyn NodeSource) -> Result<Option<Box<Node>>, TrieError> {
    match link {
        Link::Empty => Ok(None),
        Link::Node(node) => Ok(Some(node)),
        Link::Digest(hash) => load(hash, path, source).map(Some),
    }
}

fn resolve_in_place(link: &mut Link, path: &[u8], source: &mut dyn NodeSource) -> Result<(), TrieError> {
    if let Link::Digest(hash) = *link {
        *link = Link::Node(load(hash, path, source)?);
    }
    Ok(())
}

/// A (possibly pruned) Merkle-Patricia trie over byte keys.
#[derive(Debug, Clone, Default)]
pub struct Trie {
    root: Link,
}

impl Trie {
    /// The empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// A trie known only by its root hash; nodes are loaded from a [`NodeSource`] on demand.
    pub fn from_root(root: B256) -> Self {
        if root == EMPTY_ROOT {
            Self::new()
        } else {
            Self { root: Link::Digest(root) }
        }
    }

    /// The value stored under `key`, or `None` if the trie proves it absent.
    pub fn get(&mut self, key: &[u8], source: &mut dyn NodeSource) -> Result<Option<Vec<u8>>, TrieError> {
        let nibbles = bytes_to_nibbles(key);
        let mut link = &mut self.root;
        let mut pos = 0;
        loop {
            resolve_in_place(link, &nibbles[..pos], source)?;
            let Link::Node(node) = link else { return Ok(None) };
            let rest = &nibbles[pos..];
            match &mut node.kind {
                Kind::Leaf { path, value } => {
                    return Ok((path.as_slice() == rest).then(|| value.clone()));
                }
                Kind::Extension { path, child } => {
                    if !rest.starts_with(path) {
                        return Ok(None);
                    }
                    pos += path.len();
                    link = child;
                }
                Kind::Branch { children, value } => {
                    let Some(&index) = rest.first() else { return Ok(value.clone()) };
                    pos += 1;
                    link = &mut children[index as usize];
                }
            }
        }
    }

    /// Stores `value` under `key`; an empty value removes the key, as in Ethereum's tries.
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>, source: &mut dyn NodeSource) -> Result<(), TrieError> {
        if value.is_empty() {
            return self.remove(key, source);
        }
        let nibbles = bytes_to_nibbles(key);
        let root = core::mem::take(&mut self.root);
        self.root = Link::Node(insert_at(root, &nibbles, 0, value, source)?);
        Ok(())
    }

    /// Removes `key` (a no-op if absent), restructuring the trie as needed.
    pub fn remove(&mut self, key: &[u8], source: &mut dyn NodeSource) -> Result<(), TrieError> {
        let nibbles = bytes_to_nibbles(key);
        let root = core::mem::take(&mut self.root);
        self.root = remove_at(root, &nibbles, 0, source)?;
        Ok(())
    }

    /// The root hash. Hashes of unchanged subtrees are reused.
    pub fn hash(&mut self) -> B256 {
        match &mut self.root {
            Link::Empty => EMPTY_ROOT,
            Link::Digest(hash) => *hash,
            Link::Node(node) => match node_ref(node) {
                NodeRefBytes::Hash(hash) => *hash,
                NodeRefBytes::Inline(rlp) => keccak256(rlp),
            },
        }
    }

    /// Calls `f(hash, rlp)` for the root and every in-memory node referenced by hash: the nodes
    /// a witness for this trie's current contents needs, as far as they are in memory.
    pub fn for_each_node(&mut self, mut f: impl FnMut(B256, Vec<u8>)) {
        self.hash();
        if let Link::Node(node) = &mut self.root {
            visit_nodes(node, true, &mut f);
        }
    }
}

fn insert_at(
    link: Link,
    key: &[u8],
    pos: usize,
    value: Vec<u8>,
    source: &mut dyn NodeSource,
) -> Result<Box<Node>, TrieError> {
    let rest = &key[pos..];
    let Some(mut node) = resolve(link, &key[..pos], source)? else {
        return Ok(leaf(rest.to_vec(), value));
    };
    // Where the key runs through the node (a branch, a whole extension, the same leaf) the node
    // changes in place: rebuilding it would cost an allocation and a copy per level.
    node.cached = None;
    match &mut node.kind {
        Kind::Branch { children, value: here } => {
            match rest.first() {
                None => *here = Some(value),
                Some(&index) => {
                    let child = core::mem::take(&mut children[index as usize]);
                    children[index as usize] = Link::Node(insert_at(child, key, pos + 1, value, source)?);
                }
            }
            return Ok(node);
        }
        Kind::Extension { path, child } if rest.starts_with(path) => {
            let below = core::mem::take(child);
            *child = Link::Node(insert_at(below, key, pos + path.len(), value, source)?);
            return Ok(node);
        }
        Kind::Leaf { path, value: here } if path.as_slice() == rest => {
            *here = value;
            return Ok(node);
        }
        _ => {}
    }
    match node.kind {
        Kind::Leaf { path, value: old } => {
            let common = common_prefix(&path, rest);
            let mut children = empty_children();
            let mut branch_value = None;
            if common == path.len() {
                branch_value = Some(old);
            } else {
                children[path[common] as usize] = Link::Node(leaf(path[common + 1..].to_vec(), old));
            }
            if common == rest.len() {
                branch_value = Some(value);
            } else {
                children[rest[common] as usize] = Link::Node(leaf(rest[common + 1..].to_vec(), value));
            }
            Ok(under_prefix(&rest[..common], branch(children, branch_value)))
        }
        Kind::Extension { path, child } => {
            let common = common_prefix(&path, rest);
            let mut children = empty_children();
            let mut branch_value = None;
            let tail = &path[common + 1..];
            children[path[common] as usize] =
                if tail.is_empty() { child } else { Link::Node(extension(tail.to_vec(), child)) };
            if common == rest.len() {
                branch_value = Some(value);
            } else {
                children[rest[common] as usize] = Link::Node(leaf(rest[common + 1..].to_vec(), value));
            }
            Ok(under_prefix(&rest[..common], branch(children, branch_value)))
        }
        Kind::Branch { .. } => unreachable!("a branch takes every key in place, above"),
    }
}

fn remove_at(link: Link, key: &[u8], pos: usize, source: &mut dyn NodeSource) -> Result<Link, TrieError> {
    let rest = &key[pos..];
    let Some(node) = resolve(link, &key[..pos], source)? else {
        return Ok(Link::Empty);
    };
    // Decide first whether the key is present below, so that an untouched node keeps its hash.
    let descends = match &node.kind {
        Kind::Leaf { path, .. } => path.as_slice() == rest,
        Kind::Extension { path, .. } => rest.starts_with(path),
        Kind::Branch { children, value } => match rest.first() {
            None => value.is_some(),
            Some(&index) => !children[index as usize].is_empty(),
        },
    };
    if !descends {
        return Ok(Link::Node(node));
    }
    match node.kind {
        Kind::Leaf { .. } => Ok(Link::Empty),
        Kind::Extension { path, child } => {
            let child = remove_at(child, key, pos + path.len(), source)?;
            let child_path = [&key[..pos], path.as_slice()].concat();
            join_prefix(path, child, &child_path, source)
        }
        Kind::Branch { mut children, mut value } => {
            match rest.first() {
                None => value = None,
                Some(&index) => {
                    let child = core::mem::take(&mut children[index as usize]);
                    children[index as usize] = remove_at(child, key, pos + 1, source)?;
                }
            }
            collapse_branch(children, value, &key[..pos], source)
        }
    }
}

/// Restores the canonical shape of a branch that lost a child or its value.
fn collapse_branch(
    mut children: Box<[Link; 16]>,
    value: Option<Vec<u8>>,
    path: &[u8],
    source: &mut dyn NodeSource,
) -> Result<Link, TrieError> {
    let mut live = children.iter().enumerate().filter(|(_, c)| !c.is_empty()).map(|(i, _)| i);
    let first = live.next();
    let more = live.next().is_some();
    match (first, more, value) {
        (None, _, None) => Ok(Link::Empty),
        (None, _, Some(value)) => Ok(Link::Node(leaf(Vec::new(), value))),
        (Some(index), false, None) => {
            // The lone sibling must be looked at to merge paths: this is the node a witness has
            // to carry for a deletion even though no key below it was read.
            let child = core::mem::take(&mut children[index]);
            let child_path = [path, &[index as u8]].concat();
            join_prefix(vec![index as u8], child, &child_path, source)
        }
        (_, _, value) => Ok(Link::Node(branch(children, value))),
    }
}

/// Prepends `prefix` to `child`: merges into a leaf or extension, or extends to a branch.
fn join_prefix(
    mut prefix: Vec<u8>,
    child: Link,
    child_path: &[u8],
    source: &mut dyn NodeSource,
) -> Result<Link, TrieError> {
    let Some(child) = resolve(child, child_path, source)? else {
        return Ok(Link::Empty);
    };
    Ok(Link::Node(match child.kind {
        Kind::Leaf { path, value } => {
            prefix.extend_from_slice(&path);
            leaf(prefix, value)
        }
        Kind::Extension { path, child } => {
            prefix.extend_from_slice(&path);
            extension(prefix, child)
        }
        Kind::Branch { .. } => extension(prefix, Link::Node(child)),
    }))
}

fn node_ref(node: &mut Node) -> &NodeRefBytes {
    if node.cached.is_none() {
        let rlp = encode(node);
        node.cached =
            Some(if rlp.len() < 32 { NodeRefBytes::Inline(rlp) } else { NodeRefBytes::Hash(keccak256(&rlp)) });
    }
    node.cached.as_ref().expect("set above")
}

/// The encoded length of a child reference, its own reference computed first if needed.
fn link_length(link: &mut Link) -> usize {
    match link {
        Link::Empty => 1,
        Link::Digest(_) => 1 + B256::len_bytes(),
        Link::Node(node) => match node_ref(node) {
            NodeRefBytes::Hash(_) => 1 + B256::len_bytes(),
            NodeRefBytes::Inline(rlp) => rlp.len(),
        },
    }
}

/// Appends a child reference whose own reference [`link_length`] has computed.
fn append_link(link: &Link, out: &mut Vec<u8>) {
    match link {
        Link::Empty => out.push(alloy_rlp::EMPTY_STRING_CODE),
        Link::Digest(hash) => hash.as_slice().encode(out),
        Link::Node(node) => match node.cached.as_ref().expect("link_length computed it") {
            NodeRefBytes::Hash(hash) => hash.as_slice().encode(out),
            NodeRefBytes::Inline(rlp) => out.extend_from_slice(rlp),
        },
    }
}

/// The node's RLP, written once into a buffer of its exact size: the payload's length is
/// summed first (computing the children's references), so nothing is copied or regrown.
/// Hashing the trie's changed nodes is a large part of a block's work in a zkVM.
fn encode(node: &mut Node) -> Vec<u8> {
    let path = match &node.kind {
        Kind::Leaf { path, .. } => Some(hex_prefix_encode(path, true)),
        Kind::Extension { path, .. } => Some(hex_prefix_encode(path, false)),
        Kind::Branch { .. } => None,
    };
    let path_length = path.as_deref().map_or(0, |path| path.length());
    let payload_length = match &mut node.kind {
        Kind::Leaf { value, .. } => path_length + value.as_slice().length(),
        Kind::Extension { child, .. } => path_length + link_length(child),
        Kind::Branch { children, value } => {
            children.iter_mut().map(link_length).sum::<usize>() + value.as_deref().map_or(1, |value| value.length())
        }
    };
    let header = Header { list: true, payload_length };
    let mut out = Vec::with_capacity(header.length_with_payload());
    header.encode(&mut out);
    if let Some(path) = &path {
        path.as_slice().encode(&mut out);
    }
    match &node.kind {
        Kind::Leaf { value, .. } => value.as_slice().encode(&mut out),
        Kind::Extension { child, .. } => append_link(child, &mut out),
        Kind::Branch { children, value } => {
            for child in children.iter() {
                append_link(child, &mut out);
            }
            match value {
                Some(value) => value.as_slice().encode(&mut out),
                None => out.push(alloy_rlp::EMPTY_STRING_CODE),
            }
        }
    }
    debug_assert_eq!(out.len(), header.length_with_payload());
    out
}

fn visit_nodes(node: &mut Node, is_root: bool, f: &mut impl FnMut(B256, Vec<u8>)) {
    let rlp = encode(node);
    if is_root || rlp.len() >= 32 {
        f(keccak256(&rlp), rlp);
    }
    match &mut node.kind {
        Kind::Leaf { .. } => {}
        Kind::Extension { child, .. } => {
            if let Link::Node(child) = child {
                visit_nodes(child, false, f);
            }
        }
        Kind::Branch { children, .. } => {
            for child in children.iter_mut() {
                if let Link::Node(child) = child {
                    visit_nodes(child, false, f);
                }
            }
        }
    }
}
