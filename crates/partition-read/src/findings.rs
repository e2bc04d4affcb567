//! Findings, and a collector bounded per code: a damaged image repeats one problem thousands of
//! times, and neither a report nor a fuzzer's memory should grow with that. `C` is a reader's
//! own finding code (FAT32's, EROFS's); the messages are the reader's own too.

use std::fmt;

/// One problem: its code, a message for people, and the path it concerns (None for the
/// filesystem as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding<C> {
    pub code: C,
    pub message: String,
    pub path: Option<String>,
}

impl<C: fmt::Display> fmt::Display for Finding<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Keeps at most `CAP` findings of each code, in the order added, and counts the ones left out.
#[derive(Debug)]
pub struct CappedFindings<C, const CAP: usize> {
    kept: Vec<Finding<C>>,
    /// Per code, in the order first seen: (code, kept, left out). Readers have a few dozen codes
    /// at most, so a linear search beats a map.
    tally: Vec<(C, usize, usize)>,
}

impl<C, const CAP: usize> Default for CappedFindings<C, CAP> {
    fn default() -> Self {
        CappedFindings {
            kept: Vec::new(),
            tally: Vec::new(),
        }
    }
}

impl<C: Copy + Ord, const CAP: usize> CappedFindings<C, CAP> {
    fn tally(&mut self, code: C) -> &mut (C, usize, usize) {
        let at = match self.tally.iter().position(|t| t.0 == code) {
            Some(at) => at,
            None => {
                self.tally.push((code, 0, 0));
                self.tally.len() - 1
            }
        };
        &mut self.tally[at]
    }

    /// Whether a finding of `code` would be kept. When not, it is counted as left out: hot
    /// paths ask first and skip building a message (and a path) no one will see.
    pub fn wants(&mut self, code: C) -> bool {
        let tally = self.tally(code);
        if tally.1 < CAP {
            return true;
        }
        tally.2 += 1;
        false
    }

    /// Keeps the finding when fewer than `CAP` of `code` are kept, else counts it as left out.
    pub fn add(&mut self, code: C, path: Option<String>, message: String) {
        let tally = self.tally(code);
        if tally.1 < CAP {
            tally.1 += 1;
            self.kept.push(Finding {
                code,
                message,
                path,
            });
        } else {
            tally.2 += 1;
        }
    }

    /// The kept findings, then one per code with any left out saying how many, in the order
    /// the codes were first found.
    pub fn finish(self) -> Vec<Finding<C>> {
        self.finish_with(|_| {})
    }

    /// As [`finish`](Self::finish), but the left-out counts in the codes' order.
    pub fn finish_by_code(self) -> Vec<Finding<C>> {
        self.finish_with(|left_out| left_out.sort_by_key(|(code, _)| *code))
    }

    fn finish_with(mut self, order: impl FnOnce(&mut Vec<(C, usize)>)) -> Vec<Finding<C>> {
        let mut left_out: Vec<(C, usize)> = self
            .tally
            .iter()
            .filter(|t| t.2 > 0)
            .map(|&(code, _, left_out)| (code, left_out))
            .collect();
        order(&mut left_out);
        self.kept
            .extend(left_out.into_iter().map(|(code, count)| Finding {
                code,
                message: format!("{count} more problems of this kind are not listed"),
                path: None,
            }));
        self.kept
    }
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
