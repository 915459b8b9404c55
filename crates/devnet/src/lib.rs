//! The devnet's L2 side: an embedded block builder producing real L2 batches (deposits,
//! withdrawals, contract calls and creations, self-destructs), sealed with witnesses from the
//! builder's own state and with state-diff blob commitments, and a coordinator batch source
//! that feeds them to the provers.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod builder;
pub mod contracts;
mod source;
mod state;
mod traffic;

pub use builder::{
    chain_config, genesis_block, BlobData, Builder, BuilderError, ChainBlock, Replay, SealedBatch, Withdrawal,
    BLOCK_TIME, COINBASE, DEPOSIT_GAS_PER_BLOCK, DEVNET_CHAIN_ID, GAS_LIMIT, MAX_DEPOSIT_GAS,
};
pub use source::{source_name, DevnetSource};
pub use state::{DevAccount, DevState, DevStateError};
pub use traffic::{
    block_deposits, l1_depositor, DepositFeed, DevAccountKey, MadeUpDeposits, DEV_ACCOUNTS, WITHDRAWAL_RECEIVER,
};
