"""afroadv: how badly does a multilingual encoder break on real-world African-language text?

Importing the package stays light (no torch, transformers or textattack): those load inside the
commands that need them. The Python API (afroadv.perturb, generate, evaluate, attack, check) is in
afroadv/api.py.
"""

__version__ = "0.3.0"

from afroadv.errors import AfroadvError  # noqa: E402

from afroadv.api import Entry as _Entry, Package as _Package  # noqa: E402  (light: no heavy imports)

# afroadv.perturb / generate / evaluate / attack / check are the API functions (afroadv/api.py); each is
# also the way to its namesake submodule (afroadv.attack.runner ...), which Package keeps from replacing it.
import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _Package
perturb, generate, evaluate, attack, check = (_Entry(name) for name in ("perturb", "generate", "evaluate", "attack", "check"))
__all__ = ["AfroadvError", "__version__", "attack", "check", "evaluate", "generate", "perturb"]
