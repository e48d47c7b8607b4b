"""Protect the King: keep your leader alive; a leader's death kills its team (rules.md §2).

==========  ===================================================================
teams       16 teams of 8; the first member leads (``Entities.leader``)
reward      team task ProtectLeader(horizon): +1/horizon per tick the leader lives
win         the last team whose leader lives, or every such team at the horizon
end         at most one leader alive, or the horizon
score       winners +1 at the end, every other live agent -1
config      mini; Team Battle's fog and terrain
randomized  fog speed 1/U{7..11}, NPC count U[64, 255] (fog onset is the difficulty knob)
difficulty  fog onset 255, 192, 128, 64, 32 (earlier fog); 2 wins raise it
eval        fog onset 128 (difficulty level 2), speed 1/8, 128 NPCs, held-out maps
==========  ===================================================================
"""

from __future__ import annotations

import numpy as np

from metammo.config import Config
from metammo.state import State
from metammo.systems.lifecycle import kill_agents
from metammo.systems.params import params
from metammo.tasks import Task
from minigames.randomization import Integers, OneOver
from minigames.team_battle import TeamBattle


class ProtectTheKing(TeamBattle):
    name = "protect_the_king"
    description = "16 teams of 8 guard their leader; a leader's death kills its team"
    configs = ("mini",)
    leaders = True
    randomization = {"fog_speed": OneOver(7, 11), "npc_count": Integers(64, 255)}
    difficulty_key = "fog_onset"
    difficulty_levels = (255, 192, 128, 64, 32)

    def task(self, cfg: Config) -> Task:
        return Task("protect_leader", "team", {"ProtectLeader": {"n": cfg.tunables.horizon}})

    def setup(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        super().setup(state, cfg, rng)
        self._params = params(cfg)  # for the leaders' deaths (several per episode)

    def rules(self, state: State, cfg: Config, died: np.ndarray) -> None:
        fallen = died[self.leader_slot]
        if np.count_nonzero(fallen):  # ndarray.any() costs ~1 us more
            kill_agents(state, self._params, np.flatnonzero(self.team_members(fallen)), self.kernels)

    def _leaders_alive(self, state: State) -> np.ndarray:
        return state.entities.alive[self.leader_slot]

    def is_over(self, state: State, cfg: Config) -> bool:
        return np.count_nonzero(self._leaders_alive(state)) <= 1

    def winners(self, state: State, cfg: Config, over: bool) -> np.ndarray:
        return self.team_members(self._leaders_alive(state))
