"""Roll out episodes of a game with a policy and print their summaries.

    python -m metammo.rollout --game sandbox --config mini --policy random --episodes 1 --seed 0 --json

Each episode's summary (game, length, survivors, mean lifetime and return, event counts, and for
minigames winners, per-agent scores, difficulty and randomized values) is printed as one JSON
line with ``--json``, else as a short readable block.

``--replay PATH`` records the first episode as a replay file (:mod:`metammo.replay`; view it with
``python -m metammo.replay view PATH``); a PATH containing ``{episode}`` records every episode,
``{episode}`` replaced by its number (1, 2, ...). The summary then names the file (``replay``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from metammo.cli import run
from metammo.files import check_writable


def add_game_arguments(parser: argparse.ArgumentParser) -> None:
    """The options naming what to play, shared by the engine's command lines (rollout, bench):
    ``--game``, ``--config``, ``--set`` (repeatable) and ``--difficulty``; read them with
    :func:`read_game_arguments`."""
    parser.add_argument("--game", default="sandbox",
                        help="registered game or game pack, or comma-separated games (default sandbox)")
    parser.add_argument("--config", default="mini", help="config preset: mini or full")
    parser.add_argument("--set", nargs="*", action="extend", default=[], metavar="KEY=VALUE",
                        help="config overrides, e.g. --set fog=true fog_onset=100; repeatable, each key once")
    parser.add_argument("--difficulty", default=None, metavar="LEVEL",
                        help="pin every game's difficulty: a level index or 'max' (default: adaptive)")
    parser.add_argument("--game-options", default=None, metavar="JSON",
                        help="options of the game(s) as a JSON object, e.g. '{\"curriculum\": \"my.yaml\"}' "
                             "(Multi-task) or '{\"randomization\": {\"fog_onset\": {\"integers\": [64, 255]}}}'")


def read_game_arguments(args: argparse.Namespace) -> tuple[str | list[str], dict[str, Any], int | str | None,
                                                          dict[str, Any] | None]:
    """``(game, overrides, difficulty, game_options)``: ``--game`` as :func:`metammo.make` takes
    it (comma-separated names become a list), ``--set``'s config overrides, checked to be keys
    and values ``--config`` takes, ``--difficulty`` as an int, ``"max"`` or None, and
    ``--game-options`` as a dict (None when not given; :func:`metammo.make` checks its keys).

    Raises:
        ValueError: an unknown config preset, a ``--set`` item without ``=``, an unknown config
            key or a bad value, a ``--difficulty`` that is neither an index nor ``max``,
            ``--game-options`` that is not a JSON object.
    """
    from metammo.config import check_overrides, make_config, parse_overrides

    make_config(args.config)  # an unknown --config is named as such, not as a bad --set
    game = args.game.split(",") if "," in args.game else args.game
    options = None
    if args.game_options is not None:
        try:
            options = json.loads(args.game_options)
        except json.JSONDecodeError as err:
            raise ValueError(f"--game-options must be a JSON object: {err}") from None
        if not isinstance(options, dict):
            raise ValueError(f"--game-options must be a JSON object, got {args.game_options!r}")
    return (game, check_overrides(args.config, parse_overrides(args.set), "--set"), parse_difficulty(args.difficulty),
            options)


def parse_difficulty(text: str | None) -> int | str | None:
    """``--difficulty`` as an int, ``"max"`` or None (not given).

    Raises:
        ValueError: neither a level index (ASCII digits) nor ``max``.
    """
    if text is None or text == "max":
        return text
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"--difficulty must be a level index (0, 1, ...) or 'max', got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metammo.rollout", description=__doc__.split("\n\n")[0])
    add_game_arguments(parser)
    parser.add_argument("--policy", default="random",
                        help="registered policy playing every agent: random, scripted, ...")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default=None, help="a game's evaluation preset, e.g. eval")
    parser.add_argument("--no-randomize", dest="randomize", action="store_false",
                        help="turn domain randomization off")
    parser.add_argument("--replay", default=None, metavar="PATH",
                        help="record the first episode to PATH (e.g. ep.replay.json.xz); with {episode} "
                             "in PATH, every episode")
    parser.add_argument("--json", action="store_true", help="one JSON line per episode")
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    every_episode = args.replay is not None and "{episode}" in args.replay
    if args.replay is not None:
        first = args.replay.replace("{episode}", "1")
        if os.path.isdir(first) or args.replay.endswith(("/", os.sep)):
            if os.path.isfile(first.rstrip("/" + os.sep)):
                parser.error(f"--replay {args.replay!r} ends with a slash, but {first.rstrip('/' + os.sep)!r} is "
                             "a file; give the path of a file")
            parser.error(f"--replay {args.replay!r} is a folder; give the path of a file, "
                         f"e.g. {os.path.join(args.replay, 'ep.replay.json.xz')}")
        named = range(1, args.episodes + 1) if "{episode}" in os.path.dirname(args.replay) else [args.episodes]
        try:  # before the episodes run, not after (every episode's folder, when the pattern names them)
            for episode in named:
                check_writable(args.replay.replace("{episode}", str(episode)))
        except OSError as err:
            parser.error(f"--replay {args.replay!r}: {err}")
    import metammo
    from metammo.policy import make_policy

    try:
        game, overrides, difficulty, game_options = read_game_arguments(args)
        env = metammo.make(game, args.config, seed=args.seed, randomize=args.randomize, preset=args.preset,
                           difficulty=difficulty, game_options=game_options, record=args.replay is not None,
                           **overrides)
        policy = make_policy(args.policy, env.layout, env.head_sizes, seed=args.seed)
    except ValueError as err:
        parser.error(str(err))
    if env.recorder is not None:
        env.recorder.policies = args.policy
    obs, _ = env.reset(args.seed)
    state = policy.initial_state(env.num_agents)
    done = 0
    start = time.perf_counter()
    while done < args.episodes:
        actions, state = policy.act(obs, state)
        obs, _, _, _, infos = env.step(actions)
        for summary in infos:
            done += 1
            summary["episode"] = done
            summary["policy"] = args.policy
            summary["seconds"] = round(time.perf_counter() - start, 3)
            if env.last_replay is not None:
                path = args.replay.replace("{episode}", str(done)) if every_episode else args.replay
                try:
                    summary["replay"] = str(env.last_replay.save(path))
                except OSError as err:  # writable when the run began
                    print(f"python -m metammo.rollout: {err}", file=sys.stderr)
                    return 1
                env.last_replay = None
                if not every_episode:
                    env.recorder = None
            if args.json:
                print(json.dumps(summary), flush=True)
            else:
                print(f"episode {done}: {summary['game']} ({summary['config']}), policy {args.policy}")
                for key, value in summary.items():  # all but the header's and the long ones below
                    if key not in ("game", "config", "policy", "episode", "winners", "scores", "events"):
                        print(f"  {key:>14}  {value}")
                if "winners" in summary:
                    print(f"  {'winners':>14}  {len(summary['winners'])} agents: {summary['winners'][:16]}")
                print("  " + "  ".join(f"{k}={v}" for k, v in summary["events"].items()))
            start = time.perf_counter()
    return 0


if __name__ == "__main__":
    run(main, "python -m metammo.rollout")
