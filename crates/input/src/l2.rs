//! The L2's additions to Ethereum's block format: the privileged (deposit) transaction, the
//! transaction envelope that carries it beside Ethereum's, and the batch's blob commitment.
//! The rules are written down in docs/l2.md.

use alloy_consensus::{Signed, Transaction, TxEnvelope};
use alloy_eips::{
    eip2718::{Decodable2718, Eip2718Error, Eip2718Result, Encodable2718, IsTyped2718, Typed2718},
    eip2930::AccessList,
    eip7702::SignedAuthorization,
};
use alloy_evm::{FromRecoveredTx, FromTxWithEncoded};
use alloy_primitives::{address, keccak256, Address, Bytes, ChainId, FixedBytes, TxKind, B256, U256};
use alloy_rlp::{BufMut, Decodable, Encodable, RlpDecodable, RlpEncodable};
use revm::context::TxEnv;
use serde::{Deserialize, Serialize};

/// EIP-2718 type of a privileged transaction.
pub const PRIVILEGED_TX_TYPE: u8 = 0x7e;

/// The messenger predeploy whose `L1Message` logs are the batch's withdrawals.
pub const MESSENGER_ADDRESS: Address = address!("0x000000000000000000000000000000000000fffe");

/// The L2 bridge predeploy (`contracts/src/L2Bridge.sol`): its messenger messages bind an ether
/// withdrawal's receiver and amount, and the L1 bridge pays only those.
pub const L2_BRIDGE_ADDRESS: Address = address!("0x000000000000000000000000000000000000fffd");

/// A transaction the L1 bridge forces into the L2: it has no signature, its sender is `from`,
/// `value` is minted to `from` just before it runs, it pays no fee and its `nonce` is the
/// bridge's deposit number (not checked against the sender's account nonce). See docs/l2.md.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, RlpEncodable, RlpDecodable, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivilegedTx {
    /// The L2's chain id (checked as for any transaction).
    #[serde(with = "quantity")]
    pub chain_id: u64,
    /// The bridge's deposit number.
    #[serde(with = "quantity")]
    pub nonce: u64,
    /// Must be zero: a privileged transaction pays no fee.
    #[serde(with = "quantity::u128")]
    pub max_priority_fee_per_gas: u128,
    /// Must be zero: a privileged transaction pays no fee.
    #[serde(with = "quantity::u128")]
    pub max_fee_per_gas: u128,
    /// Gas the depositor chose (bound by the deposit hash).
    #[serde(rename = "gas", with = "quantity")]
    pub gas_limit: u64,
    /// The called account.
    pub to: Address,
    /// Wei minted to `from` and sent with the call.
    pub value: U256,
    /// Call data.
    #[serde(rename = "input")]
    pub data: Bytes,
    /// Must be empty: it would change execution without being bound by the deposit hash.
    pub access_list: AccessList,
    /// The depositor on L1 (the sender on L2).
    pub from: Address,
}

/// Hex-quantity serde for integer fields, so the JSON form matches Ethereum's RPC style.
mod quantity {
    use alloy_primitives::{U128, U64};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        U64::from(*value).serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        Ok(U64::deserialize(deserializer)?.to::<u64>())
    }

    pub(super) mod u128 {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
            U128::from(*value).serialize(serializer)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
            Ok(U128::deserialize(deserializer)?.to::<u128>())
        }
    }
}

impl PrivilegedTx {
    /// The deposit hash the L1 bridge computes for this transaction: `keccak256(u256(chain_id) ‖
    /// from ‖ to ‖ u256(nonce) ‖ u256(value) ‖ u256(gas_limit) ‖ keccak256(data))`.
    pub fn deposit_hash(&self) -> B256 {
        let mut preimage = [0u8; 32 + 20 + 20 + 32 + 32 + 32 + 32];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            preimage[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(&U256::from(self.chain_id).to_be_bytes::<32>());
        put(self.from.as_slice());
        put(self.to.as_slice());
        put(&U256::from(self.nonce).to_be_bytes::<32>());
        put(&self.value.to_be_bytes::<32>());
        put(&U256::from(self.gas_limit).to_be_bytes::<32>());
        put(keccak256(&self.data).as_slice());
        keccak256(preimage)
    }

    /// The transaction hash: keccak256 of the EIP-2718 encoding.
    pub fn tx_hash(&self) -> B256 {
        keccak256(self.encoded_2718())
    }
}

impl Typed2718 for PrivilegedTx {
    fn ty(&self) -> u8 {
        PRIVILEGED_TX_TYPE
    }
}

impl IsTyped2718 for PrivilegedTx {
    fn is_type(ty: u8) -> bool {
        ty == PRIVILEGED_TX_TYPE
    }
}

impl Encodable2718 for PrivilegedTx {
    fn encode_2718_len(&self) -> usize {
        1 + self.length()
    }

    fn encode_2718(&self, out: &mut dyn BufMut) {
        out.put_u8(PRIVILEGED_TX_TYPE);
        self.encode(out);
    }
}

impl Decodable2718 for PrivilegedTx {
    fn typed_decode(ty: u8, buf: &mut &[u8]) -> Eip2718Result<Self> {
        if ty != PRIVILEGED_TX_TYPE {
            return Err(Eip2718Error::UnexpectedType(ty));
        }
        Ok(Self::decode(buf)?)
    }

    fn fallback_decode(_buf: &mut &[u8]) -> Eip2718Result<Self> {
        Err(Eip2718Error::UnexpectedType(0))
    }
}

impl Transaction for PrivilegedTx {
    fn chain_id(&self) -> Option<ChainId> {
        Some(self.chain_id)
    }
    fn nonce(&self) -> u64 {
        self.nonce
    }
    fn gas_limit(&self) -> u64 {
        self.gas_limit
    }
    fn gas_price(&self) -> Option<u128> {
        None
    }
    fn max_fee_per_gas(&self) -> u128 {
        self.max_fee_per_gas
    }
    fn max_priority_fee_per_gas(&self) -> Option<u128> {
        Some(self.max_priority_fee_per_gas)
    }
    fn max_fee_per_blob_gas(&self) -> Option<u128> {
        None
    }
    fn priority_fee_or_price(&self) -> u128 {
        self.max_priority_fee_per_gas
    }
    /// Privileged transactions pay no fee.
    fn effective_gas_price(&self, _base_fee: Option<u64>) -> u128 {
        0
    }
    fn is_dynamic_fee(&self) -> bool {
        true
    }
    fn kind(&self) -> TxKind {
        TxKind::Call(self.to)
    }
    fn is_create(&self) -> bool {
        false
    }
    fn value(&self) -> U256 {
        self.value
    }
    fn input(&self) -> &Bytes {
        &self.data
    }
    fn access_list(&self) -> Option<&AccessList> {
        Some(&self.access_list)
    }
    fn blob_versioned_hashes(&self) -> Option<&[B256]> {
        None
    }
    fn authorization_list(&self) -> Option<&[SignedAuthorization]> {
        None
    }
}

/// A transaction in a block: Ethereum's five types, or (on an L2) a privileged transaction.
#[derive(Debug, Clone, alloy_consensus::TransactionEnvelope)]
#[envelope(tx_type_name = BlockTxType)]
// Boxing the large variant would cost an allocation per Ethereum transaction, the common case.
#[allow(clippy::large_enum_variant)]
pub enum BlockTx {
    /// An ordinary signed Ethereum transaction.
    #[envelope(flatten)]
    Ethereum(TxEnvelope),
    /// An L2 deposit forced by the L1 bridge.
    #[envelope(ty = 126)]
    Privileged(PrivilegedTx),
}

impl<T> From<Signed<T>> for BlockTx
where
    TxEnvelope: From<Signed<T>>,
{
    fn from(tx: Signed<T>) -> Self {
        Self::Ethereum(tx.into())
    }
}

impl BlockTx {
    /// The transaction hash.
    pub fn tx_hash(&self) -> B256 {
        match self {
            Self::Ethereum(tx) => *tx.tx_hash(),
            Self::Privileged(tx) => tx.tx_hash(),
        }
    }

    /// The privileged transaction, if this is one.
    pub fn as_privileged(&self) -> Option<&PrivilegedTx> {
        match self {
            Self::Privileged(tx) => Some(tx),
            Self::Ethereum(_) => None,
        }
    }
}

impl alloy_consensus::InMemorySize for BlockTxType {
    fn size(&self) -> usize {
        core::mem::size_of::<Self>()
    }
}

/// The EVM transaction of a privileged transaction. The fee fields are carried as given; the
/// program runs it with fee charging, the base-fee check, the nonce check and EIP-3607 off.
fn privileged_tx_env(tx: &PrivilegedTx) -> TxEnv {
    TxEnv {
        tx_type: 2,
        caller: tx.from,
        gas_limit: tx.gas_limit,
        gas_price: tx.max_fee_per_gas,
        gas_priority_fee: Some(tx.max_priority_fee_per_gas),
        kind: TxKind::Call(tx.to),
        value: tx.value,
        data: tx.data.clone(),
        nonce: tx.nonce,
        chain_id: Some(tx.chain_id),
        access_list: tx.access_list.clone(),
        ..Default::default()
    }
}

impl FromRecoveredTx<BlockTx> for TxEnv {
    fn from_recovered_tx(tx: &BlockTx, sender: Address) -> Self {
        match tx {
            BlockTx::Ethereum(tx) => TxEnv::from_recovered_tx(tx, sender),
            BlockTx::Privileged(tx) => privileged_tx_env(tx),
        }
    }
}

impl FromTxWithEncoded<BlockTx> for TxEnv {
    fn from_encoded_tx(tx: &BlockTx, sender: Address, encoded: Bytes) -> Self {
        match tx {
            BlockTx::Ethereum(tx) => TxEnv::from_encoded_tx(tx, sender, encoded),
            BlockTx::Privileged(tx) => privileged_tx_env(tx),
        }
    }
}

/// A KZG commitment or proof (a compressed BLS12-381 G1 point).
pub type Bytes48 = FixedBytes<48>;

/// What an L2 batch's input adds: the KZG commitment to the blob holding the batch's state
/// diff. Its versioned hash is a public output; the L1 contract checks the program's evaluation
/// of the blob against the blob posted under that hash (docs/l2.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
#[serde(rename_all = "camelCase")]
pub struct L2Input {
    /// KZG commitment to the state-diff blob.
    pub blob_commitment: Bytes48,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{b256, hex};

    fn sample() -> PrivilegedTx {
        PrivilegedTx {
            chain_id: 65_536_999,
            nonce: 3,
            max_priority_fee_per_gas: 0,
            max_fee_per_gas: 0,
            gas_limit: 100_000,
            to: address!("0x00000000000000000000000000000000000000aa"),
            value: U256::from(10u64).pow(U256::from(18)),
            data: Bytes::from_static(&hex!("c0ffee")),
            access_list: AccessList::default(),
            from: address!("0x00000000000000000000000000000000000000bb"),
        }
    }

    /// The preimage is laid out by hand here, and the expected hash was computed independently
    /// with foundry's `cast concat-hex`/`cast keccak` (docs/l2.md lists the commands).
    #[test]
    fn deposit_hash_vector() {
        let tx = sample();
        let preimage = hex!(
            "0000000000000000000000000000000000000000000000000000000003e803e7"
            "00000000000000000000000000000000000000bb"
            "00000000000000000000000000000000000000aa"
            "0000000000000000000000000000000000000000000000000000000000000003"
            "0000000000000000000000000000000000000000000000000de0b6b3a7640000"
            "00000000000000000000000000000000000000000000000000000000000186a0"
        );
        let mut full = preimage.to_vec();
        full.extend_from_slice(keccak256(hex!("c0ffee")).as_slice());
        assert_eq!(tx.deposit_hash(), keccak256(&full));
        assert_eq!(tx.deposit_hash(), DEPOSIT_HASH_VECTOR);
    }

    const DEPOSIT_HASH_VECTOR: B256 = b256!("0xb75493eac83de5b1b4f28bb2550a1695b5eaaba16f5c38af3eda85d7850f1abe");

    #[test]
    fn envelope_round_trip() {
        let tx = BlockTx::Privileged(sample());
        let encoded = tx.encoded_2718();
        assert_eq!(encoded[0], PRIVILEGED_TX_TYPE);
        let decoded = BlockTx::decode_2718_exact(&encoded).expect("decodes");
        assert_eq!(decoded, tx);
        let mut rlp = Vec::new();
        tx.encode(&mut rlp);
        assert_eq!(BlockTx::decode(&mut rlp.as_slice()).expect("network form decodes"), tx);
        let json = serde_json::to_string(&tx).expect("serializes");
        assert!(json.contains("\"type\":\"0x7e\""), "{json}");
        assert_eq!(serde_json::from_str::<BlockTx>(&json).expect("deserializes"), tx);
    }
}
