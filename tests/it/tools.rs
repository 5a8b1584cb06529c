//! The outside tools that judge our PDFs: the library's one runner
//! (`standing::testing`), shared with the unit tests.

pub use standing::testing::*;
