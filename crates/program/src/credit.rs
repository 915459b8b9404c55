//! Where ether may come from. A transaction only moves ether; the block executor credits it
//! from nowhere in exactly three places (alloy-evm's `post_block_balance_increments` and its
//! DAO-fork change): the block reward before the merge, the DAO fork's irregular state change,
//! and EIP-4895 beacon-chain withdrawals. The program adds a fourth, an L2 deposit's value.
//!
//! The program runs post-merge rules only, so the first two are refused for every batch: a
//! chain configuration that puts a block before the merge would otherwise pay its
//! beneficiary a reward the header checks never see. On an L2 no beacon chain stands behind
//! withdrawals, so they are refused as well: there, ether arrives only through the bridge's
//! deposits, which L1 binds through the deposits hash (docs/l2.md).
//!
//! The other L1 mechanisms credit nothing on an L2: the EIP-7002 and EIP-7251 predeploys keep
//! the fees paid to them and only emit requests, which no L1 contract of ours reads, and the
//! EIP-6110 deposit contract is refused in an L2 chain configuration ([`check_l2_chain`]),
//! since no beacon chain would ever credit what is deposited there.

use alloy_hardforks::{EthereumHardfork, EthereumHardforks};
use bp_input::{ChainConfig, EthBlock};

use crate::{BlockError, L2Error};

/// A way of crediting ether the block may not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    /// The chain configuration places the block before the merge (Paris), where the executor
    /// would pay its beneficiary a block reward.
    #[error("the chain configuration places block {0} before the merge, where a block reward would be paid")]
    PreMerge(u64),
    /// The chain configuration puts the DAO fork's irregular state change at this block.
    #[error("the chain configuration puts the DAO fork's irregular state change at block {0}")]
    DaoFork(u64),
    /// Beacon-chain withdrawals (EIP-4895, the block's `withdrawals`) in an L2 block: nothing
    /// backs them there, so they would mint ether.
    #[error("an L2 block may carry no EIP-4895 withdrawals (field withdrawals), this one carries {count}")]
    BeaconWithdrawals {
        /// How many the block carries.
        count: usize,
    },
}

/// Refuses a block that would credit ether other than through a transaction or, in an L2
/// batch (`l2`), a bridge deposit.
pub(crate) fn check_credits(block: &EthBlock, chain: &ChainConfig, l2: bool) -> Result<(), BlockError> {
    let number = block.header.number;
    if !chain.is_paris_active_at_block(number) {
        return Err(CreditError::PreMerge(number).into());
    }
    if chain.ethereum_fork_activation(EthereumHardfork::Dao).transitions_at_block(number) {
        return Err(CreditError::DaoFork(number).into());
    }
    let withdrawals = block.body.withdrawals.as_ref().map_or(0, |w| w.len());
    if l2 && withdrawals > 0 {
        return Err(CreditError::BeaconWithdrawals { count: withdrawals }.into());
    }
    Ok(())
}

/// Refuses an L2 chain configuration with an L1-only source of ether: an EIP-6110 deposit
/// contract.
pub(crate) fn check_l2_chain(chain: &ChainConfig) -> Result<(), L2Error> {
    match chain.deposit_contract {
        Some(address) => Err(L2Error::DepositContract(address)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{BlockBody, Header};
    use alloy_eips::eip4895::{Withdrawal, Withdrawals};
    use alloy_hardforks::ForkCondition;
    use alloy_primitives::Address;

    fn block(number: u64, withdrawals: usize) -> EthBlock {
        let withdrawal =
            Withdrawal { address: Address::repeat_byte(1), amount: 1_000_000_000_000, ..Default::default() };
        EthBlock {
            header: Header { number, ..Default::default() },
            body: BlockBody {
                transactions: Default::default(),
                ommers: Default::default(),
                withdrawals: Some(Withdrawals::new(alloc::vec![withdrawal; withdrawals])),
            },
        }
    }

    fn with_fork(fork: EthereumHardfork, condition: ForkCondition) -> ChainConfig {
        let mut chain = ChainConfig::for_test_network("Prague").expect("known");
        chain.forks.retain(|(f, _)| *f != fork);
        chain.forks.push((fork, condition));
        chain
    }

    #[test]
    fn beacon_withdrawals_are_refused_on_an_l2_only() {
        let chain = ChainConfig::for_test_network("Prague").expect("known");
        assert_eq!(check_credits(&block(1, 0), &chain, true), Ok(()));
        assert_eq!(check_credits(&block(1, 2), &chain, false), Ok(()), "an L1 block's withdrawals are real");
        assert_eq!(
            check_credits(&block(1, 2), &chain, true),
            Err(BlockError::Credit(CreditError::BeaconWithdrawals { count: 2 }))
        );
    }

    #[test]
    fn blocks_before_the_merge_and_at_the_dao_fork_are_refused() {
        let chain = with_fork(EthereumHardfork::Paris, ForkCondition::Block(10));
        assert_eq!(check_credits(&block(9, 0), &chain, false), Err(BlockError::Credit(CreditError::PreMerge(9))));
        assert_eq!(check_credits(&block(10, 0), &chain, false), Ok(()));
        let ttd = ForkCondition::TTD {
            activation_block_number: 5,
            fork_block: None,
            total_difficulty: alloy_primitives::U256::ZERO,
        };
        let chain = with_fork(EthereumHardfork::Paris, ttd);
        assert_eq!(check_credits(&block(4, 0), &chain, true), Err(BlockError::Credit(CreditError::PreMerge(4))));
        assert_eq!(check_credits(&block(5, 0), &chain, true), Ok(()));
        let never = with_fork(EthereumHardfork::Paris, ForkCondition::Never);
        assert_eq!(check_credits(&block(1, 0), &never, false), Err(BlockError::Credit(CreditError::PreMerge(1))));

        let dao = with_fork(EthereumHardfork::Dao, ForkCondition::Block(7));
        assert_eq!(check_credits(&block(7, 0), &dao, false), Err(BlockError::Credit(CreditError::DaoFork(7))));
        assert_eq!(check_credits(&block(8, 0), &dao, false), Ok(()));
    }

    #[test]
    fn an_l2_chain_has_no_deposit_contract() {
        let mut chain = ChainConfig::for_test_network("Prague").expect("known");
        let contract = chain.deposit_contract.expect("the test networks name the mainnet one");
        assert_eq!(check_l2_chain(&chain), Err(L2Error::DepositContract(contract)));
        chain.deposit_contract = None;
        assert_eq!(check_l2_chain(&chain), Ok(()));
    }
}
