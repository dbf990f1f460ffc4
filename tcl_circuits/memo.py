"""BoundedCache: the one per-topology cache. A training run compiles, solves and simulates the same network
topology every sample with only values changed, so the structures that depend on the topology alone (names,
factorisation patterns, index maps) are built once and kept, a few at a time, the oldest dropped first."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """Values by key, at most ``size`` of them (the oldest built is dropped first)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._values: dict[Hashable, V] = {}

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value kept for ``key``, built by ``build()`` on first use."""
        value = self._values.get(key)
        if value is None:
            value = build()
            if len(self._values) >= self.size:
                self._values.pop(next(iter(self._values)))
            self._values[key] = value
        return value
