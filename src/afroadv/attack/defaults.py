"""Attack defaults, in a module that imports nothing (the CLI reads them for its --help)."""

DEFAULT_DELTA = 0.05  # on the 0–1 score scale (cosine for bi-encoders; gold rescaled to 0–1); see docs/attack.md
DEFAULT_BUDGET = 0.2  # share of the attacked sides' words
DEFAULT_CANDIDATES = 3  # distinct rewrites per transformation per word
GOALS = ("move", "away-from-gold")
SEARCHES = ("greedy", "beam")
SIDE_CHOICES = ("both", "first", "second")
