"""Everything that reads git: the one-pass history, the approval gate, the base diff and the review."""
