"""Bridges to other evaluation tools (each imports its tool inside, so afroadv never needs them)."""
