//! The median of a few repeats and its range, and what a ratio's range says.

/// Median, minimum and maximum of a set of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none (NaNs are left out).
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        } else {
            sorted[middle]
        };
        Some(Spread {
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        })
    }

    /// A ratio whose range reaches 1.0 from both sides, or touches it: the repeats do not
    /// agree on which side is ahead.
    pub fn is_tie(&self) -> bool {
        self.min <= 1.0 && self.max >= 1.0
    }

    /// "1.64 (1.57-1.97)", with " tie" appended when the range crosses 1.0.
    pub fn ratio_text(&self) -> String {
        let tie = if self.is_tie() { " tie" } else { "" };
        format!("{:.2} ({:.2}-{:.2}){tie}", self.median, self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let odd = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        let even = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[f64::NAN, 5.0]).unwrap().median, 5.0);
    }

    #[test]
    fn a_range_across_one_is_a_tie() {
        let ahead = Spread::of(&[1.57, 1.64, 1.97]).unwrap();
        assert!(!ahead.is_tie());
        assert_eq!(ahead.ratio_text(), "1.64 (1.57-1.97)");
        let behind = Spread::of(&[0.66, 0.74, 0.77]).unwrap();
        assert!(!behind.is_tie());
        let tie = Spread::of(&[0.93, 1.03, 1.26]).unwrap();
        assert!(tie.is_tie());
        assert_eq!(tie.ratio_text(), "1.03 (0.93-1.26) tie");
    }
}
