"""NPCs: kinds by danger, scripted decisions, and keeping the population up (rules.md §1 "NPCs").

Danger of a tile = 2 * (rings to the playable edge) / map size: >= 0.8 hostile (chases and
attacks the nearest agent it sees), >= 0.5 neutral (fights back against the agent that last hit
it while it sees it), else passive (wanders). Level = int(danger * 9 + 1); an NPC has that level
in all three styles and one random main style. NPCs regain 1 HP per tick (lifecycle phase).

An NPC with a goal tile (``Entities.goal_row/goal_col``, set by games such as Sandwich) walks
there instead of wandering when it has no target, and stays once there.

The chase is one greedy step per tick along the axis with the larger gap, falling back to the
other axis when blocked: cheap and good enough against agents that run.

Population: while fewer than ``npc_count`` NPCs live, up to 10% of the target spawn each tick
(so it fills in about 10 ticks) on random passable tiles holding no entity.
"""

from __future__ import annotations

from numba import njit

from metammo.constants import (
    HOSTILE_DANGER,
    MAX_LEVEL,
    MOVE_DELTA,
    NEUTRAL_DANGER,
    NPC_HEALTH,
    NPC_SPAWN_TRIES,
    NUM_STYLES,
    Kind,
    Move,
)
from metammo.systems.common import edge_distance, randint, uniform
from metammo.systems.lifecycle import revive
from metammo.systems.movement import can_enter
from metammo.systems.spatial import SLOT_KEY, build_buckets

_NEUTRAL, _HOSTILE, _PASSIVE = int(Kind.NEUTRAL), int(Kind.HOSTILE), int(Kind.PASSIVE)
_N, _S, _E, _W = int(Move.NORTH), int(Move.SOUTH), int(Move.EAST), int(Move.WEST)


# The two helpers take plain arrays, not the state's NamedTuples: a called function that
# branches (as _step_toward does) pays reference counting on every array of a NamedTuple
# argument (see combat.py's note), which cost ~0.5 us per NPC when every NPC chases or walks
# to a goal.
@njit(cache=True)
def _nearest_agent(erow, ecol, r, c, vision, start, items, ncell, cell):
    # Without data-dependent branches (see the note in observation.py's _observe): the nearest
    # is the smallest key (Chebyshev distance, then slot) among all visited agents, where an
    # agent out of sight keys past every agent in sight. A row's buckets are adjacent in items.
    out_of_sight = (vision + 1) * SLOT_KEY
    best = out_of_sight
    bc0, bc1 = max(c - vision, 0) // cell, min((c + vision) // cell, ncell - 1) + 1
    for br in range(max(r - vision, 0) // cell, min((r + vision) // cell, ncell - 1) + 1):
        for k in range(start[br * ncell + bc0], start[br * ncell + bc1]):
            j = items[k]
            d = max(abs(erow[j] - r), abs(ecol[j] - c))
            best = min(best, min(d, vision + 1) * SLOT_KEY + j)
    return best % SLOT_KEY if best < out_of_sight else -1


@njit(cache=True)
def _step_toward(material, agents, npcs, r, c, tr, tc, exclusive):
    dr, dc = tr - r, tc - c
    vertical = 0 if dr == 0 else (_S if dr > 0 else _N)
    horizontal = 0 if dc == 0 else (_E if dc > 0 else _W)
    first, second = (vertical, horizontal) if abs(dr) >= abs(dc) else (horizontal, vertical)
    if first != 0 and can_enter(material, agents, npcs, r + MOVE_DELTA[first, 0], c + MOVE_DELTA[first, 1], exclusive):
        return first
    if second != 0 and can_enter(material, agents, npcs, r + MOVE_DELTA[second, 0], c + MOVE_DELTA[second, 1], exclusive):
        return second
    return 0


@njit(cache=True)
def npc_decide(ent, tiles, rng, p):
    """Phase: NPCs choose this tick's move or attack (``Entities.act_*`` of NPC slots)."""
    if not p.npcs:
        return
    num_agents, vision, reach, exclusive = p.num_agents, p.vision, p.reach, p.exclusive
    cell = vision + 1
    start, items, ncell = build_buckets(ent, cell, p.grid_size, num_agents)  # NPCs look for agents only
    erow, ecol, material, agents, npcs = ent.row, ent.col, tiles.material, tiles.agents, tiles.npcs
    for i in range(num_agents, ent.alive.shape[0]):
        ent.act_move[i] = 0
        ent.act_target[i] = -1
        if not ent.alive[i]:
            continue
        r, c = ent.row[i], ent.col[i]
        target = -1
        if ent.kind[i] != _PASSIVE:
            a = ent.last_attacker[i]
            if 0 <= a < num_agents and ent.alive[a] and max(abs(ent.row[a] - r), abs(ent.col[a] - c)) <= vision:
                target = a
        if target < 0 and ent.kind[i] == _HOSTILE:
            target = _nearest_agent(erow, ecol, r, c, vision, start, items, ncell, cell)
        if target >= 0:
            if max(abs(ent.row[target] - r), abs(ent.col[target] - c)) <= reach:
                ent.act_target[i] = target
                ent.act_style[i] = ent.style[i]
            else:
                ent.act_move[i] = _step_toward(material, agents, npcs, r, c, erow[target], ecol[target], exclusive)
        elif ent.goal_row[i] >= 0:
            ent.act_move[i] = _step_toward(material, agents, npcs, r, c, ent.goal_row[i], ent.goal_col[i], exclusive)
        elif uniform(rng) < 0.5:
            ent.act_move[i] = 1 + randint(rng, 4)


@njit(cache=True)
def danger_of(r, c, lo, hi):
    """Danger of tile (r, c): 2 * rings to the edge / map size (0 at the edge, ~1 at centre)."""
    return 2.0 * edge_distance(r, c, lo, hi) / (hi - lo)


@njit(cache=True)
def npc_population(ent, tiles, rng, p):
    """Phase: spawn NPCs towards ``npc_count``, at most 10% of it per tick."""
    if not p.npcs:
        return
    num_agents, lo, hi = p.num_agents, p.lo, p.hi
    n = ent.alive.shape[0]
    living = 0
    for i in range(num_agents, n):
        living += ent.alive[i]
    slot = num_agents
    for _ in range(min(p.npc_count - living, p.npc_per_tick)):
        while slot < n and ent.alive[slot]:
            slot += 1
        if slot == n:
            return
        for _ in range(NPC_SPAWN_TRIES):
            r = lo + randint(rng, hi - lo)
            c = lo + randint(rng, hi - lo)
            if can_enter(tiles.material, tiles.agents, tiles.npcs, r, c, True):  # passable and empty
                danger = danger_of(r, c, lo, hi)
                level = min(int(danger * 9 + 1), MAX_LEVEL)
                kind = _HOSTILE if danger >= HOSTILE_DANGER else _NEUTRAL if danger >= NEUTRAL_DANGER else _PASSIVE
                revive(ent, slot, r, c, kind, -1, NPC_HEALTH, level, randint(rng, NUM_STYLES))
                tiles.npcs[r, c] += 1
                slot += 1
                break

