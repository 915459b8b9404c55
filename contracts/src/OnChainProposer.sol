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
}

/// @title Commits the L2's batches with their state-diff blobs and verifies their proofs.
/// @notice Batch 0 is the L2's genesis. The committer commits batch n+1 after batch n, as an
/// EIP-4844 transaction carrying its blob; the proof sender verifies the next unverified batch,
/// whose public outputs (docs/l2.md) are rebuilt here from what was committed. A batch is final
/// once verified.
contract OnChainProposer {
    /// @notice What a committed batch claims.
    struct Batch {
        bytes32 stateRoot;
        bytes32 lastBlockHash;
        bytes32 withdrawalsRoot;
        bytes32 depositsHash;
        bytes32 blobVersionedHash;
        uint64 txCount;
    }

    /// @notice Who may change the verifiers.
    address public immutable owner;
    /// @notice Who commits batches.
    address public immutable committer;
    /// @notice Who sends proofs (another account than the committer).
    address public immutable proofSender;
    /// @notice The bridge whose deposits batches consume.
    IDepositQueue public immutable bridge;
    /// @notice The L2's chain id (public output word 4).
    uint256 public immutable chainId;
    /// @notice The hash of the L2's chain configuration (public output word 5).
    bytes32 public immutable chainConfigHash;

    /// @notice RISC Zero's verifier; zero: RISC Zero proofs are not required.
    address public risc0Verifier;
    /// @notice The guest's image id.
    bytes32 public risc0ImageId;
    /// @notice SP1's verifier; zero: SP1 proofs are not required.
    address public sp1Verifier;
    /// @notice The guest's verifying key hash.
    bytes32 public sp1VKey;

    /// @notice The newest committed batch.
    uint256 public lastCommittedBatch;
    /// @notice The newest verified batch.
    uint256 public lastVerifiedBatch;
    /// @notice Every committed batch (and the genesis, batch 0).
    mapping(uint256 => Batch) public batches;

    /// @notice Public output words (docs/l2.md): 13 words of 32 bytes.
    uint256 public constant PUBLIC_OUTPUT_BYTES = 13 * 32;
    /// @notice The batch kind word of an L2 batch.
    uint256 public constant BATCH_KIND_L2 = 1;
    address internal constant POINT_EVALUATION = address(0x0a);

    /// @notice A batch was committed with its blob.
    event BatchCommitted(uint256 indexed batch, bytes32 stateRoot, bytes32 blobVersionedHash);
    /// @notice A batch was verified.
    event BatchVerified(uint256 indexed batch);
    /// @notice A verifier was set (zero: that proof is no longer required).
    event VerifierSet(string kind, address verifier, bytes32 programId);

    constructor(
        address _committer,
        address _proofSender,
        address _bridge,
        uint256 _chainId,
        bytes32 _chainConfigHash,
        bytes32 genesisStateRoot,
        bytes32 genesisBlockHash
    ) {
        require(_committer != _proofSender, "OnChainProposer: committer and proof sender must differ");
        owner = msg.sender;
        committer = _committer;
        proofSender = _proofSender;
        bridge = IDepositQueue(_bridge);
        chainId = _chainId;
        chainConfigHash = _chainConfigHash;
        batches[0].stateRoot = genesisStateRoot;
        batches[0].lastBlockHash = genesisBlockHash;
    }

    /// @notice Requires RISC Zero proofs of `imageId` from now on (zero verifier: no longer).
    function setRisc0Verifier(address verifier, bytes32 imageId) external {
        require(msg.sender == owner, "OnChainProposer: not the owner");
        risc0Verifier = verifier;
        risc0ImageId = imageId;
        emit VerifierSet("risc0", verifier, imageId);
    }

    /// @notice Requires SP1 proofs of `vkey` from now on (zero verifier: no longer).
    function setSp1Verifier(address verifier, bytes32 vkey) external {
        require(msg.sender == owner, "OnChainProposer: not the owner");
        sp1Verifier = verifier;
        sp1VKey = vkey;
        emit VerifierSet("sp1", verifier, vkey);
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
        bridge.consumeDeposits(depositCount, depositsHash);
        batches[batch] = Batch(stateRoot, lastBlockHash, withdrawalsRoot, depositsHash, versionedHash, txCount);
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
        _checkBlob(batches[batch].blobVersionedHash, outputs[352:416], blobCommitment, blobOpening);
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
        expected = publicOutputs(batch, bytes32(outputs[352:384]), bytes32(outputs[384:416]));
        for (uint256 word; word < 13; ++word) {
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
