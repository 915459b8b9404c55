//! secp256k1 (bp-secp256k1's recovery and verification) on SP1's syscalls: curve additions and
//! doublings on the secp256k1 precompiles, products modulo p and n on the 256-bit modular
//! multiplication precompile (whose output the circuit range-checks below the modulus), and
//! inverses and square roots from the executor's hooks, each checked with a product.

use bp_secp256k1::{less, Backend, Words, NON_RESIDUE, P};
use sp1_zkvm::syscalls::{syscall_secp256k1_add, syscall_secp256k1_double};

use crate::hooks;
use crate::limbs::{self, Limbs};

const ONE: Words = [1, 0, 0, 0, 0, 0, 0, 0];

/// secp256k1's arithmetic on SP1's precompiles.
#[derive(Debug)]
pub(crate) enum Sp1 {}

/// `x ‖ y` in the precompiles' layout, or the identity (which they cannot take).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Point {
    coordinates: Limbs<8>,
    identity: bool,
}

impl Backend for Sp1 {
    type Point = Point;

    fn identity() -> Point {
        Point { coordinates: Limbs([0; 8]), identity: true }
    }

    fn point(x: &Words, y: &Words) -> Point {
        Point { coordinates: Limbs::pair(x, y), identity: false }
    }

    fn coordinates(point: &Point) -> Option<[Words; 2]> {
        (!point.identity).then(|| point.coordinates.halves())
    }

    /// The precompile adds two points with different x only: the rest are handled here.
    fn add_points(a: &Point, b: &Point, sum: &mut Point) {
        if a.identity {
            *sum = *b;
        } else if b.identity {
            *sum = *a;
        } else if a.coordinates == b.coordinates {
            Self::double(a, sum);
        } else if a.coordinates.0[..4] == b.coordinates.0[..4] {
            // Same x, other y: b = −a.
            *sum = Self::identity();
        } else {
            *sum = *a;
            // Both eight-byte-aligned, points of the curve with different x; the precompile
            // writes a + b over the first (and only reads the second, whatever its pointer
            // type says).
            syscall_secp256k1_add(&mut sum.coordinates.0, (&b.coordinates.0 as *const [u64; 8]).cast_mut());
        }
    }

    /// secp256k1 has no point of order two (its order is prime), so a point's double is never
    /// the identity.
    fn double(a: &Point, doubled: &mut Point) {
        *doubled = *a;
        if !a.identity {
            syscall_secp256k1_double(&mut doubled.coordinates.0);
        }
    }

    fn mul(a: &Words, b: &Words, m: &Words) -> Words {
        limbs::mul_mod(a, b, m)
    }

    fn inv(a: &Words, m: &Words) -> Words {
        let inverse = hooks::inverse(a, m);
        assert!(less(&inverse, m) && Self::mul(a, &inverse, m) == ONE, "the inverse hook answered wrongly");
        inverse
    }

    fn sqrt(a: &Words) -> Option<Words> {
        match hooks::sqrt(a, &P, &NON_RESIDUE) {
            Ok(root) => {
                assert!(less(&root, &P) && Self::mul(&root, &root, &P) == *a, "the square root hook answered wrongly");
                Some(root)
            }
            Err(root) => {
                // root² = 3a ≠ 0 with 3 a non-residue: a is none (0 is a square, its own root).
                let proof = Self::mul(&NON_RESIDUE, a, &P);
                assert!(*a != [0; 8] && Self::mul(&root, &root, &P) == proof, "the square root hook answered wrongly");
                None
            }
        }
    }
}
