"""Consistency training (`afroadv train --method consistency`): the STS task loss plus
λ × (1 − cos(student(x′), target(x))) on unlabeled African-language sentences x.

x′ is x rewritten by one of `recipes` (meaning-keeping ones only). The target is `frozen`
(default): the starting model's embedding of x, computed once through the embedding cache before
training; or `self`: the model's own embedding of the clean x, recomputed each step without
gradient. The encoder is to learn that a sentence and its typo'd, code-switched or romanised self
mean the same, without a single target-language label. Measured on e5-small (docs/training.md),
neither target reduced the drop: frozen pulls x′ to where the starting model put x while the task
moves x; self shrinks the distance by making the sentences less distinct.

Every draw is a pure function of (seed, row): row r takes language `langs[r % L]`, the next
sentence of that language's seeded permutation of its pool, and a recipe from a seeded order
(the next one when a recipe finds nothing to change). Nothing here imports torch at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from afroadv.errors import AfroadvError
from afroadv.langs import get_language
from afroadv.perturb.recipe import Perturber, derived_rng, load_recipe
from afroadv.perturb.rng import stream_key

DEFAULT_RECIPES = ("charnoise", "codeswitch", "translit")
TARGETS = ("frozen", "self")  # the experiment's "trained" recipes
DEFAULT_WEIGHT = 30.0  # λ: the STS loss is ~4, the distance ~0.03; in a 40-step pilot (frozen target) λ = 1 let it grow, λ = 30 held it


@dataclass(frozen=True)
class Draw:
    lang: str
    text: str  # the clean sentence (the teacher sees it)
    perturbed: str  # what the student sees
    recipe: str | None  # None: no recipe changed this sentence (x′ = x)
    n_changed: int


@dataclass
class ConsistencyDraws:
    recipes: tuple[str, ...]
    langs: tuple[str, ...]
    seed: int = 0
    _perturbers: dict = field(default_factory=dict, init=False, repr=False)
    _pools: dict = field(default_factory=dict, init=False, repr=False)
    _orders: dict = field(default_factory=dict, init=False, repr=False)  # (lang, cycle) -> the pool's order

    def __post_init__(self):
        self.langs = tuple(dict.fromkeys(get_language(c).code for c in self.langs))
        if not self.langs:
            raise AfroadvError("--method consistency needs --langs (the languages of the unlabeled text)")
        given = bool(self.recipes)
        self.recipes = tuple(dict.fromkeys(load_recipe(r).require_invariance("consistency training").name
                                           for r in (self.recipes or DEFAULT_RECIPES)))
        if not given:  # the defaults that apply to at least one of the languages
            self.recipes = tuple(r for r in self.recipes
                                 if any(load_recipe(r).supports(get_language(c)) for c in self.langs))
        for name in self.recipes:
            recipe = load_recipe(name)
            if not any(recipe.supports(get_language(c)) for c in self.langs):
                raise AfroadvError(f"recipe {name!r} applies to none of --langs {','.join(self.langs)}; it supports: "
                                   f"{', '.join(recipe.supported_languages())}")
        for code in self.langs:
            if not self.recipes_for(code):
                raise AfroadvError(f"none of the recipes {', '.join(self.recipes)} applies to {code}")

    def recipes_for(self, lang: str) -> list[str]:
        return [r for r in self.recipes if load_recipe(r).supports(get_language(lang))]

    def set_pools(self, pools: dict[str, tuple[str, ...]]) -> None:
        """The unlabeled sentences of each language (each recipe learns names etc. from its pool)."""
        from afroadv.words import TextContext

        missing = [c for c in self.langs if not pools.get(c)]
        if missing:
            raise AfroadvError(f"no unlabeled sentences for {', '.join(missing)}")
        self._pools = {c: tuple(pools[c]) for c in self.langs}
        for code, texts in self._pools.items():
            lang, context = get_language(code), TextContext.learn(list(texts))
            for name in self.recipes_for(code):
                self._perturbers[(name, code)] = load_recipe(name).perturber(lang, context=context, set_texts=texts)

    def _sentence(self, lang: str, j: int) -> str:
        pool = self._pools[lang]
        cycle, i = divmod(j, len(pool))
        order = self._orders.get((lang, cycle))
        if order is None:
            order = list(range(len(pool)))
            derived_rng(self.seed, "consistency-order", lang, cycle).shuffle(order)
            self._orders = {(lang, cycle): order, **{k: v for k, v in self._orders.items() if k[0] != lang}}
        return pool[order[i]]

    def draw(self, row: int) -> Draw:
        """Row `row`'s sentence and its perturbed self (a pure function of seed and row)."""
        if not self._pools:
            raise AfroadvError("ConsistencyDraws.set_pools() must come before draw()")
        lang = self.langs[row % len(self.langs)]
        text = self._sentence(lang, row // len(self.langs))
        names = self.recipes_for(lang)
        derived_rng(self.seed, "consistency-recipe", row).shuffle(names)
        for name in names:
            p: Perturber = self._perturbers[(name, lang)]
            r = p.perturb_text(text, stream_key(self.seed, "consistency", name, lang, row), 0)
            if r.n_changed and r.text != text:
                return Draw(lang, text, r.text, name, r.n_changed)
        return Draw(lang, text, text, None, 0)

    def draws(self, n: int) -> list[Draw]:
        return [self.draw(r) for r in range(n)]

    def describe(self) -> dict:
        versions: dict[str, str] = {}
        for p in self._perturbers.values():
            versions.update(p.resource_versions)
        return {"recipes": list(self.recipes), "langs": list(self.langs), "seed": self.seed,
                "recipe_languages": {r: [c for c in self.langs if (r, c) in self._perturbers] for r in self.recipes},
                "recipe_parameters": {r: load_recipe(r).params() for r in self.recipes},
                "recipe_resources": versions}


def draw_stats(draws: list[Draw]) -> dict:
    from collections import Counter

    n = len(draws)
    changed = [d for d in draws if d.recipe]
    return {"draws": n, "distinct_sentences": len({(d.lang, d.text) for d in draws}),
            "changed_share": round(len(changed) / n, 4) if n else 0.0,
            "per_language": dict(sorted(Counter(d.lang for d in draws).items())),
            "per_recipe": dict(sorted(Counter(d.recipe or "unchanged" for d in draws).items()))}


def teacher_embeddings(rm, texts: list[str], *, prompt: str, device: str, dtype: str, max_length: int,
                       batch_size: int = 32):
    """The frozen starting model's embeddings of the clean sentences, through the embedding cache
    (a rerun, or a second method on the same sentences, encodes nothing). Returns (vectors, record).
    Under a distributed launch each rank encodes on its own GPU (LOCAL_RANK)."""
    import os

    from afroadv.models import default_cache, load_encoder
    from afroadv.models.encoders import release_loaded_models

    cache = default_cache()
    hits0, misses0 = cache.hits, cache.misses
    if device == "cuda" and os.environ.get("LOCAL_RANK"):
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    encoder = load_encoder(rm, kind="bi", device=device, dtype=dtype, prefix=prompt, batch_size=batch_size,
                           max_length=max_length)
    encoder.progress_label = "teacher"
    vectors = encoder.encode(texts)
    record = {"model_id": rm.model_id, "fingerprint": rm.fingerprint, "dtype": encoder.dtype, "device": encoder.device,
              "max_length": encoder.max_length, "sentences": len(set(texts)),
              "cache": {"hits": cache.hits - hits0, "misses": cache.misses - misses0, "namespace": encoder.namespace},
              "encode_seconds": round(encoder.forward_seconds + encoder.load_seconds, 2)}
    release_loaded_models()  # the student loads its own copy; two teachers never sit in memory
    return vectors, record


def consistency_loss(model, task_loss, weight: float, target: str = "frozen"):
    """A loss module for sentence-transformers' trainer. `frozen`: columns (sentence1, sentence2,
    unlabeled) and label = [gold, *teacher embedding]; `self`: columns (sentence1, sentence2,
    unlabeled, unlabeled_clean) and label = [gold], the target being the model's own embedding of
    the clean sentence without gradient (it moves with the model, as the task loss moves it)."""
    import torch
    import torch.nn.functional as F

    class ConsistencyLoss(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.task_loss = task_loss
            self.weight = float(weight)
            self.parts: list[tuple[float, float]] = []  # (task, consistency) per micro-batch, this process

        def forward(self, sentence_features, labels):
            features = list(sentence_features)
            if len(features) != (4 if target == "self" else 3):
                raise AfroadvError("consistency training needs the columns sentence1, sentence2, unlabeled"
                                   + (", unlabeled_clean" if target == "self" else ""))
            emb = [self.model(f)["sentence_embedding"] for f in features[:3]]
            task = self.task_loss.compute_loss_from_embeddings(emb[:2], labels[:, 0])
            if target == "self":
                with torch.no_grad():
                    teacher = self.model(features[3])["sentence_embedding"].detach()
            else:
                teacher = labels[:, 1:].to(emb[2].dtype)
            cons = (1.0 - F.cosine_similarity(emb[2], teacher, dim=-1)).mean()
            self.parts.append((float(task.detach()), float(cons.detach())))
            return task + self.weight * cons

        def get_config_dict(self):
            return {"task_loss": type(self.task_loss).__name__, "consistency_weight": self.weight,
                    "consistency_target": target}

        @property
        def citation(self):
            return getattr(self.task_loss, "citation", None)

    return ConsistencyLoss()


def parts_summary(parts: list[tuple[float, float]]) -> dict:
    """Mean task and consistency loss over the first and the last tenth of the micro-batches."""
    if not parts:
        return {}
    k = max(1, len(parts) // 10)

    def mean(xs, i):
        return round(sum(x[i] for x in xs) / len(xs), 5)

    return {"batches": len(parts), "task_first": mean(parts[:k], 0), "task_last": mean(parts[-k:], 0),
            "consistency_first": mean(parts[:k], 1), "consistency_last": mean(parts[-k:], 1)}


__all__ = ["DEFAULT_RECIPES", "DEFAULT_WEIGHT", "TARGETS", "ConsistencyDraws", "Draw", "consistency_loss", "draw_stats",
           "teacher_embeddings"]
