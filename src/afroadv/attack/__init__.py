"""Model-in-the-loop attacks (`afroadv attack`), built on TextAttack's decomposition.

Nothing here is imported by `import afroadv`. Modules:

- core.py        the one source of truth, plain Python: Goal, AttackSpace (recipe → eligible words
                 over afroadv's own tokeniser, or TextAttack's words where both agree; budget,
                 rewrites, text edits)
- search.py      afroadv's engine: the decisions of TextAttack's greedy word-importance search and
                 beam search, in afroadv's own code
- wrapper.py     PairScorer: pair scores that never re-encode a text (memo + persistent cache)
- runner.py      the attack loop: checkpoints, resume, outputs, summary
- command.py     the typer command (imports nothing heavy)
- ta_env.py      imports textattack offline (staged NLTK data, no downloads, cache variables kept);
                 hands out textattack's own word splitter for `words="textattack"`
- goal.py, transformations.py, ta_wrapper.py
                 the same pieces as TextAttack classes (these import textattack, which takes
                 seconds): PairRegressionGoalFunction, RecipeWordSwap + constraints,
                 PairModelWrapper, build_attack
"""
