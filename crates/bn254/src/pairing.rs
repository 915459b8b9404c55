//! The optimal ate pairing's product check: one Miller loop for all pairs (the squarings are
//! shared) and one final exponentiation.

use alloc::vec::Vec;

use crate::curve::{psi, Point, G1, G2};
use crate::field::{gamma, Backend, Field, Fp, Fp12, Fp2};

/// 6x + 2 in non-adjacent form, least significant digit first (x = 4965661367192848881, the BN
/// parameter): 22 non-zero digits where binary has 28 ones. The tests check its value.
pub(crate) const ATE_LOOP_NAF: [i8; 66] = [
    0, 0, 0, 1, 0, 1, 0, -1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, -1, 0, 0, 0, 1, 0, -1, 0, 0, 0, 0, -1, 0, 0, 1, 0, -1,
    0, 0, 1, 0, 0, 0, 0, 0, -1, 0, 0, -1, 0, 1, 0, -1, 0, 0, 0, -1, 0, -1, 0, 0, 0, 1, 0, -1, 0, 1,
];

/// The BN parameter x.
pub(crate) const X: u64 = 4_965_661_367_192_848_881;

/// Whether ∏ e(Pᵢ, Qᵢ) = 1 for finite points of G1 and G2.
pub(crate) fn product_is_one<B: Backend>(pairs: &[(G1<B>, G2<B>)]) -> bool {
    pairs.is_empty() || final_exponentiation(&miller_loop(pairs)).is_one()
}

/// One pair's state in the Miller loop.
struct Pair<B> {
    /// −x_P / y_P and 1 / y_P: the line through T with slope λ, evaluated at P and divided by
    /// y_P (an Fp factor, which the final exponentiation removes), is
    /// 1 + (λ · (−x_P/y_P))w + ((λx_T − y_T) / y_P)w³. A finite point of G1 has y ≠ 0 (its
    /// order r is odd).
    minus_x_over_y: Fp<B>,
    one_over_y: Fp<B>,
    q: G2<B>,
    t: G2<B>,
}

impl<B: Backend> Pair<B> {
    fn new(p: &G1<B>, q: &G2<B>) -> Self {
        let one_over_y = p.y.inv();
        Pair { minus_x_over_y: -(p.x * one_over_y), one_over_y, q: *q, t: *q }
    }

    /// The line of `slope` through T at P, as (l₀, l₁) of 1 + (l₀ + l₁v)w (w³ = vw).
    fn line(&self, slope: &Fp2<B>) -> (Fp2<B>, Fp2<B>) {
        (slope.mul_fp(&self.minus_x_over_y), (*slope * self.t.x - self.t.y).mul_fp(&self.one_over_y))
    }

    /// T ← 2T; returns the tangent at the old T.
    fn double(&mut self) -> (Fp2<B>, Fp2<B>) {
        let (slope, doubled) = self.t.double_with_slope();
        let line = self.line(&slope);
        self.t = doubled;
        line
    }

    /// T ← T + Q; returns the chord. T ≠ ±Q throughout: T is a multiple of Q by a number
    /// below r that differs from the addend's multiple modulo r.
    fn add(&mut self, q: &G2<B>) -> (Fp2<B>, Fp2<B>) {
        let (slope, sum) = self.t.add_with_slope(q);
        let line = self.line(&slope);
        self.t = sum;
        line
    }
}

/// f = ∏ f_{6x+2,Qᵢ}(Pᵢ) · l_{[6x+2]Qᵢ, π(Qᵢ)}(Pᵢ) · l_{[6x+2]Qᵢ + π(Qᵢ), −π²(Qᵢ)}(Pᵢ).
fn miller_loop<B: Backend>(pairs: &[(G1<B>, G2<B>)]) -> Fp12<B> {
    let mut pairs: Vec<Pair<B>> = pairs.iter().map(|(p, q)| Pair::new(p, q)).collect();
    let mut f = Fp12::one();
    let top = ATE_LOOP_NAF.len() - 1;
    for i in (0..top).rev() {
        if i != top - 1 {
            f = f.square();
        }
        for pair in &mut pairs {
            let (l0, l1) = pair.double();
            f = f.mul_by_line(&l0, &l1);
            let addend = match ATE_LOOP_NAF[i] {
                1 => pair.q,
                -1 => pair.q.neg(),
                _ => continue,
            };
            let (l0, l1) = pair.add(&addend);
            f = f.mul_by_line(&l0, &l1);
        }
    }
    for pair in &mut pairs {
        let q1 = psi(&pair.q);
        // −π²(Q) = (x · ξ^((p²−1)/3), y): ξ^((p²−1)/2) = −1 cancels the sign.
        let minus_q2 = Point { x: pair.q.x * gamma(2, 2), y: pair.q.y };
        let (l0, l1) = pair.add(&q1);
        f = f.mul_by_line(&l0, &l1);
        let (l0, l1) = pair.add(&minus_q2);
        f = f.mul_by_line(&l0, &l1);
    }
    f
}

/// f^((p¹² − 1)/r) up to a fixed power coprime to r, which keeps "is one": the easy part
/// (p⁶ − 1)(p² + 1), then the hard part as 2x(6x² + 3x + 1)(p⁴ − p² + 1)/r (Fuentes-Castañeda
/// et al., "Faster hashing to G2"; arkworks' sequence).
pub(crate) fn final_exponentiation<B: Backend>(f: &Fp12<B>) -> Fp12<B> {
    let r = f.conjugate().mul(&f.inv());
    let r = r.frobenius(2).mul(&r);

    let y0 = exp_by_neg_x(&r);
    let y1 = y0.cyclotomic_square();
    let y2 = y1.cyclotomic_square();
    let y3 = y2.mul(&y1);
    let y4 = exp_by_neg_x(&y3);
    let y5 = y4.cyclotomic_square();
    let y6 = exp_by_neg_x(&y5).conjugate();
    let y3 = y3.conjugate();
    let y7 = y6.mul(&y4);
    let y8 = y7.mul(&y3);
    let y9 = y8.mul(&y1);
    let y10 = y8.mul(&y4);
    let y11 = y10.mul(&r);
    let y13 = y9.frobenius(1).mul(&y11);
    let y14 = y8.frobenius(2).mul(&y13);
    let y15 = r.conjugate().mul(&y9).frobenius(3);
    y15.mul(&y14)
}

/// f^(−x) for f in the cyclotomic subgroup (where the inverse is the conjugate).
fn exp_by_neg_x<B: Backend>(f: &Fp12<B>) -> Fp12<B> {
    let mut result = *f;
    for position in (0..X.ilog2()).rev() {
        result = result.cyclotomic_square();
        if (X >> position) & 1 == 1 {
            result = result.mul(f);
        }
    }
    result.conjugate()
}
