//! "Did you mean …?" for names that are close to a known one.

use std::fmt;

/// The closest candidate to a misspelt name, if any is close enough to suggest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suggestion(pub Option<String>);

impl Suggestion {
    /// Picks the candidate nearest to `name` by edit distance (a swap of two letters
    /// counts as one edit), when it is within a third of the name's length.
    pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Self {
        let limit = (name.chars().count() / 3).max(1);
        let best = candidates
            .into_iter()
            .map(|candidate| (strsim::osa_distance(name, candidate), candidate))
            .filter(|(distance, candidate)| *distance <= limit && *candidate != name)
            .min();
        Suggestion(best.map(|(_, candidate)| candidate.to_owned()))
    }
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(candidate) => write!(f, " — did you mean {candidate:?}?"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let names = ["fewgenomes", "validation", "common"];
        assert_eq!(
            Suggestion::closest("fewgenomez", names).0.as_deref(),
            Some("fewgenomes")
        );
        assert_eq!(Suggestion::closest("zzz", names).0, None);
        assert_eq!(
            Suggestion::closest("gpc", ["gcp", "azure"]).0.as_deref(),
            Some("gcp")
        );
        assert_eq!(
            Suggestion::closest("fewgenomez", names).to_string(),
            " — did you mean \"fewgenomes\"?"
        );
    }
}
