//! How many connections are open, in all and per peer address: a connection is served only
//! while it holds a slot under both limits. At a limit, a new connection takes the slot of the
//! oldest connection still in its handshake (of the same peer, at the per-peer limit), which is
//! closed: peers that open connections and stall cannot hold the slots honest provers need,
//! since an honest handshake takes milliseconds and a stalled one is always older. Only where
//! every connection in the way has authenticated is the new one refused.

use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
    sync::{Arc, Mutex},
};

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// Which limit a connection met: it was refused there, or took another's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// All `max_connections` slots are taken.
    Total,
    /// The peer's address holds `max_connections_per_peer` slots.
    PerPeer,
}

impl Refusal {
    /// The metric label.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Refusal::Total => "total",
            Refusal::PerPeer => "per_peer",
        }
    }
}

#[derive(Debug)]
struct Entry {
    peer: IpAddr,
    authenticated: bool,
    evict: CancellationToken,
}

#[derive(Debug, Default)]
struct Open {
    /// By admission order: the first unauthenticated entry is the oldest.
    entries: BTreeMap<u64, Entry>,
    by_peer: HashMap<IpAddr, usize>,
    next_id: u64,
}

impl Open {
    /// Closes the oldest unauthenticated connection (of `peer`, if given); whether there was one.
    fn evict_oldest(&mut self, peer: Option<IpAddr>) -> bool {
        let victim =
            self.entries.iter().find(|(_, e)| !e.authenticated && peer.is_none_or(|p| p == e.peer)).map(|(id, _)| *id);
        match victim {
            Some(id) => {
                self.remove(id).evict.cancel();
                true
            }
            None => false,
        }
    }

    fn remove(&mut self, id: u64) -> Entry {
        let entry = self.entries.remove(&id).expect("an open connection");
        if let Some(count) = self.by_peer.get_mut(&entry.peer) {
            *count -= 1;
            if *count == 0 {
                self.by_peer.remove(&entry.peer);
            }
        }
        entry
    }
}

/// The open connections, counted.
#[derive(Debug, Clone)]
pub(crate) struct Connections {
    open: Arc<Mutex<Open>>,
    max_total: usize,
    max_per_peer: usize,
}

/// A connection's slot, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    open: Arc<Mutex<Open>>,
    id: u64,
    evict: CancellationToken,
}

/// A slot, and the limit at which it took an older connection's (if it did).
pub(crate) type Admitted = (Slot, Option<Refusal>);

impl Connections {
    pub(crate) fn new(max_total: usize, max_per_peer: usize) -> Self {
        Self { open: Arc::default(), max_total: max_total.max(1), max_per_peer: max_per_peer.max(1) }
    }

    fn lock(open: &Mutex<Open>) -> std::sync::MutexGuard<'_, Open> {
        // The counts are plain integers, consistent after any panic.
        open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A slot for a connection from `peer`: a free one, or the oldest unauthenticated
    /// connection's in the way (which is closed); refused only where none is unauthenticated.
    pub(crate) fn admit(&self, peer: IpAddr) -> Result<Admitted, Refusal> {
        let mut open = Self::lock(&self.open);
        let mut evicted = None;
        if open.by_peer.get(&peer).copied().unwrap_or(0) >= self.max_per_peer {
            if !open.evict_oldest(Some(peer)) {
                return Err(Refusal::PerPeer);
            }
            evicted = Some(Refusal::PerPeer);
        }
        if open.entries.len() >= self.max_total {
            if !open.evict_oldest(None) {
                return Err(Refusal::Total);
            }
            evicted = Some(Refusal::Total);
        }
        let id = open.next_id;
        open.next_id += 1;
        let evict = CancellationToken::new();
        open.entries.insert(id, Entry { peer, authenticated: false, evict: evict.clone() });
        *open.by_peer.entry(peer).or_default() += 1;
        Ok((Slot { open: self.open.clone(), id, evict }, evicted))
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        Self::lock(&self.open).entries.len()
    }
}

impl Slot {
    /// The connection finished its handshake: it is no longer evicted for a newer one. False
    /// if a newer one took its slot first (the connection must close).
    pub(crate) fn authenticated(&self) -> bool {
        match Connections::lock(&self.open).entries.get_mut(&self.id) {
            Some(entry) => {
                entry.authenticated = true;
                true
            }
            None => false,
        }
    }

    /// Resolves once a newer connection took this slot.
    pub(crate) fn evicted(&self) -> WaitForCancellationFuture<'_> {
        self.evict.cancelled()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = Connections::lock(&self.open);
        // An evicted slot was removed when it was taken.
        if open.entries.contains_key(&self.id) {
            open.remove(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn authenticated_connections_hold_their_slots_and_free_them_on_drop() {
        let connections = Connections::new(3, 2);
        let (a, b) = (ip("127.0.0.1"), ip("127.0.0.2"));
        let (first, _) = connections.admit(a).unwrap();
        let (second, _) = connections.admit(a).unwrap();
        assert!(first.authenticated());
        assert!(second.authenticated());
        assert_eq!(connections.admit(a).unwrap_err(), Refusal::PerPeer);
        let (third, _) = connections.admit(b).unwrap();
        assert!(third.authenticated());
        assert_eq!(connections.admit(b).unwrap_err(), Refusal::Total);
        assert_eq!(connections.open(), 3);
        drop(first);
        assert_eq!(connections.open(), 2);
        let (_again, evicted) = connections.admit(a).unwrap();
        assert_eq!(evicted, None);
    }

    #[test]
    fn a_new_connection_takes_the_oldest_unauthenticated_slot() {
        let connections = Connections::new(3, 3);
        let (stall, honest) = (ip("10.0.0.1"), ip("10.0.0.2"));
        let (oldest, _) = connections.admit(stall).unwrap();
        let (prover, _) = connections.admit(honest).unwrap();
        assert!(prover.authenticated());
        let (younger, _) = connections.admit(stall).unwrap();
        // Full: the newcomer takes the oldest stalled slot, not the authenticated prover's.
        let (newcomer, evicted) = connections.admit(honest).unwrap();
        assert_eq!(evicted, Some(Refusal::Total));
        assert!(oldest.evict.is_cancelled());
        assert!(!younger.evict.is_cancelled() && !prover.evict.is_cancelled());
        assert_eq!(connections.open(), 3);
        // The evicted connection's task ends later; its drop frees nothing twice.
        assert!(!oldest.authenticated(), "an evicted connection cannot authenticate any more");
        drop(oldest);
        assert_eq!(connections.open(), 3);
        assert!(newcomer.authenticated());
        assert!(younger.authenticated());
        assert_eq!(connections.admit(stall).unwrap_err(), Refusal::Total, "every slot authenticated");
    }

    #[test]
    fn at_the_per_peer_limit_a_peer_evicts_only_its_own_stalled_connections() {
        let connections = Connections::new(10, 2);
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        let (other, _) = connections.admit(b).unwrap();
        let (a1, _) = connections.admit(a).unwrap();
        let (a2, _) = connections.admit(a).unwrap();
        let (a3, evicted) = connections.admit(a).unwrap();
        assert_eq!(evicted, Some(Refusal::PerPeer));
        assert!(a1.evict.is_cancelled() && !a2.evict.is_cancelled() && !other.evict.is_cancelled());
        assert!(a2.authenticated());
        assert!(a3.authenticated());
        assert_eq!(connections.admit(a).unwrap_err(), Refusal::PerPeer);
    }
}
