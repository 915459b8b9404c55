//! Bindings to the compiled contracts (`contracts/out`, built by `scripts/build-contracts.sh`
//! and checked against their sources in CI): ABI and bytecode come from the artifacts, never by
//! hand.
// The generated bindings carry no docs and mirror the contracts' signatures (the proposer's
// constructor and commit take eight arguments).
#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    CommonBridge,
    "../../contracts/out/CommonBridge.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    OnChainProposer,
    "../../contracts/out/OnChainProposer.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    L2Bridge,
    "../../contracts/out/L2Bridge.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    MockRisc0Verifier,
    "../../contracts/out/MockRisc0Verifier.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    MockSp1Verifier,
    "../../contracts/out/MockSp1Verifier.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    DepositingContract,
    "../../contracts/out/DepositingContract.json"
);
