//! Text cut where lines do not end: a bzip2 block, a cluster's unit of
//! blocks. Its whole lines are folded at once; the pieces at its two edges
//! wait for the neighbours that complete them.
//!
//! Merging neighbours in order folds the line across their seam, so it is
//! associative: the `parallel` rung merges blocks as they come back in file
//! order, a cluster merges units in a tree, and both give one pass's answer.

use serde::{Deserialize, Serialize};

use super::LineFold;

/// Text that may begin and end inside lines, its whole lines folded into `P`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Edges<P> {
    /// Text with no `\n`: the inside of one long line.
    Inside(Vec<u8>),
    Lines {
        /// Text before the first `\n`: the end of the line begun before (the
        /// whole first line, at the start of the input).
        head: Vec<u8>,
        /// The lines wholly inside.
        middle: P,
        /// Text after the last `\n`: the start of a line the next text ends.
        tail: Vec<u8>,
    },
}

impl<P> Default for Edges<P> {
    /// No text: the identity of [`Edges::merge`].
    fn default() -> Self {
        Edges::Inside(Vec::new())
    }
}

impl<P> Edges<P> {
    /// Cut `text` at its first and last `\n` and fold what lies between.
    pub fn of_text<F: LineFold<Part = P>>(text: &[u8], fold: &F) -> Edges<P> {
        let (Some(first), Some(last)) = (memchr::memchr(b'\n', text), memchr::memrchr(b'\n', text))
        else {
            return Edges::Inside(text.to_vec());
        };
        Edges::Lines {
            head: text[..first].to_vec(),
            middle: fold.part(&text[first + 1..last + 1]),
            tail: text[last + 1..].to_vec(),
        }
    }

    /// This text followed by `later`, which begins where this one ends.
    pub fn merge<F: LineFold<Part = P>>(self, later: Edges<P>, fold: &F) -> Edges<P> {
        match (self, later) {
            (Edges::Inside(mut earlier), Edges::Inside(later)) => {
                earlier.extend_from_slice(&later);
                Edges::Inside(earlier)
            }
            (Edges::Inside(mut earlier), Edges::Lines { head, middle, tail }) => {
                earlier.extend_from_slice(&head);
                Edges::Lines {
                    head: earlier,
                    middle,
                    tail,
                }
            }
            (
                Edges::Lines {
                    head,
                    middle,
                    mut tail,
                },
                Edges::Inside(later),
            ) => {
                tail.extend_from_slice(&later);
                Edges::Lines { head, middle, tail }
            }
            (
                Edges::Lines {
                    head,
                    mut middle,
                    mut tail,
                },
                Edges::Lines {
                    head: seam,
                    middle: later,
                    tail: last,
                },
            ) => {
                // The line across the seam, with its `\n`: even an empty one
                // is a line.
                tail.extend_from_slice(&seam);
                tail.push(b'\n');
                fold.merge(&mut middle, fold.part(&tail));
                fold.merge(&mut middle, later);
                Edges::Lines {
                    head,
                    middle,
                    tail: last,
                }
            }
        }
    }

    /// The answer for a whole input: the head is its first line, and a tail
    /// is its last line, without a `\n`.
    pub fn finish<F: LineFold<Part = P>>(self, fold: &F) -> P {
        match self {
            Edges::Inside(text) if text.is_empty() => fold.empty(),
            Edges::Inside(text) => fold.part(&text),
            Edges::Lines {
                mut head,
                middle,
                tail,
            } => {
                head.push(b'\n');
                let mut whole = fold.part(&head);
                fold.merge(&mut whole, middle);
                if !tail.is_empty() {
                    fold.merge(&mut whole, fold.part(&tail));
                }
                whole
            }
        }
    }
}
