//! BN254 for the precompiles 0x06–0x08 (bp-bn254's curve and pairing code) on SP1's BN254 field
//! syscalls: each Fp and Fp2 product, sum and difference is one call whose output the circuit
//! range-checks below p, so equal words are equal field elements. Inverses come from the
//! executor's hook and are checked with one product.

use bp_bn254::{Backend, Words, P};
use sp1_zkvm::syscalls::{
    syscall_bn254_fp2_addmod, syscall_bn254_fp2_mulmod, syscall_bn254_fp2_submod, syscall_bn254_fp_addmod,
    syscall_bn254_fp_mulmod, syscall_bn254_fp_submod,
};

use crate::hooks;
use crate::limbs::Limbs;

const ONE: Words = [1, 0, 0, 0, 0, 0, 0, 0];

/// Arithmetic modulo BN254's base field prime on SP1's syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sp1 {}

/// One of the field syscalls: the first operand is replaced by the result.
type Operation = extern "C" fn(*mut u64, *const u64);

fn fp(operation: Operation, a: &Words, b: &Words) -> Words {
    let (mut a, b) = (Limbs::from_words(a), Limbs::from_words(b));
    operation(a.0.as_mut_ptr(), b.0.as_ptr());
    a.words()
}

fn fp2(operation: Operation, a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
    let (mut a, b) = (Limbs::pair(&a[0], &a[1]), Limbs::pair(&b[0], &b[1]));
    operation(a.0.as_mut_ptr(), b.0.as_ptr());
    a.halves()
}

impl Backend for Sp1 {
    fn add(a: &Words, b: &Words) -> Words {
        fp(syscall_bn254_fp_addmod, a, b)
    }

    fn sub(a: &Words, b: &Words) -> Words {
        fp(syscall_bn254_fp_submod, a, b)
    }

    fn mul(a: &Words, b: &Words) -> Words {
        fp(syscall_bn254_fp_mulmod, a, b)
    }

    fn inv(a: &Words) -> Words {
        let inverse = hooks::inverse(a, &P);
        let below_p = inverse.iter().rev().lt(P.iter().rev());
        assert!(below_p && Self::mul(a, &inverse) == ONE, "the inverse hook answered wrongly");
        inverse
    }

    /// Fp2 = Fp[u]/(u² + 1), the syscall's own ring.
    fn fp2_mul(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        fp2(syscall_bn254_fp2_mulmod, a, b)
    }

    fn fp2_add(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        fp2(syscall_bn254_fp2_addmod, a, b)
    }

    fn fp2_sub(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        fp2(syscall_bn254_fp2_submod, a, b)
    }
}
