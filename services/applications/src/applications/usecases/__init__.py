"""Use cases: one function per command; each opens a unit of work and commits once."""
