"""Placing agents at the start of an episode (rules.md §1 "Death and spawn").

Teams spawn together around the edge of the playable square, spread evenly along its perimeter
from a random starting point: all members on one tile, or with ``exclusive_tiles`` on, on
consecutive free edge tiles (then the next ring inward when a ring is full). Runs once per reset,
so it is plain numpy.
"""

from __future__ import annotations

import numpy as np

from metammo.config import Config
from metammo.constants import COMBAT_NEVER, FOOD_MAX, HEALTH_MAX, NUM_STYLES, PASSABLE, WATER_MAX, Kind
from metammo.state import State, playable_bounds


def ring(lo: int, hi: int, k: int) -> np.ndarray:
    """Tiles of the k-th ring inside ``[lo, hi)^2``, clockwise from its top-left corner.

    Returns an ``(n, 2)`` int array of (row, col).
    """
    a, b = lo + k, hi - 1 - k
    if a > b:
        return np.zeros((0, 2), np.int64)
    if a == b:
        return np.array([[a, a]])
    span = np.arange(a, b)
    top = np.stack([np.full_like(span, a), span], 1)
    right = np.stack([span, np.full_like(span, b)], 1)
    bottom = np.stack([np.full_like(span, b), span[::-1] + 1], 1)
    left = np.stack([span[::-1] + 1, np.full_like(span, a)], 1)
    return np.concatenate([top, right, bottom, left])


def team_of(cfg: Config) -> np.ndarray:
    """Team of each agent: consecutive blocks of ``team_size``. Shape (num_agents,) int64."""
    return np.arange(cfg.shape.num_agents) // cfg.tunables.team_size


def place_agent(state: State, i: int, r: int, c: int, team: int, style: int) -> None:
    """Put agent ``i`` alive and fresh (full health, food, water; level 1) on tile (r, c)."""
    e = state.entities
    e.row[i], e.col[i] = r, c
    e.alive[i] = True
    e.kind[i] = Kind.AGENT
    e.team[i] = team
    e.health[i], e.food[i], e.water[i] = HEALTH_MAX, FOOD_MAX, WATER_MAX
    e.level[i] = 1
    e.xp[i] = 0
    e.style[i] = style
    e.last_attacker[i] = -1
    e.killer[i] = -1
    e.combat_tick[i] = COMBAT_NEVER
    e.act_move[i] = 0
    e.act_target[i] = -1
    e.time_alive[i] = 0
    e.freeze[i] = 0
    e.message[i] = 0
    state.tiles.agents[r, c] += 1


def spawn_agents(state: State, cfg: Config, rng: np.random.Generator) -> None:
    """Place every agent, teams together, teams evenly around the edge.

    Raises:
        ValueError: with ``exclusive_tiles`` on, when the map has fewer free tiles than agents.
    """
    lo, hi = playable_bounds(cfg)
    teams = team_of(cfg)
    num_teams = cfg.shape.num_agents // cfg.tunables.team_size
    edge = ring(lo, hi, 0)
    offset = rng.random()
    styles = rng.integers(NUM_STYLES, size=cfg.shape.num_agents)
    exclusive = cfg.tunables.exclusive_tiles
    taken = np.zeros((hi - lo, hi - lo), bool)
    rings = [edge]
    for team in range(num_teams):
        members = np.flatnonzero(teams == team)
        anchor = int((team + offset) * len(edge) / num_teams) % len(edge)
        if not exclusive:
            r, c = edge[anchor]
            for i in members:
                place_agent(state, int(i), int(r), int(c), team, int(styles[i]))
            continue
        k, pos = 0, 0
        for i in members:
            while True:
                while pos >= len(rings[k]):  # this ring is full: go one ring inward
                    k, pos = k + 1, 0
                    if k == len(rings):
                        rings.append(ring(lo, hi, k))
                    if len(rings[k]) == 0:
                        raise ValueError(
                            f"exclusive_tiles: map_size {cfg.tunables.map_size} has too few free "
                            f"tiles for {cfg.shape.num_agents} agents"
                        )
                tiles = rings[k]
                r, c = tiles[(anchor * len(tiles) // len(edge) + pos) % len(tiles)]
                pos += 1
                if not taken[r - lo, c - lo] and PASSABLE[state.tiles.material[r, c]]:
                    break
            taken[r - lo, c - lo] = True
            place_agent(state, int(i), int(r), int(c), team, int(styles[i]))
