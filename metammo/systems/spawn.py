"""Placing agents at the start of an episode (rules.md §1 "Death and spawn").

Teams spawn together around the edge of the playable square, spread evenly along its perimeter
from a random starting point: all members on one tile, or with ``exclusive_tiles`` on, on
consecutive free edge tiles (then the next ring inward when a ring is full). Runs once per reset,
so it is plain numpy but for that walk, a loop over agents, which is compiled (Race to the Center
and King of the Hill start an episode every ~70-150 ticks).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from metammo.config import Config
from metammo.constants import HEALTH_MAX, NPC_HEALTH, NUM_STYLES, PASSABLE, Kind, Material
from metammo.state import State, playable_bounds
from metammo.systems.lifecycle import revive

_AGENT = int(Kind.AGENT)
_GRASS = int(Material.GRASS)


@lru_cache(maxsize=1024)  # spawns ask for the same few rings every episode
def ring(lo: int, hi: int, k: int) -> np.ndarray:
    """Tiles of the k-th ring inside ``[lo, hi)^2``, clockwise from its top-left corner.

    Returns an ``(n, 2)`` int64 array of (row, col), read-only (shared between calls).
    """
    a, b = lo + k, hi - 1 - k
    if a > b:
        tiles = np.zeros((0, 2), np.int64)
    elif a == b:
        tiles = np.array([[a, a]], np.int64)
    else:
        span = np.arange(a, b, dtype=np.int64)
        top = np.stack([np.full_like(span, a), span], 1)
        right = np.stack([span, np.full_like(span, b)], 1)
        bottom = np.stack([np.full_like(span, b), span[::-1] + 1], 1)
        left = np.stack([span[::-1] + 1, np.full_like(span, a)], 1)
        tiles = np.concatenate([top, right, bottom, left])
    tiles.flags.writeable = False
    return tiles


@njit(cache=True)
def _on_ring(t, size):
    r, c = t // size, t % size
    return r == 0 or c == 0 or r == size - 1 or c == size - 1


@njit(cache=True)
def _open_paths(play, targets, every):
    """Open the tiles of the square ``play`` ((size, size) uint8 materials, edited in place) that
    join ``targets`` (flat indices) to its outer ring: a 0-1 breadth-first search, entering an
    impassable tile (per ``constants.PASSABLE``) costs 1. ``every``: from the ring until each
    target is settled, then each target's cheapest path back to where it meets the ring's
    passable region or a path opened before; else from the targets until the first ring tile is
    settled, and that one path. Tiles settle in order of cost, so the search stops as soon as
    its goals are settled. Opened tiles become GRASS; returns their count."""
    size = play.shape[0]
    n = size * size
    ok = np.empty(n, np.bool_)
    for r in range(size):
        for c in range(size):
            ok[r * size + c] = PASSABLE[play[r, c]]
    if ok.all():  # an all-grass map
        return 0
    dist = np.full(n, n + 1, np.int64)  # fewest impassable tiles crossed from the seeds
    prev = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    later = np.empty(n, np.int64)
    is_target = np.zeros(n, np.bool_)
    is_target[targets] = True
    need = is_target.sum() if every else 1
    settled = np.empty(need, np.int64)
    num_stack, num_later, found = 0, 0, 0
    for k in range(n if every else targets.shape[0]):  # seeds, in row-major order
        t = k if every else targets[k]
        if every and not _on_ring(t, size):
            continue
        cost = 0 if ok[t] else 1
        if cost < dist[t]:
            dist[t] = cost
            if cost == 0:
                stack[num_stack] = t
                num_stack += 1
            else:
                later[num_later] = t
                num_later += 1
    d = 0
    while found < need and (num_stack > 0 or num_later > 0):
        while num_stack > 0 and found < need:  # flood at cost d; impassable neighbours cost d + 1
            num_stack -= 1
            t = stack[num_stack]
            if is_target[t] if every else _on_ring(t, size):
                settled[found] = t
                found += 1
            r, c = t // size, t % size
            for u in (t - size if r > 0 else -1, t + size if r < size - 1 else -1,
                      t - 1 if c > 0 else -1, t + 1 if c < size - 1 else -1):
                if u < 0:
                    continue
                nd = d + (0 if ok[u] else 1)
                if nd < dist[u]:
                    dist[u] = nd
                    prev[u] = t
                    if nd == d:
                        stack[num_stack] = u
                        num_stack += 1
                    else:
                        later[num_later] = u
                        num_later += 1
        d += 1
        for q in range(num_later):  # the next layer: what is still at cost d
            if dist[later[q]] == d:
                stack[num_stack] = later[q]
                num_stack += 1
        num_later = 0
    opened = 0
    for k in range(found):
        t = settled[k]
        while t >= 0 and not (ok[t] and dist[t] == 0):
            if not ok[t]:
                ok[t] = True
                play[t // size, t % size] = _GRASS
                opened += 1
            dist[t] = 0  # later paths stop where this one joined
            t = prev[t]
    return opened


def open_paths(material: np.ndarray, lo: int, hi: int, rows: np.ndarray, cols: np.ndarray,
               every: bool = True) -> int:
    """Make tiles ``(rows, cols)`` of the playable square ``[lo, hi)^2`` reachable from its
    outer ring by 4-neighbour moves, in place: each gets a path through the fewest impassable
    tiles (:data:`~metammo.constants.PASSABLE`), and those tiles, the target's own included,
    become GRASS. With ``every=False`` only one target is joined, the one with the cheapest
    path (for an area any of whose tiles will do, such as the fog's safe square). Games whose
    rules send agents to a tile (the centre, a team's spawn) call it after painting their map
    features, so no episode is lost to a sealed tile. Deterministic.

    Args:
        material: ``(grid, grid)`` uint8 tile materials, edited in place.
        rows, cols: int arrays of one length, tiles inside the square.
        every: join every target (True) or one (False).

    Returns:
        The number of tiles opened (0 when the targets were already reachable).

    Raises:
        ValueError: no targets, or a target outside the square.
    """
    rows, cols = np.asarray(rows, np.int64).reshape(-1), np.asarray(cols, np.int64).reshape(-1)
    if rows.shape != cols.shape or not rows.size or ((rows < lo) | (rows >= hi) | (cols < lo) | (cols >= hi)).any():
        raise ValueError(f"open_paths: targets must be one or more tiles inside [{lo}, {hi}), got rows "
                         f"{rows.tolist()}, cols {cols.tolist()}")
    targets = (rows - lo) * (hi - lo) + cols - lo
    return int(_open_paths(material[lo:hi, lo:hi], targets, bool(every)))


def team_of(cfg: Config) -> np.ndarray:
    """Team of each agent: consecutive blocks of ``team_size``. Shape (num_agents,) int64."""
    return np.arange(cfg.shape.num_agents) // cfg.tunables.team_size


@njit(cache=True)
def _place_agents(ent, tiles, agents, rows, cols, teams, styles):
    for k in range(agents.shape[0]):
        revive(ent, agents[k], rows[k], cols[k], _AGENT, teams[k], HEALTH_MAX, 1, styles[k])
        tiles.agents[rows[k], cols[k]] += 1


def place_agents(state: State, agents: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 teams: np.ndarray, styles: np.ndarray) -> None:
    """Put ``agents`` (slots) alive and fresh (full health, food and water, level 1; see
    :func:`~metammo.systems.lifecycle.revive`) on tiles ``(rows, cols)`` with their ``teams``
    and main ``styles``: five int arrays of one length."""
    _place_agents(state.entities, state.tiles, *(np.asarray(a, np.int64) for a in (agents, rows, cols, teams, styles)))


@njit(cache=True)
def _place_npcs(ent, tiles, slots, rows, cols, kinds, levels, styles, goal_rows, goal_cols):
    for k in range(slots.shape[0]):
        i = slots[k]
        revive(ent, i, rows[k], cols[k], kinds[k], -1, NPC_HEALTH, levels[k], styles[k])
        ent.goal_row[i], ent.goal_col[i] = goal_rows[k], goal_cols[k]
        tiles.npcs[rows[k], cols[k]] += 1


def place_npcs(state: State, slots, rows, cols, kinds, levels, styles, goal_rows, goal_cols) -> None:
    """Put NPCs in the free NPC ``slots`` on tiles ``(rows, cols)`` with their ``kinds``
    (:class:`~metammo.constants.Kind`), ``levels``, main ``styles`` and goal tiles (-1: none;
    see :mod:`metammo.systems.npc`): nine int arrays of one length. For games that place their
    own NPCs; the population phase places the rest.

    Raises:
        ValueError: a slot that is not an NPC slot or holds a live NPC.
    """
    slots = np.asarray(slots, np.int64)
    ent = state.entities
    first = state.inventory.item.shape[0]  # NPC slots follow the agents'
    if len(slots) and (slots.min() < first or slots.max() >= len(ent.alive) or ent.alive[slots].any()):
        raise ValueError(f"place_npcs: slots must be free NPC slots, got {slots.tolist()}")
    _place_npcs(ent, state.tiles, slots, *(np.asarray(a, np.int64) for a in
                                           (rows, cols, kinds, levels, styles, goal_rows, goal_cols)))


def place_agent(state: State, i: int, r: int, c: int, team: int, style: int) -> None:
    """:func:`place_agents` for one agent ``i`` on tile (r, c)."""
    place_agents(state, np.array([i]), np.array([r]), np.array([c]), np.array([team]), np.array([style]))


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
    anchors = ((np.arange(num_teams) + offset) * len(edge) / num_teams).astype(np.int64) % len(edge)
    if cfg.tunables.exclusive_tiles:
        tiles = np.empty((cfg.shape.num_agents, 2), np.int64)
        if not _exclusive_tiles(state.tiles.material, lo, hi, anchors, len(edge), cfg.tunables.team_size, tiles):
            raise ValueError(f"exclusive_tiles: map_size {cfg.tunables.map_size} has too few free "
                             f"tiles for {cfg.shape.num_agents} agents")
    else:
        tiles = edge[anchors[teams]]
    place_agents(state, np.arange(cfg.shape.num_agents), tiles[:, 0], tiles[:, 1], teams, styles)


@njit(cache=True)
def _ring_tile(a, b, p):
    """Tile ``p`` of the ring with corners (a, a) and (b, b), in :func:`ring`'s order."""
    side = b - a
    if p < side:
        return a, a + p
    if p < 2 * side:
        return a + p - side, b
    if p < 3 * side:
        return b, b - (p - 2 * side)
    return b - (p - 3 * side), a


@njit(cache=True)
def _exclusive_tiles(material, lo, hi, anchors, edge_length, team_size, out):
    """One free passable tile per agent in ``out`` (``(num_agents, 2)`` int64 row, col): each
    team's members on consecutive tiles of the edge ring from its anchor, moving one ring
    inward when a ring is full. False when the rings run out first."""
    taken = np.zeros((hi - lo, hi - lo), np.bool_)
    for team in range(anchors.shape[0]):
        k, pos = 0, 0
        for i in range(team * team_size, (team + 1) * team_size):
            while True:
                a, b = lo + k, hi - 1 - k
                length = 4 * (b - a) if a < b else int(a == b)
                if length == 0:  # no ring left
                    return False
                if pos >= length:  # this ring is full: go one ring inward
                    k, pos = k + 1, 0
                    continue
                r, c = _ring_tile(a, b, (anchors[team] * length // edge_length + pos) % length)
                pos += 1
                if not taken[r - lo, c - lo] and PASSABLE[material[r, c]]:
                    break
            taken[r - lo, c - lo] = True
            out[i, 0], out[i, 1] = r, c
    return True
