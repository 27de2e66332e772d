//! The standard normal distribution, and the chi-square and binomial tails McNemar's test needs.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use crate::MetricsError;

/// Below this argument `erfc` is `1 - erf` from the power series of `erf`, and above it comes
/// from the continued fraction. `1 - erf` cancels more digits as `erfc` shrinks, and the
/// continued fraction needs about 190 terms at 1.0 and more below, so 1.0 keeps both errors
/// near 1e-15 relative.
const SERIES_LIMIT: f64 = 1.0;

/// Computes the standard normal cumulative distribution function `Phi(x) = P(Z <= x)`.
///
/// Accurate to about 1e-15 absolute everywhere, and to about 1e-13 relative in the lower tail
/// (`x < 0`) down to `Phi(-37)`, about 6e-300. For an upper-tail probability `P(Z > x)` call
/// `normal_cdf(-x)`, which keeps that relative accuracy. Returns 0 or 1 for infinite `x` and
/// NaN for NaN.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let tail = 0.5 * erfc(x.abs() * FRAC_1_SQRT_2);
    if x < 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// Computes the standard normal density `phi(x) = exp(-x^2 / 2) / sqrt(2 pi)`.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// Computes the standard normal quantile `Phi^-1(p)`, the `x` with `normal_cdf(x) = p`.
///
/// Accurate to about 1e-14 relative for `p` in (0, 1). Starts from Abramowitz and Stegun's
/// rational approximation 26.2.23 (absolute error below 4.5e-4) and refines it with Halley
/// steps on [`normal_cdf`].
///
/// # Errors
/// [`MetricsError::Invalid`] unless `0 < p < 1`.
pub fn normal_quantile(p: f64) -> Result<f64, MetricsError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(MetricsError::Invalid(format!(
            "normal quantile needs a probability strictly between 0 and 1, got {p}"
        )));
    }
    if p == 0.5 {
        return Ok(0.0);
    }
    // 1 - p is exact for p >= 0.5, so the upper half reuses the lower tail without rounding.
    if p > 0.5 {
        return Ok(-lower_quantile(1.0 - p));
    }
    Ok(lower_quantile(p))
}

/// Returns the upper tail of the chi-square distribution with one degree of freedom,
/// `P(X > statistic)`, which equals `P(|Z| > sqrt(statistic))`.
pub fn chi_square_1_sf(statistic: f64) -> f64 {
    if statistic <= 0.0 {
        return 1.0;
    }
    2.0 * normal_cdf(-statistic.sqrt())
}

/// Returns the exact two-sided binomial p-value for `successes` out of `trials` under a success
/// probability of one half: `min(1, 2 P(X <= min(k, n - k)))`.
///
/// Exact in `u64` arithmetic for `trials` up to 62, which covers McNemar's exact branch.
pub(crate) fn binomial_half_two_sided(successes: u64, trials: u64) -> f64 {
    debug_assert!(trials <= 62 && successes <= trials);
    let smaller = successes.min(trials - successes);
    let mut coefficient: u128 = 1;
    let mut tail: u128 = 0;
    for i in 0..=smaller {
        if i > 0 {
            coefficient = coefficient * (trials - i + 1) as u128 / i as u128;
        }
        tail += coefficient;
    }
    let doubled = 2.0 * tail as f64 / 2f64.powi(trials as i32);
    doubled.min(1.0)
}

fn lower_quantile(p: f64) -> f64 {
    // Abramowitz and Stegun 26.2.23, for 0 < p <= 0.5.
    let t = (-2.0 * p.ln()).sqrt();
    let numerator = 2.515517 + t * (0.802853 + t * 0.010328);
    let denominator = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308));
    let mut x = -(t - numerator / denominator);

    // Halley's method on Phi(x) - p converges cubically from an error below 4.5e-4.
    for _ in 0..8 {
        let error = normal_cdf(x) - p;
        let newton_step = error / normal_pdf(x);
        if !newton_step.is_finite() {
            break;
        }
        let step = newton_step / (1.0 + 0.5 * x * newton_step);
        x -= step;
        if step.abs() <= 1e-16 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

/// Computes the complementary error function for `x >= 0`.
fn erfc(x: f64) -> f64 {
    if x < SERIES_LIMIT {
        1.0 - erf_series(x)
    } else {
        erfc_continued_fraction(x)
    }
}

/// `erf(x) = 2 / sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n + 1) / (1 * 3 * ... * (2n + 1))`.
///
/// Every term is positive, so the sum loses no digits to cancellation.
fn erf_series(x: f64) -> f64 {
    let x_squared = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term > sum * 1e-17 {
        n += 1.0;
        term *= 2.0 * x_squared / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / PI.sqrt() * (-x_squared).exp() * sum
}

/// `erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + (2/2) / (x + (3/2) / (x + ...))))`,
/// evaluated with the modified Lentz method.
fn erfc_continued_fraction(x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut fraction = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..5000 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        d = if d == 0.0 { TINY } else { 1.0 / d };
        c = x + a / c;
        if c == 0.0 {
            c = TINY;
        }
        let delta = c * d;
        fraction *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    exp_minus_square(x) / PI.sqrt() / fraction
}

/// Computes `exp(-x^2)` without the relative error of `x^2` rounding, which grows with `x^2`.
fn exp_minus_square(x: f64) -> f64 {
    // Splitting x = high + low with a short `high` makes high^2 exact; the remainder
    // x^2 - high^2 = low * (2 high + low) is small, so its rounding barely moves the result.
    let high = (x * 4096.0).trunc() / 4096.0;
    let low = x - high;
    (-high * high).exp() * (-low * (2.0 * high + low)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_is_half_at_zero() {
        assert_eq!(normal_cdf(0.0), 0.5);
    }

    #[test]
    fn normal_quantile_inverts_cdf() {
        for p in [1e-10, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999_999] {
            let x = normal_quantile(p).unwrap();
            assert!((normal_cdf(x) - p).abs() <= 1e-13 * p.min(1.0 - p), "p = {p}");
        }
    }

    #[test]
    fn normal_quantile_rejects_zero() {
        assert!(normal_quantile(0.0).is_err());
    }

    #[test]
    fn binomial_half_two_sided_small_case() {
        // n = 5, k = 1: 2 * (1 + 5) / 32.
        assert_eq!(binomial_half_two_sided(1, 5), 12.0 / 32.0);
    }
}
