//! The base field Fp, its tower Fp2 = Fp[u]/(u² + 1), Fp6 = Fp2[v]/(v³ − ξ) with ξ = 9 + u,
//! and Fp12 = Fp6[w]/(w² − v), over a [`Backend`] for Fp (and optionally Fp2) arithmetic.
//!
//! Products are schoolbook, not Karatsuba, at the Fp2 and Fp6 levels: with an accelerator an
//! addition costs half a multiplication, so trading one product for four or five additions
//! loses. Fp12 keeps Karatsuba (three Fp6 products, not four).

use core::marker::PhantomData;
use core::ops::{Add, Mul, Neg, Sub};

/// A 256-bit number, least significant 32-bit word first.
pub type Words = [u32; 8];

/// The base field's prime p.
pub const P: Words =
    [0xD87C_FD47, 0x3C20_8C16, 0x6871_CA8D, 0x9781_6A91, 0x8181_585D, 0xB850_45B6, 0xE131_A029, 0x3064_4E72];

/// p², which RISC Zero's Fp2 product takes to bound its intermediate result. The tests
/// check it.
pub const P_SQUARED: [u32; 16] = [
    0x275D_69B1,
    0x3B54_58A2,
    0x09EA_C101,
    0xA602_072D,
    0x6D96_CADC,
    0x4A50_189C,
    0x7A12_42C8,
    0x0468_9E95,
    0x34C6_B38D,
    0x26ED_FA5C,
    0x1637_5606,
    0xB00B_8551,
    0x0348_D21C,
    0x599A_6F7C,
    0x763C_BF9C,
    0x0925_C4B8,
];

/// Arithmetic modulo p, the BN254 base field's prime, as the environment provides it. Every
/// argument is below p and every result must be too (an accelerator's result is checked as
/// reduced, so a prover cannot pick another representative).
pub trait Backend: Copy + Eq + core::fmt::Debug {
    /// a + b mod p.
    fn add(a: &Words, b: &Words) -> Words;
    /// a − b mod p.
    fn sub(a: &Words, b: &Words) -> Words;
    /// a · b mod p.
    fn mul(a: &Words, b: &Words) -> Words;
    /// a⁻¹ mod p; `a` is never zero.
    fn inv(a: &Words) -> Words;

    /// (a₀ + a₁u)(b₀ + b₁u) with u² = −1; an accelerator may do it in one call.
    fn fp2_mul(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        let real = Self::sub(&Self::mul(&a[0], &b[0]), &Self::mul(&a[1], &b[1]));
        let imaginary = Self::add(&Self::mul(&a[0], &b[1]), &Self::mul(&a[1], &b[0]));
        [real, imaginary]
    }

    /// a + b in Fp2.
    fn fp2_add(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        [Self::add(&a[0], &b[0]), Self::add(&a[1], &b[1])]
    }

    /// a − b in Fp2.
    fn fp2_sub(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        [Self::sub(&a[0], &b[0]), Self::sub(&a[1], &b[1])]
    }
}

/// What the curve and pairing code needs of Fp and Fp2.
pub(crate) trait Field:
    Copy + Eq + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Neg<Output = Self>
{
    fn zero() -> Self;
    fn is_zero(&self) -> bool;
    /// The inverse of a non-zero element.
    fn inv(&self) -> Self;
    fn square(&self) -> Self {
        *self * *self
    }
    fn double(&self) -> Self {
        *self + *self
    }
}

const ZERO: Words = [0; 8];

/// An element of Fp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fp<B>(pub(crate) Words, PhantomData<B>);

impl<B> Fp<B> {
    pub(crate) const fn new(words: Words) -> Self {
        Fp(words, PhantomData)
    }

    pub(crate) const fn from_u32(value: u32) -> Self {
        Fp::new([value, 0, 0, 0, 0, 0, 0, 0])
    }
}

impl<B: Backend> Field for Fp<B> {
    fn zero() -> Self {
        Fp::new(ZERO)
    }
    fn is_zero(&self) -> bool {
        self.0 == ZERO
    }
    fn inv(&self) -> Self {
        Fp::new(B::inv(&self.0))
    }
}

impl<B: Backend> Add for Fp<B> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Fp::new(B::add(&self.0, &rhs.0))
    }
}

impl<B: Backend> Sub for Fp<B> {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Fp::new(B::sub(&self.0, &rhs.0))
    }
}

impl<B: Backend> Mul for Fp<B> {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        Fp::new(B::mul(&self.0, &rhs.0))
    }
}

impl<B: Backend> Neg for Fp<B> {
    type Output = Self;
    fn neg(self) -> Self {
        Fp::new(B::sub(&ZERO, &self.0))
    }
}

/// An element c₀ + c₁u of Fp2, kept as the backend takes it (so an operation copies nothing
/// in: in a zkVM the copies would cost as much as the arithmetic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fp2<B>(pub(crate) [Words; 2], PhantomData<B>);

impl<B> Fp2<B> {
    pub(crate) const fn new(c0: Fp<B>, c1: Fp<B>) -> Self {
        Fp2::from_words(c0.0, c1.0)
    }

    pub(crate) const fn from_words(c0: Words, c1: Words) -> Self {
        Fp2([c0, c1], PhantomData)
    }

    const fn from_pair(pair: [Words; 2]) -> Self {
        Fp2(pair, PhantomData)
    }

    pub(crate) const fn c0(&self) -> Fp<B> {
        Fp::new(self.0[0])
    }

    pub(crate) const fn c1(&self) -> Fp<B> {
        Fp::new(self.0[1])
    }
}

impl<B: Backend> Fp2<B> {
    /// ξ = 9 + u, the non-residue that builds Fp6 and Fp12 (and divides the twist's b).
    const XI: Self = Fp2::from_words([9, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]);

    pub(crate) fn one() -> Self {
        Fp2::new(Fp::from_u32(1), Fp::zero())
    }

    pub(crate) fn mul_by_xi(&self) -> Self {
        *self * Self::XI
    }

    /// Times an element of Fp: two products, not an Fp2 product.
    pub(crate) fn mul_fp(&self, factor: &Fp<B>) -> Self {
        Fp2::new(self.c0() * *factor, self.c1() * *factor)
    }

    /// The conjugate c₀ − c₁u, which is also the p-power Frobenius.
    pub(crate) fn conjugate(&self) -> Self {
        Fp2::new(self.c0(), -self.c1())
    }

    /// The p^power Frobenius: conjugation for an odd power.
    fn frobenius(&self, power: usize) -> Self {
        if power % 2 == 1 {
            self.conjugate()
        } else {
            *self
        }
    }
}

impl<B: Backend> Field for Fp2<B> {
    fn zero() -> Self {
        Fp2::from_words(ZERO, ZERO)
    }
    fn is_zero(&self) -> bool {
        self.0 == [ZERO; 2]
    }
    /// 1 / (c₀ + c₁u) = (c₀ − c₁u) / (c₀² + c₁²): one inversion in Fp.
    fn inv(&self) -> Self {
        let (c0, c1) = (self.c0(), self.c1());
        let norm_inverse = (c0.square() + c1.square()).inv();
        Fp2::new(c0 * norm_inverse, -(c1 * norm_inverse))
    }
}

impl<B: Backend> Add for Fp2<B> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Fp2::from_pair(B::fp2_add(&self.0, &rhs.0))
    }
}

impl<B: Backend> Sub for Fp2<B> {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Fp2::from_pair(B::fp2_sub(&self.0, &rhs.0))
    }
}

impl<B: Backend> Mul for Fp2<B> {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        Fp2::from_pair(B::fp2_mul(&self.0, &rhs.0))
    }
}

impl<B: Backend> Neg for Fp2<B> {
    type Output = Self;
    fn neg(self) -> Self {
        Fp2::zero() - self
    }
}

/// γ[k − 1][i − 1] = ξ^(i(p^k − 1)/6) for k = 1, 2, 3 and i = 1..5, as (c₀, c₁): the factor
/// the p^k-power Frobenius puts on the coefficient of wⁱ (w^(p^k) = w · ξ^((p^k − 1)/6)).
/// Derived again from ξ by the tests.
pub(crate) const FROBENIUS_GAMMA: [[[Words; 2]; 5]; 3] = [
    [
        [
            [0xDCC9_E470, 0xD60B_35DA, 0x292F_2176, 0x5C52_1E08, 0x76E6_8B60, 0xE8B9_9FDD, 0x2865_A7DF, 0x1284_B71C],
            [0x80F3_62AC, 0xCA5C_F05F, 0x8EEE_C7E5, 0x7479_9277, 0x1215_0B8E, 0xA632_7CFE, 0xB4FA_E7E6, 0x2469_96F3],
        ],
        [
            [0x176F_553D, 0x99E3_9557, 0xC2C3_330C, 0xB78C_C310, 0xF559_B143, 0x4C0B_EC3C, 0x4F79_11F7, 0x2FB3_4798],
            [0x640F_CBA2, 0x1665_D51C, 0x0B7C_9DCE, 0x32AE_2A1D, 0xD75A_0794, 0x4BA4_CC8B, 0x61EB_AE20, 0x16C9_E550],
        ],
        [
            [0x71A0_135A, 0xDC54_0146, 0xA9C9_5998, 0xDBAA_E0ED, 0xB6E2_F9B9, 0xDC5E_C698, 0x489A_F5DC, 0x063C_F305],
            [0x2623_B0E3, 0x82D3_7F63, 0x8FA2_5BD2, 0x2180_7DC9, 0xEC79_6F2B, 0x0704_B5A7, 0xAC41_049A, 0x07C0_3CBC],
        ],
        [
            [0x921E_A762, 0x848A_1F55, 0xBE94_EC72, 0xD333_65F7, 0x5A18_1E84, 0x80F3_C0B7, 0x64EE_A801, 0x05B5_4F5E],
            [0xCD2B_8126, 0xC13B_4711, 0x1BDE_C763, 0x3685_D2EA, 0x3B0B_1C92, 0x9F3A_80B0, 0xE7FD_8AEE, 0x2C14_5EDB],
        ],
        [
            [0xEAB7_692F, 0x2EA2_C810, 0x55AA_1BD3, 0x425C_459B, 0xA435_3FF4, 0xE93A_3661, 0x4F79_8649, 0x0183_C1E7],
            [0x6E0C_2C4B, 0x24C6_B8EE, 0x678E_2AC0, 0xB080_CB99, 0xC772_9F7D, 0xA27F_B246, 0x76FD_0675, 0x12AC_F2CA],
        ],
    ],
    [
        [
            [0x607C_FD49, 0xE4BD_44E5, 0xBB96_6E3D, 0xC28F_069F, 0xE0AC_CCB0, 0x5E6D_D9E7, 0xE131_A029, 0x3064_4E72],
            ZERO,
        ],
        [
            [0x607C_FD48, 0xE4BD_44E5, 0xBB96_6E3D, 0xC28F_069F, 0xE0AC_CCB0, 0x5E6D_D9E7, 0xE131_A029, 0x3064_4E72],
            ZERO,
        ],
        [
            [0xD87C_FD46, 0x3C20_8C16, 0x6871_CA8D, 0x9781_6A91, 0x8181_585D, 0xB850_45B6, 0xE131_A029, 0x3064_4E72],
            ZERO,
        ],
        [
            [0x77FF_FFFE, 0x5763_4731, 0xACDB_5C4F, 0xD4F2_63F1, 0xA0D4_8BAC, 0x59E2_6BCE, 0x0000_0000, 0x0000_0000],
            ZERO,
        ],
        [
            [0x77FF_FFFF, 0x5763_4731, 0xACDB_5C4F, 0xD4F2_63F1, 0xA0D4_8BAC, 0x59E2_6BCE, 0x0000_0000, 0x0000_0000],
            ZERO,
        ],
    ],
    [
        [
            [0x1ED4_A67F, 0xE86F_7D39, 0xBE55_D24A, 0x894C_B38D, 0xD0AC_AA90, 0xEFE9_608C, 0xCC82_E4BB, 0x19DC_81CF],
            [0xF4C0_C101, 0x7694_AA2B, 0x97D4_39EC, 0x7F03_A5E3, 0x3576_139D, 0x06CB_EEE3, 0x0BE7_7D73, 0x00AB_F8B6],
        ],
        [
            [0x7BDC_FB6D, 0x7B74_6EE8, 0x5D69_42D3, 0x805F_FD3D, 0x959F_25AC, 0xBAFF_1C77, 0xB755_EF0A, 0x0856_E078],
            [0xAAA5_86DE, 0x380C_AB2B, 0x98FF_2631, 0x0FDF_31BF, 0xEC26_094F, 0xA9F3_0E6D, 0xB3D1_766F, 0x04F1_DE41],
        ],
        [
            [0x66DC_E9ED, 0x5FCC_8AD0, 0xBEA8_70F4, 0xBBD6_89A3, 0xCA9E_5EA3, 0xDBF1_7F1D, 0x9896_AA4C, 0x2A27_5B6D],
            [0xB259_4C64, 0xB94D_0CB3, 0xD8CF_6EBA, 0x7600_ECC7, 0x9507_E932, 0xB14B_900E, 0x34F0_9B8F, 0x28A4_11B6],
        ],
        [
            [0x3CCB_F066, 0x0E1A_92BC, 0x75B0_6BCB, 0xE633_0945, 0xB5B2_444E, 0x19BE_E0F7, 0x11C0_8DAB, 0x0BC5_8C66],
            [0x730C_239F, 0x5FE3_ED9D, 0x737F_96E5, 0xA44A_9E08, 0x0CD2_1D04, 0xFEB0_F6EF, 0xE191_0A12, 0x23D5_E999],
        ],
        [
            [0x7626_1B43, 0xEBDE_8470, 0x967C_84A5, 0x2ED6_8098, 0x3B4D_3F69, 0x7116_99FA, 0x952C_0905, 0x13C4_9044],
            [0x8428_2499, 0x1F25_0413, 0x2002_8021, 0x3E2D_DAEA, 0x2A48_633D, 0x9FB1_B228, 0x59B1_DD0B, 0x16DB_366A],
        ],
    ],
];

/// γ(k, i) as an Fp2 element (see [`FROBENIUS_GAMMA`]).
pub(crate) fn gamma<B: Backend>(power: usize, i: usize) -> Fp2<B> {
    let [c0, c1] = FROBENIUS_GAMMA[power - 1][i - 1];
    Fp2::from_words(c0, c1)
}

/// An element c₀ + c₁v + c₂v² of Fp6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fp6<B> {
    pub(crate) c0: Fp2<B>,
    pub(crate) c1: Fp2<B>,
    pub(crate) c2: Fp2<B>,
}

impl<B: Backend> Fp6<B> {
    pub(crate) fn zero() -> Self {
        Fp6 { c0: Fp2::zero(), c1: Fp2::zero(), c2: Fp2::zero() }
    }

    pub(crate) fn one() -> Self {
        Fp6 { c0: Fp2::one(), ..Self::zero() }
    }

    fn add(&self, rhs: &Self) -> Self {
        Fp6 { c0: self.c0 + rhs.c0, c1: self.c1 + rhs.c1, c2: self.c2 + rhs.c2 }
    }

    fn sub(&self, rhs: &Self) -> Self {
        Fp6 { c0: self.c0 - rhs.c0, c1: self.c1 - rhs.c1, c2: self.c2 - rhs.c2 }
    }

    fn neg(&self) -> Self {
        Fp6 { c0: -self.c0, c1: -self.c1, c2: -self.c2 }
    }

    /// Nine Fp2 products and two by ξ (v³ = ξ).
    fn mul(&self, rhs: &Self) -> Self {
        let (a, b) = (self, rhs);
        Fp6 {
            c0: a.c0 * b.c0 + (a.c1 * b.c2 + a.c2 * b.c1).mul_by_xi(),
            c1: a.c0 * b.c1 + a.c1 * b.c0 + (a.c2 * b.c2).mul_by_xi(),
            c2: a.c0 * b.c2 + a.c1 * b.c1 + a.c2 * b.c0,
        }
    }

    /// Times l₀ + l₁v: six products and one by ξ.
    fn mul_by_01(&self, l0: &Fp2<B>, l1: &Fp2<B>) -> Self {
        Fp6 {
            c0: self.c0 * *l0 + (self.c2 * *l1).mul_by_xi(),
            c1: self.c0 * *l1 + self.c1 * *l0,
            c2: self.c1 * *l1 + self.c2 * *l0,
        }
    }

    /// Times v: the coefficients rotate and the one that wraps round is multiplied by ξ.
    fn mul_by_v(&self) -> Self {
        Fp6 { c0: self.c2.mul_by_xi(), c1: self.c0, c2: self.c1 }
    }

    fn inv(&self) -> Self {
        let (a0, a1, a2) = (self.c0, self.c1, self.c2);
        let t0 = a0.square() - (a1 * a2).mul_by_xi();
        let t1 = a2.square().mul_by_xi() - a0 * a1;
        let t2 = a1.square() - a0 * a2;
        let norm_inverse = (a0 * t0 + (a2 * t1 + a1 * t2).mul_by_xi()).inv();
        Fp6 { c0: t0 * norm_inverse, c1: t1 * norm_inverse, c2: t2 * norm_inverse }
    }
}

/// An element c₀ + c₁w of Fp12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fp12<B> {
    pub(crate) c0: Fp6<B>,
    pub(crate) c1: Fp6<B>,
}

impl<B: Backend> Fp12<B> {
    pub(crate) fn one() -> Self {
        Fp12 { c0: Fp6::one(), c1: Fp6::zero() }
    }

    pub(crate) fn is_one(&self) -> bool {
        *self == Self::one()
    }

    /// Karatsuba: three Fp6 products.
    pub(crate) fn mul(&self, rhs: &Self) -> Self {
        let t0 = self.c0.mul(&rhs.c0);
        let t1 = self.c1.mul(&rhs.c1);
        let cross = self.c0.add(&self.c1).mul(&rhs.c0.add(&rhs.c1));
        Fp12 { c0: t0.add(&t1.mul_by_v()), c1: cross.sub(&t0).sub(&t1) }
    }

    /// (c₀ + c₁w)² = c₀² + vc₁² + 2c₀c₁w, with c₀² + vc₁² = (c₀ + c₁)(c₀ + vc₁) − c₀c₁ − vc₀c₁:
    /// two Fp6 products.
    pub(crate) fn square(&self) -> Self {
        let product = self.c0.mul(&self.c1);
        let mixed = self.c0.add(&self.c1).mul(&self.c0.add(&self.c1.mul_by_v()));
        Fp12 { c0: mixed.sub(&product).sub(&product.mul_by_v()), c1: product.add(&product) }
    }

    /// The square of an element of the cyclotomic subgroup (f^(p⁶ + 1) = 1, so the conjugate is
    /// the inverse; the final exponentiation's hard part works there): Granger and Scott, "Faster squaring in the cyclotomic
    /// subgroup of sixth degree extensions", §3.1. Fp12 is seen as Fp4³ with
    /// Fp4 = Fp2[y]/(y² − ξ): three Fp4 squarings, three Fp2 products where a general square
    /// takes eighteen.
    pub(crate) fn cyclotomic_square(&self) -> Self {
        // (a + by)² = a² + ξb² + 2aby, with a² + ξb² = (a + b)(a + ξb) − ab − ξab.
        let fp4_square = |a: &Fp2<B>, b: &Fp2<B>| {
            let product = *a * *b;
            ((*a + *b) * (*a + b.mul_by_xi()) - product - product.mul_by_xi(), product.double())
        };
        // The Fp4 pairs are (g₀, g₃), (g₂, g₁), (g₄, g₅) for g in the coefficients of wⁱ.
        let (z0, z4, z3) = (self.c0.c0, self.c0.c1, self.c0.c2);
        let (z2, z1, z5) = (self.c1.c0, self.c1.c1, self.c1.c2);
        let (t0, t1) = fp4_square(&z0, &z1);
        let (t2, t3) = fp4_square(&z2, &z3);
        let (t4, t5) = fp4_square(&z4, &z5);
        // 3t − 2z and 3t + 2z.
        let minus = |t: Fp2<B>, z: Fp2<B>| (t - z).double() + t;
        let plus = |t: Fp2<B>, z: Fp2<B>| (t + z).double() + t;
        Fp12 {
            c0: Fp6 { c0: minus(t0, z0), c1: minus(t2, z4), c2: minus(t4, z3) },
            c1: Fp6 { c0: plus(t5.mul_by_xi(), z2), c1: plus(t1, z1), c2: plus(t3, z5) },
        }
    }

    /// Times a line 1 + (l₀ + l₁v)w: (f₀ + f₁w)(1 + Lw) = f₀ + vf₁L + (f₁ + f₀L)w.
    pub(crate) fn mul_by_line(&self, l0: &Fp2<B>, l1: &Fp2<B>) -> Self {
        let c0 = self.c0.add(&self.c1.mul_by_01(l0, l1).mul_by_v());
        let c1 = self.c1.add(&self.c0.mul_by_01(l0, l1));
        Fp12 { c0, c1 }
    }

    /// c₀ − c₁w: the p⁶-power Frobenius, and the inverse of an element of the cyclotomic
    /// subgroup (where the final exponentiation's easy part lands).
    pub(crate) fn conjugate(&self) -> Self {
        Fp12 { c0: self.c0, c1: self.c1.neg() }
    }

    /// 1 / (c₀ + c₁w) = (c₀ − c₁w) / (c₀² − vc₁²).
    pub(crate) fn inv(&self) -> Self {
        let norm_inverse = self.c0.mul(&self.c0).sub(&self.c1.mul(&self.c1).mul_by_v()).inv();
        Fp12 { c0: self.c0.mul(&norm_inverse), c1: self.c1.mul(&norm_inverse).neg() }
    }

    /// The p^power-power Frobenius (power 1 to 3). With the coefficient of wⁱ written gᵢ
    /// (c₀ = g₀ + g₂v + g₄v², c₁ = g₁ + g₃v + g₅v²), gᵢ becomes frob(gᵢ) · γ(power, i).
    pub(crate) fn frobenius(&self, power: usize) -> Self {
        let map = |g: &Fp2<B>, i: usize| {
            let g = g.frobenius(power);
            if i == 0 {
                g
            } else {
                g * gamma(power, i)
            }
        };
        Fp12 {
            c0: Fp6 { c0: map(&self.c0.c0, 0), c1: map(&self.c0.c1, 2), c2: map(&self.c0.c2, 4) },
            c1: Fp6 { c0: map(&self.c1.c0, 1), c1: map(&self.c1.c1, 3), c2: map(&self.c1.c2, 5) },
        }
    }
}
