"""Compiled helpers shared by the systems: the random stream, the event log, fog, distances."""

from __future__ import annotations

import numpy as np
from numba import njit

from metammo.constants import ITEM_CODE_STRIDE, MAX_LEVEL, XP_TO_LEVEL, Event

# --- random stream ---------------------------------------------------------------------------
# Kernels draw from splitmix64 (Steele et al. 2014) whose 64-bit state (State.rng) is seeded from
# the episode's numpy Generator at reset, so every draw still derives from the episode seed.

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def next_u64(rng):
    """Advance ``rng`` ((1,) uint64) and return the next 64-bit value."""
    rng[0] += _GOLDEN
    z = rng[0]
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def uniform(rng):
    """A float in [0, 1) from ``rng``."""
    return float(next_u64(rng) >> _S11) * _INV53


@njit(cache=True)
def randint(rng, n):
    """An int in [0, n) from ``rng`` (n >= 1)."""
    return int(uniform(rng) * n)


@njit(cache=True)
def shuffled(rng, n):
    """A random permutation of ``0..n-1`` (Fisher-Yates), int64 array."""
    order = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = randint(rng, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


# --- events ----------------------------------------------------------------------------------


@njit(cache=True)
def emit(events, kind, actor, target, value, item=0):
    """Append ``(kind, actor, target, value, item)`` to this tick's log, count it for ``actor``
    and add ``value`` to its amount; ``item`` is :func:`item_code` of the item involved (0: none)."""
    n = events.num_log[0]
    if n < events.log.shape[0]:
        events.log[n, 0] = kind
        events.log[n, 1] = actor
        events.log[n, 2] = target
        events.log[n, 3] = value
        events.log[n, 4] = item
        events.num_log[0] = n + 1
    events.counts[actor, kind] += 1
    events.amounts[actor, kind] += value


@njit(cache=True)
def item_code(item, level):
    """The event log's ``item`` column for an item of type ``item`` at ``level``."""
    return item * ITEM_CODE_STRIDE + level


# --- geometry --------------------------------------------------------------------------------


@njit(cache=True)
def edge_distance(r, c, lo, hi):
    """Rings between tile (r, c) and the playable edge: 0 on the outer ring."""
    return min(r - lo, hi - 1 - r, c - lo, hi - 1 - c)


@njit(cache=True)
def centre_tile(lo, hi):
    """Row (= column) of the centre tile of the playable square ``[lo, hi)^2``; on an even side,
    the nearer-to-``lo`` of the two middle tiles."""
    return (lo + hi - 1) // 2


@njit(cache=True)
def fog_value(r, c, lo, hi, tick, onset, speed, final_size):
    """Death-fog value of tile (r, c) at ``tick`` (rules.md §1 "Death fog").

    0 on the playable edge, -1 per ring inward; from ``onset`` every value rises by ``speed``
    per tick except inside the safe square of half-width ``final_size`` around the centre tile
    (:func:`centre_tile`: ``2 * final_size + 1`` tiles a side). An agent takes ``round(value)``
    damage when the value is above 0.5.
    """
    value = -float(edge_distance(r, c, lo, hi))
    centre = centre_tile(lo, hi)
    safe = abs(r - centre) <= final_size and abs(c - centre) <= final_size
    if tick > onset and not safe:
        value += speed * (tick - onset)
    return value


def fog_rise(tick: int, on: bool, onset: int, speed: float) -> float:
    """How far the death fog has risen at ``tick`` (fog tunables ``fog``, ``fog_onset``,
    ``fog_speed``): ``speed * (tick - onset)`` after the onset, else 0."""
    return speed * (tick - onset) if on and tick > onset else 0.0


@njit(cache=True)
def level_for_xp(xp):
    """Level (1..MAX_LEVEL) reached with ``xp`` experience (rules.md §1 XP thresholds)."""
    level = 1
    while level < MAX_LEVEL and xp >= XP_TO_LEVEL[level]:
        level += 1
    return level


_LEVEL_UP = int(Event.LEVEL_UP)


@njit(cache=True)
def gain_xp(ent, events, i, skill, xp):
    """Agent ``i`` gains ``xp`` in ``skill``; a level reached is an ``Event.LEVEL_UP`` (value: the
    new level). Callers check ``Params.progression`` (rules.md §2 "Configs": full only)."""
    ent.xp[i, skill] += xp
    new_level = level_for_xp(ent.xp[i, skill])
    if new_level > ent.level[i, skill]:
        ent.level[i, skill] = new_level
        emit(events, _LEVEL_UP, i, skill, new_level)
