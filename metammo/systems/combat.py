"""Attacks between entities (rules.md §1 "Combat").

Offense = 10 + 5 * level of the attack style + equipment attack for that style; defense =
5 * the target's highest skill level (combat styles and professions, as the reference's
``combat.level``) + armor defense (equipment: :func:`metammo.systems.items.gear`).
Damage = int(max(mult * offense - defense, 0.25 * offense)), ``mult`` 1.5 when the attack style
counters the target's main style (mage > melee > range > mage), else 1. Reach is Chebyshev.
An attack uses one equipped ammunition of its style, if any (full config).
Agents younger than ``spawn_immunity`` ticks cannot be hit by agents (NPCs may hit them); with
``friendly_fire`` off, teammates cannot hit each other. With progression on (the full config), each
attack by an agent gives 6 XP in its style.

Attacks resolve in a random order but all read health before any death: deaths happen at the
end of the tick, so an entity killed this tick still strikes back. The hit that first takes a
target to zero health is credited with the kill.

A target's main style is its highest-level style; ties go to the style it used last (NPCs: the
style they spawned with).
"""

from __future__ import annotations

from numba import njit

from metammo.constants import (
    BASE_OFFENSE,
    COUNTER_MULTIPLIER,
    COUNTERS,
    DEFENSE_PER_LEVEL,
    MIN_DAMAGE_FRACTION,
    OFFENSE_PER_LEVEL,
    XP_PER_ATTACK,
    Event,
)
from metammo.systems.common import emit, gain_xp, shuffled
from metammo.systems.items import fire_ammo

_SCORE_HIT, _DAMAGED = int(Event.SCORE_HIT), int(Event.DAMAGED)


# The helpers below are single expressions on purpose: numba keeps reference-count updates for
# every array of a NamedTuple argument in a called function that branches, which made a call
# ~250 ns instead of ~1 ns (measured). Keep hot helpers branch-free.


@njit(cache=True)
def main_style(ent, j):
    """The style entity ``j`` is countered on: highest level, ties to its last used style."""
    lv, last = ent.level[j], ent.style[j]
    top = max(lv[0], max(lv[1], lv[2]))
    # the last used style when it is among the highest, else the first highest
    return last if lv[last] == top else (0 if lv[0] == top else (1 if lv[1] == top else 2))


@njit(cache=True)
def damage(ent, i, j, style):
    """Damage of entity ``i`` hitting entity ``j`` with ``style`` (rules.md §1 formula)."""
    offense = BASE_OFFENSE + OFFENSE_PER_LEVEL * ent.level[i, style] + ent.gear_attack[i, style]
    top = ent.level[j, 0]
    for s in range(1, ent.level.shape[1]):  # every skill: combat styles and professions
        top = max(top, ent.level[j, s])
    defense = DEFENSE_PER_LEVEL * top + ent.gear_defense[j]
    mult = COUNTER_MULTIPLIER if COUNTERS[style] == main_style(ent, j) else 1.0
    return int(max(mult * offense - defense, MIN_DAMAGE_FRACTION * offense))


@njit(cache=True)
def can_hit(ent, i, j, num_agents, reach, immunity, friendly_fire):
    """Whether entity ``i`` may attack entity ``j`` now (alive, in reach, not immune, not a
    teammate when friendly fire is off). Used by the action masks and again at resolution."""
    gap = max(abs(ent.row[i] - ent.row[j]), abs(ent.col[i] - ent.col[j]))
    pvp = (i < num_agents) & (j < num_agents)
    pvp_ok = (ent.time_alive[j] >= immunity) & (friendly_fire | (ent.team[i] != ent.team[j]))
    return (i != j) & ent.alive[j] & (ent.freeze[i] == 0) & (gap <= reach) & ((not pvp) | pvp_ok)


@njit(cache=True)
def combat(ent, inv, events, rng, p, tick):
    """Phase: resolve this tick's attacks (``Entities.act_target`` / ``act_style``)."""
    ent.killer[:] = -1
    if not p.combat:
        return
    for i in shuffled(rng, ent.alive.shape[0]):
        j = ent.act_target[i]
        if j < 0 or not ent.alive[i] or not can_hit(ent, i, j, p.num_agents, p.reach, p.immunity, p.friendly_fire):
            continue
        style = ent.act_style[i]
        dealt = damage(ent, i, j, style)
        if ent.health[j] > 0 and ent.health[j] <= dealt:
            ent.killer[j] = i
        ent.health[j] -= dealt
        ent.last_attacker[j] = i
        ent.combat_tick[i] = tick
        ent.combat_tick[j] = tick
        emit(events, _SCORE_HIT, i, j, dealt)
        emit(events, _DAMAGED, j, i, dealt)
        if i < p.num_agents:
            if p.items:
                fire_ammo(ent, inv, events, i, style)
            ent.style[i] = style
            if p.progression:
                gain_xp(ent, events, i, style, XP_PER_ATTACK)
