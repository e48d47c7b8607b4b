"""Aging and deaths (rules.md §1 "Death and spawn").

Aging runs at the start of upkeep: live entities grow one tick older, freezes count down, and
NPCs above 0 HP regain 1 HP (regeneration never undoes a lethal hit of the same tick). Deaths run at the end of the tick: every entity at zero health or below dies
at once; its killer (if any) is credited with a player or NPC kill. Dead NPC slots are freed for
the population phase to refill; agents do not respawn unless a game revives them.
"""

from __future__ import annotations

from numba import njit

from metammo.constants import (
    COMBAT_NEVER,
    FOOD_MAX,
    HEALTH_MAX,
    NPC_REGEN,
    STARTING_GOLD,
    WATER_MAX,
    Event,
    Kind,
)
from metammo.systems.common import emit
from metammo.systems.items import loot

_DEATH, _PLAYER_KILL, _NPC_KILL = int(Event.DEATH), int(Event.PLAYER_KILL), int(Event.NPC_KILL)
_NONE, _AGENT = int(Kind.NONE), int(Kind.AGENT)


@njit(cache=True)
def age(ent, p):
    """Phase: time alive, freeze countdown and NPC regeneration."""
    for i in range(ent.alive.shape[0]):
        if not ent.alive[i]:
            continue
        ent.time_alive[i] += 1
        if ent.freeze[i] > 0:
            ent.freeze[i] -= 1
        if i >= p.num_agents and ent.health[i] > 0:  # a lethal hit this tick stands
            ent.health[i] = min(ent.health[i] + NPC_REGEN, HEALTH_MAX)


@njit(cache=True)
def deaths(ent, inv, tiles, events, rng, p):
    """Phase: entities at zero health die; kills are credited; with items on, belongings go to
    the killer or are lost (:func:`metammo.systems.items.loot`)."""
    for i in range(ent.alive.shape[0]):
        if not ent.alive[i] or ent.health[i] > 0:
            continue
        ent.alive[i] = False
        ent.health[i] = 0
        r, c = ent.row[i], ent.col[i]
        killer = ent.killer[i]
        emit(events, _DEATH, i, killer, 0)
        if killer >= 0:
            emit(events, _PLAYER_KILL if i < p.num_agents else _NPC_KILL, killer, i, 0)
        if p.items:
            loot(ent, inv, events, rng, p, i)
        if i < p.num_agents:
            tiles.agents[r, c] -= 1
        else:
            tiles.npcs[r, c] -= 1
            ent.kind[i] = _NONE


@njit(cache=True)
def revive(ent, i, r, c, kind, team, health, level, style):
    """Make slot ``i`` a fresh live entity of ``kind`` on tile (r, c): ``health``, full food and
    water, ``level`` in every skill and no XP, main ``style``, no combat history, pending
    action, freeze, message or NPC goal (its ``leader`` flag is kept); an agent gets the starting gold (its inventory emptied at its
    death). The one place an entity (re)enters the world; the caller counts
    it on its tile (``Tiles.agents`` / ``Tiles.npcs``)."""
    ent.row[i], ent.col[i] = r, c
    ent.alive[i] = True
    ent.kind[i] = kind
    ent.team[i] = team
    ent.health[i], ent.food[i], ent.water[i] = health, FOOD_MAX, WATER_MAX
    ent.level[i, :] = level
    ent.xp[i, :] = 0
    ent.style[i] = style
    ent.last_attacker[i] = -1
    ent.killer[i] = -1
    ent.combat_tick[i] = COMBAT_NEVER
    ent.act_move[i] = 0
    ent.act_target[i] = -1
    ent.time_alive[i] = 0
    ent.freeze[i] = 0
    ent.message[i] = 0
    ent.gold[i] = STARTING_GOLD if kind == _AGENT else 0
    ent.goal_row[i] = -1
    ent.goal_col[i] = -1


def kill_agents(state, p, agents, kernels) -> None:
    """Kill the live ones of ``agents`` (int array of agent slots) now, outside combat, by a
    game's rule (e.g. a leader's death kills its team): no killer is credited; belongings are
    lost as at any death (:func:`deaths`). Params ``p`` are the episode's; ``deaths`` is called
    through the caller's :class:`~metammo.kernels.Kernels` ``kernels``, so every call must
    pass a state and params of the types of its first call (the same env's state does)."""
    ent = state.entities
    agents = agents[ent.alive[agents]]
    if len(agents) == 0:
        return
    ent.health[agents] = 0
    ent.killer[agents] = -1
    kernels(deaths, ent, state.inventory, state.tiles, state.events, state.rng, p)
