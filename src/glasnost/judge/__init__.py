"""The judge (public API filled in below)."""
