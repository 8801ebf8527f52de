"""afroadv: how badly does a multilingual encoder break on real-world African-language text?

Importing the package stays light (no torch, transformers or textattack): those load inside the
commands that need them.
"""

__version__ = "0.3.0"

from afroadv.errors import AfroadvError  # noqa: E402

__all__ = ["AfroadvError", "__version__"]
