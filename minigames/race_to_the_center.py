"""Race to the Center: the first agent to reach the centre tile wins (rules.md §2).

==========  ===================================================================
teams       none
reward      task ProgressTowardCenter: 1 - Chebyshev distance / (map size / 2)
win         the first agent on the centre tile
end         someone reaches the centre, or the horizon (no winner)
score       the winner +(horizon - tick)/horizon, every other live agent -1
config      mini without combat, NPCs or fog; one agent per tile; water 0.05 and foliage
            0.95 thresholds, extra resources; the centre is a 5x5 grass square, joined to
            the edge by a path (the fewest stone and water tiles turned to grass); dead
            agents respawn on the edge, frozen 10 ticks
randomized  water threshold U[0.03, 0.08], foliage threshold U[0.92, 0.97] (never an
            all-grass map: with no food or water racers would starve before the centre)
difficulty  map size 40, 48, ..., 128; raised after each win
eval        map size 128, held-out maps
==========  ===================================================================

Source: rules.md §2; the thresholds and extra resources are those of the reference's
``nmmo/minigames/center_race.py`` (Neural MMO 2.1), randomized near them here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from metammo.config import Config
from metammo.constants import HEALTH_MAX, PASSABLE, Kind, Material
from metammo.state import State, playable_bounds
from metammo.systems.common import randint
from metammo.systems.lifecycle import revive
from metammo.systems.spawn import open_paths, ring, spawn_agents
from metammo.tasks import Task
from minigames.base import Minigame
from minigames.randomization import Uniform

#: Ticks a respawned agent cannot move.
RESPAWN_FREEZE = 10
#: Half-width of the grass square marking the centre.
CENTRE_RADIUS = 2
_AGENT = int(Kind.AGENT)


@njit(cache=True)
def _respawn(ent, tiles, died, edge_rows, edge_cols, rng):
    """Revive the agents that ``died`` ((num_agents,) bool), in slot order, on consecutive free
    tiles of the passable edge (``edge_rows``, ``edge_cols``) from a random one, each its own
    team and frozen :data:`RESPAWN_FREEZE` ticks; those beyond the free tiles stay dead."""
    free = np.empty(edge_rows.shape[0], np.int64)
    num_free = 0
    for k in range(edge_rows.shape[0]):
        if tiles.agents[edge_rows[k], edge_cols[k]] == 0:
            free[num_free] = k
            num_free += 1
    if num_free == 0:
        return
    start, placed = randint(rng, num_free), 0
    for i in range(died.shape[0]):
        if not died[i]:
            continue
        if placed == num_free:
            return
        k = free[(start + placed) % num_free]
        placed += 1
        revive(ent, i, edge_rows[k], edge_cols[k], _AGENT, i, HEALTH_MAX, 1, ent.style[i])
        tiles.agents[edge_rows[k], edge_cols[k]] += 1
        ent.freeze[i] = RESPAWN_FREEZE


class RaceToTheCenter(Minigame):
    name = "race_to_the_center"
    description = "no fighting: the first agent to reach the centre tile wins"
    configs = ("mini",)
    rules_config = {"combat": False, "npcs": False, "fog": False, "exclusive_tiles": True,
                    "water_threshold": 0.05, "foliage_threshold": 0.95, "extra_resources": True}
    randomization = {"water_threshold": Uniform(0.03, 0.08), "foliage_threshold": Uniform(0.92, 0.97)}
    presets = {"eval": {"map_size": 128, "map_pool": "eval"}}
    difficulty_key = "map_size"
    difficulty_levels = tuple(range(40, 129, 8))
    wins_to_raise = 1

    def task(self, cfg: Config) -> Task:
        return Task("progress_toward_center", "agent", {"ProgressTowardCenter": {}})

    def spawn(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        c = self.centre(cfg)
        state.tiles.material[c - CENTRE_RADIUS:c + CENTRE_RADIUS + 1, c - CENTRE_RADIUS:c + CENTRE_RADIUS + 1] = Material.GRASS
        open_paths(state.tiles.material, *playable_bounds(cfg), [c], [c])
        spawn_agents(state, cfg, rng)
        # Harvesting and regrowth never change whether a tile is passable (constants.DEPLETED),
        # so the passable edge tiles are found once per episode.
        edge = ring(*playable_bounds(cfg), 0)
        edge = edge[PASSABLE[state.tiles.material[edge[:, 0], edge[:, 1]]]]
        self._edge_rows, self._edge_cols = np.ascontiguousarray(edge.T)

    def rules(self, state: State, cfg: Config, died: np.ndarray) -> None:
        if np.count_nonzero(died):  # ndarray.any() costs ~1 us more
            self.kernels(_respawn, state.entities, state.tiles, died, self._edge_rows, self._edge_cols, state.rng)

    def _on_centre(self, state: State, cfg: Config) -> np.ndarray:
        ent, n, c = state.entities, cfg.shape.num_agents, self.centre(cfg)
        return ent.alive[:n] & (ent.row[:n] == c) & (ent.col[:n] == c)

    def is_over(self, state: State, cfg: Config) -> bool:
        c = self.centre(cfg)
        return bool(state.tiles.agents[c, c])

    def winners(self, state: State, cfg: Config, over: bool) -> np.ndarray:
        return self._on_centre(state, cfg)

    def winning_score(self, state: State, cfg: Config) -> float:
        return (cfg.tunables.horizon - state.tick) / cfg.tunables.horizon
