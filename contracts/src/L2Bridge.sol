// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

/// @title The L2 side of ether withdrawals (an L2 predeploy).
/// @notice Binds the receiver and the amount into the message it sends through the messenger
/// predeploy, so an L1 claim pays exactly that amount to exactly that receiver (the L1 bridge
/// honours messages from this contract only). The ether stays here: it is burnt on the L2 and
/// released from the L1 bridge.
contract L2Bridge {
    /// @notice The messenger predeploy, whose `L1Message` logs are the batch's withdrawals.
    address public constant MESSENGER = 0x000000000000000000000000000000000000FFFE;

    /// @notice A withdrawal of `amount` to `receiver` on L1 was sent as message `dataHash`.
    event WithdrawalInitiated(address indexed from, address indexed receiver, uint256 amount, bytes32 dataHash);

    /// @notice Withdraws `msg.value` to `receiver` on L1.
    function withdraw(address receiver) external payable {
        require(msg.value > 0, "L2Bridge: nothing to withdraw");
        bytes32 dataHash = keccak256(abi.encodePacked(receiver, msg.value));
        (bool ok,) = MESSENGER.call(abi.encode(dataHash));
        require(ok, "L2Bridge: the messenger failed");
        emit WithdrawalInitiated(msg.sender, receiver, msg.value, dataHash);
    }
}
