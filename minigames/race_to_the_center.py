"""Race to the Center: the first agent to reach the centre tile wins (rules.md §2).

==========  ===================================================================
teams       none
reward      task ProgressTowardCenter: 1 - Chebyshev distance / (map size / 2)
win         the first agent on the centre tile
end         someone reaches the centre, or the horizon (no winner)
score       the winner +(horizon - tick)/horizon, every other live agent -1
config      mini without combat, NPCs or fog; one agent per tile; the centre is a
            5x5 grass square; dead agents respawn on the edge, frozen 10 ticks
randomized  water threshold U[0.2, 0.35], foliage threshold U[0.8, 0.9] (never an all-grass
            map: with no food or water racers would starve before the centre)
difficulty  map size 40, 48, ..., 128; raised after each win
eval        map size 128, held-out maps
==========  ===================================================================
"""

from __future__ import annotations

import numpy as np

from metammo.config import Config
from metammo.constants import PASSABLE, Material
from metammo.state import State, playable_bounds
from metammo.systems.spawn import place_agents, ring, spawn_agents
from metammo.tasks import Task
from minigames.base import Minigame
from minigames.randomization import Uniform

#: Ticks a respawned agent cannot move.
RESPAWN_FREEZE = 10
#: Half-width of the grass square marking the centre.
CENTRE_RADIUS = 2


class RaceToTheCenter(Minigame):
    name = "race_to_the_center"
    description = "no fighting: the first agent to reach the centre tile wins"
    configs = ("mini",)
    rules_config = {"combat": False, "npcs": False, "fog": False, "exclusive_tiles": True}
    randomization = {"water_threshold": Uniform(0.2, 0.35), "foliage_threshold": Uniform(0.8, 0.9)}
    presets = {"eval": {"map_size": 128, "map_pool": "eval"}}
    difficulty_key = "map_size"
    difficulty_levels = tuple(range(40, 129, 8))
    wins_to_raise = 1

    def task(self, cfg: Config) -> Task:
        return Task("progress_toward_center", "agent", {"ProgressTowardCenter": {}})

    def spawn(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        c = self.centre(cfg)
        state.tiles.material[c - CENTRE_RADIUS:c + CENTRE_RADIUS + 1, c - CENTRE_RADIUS:c + CENTRE_RADIUS + 1] = Material.GRASS
        spawn_agents(state, cfg, rng)
        self._rng = rng
        # Harvesting and regrowth never change whether a tile is passable (constants.DEPLETED),
        # so the passable edge tiles are found once per episode.
        edge = ring(*playable_bounds(cfg), 0)
        self._edge = edge[PASSABLE[state.tiles.material[edge[:, 0], edge[:, 1]]]]
        self._edge_flat = np.ravel_multi_index(self._edge.T, state.tiles.agents.shape)

    def rules(self, state: State, cfg: Config, died: np.ndarray) -> None:
        dead = np.flatnonzero(died)
        if len(dead) == 0:
            return
        free = self._edge[state.tiles.agents.ravel()[self._edge_flat] == 0]
        dead = dead[: len(free)]  # consecutive free edge tiles from a random one
        picks = free[(self._rng.integers(len(free)) + np.arange(len(dead))) % len(free)]
        place_agents(state, dead, picks[:, 0], picks[:, 1], dead, state.entities.style[dead])  # team = agent
        state.entities.freeze[dead] = RESPAWN_FREEZE

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
