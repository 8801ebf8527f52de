"""Perturbations: one small class per kind (word → word, drawing from an explicit rng),
composed by recipes (recipes/*.yaml) into a Perturber. generate, attack and train share them."""

from afroadv.perturb.recipe import Recipe, list_recipes, load_recipe

__all__ = ["Recipe", "list_recipes", "load_recipe"]
