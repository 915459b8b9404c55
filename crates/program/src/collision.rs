//! EIP-7610: creating a contract where an account already has storage is a collision.
//!
//! revm only treats a non-zero nonce or non-empty code as a collision. The storage rule needs
//! the account's storage root, which only the witness database knows, so it is applied here, in
//! the `create` hook, replaying exactly what revm does for a collision: the same checks before
//! it (balance, nonce overflow), the caller's nonce bump, the target's warm load, and a failed
//! create that keeps all its gas.

use alloy_evm::eth::EthEvmContext;
use alloy_primitives::{Address, Bytes};
use revm::{
    context::{ContextTr, JournalTr},
    context_interface::journaled_state::account::JournaledAccountTr,
    database::State,
    interpreter::{CreateInputs, CreateOutcome, Gas, InstructionResult, InterpreterResult},
    primitives::KECCAK_EMPTY,
    Inspector,
};

use crate::{WitnessDb, WitnessSource};

/// A state that knows whether an account has storage as of the start of the current block
/// (revm's database interface cannot say).
pub trait StorageOracle {
    /// `None` if the answer cannot be established.
    fn has_storage_before_block(&mut self, address: Address) -> Option<bool>;
}

impl<S: WitnessSource> StorageOracle for WitnessDb<S> {
    fn has_storage_before_block(&mut self, address: Address) -> Option<bool> {
        self.has_storage(address).ok()
    }
}

/// The `create` hook enforcing the storage half of EIP-7610.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StorageCollision;

impl<'a, DB: revm::Database + StorageOracle + core::fmt::Debug> Inspector<EthEvmContext<&'a mut State<DB>>>
    for StorageCollision
{
    fn create(
        &mut self,
        context: &mut EthEvmContext<&'a mut State<DB>>,
        inputs: &mut CreateInputs,
    ) -> Option<CreateOutcome> {
        let caller = inputs.caller();
        let (balance, nonce) = {
            let account = context.journal_mut().load_account(caller).ok()?;
            (account.data.info.balance, account.data.info.nonce)
        };
        // revm checks these first and fails differently; let it.
        if balance < inputs.value() || nonce == u64::MAX || context.journal().depth() > 1024 {
            return None;
        }
        let target = inputs.created_address(nonce);
        {
            let account = context.journal_mut().load_account(target).ok()?;
            let info = &account.data.info;
            if info.nonce != 0
                || info.code_hash != KECCAK_EMPTY
                || account.data.is_created()
                || account.data.is_selfdestructed()
            {
                return None;
            }
        }
        let state: &mut State<DB> = context.db_mut();
        // Destroyed earlier in this block: the tries are not updated yet, but its storage is gone.
        if state.cache.accounts.get(&target).is_some_and(|a| a.status.was_destroyed()) {
            return None;
        }
        if !state.database.has_storage_before_block(target)? {
            return None;
        }
        context.journal_mut().load_account_mut(caller).ok()?.bump_nonce();
        Some(CreateOutcome {
            result: InterpreterResult {
                result: InstructionResult::CreateCollision,
                gas: Gas::new_with_regular_gas_and_reservoir(inputs.gas_limit(), inputs.reservoir()),
                output: Bytes::new(),
            },
            address: None,
            charged_create_state_gas: inputs.charged_create_state_gas(),
        })
    }
}
