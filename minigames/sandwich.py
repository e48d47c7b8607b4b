"""Sandwich: teams caught between rallying NPCs and the fog (rules.md §2).

==========  ===================================================================
teams       8 teams of 16, spawned on a circle of radius 20 around the centre, each on a
            grass tile joined to the edge and the centre by a path (the fewest stone and
            water tiles turned to grass)
reward      team task TickGE(horizon)
win         no win before tick 500; then the last team standing, or every team
            alive at the horizon (so a horizon under 500 has no winners)
end         tick >= 500 with at most one team alive, every agent dead, or the horizon
score       winners +(horizon - tick)/horizon, every other live agent -1
config      mini; map 80; NPCs (cannot be turned off); fog from tick 1; no food or water;
            +1 HP per tick; per team ``inner`` hostile level-1 NPCs spawn near the centre
            and walk to that team's spawn; min(8 * inner, 160) spawn on the edge and walk
            to the centre; dead NPCs stay dead, but while fewer than min(live agents,
            inner) // 2 of them live, the shortfall spawns within map_size // 6 of the
            centre and walks to it
randomized  all-grass map with p = 0.2; fog speed 1/U{8..16}
difficulty  inner NPCs per team 2, 4, ..., 16; raised after 2 won episodes at a level
eval        all-grass map, 16 inner NPCs per team, fog speed 1/16, held-out maps
==========  ===================================================================

Deviations: the engine's fog hurts agents only, so NPCs at the edge are unharmed by it. Food
and water are off: the reference's all-grass maps have neither, so with them on every agent
would starve within ~40 ticks whatever it did; the game is the squeeze between NPCs and fog.
NPCs are level 1, the agents' level (see :data:`NPC_LEVEL`). rules.md says "dead NPCs refill";
the reference code tops them up only to the floor above, which is what makes the inner NPCs a
fight a team can win.

Balance at the evaluation settings (16 inner NPCs per team; 2 episodes each, mean tick the last
agent died): random play 36, standing still 37, the scripted bot 313; at difficulty 0 the
scripted bot wins (most teams alive at the horizon), random play lives to tick ~470 and does
not.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from metammo.config import Config
from metammo.constants import HEALTH_MAX, NUM_STYLES, PASSABLE, Kind, Material
from metammo.state import State, playable_bounds
from metammo.systems.spawn import open_paths, place_agents, place_npcs, ring, team_of
from metammo.tasks import Task
from minigames.base import Minigame
from minigames.randomization import Choice, OneOver

#: No team can win before this tick.
NO_WIN_BEFORE = 500
SPAWN_RADIUS = 20
#: Inner NPCs spawn within this many tiles of the centre.
INNER_RADIUS = 3
EDGE_NPC_CAP = 160
#: Every Sandwich NPC's level: the agents' own, so a fight is won by numbers, focus and style
#: counters. (The reference's NPCs take their combat stats from equipment, which its mini config
#: turns off; at level 3 the 16 inner NPCs of a team killed it by tick ~30 whatever it did.)
NPC_LEVEL = 1
#: Reinforcements appear within map_size // REINFORCE_SPREAD tiles of the centre.
REINFORCE_SPREAD = 6


@njit(cache=True)
def _heal(alive, health, num_agents, npc_slots):
    """+1 health, up to HEALTH_MAX, to each live agent of ``0 .. num_agents - 1``; returns
    ``(live agents, live NPCs among npc_slots)``."""
    agents = 0
    for i in range(num_agents):
        if alive[i]:
            health[i] = min(health[i] + 1, HEALTH_MAX)
            agents += 1
    npcs = 0
    for j in npc_slots:
        npcs += alive[j]
    return agents, npcs


class Sandwich(Minigame):
    name = "sandwich"
    description = "8 teams of 16 between NPCs rallying from the centre and the edge, and the fog"
    configs = ("mini",)
    team_size = 16
    min_teams = 2
    rules_config = {"map_size": 80, "fog": True, "fog_onset": 1, "npcs": True, "npc_count": 0, "resources": False}
    randomization = {"terrain": Choice((False, True), (0.2, 0.8)), "fog_speed": OneOver(8, 16)}
    presets = {"eval": {"terrain": False, "fog_speed": 1 / 16, "map_pool": "eval"}}
    difficulty_levels = tuple(range(2, 17, 2))
    wins_to_raise = 2

    def task(self, cfg: Config) -> Task:
        return Task("team_tick_ge", "team", {"TickGE": {"n": cfg.tunables.horizon}})

    def check_episode_config(self, cfg: Config) -> None:
        if not cfg.tunables.npcs:  # the NPCs it places would stand still: no Sandwich
            raise ValueError("its NPCs rally to the teams and the centre: 'npcs' must be on, got False")
        if cfg.tunables.map_size < 2 * SPAWN_RADIUS + 1:
            raise ValueError(f"teams spawn {SPAWN_RADIUS} tiles from the centre: map_size must be at least "
                             f"{2 * SPAWN_RADIUS + 1}, got {cfg.tunables.map_size}")

    def spawn(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        n, c = cfg.shape.num_agents, self.centre(cfg)
        num_teams = n // self.team_size
        angle = 2 * np.pi * (np.arange(num_teams) + rng.random()) / num_teams
        team_row = np.rint(c + SPAWN_RADIUS * np.sin(angle)).astype(np.int64)
        team_col = np.rint(c + SPAWN_RADIUS * np.cos(angle)).astype(np.int64)
        state.tiles.material[team_row, team_col] = Material.GRASS
        open_paths(state.tiles.material, *playable_bounds(cfg), np.append(team_row, c), np.append(team_col, c))
        teams = team_of(cfg)
        place_agents(state, np.arange(n), team_row[teams], team_col[teams], teams,
                     rng.integers(NUM_STYLES, size=n))
        inner = min(self.knob * num_teams, cfg.shape.max_npcs)
        edge = min(8 * self.knob, EDGE_NPC_CAP, cfg.shape.max_npcs - inner)
        self._npc_slots = n + np.arange(inner + edge)
        self._rng = rng
        near = np.concatenate([ring(c - INNER_RADIUS, c + INNER_RADIUS + 1, k) for k in range(INNER_RADIUS)])
        lo, hi = playable_bounds(cfg)
        rim = ring(lo, hi, 0)
        home = np.concatenate([near[rng.integers(len(near), size=inner)], rim[rng.integers(len(rim), size=edge)]])
        owner = np.arange(inner) % num_teams
        goal = np.concatenate([np.stack([team_row[owner], team_col[owner]], 1), np.full((edge, 2), c)])
        self._place(state, self._npc_slots, home, goal)

    def _place(self, state: State, slots: np.ndarray, tiles: np.ndarray, goals: np.ndarray) -> None:
        """Hostile NPCs in ``slots`` on ``tiles`` (``(k, 2)`` row, col; made grass when
        impassable), walking to ``goals`` (``(k, 2)``)."""
        rows, cols = tiles[:, 0], tiles[:, 1]
        material = state.tiles.material
        blocked = ~PASSABLE[material[rows, cols]]
        material[rows[blocked], cols[blocked]] = Material.GRASS  # a spawn tile is always standable
        k = len(slots)
        place_npcs(state, slots, rows, cols, np.full(k, int(Kind.HOSTILE)), np.full(k, NPC_LEVEL),
                   self._rng.integers(NUM_STYLES, size=k), goals[:, 0], goals[:, 1])

    def rules(self, state: State, cfg: Config, died: np.ndarray) -> None:
        ent, n = state.entities, cfg.shape.num_agents
        agents, npcs = self.kernels(_heal, ent.alive, ent.health, n, self._npc_slots)  # every tick: compiled
        # reinforcements: top the game's NPCs up to min(live agents, inner per team) // 2
        short = min(agents, self.knob) // 2 - npcs
        if short > 0:
            npc_alive = ent.alive[self._npc_slots]
            c, half = self.centre(cfg), cfg.tunables.map_size // REINFORCE_SPREAD
            tiles = self._rng.integers(c - half, c + half + 1, size=(short, 2))
            self._place(state, self._npc_slots[~npc_alive][:short], tiles, np.full((short, 2), c))

    def is_over(self, state: State, cfg: Config) -> bool:
        teams = np.count_nonzero(self.teams_alive(state, cfg))
        return teams == 0 or (state.tick >= NO_WIN_BEFORE and teams <= 1)

    def winners(self, state: State, cfg: Config, over: bool) -> np.ndarray:
        if state.tick < NO_WIN_BEFORE:
            return np.zeros(cfg.shape.num_agents, bool)
        return self.team_members(self.teams_alive(state, cfg))

    def winning_score(self, state: State, cfg: Config) -> float:
        return (cfg.tunables.horizon - state.tick) / cfg.tunables.horizon
