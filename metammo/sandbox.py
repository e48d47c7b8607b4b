"""Sandbox: the engine's built-in free-for-all, for testing and benchmarking the engine.

=========  ==================================================================
teams      ``team_size`` from the config (default 1: every agent alone)
reward     +1/horizon per tick alive, -1 on death
win        none
end        all agents dead, or the horizon
config     mini and full, as given
=========  ==================================================================
"""

from __future__ import annotations

import numpy as np

from metammo.config import Config
from metammo.game import Game
from metammo.state import State


class Sandbox(Game):
    name = "sandbox"
    description = "free-for-all on the bare engine: survive as long as you can"

    def update(self, state: State, cfg: Config, died: np.ndarray, rewards: np.ndarray) -> bool:
        alive = state.entities.alive[: cfg.shape.num_agents]
        rewards[alive] = 1.0 / cfg.tunables.horizon
        rewards[died] = -1.0
        return not alive.any()
