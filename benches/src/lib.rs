//! Benches live in `benches/`: `cargo bench -p stratus-benches`.
