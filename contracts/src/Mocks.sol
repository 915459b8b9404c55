// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

import {IRiscZeroVerifier, ISP1Verifier} from "./OnChainProposer.sol";

/// @title A RISC Zero verifier for tests: accepts or rejects every proof, as told.
contract MockRisc0Verifier is IRiscZeroVerifier {
    /// @notice Whether proofs pass.
    bool public accept;

    constructor(bool _accept) {
        accept = _accept;
    }

    /// @inheritdoc IRiscZeroVerifier
    function verify(bytes calldata, bytes32, bytes32) external view {
        require(accept, "MockRisc0Verifier: proof rejected");
    }
}

/// @title An SP1 verifier for tests: accepts or rejects every proof, as told.
contract MockSp1Verifier is ISP1Verifier {
    /// @notice Whether proofs pass.
    bool public accept;

    constructor(bool _accept) {
        accept = _accept;
    }

    /// @inheritdoc ISP1Verifier
    function verifyProof(bytes32, bytes calldata, bytes calldata) external view {
        require(accept, "MockSp1Verifier: proof rejected");
    }
}

/// @title A contract that deposits, to show that contracts deposit under an aliased address.
contract DepositingContract {
    /// @notice Deposits `msg.value` through `bridge`.
    function depositThrough(address bridge, address to, uint256 gasLimit) external payable {
        (bool ok, bytes memory reason) = bridge.call{value: msg.value}(
            abi.encodeWithSignature("deposit(address,uint256,bytes)", to, gasLimit, bytes(""))
        );
        if (!ok) {
            assembly {
                revert(add(reason, 32), mload(reason))
            }
        }
    }
}
