"""Team Battle: the last team standing wins (rules.md §2).

==========  ===================================================================
teams       16 teams of 8
reward      team task TickGE(horizon): +1/horizon per tick while the team lives
win         the last team with a member alive, or every team alive at the horizon
end         at most one team alive, or the horizon
score       winners +1 at the end, every other live agent -1
config      mini and full; fog on (final size 4), water 0.1 and foliage 0.9 thresholds,
            extra resources (single water and foliage tiles scattered on grass)
randomized  fog onset U[32, 255], fog speed 1/U{7..11}
difficulty  NPC count 64, 128, 192, 255; raised after 2 won episodes at a level
eval        fog onset 128, speed 1/8, 128 NPCs (difficulty level 1), held-out maps
==========  ===================================================================

Deviation: the reference randomizes the NPC count U[64, 255]; here it is the difficulty knob.
"""

from __future__ import annotations

import numpy as np

from metammo.config import Config
from metammo.state import State
from metammo.tasks import Task
from minigames.base import Minigame
from minigames.randomization import Integers, OneOver


class TeamBattle(Minigame):
    name = "team_battle"
    description = "16 teams of 8 fight in the fog; the last team standing wins"
    configs = ("mini", "full")
    team_size = 8
    min_teams = 2
    rules_config = {"fog": True, "fog_final_size": 4, "water_threshold": 0.1, "foliage_threshold": 0.9,
                    "extra_resources": True}
    randomization = {"fog_onset": Integers(32, 255), "fog_speed": OneOver(7, 11)}
    presets = {"eval": {"fog_onset": 128, "fog_speed": 1 / 8, "npc_count": 128, "map_pool": "eval"}}
    difficulty_key = "npc_count"
    difficulty_levels = (64, 128, 192, 255)
    wins_to_raise = 2

    def task(self, cfg: Config) -> Task:
        return Task("team_tick_ge", "team", {"TickGE": {"n": cfg.tunables.horizon}})

    def is_over(self, state: State, cfg: Config) -> bool:
        return np.count_nonzero(self.teams_alive(state, cfg)) <= 1

    def winners(self, state: State, cfg: Config, over: bool) -> np.ndarray:
        return self.team_members(self.teams_alive(state, cfg))
