//! Every instruction-set-specific piece of the scanners: SWAR words that work
//! on any CPU, and the SSE2 and AVX2 forms of the same operations.

pub mod swar;
