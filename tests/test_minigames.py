"""The minigames (rules.md §2): each game's rules on small hand-built situations, the rollout
command line over every game and config, game packs and their weights, the game vector, domain
randomization and presets, adaptive difficulty, ``python -m minigames list`` and third-party
games found through entry points.

Situations are built by making an env, resetting it and editing ``env.state`` by hand (positions
keep ``state.tiles.agents`` consistent), then ``env.refresh_observations()`` and stepping with
no-op actions. Agents are killed by setting their health to 0 before a step: the deaths phase of
that tick culls them (regeneration needs health above 0).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers import reachable_from_edge

import metammo
from metammo import terrain
from metammo.constants import MOVE_DELTA, PASSABLE, Kind, Move
from metammo.game import ENTRY_POINT_GROUP, games, make_game, packs
from metammo.observation import EntityFeature, GameFeature, game_id
from metammo.state import playable_bounds
from metammo.systems.spawn import ring
from metammo.tasks import EMBED_DIM, Task, embed
from metammo.terrain import EVAL_MAP_SEEDS
from minigames.difficulty import HISTORY, Difficulty
from minigames.packs import FULL_GENERALIST, MINI_GENERALIST
from minigames.base import Minigame

REPO = Path(__file__).resolve().parent.parent
#: Nothing kills anyone unless the test does: no NPCs, no hunger or thirst.
PEACEFUL = dict(npcs=False, food_depletion=0, water_depletion=0)
#: The built-in minigames (games other tests register in this process are left out).
MINIGAMES = sorted(name for name, cls in games().items() if cls.__module__.startswith("minigames."))


# --- helpers -------------------------------------------------------------------------------------


def move_agent(env, i: int, r: int, c: int) -> None:
    """Teleport agent ``i`` to tile (r, c), keeping the tile agent counts consistent."""
    ent, tiles = env.state.entities, env.state.tiles
    tiles.agents[ent.row[i], ent.col[i]] -= 1
    ent.row[i], ent.col[i] = r, c
    tiles.agents[r, c] += 1


def noop(env) -> np.ndarray:
    return np.zeros_like(env.actions)


def step(env, actions=None):
    """One step with no-op (or given) actions; returns (rewards, terminals, truncations, infos)
    as copies."""
    _, rewards, terminals, truncations, infos = env.step(noop(env) if actions is None else actions)
    return rewards.copy(), terminals.copy(), truncations.copy(), infos


def game_view(env) -> np.ndarray:
    return env.layout.view(env.observations, "game")


def team(k: int, size: int) -> np.ndarray:
    return np.arange(k * size, (k + 1) * size)


def run_cli(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=timeout)


# --- Protect the King ----------------------------------------------------------------------------


def make_ptk(horizon: int = 50):
    env = metammo.make("protect_the_king", "mini", seed=0, num_agents=24, horizon=horizon,
                       randomize=False, autoreset=False, **PEACEFUL)
    env.reset()
    return env


def test_protect_the_king_leaders_and_team_death():
    env = make_ptk()
    ent = env.state.entities
    leaders = np.zeros(24, bool)
    leaders[[0, 8, 16]] = True
    np.testing.assert_array_equal(ent.leader[:24], leaders)

    # a follower's death kills only the follower
    ent.health[9] = 0
    _, terminals, _, infos = step(env)
    assert not infos
    assert not ent.alive[9] and ent.alive[:24][np.arange(24) != 9].all()
    np.testing.assert_array_equal(terminals, np.arange(24) == 9)

    # the leader of team 1 dies: its whole team dies with it, the others are untouched
    ent.health[8] = 0
    _, terminals, _, infos = step(env)
    assert not infos, "two leaders are still alive: the game goes on"
    assert not ent.alive[team(1, 8)].any()
    assert ent.alive[team(0, 8)].all() and ent.alive[team(2, 8)].all()
    expected = np.zeros(24, bool)
    expected[[10, 11, 12, 13, 14, 15, 8]] = True  # 9 was already dead before this step
    np.testing.assert_array_equal(terminals, expected)
    assert (ent.health[team(1, 8)] <= 0).all()


def test_protect_the_king_last_leader_wins():
    horizon = 50
    env = make_ptk(horizon)
    ent = env.state.entities
    ent.health[8] = 0
    step(env)
    ent.health[0] = 0
    rewards, terminals, truncations, infos = step(env)
    assert len(infos) == 1, "one leader left: the game is over"
    summary = infos[0]
    assert summary["game"] == "protect_the_king"
    assert summary["length"] == 2
    assert summary["winners"] == list(range(16, 24))
    assert not ent.alive[:16].any() and ent.alive[16:24].all()
    # the game is over: the live agents and team 0 (dying now) end; team 1 ended a step ago
    np.testing.assert_array_equal(terminals, np.arange(24) // 8 != 1)
    assert not truncations.any()
    # winners: +1 winning score on top of the tick's task progress (1/horizon per tick)
    np.testing.assert_allclose(rewards[16:24], 1.0 + 1.0 / horizon, atol=1e-5)
    scores = np.array(summary["scores"])
    assert len(scores) == 24
    np.testing.assert_allclose(scores[16:24], 16.0 + 2.0 / horizon, atol=1e-3)
    assert (scores[:16] < 16).all()


# --- King of the Hill ----------------------------------------------------------------------------


def make_koth(horizon: int = 200):
    env = metammo.make("king_of_the_hill", "mini", seed=0, num_agents=24, horizon=horizon,
                       randomize=False, difficulty=0, autoreset=False)
    env.reset()
    return env


def test_king_of_the_hill_plays_the_reference_config_without_npcs():
    env = make_koth()
    t = env.config.tunables
    assert not t.npcs and t.exclusive_tiles and t.extra_resources
    assert (t.water_threshold, t.foliage_threshold, t.map_size) == (0.05, 0.95, 60)
    assert not env.state.entities.alive[24:].any(), "NPC slots follow the agents'"
    for _ in range(20):
        step(env)
        assert not env.state.entities.alive[24:].any(), "no NPC ever spawns"


def test_king_of_the_hill_ends_when_the_last_team_left_holds_the_centre():
    env = make_koth()
    c = env.game.centre(env.config)
    move_agent(env, 0, c, c)
    env.state.entities.health[16:24] = 0  # team 2 dies on the first tick; teams 0 and 1 remain
    env.refresh_observations()
    for _ in range(3):
        assert not step(env)[3], "two teams alive: the holder must hold N ticks"
    env.state.entities.health[8:16] = 0  # team 1 dies: team 0, holding the centre, is left
    _, _, _, infos = step(env)
    assert len(infos) == 1 and infos[0]["length"] == 4
    assert infos[0]["winners"] == list(range(8))


def test_king_of_the_hill_goes_on_while_the_last_team_left_does_not_hold_the_centre():
    env = make_koth()
    c = env.game.centre(env.config)
    move_agent(env, 0, c, c)  # team 0 seizes the centre
    env.refresh_observations()
    assert not step(env)[3]
    env.state.entities.health[:8] = 0  # the holder's team dies: teams 1 and 2 remain
    assert not step(env)[3]
    env.state.entities.health[16:24] = 0  # team 2 dies: team 1 is left, never having held it
    for t in range(5):
        assert not step(env)[3], f"one team left without the centre ended the game after {t + 1} ticks"
    move_agent(env, 8, c, c)  # team 1 takes the centre: it is the last team and the holder
    env.refresh_observations()
    _, _, _, infos = step(env)
    assert len(infos) == 1 and infos[0]["winners"] == list(range(8, 16))


def test_king_of_the_hill_spawns_128_agents_one_per_tile_on_its_60_map():
    env = metammo.make("king_of_the_hill", "mini", seed=0, randomize=False)
    for _ in range(3):
        env.reset()
        e, n = env.state.entities, env.num_agents
        assert e.alive[:n].all()
        tiles = set(zip(e.row[:n].tolist(), e.col[:n].tolist()))
        assert len(tiles) == n, "two agents share a tile"
        assert PASSABLE[env.state.tiles.material[e.row[:n], e.col[:n]]].all()


def test_king_of_the_hill_hold_for_n_ticks_wins():
    horizon = 200
    env = make_koth(horizon)
    assert env.episode_summary()["difficulty"]["value"] == 10  # N at difficulty 0
    c = env.game.centre(env.config)
    lo, hi = playable_bounds(env.config)
    assert lo <= c < hi and env.config.tunables.map_size == 60
    move_agent(env, 0, c, c)
    move_agent(env, 1, c, c)
    env.state.entities.health[7] = 0  # one member of the team dies: 7/8 of it alive at the end
    env.refresh_observations()
    for t in range(1, 10):
        _, _, _, infos = step(env)
        assert not infos, f"held only {t} ticks of 10"
    rewards, terminals, _, infos = step(env)
    assert len(infos) == 1, "held the centre alone for N = 10 ticks: the episode ends"
    summary = infos[0]
    assert summary["length"] == 10
    assert summary["winners"] == list(range(8)), "the holder's team wins, its dead members too"
    assert terminals[[0, 1, 2, 3, 4, 5, 6] + list(range(8, 24))].all() and not terminals[7]
    assert rewards[7] == 0.0, "a member dead before the end gets no reward"
    # (speed bonus + fraction of the team alive) / 2, plus the last tick's task gain 0.4 / N
    expected = ((horizon - 10) / horizon + 7 / 8) / 2 + 0.4 / 10
    np.testing.assert_allclose(rewards[:7], expected, atol=1e-4)
    np.testing.assert_allclose(rewards[8:], -1.0, atol=1e-4)  # the others never moved: no gain


def test_king_of_the_hill_contested_and_taken_over():
    env = make_koth()
    c = env.game.centre(env.config)
    move_agent(env, 0, c, c)
    move_agent(env, 1, c, c)
    env.refresh_observations()
    for _ in range(3):
        assert not step(env)[3]
    # a member of team 1 joins: the centre is contested and nobody's count rises
    move_agent(env, 8, c, c)
    env.refresh_observations()
    for t in range(20):
        assert not step(env)[3], f"contested centre ended the game after {t + 1} more ticks"
    # team 0 leaves: team 1 alone takes over and its count starts from 0
    move_agent(env, 0, c, c - 1)
    move_agent(env, 1, c, c - 1)
    env.refresh_observations()
    for t in range(9):
        assert not step(env)[3], f"team 1 held only {t + 1} ticks of 10 (count must restart)"
    _, _, _, infos = step(env)
    assert len(infos) == 1
    assert infos[0]["length"] == 3 + 20 + 10
    assert infos[0]["winners"] == list(range(8, 16))
    scores = np.array(infos[0]["scores"])
    assert (scores[8:16] >= 16).all() and (scores[:8] < 16).all() and (scores[16:] < 16).all()


@pytest.mark.parametrize("holder_dead", [False, True])
def test_king_of_the_hill_holder_at_horizon(holder_dead):
    horizon = 8
    env = make_koth(horizon)
    c = env.game.centre(env.config)
    move_agent(env, 0, c, c)
    env.refresh_observations()
    for _ in range(3):
        assert not step(env)[3]
    move_agent(env, 0, c, c - 1)  # the holder leaves; nobody else takes the centre
    if holder_dead:
        env.state.entities.health[:8] = 0
    env.refresh_observations()
    for _ in range(horizon - 4):
        assert not step(env)[3]
    rewards, terminals, truncations, infos = step(env)
    assert len(infos) == 1 and infos[0]["length"] == horizon
    if holder_dead:
        assert infos[0]["winners"] == [], "a holder without a live member does not win"
    else:
        assert infos[0]["winners"] == list(range(8)), "the holder at the horizon wins"
        assert truncations[:24].all() and not terminals.any()
        assert (rewards[:8] > 0).all() and (rewards[8:] < 0).all()


# --- Race to the Center --------------------------------------------------------------------------


def make_race(horizon: int = 100, num_agents: int = 8):
    env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=num_agents, horizon=horizon,
                       randomize=False, difficulty=0, autoreset=False)
    env.reset()
    return env


def test_race_to_the_center_first_on_centre_wins():
    horizon = 100
    env = make_race(horizon)
    cfg = env.config
    assert cfg.tunables.map_size == 40 and not cfg.tunables.combat and not cfg.tunables.npcs
    c = env.game.centre(cfg)
    assert env.state.tiles.agents[c - 1, c] == 0
    move_agent(env, 0, c - 1, c)
    env.refresh_observations()
    _, _, _, infos = step(env)  # one tick next to the centre: not a win
    assert not infos
    actions = noop(env)
    actions[0, 0] = Move.SOUTH
    rewards, terminals, truncations, infos = step(env, actions)
    assert len(infos) == 1, "the agent stepped onto the centre: the race is over"
    summary = infos[0]
    tick = summary["length"]
    assert tick == 2
    assert summary["winners"] == [0]
    assert (int(env.state.entities.row[0]), int(env.state.entities.col[0])) == (c, c)
    # winning score (horizon - tick) / horizon plus the progress gain 1 / (map size / 2)
    np.testing.assert_allclose(rewards[0], (horizon - tick) / horizon + 1 / 20, atol=1e-5)
    np.testing.assert_allclose(rewards[1:], -1.0, atol=1e-5)
    assert terminals.all() and not truncations.any()
    assert summary["scores"][0] == pytest.approx(17.0, abs=1e-3)


def test_race_to_the_center_dead_racer_respawns_frozen():
    env = make_race()
    ent, tiles = env.state.entities, env.state.tiles
    lo, hi = playable_bounds(env.config)
    ent.health[1] = 0
    _, terminals, _, infos = step(env)
    assert not infos
    assert ent.alive[1], "a dead racer respawns in the same tick"
    assert terminals[1] and terminals.sum() == 1, "its life ended: a terminal, though it is back"
    r, c = int(ent.row[1]), int(ent.col[1])
    assert r in (lo, hi - 1) or c in (lo, hi - 1), f"respawned at {(r, c)}, not on the edge [{lo}, {hi})"
    assert tiles.agents[r, c] == 1 and tiles.agents.sum() == 8
    assert ent.health[1] > 0
    # pick a move to a free passable tile inside the playable square
    options = [m for m in (Move.NORTH, Move.SOUTH, Move.EAST, Move.WEST)
               if lo <= r + MOVE_DELTA[m, 0] < hi and lo <= c + MOVE_DELTA[m, 1] < hi
               and PASSABLE[tiles.material[r + MOVE_DELTA[m, 0], c + MOVE_DELTA[m, 1]]]
               and tiles.agents[r + MOVE_DELTA[m, 0], c + MOVE_DELTA[m, 1]] == 0]
    assert options
    actions = noop(env)
    actions[1, 0] = options[0]
    for t in range(10):
        step(env, actions)
        assert (int(ent.row[1]), int(ent.col[1])) == (r, c), f"moved while frozen, tick {t + 1} of 10"
    step(env, actions)
    assert (int(ent.row[1]), int(ent.col[1])) == (r + MOVE_DELTA[options[0], 0], c + MOVE_DELTA[options[0], 1])


def test_race_to_the_center_respawns_on_consecutive_free_edge_tiles_while_any_are_free():
    env = make_race()
    ent, tiles = env.state.entities, env.state.tiles
    lo, hi = playable_bounds(env.config)
    edge = [(r, c) for r, c in ring(lo, hi, 0) if PASSABLE[tiles.material[r, c]]]
    free = [t for t in edge if tiles.agents[t] == 0][:3]
    for t in set(edge) - set(free):  # stand-ins on every other edge tile, the racers' own too
        tiles.agents[t] += 1
    ent.health[[1, 2, 4, 6, 7]] = 0
    _, terminals, _, infos = step(env)
    assert not infos and terminals[[1, 2, 4, 6, 7]].all() and terminals.sum() == 5
    revived = [i for i in (1, 2, 4, 6, 7) if ent.alive[i]]
    assert revived == [1, 2, 4], "slot order, as many as there are free edge tiles"
    spots = [(int(ent.row[i]), int(ent.col[i])) for i in revived]
    start = free.index(spots[0])
    assert spots == [free[(start + k) % 3] for k in range(3)], "consecutive along the edge"
    assert all(tiles.agents[t] == 1 for t in spots)
    assert (ent.freeze[revived] == 10).all() and (ent.team[revived] == revived).all()
    assert not ent.alive[[6, 7]].any()


def test_race_to_the_center_never_draws_an_all_grass_map():
    """An all-grass map has no water or food, and racers starve long before the centre of a
    large map: Race's randomization keeps the terrain on."""
    env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, horizon=2)
    env.reset()
    for _ in range(40):
        assert env.config.tunables.terrain
        step(env, noop(env))
    assert "terrain" not in env.game.spec


# --- Sandwich ------------------------------------------------------------------------------------


def make_sandwich():
    env = metammo.make("sandwich", "mini", seed=0, num_agents=32, horizon=1024, randomize=False,
                       difficulty=0, fog_onset=100_000, autoreset=False)
    env.reset()
    return env


def test_sandwich_no_win_before_tick_500():
    env = make_sandwich()
    ent, horizon = env.state.entities, 1024
    ent.health[16:32] = 0
    _, _, _, infos = step(env)
    assert not infos, "one team left before tick 500: the game goes on"
    assert not ent.alive[16:32].any() and ent.alive[:16].any()
    env.state.tick = 498
    _, _, _, infos = step(env)
    assert env.state.tick == 499 and not infos
    rewards, terminals, _, infos = step(env)
    assert env.state.tick == 500
    assert len(infos) == 1, "tick 500 with one team left: it wins"
    alive = np.flatnonzero(ent.alive[:16])
    assert infos[0]["winners"] == list(range(16)) and len(alive) > 0
    # (horizon - tick) / horizon plus this tick's TickGE(horizon) gain
    np.testing.assert_allclose(rewards[alive], (horizon - 500) / horizon + 1 / horizon, atol=1e-5)
    assert terminals[alive].all()


def test_sandwich_last_team_after_tick_500():
    env = make_sandwich()
    ent = env.state.entities
    env.state.tick = 599
    _, _, _, infos = step(env)
    assert not infos, "two teams alive at tick 600: the game goes on"
    ent.health[16:32] = 0
    _, _, _, infos = step(env)
    assert len(infos) == 1 and infos[0]["length"] == 601
    assert infos[0]["winners"] == list(range(16))


@pytest.mark.parametrize("name,options", [
    ("race_to_the_center", dict(difficulty="max")),
    ("king_of_the_hill", dict(preset="eval")),
    ("sandwich", dict(randomization={"terrain": {"choice": [True]}})),
], ids=["race", "koth", "sandwich"])
def test_the_places_a_game_sends_agents_to_are_reachable(name, options):
    """Race's and King of the Hill's centre and Sandwich's team spawns (and centre) are joined to
    the edge on every map: before, 7-30 of 40 such episodes had one sealed in stone or water."""
    options = dict(options)
    spec = options.pop("randomization", None)
    env = metammo.make(name, "mini", seed=0, horizon=5, game_options={"randomization": spec} if spec else None,
                       **options)
    for _ in range(12):
        env.reset()
        lo, hi = playable_bounds(env.config)
        c = env.game.centre(env.config)
        seen = reachable_from_edge(env.state.tiles.material, lo, hi)
        ent = env.state.entities
        assert seen[c - lo, c - lo], f"map {env.map_seed}: centre sealed"
        assert seen[ent.row[:128] - lo, ent.col[:128] - lo].all(), f"map {env.map_seed}: a spawn sealed"



@pytest.mark.parametrize("name, config", [("team_battle", "mini"), ("survival", "full")])
def test_the_fog_safe_square_is_reachable(name, config):
    """With the fog on, some tile of its safe square is joined to the edge on every map: before,
    2-3 of 60 episodes of these games had the whole square sealed, so the fog killed everyone."""
    env = metammo.make(name, config, seed=0, preset="eval")
    for _ in range(60):
        env.reset()
        t = env.config.tunables
        assert t.fog and t.fog_onset < t.horizon
        half = t.fog_final_size
        lo, hi = playable_bounds(env.config)
        c = env.game.centre(env.config) - lo
        seen = reachable_from_edge(env.state.tiles.material, lo, hi)
        assert seen[c - half:c + half + 1, c - half:c + half + 1].any(), f"map {env.map_seed}: safe square sealed"

def test_sandwich_npcs_rally_and_reinforce():
    env = make_sandwich()
    ent, n, cfg = env.state.entities, 32, env.config
    c = env.game.centre(cfg)
    lo, hi = playable_bounds(cfg)
    assert cfg.tunables.map_size == 80
    # teams spawn together on a circle of radius 20 around the centre
    spawns = [(int(ent.row[k * 16]), int(ent.col[k * 16])) for k in range(2)]
    for k, (r, col) in enumerate(spawns):
        assert (ent.row[team(k, 16)] == r).all() and (ent.col[team(k, 16)] == col).all()
        assert abs(math.hypot(r - c, col - c) - 20) <= 1
    npcs = n + np.flatnonzero(ent.alive[n:])
    assert (ent.kind[npcs] == Kind.HOSTILE).all()
    dist = np.maximum(abs(ent.row[npcs] - c), abs(ent.col[npcs] - c))
    inner, edge = npcs[dist <= 3], npcs[dist > 3]
    knob = 2  # inner NPCs per team at difficulty 0
    assert len(inner) == knob * 2
    assert len(edge) == min(8 * knob, 160)
    goals = {(int(ent.goal_row[i]), int(ent.goal_col[i])) for i in inner}
    assert goals == set(spawns), "inner NPCs rally to the teams' spawn tiles"
    per_team = [sum((int(ent.goal_row[i]), int(ent.goal_col[i])) == s for i in inner) for s in spawns]
    assert per_team == [knob, knob]
    on_edge = (np.isin(ent.row[edge], (lo, hi - 1)) | np.isin(ent.col[edge], (lo, hi - 1)))
    assert on_edge.all()
    assert (ent.goal_row[edge] == c).all() and (ent.goal_col[edge] == c).all()

    assert (ent.level[npcs] == 1).all(), "Sandwich NPCs are at the agents' level"

    # dead NPCs stay dead while at least min(live agents, inner) // 2 = 1 game NPC lives
    ent.health[inner] = 0
    step(env)
    assert not ent.alive[inner].any() and ent.alive[n:].sum() == len(edge)
    # below that floor the shortfall spawns near the centre and walks to it
    ent.health[n:] = 0
    step(env)
    back = n + np.flatnonzero(ent.alive[n:])
    assert len(back) == 1
    assert max(abs(int(ent.row[back[0]]) - c), abs(int(ent.col[back[0]]) - c)) <= 80 // 6
    assert (int(ent.goal_row[back[0]]), int(ent.goal_col[back[0]])) == (c, c)


# --- Survival and Team Battle --------------------------------------------------------------------


def test_survival_last_alive_wins_and_death_penalty():
    horizon = 50
    env = metammo.make("survival", "full", seed=0, num_agents=4, horizon=horizon, randomize=False,
                       autoreset=False, **PEACEFUL)
    env.reset()
    ent = env.state.entities
    ent.health[3] = 0
    rewards, terminals, _, infos = step(env)
    assert not infos
    assert rewards[3] == pytest.approx(1 / horizon - 1.0, abs=1e-5), "its last tick alive, then -1 on death"
    np.testing.assert_allclose(rewards[:3], 1 / horizon, atol=1e-5)
    np.testing.assert_array_equal(terminals, [False, False, False, True])
    ent.health[1:3] = 0
    rewards, terminals, _, infos = step(env)
    assert len(infos) == 1, "one agent left: it wins"
    assert infos[0]["winners"] == [0]
    assert rewards[0] == pytest.approx(1.0 + 1 / horizon, abs=1e-5)
    np.testing.assert_allclose(rewards[1:3], 1 / horizon - 1.0, atol=1e-5)
    assert rewards[3] == 0.0, "an agent dead before this tick gets nothing"
    assert infos[0]["scores"][0] == pytest.approx(16 + 2 / horizon, abs=1e-3)


def make_team_battle(horizon: int):
    env = metammo.make("team_battle", "mini", seed=0, num_agents=24, horizon=horizon,
                       randomize=False, autoreset=False, **PEACEFUL)
    env.reset()
    return env


def test_team_battle_last_team_standing_wins():
    """The whole team wins, a member dead before the end included (the reference's
    ``config.TEAMS[winner_team]``): it is scored as a winner but gets no reward at the end."""
    env = make_team_battle(50)
    ent = env.state.entities
    ent.health[[16, 17, 18, 19, 20, 21, 22, 23, 9, 3]] = 0
    _, _, _, infos = step(env)
    assert not infos, "two teams alive: the battle goes on"
    ent.health[[8, 10, 11, 12, 13, 14, 15]] = 0
    rewards, terminals, truncations, infos = step(env)
    assert len(infos) == 1
    assert infos[0]["winners"] == list(range(8))
    live = [0, 1, 2, 4, 5, 6, 7]
    np.testing.assert_allclose(rewards[live], 1.0 + 1 / 50, atol=1e-5)
    assert rewards[3] == 0.0 and infos[0]["scores"][3] == pytest.approx(16 + 2 / 50, abs=1e-3)  # a team task
    assert terminals[live].all() and not truncations.any()


def test_team_battle_horizon_all_alive_teams_win():
    horizon = 5
    env = make_team_battle(horizon)
    ent = env.state.entities
    ent.health[16:24] = 0
    for t in range(horizon - 1):
        assert not step(env)[3]
    rewards, terminals, truncations, infos = step(env)
    assert len(infos) == 1 and infos[0]["length"] == horizon
    assert infos[0]["winners"] == list(range(16))
    np.testing.assert_array_equal(truncations, np.arange(24) < 16)
    assert not terminals.any()
    np.testing.assert_allclose(rewards[:16], 1.0 + 1 / horizon, atol=1e-5)
    np.testing.assert_allclose(rewards[16:], 0.0)
    scores = np.array(infos[0]["scores"])
    np.testing.assert_allclose(scores[:16], 17.0, atol=1e-3)
    assert (scores[16:] < 16).all()


# --- the rollout command line over every game and config ----------------------------------------


CASES = [(name, config) for name in MINIGAMES for config in games()[name].configs]


@pytest.mark.parametrize("name,config", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_rollout_cli_every_game_and_config(name, config):
    out = run_cli("-m", "metammo.rollout", "--game", name, "--config", config, "--policy", "scripted",
                  "--episodes", "2", "--seed", "0", "--json", "--set", "horizon=200")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == 2
    for summary in lines:
        assert summary["game"] == name and summary["config"] == config
        assert 1 <= summary["length"] <= 200
        assert len(summary["scores"]) == 128
        assert all(isinstance(w, int) and 0 <= w < 128 for w in summary["winners"])
        if name == "multitask":
            assert summary["winners"] == [] and "completion" in summary
        for w in summary["winners"]:
            assert summary["scores"][w] >= 16
        assert {"level", "value", "levels", "pinned"} <= set(summary["difficulty"])
        assert isinstance(summary["randomized"], dict)
        assert summary["preset"] is None


def test_bench_cli_counts_rows_and_live_agents():
    # Team Battle under random play: every agent starves at about the same tick, so the
    # episodes end with most agents alive and restart often (the bench's reset_share)
    out = run_cli("-m", "metammo.bench", "--game", "team_battle", "--seconds", "0.5", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["game"] == "team_battle" and result["agents"] == 128 and result["episodes"] >= 1
    assert 0 < result["live_agents_per_tick"] <= 128
    ratio = result["live_agent_steps_per_s"] / result["agent_steps_per_s"]
    assert ratio == pytest.approx(result["live_agents_per_tick"] / 128, rel=0.01)
    assert 0 < result["game_hooks_share"] < 1 and 0 < result["reset_share"] < 1
    # adaptive by default: the timed ticks per difficulty level add up to the ticks run
    assert result["difficulty"] == "adaptive"
    assert sum(result["difficulty_ticks"]["team_battle"].values()) == result["env_steps"]
    pinned = run_cli("-m", "metammo.bench", "--game", "team_battle", "--seconds", "0.3", "--difficulty", "1", "--json")
    assert pinned.returncode == 0, pinned.stderr
    assert json.loads(pinned.stdout)["difficulty_ticks"] == {"team_battle": {"1": json.loads(pinned.stdout)["env_steps"]}}
    for argv, named in ((["--game", "nope"], "nope"), (["--difficulty", "hard"], "--difficulty"),
                        (["--game", "team_battle", "--difficulty", "4"], "[0, 3]")):
        bad = run_cli("-m", "metammo.bench", "--seconds", "0.1", *argv)
        assert bad.returncode != 0 and named in bad.stderr


def test_rollout_cli_unsupported_config_fails_clearly():
    out = run_cli("-m", "metammo.rollout", "--game", "survival", "--config", "mini", "--episodes", "1")
    assert out.returncode != 0
    assert "survival" in out.stderr and "full" in out.stderr


# --- game packs and weights ----------------------------------------------------------------------


def test_registry_lists_the_games_and_packs():
    assert set(MINIGAMES) == {"survival", "team_battle", "protect_the_king", "race_to_the_center",
                              "king_of_the_hill", "sandwich", "multitask"}
    known = packs()
    assert known["mini_generalist"] == MINI_GENERALIST
    assert known["full_generalist"] == FULL_GENERALIST
    for members in known.values():
        assert set(members) <= set(games())


def test_pack_samples_games_across_episodes():
    env = metammo.make("mini_generalist", "mini", seed=0, num_agents=32, horizon=2)
    env.reset()
    seen = []
    while len(seen) < 15:
        _, _, _, _, infos = env.step(noop(env))
        for summary in infos:
            assert summary["game"] in MINI_GENERALIST
            seen.append(summary["game"])
        # the observations of the (new) episode name its game
        np.testing.assert_array_equal(game_view(env)[:, GameFeature.GAME:GameFeature.GAME + 8],
                                      np.broadcast_to(game_id(env.game.name), (32, 8)))
    assert len(set(seen)) >= 3, f"a uniform pack of 5 games sampled only {set(seen)} in 15 episodes"


def test_pack_zero_weight_never_sampled():
    weights = [0.0, 1.0, 0.0, 2.0, 0.0]
    env = metammo.make("mini_generalist", "mini", seed=1, num_agents=32, horizon=1, weights=weights)
    env.reset()
    seen = {env.game.name}
    for _ in range(12):
        _, _, _, _, infos = env.step(noop(env))
        seen |= {s["game"] for s in infos} | {env.game.name}
    assert seen <= {"protect_the_king", "king_of_the_hill"}


def test_list_of_game_names_is_a_pack():
    env = metammo.make(["team_battle", "race_to_the_center"], "mini", seed=0, num_agents=16, horizon=1)
    env.reset()
    seen = set()
    for _ in range(10):
        seen |= {s["game"] for s in env.step(noop(env))[4]}
    assert seen == {"team_battle", "race_to_the_center"}


@pytest.mark.parametrize("weights", [[1, 1, -1, 1, 1], [0, 0, 0, 0, 0], [1, 1, 1], [1, 1, 1, 1, 1, 1],
                                     [1, float("nan"), 1, 1, 1], [1, float("inf"), 1, 1, 1]],
                         ids=["negative", "all-zero", "short", "long", "nan", "inf"])
def test_pack_bad_weights(weights):
    with pytest.raises(ValueError, match="weights"):
        metammo.make("mini_generalist", "mini", num_agents=32, weights=weights)


def test_unknown_game_or_pack():
    with pytest.raises(ValueError) as err:
        metammo.make("no_such_game")
    assert "no_such_game" in str(err.value)
    for name in MINIGAMES:
        assert name in str(err.value), "the error lists the known games"
    assert "game packs: ['full_generalist', 'mini_generalist']" in str(err.value)
    with pytest.raises(ValueError, match="no_such_pack"):
        metammo.make("no_such_pack", "mini")
    with pytest.raises(ValueError, match="no_such_game"):
        metammo.make(["team_battle", "no_such_game"])
    with pytest.raises(ValueError):
        metammo.make([])


@pytest.mark.parametrize("name", ["multitask", "survival", "full_generalist"])
def test_full_only_games_reject_mini(name):
    with pytest.raises(ValueError) as err:
        metammo.make(name, "mini", num_agents=16)
    message = str(err.value)
    assert "mini" in message and "full" in message
    assert any(g in message for g in ("survival", "multitask"))


@pytest.mark.parametrize("name", ["protect_the_king", "king_of_the_hill", "race_to_the_center", "sandwich"])
def test_mini_only_games_reject_full(name):
    with pytest.raises(ValueError, match=rf"{name}.*supports \['mini'\]"):
        metammo.make(name, "full", num_agents=16)


# --- the game vector -----------------------------------------------------------------------------


VECTOR_CASES = [(name, games()[name].configs[0]) for name in MINIGAMES]


@pytest.mark.parametrize("name,config", VECTOR_CASES, ids=[n for n, _ in VECTOR_CASES])
def test_game_vector(name, config):
    env = metammo.make(name, config, seed=0, num_agents=32, horizon=5)
    env.reset()
    view = game_view(env)
    game = env.game
    np.testing.assert_array_equal(view[:, GameFeature.GAME:GameFeature.GAME + 8],
                                  np.broadcast_to(game_id(name), (32, 8)))
    team_size = env.config.tunables.team_size
    assert team_size == game.team_size
    assert (view[:, GameFeature.TEAM_GAME] == (team_size > 1)).all()
    expected_leader = np.zeros(32, np.uint8)
    if name == "protect_the_king":
        expected_leader[::team_size] = 1
    np.testing.assert_array_equal(view[:, GameFeature.LEADER], expected_leader)
    tasks = [embed(t) for t in game.tasks]
    expected_tasks = np.stack([tasks[k] for k in game.agent_task])
    np.testing.assert_array_equal(view[:, GameFeature.TASK:GameFeature.TASK + EMBED_DIM], expected_tasks)
    assert (view[:, GameFeature.TASK:GameFeature.TASK + EMBED_DIM] > 0).any()
    if name != "multitask":
        single = embed(game.task(env.config))
        assert (view[:, GameFeature.TASK:GameFeature.TASK + EMBED_DIM] == single).all()
    # game ids differ between games
    ids = {bytes(game_id(g)) for g in games()}
    assert len(ids) == len(games())


@pytest.mark.parametrize("name", ["protect_the_king", "team_battle"])
def test_entity_rows_show_leaders(name):
    env = metammo.make(name, "mini", seed=0, num_agents=16, horizon=5, randomize=False, **PEACEFUL)
    env.reset()
    ent = env.state.entities
    # teams spawn together on one tile, far from each other
    for k in range(2):
        members = team(k, 8)
        assert (ent.row[members] == ent.row[members[0]]).all() and (ent.col[members] == ent.col[members[0]]).all()
    rows = env.layout.view(env.observations, "entities")
    present = rows[..., EntityFeature.PRESENT] == 1
    leader_rows = (rows[..., EntityFeature.LEADER] == 1) & present
    if name == "team_battle":
        assert not leader_rows.any(), "no leaders in Team Battle"
        return
    v = env.layout.vision
    for i in range(16):
        # every follower sees exactly one leader row: its own leader, a teammate on its tile
        if i % 8 == 0:
            assert leader_rows[i].sum() == 0, "a leader sees no other leader"
            continue
        assert leader_rows[i].sum() == 1, f"agent {i}"
        k = int(np.flatnonzero(leader_rows[i])[0])
        assert rows[i, k, EntityFeature.TEAMMATE] == 1
        assert (rows[i, k, EntityFeature.ROW], rows[i, k, EntityFeature.COL]) == (v, v)


# --- domain randomization and presets -----------------------------------------------------------


def test_randomization_differs_between_episodes():
    env = metammo.make("team_battle", "mini", seed=0, num_agents=16, horizon=5)
    drawn = []
    for _ in range(5):
        env.reset()
        t = env.config.tunables
        randomized = env.episode_summary()["randomized"]
        assert set(randomized) == {"fog_onset", "fog_speed"}, "npc_count is the difficulty knob"
        assert randomized["fog_onset"] == t.fog_onset and randomized["fog_speed"] == t.fog_speed
        assert 32 <= t.fog_onset <= 255
        assert any(t.fog_speed == pytest.approx(1 / k) for k in range(7, 12))
        assert t.npc_count == 64  # difficulty 0
        drawn.append((t.fog_onset, t.fog_speed))
    assert len(set(drawn)) >= 3, f"5 episodes drew {drawn}"


def test_randomization_is_reproducible():
    def draws(seed):
        env = metammo.make("king_of_the_hill", "mini", seed=seed, num_agents=16, horizon=5)
        out = []
        for _ in range(3):
            env.reset()
            out.append(env.episode_summary()["randomized"])
        return out

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_maps_of_drawn_thresholds_are_built_without_the_cache():
    def lookups(randomize):
        env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, randomize=randomize)
        before = terrain._cached_build.cache_info()
        for _ in range(3):
            env.reset()
        after = terrain._cached_build.cache_info()
        return after.hits + after.misses - before.hits - before.misses

    assert lookups(True) == 0, "a map of drawn thresholds seldom recurs: caching it only evicts others"
    assert lookups(False) == 3


def test_randomize_false_gives_fixed_values():
    env = metammo.make("team_battle", "mini", seed=0, num_agents=16, horizon=5, randomize=False)
    for _ in range(2):
        env.reset()
        t = env.config.tunables
        assert env.episode_summary()["randomized"] == {}
        assert t.fog and t.fog_final_size == 4
        assert t.water_threshold == 0.1 and t.foliage_threshold == 0.9 and t.extra_resources
        assert t.fog_onset == 128 and t.fog_speed == 0.125  # the eval preset's: the fog rises
        assert t.npc_count == 64 and t.team_size == 8
        assert t.map_pool == "train"
    hill = metammo.make("king_of_the_hill", "mini", seed=0, num_agents=16, randomize=False, fog_speed=0.25)
    hill.reset()
    t = hill.config.tunables
    assert (t.fog_onset, t.fog_speed, t.map_pool) == (32, 0.25, "train")  # the user's value wins
    race = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, randomize=False)
    race.reset()
    t = race.config.tunables
    assert t.terrain and t.water_threshold == 0.05 and t.foliage_threshold == 0.95 and t.extra_resources
    assert not t.combat and t.exclusive_tiles
    assert race.episode_summary()["randomized"] == {}


@pytest.mark.parametrize("name,expected,level", [
    ("team_battle", dict(fog_onset=128, fog_speed=1 / 8, npc_count=128), 1),  # the level of 128 NPCs
    ("protect_the_king", dict(fog_onset=128, fog_speed=1 / 8, npc_count=128), 2),  # of fog onset 128
    ("race_to_the_center", dict(map_size=128), 11),
    ("king_of_the_hill", dict(fog_onset=32, fog_speed=1 / 16), 19),
    ("sandwich", dict(terrain=False, fog_speed=1 / 16), 7),
])
def test_eval_preset(name, expected, level):
    """A preset plays the level whose knob value it sets, else the hardest, and says so."""
    env = metammo.make(name, "mini", seed=0, num_agents=32, horizon=5, preset="eval")
    for _ in range(2):
        env.reset()
        t = env.config.tunables
        for key, value in expected.items():
            assert getattr(t, key) == pytest.approx(value), key
        assert t.map_pool == "eval"
        assert env.map_seed in set(int(s) for s in EVAL_MAP_SEEDS)
        summary = env.episode_summary()
        assert summary["randomized"] == {}
        assert summary["preset"] == "eval"
        difficulty = summary["difficulty"]
        assert difficulty["level"] == level and difficulty["pinned"]
        if env.game.difficulty_key:
            assert difficulty["value"] == getattr(t, env.game.difficulty_key), "the level played"
        assert game_view(env)[0, GameFeature.DIFFICULTY] == level * 255 // (difficulty["levels"] - 1)
    if name == "king_of_the_hill":
        assert env.episode_summary()["difficulty"]["value"] == 200
    if name == "sandwich":
        assert env.episode_summary()["difficulty"]["value"] == 16


def test_eval_preset_multitask_uses_held_out_tasks():
    from minigames.multitask import Multitask

    env = metammo.make("multitask", "full", seed=0, num_agents=16, horizon=5, preset="eval")
    env.reset()
    game = env.game
    assert isinstance(game, Multitask)
    names = {t.name for t in game.tasks}
    assert names == {t.name for t in game.curriculum.eval}
    assert not names & {t.name for t in game.curriculum.train}
    assert env.config.tunables.npc_count == 128 and env.config.tunables.fog_onset == 512


def test_unknown_preset_lists_presets():
    with pytest.raises(ValueError, match=r"no_such_preset.*eval"):
        metammo.make("team_battle", "mini", preset="no_such_preset")


@pytest.mark.parametrize("spec,match", [
    ({"no_such_key": {"integers": [1, 2]}}, "no_such_key"),
    ({"fog_onset": {"integers": [10, 5]}}, r"fog_onset.*lo <= hi"),
    ({"fog_onset": {"integers": [0, 200_000]}}, r"fog_onset.*\[0, 100000\]"),
    ({"fog_speed": {"one_over": [0, 3]}}, "fog_speed"),
    ({"water_threshold": {"uniform": [0.1, 2.0]}}, "water_threshold"),
    ({"fog_onset": [1, 2]}, "fog_onset"),
    ({"fog_onset": {"integers": [1, 2], "uniform": [1, 2]}}, "fog_onset"),
    ({"fog_onset": {"integers": [1, 2, 3]}}, "fog_onset"),
    ({"fog_onset": {"integers": [1, 2], "p": [1]}}, "fog_onset"),
    ({"fog_onset": {"gaussian": [1, 2]}}, "fog_onset"),
    ({"terrain": {"choice": [True, False], "p": [0.5, 0.6]}}, "terrain"),
    ({"terrain": {"choice": []}}, "terrain"),
    ({"terrain": {"choice": [True, 3]}}, "terrain"),
    ([("fog_onset", {"integers": [1, 2]})], "mapping"),
    ({"fog_onset": {"uniform": [32, 255]}}, r"fog_onset.*int key takes 'integers' or 'choice'"),
    ({"fog_onset": {"one_over": [1, 3]}}, r"fog_onset.*number keys only"),
    ({"fog_onset": {"integers": [1, "x"]}}, r"fog_onset.*two integers, got \[1, 'x'\]"),
    ({"terrain": {"choice": [False, True], "p": 0.5}}, r"terrain.*p must be 2 non-negative numbers"),
    ({"npc_count": {"integers": [10, 20]}}, r"npc_count.*difficulty knob"),
    ({"num_agents": {"integers": [64, 128]}}, r"'num_agents' is a shape key, fixed for an env's life"),
], ids=["unknown-key", "lo>hi", "out-of-range", "one-over-zero", "uniform-out-of-range", "not-a-dict",
        "two-kinds", "three-args", "extra-field", "unknown-kind", "bad-p", "empty-choice", "bad-choice",
        "not-a-mapping", "uniform-on-int", "one-over-on-int", "string-end", "p-not-a-list", "difficulty-key",
        "shape-key"])
def test_invalid_randomization_spec(spec, match):
    with pytest.raises(ValueError, match=match):
        metammo.make("team_battle", "mini", num_agents=16, game_options={"randomization": spec})


@pytest.mark.parametrize("game,options,match", [
    ("team_battle", dict(num_agents=100), r"cannot play on this config: .*'team_size' must divide num_agents"),
    ("protect_the_king", dict(max_npcs=128), r"with randomized .*npc_count=255: .*'npc_count' must be <= max_npcs"),
    ("team_battle", dict(max_npcs=128), r"at difficulty npc_count=192 with randomized .*'npc_count' must be <= max_npcs"),
    ("team_battle", dict(preset="eval", difficulty=3), r"preset 'eval' plays difficulty level 1; give difficulty 1"),
    ("multitask", dict(config="mini"), r"does not support config 'mini'; it supports \['full'\]"),
    ("sandwich", dict(map_size=40), r"sandwich' cannot play on this config: .*map_size must be at least 41, got 40"),
    ("sandwich", dict(npcs=False), r"sandwich' cannot play on this config: .*'npcs' must be on, got False"),
    ("full_generalist", dict(config="mini"), r"^game pack 'full_generalist': game 'survival' does not support config 'mini'"),
    (["sandbox", "sandwich"], dict(config="full"), r"^game pack \['sandbox', 'sandwich'\]: game 'sandwich' does not"),
], ids=["teams", "randomized-end", "difficulty-level", "preset-difficulty", "config", "game-rule", "npcs-off",
        "pack-config", "list-config"])
def test_a_config_the_game_cannot_play_fails_when_the_env_is_made(game, options, match):
    """Every config an episode could compose (each difficulty level, each end of each
    randomized range, the preset) is checked against the env's config at make, not mid-run."""
    config = options.pop("config", "full" if game == "multitask" else "mini")
    with pytest.raises(ValueError, match=match):
        metammo.make(game, config, **options)


@pytest.fixture
def variant(monkeypatch):
    """``variant(base, name, **attributes)``: a subclass of the game class ``base`` named
    ``name``, registered until the test ends; returns ``name``."""
    import metammo.game as registry

    def variant(base, name, **attributes):
        monkeypatch.setitem(registry._registered, name, type(base.__name__, (base,), {"name": name, **attributes}))
        return name
    return variant


@pytest.mark.parametrize("attributes,match", [
    (dict(presets={"eval": {"vision": 5}}), r"preset 'eval' sets \['vision'\], not tunable config keys"),
    (dict(rules_config={"num_agents": 64}), r"rules_config sets \['num_agents'\], not tunable config keys"),
    (dict(presets={"quick": {"fog_onst": 5}}), r"preset 'quick' sets \['fog_onst'\], not tunable"),
    (dict(difficulty_key="vision"), r"difficulty_key 'vision' is not a tunable config key"),
    (dict(difficulty_levels=()), r"difficulty_key 'npc_count' needs difficulty_levels"),
    (dict(wins_to_raise=0), r"wins_to_raise must be an int >= 1, got 0"),
    (dict(presets={"eval": {"npc_count": 128}, "quick": {"fog_onset": -5}}),
     r"preset 'quick': config key 'fog_onset' must be in"),
    (dict(presets={"eval": {"npc_count": 100}}), r"preset 'eval' sets the difficulty knob 'npc_count' to 100"),
    (dict(rules_config={"team_size": 4}), r"rules_config sets 'team_size'; the class attribute team_size \(8\)"),
    (dict(team_size="8"), r"team_size must be an int >= 1, got '8'"),
    (dict(difficulty_key="map_pool", difficulty_levels=("train", "eval"), presets={}),
     r"the levels of difficulty_key 'map_pool' must be numbers"),
    (dict(death_penalty="1"), r"death_penalty must be a number, got '1'"),
    (dict(task=Minigame.task), r"define task\(cfg\), the task every agent plays, or assign_tasks"),
], ids=["shape-key-in-preset", "shape-key-in-rules", "unknown-key-in-unused-preset", "shape-knob",
        "knob-without-levels", "wins-to-raise", "bad-value-in-unused-preset", "preset-knob-off-the-levels",
        "team-size-in-rules", "team-size-a-string", "string-knob", "death-penalty-a-string", "no-task"])
def test_a_game_declaring_what_it_cannot_play_fails_when_the_env_is_made(variant, attributes, match):
    from minigames.team_battle import TeamBattle

    name = variant(TeamBattle, "tb_variant", **attributes)
    with pytest.raises(ValueError, match=r"game 'tb_variant': " + match):
        metammo.make(name, "mini")


@pytest.mark.parametrize("attributes,match", [
    (dict(configs="mini"), r"configs must be a tuple of config preset names"),
    (dict(presets=["eval"]), r"presets must be a mapping of preset names to mappings"),
    (dict(difficulty_levels=5), r"difficulty_levels must be a tuple of the knob's values"),
], ids=["configs-a-string", "presets-a-list", "levels-an-int"])
def test_a_game_attribute_of_the_wrong_type_fails_naming_it(variant, attributes, match):
    from minigames.team_battle import TeamBattle

    with pytest.raises(ValueError, match=r"game 'tb_variant': " + match):
        metammo.make(variant(TeamBattle, "tb_variant", **attributes), "mini")


def test_an_unchosen_preset_is_checked_value_by_value_not_against_the_env_s_shape(variant):
    """Presets are checked key by key (``bad-value-in-unused-preset`` above), not on the default
    shape: teams of 3 do not divide its 128 agents, and 12 agents in teams of 3 still play."""
    from minigames.team_battle import TeamBattle

    env = metammo.make(variant(TeamBattle, "tb_threes", team_size=3), "mini", num_agents=12)
    env.reset()
    assert env.config.tunables.team_size == 3


def _first_episode_end(name: str) -> list[dict]:
    """The infos of the step that ends ``name``'s first episode (a 3-tick horizon)."""
    env = metammo.make(name, "mini", seed=0, horizon=3)
    env.reset()
    for _ in range(3):
        infos = env.step(noop(env))[4]
    return infos


@pytest.mark.parametrize("attributes,error,match", [
    (dict(task=lambda self, cfg: {"name": "x", "task": {"TickGE": {"n": 5}}}), TypeError,
     r"the tasks must be a non-empty list of metammo.tasks.Task"),
    (dict(task=lambda self, cfg: Task.from_dict({"name": "x", "task": {"TickGE": {"n": 0}}})), ValueError,
     r"task 'x': TickGE: argument 'n' must be an int in \[1,"),
    (dict(assign_tasks=lambda self, cfg, rng: ([self.task(cfg)], np.zeros(10, np.int64))), ValueError,
     r"assign_tasks\(\) must give each of the 128 agents the index of its task, an int array of shape"),
    (dict(assign_tasks=lambda self, cfg, rng: ([self.task(cfg)], np.ones(128, np.int64))), ValueError,
     r"assign_tasks\(\) .* an int in \[0, 0\]; got 1 to 1"),
    (dict(is_over=lambda self, state, cfg: state.entities.alive), TypeError, r"is_over\(\) must return a bool"),
    (dict(winning_score=lambda self, state, cfg: None), TypeError, r"winning_score\(\) must return a number"),
    (dict(summary=lambda self, state, cfg: {"length": -1}), ValueError,
     r"summary\(\) returned \['length'\], entries the env writes"),
], ids=["task-as-data", "task-argument", "assigned-to-too-few", "assigned-past-the-tasks", "is-over-an-array",
        "winning-score-none", "summary-clash"])
def test_a_game_hook_returning_the_wrong_thing_fails_naming_the_game(variant, attributes, error, match):
    """What a hook returns is checked where the env uses it (a reset or an episode's end), and
    the error names the game (they had been numpy's or an AttributeError, with no game named)."""
    from minigames.team_battle import TeamBattle

    with pytest.raises(error, match=r"game 'tb_variant': " + match):
        _first_episode_end(variant(TeamBattle, "tb_variant", **attributes))


def test_a_game_s_summary_entries_are_plain_data(variant):
    from minigames.team_battle import TeamBattle

    extra = {"flags": np.arange(3), "best": np.float32(0.5), "nested": {"n": np.int64(2), "t": (1, 2)}}
    summary = _first_episode_end(variant(TeamBattle, "tb_variant", summary=lambda self, state, cfg: extra))[0]
    assert {k: summary[k] for k in extra} == {"flags": [0, 1, 2], "best": 0.5, "nested": {"n": 2, "t": [1, 2]}}
    assert type(summary["best"]) is float and type(summary["nested"]["n"]) is int
    json.dumps(summary)


def test_rollout_prints_a_game_s_own_summary_entries(variant, capsys):
    """Without --json, rollout prints every summary entry but the long ones (it printed a fixed
    list, so a game's own entries, the preset and the tasks went unseen)."""
    from metammo import rollout
    from minigames.team_battle import TeamBattle

    name = variant(TeamBattle, "tb_variant", summary=lambda self, state, cfg: {
        **TeamBattle.summary(self, state, cfg), "flags_taken": 3})
    assert rollout.main(["--game", name, "--episodes", "1", "--set", "horizon=3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {"flags_taken  3", "preset  None", "tasks  ['team_tick_ge']"} <= {line.strip() for line in lines}
    assert not any(line.strip().startswith("scores") for line in lines)


def test_numpy_numbers_are_taken_as_config_values_and_task_arguments():
    env = metammo.make("team_battle", "mini", seed=0, fog_onset=np.int64(40), fog_speed=np.float32(0.25))
    assert env.base_config.tunables.fog_onset == 40 and type(env.base_config.tunables.fog_onset) is int
    assert Task.from_dict({"name": "x", "task": {"TickGE": {"n": np.int64(7)}}}) == Task.from_dict(
        {"name": "x", "task": {"TickGE": {"n": 7}}})


def test_a_game_option_given_as_a_config_key_says_where_it_goes():
    with pytest.raises(ValueError, match=r"\['randomization'\]: game options, not config keys; pass them as "
                                         r"game_options=\{'randomization': ...\}"):
        metammo.make("team_battle", "mini", randomization={})


def test_a_preset_plays_the_eval_values_of_what_it_does_not_set(variant):
    """A preset draws nothing: the keys the game randomizes take its eval preset's values
    (as with ``randomize=False``), whatever ``randomize`` says."""
    from minigames.team_battle import TeamBattle

    name = variant(TeamBattle, "tb_presets", presets={**TeamBattle.presets, "quick": {"horizon": 64}})
    seen = []
    for randomize in (True, False):
        env = metammo.make(name, "mini", seed=0, preset="quick", randomize=randomize)
        env.reset()
        t = env.config.tunables
        seen.append((t.fog_onset, t.fog_speed, t.horizon, env.episode_summary()["randomized"]))
    assert seen == [(128, 1 / 8, 64, {})] * 2


def test_numpy_numbers_in_a_randomization_spec_are_python_numbers():
    """They had passed the spec's checks and failed the env's ("must be an int, got
    np.int64(100)"): its range ends are what a config takes."""
    from minigames.randomization import Integers, parse

    for spec in ({"fog_onset": {"choice": list(np.arange(100, 300, 50)), "p": np.full(4, 0.25)}},
                 {"fog_onset": {"integers": [np.int64(100), np.int64(250)]}},
                 {"fog_onset": Integers(np.int64(100), np.int64(250))}):
        assert {type(end) for end in parse(spec)["fog_onset"].support()} == {int}
        env = metammo.make("team_battle", "mini", seed=0, game_options={"randomization": spec})
        env.reset()
        onset = env.episode_summary()["randomized"]["fog_onset"]
        assert type(onset) is int and 100 <= onset <= 250


def test_winners_must_be_a_mask_of_the_agents(variant):
    from minigames.team_battle import TeamBattle

    name = variant(TeamBattle, "tb_winners", winners=lambda self, state, cfg, over: np.ones(cfg.shape.num_agents, int))
    env = metammo.make(name, "mini", seed=0, num_agents=16, horizon=3)
    env.reset()
    with pytest.raises(TypeError, match=r"game 'tb_winners': winners\(\) must return a \(16,\) bool array "
                                        r"\(a mask of the agents\), got a \(16,\) int64 array"):
        for _ in range(3):
            env.step(noop(env))


@pytest.mark.parametrize("options,level,value", [
    (dict(npc_count=100), 1, 100),  # off the levels: the nearest, 128
    (dict(npc_count=128, difficulty="max"), 1, 128),  # the key wins over difficulty 'max'
    (dict(npc_count=128, difficulty=1), 1, 128),  # and agrees with a level it names
    (dict(npc_count=255, difficulty="max", preset="eval"), 3, 255),  # ... and wins over the preset's level
])
def test_setting_the_difficulty_knob_plays_it_and_pins_its_level(options, level, value):
    env = metammo.make("team_battle", "mini", seed=0, horizon=2, **options)
    for _ in range(2):
        env.reset()
        assert env.config.tunables.npc_count == value
        assert env.episode_summary()["difficulty"] == {"level": level, "value": value, "levels": 4, "pinned": True}
        assert game_view(env)[0, GameFeature.DIFFICULTY] == level * 255 // 3


def test_the_difficulty_knob_and_a_difficulty_level_naming_another_value_are_an_error():
    """``difficulty=0`` names npc_count 64: with npc_count=192 as well, the request contradicts
    itself (the key had won without a word)."""
    with pytest.raises(ValueError, match=r"game 'team_battle': npc_count=192 \(its difficulty knob\) and "
                                         r"difficulty=0 \(npc_count=64\) both set its difficulty; give one"):
        metammo.make("team_battle", "mini", difficulty=0, npc_count=192)


def test_a_pack_takes_a_key_that_is_one_games_difficulty_knob():
    env = metammo.make("mini_generalist", "mini", seed=0, horizon=2, fog_onset=100)
    ptk = next(g for g in env.games if g.name == "protect_the_king")
    assert ptk.controller.pinned and ptk.knob == 100 and ptk.difficulty == 2  # fog onset 128 is nearest


def test_randomized_ranges_are_checked_together():
    """Each end of each range can be valid alone while a combination is not: every corner is
    checked when the env is made."""
    spec = {"water_threshold": {"uniform": [0.3, 0.65]}, "grass_threshold": {"uniform": [0.35, 0.7]}}
    with pytest.raises(ValueError, match=r"with randomized grass_threshold=0.35, water_threshold=0.65: "
                                         r"config keys 'water_threshold' <= 'grass_threshold'"):
        metammo.make("king_of_the_hill", "mini", game_options={"randomization": spec})


def test_a_large_randomization_spec_is_checked_end_by_end(monkeypatch):
    """Beyond MAX_CORNERS combinations, make checks each end alone (no exponential wait): an end
    that is bad on its own still fails, a clash of two ends is left to the reset."""
    import minigames.base

    monkeypatch.setattr(minigames.base, "MAX_CORNERS", 2)
    crossing = {"water_threshold": {"uniform": [0.3, 0.65]}, "grass_threshold": {"uniform": [0.35, 0.7]}}
    metammo.make("king_of_the_hill", "mini", game_options={"randomization": crossing})
    with pytest.raises(ValueError, match=r"with randomized npc_count=300: .*'npc_count' must be <= max_npcs"):
        metammo.make("king_of_the_hill", "mini", game_options={"randomization": {
            **crossing, "npc_count": {"integers": [0, 300]}}})


def test_team_games_need_two_teams():
    with pytest.raises(ValueError, match=r"'team_battle' needs at least 2 teams of 8: num_agents must be at "
                                         r"least 16, got 8"):
        metammo.make("team_battle", "mini", num_agents=8)


def test_what_the_game_cannot_reach_is_not_checked():
    """A pinned level or a preset plays one level; a key the user set replaces the draws."""
    metammo.make("team_battle", "mini", max_npcs=128, difficulty=1)  # 128 NPCs
    metammo.make("team_battle", "mini", max_npcs=128, preset="eval", difficulty="max")  # the preset's level: 128
    metammo.make("protect_the_king", "mini", max_npcs=128, npc_count=100)
    metammo.make("team_battle", "mini", max_npcs=128, npc_count=128)  # the knob pins level 1
    env = metammo.make("sandwich", "mini", map_size=41, num_agents=32)
    env.reset()
    lo, hi = playable_bounds(env.config)
    rows, cols = env.state.entities.row[:32], env.state.entities.col[:32]
    assert ((rows >= lo) & (rows < hi) & (cols >= lo) & (cols < hi)).all(), "every team spawns in play"


def test_custom_randomization_spec_is_used():
    spec = {"fog_onset": {"integers": [40, 41]}, "terrain": {"choice": [False]}}
    env = metammo.make("team_battle", "mini", seed=0, num_agents=16, horizon=5,
                       game_options={"randomization": spec})
    for _ in range(3):
        env.reset()
        assert env.config.tunables.fog_onset in (40, 41) and not env.config.tunables.terrain
        assert set(env.episode_summary()["randomized"]) == {"fog_onset", "terrain"}


def test_user_overrides_win_over_game_values():
    env = metammo.make("team_battle", "mini", seed=0, num_agents=16, horizon=5, fog_onset=77,
                       npc_count=192, fog_final_size=9)
    for _ in range(3):
        env.reset()
        t = env.config.tunables
        assert t.fog_onset == 77 and t.npc_count == 192 and t.fog_final_size == 9
        assert env.episode_summary()["difficulty"] == {"level": 2, "value": 192, "levels": 4, "pinned": True}
    # a key set to the preset's default value is set all the same (Race fixes combat off)
    race = metammo.make("race_to_the_center", "mini", seed=0, num_agents=16, horizon=5, combat=True)
    race.reset()
    assert race.config.tunables.combat
    koth = metammo.make("king_of_the_hill", "mini", seed=0, num_agents=16, horizon=5, preset="eval",
                        map_size=64, fog_onset=300)
    koth.reset()
    assert koth.config.tunables.map_size == 64 and koth.config.tunables.fog_onset == 300


def test_minigames_accept_smaller_shapes():
    """Shape keys below the preset's defaults (fewer NPC slots, a smaller grid) are valid configs;
    every minigame must reset with them."""
    failures = {}
    for name in MINI_GENERALIST:
        try:
            env = metammo.make(name, "mini", seed=0, num_agents=32, horizon=3, max_npcs=96, npc_count=64,
                               max_map_size=96, map_size=80)
            env.reset()
            env.step(noop(env))
            assert env.config.shape.max_npcs == 96 and env.config.tunables.map_size == 80
        except ValueError as err:
            failures[name] = str(err)
    assert not failures, failures


# --- adaptive difficulty -------------------------------------------------------------------------


def test_difficulty_raises_after_wins_at_level():
    d = Difficulty((10, 20, 30), wins_to_raise=2)
    assert (d.level, d.value, d.pinned) == (0, 10, False)
    d.record(True)
    assert d.level == 0
    for _ in range(5):
        d.record(False)
    assert d.level == 0, "episodes without winners never raise"
    d.record(True)
    assert (d.level, d.value) == (1, 20)
    d.record(True)
    assert d.level == 1, "wins at level 0 do not count at level 1"
    d.record(True)
    assert d.level == 2
    for _ in range(10):
        d.record(True)
    assert (d.level, d.value) == (2, 30), "capped at the last level"
    assert d.summary() == {"level": 2, "value": 30, "levels": 3, "pinned": False}


def test_difficulty_window_and_pinning():
    d = Difficulty((1, 2), wins_to_raise=2)
    d.record(True)
    for _ in range(HISTORY - 1):
        d.record(False)
    assert len(d.history) == HISTORY
    d.record(True)
    assert d.level == 0, "the first win fell out of the last-100 window"
    d.record(True)
    assert d.level == 1
    for _ in range(3 * HISTORY):
        d.record(False)
    assert len(d.history) == HISTORY and d.level == 1, "nothing lowers the level"

    pinned = Difficulty((1, 2, 3), wins_to_raise=1, pinned=1)
    for _ in range(5):
        pinned.record(True)
    assert (pinned.level, pinned.value, pinned.pinned) == (1, 2, True)
    one = Difficulty((5,), wins_to_raise=1)
    one.record(True)
    assert one.level == 0
    with pytest.raises(ValueError):
        Difficulty((), 1)
    with pytest.raises(ValueError):
        Difficulty((1, 2), 0)


def test_race_difficulty_rises_with_wins_through_autoreset():
    from metammo.policy import make_policy

    env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=32, horizon=150)
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    obs, _ = env.reset()
    state = policy.initial_state(env.num_agents)
    played = []
    for _ in range(2000):
        actions, state = policy.act(obs, state)
        obs, _, _, _, infos = env.step(actions)
        for summary in infos:
            level = summary["difficulty"]["level"]
            assert summary["difficulty"]["value"] == 40 + 8 * level
            assert not summary["difficulty"]["pinned"]
            played.append((level, bool(summary["winners"])))
            # the next episode (already begun) plays at the level the result earned
            expected = level + 1 if summary["winners"] else level
            assert env.game.difficulty == expected
            assert env.config.tunables.map_size == 40 + 8 * expected
            assert game_view(env)[0, GameFeature.DIFFICULTY] == expected * 255 // 11
        if sum(won for _, won in played) >= 2 or len(played) >= 8:
            break
    wins = sum(won for _, won in played)
    assert wins >= 1, f"the scripted bots never reached the centre: {played}"
    assert played[0][0] == 0
    for (a, won), (b, _) in zip(played, played[1:]):
        assert b == a + (1 if won else 0)


def test_a_seeded_reset_starts_the_difficulty_again_and_an_unseeded_one_keeps_it():
    """After a won episode raised Race's level, ``reset(seed=7)`` plays as a fresh env made and
    reset with seed 7 (it kept the raised level, so a seed reproduced nothing on a played env);
    ``reset()`` keeps the level, as the auto-reset does."""
    env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, horizon=5, randomize=False)
    env.reset()
    infos = _agent_0_reaches_the_centre(env)
    assert infos[0]["winners"] == [0] and env.game.difficulty == 1
    env.reset()
    assert env.game.difficulty == 1 and env.config.tunables.map_size == 48
    env.reset(seed=7)
    fresh = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, horizon=5, randomize=False)
    fresh.reset(seed=7)
    assert env.game.difficulty == 0 and env.config.tunables.map_size == 40
    assert env.state.hash() == fresh.state.hash()
    assert (env.observations == fresh.observations).all()
    pinned = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, difficulty=3)
    pinned.reset(seed=7)
    assert pinned.game.difficulty == 3


def _agent_0_reaches_the_centre(env) -> list[dict]:
    """Put Race's agent 0 a tile north of the centre and step it south (the rest stay): the
    step's infos."""
    c = env.game.centre(env.config)
    move_agent(env, 0, c - 1, c)
    env.refresh_observations()
    actions = noop(env)
    actions[0, 0] = Move.SOUTH
    return env.step(actions)[4]


def test_pinned_difficulty_never_moves():
    env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, horizon=5, difficulty=3,
                       randomize=False)
    obs, _ = env.reset()
    assert env.config.tunables.map_size == 64
    for episode in range(2):
        infos = _agent_0_reaches_the_centre(env)
        assert infos and infos[0]["winners"] == [0]
        assert infos[0]["difficulty"] == {"level": 3, "value": 64, "levels": 12, "pinned": True}
        assert env.config.tunables.map_size == 64, "a pinned level never moves"
    env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, horizon=5, difficulty="max")
    env.reset()
    assert env.config.tunables.map_size == 128
    assert env.episode_summary()["difficulty"]["level"] == 11
    assert game_view(env)[0, GameFeature.DIFFICULTY] == 255


def test_unpinned_race_win_raises_level_in_env():
    env = metammo.make("race_to_the_center", "mini", seed=0, num_agents=8, horizon=50, randomize=False)
    env.reset()
    assert env.config.tunables.map_size == 40
    infos = _agent_0_reaches_the_centre(env)
    assert infos[0]["difficulty"]["level"] == 0, "the summary reports the level played"
    assert env.config.tunables.map_size == 48 and env.game.difficulty == 1
    env.reset()  # a manual reset keeps the controller too
    assert env.config.tunables.map_size == 48
    # a horizon end without winners does not raise
    for _ in range(50):
        _, _, _, _, infos = env.step(noop(env))
        if infos:
            break
    assert infos and infos[0]["winners"] == [] and infos[0]["length"] == 50
    assert env.game.difficulty == 1


@pytest.mark.parametrize("value", [12, -1, "hard", True, 2.0, "MAX"])
def test_bad_difficulty_values(value):
    with pytest.raises(ValueError, match=r"difficulty.*\[0, 11\]"):
        metammo.make("race_to_the_center", "mini", num_agents=8, difficulty=value)


def test_difficulty_on_game_without_levels():
    for bad in (1, 0.0, False):
        with pytest.raises(ValueError, match=r"difficulty must be None, 0 or 'max' \(this game has no difficulty "):
            metammo.make("multitask", "full", num_agents=8, difficulty=bad)
    # evaluation pins "max" (or 0) on every game: a game without levels has just the one, 0
    for level in ("max", 0):
        assert metammo.make("multitask", "full", num_agents=8, difficulty=level).game.difficulty == 0
    assert metammo.make("full_generalist", "full", num_agents=16, difficulty=0).games[0].difficulty == 0
    with pytest.raises(ValueError, match="randomize"):
        metammo.make("team_battle", "mini", num_agents=8, randomize="yes")


# --- python -m minigames list --------------------------------------------------------------------


def test_minigames_list():
    out = run_cli("-m", "minigames", "list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # every game found through entry points (games registered in this process are not the
    # subprocess's)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        name, game = ep.name, ep.load()
        line = next((ln for ln in lines if ln.split() and ln.split()[0] == name), None)
        assert line is not None, f"{name} missing from:\n{out.stdout}"
        assert ",".join(game.configs) in line.split()
    for pack, members in packs().items():
        line = next((ln for ln in lines if ln.split() and ln.split()[0] == pack), None)
        assert line is not None, f"pack {pack} missing"
        assert ", ".join(members) in line
    assert lines.index("packs:") > lines.index("games:")
    bad = run_cli("-m", "minigames", "nope")
    assert bad.returncode != 0


# --- python -m minigames.bench ------------------------------------------------------------------


def bench_record(game, config, round_, steps, live, difficulty="adaptive", levels=None):
    """A record as ``python -m metammo.bench --json`` prints it, plus the round."""
    return {"game": game, "config": config, "round": round_, "agent_steps_per_s": steps,
            "live_agent_steps_per_s": live, "live_agents_per_tick": 64.0, "game_hooks_share": 0.05,
            "reset_share": 0.2, "env_steps": 300, "episodes": 10, "difficulty": difficulty,
            "difficulty_ticks": {game: levels or {"0": 300}}}


def test_bench_plan_puts_the_sandbox_first_on_each_config():
    from minigames.bench import plan

    games = {"team_battle": ("mini", "full"), "sandwich": ("mini",), "sandbox": ("mini", "full")}
    assert plan(games, ["mini", "full"]) == [
        ("sandbox", "mini"), ("team_battle", "mini"), ("sandwich", "mini"),
        ("sandbox", "full"), ("team_battle", "full")]
    with pytest.raises(ValueError, match=r"'huge'.*\['full', 'mini'\]"):
        plan(games, ["huge"])


def test_bench_table_takes_each_ratio_within_its_round():
    from minigames.bench import markdown, table

    records = [
        bench_record("sandbox", "mini", 0, 1_000_000, 500_000, difficulty="none"),
        bench_record("team_battle", "mini", 0, 600_000, 450_000, levels={"0": 100, "3": 300}),
        # the machine slowed down in round 1: both halve, the ratio stays
        bench_record("sandbox", "mini", 1, 500_000, 250_000, difficulty="none"),
        bench_record("team_battle", "mini", 1, 300_000, 225_000, levels={"3": 400}),
        bench_record("sandbox", "mini", 2, 900_000, 400_000, difficulty="none"),
        bench_record("team_battle", "mini", 2, 900_000, 400_000, levels={"3": 200}),
    ]
    sandbox, battle = table(records)
    assert sandbox["vs_sandbox"] == 1.0 and sandbox["levels"] == "-"
    # per-round ratios 0.6, 0.6, 1.0: median 0.6 (a ratio of medians would give 0.67)
    assert battle["vs_sandbox"] == pytest.approx(0.6)
    assert battle["live_vs_sandbox"] == pytest.approx(0.9)
    assert battle["agent_steps_per_s"] == 600_000 and battle["runs"] == [600_000, 300_000, 900_000]
    assert battle["levels"] == {"0": 0.1, "3": 0.9}
    assert battle["ticks_per_episode"] == 30
    text = markdown([sandbox, battle])
    assert "| `team_battle` | mini | 0.60M (0.60, 0.30, 0.90) | 0.60 | 64 | 0.40M | 0.90 | 5% | 20% | 30 | 0: 10%, 3: 90% |" in text
    # a game whose rounds have no sandbox run has no ratio
    (alone,) = table([bench_record("sandwich", "mini", 0, 1, 1)])
    assert alone["vs_sandbox"] is None and "| - |" in markdown([alone])
    # ticks per episode over the runs in which an episode ended: none did, none to report
    endless = {**bench_record("race_to_the_center", "mini", 0, 1, 1), "episodes": 0}
    assert table([endless])[0]["ticks_per_episode"] is None
    assert table([endless, bench_record("race_to_the_center", "mini", 1, 1, 1)])[0]["ticks_per_episode"] == 30
    assert "| 5% | 20% | - |" in markdown(table([endless]))


def test_bench_command_runs_each_game_against_the_sandbox():
    out = run_cli("-m", "minigames.bench", "--games", "king_of_the_hill", "--configs", "mini",
                  "--rounds", "1", "--seconds", "0.3", "--json", timeout=300)
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["game"], r["config"], r["round"]) for r in records] == [
        ("sandbox", "mini", 0), ("king_of_the_hill", "mini", 0)]
    assert all(r["agent_steps_per_s"] > 0 and r["env_steps"] > 0 for r in records)
    pinned = run_cli("-m", "minigames.bench", "--games", "race_to_the_center", "--configs", "mini", "--rounds", "1",
                     "--seconds", "0.3", "--json", "--difficulty", "1", timeout=300)
    assert pinned.returncode == 0, pinned.stderr  # the sandbox, without levels, plays its one
    assert [r["difficulty"] for r in map(json.loads, pinned.stdout.splitlines())] == ["none", "1"]
    # with no --configs, the configs the games play (Race: mini only; it had failed on the
    # default mini,full); then a pack names its games
    pack = run_cli("-m", "minigames.bench", "--games", "race_to_the_center", "--rounds", "1", "--seconds", "0.05",
                   "--json", timeout=300)
    assert pack.returncode == 0, pack.stderr
    assert [(r["game"], r["config"]) for r in map(json.loads, pack.stdout.splitlines())] == [
        ("sandbox", "mini"), ("race_to_the_center", "mini")]
    pack = run_cli("-m", "minigames.bench", "--games", "full_generalist", "--configs", "full", "--rounds", "1",
                   "--seconds", "0.05", "--json", timeout=300)
    assert pack.returncode == 0, pack.stderr
    assert [r["game"] for r in map(json.loads, pack.stdout.splitlines())] == ["sandbox", *FULL_GENERALIST]
    # every game by default: each plays the configs of --configs it has (the full-only games had
    # been refused on --configs mini); the run gets as far as checking --difficulty
    bad = run_cli("-m", "minigames.bench", "--configs", "mini", "--difficulty", "99")
    assert bad.returncode == 2 and "--difficulty must be 'max' or a level index every game has" in bad.stderr
    for args, message in ((["--games", "nope"], "unknown game(s) ['nope']"),
                          (["--configs", "huge"], "no game supports config 'huge'"),
                          (["--rounds", "0"], "--rounds must be >= 1"),
                          (["--games", "team_battle", "--difficulty", "5"],
                           "--difficulty must be 'max' or a level index every game has"),
                          (["--difficulty", "hard"], "--difficulty must be a level index (0, 1, ...) or 'max'"),
                          (["--games", "sandbox", "--difficulty", "-1"], "got '-1'"),
                          (["--games", "sandbox", "--difficulty", "1"], "got '1'; levels per game: {'sandbox': 0}"),
                          (["--difficulty", "\u00b2"], "got '\u00b2'"),
                          (["--games", "team_battle,team_battle"], "--games names ['team_battle'] more than once"),
                          (["--configs", "mini,mini"], "--configs names ['mini'] more than once"),
                          (["--games", "race_to_the_center,survival", "--configs", "mini"],
                           "no config of --configs ['mini'] is played by survival (plays ['full'])"),
                          (["--seconds", "inf"], "--seconds must be a finite number > 0, got inf"),
                          (["--games", "mini_generalist,team_battle"],
                           "--games names ['team_battle'] more than once (packs name their games: "),
                          (["--games", "race_to_the_center", "--configs", "full"],
                           "no config of --configs ['full'] is played by race_to_the_center (plays ['mini'])")):
        bad = run_cli("-m", "minigames.bench", *args)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr


# --- third-party games through entry points -----------------------------------------------------


THIRD_PARTY_MODULE = '''
"""A third-party game package, as pip would install it."""
import numpy as np

from metammo.game import Game
from metammo.tasks import Task
from minigames.base import Minigame
from minigames.randomization import Integers


class TinyGame(Minigame):
    name = "tp_tiny_minigame"
    description = "third-party test minigame"
    configs = ("mini",)
    rules_config = {"npcs": False, "npc_count": 0}
    randomization = {"fog_onset": Integers(10, 20)}

    def task(self, cfg):
        return Task("stay_alive", "agent", {"StayAlive": {"n": cfg.tunables.horizon}})

    def is_over(self, state, cfg):
        return state.tick >= 4


class PlainGame(Game):
    name = "tp_plain_game"
    description = "third-party test game on the bare Game API"

    def update(self, state, cfg, died, rewards):
        rewards[:] = 0.5
        return state.tick >= 3
'''

THIRD_PARTY_SCRIPT = '''
import json, numpy as np, metammo
from metammo.game import games
found = games()
assert "tp_tiny_minigame" in found and "tp_plain_game" in found, sorted(found)
out = {"games": sorted(found)}
for name in ("tp_tiny_minigame", "tp_plain_game"):
    env = metammo.make(name, "mini", seed=0, num_agents=8, horizon=10)
    env.reset()
    summaries = []
    for _ in range(5):
        summaries += env.step(np.zeros_like(env.actions))[4]
    out[name] = summaries
print(json.dumps(out))
'''


def write_third_party_package(root: Path) -> None:
    pkg = root / "tp_metammo_games"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(THIRD_PARTY_MODULE)
    info = root / "tp_metammo_games-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-metammo-games\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[metammo.minigames]\n"
        "tp_tiny_minigame = tp_metammo_games:TinyGame\n"
        "tp_plain_game = tp_metammo_games:PlainGame\n"
    )
    (info / "RECORD").write_text("")


def test_third_party_game_via_entry_points(tmp_path):
    write_third_party_package(tmp_path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    out = run_cli("-c", THIRD_PARTY_SCRIPT, env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(MINIGAMES) | {"sandbox", "tp_tiny_minigame", "tp_plain_game"} <= set(result["games"])
    tiny = result["tp_tiny_minigame"]
    assert tiny and tiny[0]["game"] == "tp_tiny_minigame" and tiny[0]["length"] == 4
    assert tiny[0]["winners"] == list(range(8))
    assert 10 <= tiny[0]["randomized"]["fog_onset"] <= 20
    plain = result["tp_plain_game"]
    assert plain and plain[0]["game"] == "tp_plain_game" and plain[0]["length"] == 3
    assert plain[0]["mean_return"] == pytest.approx(1.5)

    listed = run_cli("-m", "minigames", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "tp_tiny_minigame" in listed.stdout and "third-party test minigame" in listed.stdout
    rollout = run_cli("-m", "metammo.rollout", "--game", "tp_tiny_minigame", "--episodes", "1",
                      "--json", "--set", "num_agents=8", env=env)
    assert rollout.returncode == 0, rollout.stderr
    assert json.loads(rollout.stdout.splitlines()[0])["game"] == "tp_tiny_minigame"

    # without the package on the path the game is unknown
    plain_env = dict(os.environ)
    missing = run_cli("-c", "import metammo; metammo.make('tp_tiny_minigame')", env=plain_env)
    assert missing.returncode != 0 and "tp_tiny_minigame" in missing.stderr


def test_each_game_of_a_pack_gets_the_options_it_takes(tmp_path):
    from minigames.multitask import DEFAULT_CURRICULUM

    curriculum = tmp_path / "two.yaml"
    data = yaml.safe_load(DEFAULT_CURRICULUM.read_text())
    data["train"] = data["train"][:2]
    curriculum.write_text(yaml.safe_dump(data))
    env = metammo.make("full_generalist", "full", num_agents=16, game_options={"curriculum": str(curriculum)})
    multitask = next(g for g in env.games if g.name == "multitask")
    assert [t.name for t in multitask.curriculum.train] == [t["name"] for t in data["train"]]
    with pytest.raises(ValueError, match=r"no game of .* takes option\(s\) \['curicculum'\]; options: .*'curriculum'"):
        metammo.make("full_generalist", "full", num_agents=16, game_options={"curicculum": str(curriculum)})
    with pytest.raises(ValueError, match=r"game 'team_battle' takes no option\(s\) \['curriculum'\]"):
        make_game("team_battle", curriculum=str(curriculum))
