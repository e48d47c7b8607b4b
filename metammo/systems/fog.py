"""Death fog (rules.md §1 "Death fog"; values from :func:`metammo.systems.common.fog_value`).

Each tick an agent on a tile whose fog value is above 0.5 takes ``round(value)`` damage. The fog
hurts agents only: NPCs are scenery that games keep away from it by where they spawn.
"""

from __future__ import annotations

from numba import njit

from metammo.config import Config
from metammo.constants import Event
from metammo.state import State, playable_bounds
from metammo.systems.common import emit, fog_value

_FOG_DAMAGE = int(Event.FOG_DAMAGE)


@njit(cache=True)
def _fog(ent, events, num_agents, lo, hi, tick, onset, speed, final_size):
    for i in range(num_agents):
        if not ent.alive[i]:
            continue
        value = fog_value(ent.row[i], ent.col[i], lo, hi, tick, onset, speed, final_size)
        if value > 0.5:
            dealt = int(round(value))
            ent.health[i] -= dealt
            emit(events, _FOG_DAMAGE, i, -1, dealt)


def fog(state: State, cfg: Config) -> None:
    """Phase: fog damage to agents standing in it."""
    t = cfg.tunables
    if not t.fog:
        return
    lo, hi = playable_bounds(cfg)
    _fog(
        state.entities, state.events, cfg.shape.num_agents, lo, hi, state.tick,
        t.fog_onset, t.fog_speed, t.fog_final_size,
    )
