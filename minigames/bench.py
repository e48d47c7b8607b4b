"""Speed of every game against ``sandbox`` on the same config: the minigames' speed table.

    python -m minigames.bench --rounds 3 --seconds 5

Each row is :mod:`metammo.bench` (``python -m metammo.bench --game G --config C --seconds S
--json``, random valid actions, 128 agents), run in a fresh process as that command is. The
runs are interleaved: each round plays ``sandbox`` and then every game on each config, so a
game and its sandbox are measured minutes apart at most, and a game's ratio to the sandbox is
the median over rounds of the ratio within a round (the machine's load drifts between rounds;
within one it moves both). Figures per row, medians over rounds:

* ``agent-steps/s``: every agent's row each tick, dead or alive (the vector env's count), and
  ``vs sandbox``, its ratio (the minigames issue's target: within 20%, i.e. >= 0.8);
* ``alive``: mean agents alive when a tick begins; ``live agent-steps/s`` counts only those
  (the engine's work follows them), and its ratio to the sandbox's;
* ``hooks`` and ``resets``: fractions of the engine's time in the game's hooks and in starting
  episodes; ``ticks/episode`` (over runs in which an episode ended; ``-`` when none did);
  ``levels``: the share of timed ticks per difficulty level.

Prints a Markdown table (``--json``: one JSON line per run instead, the raw
:mod:`metammo.bench` output plus ``round``). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from metammo.cli import run

BASELINE = "sandbox"


def plan(games: dict[str, Sequence[str]], configs: Sequence[str]) -> list[tuple[str, str]]:
    """The ``(game, config)`` runs of one round: per config, ``sandbox`` first, then every other
    game of ``games`` (``{name: supported configs}``) that supports it, in the given order.

    Raises:
        ValueError: a config no game supports (the message lists those some game supports).
    """
    known = sorted({c for supported in games.values() for c in supported})
    runs = []
    for config in configs:
        if config not in known:
            raise ValueError(f"no game supports config {config!r}; configs: {known}")
        runs.append((BASELINE, config))
        runs += [(name, config) for name, supported in games.items() if name != BASELINE and config in supported]
    return runs


def table(records: Iterable[dict]) -> list[dict]:
    """One row per ``(game, config)`` of :mod:`metammo.bench` JSON records (each with a
    ``round``): medians over rounds, ratios to the same round's ``sandbox`` run on the config.

    Returns rows in first-seen order, each ``{"game", "config", "agent_steps_per_s", "runs",
    "vs_sandbox", "alive", "live_agent_steps_per_s", "live_vs_sandbox", "hooks", "resets",
    "ticks_per_episode", "levels"}``; ``levels`` maps a level (str) to its share of the timed
    ticks, ``"-"`` for a game without levels. A ratio is None when no round has a sandbox run.
    """
    runs: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        runs[record["game"], record["config"]].append(record)
    baseline = {(r["config"], r["round"]): r for (game, _), rs in runs.items() if game == BASELINE for r in rs}

    def ratio(rs: list[dict], key: str) -> float | None:
        pairs = [r[key] / baseline[r["config"], r["round"]][key] for r in rs if (r["config"], r["round"]) in baseline]
        return statistics.median(pairs) if pairs else None

    rows = []
    for (game, config), rs in runs.items():
        levels: Counter[str] = Counter()
        for r in rs:
            levels.update(r["difficulty_ticks"].get(game, {}))
        total = sum(levels.values())
        rows.append({
            "game": game,
            "config": config,
            "agent_steps_per_s": statistics.median(r["agent_steps_per_s"] for r in rs),
            "runs": [r["agent_steps_per_s"] for r in rs],
            "vs_sandbox": ratio(rs, "agent_steps_per_s"),
            "alive": statistics.median(r["live_agents_per_tick"] for r in rs),
            "live_agent_steps_per_s": statistics.median(r["live_agent_steps_per_s"] for r in rs),
            "live_vs_sandbox": ratio(rs, "live_agent_steps_per_s"),
            "hooks": statistics.median(r["game_hooks_share"] for r in rs),
            "resets": statistics.median(r["reset_share"] for r in rs),
            "ticks_per_episode": statistics.median(ended) if (ended := [
                r["env_steps"] / r["episodes"] for r in rs if r["episodes"]]) else None,
            "levels": ({level: n / total for level, n in sorted(levels.items(), key=lambda kv: int(kv[0]))}
                       if rs[0]["difficulty"] != "none" and total else "-"),
        })
    return rows


def markdown(rows: list[dict]) -> str:
    """The rows of :func:`table` as a Markdown table (millions of steps per second, runs in
    brackets; levels played under 0.5% of the ticks left out)."""

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        "| game | config | agent-steps/s (runs) | vs sandbox | alive | live agent-steps/s | vs sandbox "
        "| hooks | resets | ticks/episode | levels (share of ticks) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        runs = ", ".join(f"{x / 1e6:.2f}" for x in row["runs"])
        ticks = "-" if row["ticks_per_episode"] is None else f"{row['ticks_per_episode']:.0f}"
        levels = row["levels"] if isinstance(row["levels"], str) else ", ".join(
            f"{level}: {share:.0%}" for level, share in row["levels"].items() if share >= 0.005)
        lines.append(
            f"| `{row['game']}` | {row['config']} | {row['agent_steps_per_s'] / 1e6:.2f}M ({runs}) "
            f"| {ratio(row['vs_sandbox'])} | {row['alive']:.0f} | {row['live_agent_steps_per_s'] / 1e6:.2f}M "
            f"| {ratio(row['live_vs_sandbox'])} | {row['hooks']:.0%} | {row['resets']:.0%} "
            f"| {ticks} | {levels} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from metammo.game import game_class, game_names, pack_games, pack_names, repeated
    from metammo.rollout import parse_difficulty

    known = game_names()
    parser = argparse.ArgumentParser(prog="python -m minigames.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", default=None,
                        help=f"comma-separated games or packs (default: every registered game: {','.join(known)})")
    parser.add_argument("--configs", default=None,
                        help="comma-separated configs (default: every config the games play, of mini,full)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per run (default 5)")
    parser.add_argument("--difficulty", default=None, metavar="LEVEL",
                        help="pin every game's difficulty: a level index or 'max' (default: adaptive; "
                             "games without levels, such as the sandbox, play their one)")
    parser.add_argument("--json", action="store_true", help="one JSON line per run instead of the table")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    if not 0 < args.seconds < math.inf:
        parser.error(f"--seconds must be a finite number > 0, got {args.seconds}")
    packs = pack_names()
    named = [] if args.games is None else args.games.split(",")
    chosen = known if args.games is None else [
        game for name in named for game in (pack_games(name) if name in packs else [name])]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        parser.error(f"unknown game(s) {unknown}; games: {sorted(known)}; packs: {packs}")
    supported = {name: tuple(game_class(name).configs) for name in chosen}
    configs = [c for c in ("mini", "full") if any(c in s for s in supported.values())] if args.configs is None \
        else args.configs.split(",")
    for option, names in (("--games", chosen), ("--configs", configs)):
        if repeated(names):
            in_packs = {name: list(pack_games(name)) for name in named if name in packs and option == "--games"}
            parser.error(f"{option} names {repeated(names)} more than once"
                         + (f" (packs name their games: {in_packs})" if in_packs else ""))
    idle = [f"{name} (plays {list(s)})" for name, s in supported.items()
            if args.games is not None and name != BASELINE and not set(s) & set(configs)]
    if idle:  # the games named; by default each game plays the configs it has
        parser.error(f"no config of --configs {configs} is played by {', '.join(idle)}")
    try:
        runs = plan(supported, configs)
        difficulty = parse_difficulty(args.difficulty)
    except ValueError as err:
        parser.error(str(err))
    levels = {name: len(game_class(name).difficulty_levels) for name, _ in runs}
    if isinstance(difficulty, int):
        fewest = min((n for n in levels.values() if n), default=1)  # without levels: just the one, 0
        if difficulty >= fewest:
            parser.error(f"--difficulty must be 'max' or a level index every game has (games without "
                         f"levels play their one, 0), got {args.difficulty!r}; levels per game: {levels}")

    from rich.console import Console
    from rich.progress import Progress

    records = []
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        bar = progress.add_task("bench", total=args.rounds * len(runs))
        for round_ in range(args.rounds):
            for game, config in runs:
                progress.update(bar, description=f"round {round_ + 1}: {game} {config}")
                pin = ["--difficulty", args.difficulty] if args.difficulty is not None and levels[game] else []
                command = [sys.executable, "-m", "metammo.bench", "--game", game, "--config", config,
                           "--seconds", str(args.seconds), "--json", *pin]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    sys.stderr.write(done.stderr)
                    print(f"python -m minigames.bench: {' '.join(command[1:])} failed "
                          f"(exit {done.returncode})", file=sys.stderr)
                    return done.returncode
                record = {**json.loads(done.stdout.splitlines()[-1]), "round": round_}
                if args.json:
                    print(json.dumps(record), flush=True)
                records.append(record)
                progress.advance(bar)
    if not args.json:
        print(markdown(table(records)))
    return 0


if __name__ == "__main__":
    run(main, "python -m minigames.bench")
