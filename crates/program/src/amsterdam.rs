//! Amsterdam as the execution-specs release this program targets defines it (tests-bal@v5.7.0,
//! tests-zkevm@v0.3.3), where revm 43's `SpecId::AMSTERDAM` differs.
//!
//! revm 43 implements a later Glamsterdam devnet: on top of the EIPs of this release it also
//! applies EIP-2780 (reduced intrinsic transaction gas), EIP-8038 (state-access gas repricing)
//! and EIP-8246 (delayed clearing of self-destructed accounts). The release's Amsterdam has
//! none of them, so here they are switched off: the two configuration flags, and the gas
//! table entries EIP-2780 and EIP-8038 reprice put back to their Osaka values (and the static
//! gas of the two opcodes EIP-8038 reprices, `restore_static_gas`). EIP-8037's state gas is
//! revm's, with this release's bytes and cost per byte (`configure`), and with its intrinsic
//! charges, authority refunds and settlement of halted frames and self-destructing accounts in
//! the program's own transaction handler (`evm.rs`), and CREATE's charge for its new account
//! made before the gas split whatever the address (`charge_creations_upfront`): revm 43 has
//! these in a later form.
//! Everything else of revm's Amsterdam (EIP-7708, 7778, 7843, 7928, 7954, 7976, 7981, 8024) is
//! used as revm has it.

use revm::{
    bytecode::opcode::{CREATE, CREATE2, EXTCODECOPY, EXTCODESIZE},
    context::CfgEnv,
    context_interface::cfg::gas_params::{GasId, GasParams},
    handler::instructions::EthInstructions,
    interpreter::{
        instructions::{contract, gas_table_spec},
        interpreter::EthInterpreter,
        interpreter_action::FrameInput,
        Host, Instruction, InstructionContext, InstructionResult, InterpreterAction, InterpreterTypes,
    },
    primitives::hardfork::SpecId,
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

/// Puts back the static gas EIP-8038 changes in revm's opcode table: its "EXT* family update"
/// charges EXTCODESIZE and EXTCODECOPY a second warm read (200); this release, without
/// EIP-8038, keeps Berlin's 100 (the cold premium is dynamic, in the gas params).
pub(crate) fn restore_static_gas<W: InterpreterTypes, H: Host>(instructions: &mut EthInstructions<W, H>) {
    let berlin = gas_table_spec(SpecId::OSAKA);
    for opcode in [EXTCODESIZE, EXTCODECOPY] {
        instructions.insert_gas(opcode, berlin[usize::from(opcode)]);
    }
}

/// Makes CREATE and CREATE2 charge their new account's state gas whether or not the address is
/// already alive, before the call's 63/64 split, as this release does; revm 43 charges only
/// for an address not alive. The charge is refunded when the creation fails (revm's
/// `charged_create_state_gas`), so what differs is the gas forwarded to, and burnt by, a
/// creation onto an existing address (a collision).
pub(crate) fn charge_creations_upfront<H: Host>(instructions: &mut EthInstructions<EthInterpreter, H>) {
    let table = instructions.instruction_table_mut();
    table[usize::from(CREATE)] = Instruction::new(create_upfront::<false, H>);
    table[usize::from(CREATE2)] = Instruction::new(create_upfront::<true, H>);
}

/// revm's CREATE (or CREATE2), then, where it did not charge the new account, the charge and
/// the gas split redone in this release's order.
fn create_upfront<const IS_CREATE2: bool, H: Host>(
    context: InstructionContext<'_, H, EthInterpreter>,
) -> Result<(), InstructionResult> {
    let InstructionContext { interpreter, host } = context;
    let outcome =
        contract::create::<IS_CREATE2, _, _>(InstructionContext { interpreter: &mut *interpreter, host: &mut *host });
    // Only a creation that goes ahead (revm suspends to run its frame) and that revm did not
    // charge is charged here.
    if outcome != Err(InstructionResult::Suspend) {
        return outcome;
    }
    let Some(InterpreterAction::NewFrame(FrameInput::Create(inputs))) = interpreter.bytecode.action.as_mut() else {
        return outcome;
    };
    if inputs.charged_create_state_gas() {
        return outcome;
    }
    let gas = &mut interpreter.gas;
    gas.erase_cost(inputs.gas_limit());
    if !gas.record_state_cost(host.gas_params().create_state_gas()) {
        interpreter.bytecode.action = None;
        return Err(InstructionResult::OutOfGas);
    }
    let forwarded = host.gas_params().call_stipend_reduction(gas.remaining());
    // `forwarded` is 63/64 of what remains: it is there to take.
    let _ = gas.record_regular_cost(forwarded);
    inputs.set_gas_limit(forwarded);
    inputs.set_reservoir(gas.reservoir());
    inputs.set_charged_create_state_gas(true);
    outcome
}

/// Makes `cfg` (revm's Amsterdam) this release's Amsterdam for a block of `gas_limit`.
pub(crate) fn configure(cfg: &mut CfgEnv, gas_limit: u64) {
    cfg.enable_amsterdam_eip2780 = false;
    cfg.amsterdam_eip8246_delayed_clear_disabled = true;
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
    fn cost_per_state_byte_follows_the_gas_limit() {
        assert_eq!(cost_per_state_byte(96_000_000), 1174);
        assert_eq!(cost_per_state_byte(120_000_000), 1174);
        assert_eq!(cost_per_state_byte(0), 1);
    }
}
