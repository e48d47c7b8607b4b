"""The PettingZoo ``ParallelEnv`` view (metammo/parallel.py): PettingZoo's own API and seed
tests, plus the mapping the module docstring promises (agent names, removal on death, episode
end, copies, no-op defaults, errors)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test as _parallel_api_test
from pettingzoo.test import parallel_seed_test

import metammo
from metammo.game import Game, games, register
from metammo.parallel import ParallelEnv

SMALL = dict(num_agents=8, max_npcs=8, npc_count=8, max_map_size=32, map_size=32)
#: No starvation and no NPCs: nobody dies before the horizon.
PEACEFUL = dict(SMALL, npcs=False, npc_count=0, food_depletion=0, water_depletion=0)


class EndsAtTickFive(Game):
    """A game that ends (a win, not the horizon) at tick 5 with every agent alive."""

    name = "test_parallel_ends_at_tick_five"

    def update(self, state, cfg, died, rewards):
        rewards[:] = 0.5
        return state.tick >= 5


if EndsAtTickFive.name not in games():
    register(EndsAtTickFive.name, EndsAtTickFive)


def small(seed: int = 0, **overrides) -> ParallelEnv:
    return metammo.make_parallel("sandbox", "mini", seed=seed, **{**SMALL, **overrides})


def random_actions(env: ParallelEnv, rng: np.random.Generator) -> dict[str, np.ndarray]:
    sizes = env.env.head_sizes
    return {a: rng.integers(0, sizes) for a in env.agents}


# --- PettingZoo's tests --------------------------------------------------------------------------


def parallel_api_test(env: ParallelEnv, num_cycles: int) -> None:
    """PettingZoo's test, with its warnings (a live agent given no observation, ...) as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _parallel_api_test(env, num_cycles=num_cycles)


def test_parallel_api_small_until_everyone_dies():
    parallel_api_test(small(), num_cycles=200)


def test_parallel_api_small_horizon():
    parallel_api_test(small(horizon=12), num_cycles=50)


@pytest.mark.parametrize("config", ["mini", "full"])
def test_parallel_api_default_config(config):
    env = metammo.make_parallel("sandbox", config, seed=0)
    assert len(env.possible_agents) == 128
    parallel_api_test(env, num_cycles=8)


def test_parallel_api_full_small_until_everyone_dies():
    parallel_api_test(metammo.make_parallel("sandbox", "full", seed=0, **SMALL), num_cycles=200)


def test_parallel_seed_small():
    parallel_seed_test(lambda: small(seed=3), num_cycles=50)


@pytest.mark.parametrize("config", ["mini", "full"])
def test_parallel_seed_default_config(config):
    parallel_seed_test(lambda: metammo.make_parallel("sandbox", config, seed=3), num_cycles=5)


def test_same_seed_same_trajectory_over_a_whole_episode():
    # parallel_seed_test stops after one step (it tests ``any`` of a dict); this runs to the end.
    envs = [small(seed=11), small(seed=11)]
    outs = [env.reset(seed=5) for env in envs]
    rngs = [np.random.default_rng(1), np.random.default_rng(1)]
    steps = 0
    while envs[0].agents:
        assert envs[0].agents == envs[1].agents
        outs = [env.step(random_actions(env, rng)) for env, rng in zip(envs, rngs)]
        a, b = outs
        assert a[0].keys() == b[0].keys()
        for k in a[0]:
            np.testing.assert_array_equal(a[0][k], b[0][k])
        assert a[1:] == b[1:]
        steps += 1
    assert not envs[1].agents
    assert envs[0].env.state.hash() == envs[1].env.state.hash()
    assert steps > 1


# --- the mapping ---------------------------------------------------------------------------------


def test_agents_spaces_and_metadata():
    env = small()
    assert env.possible_agents == [f"agent_{i}" for i in range(8)]
    assert env.agents == []  # before reset
    assert env.metadata == {"name": "metammo_v0", "render_modes": []}
    assert env.render_mode is None
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.env.single_observation_space
        assert env.action_space(agent) is env.env.single_action_space
    obs, infos = env.reset(seed=0)
    assert env.agents == env.possible_agents
    assert set(obs) == set(infos) == set(env.agents)
    assert all(info == {} for info in infos.values())
    for agent, o in obs.items():
        assert o.dtype == np.uint8 and o.shape == (env.env.layout.size,)
        assert env.observation_space(agent).contains(o)
    with pytest.raises(KeyError):
        env.action_space("agent_8")


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match="reset"):
        small().step({})


def test_observations_are_copies():
    env = small()
    obs, _ = env.reset(seed=0)
    step_obs = env.step({})[0]
    for batch in (obs, step_obs):
        for o in batch.values():
            assert not np.shares_memory(o, env.env.observations)
    before = env.env.observations.copy()
    for agent, o in step_obs.items():
        np.testing.assert_array_equal(o, env.env.observations[int(agent.split("_")[1])])
        o[:] = 7
    np.testing.assert_array_equal(env.env.observations, before)


def test_rewards_terminations_are_python_scalars():
    env = small()
    env.reset(seed=0)
    _, rew, term, trunc, info = env.step({})
    assert all(type(r) is float for r in rew.values())
    assert all(type(t) is bool for t in term.values())
    assert all(type(t) is bool for t in trunc.values())
    assert all(i == {} for i in info.values())


def test_agents_removed_on_death():
    env = small()
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    removed: set[str] = set()
    partial_death_seen = False
    while env.agents:
        before = list(env.agents)
        obs, rew, term, trunc, info = env.step(random_actions(env, rng))
        assert set(obs) == set(rew) == set(term) == set(trunc) == set(info) == set(before)
        assert not removed & set(obs), "an agent was given results after it was removed"
        died = {a for a in before if term[a]}
        for a in died:
            i = env.possible_agents.index(a)
            assert not env.env.state.entities.alive[i]
            assert rew[a] == -1.0
        assert env.agents == [a for a in before if not (term[a] or trunc[a])]
        if died and env.agents:
            partial_death_seen = True
            assert all("episode" not in info[a] for a in before)
        removed |= died
    assert partial_death_seen, "expected some agents to die before the last ones"
    assert removed == set(env.possible_agents)


def test_episode_runs_to_its_horizon():
    env = metammo.make_parallel("sandbox", "mini", seed=0, horizon=15, **PEACEFUL)
    env.reset(seed=1)
    for tick in range(1, 16):
        obs, rew, term, trunc, info = env.step({})
        assert set(obs) == set(env.possible_agents)
        assert not any(term.values())
        if tick < 15:
            assert env.agents == env.possible_agents
            assert not any(trunc.values())
            assert all(r == pytest.approx(1 / 15) for r in rew.values())
    assert all(trunc.values())
    assert env.agents == []
    summaries = [info[a]["episode"] for a in env.possible_agents]
    assert summaries[0]["length"] == 15 and summaries[0]["survivors"] == 8
    assert all(s == summaries[0] for s in summaries)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
    obs, _ = env.reset()
    assert env.agents == env.possible_agents and set(obs) == set(env.agents)
    assert env.env.state.tick == 0


def test_episode_ends_when_everyone_dies():
    env = small(seed=2)
    env.reset()
    rng = np.random.default_rng(2)
    last = None
    while env.agents:
        last = env.step(random_actions(env, rng))
    obs, rew, term, trunc, info = last
    assert all(term.values()) and not any(trunc.values())
    for a in obs:
        summary = info[a]["episode"]
        assert summary["survivors"] == 0
        assert summary["length"] == env.env.state.tick
        assert summary["game"] == "sandbox" and summary["config"] == "mini"


def test_game_over_terminates_every_live_agent():
    env = metammo.make_parallel(EndsAtTickFive.name, "mini", seed=0, **PEACEFUL)
    env.reset(seed=0)
    for _ in range(4):
        _, rew, term, trunc, info = env.step({})
        assert not any(term.values()) and not any(trunc.values()) and env.agents == env.possible_agents
        assert set(rew.values()) == {0.5}
    _, rew, term, trunc, info = env.step({})
    assert all(term.values()) and not any(trunc.values()) and set(term) == set(env.possible_agents)
    assert env.agents == []
    assert {info[a]["episode"]["length"] for a in info} == {5}
    assert {info[a]["episode"]["game"] for a in info} == {EndsAtTickFive.name}


def test_parallel_api_game_over():
    parallel_api_test(metammo.make_parallel(EndsAtTickFive.name, "mini", seed=0, **SMALL), num_cycles=20)


def test_missing_agents_play_the_noop_row():
    a, b = small(seed=4), small(seed=4)
    a.reset(seed=9)
    b.reset(seed=9)
    rng = np.random.default_rng(0)
    for _ in range(10):
        acts = random_actions(a, rng)
        keep = {k: v for k, v in acts.items() if k in ("agent_0", "agent_5")}
        zeros = {k: np.zeros(4, np.int64) for k in a.agents}
        a.step(keep)
        b.step({**zeros, **keep})
        assert a.env.state.hash() == b.env.state.hash()
        np.testing.assert_array_equal(a.env.observations, b.env.observations)


@pytest.mark.parametrize(
    "action, match",
    [
        (np.zeros(3, np.int64), "shape"),
        (np.zeros((1, 4), np.int64), "shape"),
        (np.zeros(4, np.float32), "integer"),
        (np.array([5, 0, 0, 0]), "move"),
        (np.array([0, 3, 0, 0]), "style"),
        (np.array([0, 0, 33, 0]), "target"),
        (np.array([0, 0, 0, 128]), "comm"),
        (np.array([-1, 0, 0, 0]), "move"),
        (np.array([0, 0, 0, 2**64 - 1], np.uint64), "out of range"),
    ],
)
def test_bad_action_raises_and_changes_nothing(action, match):
    env = small(obs_entities=32)
    env.reset(seed=0)
    env.step({})
    digest, obs = env.env.state.hash(), env.env.observations.copy()
    agents = list(env.agents)
    with pytest.raises(ValueError, match=match):
        env.step({"agent_2": action})
    assert env.env.state.hash() == digest
    np.testing.assert_array_equal(env.env.observations, obs)
    assert env.agents == agents


def test_actions_not_a_dict_raise():
    env = small()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="dict"):
        env.step(np.zeros((8, 4), np.int64))


def test_unknown_agent_raises():
    env = small()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="agent_99"):
        env.step({"agent_99": np.zeros(4, np.int64)})


def test_python_list_actions_accepted():
    env = small()
    env.reset(seed=0)
    env.step({a: [0, 0, 0, 0] for a in env.agents})


def test_bad_config_raises_like_the_env():
    with pytest.raises(ValueError, match="unknown game"):
        metammo.make_parallel("no_such_game")
    with pytest.raises(ValueError, match="map_size"):
        metammo.make_parallel("sandbox", "mini", map_size=10)
    for autoreset in (True, False):
        with pytest.raises(ValueError, match=r"autoreset: a PettingZoo env never resets itself .* got "):
            metammo.make_parallel("team_battle", autoreset=autoreset)


# --- every registered game ---------------------------------------------------------------------

GAME_CONFIGS = [(name, config) for name, game in sorted(games().items()) if not name.startswith("test_")
                for config in game.configs]


@pytest.mark.parametrize(("game", "config"), GAME_CONFIGS)
def test_parallel_api_every_game(game, config):
    """Team games, rule kills, respawns (Race) and game-placed NPCs (Sandwich) keep the contract."""
    parallel_api_test(metammo.make_parallel(game, config, seed=0, horizon=40), num_cycles=90)


def test_respawned_racers_stay_in_the_episode():
    """Race revives its dead in the tick they die: they keep playing (no termination), and the
    episode runs to its end even after every racer has died once."""
    env = metammo.make_parallel("race_to_the_center", "mini", seed=0, num_agents=8, horizon=30,
                                randomize=False, difficulty=0)
    env.reset()
    env.env.state.entities.health[1] = 0
    _, _, terminated, _, _ = env.step({})
    assert not terminated["agent_1"] and "agent_1" in env.agents and env.env.state.entities.alive[1]
    env.env.state.entities.health[:8] = 0
    env.step({})
    assert len(env.agents) == 8
    infos = {}
    while env.agents:
        if env.env.state.tick == 29:  # dies on the last tick and respawns: truncated, not terminated
            env.env.state.entities.health[2] = 0
        _, _, terminated, truncated, infos = env.step({})
    assert all(truncated.values()) and not any(terminated.values()) and "episode" in infos["agent_0"]
    assert infos["agent_0"]["episode"]["length"] == 30


@pytest.mark.parametrize(("game", "config"), GAME_CONFIGS)
def test_parallel_seed_every_game(game, config):
    parallel_seed_test(lambda: metammo.make_parallel(game, config, seed=5, horizon=30), num_cycles=40)
