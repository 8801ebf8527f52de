"""Attack defaults, in a module that imports nothing (the CLI reads them for its --help)."""

DEFAULT_DELTA = 0.05  # on the 0–1 score scale (cosine for bi-encoders; gold rescaled to 0–1); see docs/attack.md
DEFAULT_BUDGET = 0.2  # share of the attacked sides' words
DEFAULT_CANDIDATES = 3  # distinct rewrites per transformation per word
DEFAULT_MAX_CHARS = 2000  # longest sentence attacked, in characters: memory and time grow with it (see runner)
MAX_CANDIDATES = 100  # --candidates: every rewrite of every word is built per step, so memory grows with it
MAX_BEAM_WIDTH = 100  # --beam-width: a beam step expands every kept text
GOALS = ("move", "away-from-gold")
SEARCHES = ("greedy", "beam")
SIDE_CHOICES = ("both", "first", "second")
WORDS = ("afroadv", "textattack")  # which tokeniser indexes a pair's words (see core.AttackSpace)
