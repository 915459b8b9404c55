//! secp256k1 public key recovery ([`recover`]) and ECDSA verification ([`verify`]) for
//! transaction senders, EIP-7702 authorities and the `ecrecover` precompile, written over a
//! pluggable [`Backend`] for modular arithmetic and curve point operations.
//!
//! Why not k256, which alloy and revm use without the C library: in a zkVM k256's field
//! arithmetic costs millions of instructions a signature, while RISC Zero's bigint2 accelerator
//! and SP1's syscalls do a 256-bit modular product, or a curve addition or doubling, in one call
//! whose result the circuit checks. Each guest supplies a [`Backend`] on its accelerator; the
//! tests run the same code on a software backend against k256.
//!
//! Numbers are `[u32; 8]`, least significant word first (the accelerators' layout).
//!
//! Recovery follows SEC 1 v2 §4.1.6: R = (x, y) with x = r (+ n when the recovery id says the
//! x coordinate overflowed), y the square root of x³ + 7 with the recovery id's parity, then
//! Q = r⁻¹ (s R − z G). A high s needs no normalising: (r, n − s) with the other parity names
//! the same Q.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![cfg_attr(not(test), no_std)]

#[cfg(test)]
mod tests;

/// A 256-bit number, least significant word first.
pub type Words = [u32; 8];

/// The base field's prime p = 2²⁵⁶ − 2³² − 977.
pub const P: Words =
    [0xFFFF_FC2F, 0xFFFF_FFFE, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF];
/// The group order n.
pub const N: Words =
    [0xD036_4141, 0xBFD2_5E8C, 0xAF48_A03B, 0xBAAE_DCE6, 0xFFFF_FFFE, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF];
/// The generator's coordinates.
pub const G_X: Words =
    [0x16F8_1798, 0x59F2_815B, 0x2DCE_28D9, 0x029B_FCDB, 0xCE87_0B07, 0x55A0_6295, 0xF9DC_BBAC, 0x79BE_667E];
/// See [`G_X`].
pub const G_Y: Words =
    [0xFB10_D4B8, 0x9C47_D08F, 0xA685_5419, 0xFD17_B448, 0x0E11_08A8, 0x5DA4_FBFC, 0x26A3_C465, 0x483A_DA77];
/// 3, a quadratic non-residue modulo p: a square root of 3a shows that a has none.
pub const NON_RESIDUE: Words = [3, 0, 0, 0, 0, 0, 0, 0];
const ZERO: Words = [0; 8];
const SEVEN: Words = [7, 0, 0, 0, 0, 0, 0, 0];

// The GLV endomorphism φ(x, y) = (βx, y) = [λ](x, y) and the split of a scalar k into
// k₁ + k₂λ with |k₁|, |k₂| < 2¹²⁸ (libsecp256k1's `scalar_split_lambda` constants: g₁, g₂ are
// round(2³⁸⁴ b / n) for the lattice basis b, and −b₁, −b₂ its coefficients).
const LAMBDA: Words =
    [0x1B23_BD72, 0xDF02_967C, 0x2081_6678, 0x122E_22EA, 0x8812_645A, 0xA526_1C02, 0xC05C_30E0, 0x5363_AD4C];
const BETA: Words =
    [0x7195_01EE, 0xC139_6C28, 0x12F5_8995, 0x9CF0_4975, 0xAC34_34E9, 0x6E64_479E, 0x657C_0710, 0x7AE9_6A2B];
const G1: Words =
    [0x45DB_B031, 0xE893_209A, 0x71E8_CA7F, 0x3DAA_8A14, 0x9284_EB15, 0xE86C_90E4, 0xA7D4_6BCD, 0x3086_D221];
const G2: Words =
    [0x8AC4_7F71, 0x1571_B4AE, 0x9DF5_06C6, 0x2212_08AC, 0x0ABF_E4C4, 0x6F54_7FA9, 0x010E_8828, 0xE443_7ED6];
const MINUS_B1: Words = [0x0ABF_E4C3, 0x6F54_7FA9, 0x010E_8828, 0xE443_7ED6, 0, 0, 0, 0];
const MINUS_B2: Words =
    [0x3DB1_562C, 0xD765_CDA8, 0x0774_346D, 0x8A28_0AC5, 0xFFFF_FFFE, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF];
/// (n − 1) / 2: a scalar above it is used negated, with the point negated.
const N_HALF: Words =
    [0x681B_20A0, 0xDFE9_2F46, 0x57A4_501D, 0x5D57_6E73, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0x7FFF_FFFF];

/// Arithmetic modulo p and n, and the curve's group law, as a zkVM's accelerator does them.
///
/// Every result is reduced below its modulus (an accelerator's wrapper checks it), except
/// [`Backend::mul_unreduced`]'s, so equal words are equal residues.
pub trait Backend {
    /// A point of the curve or the identity, in the accelerator's layout.
    type Point: Copy;

    /// The identity.
    fn identity() -> Self::Point;
    /// The point (x, y), which the caller has checked lies on the curve.
    fn point(x: &Words, y: &Words) -> Self::Point;
    /// (x, y), or `None` for the identity.
    fn coordinates(point: &Self::Point) -> Option<[Words; 2]>;
    /// a + b into `sum`, for any two points: the identity, a = b and a = −b included. (Results
    /// go to a place the caller names: a point is some 70 bytes, and a returned one is copied.)
    fn add_points(a: &Self::Point, b: &Self::Point, sum: &mut Self::Point);
    /// 2a into `doubled`.
    fn double(a: &Self::Point, doubled: &mut Self::Point);

    /// a · b mod m, for m = [`P`] or [`N`].
    fn mul(a: &Words, b: &Words, m: &Words) -> Words;

    /// a · b mod m, congruent to it but possibly not below m: for chains of products that
    /// reduce once at the end. The default is [`Backend::mul`].
    fn mul_unreduced(a: &Words, b: &Words, m: &Words) -> Words {
        Self::mul(a, b, m)
    }

    /// a + b mod m, for a and b below m.
    fn add(a: &Words, b: &Words, m: &Words) -> Words {
        let (sum, carry) = add(a, b);
        if carry || !less(&sum, m) {
            sub(&sum, m).0
        } else {
            sum
        }
    }

    /// a − b mod m, for a and b below m.
    fn sub(a: &Words, b: &Words, m: &Words) -> Words {
        let (difference, borrow) = sub(a, b);
        if borrow {
            add(&difference, m).0
        } else {
            difference
        }
    }

    /// A square root of `a` (below p) mod p, below p, or `None` when `a` is not a square. The
    /// default raises `a` to (p + 1) / 4 and checks the square.
    fn sqrt(a: &Words) -> Option<Words> {
        let root = reduce_once(&sqrt_candidate::<Self>(a), &P);
        (Self::mul(&root, &root, &P) == *a).then_some(root)
    }

    /// a⁻¹ mod m, for a non-zero `a` below the prime m. The default is a^(m − 2).
    fn inv(a: &Words, m: &Words) -> Words {
        let exponent = sub(m, &[2, 0, 0, 0, 0, 0, 0, 0]).0;
        let mut power = [1, 0, 0, 0, 0, 0, 0, 0];
        for position in (0..bit_length(&exponent)).rev() {
            power = Self::mul(&power, &power, m);
            if bit(&exponent, position) {
                power = Self::mul(&power, a, m);
            }
        }
        power
    }
}

/// The uncompressed public key `x ‖ y` (64 bytes, big-endian) that signed `prehash` with
/// `signature = r ‖ s` and `recovery_id` (bit 0: y is odd; bit 1: x = r + n). `None` for a
/// signature that names no key: r or s outside [1, n), x not on the curve, or Q at infinity.
pub fn recover<B: Backend>(signature: &[u8; 64], recovery_id: u8, prehash: &[u8; 32]) -> Option<[u8; 64]> {
    if recovery_id > 3 {
        return None;
    }
    let (r, s) = scalars(signature)?;
    let x = if recovery_id & 2 == 0 {
        r
    } else {
        let (sum, overflow) = add(&r, &N);
        if overflow || !less(&sum, &P) {
            return None;
        }
        sum
    };
    let y = y_with_parity::<B>(&x, recovery_id & 1 == 1)?;
    let r_inverse = B::inv(&r, &N);
    let minus_z = B::sub(&ZERO, &reduced_hash(prehash), &N);
    let u1 = B::mul(&minus_z, &r_inverse, &N);
    let u2 = B::mul(&s, &r_inverse, &N);
    let q = linear_combination::<B>(&u1, &u2, &B::point(&x, &y));
    let [qx, qy] = B::coordinates(&q)?;
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(&to_be(&qx));
    key[32..].copy_from_slice(&to_be(&qy));
    Some(key)
}

/// Whether `signature = r ‖ s` over `prehash` is valid for `public_key` (uncompressed `x ‖ y`,
/// which must lie on the curve). Either s is accepted, as k256 does after normalising it.
pub fn verify<B: Backend>(public_key: &[u8; 64], signature: &[u8; 64], prehash: &[u8; 32]) -> bool {
    let Some((r, s)) = scalars(signature) else { return false };
    let (x, y) = (from_be(&public_key[..32]), from_be(&public_key[32..]));
    if !less(&x, &P) || !less(&y, &P) || B::mul(&y, &y, &P) != curve_rhs::<B>(&x) {
        return false;
    }
    let s_inverse = B::inv(&s, &N);
    let u1 = B::mul(&reduced_hash(prehash), &s_inverse, &N);
    let u2 = B::mul(&r, &s_inverse, &N);
    let point = linear_combination::<B>(&u1, &u2, &B::point(&x, &y));
    // x(point) < p < 2n, so one conditional subtraction reduces it mod n.
    B::coordinates(&point).is_some_and(|[px, _]| reduce_once(&px, &N) == r)
}

/// r and s, each in [1, n).
fn scalars(signature: &[u8; 64]) -> Option<(Words, Words)> {
    let r = from_be(&signature[..32]);
    let s = from_be(&signature[32..]);
    let in_range = |v: &Words| *v != ZERO && less(v, &N);
    (in_range(&r) && in_range(&s)).then_some((r, s))
}

/// The hash as a scalar: 256 bits, so below 2n, reduced by at most one subtraction.
fn reduced_hash(prehash: &[u8; 32]) -> Words {
    reduce_once(&from_be(prehash), &N)
}

/// u1 G + u2 R with the GLV endomorphism and Shamir's trick: u1 and u2 split into halves of
/// about 128 bits over G, φ(G), R and φ(R), and one double-and-add pass adds one of the 15
/// non-empty sums of those four points: about 128 doublings and 120 additions (plus 11 for
/// the table), where a pass over u1 and u2 takes 256 doublings and 192 additions.
/// The backend's `add_points` and `double` handle the identity, P + P and P + (−P); the split
/// is exact for any scalar (k₁ + k₂λ ≡ k), and the pass runs over as many bits as the largest
/// half has, so a longer half would cost time, not correctness.
fn linear_combination<B: Backend>(u1: &Words, u2: &Words, r: &B::Point) -> B::Point {
    let generator = B::point(&G_X, &G_Y);
    let (g1, g2) = split::<B>(u1);
    let (r1, r2) = split::<B>(u2);
    let terms = [(g1, generator), (g2, endomorphism::<B>(&generator)), (r1, *r), (r2, endomorphism::<B>(r))];
    let terms = terms.map(|((negative, scalar), point)| (scalar, if negative { negate::<B>(&point) } else { point }));

    // table[mask] = the sum of the points whose bit is set in mask.
    let mut table = [B::identity(); 16];
    for mask in 1..16usize {
        let lowest = mask.trailing_zeros() as usize;
        let (done, rest) = table.split_at_mut(mask);
        B::add_points(&done[mask - (1 << lowest)], &terms[lowest].1, &mut rest[0]);
    }
    let bits = terms.iter().map(|(scalar, _)| bit_length(scalar)).max().unwrap_or(0);
    let (mut sum, mut doubled) = (B::identity(), B::identity());
    for position in (0..bits).rev() {
        B::double(&sum, &mut doubled);
        let mask =
            terms.iter().enumerate().fold(0, |mask, (i, (scalar, _))| mask | (bit(scalar, position) as usize) << i);
        if mask == 0 {
            sum = doubled;
        } else {
            B::add_points(&doubled, &table[mask], &mut sum);
        }
    }
    sum
}

/// k (below n) as ±k₁ and ±k₂ with k ≡ ±k₁ ± k₂λ: (negative, magnitude) each.
fn split<B: Backend>(k: &Words) -> ((bool, Words), (bool, Words)) {
    let c1 = mul_shift_384(k, &G1);
    let c2 = mul_shift_384(k, &G2);
    let k2 = B::add(&B::mul(&c1, &MINUS_B1, &N), &B::mul(&c2, &MINUS_B2, &N), &N);
    let k1 = B::sub(k, &B::mul(&k2, &LAMBDA, &N), &N);
    (signed::<B>(k1), signed::<B>(k2))
}

/// A scalar mod n as the smaller of k and n − k, and whether it was negated.
fn signed<B: Backend>(k: Words) -> (bool, Words) {
    if less(&N_HALF, &k) {
        (true, B::sub(&ZERO, &k, &N))
    } else {
        (false, k)
    }
}

/// round(a · b / 2³⁸⁴): the top four words of the 512-bit product, plus its bit 383.
fn mul_shift_384(a: &Words, b: &Words) -> Words {
    let mut product = [0u32; 16];
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &bj) in b.iter().enumerate() {
            let t = product[i + j] as u64 + ai as u64 * bj as u64 + carry;
            product[i + j] = t as u32;
            carry = t >> 32;
        }
        product[i + 8] = carry as u32;
    }
    let mut out = ZERO;
    out[..4].copy_from_slice(&product[12..]);
    // Below 2¹²⁸, so adding the rounding bit cannot carry out of the four words.
    add(&out, &[product[11] >> 31, 0, 0, 0, 0, 0, 0, 0]).0
}

/// φ(P) = (βx, y) = [λ]P.
fn endomorphism<B: Backend>(point: &B::Point) -> B::Point {
    match B::coordinates(point) {
        Some([x, y]) => B::point(&B::mul(&x, &BETA, &P), &y),
        None => B::identity(),
    }
}

fn negate<B: Backend>(point: &B::Point) -> B::Point {
    match B::coordinates(point) {
        Some([x, y]) => B::point(&x, &B::sub(&ZERO, &y, &P)),
        None => B::identity(),
    }
}

fn bit_length(words: &Words) -> usize {
    words.iter().rposition(|&w| w != 0).map_or(0, |i| 32 * i + 32 - words[i].leading_zeros() as usize)
}

fn bit(words: &Words, position: usize) -> bool {
    (words[position / 32] >> (position % 32)) & 1 == 1
}

/// x³ + 7 mod p.
fn curve_rhs<B: Backend>(x: &Words) -> Words {
    B::add(&B::mul(&B::mul(x, x, &P), x, &P), &SEVEN, &P)
}

/// The y with y² = x³ + 7 and the given parity, if x is on the curve.
fn y_with_parity<B: Backend>(x: &Words, odd: bool) -> Option<Words> {
    let root = B::sqrt(&curve_rhs::<B>(x))?;
    let y = if (root[0] & 1 == 1) == odd { root } else { B::sub(&ZERO, &root, &P) };
    // A zero root has no odd partner.
    ((y[0] & 1 == 1) == odd).then_some(y)
}

/// a^((p + 1) / 4), congruent mod p and below 2²⁵⁶ (not necessarily below p): p ≡ 3 (mod 4),
/// so this is a square root of `a` when it has one. The exponent's bits are 223 ones, a zero,
/// 22 ones, four zeros, two ones and two zeros, so an addition chain over runs of ones
/// (libsecp256k1's) takes 253 squarings and 13 multiplications, where square and multiply
/// takes 256 and 253. The products may be unreduced: [`Backend::sqrt`] reduces the result once
/// and checks its square with a reduced product.
fn sqrt_candidate<B: Backend + ?Sized>(a: &Words) -> Words {
    let product = |x: &Words, y: &Words| B::mul_unreduced(x, y, &P);
    // x_k = a^(2^k − 1): k ones.
    let square_times = |x: &Words, n: usize, then: &Words| {
        let mut out = *x;
        for _ in 0..n {
            out = product(&out, &out);
        }
        product(&out, then)
    };
    let x2 = square_times(a, 1, a);
    let x3 = square_times(&x2, 1, a);
    let x6 = square_times(&x3, 3, &x3);
    let x9 = square_times(&x6, 3, &x3);
    let x11 = square_times(&x9, 2, &x2);
    let x22 = square_times(&x11, 11, &x11);
    let x44 = square_times(&x22, 22, &x22);
    let x88 = square_times(&x44, 44, &x44);
    let x176 = square_times(&x88, 88, &x88);
    let x220 = square_times(&x176, 44, &x44);
    let x223 = square_times(&x220, 3, &x3);
    let t = square_times(&x223, 23, &x22);
    let t = square_times(&t, 6, &x2);
    let t = product(&t, &t);
    product(&t, &t)
}

/// Whether a < b.
pub fn less(a: &Words, b: &Words) -> bool {
    a.iter().rev().lt(b.iter().rev())
}

/// a + b and whether it overflowed 2²⁵⁶.
fn add(a: &Words, b: &Words) -> (Words, bool) {
    let mut sum = ZERO;
    let mut carry = false;
    for i in 0..8 {
        let (partial, c1) = a[i].overflowing_add(b[i]);
        let (word, c2) = partial.overflowing_add(carry as u32);
        sum[i] = word;
        carry = c1 || c2;
    }
    (sum, carry)
}

/// a − b and whether it borrowed.
fn sub(a: &Words, b: &Words) -> (Words, bool) {
    let mut difference = ZERO;
    let mut borrow = false;
    for i in 0..8 {
        let (partial, b1) = a[i].overflowing_sub(b[i]);
        let (word, b2) = partial.overflowing_sub(borrow as u32);
        difference[i] = word;
        borrow = b1 || b2;
    }
    (difference, borrow)
}

/// a − m when a ≥ m, else a.
pub fn reduce_once(a: &Words, m: &Words) -> Words {
    if less(a, m) {
        *a
    } else {
        sub(a, m).0
    }
}

fn from_be(bytes: &[u8]) -> Words {
    let mut words = ZERO;
    for (i, chunk) in bytes.rchunks_exact(4).enumerate() {
        words[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    words
}

fn to_be(words: &Words) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, word) in words.iter().enumerate() {
        bytes[28 - 4 * i..32 - 4 * i].copy_from_slice(&word.to_be_bytes());
    }
    bytes
}
