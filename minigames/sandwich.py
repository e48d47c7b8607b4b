"""Sandwich: teams caught between rallying NPCs and the fog (rules.md §2).

==========  ===================================================================
teams       8 teams of 16, spawned on a circle of radius 20 around the centre
reward      team task TickGE(horizon)
win         no win before tick 500; then the last team standing, or every team
            alive at the horizon
end         tick >= 500 with at most one team alive, every agent dead, or the horizon
score       winners +(horizon - tick)/horizon, every other live agent -1
config      mini; map 80; fog from tick 1; no food or water; +1 HP per tick; per team ``inner`` hostile
            NPCs spawn near the centre and walk to that team's spawn; min(8 * inner,
            160) hostile NPCs spawn on the edge and walk to the centre; dead NPCs
            come back at once, where they first spawned
randomized  all-grass map with p = 0.2; fog speed 1/U{8..16}
difficulty  inner NPCs per team 2, 4, ..., 16; raised after 2 won episodes at a level
eval        all-grass map, 16 inner NPCs per team, fog speed 1/16, held-out maps
==========  ===================================================================

Deviations: the engine's fog hurts agents only, so NPCs at the edge are unharmed by it. Food
and water are off: the reference's all-grass maps have neither, so with them on every agent
would starve within ~40 ticks whatever it did; the game is the squeeze between NPCs and fog.
"""

from __future__ import annotations

import numpy as np

from metammo.config import Config
from metammo.constants import HEALTH_MAX, NUM_STYLES, PASSABLE, Kind, Material
from metammo.state import State, playable_bounds
from metammo.systems.spawn import place_agents, place_npcs, ring, team_of
from metammo.tasks import Task
from minigames.base import Minigame
from minigames.randomization import Choice, OneOver

#: No team can win before this tick.
NO_WIN_BEFORE = 500
SPAWN_RADIUS = 20
#: Inner NPCs spawn within this many tiles of the centre.
INNER_RADIUS = 3
EDGE_NPC_CAP = 160
NPC_LEVEL = 3


class Sandwich(Minigame):
    name = "sandwich"
    description = "8 teams of 16 between NPCs rallying from the centre and the edge, and the fog"
    configs = ("mini",)
    team_size = 16
    rules_config = {"map_size": 80, "fog": True, "fog_onset": 1, "npcs": True, "npc_count": 0, "resources": False}
    randomization = {"terrain": Choice((False, True), (0.2, 0.8)), "fog_speed": OneOver(8, 16)}
    presets = {"eval": {"terrain": False, "fog_speed": 1 / 16, "map_pool": "eval"}}
    difficulty_levels = tuple(range(2, 17, 2))
    wins_to_raise = 2

    def task(self, cfg: Config) -> Task:
        return Task("team_tick_ge", "team", {"TickGE": {"n": cfg.tunables.horizon}})

    def spawn(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        n, c = cfg.shape.num_agents, self.centre(cfg)
        num_teams = n // self.team_size
        angle = 2 * np.pi * (np.arange(num_teams) + rng.random()) / num_teams
        self.team_row = np.rint(c + SPAWN_RADIUS * np.sin(angle)).astype(np.int64)
        self.team_col = np.rint(c + SPAWN_RADIUS * np.cos(angle)).astype(np.int64)
        state.tiles.material[self.team_row, self.team_col] = Material.GRASS
        teams = team_of(cfg)
        place_agents(state, np.arange(n), self.team_row[teams], self.team_col[teams], teams,
                     rng.integers(NUM_STYLES, size=n))
        inner = min(self.knob * num_teams, cfg.shape.max_npcs)
        edge = min(8 * self.knob, EDGE_NPC_CAP, cfg.shape.max_npcs - inner)
        # NPC slot k rallies to goal[k] and respawns near home: inner NPCs by team, then edge ones
        slots = n + np.arange(inner + edge)
        self._npc_goal = np.concatenate([
            np.stack([self.team_row, self.team_col], 1)[np.arange(inner) % num_teams],
            np.full((edge, 2), c)]).astype(np.int64)
        self._npc_inner = np.arange(inner + edge) < inner
        self._npc_slots = slots
        self._rng = rng
        self._refill(state, cfg)

    def _refill(self, state: State, cfg: Config) -> None:
        """Place every NPC of the game whose slot is empty: inner ones near the centre, edge
        ones on the edge, each walking to its goal."""
        dead = ~state.entities.alive[self._npc_slots]
        if not dead.any():
            return
        rng, tiles, c = self._rng, state.tiles, self.centre(cfg)
        lo, hi = playable_bounds(cfg)
        near = np.concatenate([ring(c - INNER_RADIUS, c + INNER_RADIUS + 1, k) for k in range(INNER_RADIUS)])
        edge = ring(lo, hi, 0)
        rows, cols = [], []
        for inner in self._npc_inner[dead]:
            pool = near if inner else edge
            tile = pool[rng.integers(len(pool))]
            rows.append(tile[0])
            cols.append(tile[1])
        rows, cols = np.array(rows), np.array(cols)
        ok = PASSABLE[tiles.material[rows, cols]]
        tiles.material[rows[~ok], cols[~ok]] = Material.GRASS  # a spawn tile is always standable
        k = int(dead.sum())
        goal = self._npc_goal[dead]
        place_npcs(state, self._npc_slots[dead], rows, cols, np.full(k, int(Kind.HOSTILE)),
                   np.full(k, NPC_LEVEL), rng.integers(NUM_STYLES, size=k), goal[:, 0], goal[:, 1])

    def rules(self, state: State, cfg: Config, died: np.ndarray) -> None:
        ent, n = state.entities, cfg.shape.num_agents
        alive = ent.alive[:n]
        ent.health[:n][alive] = np.minimum(ent.health[:n][alive] + 1, HEALTH_MAX)
        self._refill(state, cfg)

    def is_over(self, state: State, cfg: Config) -> bool:
        teams = self.teams_alive(state, cfg).sum()
        return teams == 0 or (state.tick >= NO_WIN_BEFORE and teams <= 1)

    def winners(self, state: State, cfg: Config, over: bool) -> np.ndarray:
        if state.tick < NO_WIN_BEFORE:
            return np.zeros(cfg.shape.num_agents, bool)
        return self.team_members(self.teams_alive(state, cfg))

    def winning_score(self, state: State, cfg: Config) -> float:
        return (cfg.tunables.horizon - state.tick) / cfg.tunables.horizon
