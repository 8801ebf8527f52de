"""Maintainer builds of the shipped resources (letters, function words, names, number words,
spelling variants, lexicons) from the source corpora in ../shared/data. Users never need these:
the results ship in data/. `python -m afroadv.build` rebuilds them all."""
