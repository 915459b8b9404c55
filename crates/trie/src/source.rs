use alloy_primitives::{keccak256, map::B256Map, map::B256Set, Bytes, B256};

/// Where a pruned trie finds the nodes it knows only by hash.
pub trait NodeSource {
    /// The RLP of the node whose keccak256 is `hash`, if known.
    fn node(&mut self, hash: &B256) -> Option<Bytes>;
}

/// Nodes keyed by the keccak256 of their RLP. The key is computed here, from the bytes, so a
/// node can only ever be found under its own hash: this is what authenticates a witness.
#[derive(Debug, Clone, Default)]
pub struct MapSource {
    nodes: B256Map<Bytes>,
}

impl MapSource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes and stores every node; duplicates are harmless.
    pub fn from_nodes<I: IntoIterator<Item = Bytes>>(nodes: I) -> Self {
        let mut source = Self::new();
        for node in nodes {
            source.insert(node);
        }
        source
    }

    /// Stores a node under its hash and returns the hash.
    pub fn insert(&mut self, node: Bytes) -> B256 {
        let hash = keccak256(&node);
        self.nodes.insert(hash, node);
        hash
    }

    /// Stores a node whose hash the caller has just computed from the same bytes.
    pub fn insert_hashed(&mut self, hash: B256, node: Bytes) {
        debug_assert_eq!(keccak256(&node), hash);
        self.nodes.insert(hash, node);
    }

    /// Number of distinct nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node with this hash, if stored.
    pub fn get(&self, hash: &B256) -> Option<&Bytes> {
        self.nodes.get(hash)
    }

    /// All nodes with their hashes, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&B256, &Bytes)> {
        self.nodes.iter()
    }

    /// Removes a node; used by tests that tamper with a witness.
    pub fn remove(&mut self, hash: &B256) -> Option<Bytes> {
        self.nodes.remove(hash)
    }
}

impl NodeSource for MapSource {
    fn node(&mut self, hash: &B256) -> Option<Bytes> {
        self.nodes.get(hash).cloned()
    }
}

/// Reads from a complete source and remembers the hash of every node handed out: running a
/// block against a full state through this source yields exactly the nodes its witness needs.
#[derive(Debug)]
pub struct RecordingSource<'a> {
    inner: &'a MapSource,
    touched: B256Set,
}

impl<'a> RecordingSource<'a> {
    /// Records lookups into `inner`.
    pub fn new(inner: &'a MapSource) -> Self {
        Self { inner, touched: B256Set::default() }
    }

    /// Hashes of all nodes looked up so far.
    pub fn touched(&self) -> &B256Set {
        &self.touched
    }

    /// The looked-up nodes' RLP, in hash order (deterministic witnesses).
    pub fn touched_nodes(&self) -> alloc::vec::Vec<Bytes> {
        let mut hashes: alloc::vec::Vec<_> = self.touched.iter().copied().collect();
        hashes.sort_unstable();
        hashes.iter().filter_map(|h| self.inner.get(h).cloned()).collect()
    }
}

impl NodeSource for RecordingSource<'_> {
    fn node(&mut self, hash: &B256) -> Option<Bytes> {
        let node = self.inner.get(hash).cloned();
        if node.is_some() {
            self.touched.insert(*hash);
        }
        node
    }
}

impl<T: NodeSource + ?Sized> NodeSource for &mut T {
    fn node(&mut self, hash: &B256) -> Option<Bytes> {
        (**self).node(hash)
    }
}
