//! The program's main loop: validate, execute, write back, check roots — block by block.

use alloc::{borrow::Cow, format, vec::Vec};
use alloy_consensus::{
    transaction::SignerRecoverable, Eip2718EncodableReceipt, EthereumReceipt, Header, TxEnvelope, TxReceipt,
};
use alloy_eips::{
    eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, Typed2718,
};
use alloy_evm::{
    block::{BlockExecutionError, BlockExecutor, BlockValidationError, ExecutableTxParts},
    eth::{
        receipt_builder::{ReceiptBuilder, ReceiptBuilderCtx},
        EthBlockExecutionCtx, EthBlockExecutor, EthTxResult,
    },
    precompiles::PrecompilesMap,
    EthEvmFactory, Evm, EvmEnv, EvmFactory, RecoveredTx,
};
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{Bloom, B256};
use bp_input::{BlockTx, BlockTxType, ChainConfig, EthBlock, PrivilegedTx, ProgramInput};
use revm::{
    database::{states::bundle_state::BundleRetention, State},
    database_interface::DatabaseCommitExt,
    primitives::KECCAK_EMPTY,
};

use crate::{
    collision::{StorageCollision, StorageOracle},
    credit::{check_credits, check_l2_chain},
    evm::ProgramEvm,
    header::{validate_against_parent, validate_body},
    l2::L2Batch,
    parallel,
    swap::with_word_swaps,
    BlockError, GotExpected, ProgramError, ProgramOutput, VerifiedWitness, WitnessDb, WitnessSource,
};

/// A receipt of a block of this program: Ethereum's receipt, typed by the block's transaction
/// types (privileged ones included).
pub type BlockReceipt = EthereumReceipt<BlockTxType>;

/// What executing a batch established, and the database in its final state (for witness
/// generation and tooling).
#[derive(Debug)]
pub struct BatchResult<S> {
    /// The outputs, with `l2` left `None`: an L2 batch's commitments need its blob, which
    /// [`execute_input`] checks (from [`Self::l2`]).
    pub output: ProgramOutput,
    /// Gas used by all blocks.
    pub gas_used: u64,
    /// For an L2 batch, what its commitments are made of.
    pub l2: Option<L2Batch>,
    /// The witness database after the last block.
    pub db: WitnessDb<S>,
    /// Per block, what the consensus layer hands over beside it (an EIP-8025 payload request
    /// carries them), as execution produced and the header's hashes bound them.
    pub payload_fields: Vec<PayloadFields>,
}

/// What a block's execution gives that its body does not hold and its header binds by hash
/// only: the execution requests (EIP-7685, `requests_hash`) and the block-level access list
/// (EIP-7928, `block_access_list_hash`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFields {
    /// The requests, empty before Prague.
    pub requests: alloy_eips::eip7685::Requests,
    /// The access list's RLP (the bytes its hash is of); `None` before Amsterdam.
    pub block_access_list: Option<alloy_primitives::Bytes>,
}

/// The program's phases, for timing (natively) or cycle counting (in a zkVM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Hashing witness nodes and codes, decoding and linking ancestor headers.
    WitnessVerification,
    /// Header and body checks, sender recovery, EVM execution, receipts.
    Execution,
    /// Writing state changes into the tries and computing the state root.
    StateRoot,
    /// L2 commitments: state diff, blob packing and the KZG check.
    Commitments,
}

/// Observes phase changes; the default does nothing.
pub trait Probe {
    /// Called when `phase` starts (the previous one ends).
    fn enter(&mut self, phase: Phase) {
        let _ = phase;
    }
}

/// A probe that observes nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProbe;
impl Probe for NoProbe {}

/// Runs the program on a complete input: authenticates the witness, executes the batch and,
/// for an L2 batch, checks the state-diff blob against its commitment.
pub fn execute_input(input: &ProgramInput) -> Result<ProgramOutput, ProgramError> {
    execute_input_with_probe(input, &mut NoProbe).map(|(output, _)| output)
}

/// [`execute_input`], reporting phase changes to `probe`; also returns the gas used.
pub fn execute_input_with_probe(
    input: &ProgramInput,
    probe: &mut dyn Probe,
) -> Result<(ProgramOutput, u64), ProgramError> {
    probe.enter(Phase::WitnessVerification);
    let witness = VerifiedWitness::new(&input.witness, &input.parent_header)?;
    let db = WitnessDb::new(witness, input.parent_header.state_root);
    let l2 = input.l2.as_ref().map(|_| L2Batch::default());

    let mut batch = execute_batch(&input.blocks, &input.parent_header, &input.chain, l2, db, probe)?;

    if let (Some(blob), Some(l2)) = (&input.l2, batch.l2) {
        probe.enter(Phase::Commitments);
        // execute_batch checked that the blocks follow the parent one by one.
        let first = input.parent_header.number + 1;
        let last = input.parent_header.number + input.blocks.len() as u64;
        batch.output.l2 = Some(l2.commit(first, last, &mut batch.db, blob)?);
    }
    let result = (batch.output, batch.gas_used);
    // A zkVM guest exits right after the program, and its allocator never reuses memory:
    // dropping the tries and maps would walk them all for nothing (1.5 M cycles on a mainnet
    // block).
    #[cfg(target_os = "zkvm")]
    core::mem::forget(batch.db);
    Ok(result)
}

/// Runs the program's checks on `input`'s blocks (not an L2 batch's commitments) and returns
/// each block's [`PayloadFields`]: what turning a block into a payload request needs.
pub fn payload_fields(input: &ProgramInput) -> Result<Vec<PayloadFields>, ProgramError> {
    let witness = VerifiedWitness::new(&input.witness, &input.parent_header)?;
    let db = WitnessDb::new(witness, input.parent_header.state_root);
    let l2 = input.l2.as_ref().map(|_| L2Batch::default());
    let batch = execute_batch(&input.blocks, &input.parent_header, &input.chain, l2, db, &mut NoProbe)?;
    Ok(batch.payload_fields)
}

/// Executes `blocks` on top of `parent` against `db`, checking every block completely: its
/// header against its parent, its body against its header, its transactions, their execution
/// against the header's results, and the state root after it. An L2 batch (`l2` given) may
/// hold privileged transactions and gathers what its commitments are made of.
pub fn execute_batch<S: WitnessSource + core::fmt::Debug>(
    blocks: &[EthBlock],
    parent: &Header,
    chain: &ChainConfig,
    mut l2: Option<L2Batch>,
    db: WitnessDb<S>,
    probe: &mut dyn Probe,
) -> Result<BatchResult<S>, ProgramError> {
    if blocks.is_empty() {
        return Err(ProgramError::NoBlocks);
    }
    if l2.is_some() {
        check_l2_chain(chain)?;
    }
    let initial_state_root = parent.state_root;
    let parent_block_hash = parent.hash_slow();
    let mut state = State::builder().with_database(db).with_bundle_update().build();
    let (mut parent, mut parent_hash) = (parent, parent_block_hash);
    let (mut gas_used, mut tx_count) = (0u64, 0u64);
    let mut payload_fields = Vec::with_capacity(blocks.len());

    for block in blocks {
        let number = block.header.number;
        let invalid = |error: BlockError| ProgramError::InvalidBlock { number, error };

        probe.enter(Phase::Execution);
        validate_against_parent(&block.header, parent, parent_hash, chain).map_err(|e| invalid(e.into()))?;
        validate_body(block, chain).map_err(invalid)?;
        check_credits(block, chain, l2.is_some()).map_err(invalid)?;
        let transactions = recover_senders(block, chain, l2.is_some()).map_err(invalid)?;
        let executed = execute_block(&mut state, block, parent_hash, chain, &transactions);
        // A witness failure surfaces through revm as an execution error; report it as itself.
        if let Some(failure) = state.database.take_failure() {
            return Err(ProgramError::Witness(failure));
        }
        let executed = executed.map_err(|e| invalid(BlockError::Execution(format!("{e}"))))?;
        check_results(&block.header, chain, &executed).map_err(invalid)?;
        let Executed { mut result, access_list } = executed;
        payload_fields.push(PayloadFields {
            requests: core::mem::take(&mut result.requests),
            block_access_list: access_list.map(|list| list.rlp),
        });

        probe.enter(Phase::StateRoot);
        state.merge_transitions(BundleRetention::PlainState);
        let bundle = state.take_bundle();
        if let Some(l2) = &mut l2 {
            l2.record_block(block, &result.receipts, &bundle, &mut state.database)?;
        }
        state.database.apply(bundle)?;
        let computed = state.database.state_root();
        if computed != block.header.state_root {
            return Err(invalid(BlockError::StateRoot(GotExpected::new(computed, block.header.state_root))));
        }

        parent_hash = block.header.hash_slow();
        state.database.push_block_hash(number, parent_hash);
        parent = &block.header;
        gas_used += result.gas_used;
        tx_count += block.body.transactions.iter().filter(|tx| tx.as_privileged().is_none()).count() as u64;
    }

    let output = ProgramOutput {
        initial_state_root,
        final_state_root: parent.state_root,
        parent_block_hash,
        last_block_hash: parent_hash,
        chain_id: chain.chain_id,
        chain_config_hash: chain.hash(),
        tx_count,
        l2: None,
    };
    Ok(BatchResult { output, gas_used, l2, db: state.database, payload_fields })
}

type Recovered<'a> = alloy_consensus::transaction::Recovered<&'a BlockTx>;

/// Transactions per thread worth recovering in parallel (a signature is tens of microseconds).
const SIGNATURES_PER_THREAD: usize = 8;

/// Senders of a block's transactions: recovered from the signature, or a privileged
/// transaction's `from` (only in an L2 batch, and only with the fields the L1 bridge binds).
/// Natively on all cores; the first failing transaction is reported, as in a sequential pass.
fn recover_senders<'a>(block: &'a EthBlock, chain: &ChainConfig, l2: bool) -> Result<Vec<Recovered<'a>>, BlockError> {
    let time = block.header.timestamp;
    parallel::map(&block.body.transactions, SIGNATURES_PER_THREAD, |index, tx| {
        let allowed = match tx {
            BlockTx::Ethereum(TxEnvelope::Eip4844(_)) => chain.is_cancun_active_at_timestamp(time),
            BlockTx::Ethereum(TxEnvelope::Eip7702(_)) => chain.is_prague_active_at_timestamp(time),
            BlockTx::Ethereum(_) => true,
            BlockTx::Privileged(_) => l2,
        };
        if !allowed {
            return Err(BlockError::TxTypeNotActive { index, tx_type: tx.ty() });
        }
        if let BlockTx::Ethereum(TxEnvelope::Eip4844(blob_tx)) = tx {
            // The network form (blobs, commitments, proofs attached) is for the mempool only.
            if blob_tx.tx().as_with_sidecar().is_some() {
                return Err(BlockError::BlobSidecarInBlock { index });
            }
        }
        let signer = match tx {
            BlockTx::Ethereum(tx) => tx.recover_signer().map_err(|_| BlockError::Signature { index })?,
            BlockTx::Privileged(tx) => {
                check_privileged(tx).map_err(|field| BlockError::PrivilegedField { index, field })?;
                tx.from
            }
        };
        Ok(Recovered::new_unchecked(tx, signer))
    })
    .collect()
}

/// A privileged transaction executes with nothing the L1 bridge did not bind into its deposit
/// hash: no access list (its intrinsic gas would eat the gas limit the depositor chose) and no
/// fee fields (docs/l2.md). Returns the offending field.
fn check_privileged(tx: &PrivilegedTx) -> Result<(), &'static str> {
    if !tx.access_list.is_empty() {
        return Err("accessList");
    }
    if tx.max_fee_per_gas != 0 {
        return Err("maxFeePerGas");
    }
    if tx.max_priority_fee_per_gas != 0 {
        return Err("maxPriorityFeePerGas");
    }
    Ok(())
}

/// Receipts typed by [`BlockTxType`].
#[derive(Debug, Clone, Copy, Default)]
struct BlockReceiptBuilder;

impl ReceiptBuilder for BlockReceiptBuilder {
    type Transaction = BlockTx;
    type Receipt = BlockReceipt;

    fn build_receipt<E: Evm>(&self, ctx: ReceiptBuilderCtx<'_, BlockTxType, E>) -> BlockReceipt {
        EthereumReceipt {
            tx_type: ctx.tx_type,
            success: ctx.result.is_success(),
            cumulative_gas_used: ctx.cumulative_gas_used,
            logs: ctx.result.into_logs(),
        }
    }
}

/// The chain configuration as alloy-evm's executor wants it. The executor asks it about
/// Amsterdam only to make EIP-8282's builder-request system calls, which the Amsterdam of the
/// release this program targets does not have (amsterdam.rs), so to the executor Amsterdam
/// never comes; the EVM's rules come from the chain configuration itself.
#[derive(Debug, Clone, Copy)]
struct Spec<'a>(&'a ChainConfig);

impl EthereumHardforks for Spec<'_> {
    fn ethereum_fork_activation(&self, fork: alloy_hardforks::EthereumHardfork) -> alloy_hardforks::ForkCondition {
        match fork {
            alloy_hardforks::EthereumHardfork::Amsterdam => alloy_hardforks::ForkCondition::Never,
            _ => self.0.ethereum_fork_activation(fork),
        }
    }
}

impl alloy_evm::eth::spec::EthExecutorSpec for Spec<'_> {
    fn deposit_contract_address(&self) -> Option<alloy_primitives::Address> {
        self.0.deposit_contract
    }
}

/// What executing a block yields: receipts, requests, gas.
pub type BlockResult = alloy_evm::block::BlockExecutionResult<BlockReceipt>;

/// Executes one block's transactions on `state` under the program's rules (sender recovery,
/// transaction types by fork, privileged transactions when `l2`), without checking the
/// header's results: what a block builder runs to fill in a header the program then checks.
pub fn run_block<DB>(
    state: &mut State<DB>,
    block: &EthBlock,
    parent_hash: B256,
    chain: &ChainConfig,
    l2: bool,
) -> Result<BlockResult, BlockError>
where
    DB: revm::Database + StorageOracle + core::fmt::Debug,
    DB::Error: core::error::Error + Send + Sync + 'static,
{
    check_credits(block, chain, l2)?;
    let transactions = recover_senders(block, chain, l2)?;
    execute_block(state, block, parent_hash, chain, &transactions)
        .map(|executed| executed.result)
        .map_err(|e| BlockError::Execution(format!("{e}")))
}

/// What executing a block yields beyond alloy-evm's result: from Amsterdam, the hash of the
/// block-level access list (EIP-7928) execution built, and its number of items.
#[derive(Debug)]
struct Executed {
    result: BlockResult,
    access_list: Option<AccessListSummary>,
}

/// A block-level access list, as the header check needs it, with the RLP its hash is of.
#[derive(Debug, Clone)]
struct AccessListSummary {
    hash: B256,
    items: u64,
    rlp: alloy_primitives::Bytes,
}

/// The EVM environment a block of `header` executes in under `chain`'s rules (the one
/// definition, for blocks and for calls against a block's state).
pub fn evm_env(header: &Header, chain: &ChainConfig) -> EvmEnv {
    let blob_params = chain.blob_params_at(header.timestamp);
    let mut env = EvmEnv::for_eth_block(header, chain, chain.chain_id, blob_params);
    if chain.is_amsterdam_active_at_timestamp(header.timestamp) {
        crate::amsterdam::configure(&mut env.cfg_env, header.gas_limit);
    }
    env
}

fn execute_block<DB>(
    state: &mut State<DB>,
    block: &EthBlock,
    parent_hash: alloy_primitives::B256,
    chain: &ChainConfig,
    transactions: &[Recovered<'_>],
) -> Result<Executed, BlockExecutionError>
where
    DB: revm::Database + StorageOracle + core::fmt::Debug,
    DB::Error: core::error::Error + Send + Sync + 'static,
{
    let header = &block.header;
    // EIP-7928: revm's State records every access and write under the block access index the
    // executor sets: 0 for the system calls before the transactions, i for transaction i, and
    // n + 1 for the withdrawals and system calls after them (as reth drives it).
    let access_list = chain.is_amsterdam_active_at_timestamp(header.timestamp);
    if access_list {
        state.bal_state = revm::database_interface::bal::BalState::new().with_bal_builder();
    }
    let env = evm_env(header, chain);
    let evm = EthEvmFactory::default().create_evm_with_inspector(&mut *state, env, StorageCollision);
    // SWAPs by word copies (swap.rs), and the inspector off: its interpreter loop costs a few
    // percent of execution, so it runs only for the transactions that need it (see
    // `execute_transaction`).
    let evm = with_word_swaps(evm, |instructions| {
        if access_list {
            crate::amsterdam::instructions(instructions);
        }
    });
    let ctx = EthBlockExecutionCtx {
        parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        ommers: &[],
        withdrawals: block.body.withdrawals.as_ref().map(|w| Cow::Borrowed(w.as_slice())),
        extra_data: header.extra_data.clone(),
        tx_count_hint: Some(transactions.len()),
        slot_number: header.slot_number,
    };
    let mut executor = EthBlockExecutor::new(evm, ctx, Spec(chain), BlockReceiptBuilder);
    executor.apply_pre_execution_changes()?;
    if access_list {
        executor.evm_mut().db_mut().bump_bal_index();
    }
    for (index, tx) in transactions.iter().enumerate() {
        let Some(privileged) = tx.inner().as_privileged() else {
            execute_transaction(&mut executor, *tx)?;
            if access_list {
                executor.evm_mut().db_mut().bump_bal_index();
            }
            continue;
        };
        // The deposited value arrives first; then the transaction runs fee-free, its nonce
        // being the bridge's deposit number rather than the sender's (docs/l2.md).
        let minted = u128::try_from(privileged.value)
            .map_err(|_| BlockExecutionError::msg(format!("privileged transaction {index}: value over 2^128")))?;
        if minted > 0 {
            executor
                .evm_mut()
                .db_mut()
                .increment_balances([(privileged.from, minted)])
                .map_err(BlockExecutionError::other)?;
        }
        set_privileged_rules(executor.evm_mut(), true);
        let outcome = execute_transaction(&mut executor, *tx);
        set_privileged_rules(executor.evm_mut(), false);
        outcome?;
        if access_list {
            executor.evm_mut().db_mut().bump_bal_index();
        }
    }
    let result = executor.apply_post_execution_changes()?;
    if chain.is_prague_active_at_timestamp(header.timestamp) {
        // EIP-7002 and EIP-7251: a block whose request contracts have no code is invalid.
        for address in [WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS] {
            let account = revm::Database::basic(state, address).map_err(BlockExecutionError::other)?;
            if account.is_none_or(|a| a.code_hash == revm::primitives::KECCAK_EMPTY) {
                return Err(BlockExecutionError::msg(format!("system contract {address} has no code")));
            }
        }
    }
    let access_list = state.bal_state.take_built_alloy_bal().map(|list| {
        // The hash's own encoding, kept: an EIP-8025 payload carries these bytes.
        let mut rlp = Vec::new();
        let hash = alloy_eip7928::compute_block_access_list_hash_with_buf(&list, &mut rlp);
        AccessListSummary { hash, items: alloy_eip7928::total_bal_items(&list), rlp: rlp.into() }
    });
    Ok(Executed { result, access_list })
}

/// Runs `tx` in `executor`'s block, not yet committed: alloy-evm's step, except in this
/// release's Amsterdam, whose inclusion rule differs from alloy-evm's (`evm::release_inclusion`).
fn execute_without_commit<'s, DB, Sp, R>(
    executor: &mut EthBlockExecutor<'_, ProgramEvm<&'s mut State<DB>, StorageCollision, PrecompilesMap>, Sp, R>,
    tx: Recovered<'_>,
) -> Result<EthTxResult<revm::context::result::HaltReason, BlockTxType>, BlockExecutionError>
where
    DB: revm::Database + StorageOracle + core::fmt::Debug + 's,
    DB::Error: core::error::Error + Send + Sync + 'static,
    Sp: alloy_evm::eth::spec::EthExecutorSpec,
    R: ReceiptBuilder<Transaction = BlockTx, Receipt = BlockReceipt>,
{
    let cfg = executor.evm.cfg_env();
    if !crate::evm::release_amsterdam(cfg) {
        return executor.execute_transaction_without_commit(tx);
    }
    let (tx_env, tx) = ExecutableTxParts::<revm::context::TxEnv, BlockTx>::into_parts(tx);
    // A transaction whose intrinsic gas cannot be worked out is refused by the EVM, for that.
    if let Ok(intrinsic) = crate::evm::intrinsic_gas(cfg, &tx_env) {
        let block_gas_limit = executor.evm.block().gas_limit;
        let fits = crate::evm::release_inclusion(
            tx_env.gas_limit,
            &intrinsic,
            revm::context_interface::Cfg::tx_gas_limit_cap(cfg),
            block_gas_limit,
            executor.block_regular_gas_used,
            executor.block_state_gas_used,
        );
        if let Err(block_available_gas) = fits {
            return Err(BlockValidationError::TransactionGasLimitMoreThanAvailableBlockGas {
                transaction_gas_limit: tx_env.gas_limit,
                block_available_gas,
            }
            .into());
        }
    }
    let tx: &BlockTx = RecoveredTx::<BlockTx>::tx(&tx);
    let blob_gas_used = alloy_consensus::Transaction::blob_gas_used(tx).unwrap_or_default();
    let tx_type = alloy_consensus::TransactionEnvelope::tx_type(tx);
    let result = executor
        .evm
        .transact(tx_env)
        .map_err(|err| BlockExecutionError::evm(err, alloy_eips::eip2718::Encodable2718::trie_hash(tx)))?;
    Ok(EthTxResult { result, blob_gas_used, tx_type })
}

/// Executes and commits one transaction. The EIP-7610 storage rule needs the collision
/// inspector, and revm's inspecting interpreter loop is slower than its plain one, so the
/// transaction first runs without it; it runs again with it when a CREATE could have collided
/// under that rule: when the transaction touched an account without nonce and code that had
/// storage before the block. A CREATE loads its target, and a loaded account stays in the
/// transaction's state even when the frame that loaded it reverted, so none is missed. Such
/// accounts are a handful on mainnet, left by contracts destroyed before EIP-161.
fn execute_transaction<'s, DB, Sp, R>(
    executor: &mut EthBlockExecutor<'_, ProgramEvm<&'s mut State<DB>, StorageCollision, PrecompilesMap>, Sp, R>,
    tx: Recovered<'_>,
) -> Result<(), BlockExecutionError>
where
    DB: revm::Database + StorageOracle + core::fmt::Debug + 's,
    DB::Error: core::error::Error + Send + Sync + 'static,
    Sp: alloy_evm::eth::spec::EthExecutorSpec,
    R: ReceiptBuilder<Transaction = BlockTx, Receipt = BlockReceipt>,
{
    let output = execute_without_commit(executor, tx)?;
    let collision_possible = {
        let database = &mut executor.evm_mut().db_mut().database;
        output.result.state.iter().any(|(address, account)| {
            let empty = account.info.nonce == 0 && account.info.code_hash == KECCAK_EMPTY;
            (empty || account.is_created()) && database.has_storage_before_block(*address) != Some(false)
        })
    };
    let output = if collision_possible {
        executor.evm_mut().enable_inspector();
        let rerun = execute_without_commit(executor, tx);
        executor.evm_mut().disable_inspector();
        rerun?
    } else {
        output
    };
    let collided = matches!(
        output.result.result,
        revm::context::result::ExecutionResult::Halt { reason: revm::context::result::HaltReason::CreateCollision, .. }
    );
    let regular_before = executor.block_regular_gas_used;
    executor.commit_transaction(output);
    if collided && crate::evm::release_amsterdam(executor.evm.cfg_env()) {
        // A creating transaction whose address is taken never executes: the sender pays its
        // whole gas, but this release's block counts only its intrinsic regular gas (EIP-8037's
        // counters), where revm counts all it burnt.
        let (tx_env, _) = ExecutableTxParts::<revm::context::TxEnv, BlockTx>::into_parts(tx);
        let intrinsic = crate::evm::intrinsic_gas(executor.evm.cfg_env(), &tx_env)
            .map_err(|err| BlockExecutionError::msg(format!("a transaction that ran has no intrinsic gas: {err}")))?;
        executor.block_regular_gas_used = regular_before + intrinsic.initial_regular_gas().max(intrinsic.floor_gas());
    }
    Ok(())
}

/// Switches the EVM between ordinary and privileged-transaction rules.
fn set_privileged_rules<DB: alloy_evm::Database, I, P>(evm: &mut ProgramEvm<DB, I, P>, privileged: bool) {
    let cfg = &mut evm.ctx_mut().cfg;
    cfg.disable_fee_charge = privileged;
    cfg.disable_base_fee = privileged;
    cfg.disable_nonce_check = privileged;
    cfg.disable_eip3607 = privileged;
}

/// The receipts root and the logs bloom of a block's receipts. A receipt's bloom is computed
/// from its logs (a keccak256 per address and topic) each time it is asked for, so it is
/// computed once here for both.
pub fn receipts_root_and_bloom(receipts: &[BlockReceipt]) -> (B256, Bloom) {
    let with_blooms: Vec<(&BlockReceipt, Bloom)> = receipts.iter().map(|r| (r, r.bloom())).collect();
    let root = alloy_consensus::proofs::ordered_trie_root_with_encoder(&with_blooms, |(r, bloom), out| {
        r.eip2718_encode_with_bloom(bloom, out)
    });
    (root, with_blooms.iter().fold(Bloom::ZERO, |acc, (_, bloom)| acc | *bloom))
}

/// Checks the header's claims about execution against what execution gave: gas, blob gas,
/// receipts root, logs bloom, requests hash, block-level access list. Mismatches are reported
/// as got (computed) and expected (the header's).
fn check_results(header: &Header, chain: &ChainConfig, executed: &Executed) -> Result<(), BlockError> {
    let result = &executed.result;
    if result.gas_used != header.gas_used {
        return Err(BlockError::GasUsed(GotExpected::new(result.gas_used, header.gas_used)));
    }
    if chain.is_cancun_active_at_timestamp(header.timestamp) {
        if header.blob_gas_used != Some(result.blob_gas_used) {
            return Err(BlockError::BlobGasUsed(GotExpected::new(Some(result.blob_gas_used), header.blob_gas_used)));
        }
        let max = chain.blob_params_at(header.timestamp).map(|p| p.max_blob_gas_per_block()).unwrap_or(0);
        if result.blob_gas_used > max {
            return Err(BlockError::TooManyBlobs { used: result.blob_gas_used, max });
        }
    }
    let (receipts_root, bloom) = receipts_root_and_bloom(&result.receipts);
    if receipts_root != header.receipts_root {
        return Err(BlockError::ReceiptsRoot(GotExpected::new(receipts_root, header.receipts_root)));
    }
    if bloom != header.logs_bloom {
        return Err(BlockError::LogsBloom(GotExpected::new(bloom, header.logs_bloom).into()));
    }
    let computed = chain.is_prague_active_at_timestamp(header.timestamp).then(|| result.requests.requests_hash());
    if header.requests_hash != computed {
        return Err(BlockError::RequestsHash(GotExpected::new(computed, header.requests_hash)));
    }
    if let Some(list) = &executed.access_list {
        // EIP-7928: the list may hold one item per ITEM_COST gas of the block's limit.
        let max = header.gas_limit / alloy_eip7928::ITEM_COST as u64;
        if list.items > max {
            return Err(BlockError::AccessListTooLarge { items: list.items, max });
        }
    }
    let computed = executed.access_list.as_ref().map(|list| list.hash);
    if header.block_access_list_hash != computed {
        return Err(BlockError::BlockAccessListHash(GotExpected::new(computed, header.block_access_list_hash)));
    }
    Ok(())
}
