//! How many connections are open, in all and per peer address: a connection is served only
//! while it holds a slot under both limits.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

/// Which limit refused a connection.
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

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_peer: HashMap<IpAddr, usize>,
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
    peer: IpAddr,
}

impl Connections {
    pub(crate) fn new(max_total: usize, max_per_peer: usize) -> Self {
        Self { open: Arc::default(), max_total: max_total.max(1), max_per_peer: max_per_peer.max(1) }
    }

    fn lock(open: &Mutex<Open>) -> std::sync::MutexGuard<'_, Open> {
        // The counts are plain integers, consistent after any panic.
        open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A slot for a connection from `peer`, if both limits allow one.
    pub(crate) fn admit(&self, peer: IpAddr) -> Result<Slot, Refusal> {
        let mut open = Self::lock(&self.open);
        if open.total >= self.max_total {
            return Err(Refusal::Total);
        }
        let from_peer = open.by_peer.entry(peer).or_default();
        if *from_peer >= self.max_per_peer {
            return Err(Refusal::PerPeer);
        }
        *from_peer += 1;
        open.total += 1;
        Ok(Slot { open: self.open.clone(), peer })
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        Self::lock(&self.open).total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = Connections::lock(&self.open);
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_peer.get_mut(&self.peer) {
            *count -= 1;
            if *count == 0 {
                open.by_peer.remove(&self.peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_total_and_per_peer_and_frees_on_drop() {
        let connections = Connections::new(3, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let first = connections.admit(a).unwrap();
        let _second = connections.admit(a).unwrap();
        assert_eq!(connections.admit(a).unwrap_err(), Refusal::PerPeer);
        let _third = connections.admit(b).unwrap();
        assert_eq!(connections.admit(b).unwrap_err(), Refusal::Total);
        assert_eq!(connections.open(), 3);
        drop(first);
        assert_eq!(connections.open(), 2);
        let _again = connections.admit(a).unwrap();
    }
}
