//! Affine points of y² = x³ + b over Fp (G1, b = 3) and over Fp2 (the twist that holds G2,
//! b = 3/ξ), with `None` for the point at infinity.
//!
//! Affine, not projective: an inversion is one accelerator call, so each addition or doubling
//! costs one inversion and three products, where projective formulas take a dozen products.

use crate::field::{gamma, Backend, Field, Fp, Fp2, Words};

/// The twist's b = 3/ξ, (c₀, c₁). The tests check that ξ · b = 3.
const G2_B: [Words; 2] = [
    [0x24A1_38E5, 0x3267_E6DC, 0x59DB_EFA3, 0xB5B4_C5E5, 0x1BE0_6AC3, 0x81BE_1899, 0xCEB8_AAAE, 0x2B14_9D40],
    [0x85C3_15D2, 0xE4A2_BD06, 0xE52D_1852, 0xA74F_A084, 0xEED8_FDF4, 0xCD2C_AFAD, 0x3AF0_FED4, 0x0097_13B0],
];

/// The b of G1's curve, 3.
pub(crate) fn g1_b<B: Backend>() -> Fp<B> {
    Fp::from_u32(3)
}

/// The b of the twist that holds G2, 3/ξ.
pub(crate) fn g2_b<B: Backend>() -> Fp2<B> {
    Fp2::from_words(G2_B[0], G2_B[1])
}

/// 6x² for the BN parameter x = 4965661367192848881: [6x²]P = ψ(P) exactly on G2.
const SIX_X_SQUARED: Words = [0xE87C_FD46, 0xF83E_9682, 0xEEB8_59FB, 0x6F4D_8248, 0, 0, 0, 0];

/// A finite point of G1.
pub(crate) type G1<B> = Point<Fp<B>>;
/// A finite point of the twist (G2 once checked).
pub(crate) type G2<B> = Point<Fp2<B>>;

/// A finite affine point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Point<F> {
    pub(crate) x: F,
    pub(crate) y: F,
}

impl<F: Field> Point<F> {
    /// y² = x³ + b.
    pub(crate) fn is_on_curve(&self, b: F) -> bool {
        self.y.square() == self.x.square() * self.x + b
    }

    /// 2T and the tangent's slope 3x² / 2y; y must not be zero.
    pub(crate) fn double_with_slope(&self) -> (F, Self) {
        let x_squared = self.x.square();
        let slope = (x_squared.double() + x_squared) * self.y.double().inv();
        (slope, self.through(&slope, &self.x))
    }

    /// T + Q and the chord's slope; the x coordinates must differ.
    pub(crate) fn add_with_slope(&self, other: &Self) -> (F, Self) {
        let slope = (other.y - self.y) * (other.x - self.x).inv();
        (slope, self.through(&slope, &other.x))
    }

    /// The third point on the line of `slope` through `self` and a point with x = `other_x`,
    /// reflected: x₃ = λ² − x₁ − x₂, y₃ = λ(x₁ − x₃) − y₁.
    fn through(&self, slope: &F, other_x: &F) -> Self {
        let x = slope.square() - self.x - *other_x;
        let y = *slope * (self.x - x) - self.y;
        Point { x, y }
    }

    pub(crate) fn neg(&self) -> Self {
        Point { x: self.x, y: -self.y }
    }
}

/// a + b for any two points of the curve: infinity, P + P and P + (−P) included.
pub(crate) fn add<F: Field>(a: Option<Point<F>>, b: Option<Point<F>>) -> Option<Point<F>> {
    let (Some(a), Some(b)) = (a, b) else { return a.or(b) };
    if a.x != b.x {
        return Some(a.add_with_slope(&b).1);
    }
    if a.y == b.y {
        double(Some(a))
    } else {
        None
    }
}

/// 2a; a point with y = 0 has order two.
pub(crate) fn double<F: Field>(a: Option<Point<F>>) -> Option<Point<F>> {
    a.filter(|a| !a.y.is_zero()).map(|a| a.double_with_slope().1)
}

/// [scalar]a, double-and-add from the top bit, with the complete [`add`] (the G2 subgroup check
/// multiplies points of any order).
pub(crate) fn mul<F: Field>(a: Option<Point<F>>, scalar: &Words) -> Option<Point<F>> {
    let mut result = None;
    for position in (0..256).rev() {
        result = double(result);
        if (scalar[position / 32] >> (position % 32)) & 1 == 1 {
            result = add(result, a);
        }
    }
    result
}

/// The untwist-Frobenius-twist endomorphism ψ(x, y) = (x̄ · ξ^((p−1)/3), ȳ · ξ^((p−1)/2)) on the
/// twist: on G2 it is multiplication by p.
pub(crate) fn psi<B: Backend>(point: &G2<B>) -> G2<B> {
    Point { x: point.x.conjugate() * gamma(1, 2), y: point.y.conjugate() * gamma(1, 3) }
}

/// Whether a point of the twist lies in the order-r subgroup G2: ψ(P) = [6x²]P (eprint 2022/352
/// §4.3; arkworks checks the same).
pub(crate) fn in_g2_subgroup<B: Backend>(point: &G2<B>) -> bool {
    mul(Some(*point), &SIX_X_SQUARED) == Some(psi(point))
}
