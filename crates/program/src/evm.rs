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
//! - *An account created and destroyed in one transaction* leaves no state, so its account,
//!   code and slots are given back at the end of the transaction.
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

/// Whether `cfg` is this release's Amsterdam: revm's, with EIP-8037 and without EIP-2780
/// (`amsterdam::configure`), whose intrinsic and runtime state charges revm leaves out.
fn release_amsterdam(cfg: &impl Cfg<Spec: Into<SpecId>>) -> bool {
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
            // The state part counts against the limit as the regular part does.
            if gas.initial_total_gas() > tx.gas_limit() {
                return Err(InvalidTransaction::CallGasCostMoreThanGasLimit {
                    gas_limit: tx.gas_limit(),
                    initial_gas: gas.initial_total_gas(),
                }
                .into());
            }
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
        // The existing authorities' refund lowers what the sender pays, not the block's
        // regular gas: the block counts the transaction's gas before that refund, less its
        // (gross) state gas. Counting the refund as spent and refunded keeps the receipt's gas.
        let refund = self.authority_refund.get();
        result_gas.set_total_gas_spent(result_gas.total_gas_spent().saturating_add(refund));
        result_gas.set_refunded(result_gas.inner_refunded().saturating_add(refund));
        Ok(result_gas)
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
/// (measured on `for_amsterdam`).
fn settled(release: bool, mut result: FrameResult) -> FrameResult {
    let instruction_result = result.instruction_result();
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
        let block_env = BlockEnv { gas_limit: GAS_LIMIT, ..Default::default() };
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(SENDER, AccountInfo { balance: U256::from(10u128.pow(20)), ..Default::default() });
        ProgramEvm::new(EthEvmFactory::default().create_evm(db, EvmEnv { cfg_env, block_env }).into_inner())
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
