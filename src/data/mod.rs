//! Data handling: splitting, reading IDX files.
