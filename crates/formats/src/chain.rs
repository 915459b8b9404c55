//! Chain configurations named or described by input files.

use alloy_hardforks::{EthereumHardfork, ForkCondition};
use alloy_primitives::Address;
use bp_input::{default_blob_params, ChainConfig, MAINNET_DEPOSIT_CONTRACT};
use serde_json::Value;

use crate::FormatError;

/// ethrex-replay's `network`: `{"PublicNetwork": "Hoodi"}` or a plain name.
pub(crate) fn from_network_field(network: &Value) -> Result<ChainConfig, FormatError> {
    let name = network
        .get("PublicNetwork")
        .and_then(Value::as_str)
        .or_else(|| network.as_str())
        .ok_or_else(|| FormatError::Chain(format!("cannot tell the chain from network {network}; pass --chain")))?;
    ChainConfig::by_name(name).map_err(|e| FormatError::Chain(format!("{e}; pass --chain or --chain-config")))
}

/// The chain with this id if it is a known public one.
pub(crate) fn by_id(chain_id: u64) -> Result<ChainConfig, FormatError> {
    ChainConfig::by_chain_id(chain_id)
        .ok_or_else(|| FormatError::Chain(format!("chain id {chain_id} is not a known chain; pass --chain-config")))
}

const BLOCK_FORKS: [(&str, EthereumHardfork); 13] = [
    ("homestead", EthereumHardfork::Homestead),
    ("daoFork", EthereumHardfork::Dao),
    ("eip150", EthereumHardfork::Tangerine),
    ("eip158", EthereumHardfork::SpuriousDragon),
    ("byzantium", EthereumHardfork::Byzantium),
    ("constantinople", EthereumHardfork::Constantinople),
    ("petersburg", EthereumHardfork::Petersburg),
    ("istanbul", EthereumHardfork::Istanbul),
    ("muirGlacier", EthereumHardfork::MuirGlacier),
    ("berlin", EthereumHardfork::Berlin),
    ("london", EthereumHardfork::London),
    ("arrowGlacier", EthereumHardfork::ArrowGlacier),
    ("grayGlacier", EthereumHardfork::GrayGlacier),
];

const TIME_FORKS: [(&str, EthereumHardfork); 9] = [
    ("shanghai", EthereumHardfork::Shanghai),
    ("cancun", EthereumHardfork::Cancun),
    ("prague", EthereumHardfork::Prague),
    ("osaka", EthereumHardfork::Osaka),
    ("bpo1", EthereumHardfork::Bpo1),
    ("bpo2", EthereumHardfork::Bpo2),
    ("bpo3", EthereumHardfork::Bpo3),
    ("bpo4", EthereumHardfork::Bpo4),
    ("bpo5", EthereumHardfork::Bpo5),
];

/// A geth-style chain configuration (a genesis file's `config`, or the whole genesis file), in
/// camelCase or snake_case: `chainId`, `<fork>Block`, `<fork>Time`, `blobSchedule`,
/// `depositContractAddress`. Only post-merge chains can be proved, so `terminalTotalDifficulty`
/// must be 0 (merged at genesis) or `mergeNetsplitBlock` set.
///
/// A missing deposit contract address defaults to mainnet's, as geth and reth do for chains
/// that do not set one.
pub fn chain_from_geth_config(config: &Value) -> Result<ChainConfig, FormatError> {
    let config = config.get("config").unwrap_or(config);
    let get = |camel: &str| -> Option<&Value> {
        let snake: String = camel
            .chars()
            .flat_map(|c| if c.is_ascii_uppercase() { vec!['_', c.to_ascii_lowercase()] } else { vec![c] })
            .collect();
        config.get(camel).or_else(|| config.get(&snake)).filter(|v| !v.is_null())
    };
    let number = |v: &Value| -> Option<u128> {
        match v {
            Value::Number(n) => n.as_u64().map(u128::from),
            Value::String(s) => match s.strip_prefix("0x") {
                Some(hex) => u128::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            },
            _ => None,
        }
    };
    let u64_field = |name: &str| -> Result<Option<u64>, FormatError> {
        get(name)
            .map(|v| number(v).and_then(|n| u64::try_from(n).ok()))
            .map(|n| n.ok_or_else(|| FormatError::Chain(format!("{name} is not a number"))))
            .transpose()
    };
    let chain_id = u64_field("chainId")?.ok_or_else(|| FormatError::Chain("no chainId".into()))?;

    let mut forks = vec![(EthereumHardfork::Frontier, ForkCondition::Block(0))];
    for (name, fork) in BLOCK_FORKS {
        if let Some(block) = u64_field(&format!("{name}Block"))? {
            forks.push((fork, ForkCondition::Block(block)));
        }
    }
    let merged_at_genesis = get("terminalTotalDifficulty").and_then(number) == Some(0);
    match u64_field("mergeNetsplitBlock")? {
        Some(block) => forks.push((EthereumHardfork::Paris, ForkCondition::Block(block))),
        None if merged_at_genesis => forks.push((EthereumHardfork::Paris, ForkCondition::Block(0))),
        None => return Err(FormatError::Chain(
            "the chain is not merged at genesis and names no mergeNetsplitBlock (pre-merge rules are not supported)"
                .into(),
        )),
    }
    for (name, fork) in TIME_FORKS {
        if let Some(time) = u64_field(&format!("{name}Time"))? {
            forks.push((fork, ForkCondition::Timestamp(time)));
        }
    }
    let mut chain = ChainConfig {
        chain_id,
        blob_schedule: forks.iter().filter_map(|(f, _)| default_blob_params(*f).map(|p| (*f, p))).collect(),
        forks,
        deposit_contract: Some(MAINNET_DEPOSIT_CONTRACT),
    };
    if let Some(address) = get("depositContractAddress").and_then(Value::as_str) {
        let address: Address =
            address.parse().map_err(|_| FormatError::Chain(format!("bad depositContractAddress {address}")))?;
        chain.deposit_contract = Some(address);
    }
    if let Some(schedule) = get("blobSchedule").and_then(Value::as_object) {
        for (name, params) in schedule {
            let Some((_, fork)) = TIME_FORKS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
                return Err(FormatError::Chain(format!("blobSchedule names unknown fork {name:?}")));
            };
            let field = |k: &str| params.get(k).and_then(number);
            let (Some(target), Some(max), Some(fraction)) =
                (field("target"), field("max"), field("baseFeeUpdateFraction"))
            else {
                return Err(FormatError::Chain(format!(
                    "blobSchedule.{name} needs target, max, baseFeeUpdateFraction"
                )));
            };
            chain.set_blob_params(*fork, target as u64, max as u64, fraction);
        }
    }
    Ok(chain)
}
