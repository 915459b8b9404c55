//! SWAP1 to SWAP16 by word copies.
//!
//! revm swaps two stack items with `core::ptr::swap_nonoverlapping`, which works through byte
//! pointers: on the zkVMs' RISC-V targets, which have no fast unaligned access, that is 32 byte
//! loads and 32 byte stores each way (140 instructions for SWAP1, whose 2.1 M cycles were the
//! third-largest cost of RISC Zero's run of mainnet block 18884864). Exchanging the aligned
//! limbs as values is eight word loads and stores each way (43 instructions); that block took
//! 3.5 % fewer cycles on RISC Zero, 6.5 % on SP1. The semantics are revm's: the top item and the
//! one N below it change places, or the stack underflows.

use crate::evm::ProgramEvm;
use alloy_evm::{eth::EthEvmContext, Database, EthEvm};
use revm::{
    bytecode::opcode::SWAP1,
    handler::instructions::EthInstructions,
    interpreter::{interpreter::EthInterpreter, Host, Instruction, InstructionContext, InstructionResult},
};

/// `evm` as the program's EVM, with SWAP1 to SWAP16 replaced by [`swap`], its instruction and
/// static gas tables then changed by `adjust` (a fork's own rules), and its inspector off.
pub(crate) fn with_word_swaps<DB: Database, I, P>(
    evm: EthEvm<DB, I, P>,
    adjust: impl FnOnce(&mut EthInstructions<EthInterpreter, EthEvmContext<DB>>),
) -> ProgramEvm<DB, I, P> {
    let mut inner = evm.into_inner();
    let swaps = word_swaps::<EthEvmContext<DB>>();
    inner.instruction.instruction_table_mut()[usize::from(SWAP1)..][..swaps.len()].copy_from_slice(&swaps);
    adjust(&mut inner.instruction);
    ProgramEvm::new(inner)
}

/// [`swap`] for SWAP1 to SWAP16, in opcode order.
fn word_swaps<H: Host>() -> [Instruction<EthInterpreter, H>; 16] {
    [
        Instruction::new(swap::<1, _>),
        Instruction::new(swap::<2, _>),
        Instruction::new(swap::<3, _>),
        Instruction::new(swap::<4, _>),
        Instruction::new(swap::<5, _>),
        Instruction::new(swap::<6, _>),
        Instruction::new(swap::<7, _>),
        Instruction::new(swap::<8, _>),
        Instruction::new(swap::<9, _>),
        Instruction::new(swap::<10, _>),
        Instruction::new(swap::<11, _>),
        Instruction::new(swap::<12, _>),
        Instruction::new(swap::<13, _>),
        Instruction::new(swap::<14, _>),
        Instruction::new(swap::<15, _>),
        Instruction::new(swap::<16, _>),
    ]
}

/// SWAP`N`: exchanges the top stack item with the one `N` below it. Static gas is charged by
/// the interpreter's loop, as for revm's own.
fn swap<const N: usize, H: ?Sized>(
    context: InstructionContext<'_, H, EthInterpreter>,
) -> Result<(), InstructionResult> {
    let stack = context.interpreter.stack.data_mut();
    let Some(other) = stack.len().checked_sub(N + 1) else {
        return Err(InstructionResult::StackUnderflow);
    };
    // `other + N` is the top: the last item.
    let (below, top) = stack.split_at_mut(other + N);
    let (below, top) = (&mut below[other], &mut top[0]);
    // SAFETY: every limb pattern is a valid `U256` (256 bits are exactly four limbs).
    let (below, top) = unsafe { (below.as_limbs_mut(), top.as_limbs_mut()) };
    // Limb by limb: a whole `U256` held while the other is copied does not fit the registers.
    for (below, top) in below.iter_mut().zip(top) {
        (*below, *top) = (*top, *below);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm::{
        context_interface::host::DummyHost,
        interpreter::{instruction_table, InstructionTable, Interpreter},
        primitives::U256,
    };

    /// Item `index` of a test stack: every limb differs, so a partial swap would show.
    fn item(index: usize) -> U256 {
        U256::from_limbs([1, 2, 3, 4].map(|limb| limb << 16 | index as u64))
    }

    /// Runs opcode `op` of `table` on a stack of `depth` items; the result and the stack after.
    fn run(
        table: &InstructionTable<EthInterpreter, DummyHost>,
        op: u8,
        depth: usize,
    ) -> (Result<(), InstructionResult>, Vec<U256>) {
        let mut interpreter = Interpreter::<EthInterpreter>::default();
        for index in 0..depth {
            assert!(interpreter.stack.push(item(index)));
        }
        let context = InstructionContext { interpreter: &mut interpreter, host: &mut DummyHost::default() };
        let result = table[usize::from(op)].execute(context);
        (result, interpreter.stack.data().clone())
    }

    #[test]
    fn every_swap_exchanges_as_revms_does_and_underflows_as_it_does() {
        let revms = instruction_table::<EthInterpreter, DummyHost>();
        let mut ours = revms;
        ours[usize::from(SWAP1)..][..16].copy_from_slice(&word_swaps());
        for n in 1..=16 {
            let op = SWAP1 + n as u8 - 1;
            for depth in 0..=18 {
                let (result, stack) = run(&ours, op, depth);
                assert_eq!((result, stack.clone()), run(&revms, op, depth), "SWAP{n}, {depth} items");
                let mut expected: Vec<U256> = (0..depth).map(item).collect();
                if n < depth {
                    assert_eq!(result, Ok(()), "SWAP{n}, {depth} items");
                    expected.swap(depth - 1, depth - 1 - n);
                } else {
                    assert_eq!(result, Err(InstructionResult::StackUnderflow), "SWAP{n}, {depth} items");
                }
                assert_eq!(stack, expected, "SWAP{n}, {depth} items");
            }
        }
    }
}
