//! Amsterdam as the execution-specs release this program targets defines it (tests-bal@v5.7.0,
//! tests-zkevm@v0.3.3), where revm 43's `SpecId::AMSTERDAM` differs.
//!
//! revm 43 implements a later Glamsterdam devnet: on top of the EIPs of this release it also
//! applies EIP-2780 (reduced intrinsic transaction gas), EIP-8038 (state-access gas repricing)
//! and EIP-8246 (delayed clearing of self-destructed accounts). The release's Amsterdam has
//! none of them, so here they are switched off: the two configuration flags, and the gas
//! table entries EIP-2780 and EIP-8038 reprice put back to their Osaka values (and the static
//! gas of the two opcodes EIP-8038 reprices, `restore_static_gas`), and EIP-7954's code limits
//! put back to this release's 32 KiB and 64 KiB. EIP-8037's state gas is
//! revm's, with this release's bytes and cost per byte (`configure`), and with its intrinsic
//! charges, authority refunds and settlement of halted frames and self-destructing accounts in
//! the program's own transaction handler (`evm.rs`). Three opcodes are the release's
//! (`instructions`): CREATE and CREATE2 charge their new account's state gas before they read
//! the address (`charge_creations_upfront`), and SELFDESTRUCT to itself burns the balance with
//! EIP-7708's burn log (`burn_on_selfdestruct_to_self`; the handler logs the burns at the end of
//! a transaction). revm 43 has these in a later form.
//! Everything else of revm's Amsterdam (EIP-7708's transfer logs, 7778, 7843, 7928, 7954, 7976,
//! 7981, 8024) is used as revm has it.

use alloy_primitives::{Address, Bytes, Log, LogData, B256, U256};
use revm::{
    bytecode::opcode::{CREATE, CREATE2, EXTCODECOPY, EXTCODESIZE, SELFDESTRUCT},
    context::CfgEnv,
    context_interface::{
        cfg::gas_params::{GasId, GasParams},
        journaled_state::account::JournaledAccountTr,
        ContextTr, CreateScheme, JournalTr,
    },
    handler::instructions::EthInstructions,
    interpreter::{
        as_usize_or_fail, gas,
        instructions::{gas_table_spec, host as host_instructions},
        interpreter::EthInterpreter,
        interpreter_action::{CreateInputs, FrameInput},
        interpreter_types::{LoopControl, RuntimeFlag},
        popn, require_non_staticcall, state_gas, Host, Instruction, InstructionContext, InstructionResult,
        InterpreterAction, InterpreterTypes,
    },
    primitives::{
        eip7708::{BURN_LOG_TOPIC, ETH_TRANSFER_LOG_ADDRESS},
        hardfork::SpecId,
    },
    state::EvmState,
};

/// Table entries that EIP-2780 and EIP-8038 reprice (and nothing else of this release's
/// Amsterdam touches).
fn repriced() -> [GasId; 18] {
    [
        GasId::warm_storage_read_cost(),
        GasId::cold_account_additional_cost(),
        GasId::cold_storage_additional_cost(),
        GasId::cold_storage_cost(),
        GasId::transfer_value_cost(),
        GasId::new_account_cost(),
        GasId::new_account_cost_for_selfdestruct(),
        GasId::sstore_static(),
        GasId::sstore_set_without_load_cost(),
        GasId::sstore_reset_without_cold_load_cost(),
        GasId::sstore_set_refund(),
        GasId::sstore_reset_refund(),
        GasId::sstore_clearing_slot_refund(),
        GasId::create(),
        GasId::tx_create_cost(),
        GasId::tx_access_list_address_cost(),
        GasId::tx_access_list_storage_key_cost(),
        GasId::tx_floor_cost_base_gas(),
    ]
}

/// EIP-7954's limits of this release: 32 KiB of code and twice that of init code (revm 43 has a
/// later revision's 64 KiB and 128 KiB).
const MAX_CODE_SIZE: usize = 0x8000;
const MAX_INITCODE_SIZE: usize = 2 * MAX_CODE_SIZE;

/// EIP-8037's state bytes of this release: a new storage slot, a new account.
const STORAGE_SET_BYTES: u64 = 32;
const NEW_ACCOUNT_BYTES: u64 = 112;
const AUTH_BASE_BYTES: u64 = 23;
/// The regular part of CREATE (and of a creating transaction) under EIP-8037.
const REGULAR_GAS_CREATE: u64 = 9_000;
/// The regular part of an EIP-7702 authorization under EIP-8037 (its new account and
/// delegation are state gas, charged by `evm::ReleaseHandler`).
const REGULAR_GAS_PER_AUTH: u64 = 7_500;

/// EIP-8037's cost per state byte of this release, which follows the block gas limit:
/// `ceil(gas_limit * 2_628_000 / (2 * 100 GiB))` plus an offset of 9578, rounded down to five
/// significant bits, minus the offset (at least 1). 1174 at a 96M to 120M gas limit.
pub(crate) fn cost_per_state_byte(gas_limit: u64) -> u64 {
    const OFFSET: u128 = 9_578;
    const SIGNIFICANT_BITS: u32 = 5;
    let denominator: u128 = 2 * 107_374_182_400;
    let raw = (u128::from(gas_limit) * 2_628_000).div_ceil(denominator);
    let shifted = raw + OFFSET;
    let shift = (u128::BITS - shifted.leading_zeros()).saturating_sub(SIGNIFICANT_BITS);
    let rounded = (shifted >> shift) << shift;
    if rounded <= OFFSET {
        1
    } else {
        (rounded - OFFSET) as u64
    }
}

/// This release's Amsterdam in revm's instruction table: every opcode that differs from revm 43's.
pub(crate) fn instructions<H: Host + ContextTr<Journal: JournalTr<State = EvmState>>>(
    instructions: &mut EthInstructions<EthInterpreter, H>,
) {
    restore_static_gas(instructions);
    charge_creations_upfront(instructions);
    burn_on_selfdestruct_to_self(instructions);
}

/// Puts back the static gas EIP-8038 changes in revm's opcode table: its "EXT* family update"
/// charges EXTCODESIZE and EXTCODECOPY a second warm read (200); this release, without
/// EIP-8038, keeps Berlin's 100 (the cold premium is dynamic, in the gas params).
fn restore_static_gas<W: InterpreterTypes, H: Host>(instructions: &mut EthInstructions<W, H>) {
    let berlin = gas_table_spec(SpecId::OSAKA);
    for opcode in [EXTCODESIZE, EXTCODECOPY] {
        instructions.insert_gas(opcode, berlin[usize::from(opcode)]);
    }
}

/// Makes CREATE and CREATE2 charge their new account's state gas first, before anything reads
/// the new address, whether or not that address is already alive, as this release does. revm 43
/// first checks the caller's balance, nonce and depth (a failed check pushes 0 with no charge)
/// and then reads the address, and charges only for an address not alive; so where the charge
/// runs out of gas, revm has put the address in the block's access list and the release has not.
/// The checks still run, in the new frame as revm has them; where one fails, or the creation
/// does, the charge goes back to the reservoir (revm's `charged_create_state_gas`).
fn charge_creations_upfront<H: Host>(instructions: &mut EthInstructions<EthInterpreter, H>) {
    let table = instructions.instruction_table_mut();
    table[usize::from(CREATE)] = Instruction::new(create_charged_first::<false, H>);
    table[usize::from(CREATE2)] = Instruction::new(create_charged_first::<true, H>);
}

/// revm's CREATE (or CREATE2) up to its gas for the init code, then this release's order: the
/// new account's state gas, the 63/64 split, and the frame.
fn create_charged_first<const IS_CREATE2: bool, H: Host>(
    context: InstructionContext<'_, H, EthInterpreter>,
) -> Result<(), InstructionResult> {
    let InstructionContext { interpreter, host } = context;
    require_non_staticcall!(interpreter);
    popn!([value, code_offset, len], interpreter);
    let len = as_usize_or_fail!(interpreter, len);
    let mut code = Bytes::new();
    if len != 0 {
        // EIP-3860: the init code's limit (EIP-7954's, `configure`) and cost.
        if len > host.max_initcode_size() {
            return Err(InstructionResult::CreateInitCodeSizeLimit);
        }
        gas!(interpreter, host.gas_params().initcode_cost(len));
        let code_offset = as_usize_or_fail!(interpreter, code_offset);
        interpreter.resize_memory(host.gas_params(), code_offset, len)?;
        code = Bytes::copy_from_slice(interpreter.memory.slice_len(code_offset, len).as_ref());
    }
    let scheme = if IS_CREATE2 {
        popn!([salt], interpreter);
        gas!(interpreter, host.gas_params().create2_cost(len));
        CreateScheme::Create2 { salt }
    } else {
        gas!(interpreter, host.gas_params().create_cost());
        CreateScheme::Create
    };
    state_gas!(interpreter, host.gas_params().create_state_gas());
    let gas_limit = host.gas_params().call_stipend_reduction(interpreter.gas.remaining());
    gas!(interpreter, gas_limit);
    let caller = interpreter.input.target_address;
    let mut inputs = CreateInputs::new(caller, scheme, value, code, gas_limit, interpreter.gas.reservoir());
    inputs.set_charged_create_state_gas(true);
    interpreter.bytecode.set_action(InterpreterAction::NewFrame(FrameInput::Create(alloc::boxed::Box::new(inputs))));
    Err(InstructionResult::Suspend)
}

/// Makes SELFDESTRUCT to itself, by a contract created in the same transaction, burn the
/// balance then and there with EIP-7708's burn log, as this release does. revm 43 has EIP-8246
/// here: the balance stays, and the account keeps it past the transaction. With EIP-8246 off
/// (`configure`) revm still keeps the balance until the account is removed at the end of the
/// transaction, so the balance would be seen by BALANCE, could be sent on, and would be burnt
/// without a log.
fn burn_on_selfdestruct_to_self<H: Host + ContextTr<Journal: JournalTr<State = EvmState>>>(
    instructions: &mut EthInstructions<EthInterpreter, H>,
) {
    instructions.instruction_table_mut()[usize::from(SELFDESTRUCT)] = Instruction::new(selfdestruct_burning::<H>);
}

/// revm's SELFDESTRUCT, then, where it was to the contract itself and the contract was created
/// in this transaction, its balance burnt (journaled, so a revert gives it back) and logged.
fn selfdestruct_burning<H: Host + ContextTr<Journal: JournalTr<State = EvmState>>>(
    context: InstructionContext<'_, H, EthInterpreter>,
) -> Result<(), InstructionResult> {
    let InstructionContext { interpreter, host } = context;
    let address = interpreter.input.target_address;
    let to_self = interpreter.stack.peek(0).is_ok_and(|target| Address::from_word(target.into()) == address);
    let outcome = host_instructions::selfdestruct(InstructionContext { interpreter, host: &mut *host });
    if outcome != Err(InstructionResult::SelfDestruct) || !to_self {
        return outcome;
    }
    let journal = host.journal_mut();
    if !journal.evm_state().get(&address).is_some_and(|account| account.is_created_locally()) {
        return outcome;
    }
    // The account is loaded (SELFDESTRUCT just did), so this does not read the database.
    let Ok(mut account) = journal.load_account_mut(address) else {
        return Err(InstructionResult::FatalExternalError);
    };
    let balance = *account.data.balance();
    if balance.is_zero() {
        return outcome;
    }
    account.data.set_balance(U256::ZERO);
    drop(account);
    journal.log(burn_log(address, balance));
    outcome
}

/// EIP-7708's burn log: `Burn(address, uint256)` from the system address.
pub(crate) fn burn_log(address: Address, amount: U256) -> Log {
    let topics = alloc::vec![BURN_LOG_TOPIC, B256::left_padding_from(address.as_slice())];
    let data = LogData::new_unchecked(topics, amount.to_be_bytes::<32>().to_vec().into());
    Log { address: ETH_TRANSFER_LOG_ADDRESS, data }
}

/// Makes `cfg` (revm's Amsterdam) this release's Amsterdam for a block of `gas_limit`.
pub(crate) fn configure(cfg: &mut CfgEnv, gas_limit: u64) {
    cfg.enable_amsterdam_eip2780 = false;
    cfg.amsterdam_eip8246_delayed_clear_disabled = true;
    cfg.limit_contract_code_size = Some(MAX_CODE_SIZE);
    cfg.limit_contract_initcode_size = Some(MAX_INITCODE_SIZE);
    let osaka = GasParams::new_spec(SpecId::OSAKA);
    let mut params = GasParams::new_spec(SpecId::AMSTERDAM);
    let cpsb = cost_per_state_byte(gas_limit);
    let state = [
        (GasId::sstore_set_state_gas(), STORAGE_SET_BYTES * cpsb),
        (GasId::new_account_state_gas(), NEW_ACCOUNT_BYTES * cpsb),
        (GasId::create_state_gas(), NEW_ACCOUNT_BYTES * cpsb),
        (GasId::code_deposit_state_gas(), cpsb),
        (GasId::tx_eip7702_state_gas_bytecode(), AUTH_BASE_BYTES * cpsb),
    ];
    // EIP-8037 moves the cost of new state to state gas. What stays regular: for a new slot,
    // an update's; for a new account, nothing; for CREATE, 9000.
    let update = osaka.get(GasId::sstore_reset_without_cold_load_cost());
    let regular = [
        (GasId::sstore_set_without_load_cost(), update),
        (GasId::sstore_set_refund(), update),
        (GasId::new_account_cost(), 0),
        (GasId::new_account_cost_for_selfdestruct(), 0),
        (GasId::create(), REGULAR_GAS_CREATE),
        (GasId::tx_create_cost(), REGULAR_GAS_CREATE),
        (GasId::tx_eip7702_regular_gas(), REGULAR_GAS_PER_AUTH),
        // An existing authority's refund is state gas (`evm::ReleaseHandler`), none regular.
        (GasId::tx_eip7702_regular_refund(), 0),
        // EIP-7981: an access list's bytes are also charged as data, 64 gas each, on top of
        // Osaka's entry costs.
        (GasId::tx_access_list_address_cost(), osaka.get(GasId::tx_access_list_address_cost()) + 20 * 64),
        (GasId::tx_access_list_storage_key_cost(), osaka.get(GasId::tx_access_list_storage_key_cost()) + 32 * 64),
    ];
    params.override_gas(repriced().into_iter().map(|id| (id, osaka.get(id))).chain(state).chain(regular));
    cfg.set_gas_params(params);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extcodesize_and_extcodecopy_keep_berlins_static_gas() {
        use revm::{context_interface::host::DummyHost, interpreter::interpreter::EthInterpreter};
        let mut instructions = EthInstructions::<EthInterpreter, DummyHost>::new_mainnet_with_spec(SpecId::AMSTERDAM);
        let gas = |i: &EthInstructions<EthInterpreter, DummyHost>, op: u8| i.gas_table()[usize::from(op)];
        assert_eq!((gas(&instructions, EXTCODESIZE), gas(&instructions, EXTCODECOPY)), (200, 200), "revm's EIP-8038");
        restore_static_gas(&mut instructions);
        assert_eq!((gas(&instructions, EXTCODESIZE), gas(&instructions, EXTCODECOPY)), (100, 100));
    }

    #[test]
    fn code_and_init_code_are_limited_to_this_releases_sizes() {
        use revm::context_interface::Cfg;
        let mut cfg = CfgEnv::new_with_spec(SpecId::AMSTERDAM);
        assert_eq!((cfg.max_code_size(), cfg.max_initcode_size()), (0x10000, 0x20000), "revm's EIP-7954");
        configure(&mut cfg, 100_000_000);
        assert_eq!((cfg.max_code_size(), cfg.max_initcode_size()), (32 * 1024, 64 * 1024));
    }

    #[test]
    fn cost_per_state_byte_follows_the_gas_limit() {
        assert_eq!(cost_per_state_byte(96_000_000), 1174);
        assert_eq!(cost_per_state_byte(120_000_000), 1174);
        assert_eq!(cost_per_state_byte(0), 1);
    }
}
