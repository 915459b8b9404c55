//! Reading the bridge's deposits, in order, for the L2 to include.

use alloy::{
    primitives::{Address, Bytes, B256, U256},
    providers::{DynProvider, Provider},
};

use crate::{CommonBridge, L1Error};

/// A deposit as the bridge queued it: the fields of the L2's privileged transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    /// The bridge's deposit number (the transaction's nonce).
    pub nonce: u64,
    /// The depositor (aliased if a contract).
    pub from: Address,
    /// The called L2 account.
    pub to: Address,
    /// Wei minted to `from` and sent with the call.
    pub value: U256,
    /// The call's gas limit.
    pub gas_limit: u64,
    /// The call data.
    pub data: Bytes,
    /// The deposit hash the bridge computed (the program computes the same).
    pub hash: B256,
}

/// Follows the bridge's `DepositInitiated` events, in blocks with `confirmations` blocks on
/// top of them: a deposit the L2 includes must stay on L1, or the batch that includes it could
/// never be committed (the bridge would not have it). A reorg deeper than that is not handled.
#[derive(Debug)]
pub struct DepositWatcher {
    bridge: CommonBridge::CommonBridgeInstance<DynProvider>,
    from_block: u64,
    next_nonce: u64,
    confirmations: u64,
    read_through: Option<u64>,
}

impl DepositWatcher {
    /// Reads deposits of `bridge` from L1 block `from_block` on, starting with number
    /// `next_nonce` (those before it are already on the L2), once `confirmations` blocks are on
    /// top of theirs.
    pub fn new(provider: DynProvider, bridge: Address, from_block: u64, next_nonce: u64, confirmations: u64) -> Self {
        Self { bridge: CommonBridge::new(bridge, provider), from_block, next_nonce, confirmations, read_through: None }
    }

    /// The last L1 block whose deposits have been read (none before the first poll that found
    /// a confirmed block).
    pub fn read_through(&self) -> Option<u64> {
        self.read_through
    }

    /// The number of the next deposit to read.
    pub fn next_nonce(&self) -> u64 {
        self.next_nonce
    }

    /// The deposits made since the last poll, in order. A gap in the numbers (a node that has
    /// not seen every event yet) is an error: none after the gap is returned.
    pub async fn poll(&mut self) -> Result<Vec<Deposit>, L1Error> {
        let latest = self.bridge.provider().get_block_number().await.map_err(|e| L1Error::Node(e.to_string()))?;
        let Some(head) = latest.checked_sub(self.confirmations) else { return Ok(Vec::new()) };
        if head < self.from_block {
            return Ok(Vec::new());
        }
        let logs = self
            .bridge
            .DepositInitiated_filter()
            .from_block(self.from_block)
            .to_block(head)
            .query()
            .await
            .map_err(L1Error::from_contract)?;
        let mut events: Vec<_> = logs.into_iter().map(|(event, _)| event).collect();
        events.sort_by_key(|e| e.nonce);
        let mut found = Vec::new();
        for event in events {
            let nonce = u64::try_from(event.nonce).map_err(|_| L1Error::Node("deposit nonce over 2^64".into()))?;
            if nonce < self.next_nonce {
                continue;
            }
            if nonce != self.next_nonce {
                return Err(L1Error::Node(format!("deposit {} is missing before {nonce}", self.next_nonce)));
            }
            let gas_limit =
                u64::try_from(event.gasLimit).map_err(|_| L1Error::Node("deposit gas limit over 2^64".into()))?;
            found.push(Deposit {
                nonce,
                from: event.from,
                to: event.to,
                value: event.value,
                gas_limit,
                data: event.data,
                hash: event.depositHash,
            });
            self.next_nonce += 1;
        }
        // Blocks up to `head` are read; `head` itself is read again next time (a node may
        // answer a range before it has indexed the range's last block), which the nonces make
        // harmless.
        self.from_block = head;
        self.read_through = Some(head);
        Ok(found)
    }
}
