"""Compose: pure selection. Candidates in, an ordered, budgeted edition plan out; no I/O."""
