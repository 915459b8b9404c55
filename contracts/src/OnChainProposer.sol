// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

/// @notice RISC Zero's standard verifier interface.
interface IRiscZeroVerifier {
    /// @notice Reverts unless `seal` proves a run of `imageId` whose journal has `journalDigest`.
    function verify(bytes calldata seal, bytes32 imageId, bytes32 journalDigest) external view;
}

/// @notice SP1's standard verifier interface.
interface ISP1Verifier {
    /// @notice Reverts unless `proofBytes` proves a run of `programVKey` with `publicValues`.
    function verifyProof(bytes32 programVKey, bytes calldata publicValues, bytes calldata proofBytes) external view;
}

/// @notice The bridge's deposit queue, as the proposer uses it.
interface IDepositQueue {
    /// @notice Consumes the next `count` deposits, whose hash must be `expected`.
    function consumeDeposits(uint256 count, bytes32 expected) external;
    /// @notice Makes the last `count` consumed deposits pending again (their batches were
    /// reverted).
    function restoreDeposits(uint256 count) external;
}

/// @title Commits the L2's batches with their state-diff blobs and verifies their proofs.
/// @notice Batch 0 is the L2's genesis. The committer commits batch n+1 after batch n, as an
/// EIP-4844 transaction carrying its blob; the proof sender verifies the next unverified batch,
/// whose public outputs (docs/l2.md) are rebuilt here from what was committed. A batch is final
/// once verified.
/// @notice The proofs a batch needs are fixed at deployment: either zk proofs (RISC Zero, SP1 or
/// both), or, asked for by name, dev mode, where nothing but the committed values is checked.
/// No call removes a required proof; the owner may only replace a verifier or program id with
/// another, after `upgradeDelay`. The owner may also rotate the committer and the proof sender,
/// and revert committed batches that no proof has verified for `revertDelay` (their deposits
/// are pending again), so that one bad commit or one lost key cannot stop the L2 for good.
contract OnChainProposer {
    /// @notice What a committed batch claims.
    struct Batch {
        bytes32 stateRoot;
        bytes32 lastBlockHash;
        bytes32 withdrawalsRoot;
        bytes32 depositsHash;
        bytes32 blobVersionedHash;
        uint64 txCount;
        /// @notice The bridge deposits its commit consumed (restored if it is reverted).
        uint64 depositCount;
        /// @notice When it was committed (block timestamp).
        uint64 committedAt;
    }

    /// @notice Everything fixed at deployment.
    struct Params {
        address committer;
        address proofSender;
        address bridge;
        uint256 chainId;
        bytes32 chainConfigHash;
        bytes32 genesisStateRoot;
        bytes32 genesisBlockHash;
        /// @notice RISC Zero's verifier and the guest's image id; zero: not required.
        address risc0Verifier;
        bytes32 risc0ImageId;
        /// @notice SP1's verifier and the guest's verifying key hash; zero: not required.
        address sp1Verifier;
        bytes32 sp1VKey;
        /// @notice Must be true exactly when no verifier is given: dev mode by name only.
        bool devMode;
        /// @notice Seconds the oldest unverified batch must wait before the owner may revert.
        uint64 revertDelay;
        /// @notice Seconds between proposing a verifier upgrade and applying it.
        uint64 upgradeDelay;
    }

    /// @notice A verifier upgrade waiting out `upgradeDelay`.
    struct Upgrade {
        address verifier;
        bytes32 programId;
        uint256 readyAt;
    }

    /// @notice Proof system numbers (`proposeUpgrade`, `applyUpgrade`).
    uint8 public constant RISC0 = 0;
    uint8 public constant SP1 = 1;

    /// @notice Who may rotate the roles, revert stuck batches and upgrade verifiers.
    address public immutable owner;
    /// @notice The bridge whose deposits batches consume.
    IDepositQueue public immutable bridge;
    /// @notice The L2's chain id (public output word 4).
    uint256 public immutable chainId;
    /// @notice The hash of the L2's chain configuration (public output word 5).
    bytes32 public immutable chainConfigHash;
    /// @notice No zk proof is checked: only the committed values (development only).
    bool public immutable devMode;
    /// @notice Seconds the oldest unverified batch must wait before the owner may revert.
    uint256 public immutable revertDelay;
    /// @notice Seconds between proposing a verifier upgrade and applying it.
    uint256 public immutable upgradeDelay;

    /// @notice Who commits batches.
    address public committer;
    /// @notice Who sends proofs (another account than the committer).
    address public proofSender;
    /// @notice RISC Zero's verifier; zero: RISC Zero proofs are not required (fixed at deployment).
    address public risc0Verifier;
    /// @notice The guest's image id.
    bytes32 public risc0ImageId;
    /// @notice SP1's verifier; zero: SP1 proofs are not required (fixed at deployment).
    address public sp1Verifier;
    /// @notice The guest's verifying key hash.
    bytes32 public sp1VKey;
    /// @notice Pending verifier upgrades, by proof system.
    mapping(uint8 => Upgrade) public pendingUpgrades;

    /// @notice The newest committed batch.
    uint256 public lastCommittedBatch;
    /// @notice The newest verified batch.
    uint256 public lastVerifiedBatch;
    /// @notice Every committed batch (and the genesis, batch 0).
    mapping(uint256 => Batch) public batches;

    /// @notice Public output words (docs/l2.md): 13 words of 32 bytes, the layout of Rust's
    /// `bp_program::OutputWord` (the contract tests compare every word's name and position).
    uint256 public constant OUTPUT_WORDS = 13;
    uint256 public constant PUBLIC_OUTPUT_BYTES = OUTPUT_WORDS * 32;
    /// @notice The position of the blob evaluation point word; the evaluation is the next one.
    uint256 public constant BLOB_Z_WORD = 11;
    /// @notice The batch kind word of an L2 batch.
    uint256 public constant BATCH_KIND_L2 = 1;
    address internal constant POINT_EVALUATION = address(0x0a);

    /// @notice A batch was committed with its blob.
    event BatchCommitted(uint256 indexed batch, bytes32 stateRoot, bytes32 blobVersionedHash);
    /// @notice A batch was verified.
    event BatchVerified(uint256 indexed batch);
    /// @notice Batches `first..=last` were reverted; their `deposits` are pending again.
    event BatchesReverted(uint256 first, uint256 last, uint256 deposits);
    /// @notice The committer or the proof sender changed.
    event RoleSet(string role, address account);
    /// @notice A verifier upgrade was proposed; it can be applied from `readyAt`.
    event UpgradeProposed(uint8 indexed system, address verifier, bytes32 programId, uint256 readyAt);
    /// @notice A proposed upgrade was cancelled.
    event UpgradeCancelled(uint8 indexed system);
    /// @notice A verifier and program id took effect.
    event VerifierSet(uint8 indexed system, address verifier, bytes32 programId);

    modifier onlyOwner() {
        require(msg.sender == owner, "OnChainProposer: not the owner");
        _;
    }

    constructor(Params memory p) {
        _checkRoles(p.committer, p.proofSender);
        require(
            (p.risc0Verifier == address(0)) == (p.risc0ImageId == bytes32(0)),
            "OnChainProposer: a RISC Zero verifier needs an image id and an image id a verifier"
        );
        require(
            (p.sp1Verifier == address(0)) == (p.sp1VKey == bytes32(0)),
            "OnChainProposer: an SP1 verifier needs a vkey and a vkey a verifier"
        );
        bool anyVerifier = p.risc0Verifier != address(0) || p.sp1Verifier != address(0);
        require(anyVerifier || p.devMode, "OnChainProposer: no verifier: proofs would not be checked (dev mode only by name)");
        require(!(anyVerifier && p.devMode), "OnChainProposer: dev mode takes no verifier");
        owner = msg.sender;
        committer = p.committer;
        proofSender = p.proofSender;
        bridge = IDepositQueue(p.bridge);
        chainId = p.chainId;
        chainConfigHash = p.chainConfigHash;
        devMode = p.devMode;
        revertDelay = p.revertDelay;
        upgradeDelay = p.upgradeDelay;
        risc0Verifier = p.risc0Verifier;
        risc0ImageId = p.risc0ImageId;
        sp1Verifier = p.sp1Verifier;
        sp1VKey = p.sp1VKey;
        batches[0].stateRoot = p.genesisStateRoot;
        batches[0].lastBlockHash = p.genesisBlockHash;
        emit VerifierSet(RISC0, p.risc0Verifier, p.risc0ImageId);
        emit VerifierSet(SP1, p.sp1Verifier, p.sp1VKey);
    }

    function _checkRoles(address _committer, address _proofSender) private pure {
        require(_committer != address(0) && _proofSender != address(0), "OnChainProposer: a role without an account");
        require(_committer != _proofSender, "OnChainProposer: committer and proof sender must differ");
    }

    /// @notice Hands the committer's role to `account` (a lost or leaked key is replaced).
    function setCommitter(address account) external onlyOwner {
        _checkRoles(account, proofSender);
        committer = account;
        emit RoleSet("committer", account);
    }

    /// @notice Hands the proof sender's role to `account`.
    function setProofSender(address account) external onlyOwner {
        _checkRoles(committer, account);
        proofSender = account;
        emit RoleSet("proof sender", account);
    }

    /// @notice The verifier and program id of proof system `system`.
    function verifierOf(uint8 system) public view returns (address verifier, bytes32 programId) {
        if (system == RISC0) {
            return (risc0Verifier, risc0ImageId);
        }
        require(system == SP1, "OnChainProposer: unknown proof system");
        return (sp1Verifier, sp1VKey);
    }

    /// @notice Proposes to replace the verifier and program id of a required proof system; it
    /// takes effect through `applyUpgrade` once `upgradeDelay` has passed, so that users can
    /// leave first. An upgrade never removes a proof nor makes one required.
    function proposeUpgrade(uint8 system, address verifier, bytes32 programId) external onlyOwner {
        (address current,) = verifierOf(system);
        require(current != address(0), "OnChainProposer: that proof system is not required");
        require(verifier != address(0) && programId != bytes32(0), "OnChainProposer: an upgrade cannot remove a proof");
        uint256 readyAt = block.timestamp + upgradeDelay;
        pendingUpgrades[system] = Upgrade(verifier, programId, readyAt);
        emit UpgradeProposed(system, verifier, programId, readyAt);
    }

    /// @notice Drops a proposed upgrade.
    function cancelUpgrade(uint8 system) external onlyOwner {
        require(pendingUpgrades[system].readyAt != 0, "OnChainProposer: no upgrade proposed");
        delete pendingUpgrades[system];
        emit UpgradeCancelled(system);
    }

    /// @notice Applies a proposed upgrade whose delay has passed (anyone may call it).
    function applyUpgrade(uint8 system) external {
        Upgrade memory upgrade = pendingUpgrades[system];
        require(upgrade.readyAt != 0, "OnChainProposer: no upgrade proposed");
        require(block.timestamp >= upgrade.readyAt, "OnChainProposer: the upgrade delay has not passed");
        delete pendingUpgrades[system];
        if (system == RISC0) {
            (risc0Verifier, risc0ImageId) = (upgrade.verifier, upgrade.programId);
        } else {
            (sp1Verifier, sp1VKey) = (upgrade.verifier, upgrade.programId);
        }
        emit VerifierSet(system, upgrade.verifier, upgrade.programId);
    }

    /// @notice Reverts every committed batch after `keep` (which must be verified or itself
    /// unverified), newest first, once the oldest unverified batch has waited `revertDelay`
    /// without a proof; their deposits are pending again and will be included anew. A
    /// verified batch is never reverted.
    function revertBatches(uint256 keep) external onlyOwner {
        uint256 last = lastCommittedBatch;
        require(keep < last, "OnChainProposer: no batch after it is committed");
        require(keep >= lastVerifiedBatch, "OnChainProposer: a verified batch cannot be reverted");
        require(
            block.timestamp >= batches[lastVerifiedBatch + 1].committedAt + revertDelay,
            "OnChainProposer: the oldest unverified batch has not waited the revert delay"
        );
        uint256 deposits;
        for (uint256 batch = last; batch > keep; --batch) {
            deposits += batches[batch].depositCount;
            delete batches[batch];
        }
        lastCommittedBatch = keep;
        bridge.restoreDeposits(deposits);
        emit BatchesReverted(keep + 1, last, deposits);
    }

    /// @notice Commits `batch`, which must follow the last committed one, in a transaction
    /// carrying its state-diff blob, and consumes the `depositCount` deposits it includes.
    function commitBatch(
        uint256 batch,
        bytes32 stateRoot,
        bytes32 lastBlockHash,
        uint64 txCount,
        bytes32 withdrawalsRoot,
        bytes32 depositsHash,
        uint256 depositCount
    ) external {
        require(msg.sender == committer, "OnChainProposer: not the committer");
        require(batch == lastCommittedBatch + 1, "OnChainProposer: batch out of order");
        bytes32 versionedHash = blobhash(0);
        require(versionedHash != bytes32(0), "OnChainProposer: the commit carries no blob");
        require(depositCount <= type(uint64).max, "OnChainProposer: deposit count over 2^64");
        bridge.consumeDeposits(depositCount, depositsHash);
        batches[batch] = Batch(
            stateRoot,
            lastBlockHash,
            withdrawalsRoot,
            depositsHash,
            versionedHash,
            txCount,
            uint64(depositCount),
            uint64(block.timestamp)
        );
        lastCommittedBatch = batch;
        emit BatchCommitted(batch, stateRoot, versionedHash);
    }

    /// @notice The public outputs a proof of `batch` must have, with the blob evaluation point
    /// `z` and value `y` (checked separately, against the blob).
    function publicOutputs(uint256 batch, bytes32 z, bytes32 y) public view returns (bytes memory) {
        Batch storage b = batches[batch];
        Batch storage parent = batches[batch - 1];
        return abi.encodePacked(
            parent.stateRoot,
            b.stateRoot,
            parent.lastBlockHash,
            b.lastBlockHash,
            chainId,
            chainConfigHash,
            uint256(b.txCount),
            BATCH_KIND_L2,
            b.withdrawalsRoot,
            b.depositsHash,
            b.blobVersionedHash,
            z,
            y
        );
    }

    /// @notice Verifies the next unverified batch: `outputs` must be the public outputs rebuilt
    /// from its commitment (each word is compared and a difference named), the blob posted at
    /// commit must evaluate to the outputs' `y` at their `z` (`blobCommitment`, `blobOpening`:
    /// the point-evaluation precompile's inputs), and every required proof must verify.
    function verifyBatch(
        uint256 batch,
        bytes calldata outputs,
        bytes calldata blobCommitment,
        bytes calldata blobOpening,
        bytes calldata risc0Seal,
        bytes calldata sp1Proof
    ) external {
        require(msg.sender == proofSender, "OnChainProposer: not the proof sender");
        require(batch == lastVerifiedBatch + 1, "OnChainProposer: batch out of order");
        require(batch <= lastCommittedBatch, "OnChainProposer: batch not committed");
        bytes memory expected = _checkOutputs(batch, outputs);
        _checkBlob(batches[batch].blobVersionedHash, outputs[BLOB_Z_WORD * 32:BLOB_Z_WORD * 32 + 64], blobCommitment, blobOpening);
        if (risc0Verifier != address(0)) {
            IRiscZeroVerifier(risc0Verifier).verify(risc0Seal, risc0ImageId, sha256(expected));
        }
        if (sp1Verifier != address(0)) {
            ISP1Verifier(sp1Verifier).verifyProof(sp1VKey, expected, sp1Proof);
        }
        lastVerifiedBatch = batch;
        emit BatchVerified(batch);
    }

    /// @notice The public outputs of `batch` rebuilt from its commitment, with the blob
    /// evaluation point and value `outputs` claims; reverts naming the first word that differs.
    function _checkOutputs(uint256 batch, bytes calldata outputs) private view returns (bytes memory expected) {
        require(outputs.length == PUBLIC_OUTPUT_BYTES, "OnChainProposer: public outputs are not 13 words");
        uint256 z = BLOB_Z_WORD * 32;
        expected = publicOutputs(batch, bytes32(outputs[z:z + 32]), bytes32(outputs[z + 32:z + 64]));
        for (uint256 word; word < OUTPUT_WORDS; ++word) {
            if (bytes32(outputs[word * 32:word * 32 + 32]) != _word(expected, word)) {
                revert(string.concat("OnChainProposer: public output differs: ", wordName(word)));
            }
        }
    }

    /// @notice Checks with the point-evaluation precompile that the blob with `versionedHash`
    /// evaluates to `y` at `z` (`zy`: the two words).
    function _checkBlob(bytes32 versionedHash, bytes calldata zy, bytes calldata commitment, bytes calldata opening)
        private
        view
    {
        (bool ok, bytes memory result) =
            POINT_EVALUATION.staticcall(abi.encodePacked(versionedHash, zy, commitment, opening));
        require(ok && result.length == 64, "OnChainProposer: the blob does not evaluate to the proven value");
    }

    /// @notice The withdrawals root of `batch` once verified; zero before.
    function verifiedWithdrawalsRoot(uint256 batch) external view returns (bytes32) {
        if (batch == 0 || batch > lastVerifiedBatch) {
            return bytes32(0);
        }
        return batches[batch].withdrawalsRoot;
    }

    /// @notice The name of public output word `word` (docs/l2.md).
    function wordName(uint256 word) public pure returns (string memory) {
        string[13] memory names = [
            "initial state root",
            "final state root",
            "parent block hash",
            "last block hash",
            "chain id",
            "chain config hash",
            "transaction count",
            "batch kind",
            "withdrawals root",
            "deposits hash",
            "state diff hash",
            "blob evaluation point",
            "blob evaluation"
        ];
        return names[word];
    }

    function _word(bytes memory data, uint256 word) private pure returns (bytes32 value) {
        assembly {
            value := mload(add(add(data, 32), mul(word, 32)))
        }
    }
}
