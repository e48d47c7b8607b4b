"""Compiled kernels checked against slow, obvious pure-Python references.

Random 128-agent episodes are stepped with random masked actions; at several ticks every
agent's observation (entity selection and features, tile crop, self features, action masks) is
recomputed in plain Python loops from the state and compared. Smaller kernels (damage, fog,
buckets, levels) are compared on many random inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import metammo
from metammo.config import Shape
from metammo.constants import MOVE_DELTA, PASSABLE, Event, Kind
from metammo.observation import EntityFeature as F
from metammo.observation import GameFeature, game_id
from metammo.observation import SelfFeature as S
from metammo.observation import TileChannel as T
from metammo.state import allocate, playable_bounds
from metammo.systems.combat import damage, main_style
from metammo.systems.common import fog_value, level_for_xp
from metammo.systems.spatial import build_buckets

NPC_KINDS = (Kind.PASSIVE, Kind.NEUTRAL, Kind.HOSTILE)
CHECK_TICKS = {0, 1, 2, 5, 13, 30, 47, 60}

CONFIGS = {
    # dense: 128 agents in teams of 4 on a 32 map, NPCs, crowded views (truncation)
    "dense": dict(num_agents=128, max_map_size=32, map_size=32, team_size=4, max_npcs=64,
                  npc_count=64, spawn_immunity=5, food_depletion=1, water_depletion=1),
    # offset map inside a larger grid, exclusive tiles, fog, comm off, small vision
    "fog": dict(num_agents=128, max_map_size=64, map_size=48, vision=5, obs_entities=16,
                max_npcs=96, npc_count=96, exclusive_tiles=True, fog=True, fog_onset=40,
                fog_speed=0.25, fog_final_size=6, comm=False, spawn_immunity=3, friendly_fire=True,
                team_size=2, food_depletion=2, water_depletion=1),
}


# --- pure-Python references ------------------------------------------------------------------


def ref_main_style(levels, last):
    """Highest level; on a tie the last used style if it is among the best, else the first."""
    top = max(levels)
    return last if levels[last] == top else min(s for s in range(3) if levels[s] == top)


# (attack style, target main style) pairs that counter: mage > melee > range > mage
COUNTER_PAIRS = {(2, 0), (0, 1), (1, 2)}


def ref_damage(att_levels, tgt_levels, tgt_last, style, gear_attack=0, gear_defense=0):
    offense = 10 + 5 * att_levels[style] + gear_attack
    defense = 5 * max(tgt_levels) + gear_defense
    mult = 1.5 if (style, ref_main_style(tgt_levels, tgt_last)) in COUNTER_PAIRS else 1.0
    return int(max(mult * offense - defense, 0.25 * offense))


def ref_fog(r, c, lo, hi, tick, onset, speed, final):
    rings = min(r - lo, c - lo, hi - 1 - r, hi - 1 - c)
    mid = (lo + hi - 1) // 2  # the centre tile
    if abs(r - mid) <= final and abs(c - mid) <= final:
        return -rings
    return -rings + speed * max(tick - onset, 0)


def ref_fog_byte(v):
    return min(max(int((v + 8) * 8), 0), 255)


def ref_can_hit(ent, i, j, n_agents, t):
    if not t.combat or i == j or not ent.alive[j] or ent.freeze[i] > 0:
        return False
    if max(abs(int(ent.row[i]) - ent.row[j]), abs(int(ent.col[i]) - ent.col[j])) > t.attack_reach:
        return False
    if i < n_agents and j < n_agents:
        if ent.time_alive[j] < t.spawn_immunity:
            return False
        if not t.friendly_fire and ent.team[i] == ent.team[j]:
            return False
    return True


def ref_visible(ent, i, vision):
    r, c = int(ent.row[i]), int(ent.col[i])
    found = []
    for j in range(len(ent.alive)):
        if j != i and ent.alive[j]:
            dr, dc = int(ent.row[j]) - r, int(ent.col[j]) - c
            if abs(dr) <= vision and abs(dc) <= vision:
                found.append((dr * dr + dc * dc, j))
    return [j for _, j in sorted(found)]


XP_TABLE = [0, 90, 217, 373, 553, 754, 974, 1212, 1467, 1737]  # rules.md §1


def ref_level(xp):
    return max(k + 1 for k in range(10) if xp >= XP_TABLE[k])


def ref_xp_byte(xp, level):
    if level >= 10:
        return 255
    base, top = XP_TABLE[level - 1], XP_TABLE[level]
    return min(255 * (xp - base) // (top - base), 255)


def check_observations(env):
    """Every live agent's observation against the references; dead agents' rows too.
    Returns how many agents saw more entities than their observation has rows."""
    state, cfg, lay = env.state, env.config, env.layout
    t, ent, tiles = cfg.tunables, state.entities, state.tiles
    n, v, rows = env.num_agents, cfg.shape.vision, cfg.shape.obs_entities
    lo, hi = playable_bounds(cfg)
    views = lay.views(env.observations)
    side = 2 * v + 1
    centre = (lo + hi - 1) // 2
    truncated = 0
    for i in range(n):
        if not ent.alive[i]:
            assert (env._entity_ids[i] == -1).all()
            for name in ("tiles", "entities", "self"):
                assert not views[name][i].any()
            for name in ("mask_move", "mask_style", "mask_target", "mask_comm"):
                assert views[name][i][0] == 1 and not views[name][i][1:].any()
            continue
        r, c = int(ent.row[i]), int(ent.col[i])
        # (a) nearest-entity selection
        expect = ref_visible(ent, i, v)
        truncated += len(expect) > rows
        expect = expect[:rows]
        got = env._entity_ids[i]
        assert got[: len(expect)].tolist() == expect, (state.tick, i)
        assert (got[len(expect):] == -1).all()
        # entity features
        ents = views["entities"][i]
        for k, j in enumerate(expect):
            mate = j < n and ent.team[j] == ent.team[i]
            want = {
                F.PRESENT: 1, F.ROW: ent.row[j] - r + v, F.COL: ent.col[j] - c + v,
                F.KIND: ent.kind[j], F.TEAMMATE: mate, F.HEALTH: max(ent.health[j], 0),
                F.FOOD: ent.food[j], F.WATER: ent.water[j], F.LEVEL_MELEE: ent.level[j, 0],
                F.LEVEL_RANGE: ent.level[j, 1], F.LEVEL_MAGE: ent.level[j, 2],
                F.STYLE: ref_main_style(list(ent.level[j, :3]), ent.style[j]),
                F.IMMUNE: j < n and ent.time_alive[j] < t.spawn_immunity,
                F.FROZEN: min(ent.freeze[j], 255),
                F.MESSAGE: ent.message[j] if (mate and t.comm) else 0,
                F.ATTACKED_ME: ent.act_target[j] == i, F.MY_TARGET: ent.act_target[i] == j,
                F.TIME_ALIVE: min(ent.time_alive[j] // 4, 255),
                F.IN_COMBAT: state.tick - ent.combat_tick[j] < 3,
            }
            for f, val in want.items():
                assert ents[k, f] == int(val), (state.tick, i, k, f.name)
        assert not ents[len(expect):].any()
        # (b) masks
        mt = views["mask_target"][i]
        assert mt[0] == 1
        for k in range(rows):
            want = k < len(expect) and ref_can_hit(ent, i, expect[k], n, t)
            assert mt[k + 1] == want, (state.tick, i, k)
        mm = views["mask_move"][i]
        assert mm[0] == 1
        for m in range(1, 5):
            nr, nc = r + MOVE_DELTA[m, 0], c + MOVE_DELTA[m, 1]
            ok = ent.freeze[i] == 0 and PASSABLE[tiles.material[nr, nc]]
            ok = ok and not (t.exclusive_tiles and tiles.agents[nr, nc] + tiles.npcs[nr, nc] > 0)
            assert mm[m] == ok, (state.tick, i, m)
        assert views["mask_style"][i].tolist() == [1, t.combat, t.combat]
        assert views["mask_comm"][i][0] == 1 and (views["mask_comm"][i][1:] == t.comm).all()
        # (c) tile crop
        crop = views["tiles"][i]
        window = np.s_[r - v : r + v + 1, c - v : c + v + 1]
        assert crop.shape == (4, side, side)
        assert (crop[T.MATERIAL] == tiles.material[window]).all()
        assert (crop[T.AGENTS] == np.minimum(tiles.agents[window], 255)).all()
        assert (crop[T.NPCS] == np.minimum(tiles.npcs[window], 255)).all()
        fog_ref = np.zeros((side, side), np.int64)
        if t.fog:
            for dr in range(side):
                for dc in range(side):
                    fog_ref[dr, dc] = ref_fog_byte(ref_fog(
                        r - v + dr, c - v + dc, lo, hi, state.tick, t.fog_onset, t.fog_speed,
                        t.fog_final_size))
        assert (crop[T.FOG] == fog_ref).all(), (state.tick, i)
        # self features
        me = views["self"][i]
        team_alive = sum(1 for j in range(n) if ent.alive[j] and ent.team[j] == ent.team[i])
        want = {
            S.ALIVE: 1, S.ROW: r - lo, S.COL: c - lo, S.MAP_SIZE: min(hi - lo, 255),
            S.HEALTH: ent.health[i], S.FOOD: ent.food[i], S.WATER: ent.water[i],
            S.LEVEL_MELEE: ent.level[i, 0], S.LEVEL_RANGE: ent.level[i, 1],
            S.LEVEL_MAGE: ent.level[i, 2],
            S.XP_MELEE: ref_xp_byte(ent.xp[i, 0], ent.level[i, 0]),
            S.XP_RANGE: ref_xp_byte(ent.xp[i, 1], ent.level[i, 1]),
            S.XP_MAGE: ref_xp_byte(ent.xp[i, 2], ent.level[i, 2]),
            S.STYLE: ref_main_style(list(ent.level[i, :3]), ent.style[i]),
            S.IMMUNE: ent.time_alive[i] < t.spawn_immunity, S.FROZEN: min(ent.freeze[i], 255),
            S.IN_COMBAT: state.tick - ent.combat_tick[i] < 3,
            S.TIME_ALIVE: min(ent.time_alive[i] // 4, 255),
            S.PROGRESS: min(state.tick * 255 // t.horizon, 255),
            S.FOG: fog_ref[v, v],
            S.EDGE_DISTANCE: min(r - lo, c - lo, hi - 1 - r, hi - 1 - c),
            S.CENTRE_DISTANCE: max(abs(r - centre), abs(c - centre)),
            S.TEAMMATES_ALIVE: team_alive - 1, S.TICK_MOD: state.tick % 256,
        }
        for f, val in want.items():
            assert me[f] == int(val), (state.tick, i, f.name)
    return truncated


def check_world(env):
    """Tile occupancy counts, levels and NPC kinds against the entity arrays."""
    state, cfg = env.state, env.config
    ent, tiles, n = state.entities, state.tiles, env.num_agents
    g = cfg.shape.grid_size
    agents = np.zeros((g, g), np.int64)
    npcs = np.zeros((g, g), np.int64)
    for j in range(len(ent.alive)):
        if ent.alive[j]:
            (agents if j < n else npcs)[ent.row[j], ent.col[j]] += 1
            assert PASSABLE[tiles.material[ent.row[j], ent.col[j]]]
            assert ent.health[j] > 0
            assert ent.level[j].tolist() == [ref_level(x) for x in ent.xp[j]] or j >= n
            assert ent.kind[j] == Kind.AGENT if j < n else ent.kind[j] in NPC_KINDS
        elif j >= n:
            assert ent.kind[j] == Kind.NONE
    assert (tiles.agents == agents).all(), state.tick
    assert (tiles.npcs == npcs).all(), state.tick
    if cfg.tunables.exclusive_tiles:
        assert (agents + npcs).max() <= 1


def random_actions(env, rng):
    """Uniform over each head's allowed choices; attack an allowed target 70% of the time."""
    views = env.layout.views(env.observations)
    acts = np.zeros((env.num_agents, 4), np.int32)
    for i in range(env.num_agents):
        for h, name in enumerate(("mask_move", "mask_style", "mask_target", "mask_comm")):
            allowed = np.flatnonzero(views[name][i])
            if name == "mask_target" and len(allowed) > 1 and rng.random() < 0.7:
                allowed = allowed[1:]
            acts[i, h] = rng.choice(allowed)
    return acts


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_random_episode_matches_python_references(name):
    env = metammo.make("sandbox", "mini", seed=11, horizon=1000, **CONFIGS[name])
    env.reset()
    rng = np.random.default_rng(5)
    ent = env.state.entities
    exclusive = env.config.tunables.exclusive_tiles
    hits = truncated = 0
    for tick in range(61):
        if tick in CHECK_TICKS:
            truncated += check_observations(env)
        check_world(env)
        acts = random_actions(env, rng)
        mask_move = env.layout.view(env.observations, "mask_move").copy()
        alive = ent.alive[: env.num_agents].copy()
        before = np.stack([ent.row[: env.num_agents], ent.col[: env.num_agents]], 1).astype(np.int64)
        _, _, _, _, infos = env.step(acts)
        assert not infos, "the random episode ended early: pick another seed"
        hits += len([1 for k in range(int(env.state.events.num_log[0]))
                     if env.state.events.log[k, 0] == Event.SCORE_HIT])
        after = np.stack([ent.row[: env.num_agents], ent.col[: env.num_agents]], 1)
        for i in np.flatnonzero(alive):
            m = acts[i, 0]
            moved = before[i] + MOVE_DELTA[m] if mask_move[i, m] else before[i]
            if exclusive:  # the move may lose the race for the tile
                assert (after[i] == moved).all() or (after[i] == before[i]).all()
            else:
                assert (after[i] == moved).all(), (env.state.tick, i)
    assert hits > 50  # the episode really exercised combat ...
    assert truncated > 0 or name != "dense"  # ... and views fuller than the entity rows
    assert 0 < ent.alive[: env.num_agents].sum() < env.num_agents


def test_observations_match_references_when_a_pack_turns_fog_off_and_on():
    """Observation rows are reused across episodes, and the fog plane is only copied while fog
    is on: an episode without fog after one with it must show none."""
    env = metammo.make(["team_battle", "race_to_the_center"], "mini", seed=3)
    rng = np.random.default_rng(0)
    fog_plane = env.layout.view(env.observations, "tiles")[:, T.FOG]
    fogged = []
    for _ in range(10):
        env.reset()
        for _ in range(3):
            env.step(random_actions(env, rng))
        check_observations(env)
        fogged.append(env.config.tunables.fog)
        assert fog_plane.any() == fogged[-1]
    assert any(on and not off for on, off in zip(fogged, fogged[1:]))


# --- small kernels on random inputs ------------------------------------------------------------


def _random_entities(rng, n, grid):
    state = allocate(Shape(num_agents=n, max_npcs=0, max_map_size=32))
    ent = state.entities
    ent.alive[:] = rng.random(n) < 0.8
    ent.row[:] = rng.integers(0, grid, n)
    ent.col[:] = rng.integers(0, grid, n)
    ent.level[:, :3] = rng.integers(1, 11, (n, 3))
    ent.gear_attack[:] = rng.integers(0, 60, (n, 3)) * (rng.random((n, 1)) < 0.5)
    ent.gear_defense[:] = rng.integers(0, 90, n) * (rng.random(n) < 0.5)
    ent.style[:] = rng.integers(0, 3, n)
    return ent


def test_damage_and_main_style_match_the_formula():
    rng = np.random.default_rng(0)
    ent = _random_entities(rng, 64, 46)
    # many ties: levels from a small range
    ent.level[32:, :3] = rng.integers(1, 3, (32, 3))
    for _ in range(3000):
        i, j = rng.integers(64, size=2)
        style = int(rng.integers(3))
        want = ref_damage(list(ent.level[i, :3]), list(ent.level[j, :3]), int(ent.style[j]), style,
                          int(ent.gear_attack[i, style]), int(ent.gear_defense[j]))
        assert damage(ent, i, j, style) == want
        assert damage.py_func(ent, i, j, style) == want
        assert main_style(ent, j) == ref_main_style(list(ent.level[j, :3]), int(ent.style[j]))


def test_fog_value_matches_the_formula():
    rng = np.random.default_rng(1)
    for _ in range(3000):
        size = int(rng.integers(32, 129))
        lo = int(rng.integers(1, 16))
        hi = lo + size
        r, c = (int(x) for x in rng.integers(lo, hi, 2))
        tick, onset = int(rng.integers(0, 300)), int(rng.integers(0, 200))
        speed = float(rng.choice([0.0, 0.125, 0.5, 1.0, rng.uniform(0, 4)]))
        final = int(rng.integers(0, size // 2 + 1))
        got = fog_value(r, c, lo, hi, tick, onset, speed, final)
        assert math.isclose(got, ref_fog(r, c, lo, hi, tick, onset, speed, final), abs_tol=1e-9)
    # rules.md: a safe square of half-width 4 is 9 tiles a side, on an even map too (128: lo 8)
    safe = [r for r in range(8, 136) if fog_value(r, r, 8, 136, 10, 0, 1.0, 4) == -min(r - 8, 135 - r)]
    assert safe == list(range(67, 76)) and (67 + 75) // 2 == (8 + 136 - 1) // 2


def test_build_buckets_match_brute_force():
    rng = np.random.default_rng(2)
    for trial in range(40):
        grid = int(rng.integers(20, 80))
        n = int(rng.integers(1, 300))
        ent = _random_entities(rng, n, grid)
        cell = int(rng.integers(1, 10))
        slots = int(rng.integers(0, n + 1))  # the leading slots bucketed (NPCs bucket agents only)
        start, items, ncell = build_buckets(ent, cell, grid, slots)
        assert ncell == grid // cell + 1
        assert start[0] == 0 and start[-1] == ent.alive[:slots].sum()
        for b in range(ncell * ncell):
            want = [i for i in range(slots) if ent.alive[i]
                    and (ent.row[i] // cell) * ncell + ent.col[i] // cell == b]
            assert items[start[b] : start[b + 1]].tolist() == want, (trial, b)


def test_level_for_xp_matches_the_table():
    for xp in list(range(0, 2000, 7)) + XP_TABLE + [x - 1 for x in XP_TABLE[1:]] + [10**6]:
        assert level_for_xp(xp) == ref_level(xp), xp


# --- calling kernels without the dispatcher's typing (metammo.kernels) -----------------------


def test_kernels_call_the_compiled_version_of_the_first_call():
    from numba import njit

    from metammo.kernels import Kernels

    @njit
    def scaled_sum(values, factor):
        return values.sum() * factor

    kernels = Kernels()
    values = np.arange(5, dtype=np.float32)
    assert kernels(scaled_sum, values, 2) == 20.0
    assert kernels(scaled_sum, values * 2, 3) == 60.0
    # no typing after the first call: a float factor goes to the int version, as documented
    assert kernels(scaled_sum, values, 2.5) == 20.0
    assert scaled_sum(values, 2.5) == 25.0  # the dispatcher types it and compiles a float version


def test_an_env_pickles_and_binds_its_kernels_again():
    import pickle

    env = metammo.make("race_to_the_center", "mini", seed=0)
    env.reset(0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        env.step(np.zeros((env.num_agents, len(env.head_sizes)), np.int32))
    copy = pickle.loads(pickle.dumps(env))
    for _ in range(30):
        actions = rng.integers(0, 5, (env.num_agents, len(env.head_sizes))).astype(np.int32)
        actions[:, 1:] = 0
        rewards = [e.step(actions)[1].copy() for e in (env, copy)]
        assert (rewards[0] == rewards[1]).all()  # the copy's game scores the copy's state
    assert copy.state.hash() == env.state.hash()
    assert (copy.observations == env.observations).all()


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copied_env_plays_on_as_the_original_across_episodes(how):
    import copy
    import pickle

    env = metammo.make("mini_generalist", "mini", seed=0, horizon=5)
    env.reset(0)
    twin = pickle.loads(pickle.dumps(env)) if how == "pickle" else copy.deepcopy(env)
    actions = np.zeros((env.num_agents, len(env.head_sizes)), np.int32)
    games = set()
    for _ in range(40):  # 8 episodes: other games of the pack, so other game vectors
        out = [e.step(actions) for e in (env, twin)]
        games.add(env.game.name)
        np.testing.assert_array_equal(out[0][0], out[1][0])
        np.testing.assert_array_equal(out[0][1], out[1][1])
        assert out[0][4] == out[1][4]
    assert len(games) > 2
    assert (twin.layout.view(twin.observations, "game")[:, GameFeature.GAME:GameFeature.TEAM_GAME]
            == game_id(twin.game.name)).all()


@pytest.mark.parametrize("game,config,horizon,policy", [
    ("sandbox", "mini", 12, "scripted"), ("mini_generalist", "mini", 12, "scripted"),
    ("sandbox", "full", 12, "scripted"), ("survival", "full", 12, "scripted"), ("multitask", "full", 12, "scripted"),
    ("team_battle", "full", 12, "scripted"),
    ("race_to_the_center", "mini", 60, "random"),  # random racers starve and respawn
])
def test_kernels_get_the_types_of_their_first_call_in_every_episode(game, config, horizon, policy, monkeypatch):
    """What :class:`metammo.kernels.Kernels` relies on: the env, its observer and its games
    pass each kernel arguments of one set of numba types, episode after episode (short
    episodes of every game of the config, autoreset)."""
    from metammo.kernels import Kernels
    from metammo.policy import make_policy

    first: dict[tuple[int, object], tuple] = {}
    calls = Kernels.__call__

    def checked(self, kernel, *args):
        types = tuple(kernel.typeof_pyval(a) for a in args)
        assert first.setdefault((id(self), kernel), types) == types, kernel
        return calls(self, kernel, *args)

    monkeypatch.setattr(Kernels, "__call__", checked)
    env = metammo.make(game, config, seed=0, horizon=horizon)
    player = make_policy(policy, env.layout, env.head_sizes, seed=0)
    obs, _ = env.reset(0)
    state = player.initial_state(env.num_agents)
    episodes = {g.name: 0 for g in env.games}
    for _ in range(1000):
        if min(episodes.values()) >= 2:
            break
        actions, state = player.act(obs, state)
        obs, *_, infos = env.step(actions)
        for info in infos:
            episodes[info["game"]] += 1
    assert min(episodes.values()) >= 2, episodes  # every game of a pack played twice
    expected = {"tick", "_observe"} | ({"score_tasks"} if game != "sandbox" else set())
    expected |= {"_respawn"} if game == "race_to_the_center" else set()
    assert {kernel.__name__ for _, kernel in first} >= expected
