//! The devnet's contracts, as EVM bytecode written out by hand (each listing is in docs/l2.md).

use alloy_primitives::{address, b256, hex, Address, Bytes, B256};

pub use bp_input::MESSENGER_ADDRESS;

/// The token predeploy.
pub const TOKEN_ADDRESS: Address = address!("0x0000000000000000000000000000000000001000");
/// A storage contract predeploy: `sstore(calldata[0..32], calldata[32..64])`.
pub const STORE_ADDRESS: Address = address!("0x0000000000000000000000000000000000001001");

alloy_sol_types::sol!(
    #[allow(missing_docs)]
    #[derive(Debug)]
    L2Bridge,
    "../../contracts/out/L2Bridge.json"
);

/// The L2 bridge predeploy's runtime code, from the compiled contract (`contracts/src/L2Bridge.sol`).
pub fn l2_bridge_code() -> Bytes {
    L2Bridge::DEPLOYED_BYTECODE.clone()
}

/// `keccak256("Transfer(address,address,uint256)")`.
pub const TRANSFER_TOPIC: B256 = b256!("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");

/// The messenger: `id = sload(0); sstore(0, id + 1); log4(L1Message, caller, calldata[0..32], id)`.
/// The value sent stays in it (burned on L2, released on L1 by a claim).
pub fn messenger_code() -> Bytes {
    let mut code = hex!("5f54806001015f555f35337f").to_vec();
    code.extend_from_slice(bp_program::l2::L1_MESSAGE_TOPIC.as_slice());
    code.extend_from_slice(&hex!("5f5fa400"));
    code.into()
}

/// An ERC-20-style token reduced to `transfer(address to, uint256 amount)` (the selector is not
/// checked): balances live at slot `uint(holder)`, a short balance reverts, a transfer logs
/// `Transfer(from, to, amount)` and returns `true`.
pub fn token_code() -> Bytes {
    let mut code = hex!("602435335481811060" "4c" "578190033355600435805482019055" "5f52600435337f").to_vec();
    code.extend_from_slice(TRANSFER_TOPIC.as_slice());
    code.extend_from_slice(&hex!("60205fa360015f5260205ff35b5f5ffd"));
    code.into()
}

/// `sstore(calldata[0..32], calldata[32..64])`: writes a slot (a zero value clears it).
pub fn store_code() -> Bytes {
    Bytes::from_static(&hex!("6020355f355500"))
}

/// Init code that deploys `runtime` (shorter than 256 bytes).
pub fn deploy_code(runtime: &[u8]) -> Bytes {
    let len = u8::try_from(runtime.len()).expect("runtime under 256 bytes");
    let mut code = vec![0x60, len, 0x60, 0x0a, 0x5f, 0x39, 0x60, len, 0x5f, 0xf3];
    code.extend_from_slice(runtime);
    code.into()
}

/// Init code that self-destructs at once, sending its value back (EIP-6780: the account is
/// created and removed in the same transaction).
pub fn self_destruct_code() -> Bytes {
    Bytes::from_static(&hex!("33ff"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_jump_target_is_its_jumpdest() {
        let code = token_code();
        assert_eq!(code[0x08], 0x60);
        let target = code[0x09] as usize;
        assert_eq!(code[target], 0x5b, "JUMPDEST at {target:#x}");
        assert_eq!(code.len(), target + 4);
    }

    #[test]
    fn deploy_code_copies_the_runtime() {
        let code = deploy_code(&store_code());
        assert_eq!(code.len(), 10 + store_code().len());
        assert_eq!(&code[10..], store_code().as_ref());
    }
}
