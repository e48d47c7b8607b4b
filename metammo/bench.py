"""Steps-per-second benchmark of the engine on one core.

    python -m metammo.bench --config mini --agents 128 --seconds 10 --json

Actions come from ``--policy`` (default ``random``: uniform over each action mask), every agent
observed every tick, auto-reset on. ``env.step`` and the policy's ``act`` are timed apart:
``agent_steps_per_s`` is the engine's figure (every agent's row, alive or not, as the vector
env contract counts them), ``live_agent_steps_per_s`` the same counting only the agents alive
at the start of each tick (the engine's work follows them: a dead agent's row costs almost
nothing), ``policy_agent_steps_per_s`` the policy's;
``game_hooks_share`` and ``reset_share`` are the fractions of the engine's time spent in the
game's hooks (update, finish) and in starting episodes (map, spawns, setup). With ``--record``
every episode is recorded as a replay (:mod:`metammo.replay`), so the figure includes the
recorder's cost; compare with a run without it. Games with adaptive difficulty climb their
levels as episodes are won, so what a run plays depends on its length: ``difficulty_ticks``
reports the timed ticks per game and level, and ``--difficulty`` pins a level (an index, or
``max``) for a fixed workload; ``difficulty`` reports the pinned level, ``adaptive``, or ``none``
when no game of the run has difficulty levels (e.g. ``sandbox``). ``--game`` takes a game, a
game pack, or comma-separated games, as :mod:`metammo.rollout` does. Prints one JSON line (with
``--json``) or a short table. Kernels compile (or load from numba's cache) before timing: 50
ticks are played first, and first in an env of each game of a pack alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections import Counter

from metammo.cli import run
from metammo.config import make_config
from metammo.rollout import add_game_arguments, read_game_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metammo.bench", description=__doc__.split("\n\n")[0])
    add_game_arguments(parser)
    parser.add_argument("--agents", type=int, default=128, help="num_agents (default 128)")
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds (default 10)")
    parser.add_argument("--policy", default="random", help="registered policy choosing the actions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", action="store_true", help="record every episode as a replay")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if not 0 < args.seconds < math.inf:
        parser.error(f"--seconds must be a finite number > 0, got {args.seconds}")
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")


    import metammo
    from metammo.game import own_options
    from metammo.policy import make_policy

    try:
        game, overrides, difficulty, game_options = read_game_arguments(args)
        try:
            make_config(args.config, num_agents=args.agents)
        except ValueError as err:
            raise ValueError(f"--agents {args.agents}: {err}") from None
        if "num_agents" in overrides:
            parser.error("--set num_agents: give the agent count with --agents")
        env = metammo.make(game, args.config, seed=args.seed, num_agents=args.agents, record=args.record,
                           difficulty=difficulty, game_options=game_options, **overrides)
        policy = make_policy(args.policy, env.layout, env.head_sizes, seed=args.seed)
    except ValueError as err:
        parser.error(str(err))
    if len(env.games) > 1:  # each game of the pack compiles (or loads) the kernels it calls
        for g in env.games:
            _warm_up(metammo.make(g.name, args.config, seed=args.seed, num_agents=args.agents, record=args.record,
                                  difficulty=difficulty, game_options=own_options(type(g), game_options), **overrides),
                     policy, args.seed)
    spent = _time_phases(env)
    obs = _warm_up(env, policy, args.seed)
    state = policy.initial_state(env.num_agents)

    spent.update(hooks=0.0, resets=0.0)
    steps, live, episodes, timed, thinking = 0, 0, 0, 0.0, 0.0
    played: Counter[tuple[str, int]] = Counter()  # timed ticks per (game, difficulty level)
    deadline = time.perf_counter() + args.seconds
    while steps == 0 or time.perf_counter() < deadline:
        played[env.game.name, env.game.difficulty] += 1
        start = time.perf_counter()
        actions, state = policy.act(obs, state)
        mid = time.perf_counter()
        obs, _, _, _, infos = env.step(actions)
        timed += time.perf_counter() - mid
        thinking += mid - start
        steps += 1
        live += int(env.masks.sum())  # the agents alive when the tick began
        episodes += len(infos)
    result = {
        "agent_steps_per_s": round(steps * env.num_agents / timed),
        "live_agent_steps_per_s": round(live / timed),
        "live_agents_per_tick": round(live / steps, 1),
        "policy": args.policy,
        "policy_agent_steps_per_s": round(steps * env.num_agents / thinking),
        "env_steps_per_s": round(steps / timed, 1),
        "game_hooks_share": round(spent["hooks"] / timed, 3),
        "reset_share": round(spent["resets"] / timed, 3),
        "difficulty_ticks": {game: {str(level): n for (g, level), n in sorted(played.items()) if g == game}
                             for game in sorted({g for g, _ in played})},
        "difficulty": (args.difficulty or "adaptive") if any(g.difficulty_levels for g in env.games) else "none",
        "obs_bytes_per_agent": int(env.single_observation_space.shape[0] * env.observations.itemsize),
        "config": args.config,
        "game": args.game,
        "record": args.record,
        "agents": env.num_agents,
        "env_steps": steps,
        "episodes": episodes,
        "overrides": overrides,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>20}  {value}")
    return 0


def _warm_up(env, policy, seed: int):
    """Reset ``env`` with ``seed`` and play 50 ticks of ``policy``: its kernels compile (or load
    from numba's cache), its caches fill. Returns the last observations."""
    obs, _ = env.reset(seed)
    state = policy.initial_state(env.num_agents)
    for _ in range(50):
        actions, state = policy.act(obs, state)
        obs = env.step(actions)[0]
    return obs


def _time_phases(env) -> dict[str, float]:
    """Wrap the env's game hooks (update, finish) and episode starts with timers; returns the
    dict of seconds spent in each, filled as the env runs."""
    spent = {"hooks": 0.0, "resets": 0.0}

    def timed(fn, key):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - start
        return wrapper

    for game in env.games:
        game.update = timed(game.update, "hooks")
        game.finish = timed(game.finish, "hooks")
    env._begin_episode = timed(env._begin_episode, "resets")
    return spent


if __name__ == "__main__":
    run(main, "python -m metammo.bench")
