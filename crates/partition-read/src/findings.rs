//! A findings collector bounded per code: a damaged image repeats one problem thousands of
//! times, and neither a report nor a fuzzer's memory should grow with that.

/// Keeps at most `cap` findings of each code, in the order added, and counts the ones left out.
/// `C` is a reader's finding code, `F` its finding.
#[derive(Debug)]
pub struct CappedFindings<C, F> {
    cap: usize,
    kept: Vec<F>,
    /// Per code, in the order first seen: (code, kept, left out). Readers have a few dozen codes
    /// at most, so a linear search beats a map.
    tally: Vec<(C, usize, usize)>,
}

impl<C: Copy + Eq, F> CappedFindings<C, F> {
    pub fn new(cap: usize) -> Self {
        CappedFindings {
            cap,
            kept: Vec::new(),
            tally: Vec::new(),
        }
    }

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
    /// paths ask first and skip building a message no one will see.
    pub fn wants(&mut self, code: C) -> bool {
        let cap = self.cap;
        let tally = self.tally(code);
        if tally.1 < cap {
            return true;
        }
        tally.2 += 1;
        false
    }

    /// Keeps `finding` when fewer than the cap of `code` are kept, else counts it as left out.
    pub fn add(&mut self, code: C, finding: F) {
        let cap = self.cap;
        let tally = self.tally(code);
        if tally.1 < cap {
            tally.1 += 1;
            self.kept.push(finding);
        } else {
            tally.2 += 1;
        }
    }

    /// The kept findings in the order added, and per code with any left out (in the order the
    /// codes were first seen) how many were left out.
    pub fn finish(self) -> (Vec<F>, Vec<(C, usize)>) {
        let left_out = self
            .tally
            .into_iter()
            .filter(|t| t.2 > 0)
            .map(|(code, _, left_out)| (code, left_out))
            .collect();
        (self.kept, left_out)
    }
}

/// The message of the finding that stands for `count` left out of one code.
pub fn left_out_message(count: usize) -> String {
    format!("{count} more problems of this kind are not listed")
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
