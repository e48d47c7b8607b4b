"""Movement of agents and NPCs, one tile per tick in a cardinal direction.

A move succeeds when the destination is passable (rules.md §1 "Materials") and, with
``exclusive_tiles`` on, holds no entity. Moves resolve one entity at a time in a random order,
so two entities cannot both take the last free tile. Frozen entities do not move.
"""

from __future__ import annotations

from numba import njit

from metammo.constants import MOVE_DELTA, PASSABLE, Event
from metammo.systems.common import emit, shuffled

_MOVE = int(Event.MOVE)


@njit(cache=True)
def can_enter(material, agents, npcs, r, c, exclusive):
    """Whether an entity may step onto tile (r, c), given the :class:`~metammo.state.Tiles`
    arrays. Branch-free, and plain arrays rather than the NamedTuple so that helpers which
    branch can call it: see ``combat.py``'s note."""
    return PASSABLE[material[r, c]] & ((not exclusive) | (agents[r, c] + npcs[r, c] == 0))


@njit(cache=True)
def movement(ent, tiles, events, rng, p):
    """Phase: apply this tick's moves (``Entities.act_move``)."""
    for i in shuffled(rng, ent.alive.shape[0]):
        m = ent.act_move[i]
        if m == 0 or not ent.alive[i] or ent.freeze[i] > 0:
            continue
        r, c = ent.row[i], ent.col[i]
        nr, nc = r + MOVE_DELTA[m, 0], c + MOVE_DELTA[m, 1]
        if not can_enter(tiles.material, tiles.agents, tiles.npcs, nr, nc, p.exclusive):
            continue
        ent.row[i], ent.col[i] = nr, nc
        if i < p.num_agents:
            tiles.agents[r, c] -= 1
            tiles.agents[nr, nc] += 1
            emit(events, _MOVE, i, -1, m)
        else:
            tiles.npcs[r, c] -= 1
            tiles.npcs[nr, nc] += 1
