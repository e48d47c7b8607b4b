"""Death fog (rules.md §1 "Death fog"; values from :func:`metammo.systems.common.fog_value`).

Each tick an agent on a tile whose fog value is above 0.5 takes ``round(value)`` damage. The fog
hurts agents only: NPCs are scenery that games keep away from it by where they spawn. On every
map some tile of the safe square is reachable from the edge (the env opens a path at the start of
an episode when the fog will rise, ``metammo.env._join_safe_square``).
"""

from __future__ import annotations

from numba import njit

from metammo.constants import Event
from metammo.systems.common import emit, fog_value

_FOG_DAMAGE = int(Event.FOG_DAMAGE)


@njit(cache=True)
def fog(ent, events, p, tick):
    """Phase: fog damage to agents standing in it."""
    if not p.fog:
        return
    for i in range(p.num_agents):
        if not ent.alive[i]:
            continue
        value = fog_value(ent.row[i], ent.col[i], p.lo, p.hi, tick, p.fog_onset, p.fog_speed, p.fog_final_size)
        if value > 0.5:
            dealt = int(round(value))
            ent.health[i] -= dealt
            emit(events, _FOG_DAMAGE, i, -1, dealt)
