"""Domain randomization: a declarative spec of distributions over config keys.

A spec maps tunable config keys (:class:`metammo.config.Tunables`) to distributions; each
episode draws one value per key from the episode Generator. Specs are Python values in game
modules, or plain data (for command lines and files)::

    {"npc_count": {"integers": [64, 255]},       # uniform integer, both ends included
     "fog_onset": {"integers": [32, 255]},
     "fog_speed": {"one_over": [7, 11]},          # 1 / uniform integer
     "water_threshold": {"uniform": [0.05, 0.15]},
     "terrain": {"choice": [false, true], "p": [0.2, 0.8]}}

:func:`parse` checks each entry's form: a tunable key, one known distribution, finite numbers as
ends, in order (integers for an int key, whose values ``uniform`` and ``one_over`` would not be),
and each value the entry can take within its key's range (also when an env does not randomize).
The env checks every corner of the ranges (each combination of their ends: the configs' rules are
orderings and bounds, so a box whose corners pass passes everywhere) against its config when it
is made (:meth:`minigames.base.Minigame.check_config`), so a bad spec fails then, not mid-run; a
spec with more than :data:`minigames.base.MAX_CORNERS` corners has each end checked alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from metammo.config import Shape, Tunables, check_tunables
from metammo.files import plain


@dataclass(frozen=True)
class Integers:
    """Uniform integer in ``[lo, hi]`` (both included)."""

    lo: int
    hi: int

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.lo, self.hi + 1))

    def support(self) -> tuple:
        return self.lo, self.hi


@dataclass(frozen=True)
class Uniform:
    """Uniform float in ``[lo, hi)``."""

    lo: float
    hi: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.lo, self.hi))

    def support(self) -> tuple:
        return self.lo, self.hi


@dataclass(frozen=True)
class OneOver:
    """``1 / k`` for ``k`` a uniform integer in ``[lo, hi]`` (the reference's fog speeds)."""

    lo: int
    hi: int

    def sample(self, rng: np.random.Generator) -> float:
        return 1.0 / int(rng.integers(self.lo, self.hi + 1))

    def support(self) -> tuple:
        return 1.0 / self.lo, 1.0 / self.hi


@dataclass(frozen=True)
class Choice:
    """One of ``values``, with probabilities ``p`` (default uniform)."""

    values: tuple
    p: tuple | None = None

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[rng.choice(len(self.values), p=self.p)]

    def support(self) -> tuple:
        return self.values


Distribution = Integers | Uniform | OneOver | Choice
_KINDS = {"integers": Integers, "uniform": Uniform, "one_over": OneOver, "choice": Choice}
_TUNABLE_KEYS = sorted(Tunables.__dataclass_fields__)


def is_int(x: Any) -> bool:
    """An int, Python's or numpy's (not a bool)."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def is_number(x: Any) -> bool:
    """An int or a float, Python's or numpy's (not a bool)."""
    return is_int(x) or isinstance(x, (float, np.floating))


def _check(key: str, dist: Any) -> None:
    if key in Shape.__dataclass_fields__:
        raise ValueError(f"randomization: {key!r} is a shape key, fixed for an env's life (it sizes the "
                         f"arrays); only tunable keys vary per episode: {_TUNABLE_KEYS}")
    if key not in _TUNABLE_KEYS:
        raise ValueError(f"randomization: unknown config key {key!r}; allowed: {_TUNABLE_KEYS}")
    if not isinstance(dist, (Integers, Uniform, OneOver, Choice)):
        raise ValueError(f"randomization of {key!r}: not a distribution: {dist!r}; use one of {sorted(_KINDS)}")
    if isinstance(dist, Choice):
        if not dist.values:
            raise ValueError(f"randomization of {key!r}: choice needs at least one value")
        if dist.p is not None:
            ok = isinstance(dist.p, (list, tuple, np.ndarray)) and all(is_number(x) for x in dist.p)
            p = np.asarray(dist.p if ok else [], np.float64)
            if p.shape != (len(dist.values),) or (p < 0).any() or not np.isclose(p.sum(), 1.0):
                raise ValueError(f"randomization of {key!r}: p must be {len(dist.values)} non-negative "
                                 f"numbers summing to 1, got {dist.p!r}")
        return
    kind = next(name for name, cls in _KINDS.items() if isinstance(dist, cls))
    if isinstance(dist, Uniform):
        if not (is_number(dist.lo) and is_number(dist.hi)):
            raise ValueError(f"randomization of {key!r}: uniform takes two numbers, got [{dist.lo!r}, {dist.hi!r}]")
        if not (np.isfinite(dist.lo) and np.isfinite(dist.hi)):
            raise ValueError(f"randomization of {key!r}: uniform's ends must be finite numbers, "
                             f"got [{dist.lo}, {dist.hi}]")
        if type(Tunables.__dataclass_fields__[key].default) is int:
            raise ValueError(f"randomization of {key!r}: an int key takes 'integers' or 'choice', not 'uniform'")
    elif not (is_int(dist.lo) and is_int(dist.hi)):
        raise ValueError(f"randomization of {key!r}: {kind} takes two integers, got [{dist.lo!r}, {dist.hi!r}]")
    elif isinstance(dist, OneOver) and type(Tunables.__dataclass_fields__[key].default) is not float:
        raise ValueError(f"randomization of {key!r}: 'one_over' draws fractions, for number keys only")
    if not dist.lo <= dist.hi or (isinstance(dist, OneOver) and dist.lo < 1):
        need = "1 <= lo <= hi" if isinstance(dist, OneOver) else "lo <= hi"
        raise ValueError(f"randomization of {key!r}: need {need}, got [{dist.lo}, {dist.hi}]")


def _plain(dist: Distribution) -> Distribution:
    """``dist`` (checked) with Python numbers in place of numpy ones, so what it draws and its
    range ends are what a config takes."""
    if isinstance(dist, Choice):
        p = None if dist.p is None else tuple(float(x) for x in dist.p)
        return Choice(tuple(plain(v) for v in dist.values), p)
    return type(dist)(plain(dist.lo), plain(dist.hi))


def _from_data(key: str, body: Any) -> Distribution:
    """The distribution of the plain-data entry ``body`` of ``key`` (unchecked values)."""
    if not isinstance(body, Mapping) or len(set(body) & set(_KINDS)) != 1:
        raise ValueError(f"randomization of {key!r}: give exactly one of {sorted(_KINDS)}, got {body!r}")
    kind = next(k for k in body if k in _KINDS)
    args = body[kind]
    extra = set(body) - {kind, "p"} if kind == "choice" else set(body) - {kind}
    if extra:
        raise ValueError(f"randomization of {key!r}: unknown fields {sorted(extra)}")
    if kind == "choice":
        if not isinstance(args, (list, tuple)):
            raise ValueError(f"randomization of {key!r}: choice takes a list of values, got {args!r}")
        return Choice(tuple(args), body.get("p"))
    if not isinstance(args, (list, tuple)) or len(args) != 2:
        raise ValueError(f"randomization of {key!r}: {kind} takes [lo, hi], got {args!r}")
    return _KINDS[kind](*args)


def parse(data: Mapping[str, Any]) -> dict[str, Any]:
    """A spec from plain data (the module docstring's form) or distributions, with numpy
    numbers made Python ones.

    Raises:
        ValueError: not a mapping, an unknown config key or distribution kind, malformed
            arguments (see the module docstring), or a value outside its key's range.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"randomization spec must be a mapping of config key -> distribution, got {data!r}")
    spec = {}
    for key, body in data.items():
        dist = body if isinstance(body, (Integers, Uniform, OneOver, Choice)) else _from_data(key, body)
        _check(key, dist)
        spec[key] = _plain(dist)
        for end in spec[key].support():  # each value the key takes (whether or not an env draws it)
            try:
                check_tunables({key: end})
            except ValueError as err:
                raise ValueError(f"randomization of {key!r}: {err}") from None
    return spec


def sample(spec: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One value per key of ``spec`` (as :func:`parse` returns it: Python numbers), drawn in key
    order from ``rng``."""
    return {key: spec[key].sample(rng) for key in sorted(spec)}
