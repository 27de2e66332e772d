//! A simulated betting market: prices set from Elo, bets placed by RAPTOR where it sees value.
//!
//! The data has no real odds, so the market is invented and everything derived from it is
//! labelled "simulated". A bookmaker prices each side from Elo's probability with a 4.5% margin
//! applied to each side: decimal odds = 1 / (p × 1.045). RAPTOR stakes one unit on a side when
//! its own probability times the odds is at least 1.05, that is an expected return of 5% or more.

/// The bookmaker's margin on each side's implied probability (an overround of 4.5%).
pub const MARGIN: f64 = 0.045;
/// The smallest expected return per unit, probability × odds, at which RAPTOR bets.
pub const MIN_EXPECTED_RETURN: f64 = 1.05;
/// The stake of every bet, in units.
pub const STAKE_UNITS: f64 = 1.0;
/// The shortest price offered; a side that would pay less is not offered at all.
pub const MIN_ODDS: f64 = 1.01;

/// Decimal odds on the two sides of a game.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// Odds on team1 winning (side 1), `None` when too short to offer.
    pub team1: Option<f64>,
    /// Odds on team2 winning (side 0), `None` when too short to offer.
    pub team2: Option<f64>,
}

/// A simulated wager, sent as the prediction's `bet`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bet {
    /// 1 for team1 winning, 0 for team2 winning, as the binary `actual` is written.
    pub side: u8,
    /// Decimal odds taken.
    pub odds: f64,
    /// Units staked.
    pub stake: f64,
}

impl Bet {
    /// Returns the profit in units: stake × (odds − 1) on a win, −stake otherwise.
    pub fn profit(&self, team1_won: bool) -> f64 {
        if (self.side == 1) == team1_won {
            self.stake * (self.odds - 1.0)
        } else {
            -self.stake
        }
    }
}

/// Prices both sides of a game from Elo's probability that team1 wins.
pub fn price(elo_prob1: f64) -> Prices {
    Prices {
        team1: side_odds(elo_prob1),
        team2: side_odds(1.0 - elo_prob1),
    }
}

fn side_odds(probability: f64) -> Option<f64> {
    let implied = probability * (1.0 + MARGIN);
    if implied <= 0.0 {
        return None;
    }
    let odds = 1.0 / implied;
    (odds >= MIN_ODDS).then_some(odds)
}

/// Returns RAPTOR's bet on a game, if either side's expected return reaches the minimum.
pub fn raptor_bet(prices: Prices, raptor_prob1: f64) -> Option<Bet> {
    let sides = [(1, prices.team1, raptor_prob1), (0, prices.team2, 1.0 - raptor_prob1)];
    // Both sides can never qualify at once: that would need the two probabilities to sum past
    // 1.05 / 1.045 of the implied ones, which sum to 1.045.
    sides.into_iter().find_map(|(side, odds, probability)| {
        let odds = odds?;
        (probability * odds >= MIN_EXPECTED_RETURN).then_some(Bet {
            side,
            odds,
            stake: STAKE_UNITS,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_applies_margin_to_each_side() {
        let prices = price(0.5);
        assert!((prices.team1.unwrap() - 1.0 / (0.5 * 1.045)).abs() < 1e-12);
    }

    #[test]
    fn price_overround_is_margin() {
        let prices = price(0.7);
        let overround = 1.0 / prices.team1.unwrap() + 1.0 / prices.team2.unwrap();
        assert!((overround - 1.045).abs() < 1e-12);
    }

    #[test]
    fn price_withholds_near_certain_side() {
        assert_eq!(price(0.97).team1, None);
    }

    #[test]
    fn price_withholds_zero_probability_side() {
        assert_eq!(price(1.0).team2, None);
    }

    #[test]
    fn raptor_bets_on_team1_with_edge() {
        // Odds 1 / (0.5 × 1.045) ≈ 1.914; 0.56 × 1.914 ≈ 1.072 ≥ 1.05.
        let bet = raptor_bet(price(0.5), 0.56).unwrap();
        assert_eq!(bet.side, 1);
    }

    #[test]
    fn raptor_bets_on_team2_with_edge() {
        let bet = raptor_bet(price(0.5), 0.44).unwrap();
        assert_eq!(bet.side, 0);
    }

    #[test]
    fn raptor_skips_small_edge() {
        // 0.54 × 1.914 ≈ 1.034 < 1.05, and 0.46 on the other side is below the market.
        assert_eq!(raptor_bet(price(0.5), 0.54), None);
    }

    #[test]
    fn raptor_skips_when_agreeing() {
        assert_eq!(raptor_bet(price(0.62), 0.62), None);
    }

    #[test]
    fn bet_profit_on_win() {
        let bet = Bet {
            side: 1,
            odds: 2.5,
            stake: 1.0,
        };
        assert!((bet.profit(true) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn bet_loss_is_stake() {
        let bet = Bet {
            side: 0,
            odds: 2.5,
            stake: 1.0,
        };
        assert_eq!(bet.profit(true), -1.0);
    }
}
