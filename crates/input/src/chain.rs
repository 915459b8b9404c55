use alloc::{string::String, vec::Vec};
use alloy_eips::eip7840::BlobParams;
use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_primitives::{address, Address};
use serde::{Deserialize, Serialize};

/// The mainnet deposit contract, which the test suites use as well (EIP-6110).
pub const MAINNET_DEPOSIT_CONTRACT: Address = address!("0x00000000219ab540356cbb839cbe05303d7705fa");

/// Chain rules the program needs: id, fork activations, blob schedule, deposit contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Activation of each fork; forks not listed never activate.
    pub forks: Vec<(EthereumHardfork, ForkCondition)>,
    /// Blob parameters from the fork that introduces them on (Cancun, Prague, Osaka, BPO…).
    pub blob_schedule: Vec<(EthereumHardfork, BlobParams)>,
    /// EIP-6110 deposit contract, whose logs become deposit requests.
    pub deposit_contract: Option<Address>,
}

/// A chain configuration that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainConfigError {
    /// The network name is not one this program knows.
    #[error(
        "unknown network {0:?} (known: mainnet, sepolia, hoodi, and the test-suite forks Paris, Shanghai, Cancun, \
         Prague, Osaka and their transitions such as CancunToPragueAtTime15k; or give --chain-config FILE)"
    )]
    UnknownNetwork(String),
    /// The network's rules predate the merge, which the program does not execute.
    #[error("network {0:?} is pre-merge (proof-of-work rules are not supported)")]
    PreMerge(String),
}

/// Forks a post-merge chain always has active from genesis, in order.
const THROUGH_PARIS: [EthereumHardfork; 15] = [
    EthereumHardfork::Frontier,
    EthereumHardfork::Homestead,
    EthereumHardfork::Dao,
    EthereumHardfork::Tangerine,
    EthereumHardfork::SpuriousDragon,
    EthereumHardfork::Byzantium,
    EthereumHardfork::Constantinople,
    EthereumHardfork::Petersburg,
    EthereumHardfork::Istanbul,
    EthereumHardfork::MuirGlacier,
    EthereumHardfork::Berlin,
    EthereumHardfork::London,
    EthereumHardfork::ArrowGlacier,
    EthereumHardfork::GrayGlacier,
    EthereumHardfork::Paris,
];

const TIMESTAMP_FORKS: [EthereumHardfork; 7] = [
    EthereumHardfork::Shanghai,
    EthereumHardfork::Cancun,
    EthereumHardfork::Prague,
    EthereumHardfork::Osaka,
    EthereumHardfork::Bpo1,
    EthereumHardfork::Bpo2,
    EthereumHardfork::Amsterdam,
];

/// Blob parameters each fork brings by default (EIP-4844, EIP-7691, EIP-7594/7918).
pub fn default_blob_params(fork: EthereumHardfork) -> Option<BlobParams> {
    match fork {
        EthereumHardfork::Cancun => Some(BlobParams::cancun()),
        EthereumHardfork::Prague => Some(BlobParams::prague()),
        EthereumHardfork::Osaka => Some(BlobParams::osaka()),
        EthereumHardfork::Bpo1 => Some(BlobParams::bpo1()),
        EthereumHardfork::Bpo2 => Some(BlobParams::bpo2()),
        _ => None,
    }
}

impl ChainConfig {
    /// A test-suite chain (chain id 1, everything through Paris at genesis) where `last` is the
    /// newest active fork, optionally preceded by `from` until `switch_time`.
    fn test_chain(last: EthereumHardfork, transition: Option<(EthereumHardfork, u64)>) -> Self {
        let mut forks: Vec<_> = THROUGH_PARIS.iter().map(|f| (*f, ForkCondition::Block(0))).collect();
        let last_index = TIMESTAMP_FORKS.iter().position(|f| *f == last);
        for (i, fork) in TIMESTAMP_FORKS.iter().enumerate() {
            let Some(last_index) = last_index else { break };
            if i > last_index {
                break;
            }
            let at = match transition {
                Some((_, time)) if i == last_index => time,
                _ => 0,
            };
            forks.push((*fork, ForkCondition::Timestamp(at)));
        }
        let blob_schedule =
            forks.iter().filter_map(|(fork, _)| default_blob_params(*fork).map(|p| (*fork, p))).collect();
        Self { chain_id: 1, forks, blob_schedule, deposit_contract: Some(MAINNET_DEPOSIT_CONTRACT) }
    }

    /// The chain of a blockchain-test `network` name (`"Prague"`, `"CancunToPragueAtTime15k"`…).
    pub fn for_test_network(network: &str) -> Result<Self, ChainConfigError> {
        let fork = |name: &str| -> Option<EthereumHardfork> {
            Some(match name {
                "Paris" | "Merge" => EthereumHardfork::Paris,
                "Shanghai" => EthereumHardfork::Shanghai,
                "Cancun" => EthereumHardfork::Cancun,
                "Prague" => EthereumHardfork::Prague,
                "Osaka" => EthereumHardfork::Osaka,
                "BPO1" => EthereumHardfork::Bpo1,
                "BPO2" => EthereumHardfork::Bpo2,
                "Amsterdam" => EthereumHardfork::Amsterdam,
                _ => return None,
            })
        };
        if let Some(single) = fork(network) {
            return Ok(Self::test_chain(single, None));
        }
        if let Some((from, rest)) = network.split_once("To") {
            if let Some(to) = rest.strip_suffix("AtTime15k") {
                if let (Some(from), Some(to)) = (fork(from), fork(to)) {
                    return Ok(Self::test_chain(to, Some((from, 15_000))));
                }
            }
            if fork(from).is_none() && fork(rest).is_none() {
                return Err(ChainConfigError::PreMerge(network.into()));
            }
        }
        const PRE_MERGE: [&str; 12] = [
            "Frontier",
            "Homestead",
            "EIP150",
            "EIP158",
            "Byzantium",
            "Constantinople",
            "ConstantinopleFix",
            "Petersburg",
            "Istanbul",
            "Berlin",
            "London",
            "ArrowGlacier",
        ];
        if PRE_MERGE.contains(&network) || network.ends_with("AtDiffC0000") || network.contains("At5") {
            return Err(ChainConfigError::PreMerge(network.into()));
        }
        Err(ChainConfigError::UnknownNetwork(network.into()))
    }

    /// Replaces the blob parameters of `fork` (as a test's `blobSchedule` does).
    pub fn set_blob_params(&mut self, fork: EthereumHardfork, target: u64, max: u64, update_fraction: u128) {
        let base = default_blob_params(fork).unwrap_or_else(BlobParams::osaka);
        let params = BlobParams {
            target_blob_count: target,
            max_blob_count: max,
            update_fraction,
            // Before Osaka (EIP-7594) a single transaction may fill the whole block.
            max_blobs_per_tx: if base.blob_base_cost == 0 { max } else { base.max_blobs_per_tx },
            ..base
        };
        match self.blob_schedule.iter_mut().find(|(f, _)| *f == fork) {
            Some(entry) => entry.1 = params,
            None => self.blob_schedule.push((fork, params)),
        }
    }

    /// Ethereum mainnet.
    pub fn mainnet() -> Self {
        Self::public(1, &EthereumHardfork::mainnet())
    }

    /// The Sepolia testnet.
    pub fn sepolia() -> Self {
        let mut chain = Self::public(11_155_111, &EthereumHardfork::sepolia());
        chain.deposit_contract = Some(address!("0x7f02c3e3c98b133055b8b348b2ac625669ed295d"));
        chain
    }

    /// The Hoodi testnet.
    pub fn hoodi() -> Self {
        let mut chain = Self::public(560_048, &EthereumHardfork::hoodi());
        chain.deposit_contract = Some(address!("0x00000000219ab540356cBB839Cbe05303d7705Fa"));
        chain
    }

    /// A known public chain by name.
    pub fn by_name(name: &str) -> Result<Self, ChainConfigError> {
        match name.to_ascii_lowercase().as_str() {
            "mainnet" | "ethereum" => Ok(Self::mainnet()),
            "sepolia" => Ok(Self::sepolia()),
            "hoodi" => Ok(Self::hoodi()),
            _ => Self::for_test_network(name),
        }
    }

    /// A known public chain by its id.
    pub fn by_chain_id(chain_id: u64) -> Option<Self> {
        match chain_id {
            1 => Some(Self::mainnet()),
            11_155_111 => Some(Self::sepolia()),
            560_048 => Some(Self::hoodi()),
            _ => None,
        }
    }

    fn public(chain_id: u64, forks: &[(EthereumHardfork, ForkCondition)]) -> Self {
        let blob_schedule =
            forks.iter().filter_map(|(fork, _)| default_blob_params(*fork).map(|p| (*fork, p))).collect();
        Self { chain_id, forks: forks.to_vec(), blob_schedule, deposit_contract: Some(MAINNET_DEPOSIT_CONTRACT) }
    }

    /// Blob parameters in force at `timestamp`: those of the newest active fork that sets them.
    pub fn blob_params_at(&self, timestamp: u64) -> Option<BlobParams> {
        self.blob_schedule
            .iter()
            .filter(|(fork, _)| self.ethereum_fork_activation(*fork).active_at_timestamp(timestamp))
            .max_by_key(|(fork, _)| self.activation_order(*fork))
            .map(|(_, params)| *params)
    }

    fn activation_order(&self, fork: EthereumHardfork) -> (u64, usize) {
        let position = self.forks.iter().position(|(f, _)| *f == fork).unwrap_or(usize::MAX);
        let time = match self.ethereum_fork_activation(fork) {
            ForkCondition::Timestamp(t) => t,
            _ => 0,
        };
        (time, position)
    }
}

impl EthereumHardforks for ChainConfig {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        self.forks.iter().find(|(f, _)| *f == fork).map(|(_, c)| *c).unwrap_or(ForkCondition::Never)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_networks() {
        let chain = ChainConfig::for_test_network("CancunToPragueAtTime15k").unwrap();
        assert!(chain.is_cancun_active_at_timestamp(0));
        assert!(!chain.is_prague_active_at_timestamp(14_999));
        assert!(chain.is_prague_active_at_timestamp(15_000));
        assert!(!chain.is_osaka_active_at_timestamp(u64::MAX));
        assert_eq!(chain.blob_params_at(14_999), Some(BlobParams::cancun()));
        assert_eq!(chain.blob_params_at(15_000), Some(BlobParams::prague()));
        let osaka = ChainConfig::for_test_network("Osaka").unwrap();
        assert_eq!(osaka.blob_params_at(0), Some(BlobParams::osaka()));
        assert!(matches!(ChainConfig::for_test_network("Berlin"), Err(ChainConfigError::PreMerge(_))));
        assert!(matches!(ChainConfig::for_test_network("BerlinToLondonAt5"), Err(ChainConfigError::PreMerge(_))));
        assert!(matches!(ChainConfig::for_test_network("Nope"), Err(ChainConfigError::UnknownNetwork(_))));
    }

    /// The blob-parameter-only forks and Amsterdam are post-merge forks like any other.
    #[test]
    fn bpo_and_amsterdam_networks() {
        let bpo = ChainConfig::for_test_network("BPO1ToBPO2AtTime15k").unwrap();
        assert!(bpo.is_osaka_active_at_timestamp(0));
        assert_eq!(bpo.blob_params_at(14_999), Some(BlobParams::bpo1()));
        assert_eq!(bpo.blob_params_at(15_000), Some(BlobParams::bpo2()));
        assert!(!bpo.is_amsterdam_active_at_timestamp(u64::MAX));
        let into = ChainConfig::for_test_network("BPO2ToAmsterdamAtTime15k").unwrap();
        assert!(!into.is_amsterdam_active_at_timestamp(14_999));
        assert!(into.is_amsterdam_active_at_timestamp(15_000));
        // Amsterdam keeps BPO2's blob parameters.
        assert_eq!(into.blob_params_at(15_000), Some(BlobParams::bpo2()));
        let amsterdam = ChainConfig::for_test_network("Amsterdam").unwrap();
        assert!(amsterdam.is_amsterdam_active_at_timestamp(0));
        let osaka_to_bpo1 = ChainConfig::for_test_network("OsakaToBPO1AtTime15k").unwrap();
        assert_eq!(osaka_to_bpo1.blob_params_at(14_999), Some(BlobParams::osaka()));
        assert_eq!(osaka_to_bpo1.blob_params_at(15_000), Some(BlobParams::bpo1()));
    }
}
