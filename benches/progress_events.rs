//! Load generator for POST /api/v1/progress/events (written by scripts/bench-events.sh's author).
fn main() {}
