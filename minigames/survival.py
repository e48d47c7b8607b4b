"""Survival: every agent for itself; the last one alive wins (rules.md §2).

==========  ===================================================================
teams       none (128 agents alone)
reward      task StayAlive(horizon): +1/horizon per tick alive; -1 on death
win         the last agent alive, or every agent alive at the horizon
end         at most one agent alive, or the horizon
score       winners +1 at the end
config      full; Team Battle's fog, terrain, randomization, difficulty and eval preset
==========  ===================================================================
"""

from __future__ import annotations

from metammo.config import Config
from metammo.tasks import Task
from minigames.team_battle import TeamBattle


class Survival(TeamBattle):
    name = "survival"
    description = "free-for-all with items and a market; the last agent alive wins"
    configs = ("full",)
    team_size = 1
    death_penalty = 1.0

    def task(self, cfg: Config) -> Task:
        return Task("stay_alive", "agent", {"StayAlive": {"n": cfg.tunables.horizon}})
