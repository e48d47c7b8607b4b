"""King of the Hill: seize the centre tile and hold it (rules.md §2).

==========  ===================================================================
teams       16 teams of 8
reward      team task: 0.3 * ProgressTowardCenter until the team seizes the centre,
            then 0.6 + 0.4 * held / N (OR, ADD and MUL over SeizeCenter)
seize       a team seizes the centre when its members stand on it with no one else;
            it holds it, its count rising each tick it stands there alone, until
            another team stands there alone
win         the team that holds the centre for N ticks; the last team alive once it holds
            the centre; else the holder at the horizon, if it has a live member
end         a hold of N ticks, one team left holding the centre, every agent dead, or the
            horizon
score       winners +(speed bonus + fraction of the team alive) / 2, others -1;
            speed bonus = (horizon - tick) / horizon
config      mini without NPCs; map 60; one agent per tile; water 0.05 and foliage 0.95
            thresholds, extra resources; fog on, final size 5; food and water loss 3 per
            tick, starvation damage 5 (half); the centre tile is grass, joined to the edge
            by a path (the fewest stone and water tiles turned to grass)
randomized  fog onset U[1, 127], fog speed 1/U{8..19}
difficulty  N = 10, 20, ..., 200; raised after 2 won episodes at a level
eval        N = 200, fog onset 32, speed 1/16, held-out maps
==========  ===================================================================

Source: rules.md §2 (Meta MMO's overrides: map 60, fog, depletion, starvation), and beyond its
summary the reference's ``nmmo/minigames/king_hill.py`` (Neural MMO 2.1), which Meta MMO's
``EasyKingoftheHill`` extends: its ``_set_config`` turns on only terrain, combat, resources and
communication (so no NPCs, although rules.md's mini config has them), forbids moving into
occupied tiles, lowers the water and stone thresholds and scatters extra resources; its
``_check_winners`` also ends the game when one team is left and holds the centre.

DEVIATION: the hold counts the ticks the team stands on the centre alone, 1 on the seizing tick
and paused while no member stands there, so a hold of N ticks is N ticks on the centre alone,
as rules.md's "holds the centre tile alone for N ticks" reads. The reference's ``SeizeCenter``
counts ``current_tick - seize_status[centre][1]`` from the tick the team seized the tile (0 on
that tick), whether its members stay or leave, until another team seizes it (README
"Deviations from the reference", Tasks).
"""

from __future__ import annotations

import numpy as np

from metammo.config import Config
from metammo.constants import Material
from metammo.state import State, playable_bounds
from metammo.systems.spawn import open_paths, spawn_agents
from metammo.tasks import Task
from minigames.base import Minigame
from minigames.randomization import Integers, OneOver


class KingOfTheHill(Minigame):
    name = "king_of_the_hill"
    description = "16 teams of 8: seize the centre tile and hold it for N ticks"
    configs = ("mini",)
    team_size = 8
    min_teams = 2
    rules_config = {"map_size": 60, "npcs": False, "exclusive_tiles": True, "water_threshold": 0.05,
                    "foliage_threshold": 0.95, "extra_resources": True, "fog": True, "fog_final_size": 5,
                    "food_depletion": 3, "water_depletion": 3, "starvation_damage": 5}
    randomization = {"fog_onset": Integers(1, 127), "fog_speed": OneOver(8, 19)}
    presets = {"eval": {"fog_onset": 32, "fog_speed": 1 / 16, "map_pool": "eval"}}
    difficulty_levels = tuple(range(10, 201, 10))
    wins_to_raise = 2

    def task(self, cfg: Config) -> Task:
        seize = {"ADD": [{"MUL": [{"SeizeCenter": {"n": 1}}, 0.6]},
                         {"MUL": [{"SeizeCenter": {"n": self.knob}}, 0.4]}]}
        return Task("seize_center", "team", {"OR": [{"MUL": [{"ProgressTowardCenter": {}}, 0.3]}, seize]})

    def spawn(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        c = self.centre(cfg)
        state.tiles.material[c, c] = Material.GRASS
        open_paths(state.tiles.material, *playable_bounds(cfg), [c], [c])
        spawn_agents(state, cfg, rng)

    def is_over(self, state: State, cfg: Config) -> bool:
        holder, ticks = self.hold()  # the centre, which the task seizes
        if holder >= 0:
            alive = self.teams_alive(state, cfg)
            if ticks >= self.knob or (alive[holder] and np.count_nonzero(alive) == 1):
                return True
        return super().is_over(state, cfg)

    def winners(self, state: State, cfg: Config, over: bool) -> np.ndarray:
        holder, _ = self.hold()
        teams = np.zeros(cfg.shape.num_agents // self.team_size, bool)
        if holder >= 0:
            teams[holder] = self.teams_alive(state, cfg)[holder]
        return self.team_members(teams)

    def winning_score(self, state: State, cfg: Config) -> float:
        holder, _ = self.hold()
        if holder < 0:
            return 0.0
        speed = (cfg.tunables.horizon - state.tick) / cfg.tunables.horizon
        members = slice(holder * self.team_size, (holder + 1) * self.team_size)
        return (speed + state.entities.alive[members].mean()) / 2
