//! The program's main loop: validate, execute, write back, check roots — block by block.

use alloc::{borrow::Cow, format, vec::Vec};
use alloy_consensus::{
    proofs::calculate_receipt_root, transaction::SignerRecoverable, Header, TxEnvelope,
    TxReceipt,
};
use alloy_eips::{
    eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, Typed2718,
};
use alloy_evm::{
    block::{BlockExecutor, BlockExecutionError},
    eth::{receipt_builder::AlloyReceiptBuilder, EthBlockExecutionCtx, EthBlockExecutor},
    EthEvmFactory, EvmEnv, EvmFactory,
};
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{keccak256, map::B256Map, Bloom, Bytes};
use alloy_rlp::Decodable;
use bp_input::{ChainConfig, EthBlock, ProgramInput};
use bp_trie::{MapSource, NodeSource, EMPTY_ROOT};
use revm::database::{states::bundle_state::BundleRetention, State};

use crate::{
    collision::StorageCollision,
    header::{validate_against_parent, validate_body},
    Ancestors, BlockError, ProgramError, ProgramOutput, WitnessDb,
};

/// The outputs, and the database in its final state (for witness generation and tooling).
#[derive(Debug)]
pub struct BatchResult<S> {
    /// What the program commits to.
    pub output: ProgramOutput,
    /// The witness database after the last block.
    pub db: WitnessDb<S>,
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

/// Runs the program on a complete input: authenticates the witness, then executes the batch.
pub fn execute_input(input: &ProgramInput) -> Result<ProgramOutput, ProgramError> {
    execute_input_with_probe(input, &mut NoProbe)
}

/// [`execute_input`], reporting phase changes to `probe`.
pub fn execute_input_with_probe(input: &ProgramInput, probe: &mut dyn Probe) -> Result<ProgramOutput, ProgramError> {
    probe.enter(Phase::WitnessVerification);
    let source = MapSource::from_nodes(input.witness.state.iter().cloned());
    let root = input.parent_header.state_root;
    if root != EMPTY_ROOT && source.get(&root).is_none() {
        return Err(ProgramError::MissingStateRoot(root));
    }
    let codes: B256Map<Bytes> = input.witness.codes.iter().map(|c| (keccak256(c), c.clone())).collect();
    let mut headers = Vec::with_capacity(input.witness.headers.len());
    for (index, rlp) in input.witness.headers.iter().enumerate() {
        let header = Header::decode(&mut rlp.as_ref()).map_err(|_| ProgramError::InvalidAncestorHeader { index })?;
        headers.push(header);
    }
    let parent_hash = input.parent_header.hash_slow();
    let ancestors = Ancestors::new(&input.parent_header, parent_hash, &headers);
    let db = WitnessDb::new(source, root, codes, ancestors);
    execute_batch(&input.blocks, &input.parent_header, &input.chain, db, probe).map(|r| r.output)
}

/// Executes `blocks` on top of `parent` against `db`, checking every block completely.
pub fn execute_batch<S: NodeSource + core::fmt::Debug>(
    blocks: &[EthBlock],
    parent: &Header,
    chain: &ChainConfig,
    db: WitnessDb<S>,
    probe: &mut dyn Probe,
) -> Result<BatchResult<S>, ProgramError> {
    let Some(last) = blocks.last() else { return Err(ProgramError::NoBlocks) };
    let mut state = State::builder().with_database(db).with_bundle_update().build();
    let mut parent = parent;
    let mut parent_hash = parent.hash_slow();
    let mut gas_used = 0u64;
    let mut tx_count = 0u64;
    let initial_state_root = parent.state_root;

    for block in blocks {
        let number = block.header.number;
        let invalid = |error: BlockError| ProgramError::InvalidBlock { number, error };
        let witness_failure = |state: &mut State<WitnessDb<S>>| state.database.failure.take().map(ProgramError::Witness);

        probe.enter(Phase::Execution);
        validate_against_parent(&block.header, parent, parent_hash, chain).map_err(|e| invalid(e.into()))?;
        validate_body(block, chain).map_err(invalid)?;
        let transactions = recover_senders(block, chain).map_err(invalid)?;

        let result = match execute_block(&mut state, block, parent_hash, chain, &transactions) {
            Ok(result) => result,
            Err(error) => {
                return Err(witness_failure(&mut state)
                    .unwrap_or_else(|| invalid(BlockError::Execution(format!("{error}")))));
            }
        };
        if let Some(failure) = witness_failure(&mut state) {
            return Err(failure);
        }
        check_results(&block.header, chain, &result).map_err(invalid)?;

        probe.enter(Phase::StateRoot);
        state.merge_transitions(BundleRetention::PlainState);
        let bundle = state.take_bundle();
        state.database.apply(bundle)?;
        let computed = state.database.state_root();
        if computed != block.header.state_root {
            return Err(invalid(BlockError::StateRoot { computed, header: block.header.state_root }));
        }

        parent_hash = block.header.hash_slow();
        state.database.push_block_hash(number, parent_hash);
        parent = &block.header;
        gas_used += result.gas_used;
        tx_count += block.body.transactions.len() as u64;
    }

    let output = ProgramOutput {
        initial_state_root,
        final_state_root: last.header.state_root,
        last_block_hash: parent_hash,
        chain_id: chain.chain_id,
        gas_used,
        tx_count,
    };
    Ok(BatchResult { output, db: state.database })
}

type Recovered = alloy_consensus::transaction::Recovered<TxEnvelope>;

fn recover_senders(block: &EthBlock, chain: &ChainConfig) -> Result<Vec<Recovered>, BlockError> {
    let time = block.header.timestamp;
    block
        .body
        .transactions
        .iter()
        .enumerate()
        .map(|(index, tx)| {
            let allowed = match tx {
                TxEnvelope::Eip4844(_) => chain.is_cancun_active_at_timestamp(time),
                TxEnvelope::Eip7702(_) => chain.is_prague_active_at_timestamp(time),
                _ => true,
            };
            if !allowed {
                return Err(BlockError::TxTypeNotActive { index, tx_type: tx.ty() });
            }
            let signer = tx.recover_signer().map_err(|_| BlockError::Signature { index })?;
            Ok(Recovered::new_unchecked(tx.clone(), signer))
        })
        .collect()
}

/// The chain configuration as alloy-evm's executor wants it.
#[derive(Debug, Clone, Copy)]
struct Spec<'a>(&'a ChainConfig);

impl EthereumHardforks for Spec<'_> {
    fn ethereum_fork_activation(&self, fork: alloy_hardforks::EthereumHardfork) -> alloy_hardforks::ForkCondition {
        self.0.ethereum_fork_activation(fork)
    }
}

impl alloy_evm::eth::spec::EthExecutorSpec for Spec<'_> {
    fn deposit_contract_address(&self) -> Option<alloy_primitives::Address> {
        self.0.deposit_contract
    }
}

type BlockResult = alloy_evm::block::BlockExecutionResult<alloy_consensus::ReceiptEnvelope>;

fn execute_block<S: NodeSource + core::fmt::Debug>(
    state: &mut State<WitnessDb<S>>,
    block: &EthBlock,
    parent_hash: alloy_primitives::B256,
    chain: &ChainConfig,
    transactions: &[Recovered],
) -> Result<BlockResult, BlockExecutionError> {
    let header = &block.header;
    let blob_params = chain.blob_params_at(header.timestamp);
    let env = EvmEnv::for_eth_block(header, chain, chain.chain_id, blob_params);
    let evm = EthEvmFactory::default().create_evm_with_inspector(&mut *state, env, StorageCollision);
    let ctx = EthBlockExecutionCtx {
        parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        ommers: &[],
        withdrawals: block.body.withdrawals.as_ref().map(|w| Cow::Borrowed(w.as_slice())),
        extra_data: header.extra_data.clone(),
        tx_count_hint: Some(transactions.len()),
        slot_number: None,
    };
    let executor = EthBlockExecutor::new(evm, ctx, Spec(chain), AlloyReceiptBuilder::default());
    let result = executor.execute_block(transactions.iter())?;
    if chain.is_prague_active_at_timestamp(header.timestamp) {
        // EIP-7002 and EIP-7251: a block whose request contracts have no code is invalid.
        for address in [WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS] {
            let account = revm::Database::basic(state, address).map_err(BlockExecutionError::other)?;
            if account.is_none_or(|a| a.code_hash == revm::primitives::KECCAK_EMPTY) {
                return Err(BlockExecutionError::msg(format!("system contract {address} has no code")));
            }
        }
    }
    Ok(result)
}

fn check_results(header: &Header, chain: &ChainConfig, result: &BlockResult) -> Result<(), BlockError> {
    if result.gas_used != header.gas_used {
        return Err(BlockError::GasUsed { computed: result.gas_used, header: header.gas_used });
    }
    if chain.is_cancun_active_at_timestamp(header.timestamp) {
        if header.blob_gas_used != Some(result.blob_gas_used) {
            return Err(BlockError::BlobGasUsed { computed: result.blob_gas_used, header: header.blob_gas_used });
        }
        let max = chain.blob_params_at(header.timestamp).map(|p| p.max_blob_gas_per_block()).unwrap_or(0);
        if result.blob_gas_used > max {
            return Err(BlockError::TooManyBlobs { used: result.blob_gas_used, max });
        }
    }
    let receipts_root = calculate_receipt_root(&result.receipts);
    if receipts_root != header.receipts_root {
        return Err(BlockError::ReceiptsRoot { computed: receipts_root, header: header.receipts_root });
    }
    let bloom = result.receipts.iter().fold(Bloom::ZERO, |acc, r| acc | r.bloom());
    if bloom != header.logs_bloom {
        return Err(BlockError::LogsBloom);
    }
    if chain.is_prague_active_at_timestamp(header.timestamp) {
        let computed = result.requests.requests_hash();
        if header.requests_hash != Some(computed) {
            return Err(BlockError::RequestsHash { computed: Some(computed), header: header.requests_hash });
        }
    } else if header.requests_hash.is_some() {
        return Err(BlockError::RequestsHash { computed: None, header: header.requests_hash });
    }
    Ok(())
}
