// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

/// @notice What the bridge asks the proposer: the withdrawals root of a verified batch.
interface IWithdrawalRoots {
    /// @return The batch's withdrawals root, or zero if the batch is not verified.
    function verifiedWithdrawalsRoot(uint256 batch) external view returns (bytes32);
}

/// @title The L1 side of the L2's deposits and withdrawals.
/// @notice A deposit is queued under a hash the L2 program computes from the same fields
/// (docs/l2.md), and consumed exactly once, in order, by the batch that includes it. A
/// withdrawal is paid exactly once, from a verified batch, to the receiver and amount the L2
/// bridge bound into its message.
contract CommonBridge {
    /// @notice The L2's chain id (part of every deposit hash).
    uint256 public immutable l2ChainId;
    /// @notice The L2 bridge predeploy: only its messages are withdrawals of ether.
    address public immutable l2Bridge;
    /// @notice The largest deposit gas limit: the L2 block gas limit.
    uint256 public immutable maxDepositGas;
    /// @notice Who may set the proposer, once.
    address public immutable owner;
    /// @notice The OnChainProposer: it consumes deposits and knows verified batches.
    address public proposer;

    /// @notice Deposits carry at most this much call data.
    uint256 public constant MAX_DEPOSIT_DATA = 32768;
    /// @notice L2 gas a deposit gets without paying for it on L1 (a transfer and a small call).
    uint256 public constant FREE_DEPOSIT_GAS = 100_000;
    /// @notice A deposit burns one unit of L1 gas for every this many units of L2 gas it asks for
    /// beyond `FREE_DEPOSIT_GAS`: L2 block space bought through the bridge, which the sequencer
    /// must include and which pays no L2 fee, is paid for in L1 gas (docs/l1.md).
    uint256 public constant DEPOSIT_GAS_DIVISOR = 32;
    /// @notice A contract depositing from L1 sends on L2 from its address plus this offset, so it
    /// cannot act as whatever lives at its own address on L2.
    uint160 public constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);

    /// @notice Every deposit's hash, by deposit number.
    bytes32[] public depositHashes;
    /// @notice How many deposits committed batches have consumed (in order).
    uint256 public depositsConsumed;
    /// @notice Withdrawals paid, by message id.
    mapping(uint256 => bool) public claimed;

    /// @notice Deposits `first..first+count` are pending again: the batches that consumed them
    /// were reverted.
    event DepositsRestored(uint256 first, uint256 count);
    /// @notice A deposit was queued for the L2.
    event DepositInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 depositHash
    );
    /// @notice A withdrawal was paid.
    event WithdrawalClaimed(uint256 indexed messageId, address indexed receiver, uint256 amount, uint256 batch);

    constructor(uint256 _l2ChainId, address _l2Bridge, uint256 _maxDepositGas) {
        l2ChainId = _l2ChainId;
        l2Bridge = _l2Bridge;
        maxDepositGas = _maxDepositGas;
        owner = msg.sender;
    }

    /// @notice Names the proposer; once.
    function setProposer(address _proposer) external {
        require(msg.sender == owner, "CommonBridge: not the owner");
        require(proposer == address(0), "CommonBridge: proposer already set");
        proposer = _proposer;
    }

    /// @notice Sends `msg.value` to the L2 and calls `to` there with `data` and `gasLimit` (the
    /// ether is minted to the sender on L2 first). Refuses what the L2 could not include: a value
    /// of 2^128 or more, a gas limit above the L2 block's or below the call's intrinsic gas. Burns
    /// `depositGasCost(gasLimit)` L1 gas.
    function deposit(address to, uint256 gasLimit, bytes calldata data) external payable returns (bytes32) {
        require(msg.value < 2 ** 128, "CommonBridge: value of 2^128 or more");
        require(data.length <= MAX_DEPOSIT_DATA, "CommonBridge: data too long");
        require(gasLimit <= maxDepositGas, "CommonBridge: gas limit above the L2 block gas limit");
        require(gasLimit >= intrinsicGas(data), "CommonBridge: gas limit below the intrinsic gas");
        _burnGas(depositGasCost(gasLimit));
        address from = msg.sender;
        if (msg.sender != tx.origin) {
            unchecked {
                from = address(uint160(msg.sender) + ALIAS_OFFSET);
            }
        }
        uint256 nonce = depositHashes.length;
        bytes32 depositHash =
            keccak256(abi.encodePacked(l2ChainId, from, to, nonce, msg.value, gasLimit, keccak256(data)));
        depositHashes.push(depositHash);
        emit DepositInitiated(nonce, from, to, msg.value, gasLimit, data, depositHash);
        return depositHash;
    }

    /// @notice The L1 gas a deposit with `gasLimit` burns: one per `DEPOSIT_GAS_DIVISOR` units
    /// of L2 gas beyond `FREE_DEPOSIT_GAS`.
    function depositGasCost(uint256 gasLimit) public pure returns (uint256) {
        return gasLimit > FREE_DEPOSIT_GAS ? (gasLimit - FREE_DEPOSIT_GAS) / DEPOSIT_GAS_DIVISOR : 0;
    }

    /// @notice Spends `amount` gas doing nothing (as Optimism's deposits once paid for the L2
    /// gas they bought); no ether changes hands.
    function _burnGas(uint256 amount) private view {
        uint256 start = gasleft();
        while (start - gasleft() < amount) {}
    }

    /// @notice The intrinsic gas of a call with `data` on the L2 (Prague): EIP-7623's floor,
    /// 21000 + 10 per token (a zero byte one token, any other four), which is never below the
    /// standard 21000 + 4 per zero and 16 per other byte.
    function intrinsicGas(bytes calldata data) public pure returns (uint256) {
        uint256 tokens;
        for (uint256 i; i < data.length; ++i) {
            tokens += data[i] == 0 ? 1 : 4;
        }
        return 21000 + 10 * tokens;
    }

    /// @notice Deposits queued and not yet consumed.
    function pendingDeposits() external view returns (uint256) {
        return depositHashes.length - depositsConsumed;
    }

    /// @notice The deposits hash (the program's) of the next `count` pending deposits: zero for
    /// none, else the 2-byte count followed by the last 30 bytes of keccak256 of their hashes.
    function depositsHash(uint256 count) public view returns (bytes32) {
        require(count <= depositHashes.length - depositsConsumed, "CommonBridge: fewer deposits pending");
        require(count <= 0xffff, "CommonBridge: more than 65535 deposits");
        if (count == 0) {
            return bytes32(0);
        }
        bytes memory all = new bytes(32 * count);
        for (uint256 i; i < count; ++i) {
            bytes32 h = depositHashes[depositsConsumed + i];
            assembly {
                mstore(add(add(all, 32), mul(i, 32)), h)
            }
        }
        uint256 digest = uint256(keccak256(all));
        return bytes32((count << 240) | (digest & ((1 << 240) - 1)));
    }

    /// @notice Consumes the next `count` deposits, which a committed batch includes; their hash
    /// must be `expected`, the batch's deposits hash.
    function consumeDeposits(uint256 count, bytes32 expected) external {
        require(msg.sender == proposer, "CommonBridge: not the proposer");
        require(depositsHash(count) == expected, "CommonBridge: deposits hash differs from the pending deposits");
        depositsConsumed += count;
    }

    /// @notice Makes the last `count` consumed deposits pending again: the proposer reverted the
    /// batches that consumed them, and the next batches include them anew, in the same order.
    function restoreDeposits(uint256 count) external {
        require(msg.sender == proposer, "CommonBridge: not the proposer");
        require(count <= depositsConsumed, "CommonBridge: fewer deposits consumed");
        depositsConsumed -= count;
        emit DepositsRestored(depositsConsumed, count);
    }

    /// @notice Pays withdrawal `messageId` of `amount` to `receiver`, proven by a sorted-pair
    /// Merkle `proof` against verified batch `batch`'s withdrawals root. Once per message id.
    function claimWithdrawal(uint256 batch, uint256 messageId, address receiver, uint256 amount, bytes32[] calldata proof)
        external
    {
        require(!claimed[messageId], "CommonBridge: already claimed");
        bytes32 root = IWithdrawalRoots(proposer).verifiedWithdrawalsRoot(batch);
        require(root != bytes32(0), "CommonBridge: batch not verified");
        bytes32 dataHash = keccak256(abi.encodePacked(receiver, amount));
        bytes32 leaf = keccak256(abi.encodePacked(l2Bridge, dataHash, messageId));
        require(verifyMerkleProof(proof, root, leaf), "CommonBridge: invalid withdrawal proof");
        claimed[messageId] = true;
        (bool ok,) = receiver.call{value: amount}("");
        require(ok, "CommonBridge: payment failed");
        emit WithdrawalClaimed(messageId, receiver, amount, batch);
    }

    /// @notice Whether `proof` leads from `leaf` to `root`, each parent keccak256(min ‖ max).
    function verifyMerkleProof(bytes32[] calldata proof, bytes32 root, bytes32 leaf) public pure returns (bool) {
        bytes32 node = leaf;
        for (uint256 i; i < proof.length; ++i) {
            bytes32 sibling = proof[i];
            node = node < sibling
                ? keccak256(abi.encodePacked(node, sibling))
                : keccak256(abi.encodePacked(sibling, node));
        }
        return node == root;
    }
}
