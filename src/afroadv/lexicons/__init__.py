"""Bilingual lexicons (X→English) shipped in data/lexicons, and their induction from parallel text."""
