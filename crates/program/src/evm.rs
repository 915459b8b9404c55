//! The EVM the program runs: alloy-evm's Ethereum EVM with a transaction handler of its own.
//!
//! The handler is revm's mainnet handler except in the part of Amsterdam's EIP-8037 gas
//! accounting that the execution-specs release this program targets (tests-bal@v5.7.0) defines
//! differently from revm 43, whose Amsterdam is a later Glamsterdam devnet (`amsterdam.rs`):
//!
//! - *Intrinsic state gas.* The release charges the new account of a creating transaction
//!   (112 state bytes) and, for each EIP-7702 authorization, a new account and a delegation
//!   (112 + 23) before execution, where revm 43 leaves them to EIP-2780's runtime phase, which
//!   this release does not have.
//! - *Existing authorities.* An authorization whose authority already exists returns its
//!   account's 112 bytes to the state-gas reservoir; revm 43 without EIP-2780 refunds regular
//!   gas through the capped refund counter instead.
//!   The block still counts the transaction's state gas before that refund (EIP-7778's
//!   worst case), which is what the sender pays plus the refund.
//! - *A frame that halts*, the transaction's first or any below it, gives its state gas back to
//!   its parent's reservoir whole, the part that spilled into regular gas included (the halt
//!   burns the regular gas only); revm 43 returns the spilled part to regular gas, which the
//!   halt then burns. A failed transaction's intrinsic charges stay.
//! - *A value-carrying CALL to a new account* pays the account's state gas in the caller, and
//!   it stays paid when the call fails; revm 43 gives it back.
//! - *An account created and destroyed in one transaction* leaves no state, so its account,
//!   code and slots are given back at the end of the transaction.
//! - *Self-destructed accounts that still hold a balance* when the transaction removes them
//!   burn it with EIP-7708's burn log, after every other log (the priority fee paid), in
//!   address order; revm 43 has EIP-8246, which keeps such a balance instead.
//!
//! Before Amsterdam, and for system calls, it is revm's mainnet handler unchanged.

use alloy_evm::{eth::EthEvmContext, Database, Evm, EvmEnv};
use alloy_primitives::{Address, Bytes};
use revm::{
    context::{
        result::{EVMError, HaltReason, InvalidTransaction, ResultAndState, ResultGas},
        BlockEnv, CfgEnv, ContextSetters, TxEnv,
    },
    context_interface::{
        cfg::gas_params::{GasId, GasParams},
        transaction::{Transaction, TransactionType},
        Cfg, ContextTr, JournalTr,
    },
    handler::{
        evm::ContextDbError, handle_reservoir_remaining_gas, instructions::EthInstructions, post_execution,
        pre_execution, validation, EthFrame, EvmTr, EvmTrError, FrameResult, Handler, ItemOrResult, PrecompileProvider,
        SystemCallEvm,
    },
    inspector::{InspectorEvmTr, InspectorHandler},
    interpreter::{interpreter::EthInterpreter, interpreter_action::FrameInit, GasTracker, InitialAndFloorGas},
    primitives::hardfork::SpecId,
    state::EvmState,
    Inspector,
};

/// revm's EVM as alloy-evm's `EthEvm` holds it.
pub(crate) type RevmEvm<DB, I, P> =
    revm::context::Evm<EthEvmContext<DB>, I, EthInstructions<EthInterpreter, EthEvmContext<DB>>, P, EthFrame>;

/// The program's EVM: revm's, run by [`ReleaseHandler`].
#[derive(Debug)]
pub(crate) struct ProgramEvm<DB: Database, I, P> {
    inner: RevmEvm<DB, I, P>,
    inspect: bool,
}

impl<DB: Database, I, P> ProgramEvm<DB, I, P> {
    /// `inner`, with its inspector off.
    pub(crate) const fn new(inner: RevmEvm<DB, I, P>) -> Self {
        Self { inner, inspect: false }
    }

    /// The EVM's context (its configuration, block, journal).
    pub(crate) const fn ctx_mut(&mut self) -> &mut EthEvmContext<DB> {
        &mut self.inner.ctx
    }
}

impl<DB, I, P> Evm for ProgramEvm<DB, I, P>
where
    DB: Database,
    I: Inspector<EthEvmContext<DB>>,
    P: PrecompileProvider<EthEvmContext<DB>, Output = revm::interpreter::InterpreterResult>,
{
    type DB = DB;
    type Tx = TxEnv;
    type Error = EVMError<DB::Error>;
    type HaltReason = HaltReason;
    type Spec = SpecId;
    type BlockEnv = BlockEnv;
    type Precompiles = P;
    type Inspector = I;

    fn block(&self) -> &BlockEnv {
        &self.inner.ctx.block
    }

    fn cfg_env(&self) -> &CfgEnv<SpecId> {
        &self.inner.ctx.cfg
    }

    fn chain_id(&self) -> u64 {
        self.inner.ctx.cfg.chain_id
    }

    fn transact_raw(&mut self, tx: TxEnv) -> Result<ResultAndState<HaltReason>, Self::Error> {
        self.inner.ctx.set_tx(tx);
        let mut handler = ReleaseHandler::<_, Self::Error>::default();
        let result = if self.inspect { handler.inspect_run(&mut self.inner) } else { handler.run(&mut self.inner) };
        // As revm's `transact`: the journal is cleared for the next transaction either way.
        let state = self.inner.ctx.journal_mut().finalize();
        result.map(|result| ResultAndState::new(result, state))
    }

    fn transact_system_call(
        &mut self,
        caller: Address,
        contract: Address,
        data: Bytes,
    ) -> Result<ResultAndState<HaltReason>, Self::Error> {
        self.inner.system_call_with_caller(caller, contract, data)
    }

    fn finish(self) -> (DB, EvmEnv<SpecId>) {
        let revm::Context { block: block_env, cfg: cfg_env, journaled_state, .. } = self.inner.ctx;
        (journaled_state.database, EvmEnv { block_env, cfg_env })
    }

    fn set_inspector_enabled(&mut self, enabled: bool) {
        self.inspect = enabled;
    }

    fn components(&self) -> (&DB, &I, &P) {
        (&self.inner.ctx.journaled_state.database, &self.inner.inspector, &self.inner.precompiles)
    }

    fn components_mut(&mut self) -> (&mut DB, &mut I, &mut P) {
        (&mut self.inner.ctx.journaled_state.database, &mut self.inner.inspector, &mut self.inner.precompiles)
    }
}

/// revm's mainnet handler with this release's Amsterdam state-gas rules (see the module
/// documentation).
#[derive(Debug)]
pub(crate) struct ReleaseHandler<EVM, ERROR> {
    /// The state gas the transaction's existing authorities returned to the reservoir.
    authority_refund: core::cell::Cell<u64>,
    _phantom: core::marker::PhantomData<(EVM, ERROR)>,
}

impl<EVM, ERROR> Default for ReleaseHandler<EVM, ERROR> {
    fn default() -> Self {
        Self { authority_refund: core::cell::Cell::new(0), _phantom: core::marker::PhantomData }
    }
}

/// The intrinsic gas of `tx` under `cfg`: revm's, and in this release's Amsterdam its state
/// part, which revm 43 leaves to EIP-2780's runtime phase: the new account of a creating
/// transaction, and a new account and a delegation per authorization.
pub(crate) fn intrinsic_gas(
    cfg: &impl Cfg<Spec: Into<SpecId>>,
    tx: &impl Transaction,
) -> Result<InitialAndFloorGas, InvalidTransaction> {
    let mut gas = validation::validate_initial_tx_gas_with_gas_params(
        tx,
        cfg.spec().into(),
        cfg.gas_params(),
        cfg.is_eip7623_disabled(),
        cfg.is_amsterdam_eip8037_enabled(),
        cfg.tx_gas_limit_cap(),
        None,
    )?;
    if release_amsterdam(cfg) {
        let params = cfg.gas_params();
        let account = params.new_account_state_gas();
        let authorization = account + params.tx_eip7702_state_gas_bytecode();
        let creates = if tx.kind().is_create() { account } else { 0 };
        let authorizations = authorization.saturating_mul(tx.authorization_list_len() as u64);
        gas.set_initial_state_gas(creates.saturating_add(authorizations));
    }
    Ok(gas)
}

/// This release's EIP-8037 inclusion rule for a transaction of `tx_gas_limit` and `intrinsic`
/// gas in a block of `block_gas_limit` that has used `regular_used` and `state_used` so far:
/// its worst regular use (its limit less its intrinsic state gas, at most `cap`) and its worst
/// state use (its limit less its intrinsic regular gas) must each fit what the block has left.
/// alloy-evm checks the limit itself on both (a later revision), which refuses transactions
/// this release takes. Gives the available gas of the dimension that does not fit.
pub(crate) fn release_inclusion(
    tx_gas_limit: u64,
    intrinsic: &InitialAndFloorGas,
    cap: u64,
    block_gas_limit: u64,
    regular_used: u64,
    state_used: u64,
) -> Result<(), u64> {
    let regular_available = block_gas_limit.saturating_sub(regular_used);
    let state_available = block_gas_limit.saturating_sub(state_used);
    if tx_gas_limit.saturating_sub(intrinsic.initial_state_gas_final()).min(cap) > regular_available {
        return Err(regular_available);
    }
    if tx_gas_limit.saturating_sub(intrinsic.initial_regular_gas()) > state_available {
        return Err(state_available);
    }
    Ok(())
}

/// Whether `cfg` is this release's Amsterdam: revm's, with EIP-8037 and without EIP-2780
/// (`amsterdam::configure`), whose intrinsic and runtime state charges revm leaves out.
pub(crate) fn release_amsterdam(cfg: &impl Cfg<Spec: Into<SpecId>>) -> bool {
    cfg.spec().into().is_enabled_in(SpecId::AMSTERDAM)
        && cfg.is_amsterdam_eip8037_enabled()
        && !cfg.is_amsterdam_eip2780_enabled()
}

impl<EVM, ERROR> Handler for ReleaseHandler<EVM, ERROR>
where
    EVM: EvmTr<Context: ContextTr<Journal: JournalTr<State = EvmState>>, Frame = EthFrame>,
    ERROR: EvmTrError<EVM>,
{
    type Evm = EVM;
    type Error = ERROR;
    type HaltReason = HaltReason;

    fn validate_initial_tx_gas(&self, evm: &mut EVM) -> Result<InitialAndFloorGas, ERROR> {
        let ctx = evm.ctx_ref();
        let (cfg, tx) = (ctx.cfg(), ctx.tx());
        let gas = intrinsic_gas(cfg, tx)?;
        // The state part counts against the limit as the regular part does.
        if release_amsterdam(cfg) && gas.initial_total_gas() > tx.gas_limit() {
            return Err(InvalidTransaction::CallGasCostMoreThanGasLimit {
                gas_limit: tx.gas_limit(),
                initial_gas: gas.initial_total_gas(),
            }
            .into());
        }
        Ok(gas)
    }

    fn apply_eip7702_auth_list(&self, evm: &mut EVM, gas: &mut GasTracker) -> Result<Option<u64>, ERROR> {
        let ctx = evm.ctx_mut();
        if !release_amsterdam(ctx.cfg()) {
            return pre_execution::apply_eip7702_auth_list(ctx, gas);
        }
        let chain_id = ctx.cfg().chain_id();
        let account = ctx.cfg().gas_params().new_account_state_gas();
        let (tx, journal) = ctx.tx_journal_mut();
        if tx.tx_type() != TransactionType::Eip7702 {
            return Ok(Some(0));
        }
        // An authority that exists needs no new account: its 112 bytes go back to the
        // reservoir (and out of the transaction's state gas), not to the refund counter.
        let existing = pre_execution::apply_auth_list::<_, ERROR>(chain_id, tx.authorization_list(), journal)?;
        let refund = existing.saturating_mul(account);
        gas.set_reservoir(gas.reservoir().saturating_add(refund));
        self.authority_refund.set(refund);
        Ok(Some(0))
    }

    fn last_frame_result(
        &mut self,
        evm: &mut EVM,
        frame_result: &mut FrameResult,
        parent_gas: &mut GasTracker,
    ) -> Result<(), ERROR> {
        let release = release_amsterdam(evm.ctx().cfg());
        let instruction_result = frame_result.instruction_result();

        // revm's settlement of the first frame (`Handler::last_frame_result`).
        parent_gas.spend_all();
        handle_reservoir_remaining_gas(instruction_result, parent_gas, frame_result.gas_mut().tracker_mut());
        if let Some(charge) = frame_result.refundable_state_gas(evm.ctx().cfg().gas_params()) {
            parent_gas.refill_reservoir(charge);
            if instruction_result.is_halt() {
                parent_gas.spend_all();
            }
        }

        if release && instruction_result.is_ok() {
            // An account created and destroyed in this transaction leaves no state: its
            // account, code and slots are given back.
            let ctx = evm.ctx_ref();
            let refund = destroyed_state_gas(ctx.journal_ref().evm_state(), ctx.cfg().gas_params());
            parent_gas.set_reservoir(parent_gas.reservoir().saturating_add(refund));
            parent_gas.set_state_gas_spent(parent_gas.state_gas_spent().saturating_sub_unsigned(refund));
        }
        *frame_result.gas_mut().tracker_mut() = *parent_gas;
        Ok(())
    }

    fn run_exec_loop(&mut self, evm: &mut EVM, first_frame_input: FrameInit) -> Result<FrameResult, ERROR> {
        let init = |evm: &mut EVM, input| evm.frame_init(input).map(ended_at_once);
        settling_exec_loop(evm, first_frame_input, init, EVM::frame_run)
    }

    fn post_execution(
        &self,
        evm: &mut EVM,
        exec_result: &mut FrameResult,
        init_and_floor_gas: InitialAndFloorGas,
        eip7702_gas_refund: i64,
    ) -> Result<ResultGas, ERROR> {
        // revm's steps (`Handler::post_execution`).
        self.refund(evm, exec_result, eip7702_gas_refund)?;
        let mut result_gas = post_execution::build_result_gas(
            exec_result.instruction_result().is_halt(),
            exec_result.gas(),
            init_and_floor_gas,
        );
        self.eip7623_check_gas_floor(evm, exec_result, init_and_floor_gas);
        self.reimburse_caller(evm, exec_result)?;
        self.reward_beneficiary(evm, exec_result)?;
        if release_amsterdam(evm.ctx().cfg()) {
            log_finalization_burns(evm.ctx().journal_mut());
        }
        // The existing authorities' refund lowers what the sender pays, not the block's
        // regular gas: the block counts the transaction's gas before that refund, less its
        // (gross) state gas. Counting the refund as spent and refunded keeps the receipt's gas.
        let refund = self.authority_refund.get();
        result_gas.set_total_gas_spent(result_gas.total_gas_spent().saturating_add(refund));
        result_gas.set_refunded(result_gas.inner_refunded().saturating_add(refund));
        Ok(result_gas)
    }
}

/// EIP-7708's burn logs for the balances that go with self-destructed accounts when the
/// transaction removes them (what they received after their SELFDESTRUCT, the priority fee
/// included), after every other log, in address order. revm 43 has EIP-8246 instead, which
/// keeps such a balance in the state; with it off (`amsterdam::configure`) the balance goes
/// without a log.
fn log_finalization_burns<J: JournalTr<State = EvmState>>(journal: &mut J) {
    let mut burnt: alloc::vec::Vec<_> = journal
        .evm_state()
        .iter()
        .filter(|(_, account)| account.is_selfdestructed_locally() && !account.info.balance.is_zero())
        .map(|(address, account)| (*address, account.info.balance))
        .collect();
    burnt.sort_unstable_by_key(|(address, _)| *address);
    for (address, balance) in burnt {
        journal.log(crate::amsterdam::burn_log(address, balance));
    }
}

/// The state gas of the accounts `state` created and destroyed in its transaction: a new
/// account, its code's bytes and its non-zero slots each.
fn destroyed_state_gas(state: &EvmState, params: &GasParams) -> u64 {
    state
        .values()
        .filter(|account| account.is_created_locally() && account.is_selfdestructed_locally())
        .map(|account| {
            let code = account.info.code.as_ref().map_or(0, |code| code.original_byte_slice().len());
            let slots = account.storage.values().filter(|slot| !slot.present_value.is_zero()).count();
            let slot_gas = params.get(GasId::sstore_set_state_gas()).saturating_mul(slots as u64);
            params.new_account_state_gas().saturating_add(params.code_deposit_state_gas(code)).saturating_add(slot_gas)
        })
        .fold(0, u64::saturating_add)
}

/// revm's execution loop (`Handler::run_exec_loop`, and its inspecting twin through `init` and
/// `run`), each frame's result settled as this release settles it (`settled`) before its parent
/// takes it. `init` starts a frame and gives its result if it ended at once; `run` runs the top
/// frame to its next call or its end.
fn settling_exec_loop<EVM, ERROR>(
    evm: &mut EVM,
    first_frame_input: FrameInit,
    init: impl Fn(&mut EVM, FrameInit) -> Result<Option<FrameResult>, ContextDbError<EVM::Context>>,
    run: impl Fn(&mut EVM) -> Result<ItemOrResult<FrameInit, FrameResult>, ContextDbError<EVM::Context>>,
) -> Result<FrameResult, ERROR>
where
    EVM: EvmTr<Frame = EthFrame>,
    ERROR: From<ContextDbError<EVM::Context>>,
{
    let release = release_amsterdam(evm.ctx().cfg());
    if let Some(result) = init(evm, first_frame_input)? {
        return Ok(settled(release, result));
    }
    loop {
        let result = match run(evm)? {
            ItemOrResult::Item(input) => match init(evm, input)? {
                Some(result) => result,
                None => continue,
            },
            ItemOrResult::Result(result) => result,
        };
        if let Some(result) = evm.frame_return_result(settled(release, result))? {
            return Ok(result);
        }
    }
}

/// The result of a frame that ended as it started (a precompile, a failed check); `None` for
/// one pushed to run.
fn ended_at_once<Frame>(started: ItemOrResult<Frame, FrameResult>) -> Option<FrameResult> {
    match started {
        ItemOrResult::Item(_) => None,
        ItemOrResult::Result(result) => Some(result),
    }
}

/// `result` of a frame, settled for its parent as this release settles it (where `release`):
/// a halted frame's state gas all returns to the reservoir, the part that spilled into regular
/// gas included (execution-specs' `incorporate_child_on_error`). revm 43 returns the spilled
/// part to regular gas, which the halt then burns. Once the spill is moved to the reservoir,
/// revm's settlement (`handle_reservoir_remaining_gas`) rolls back the rest as the release
/// does. A reverted frame is left to revm: moving its spill too lost more tests than it won
/// (measured on `for_amsterdam`). And the new account a value-carrying CALL paid for stays paid
/// when the call fails (the caller's balance short, the callee reverting or halting): this
/// release charges it in the caller, where a failing callee cannot give it back; revm 43 gives
/// it back.
fn settled(release: bool, mut result: FrameResult) -> FrameResult {
    let instruction_result = result.instruction_result();
    if release {
        if let FrameResult::Call(outcome) = &mut result {
            outcome.charged_new_account_state_gas = false;
        }
    }
    if release && instruction_result.is_halt() {
        let gas = result.gas_mut().tracker_mut();
        let spilled = gas.state_gas_spilled();
        gas.set_reservoir(gas.reservoir().saturating_add(spilled));
        gas.set_remaining(gas.remaining().saturating_sub(spilled));
    }
    result
}

impl<EVM, ERROR> InspectorHandler for ReleaseHandler<EVM, ERROR>
where
    EVM: InspectorEvmTr<
        Context: ContextTr<Journal: JournalTr<State = EvmState>>,
        Frame = EthFrame,
        Inspector: Inspector<<EVM as EvmTr>::Context, EthInterpreter>,
    >,
    ERROR: EvmTrError<EVM>,
{
    type IT = EthInterpreter;

    fn inspect_run_exec_loop(&mut self, evm: &mut EVM, first_frame_input: FrameInit) -> Result<FrameResult, ERROR> {
        let init = |evm: &mut EVM, input| evm.inspect_frame_init(input).map(ended_at_once);
        settling_exec_loop(evm, first_frame_input, init, EVM::inspect_frame_run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_evm::{precompiles::PrecompilesMap, EthEvmFactory, EvmFactory};
    use alloy_primitives::{address, U256};
    use revm::{
        context::result::ExecutionResult,
        database::{CacheDB, EmptyDB},
        inspector::NoOpInspector,
        primitives::TxKind,
        state::AccountInfo,
    };

    const GAS_LIMIT: u64 = 100_000_000;
    const SENDER: Address = address!("0x1000000000000000000000000000000000000001");

    /// This release's Amsterdam at a 100M gas limit (1174 gas per state byte), with a funded
    /// sender.
    fn amsterdam() -> ProgramEvm<CacheDB<EmptyDB>, NoOpInspector, PrecompilesMap> {
        let mut cfg_env = CfgEnv::new_with_spec(SpecId::AMSTERDAM);
        crate::amsterdam::configure(&mut cfg_env, GAS_LIMIT);
        let block_env = BlockEnv { gas_limit: GAS_LIMIT, beneficiary: COINBASE, ..Default::default() };
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(SENDER, AccountInfo { balance: U256::from(10u128.pow(20)), ..Default::default() });
        let mut inner = EthEvmFactory::default().create_evm(db, EvmEnv { cfg_env, block_env }).into_inner();
        crate::amsterdam::instructions(&mut inner.instruction);
        ProgramEvm::new(inner)
    }

    /// The block's beneficiary: the address of the sender's first creation, so that a created
    /// contract can be paid the priority fee.
    const COINBASE: Address = address!("0x5dddfce53ee040d9eb21afbc0ae1bb4dbb0ba643");

    /// `evm` with `code` at `address`.
    fn with_code(
        mut evm: ProgramEvm<CacheDB<EmptyDB>, NoOpInspector, PrecompilesMap>,
        address: Address,
        code: &[u8],
    ) -> ProgramEvm<CacheDB<EmptyDB>, NoOpInspector, PrecompilesMap> {
        let code = revm::bytecode::Bytecode::new_raw(Bytes::copy_from_slice(code));
        let info = AccountInfo { nonce: 1, code_hash: code.hash_slow(), code: Some(code), ..Default::default() };
        evm.ctx_mut().journaled_state.database.insert_account_info(address, info);
        evm
    }

    fn create(init_code: &[u8], gas_limit: u64) -> TxEnv {
        TxEnv {
            caller: SENDER,
            kind: TxKind::Create,
            data: Bytes::copy_from_slice(init_code),
            gas_limit,
            chain_id: Some(1),
            ..Default::default()
        }
    }

    /// 112 state bytes at 1174 gas each.
    const NEW_ACCOUNT: u64 = 112 * 1174;
    /// 21,000, 9,000 (EIP-8037's regular CREATE), one word of initcode and one zero byte of
    /// calldata.
    const CREATE_REGULAR: u64 = 21_000 + 9_000 + 2 + 4;

    #[test]
    fn a_created_contract_that_destroys_itself_burns_its_balance_then_and_what_it_gets_later_at_the_end() {
        use revm::primitives::eip7708::{BURN_LOG_TOPIC, ETH_TRANSFER_LOG_TOPIC};
        assert_eq!(SENDER.create(0), COINBASE);
        // ADDRESS SELFDESTRUCT, in a contract created with 1000 wei that is also the block's
        // beneficiary: the 1000 are burnt by the opcode, the priority fee it is paid after
        // its SELFDESTRUCT when the transaction removes it.
        let tx = TxEnv { value: U256::from(1000), gas_price: 7, ..create(&[0x30, 0xff], 1_000_000) };
        let ResultAndState { result, state } = amsterdam().transact_raw(tx).unwrap();
        assert!(result.is_success(), "{result:?}");
        let fee = U256::from(result.tx_gas_used() * 7);
        let logs: Vec<_> =
            result.logs().iter().map(|log| (log.topics()[0], U256::from_be_slice(&log.data.data))).collect();
        assert_eq!(
            logs,
            [(ETH_TRANSFER_LOG_TOPIC, U256::from(1000)), (BURN_LOG_TOPIC, U256::from(1000)), (BURN_LOG_TOPIC, fee)]
        );
        assert!(result.logs()[1..].iter().all(|log| log.topics()[1] == COINBASE.into_word()));
        assert!(state[&COINBASE].is_selfdestructed(), "the account is removed, its balance with it");
    }

    #[test]
    fn a_creation_that_cannot_pay_its_new_account_does_not_read_the_address() {
        // PUSH0 PUSH0 PUSH0 CREATE, with gas for CREATE's 9000 but not its new account's
        // state gas: the address stays out of the state (and the block's access list).
        let factory = address!("0x2000000000000000000000000000000000000002");
        let evm = with_code(amsterdam(), factory, &[0x5f, 0x5f, 0x5f, 0xf0]);
        let tx = TxEnv {
            caller: SENDER,
            kind: TxKind::Call(factory),
            gas_limit: 21_000 + 100_000,
            chain_id: Some(1),
            ..Default::default()
        };
        let ResultAndState { result, state } = { evm }.transact_raw(tx).unwrap();
        assert!(matches!(result, ExecutionResult::Halt { .. }), "{result:?}");
        assert!(!state.contains_key(&factory.create(1)), "{:?}", state.keys());
    }

    #[test]
    fn a_value_call_to_a_new_account_keeps_its_state_gas_when_the_caller_cannot_pay() {
        // PUSH0 PUSH0 PUSH0 PUSH0 PUSH1 1 PUSH20 <new> GAS CALL STOP, from a contract without
        // balance: the call fails for it, and the new account's state gas stays charged.
        let caller = address!("0x2000000000000000000000000000000000000002");
        let mut code = vec![0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x01, 0x73];
        code.extend_from_slice(address!("0x3000000000000000000000000000000000000003").as_slice());
        code.extend_from_slice(&[0x5a, 0xf1, 0x00]);
        let evm = with_code(amsterdam(), caller, &code);
        let tx = TxEnv {
            caller: SENDER,
            kind: TxKind::Call(caller),
            gas_limit: 1_000_000,
            chain_id: Some(1),
            ..Default::default()
        };
        let result = { evm }.transact_raw(tx).unwrap().result;
        assert!(result.is_success(), "{result:?}");
        assert_eq!(result.gas().state_gas_spent_final(), NEW_ACCOUNT);
    }

    #[test]
    fn a_transaction_is_included_by_its_worst_use_of_each_dimension() {
        const CAP: u64 = 1 << 24;
        // A creating transaction: 53,000 regular and 131,488 state intrinsic gas.
        let intrinsic = InitialAndFloorGas::new_with_state_gas(53_000, NEW_ACCOUNT, 0);
        let fits = |gas_limit, regular_used, state_used| {
            release_inclusion(gas_limit, &intrinsic, CAP, 30_000_000, regular_used, state_used)
        };
        // Regular: the limit less the intrinsic state gas must fit, not the limit itself.
        assert_eq!(fits(1_000_000 + NEW_ACCOUNT, 29_000_000, 0), Ok(()));
        assert_eq!(fits(1_000_001 + NEW_ACCOUNT, 29_000_000, 0), Err(1_000_000));
        // ... and at most the cap counts there.
        assert_eq!(fits(29_000_000, 30_000_000 - CAP, 0), Ok(()));
        // State: the limit less the intrinsic regular gas.
        assert_eq!(fits(1_053_000, 0, 29_000_000), Ok(()));
        assert_eq!(fits(1_053_001, 0, 29_000_000), Err(1_000_000));
    }

    #[test]
    fn a_creating_transaction_pays_its_new_account_before_execution() {
        // STOP: the intrinsic gas is all there is.
        let init = [0x00];
        let err = amsterdam().transact_raw(create(&init, CREATE_REGULAR + NEW_ACCOUNT - 1)).unwrap_err();
        assert!(
            matches!(err, EVMError::Transaction(InvalidTransaction::CallGasCostMoreThanGasLimit { initial_gas, .. })
                if initial_gas == CREATE_REGULAR + NEW_ACCOUNT),
            "{err:?}"
        );
        let done = amsterdam().transact_raw(create(&init, 1_000_000)).unwrap().result;
        assert!(done.is_success());
        assert_eq!(
            (done.tx_gas_used(), done.gas().state_gas_spent_final()),
            (CREATE_REGULAR + NEW_ACCOUNT, NEW_ACCOUNT)
        );
    }

    #[test]
    fn a_halted_creation_keeps_its_intrinsic_state_gas_and_returns_the_rest() {
        // PUSH1 1 PUSH1 0 SSTORE INVALID: a new slot's state gas (spilled into regular gas, the
        // reservoir being empty below 2^24) is given back when the frame halts; the new
        // account's intrinsic charge is not.
        let init = [0x60, 0x01, 0x60, 0x00, 0x55, 0xfe];
        let gas_limit = 1_000_000;
        let ExecutionResult::Halt { gas, .. } = amsterdam().transact_raw(create(&init, gas_limit)).unwrap().result
        else {
            panic!("the initcode halts");
        };
        let slot = 32 * 1174;
        assert_eq!(gas.state_gas_spent_final(), NEW_ACCOUNT);
        assert_eq!(gas.tx_gas_used(), gas_limit - slot, "the slot's state gas is not burnt with the regular gas");
    }
}
