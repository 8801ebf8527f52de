"""Data layer: readers that turn files into Pair records, the dataset catalogue, and writers."""

from afroadv.data.pairs import Pair

__all__ = ["Pair"]
