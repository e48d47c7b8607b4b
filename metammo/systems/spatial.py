"""Coarse spatial buckets of live entities, rebuilt by a counting sort whenever needed.

Neighbour queries (the entities an agent sees, the agent a hostile NPC chases) scan only the
buckets that overlap a square window instead of every entity: O(entities + window) per query.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Sort keys of neighbour queries are ``distance * SLOT_KEY + slot``: nearest first, then by
#: slot. Above every entity slot (config: num_agents and max_npcs are at most 1024 each).
SLOT_KEY = 4096


@njit(cache=True)
def build_buckets(ent, cell, grid_size, slots):
    """Bucket the live entities among slots ``0 .. slots - 1`` into ``cell x cell`` squares of
    the grid (``slots = num_agents`` buckets the agents only, ``ent.alive.shape[0]`` everyone).

    Returns ``(start, items, ncell)``: the bucketed entities of bucket ``b = (row // cell) * ncell
    + col // cell`` are ``items[start[b]:start[b + 1]]``, in increasing entity order.
    """
    ncell = grid_size // cell + 1
    start = np.zeros(ncell * ncell + 1, np.int64)
    for i in range(slots):
        if ent.alive[i]:
            start[(ent.row[i] // cell) * ncell + ent.col[i] // cell + 1] += 1
    for b in range(ncell * ncell):
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    items = np.empty(slots, np.int64)
    for i in range(slots):
        if ent.alive[i]:
            b = (ent.row[i] // cell) * ncell + ent.col[i] // cell
            items[fill[b]] = i
            fill[b] += 1
    return start, items, ncell
