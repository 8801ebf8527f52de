"""Model-in-the-loop attacks built on TextAttack. Nothing here is imported by `import afroadv`:
textattack takes seconds to import and must first be staged for offline use (ta_env.py)."""
