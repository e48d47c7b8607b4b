"""Evaluate a policy against opponents on chosen games: the Hydra entry point.

    python -m baselines.evaluate                                   # conf/evaluate.yaml
    python -m baselines.evaluate focal=runs/train/.../checkpoints/latest.pt opponents=[scripted]
    python -m baselines.evaluate focal=scripted opponents=[random] games=[team_battle] episodes=4

A *match* is one episode of one game in which the policy plays the *focal* half of the agents
(every other team in team games, every other agent otherwise; the halves swap each episode) and
one opponent the *background* half (:class:`Match`, whose general form, several policies
sharing an episode team by team, the leaderboard uses too). Games run with their evaluation
settings: preset ``eval`` (held-out maps, the preset's difficulty level), randomization off,
episode seeds ``seed .. seed + episodes - 1``, and each game with the entries of
``game_options`` it takes (``+game_options.curriculum=my.yaml``: Multi-task plays that
curriculum's held-out tasks). The score of an agent is the reference's (max task progress + the
winner bonus, :func:`minigames.base.Minigame.scores`); a match yields the mean score of each
side. The printed table gives, per game and opponent, each side's mean score over matches with
a 95% bootstrap confidence interval, and a verdict: ``better`` or ``worse`` when the intervals
do not overlap, else ``tie``. ``results.json`` in the run directory holds the same numbers and
every match.

Policies are named by a registered policy (``random``, ``scripted``) or a checkpoint path.
Matches run in ``workers`` processes.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterable

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from baselines.tracking import show_progress
from baselines.train import BAD_INPUT, CONFIG_PATH, exit_bad_input
from metammo.cli import run
from metammo.config import check_overrides
from metammo.files import write_atomic

log = logging.getLogger(__name__)

#: Game options of every evaluation match.
EVAL_OPTIONS = {"preset": "eval", "randomize": False, "difficulty": "max"}


@dataclass(frozen=True)
class Match:
    """One episode of ``game`` shared by ``policies`` (registered names or checkpoint paths).

    Team ``t`` (agent ``t`` in games without teams) is played by
    ``policies[(t + rotate) % len(policies)]``: with two policies, the first plays the even
    teams and the second the odd ones, swapped when ``rotate`` is 1. With ``record`` the
    episode's replay comes back too, naming each team's policy by ``labels`` (default:
    ``policies``).
    """

    game: str
    config: str
    policies: tuple[str, ...]
    seed: int
    rotate: int = 0
    overrides: dict = field(default_factory=dict)  # engine config keys (e.g. a shorter horizon)
    game_options: dict = field(default_factory=dict)  # the game's options (e.g. a Multi-task curriculum)
    record: bool = False
    labels: tuple[str, ...] = ()


def make_policy(spec: str, env: Any, seed: int) -> Any:
    """The policy ``spec`` (a registered name or a checkpoint path) for ``env``.

    Raises:
        ValueError: an unknown name that is not a file either, or a checkpoint whose layout is
            not the env's (from :func:`baselines.checkpoint.load_policy`).
    """
    from metammo.policy import make_policy as registered, policies

    if os.path.isfile(spec):
        from baselines.checkpoint import load_policy

        policy = load_policy(spec, seed=seed)
        heads, env_heads = [int(h) for h in policy.head_sizes], [int(h) for h in env.head_sizes]
        if policy.layout.size != env.layout.size or heads != env_heads:
            raise ValueError(f"checkpoint {spec} was trained on config {policy.metadata.get('config')!r} (observations "
                             f"of {policy.layout.size} bytes, heads {heads}); this env plays config "
                             f"{env.base_config.name!r} ({env.layout.size} bytes, heads {env_heads})")
        return policy
    if spec not in policies():
        raise ValueError(f"policy {spec!r} is neither a file nor a registered policy; registered: {policies()}")
    return registered(spec, env.layout, env.head_sizes, seed=seed)


def slots(num_agents: int, team_size: int, num_policies: int, rotate: int = 0) -> np.ndarray:
    """``(num_agents,)`` int64: the index of the policy playing each agent, whole teams
    round-robin (see :class:`Match`)."""
    return (np.arange(num_agents) // team_size + rotate) % num_policies


def play(match: Match) -> dict[str, Any]:
    """Play ``match`` to its end.

    Returns the match's fields plus, per policy (lists in ``policies`` order): ``agents`` it
    played, their mean ``scores`` (the reference score, max task progress + winner bonus) and
    ``win_rates``; the episode ``length``; in games that report task categories (Multi-task),
    ``completion``, per policy the fraction of its agents that completed their task, by
    category; with ``record``, ``replay``, the replay file's bytes.
    """
    import torch

    import metammo

    torch.set_num_threads(1)
    env = metammo.make(match.game, match.config, seed=match.seed, autoreset=False, record=match.record,
                       **EVAL_OPTIONS, game_options=match.game_options, **match.overrides)
    specs = list(match.policies)
    players = [make_policy(spec, env, match.seed + i) for i, spec in enumerate(specs)]
    obs, _ = env.reset(match.seed)
    team_size = env.config.tunables.team_size  # the episode's config: known after the reset
    slot = slots(env.num_agents, team_size, len(specs), match.rotate)
    rows = [slot == i for i in range(len(specs))]
    if match.record:
        labels = list(match.labels or specs)
        env.recorder.policies = {t: labels[int(slot[t * team_size])] for t in range(env.num_agents // team_size)}
    states = [p.initial_state(int(r.sum())) for p, r in zip(players, rows)]
    actions = np.zeros((env.num_agents, len(env.head_sizes)), np.int32)
    while True:
        for i, p in enumerate(players):  # each policy sees only its own agents' rows
            actions[rows[i]], states[i] = p.act(obs[rows[i]], states[i])
        obs, _, _, _, infos = env.step(actions)
        if infos:
            break
    summary = infos[0]
    scores = np.asarray(summary["scores"])
    won = np.zeros(env.num_agents, bool)
    won[summary["winners"]] = True
    result = asdict(match)
    result["policies"], result["labels"] = specs, list(match.labels)
    result["agents"] = [int(r.sum()) for r in rows]
    result["scores"] = [float(scores[r].mean()) if r.any() else float("nan") for r in rows]
    result["win_rates"] = [float(won[r].mean()) if r.any() else float("nan") for r in rows]
    result["length"] = summary["length"]
    if "categories" in summary:
        category, done = np.asarray(summary["categories"]), np.asarray(summary["completed"], bool)
        result["completion"] = [{c: float(done[r & (category == c)].mean()) for c in sorted(set(category[r]))}
                                for r in rows]
    if match.record:
        result["replay"] = env.last_replay.to_bytes()
    return result


def _leave_ctrl_c_to_the_parent() -> None:
    """A worker ignores SIGINT (Ctrl-C reaches the whole process group): the parent cancels the
    queued matches and waits for the running ones, with no traceback from every worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_matches(matches: list[Match], workers: int = 1, on_result: Callable[[dict], None] = lambda r: None
                ) -> list[dict[str, Any]]:
    """Play ``matches`` in ``workers`` processes (1: in this one); results in ``matches`` order.
    ``on_result`` is called as each finishes (for progress bars, or to store it). When anything
    raises (Ctrl-C's KeyboardInterrupt, a failed match, ``on_result``), the matches not yet
    started are cancelled: only those under way are waited for."""
    if workers <= 1:
        results = []
        for m in matches:
            results.append(play(m))
            on_result(results[-1])
        return results
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_leave_ctrl_c_to_the_parent)
    try:
        futures = [pool.submit(play, m) for m in matches]
        for future in futures:
            on_result(future.result())
        return [f.result() for f in futures]
    finally:
        pool.shutdown(cancel_futures=True)


def bootstrap_means(x: np.ndarray, rng: np.random.Generator, resamples: int = 2000) -> np.ndarray:
    """``(resamples,)`` float64: the means of ``resamples`` resamples of ``x`` (1-D, not empty)
    drawn with replacement from ``rng``, the draws of a percentile bootstrap."""
    return x[rng.integers(0, x.size, (resamples, x.size))].mean(1)


def bootstrap_ci(values: Iterable[float], seed: int = 0, resamples: int = 2000, level: float = 0.95
                 ) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its percentile-bootstrap confidence
    interval at ``level`` (``resamples`` resamples from a Generator seeded with ``seed``).

    Raises:
        ValueError: no values.
    """
    x = np.asarray(list(values), np.float64)
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    means = bootstrap_means(x, np.random.default_rng(seed), resamples)
    tail = (1 - level) / 2
    return float(x.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (game, opponent) rows of two-policy results (the focal policy first): matches, each
    side's mean score with its 95% interval, win rates, and the verdict (``better``, ``worse``,
    ``tie``) of the focal side."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["game"], r["policies"][1]), []).append(r)
    rows = []
    for (game, opponent), rs in groups.items():
        row: dict[str, Any] = {"game": game, "opponent": opponent, "matches": len(rs)}
        for i, side in enumerate(("focal", "background")):
            mean, low, high = bootstrap_ci([r["scores"][i] for r in rs])
            row[side] = {"score": mean, "low": low, "high": high,
                         "win_rate": float(np.mean([r["win_rates"][i] for r in rs]))}
        f, b = row["focal"], row["background"]
        row["verdict"] = "better" if f["low"] > b["high"] else "worse" if f["high"] < b["low"] else "tie"
        rows.append(row)
    return rows


def matches_for(policy: str, opponents: list[str], games: list[str], config: str, episodes: int, seed: int,
                overrides: dict | None = None, game_options: dict | None = None) -> list[Match]:
    """Every (game, opponent, episode) match of ``policy`` (focal, first) against ``opponent``;
    sides swap on odd episodes. Each game gets the entries of ``game_options`` it takes."""
    from metammo.game import game_class, own_options

    return [Match(game, config, (policy, opponent), seed + e, rotate=e % 2, overrides=dict(overrides or {}),
                  game_options=own_options(game_class(game), game_options))
            for game in games for opponent in opponents for e in range(episodes)]


def print_table(rows: list[dict[str, Any]], policy: str) -> None:
    """Print ``rows`` (from :func:`summarize`) as a table."""
    table = Table(title=f"{policy}: mean score per agent (95% CI)")
    for col in ("game", "opponent", "matches", "focal score", "opponent score", "verdict"):
        table.add_column(col)
    fmt = lambda s: f"{s['score']:.3f} [{s['low']:.3f}, {s['high']:.3f}]"
    for row in rows:
        table.add_row(row["game"], row["opponent"], str(row["matches"]), fmt(row["focal"]), fmt(row["background"]),
                      row["verdict"])
    Console(width=120).print(table)


def _played(options: dict, takes: set[str]) -> dict:
    """The entries of game ``options`` that change what an evaluation of games taking the options
    ``takes`` plays (not ``randomization``: evaluation plays none)."""
    return {k: v for k, v in options.items() if k in takes and k != "randomization"}


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="evaluate")
def main(cfg: DictConfig) -> None:
    import metammo
    from metammo.game import game_class, option_names, own_options, pack_games, pack_names

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    opponents = [cfg.opponents] if isinstance(cfg.opponents, str) else list(cfg.opponents)
    try:  # fail before playing: counts, unknown games, configs, config keys, policies
        show = show_progress(cfg.progress)
        games = (list(cfg.games) if not isinstance(cfg.games, str)
                 else list(pack_games(cfg.games)) if cfg.games in pack_names() else [cfg.games])
        if cfg.episodes < 2 or cfg.workers < 1 or not games or not opponents:
            raise ValueError(f"evaluation needs episodes >= 2 (a confidence interval), workers >= 1 and at least "
                             f"one game and one opponent; got episodes={cfg.episodes}, workers={cfg.workers}, "
                             f"games={games}, opponents={opponents}")
        overrides = check_overrides(cfg.config, OmegaConf.to_container(cfg.overrides, resolve=True), "overrides")
        game_options = OmegaConf.to_container(cfg.game_options, resolve=True)
        if set(game_options) & set(EVAL_OPTIONS):
            raise ValueError(f"game_options: {sorted(set(game_options) & set(EVAL_OPTIONS))} are the evaluation's own "
                             f"({EVAL_OPTIONS}); give other options")
        takes = set().union(*(option_names(game_class(game)) for game in games)) - set(EVAL_OPTIONS)
        if set(game_options) - takes:
            raise ValueError(f"game_options: no game of {games} takes {sorted(set(game_options) - takes)}; "
                             f"options: {sorted(takes)}")
        for game in games:
            own = own_options(game_class(game), game_options)
            env = metammo.make(game, cfg.config, **EVAL_OPTIONS, game_options=own, **overrides)
            focal, *_ = [make_policy(spec, env, 0) for spec in [cfg.focal, *opponents]]
    except BAD_INPUT as err:
        exit_bad_input(err, log)
    trained = _played(getattr(focal, "metadata", {}).get("game_options") or {}, takes)
    if trained and trained != _played(game_options, takes):
        log.warning("focal %s was trained with game options %s; this evaluation plays %s (set them with "
                    "+game_options.KEY=VALUE)", cfg.focal, trained, _played(game_options, takes))
    matches = matches_for(cfg.focal, opponents, games, cfg.config, cfg.episodes, cfg.seed, overrides, game_options)
    log.info("%d matches (%d games x %d opponents x %d episodes) in %d workers", len(matches), len(games),
             len(opponents), cfg.episodes, cfg.workers)
    with Progress(disable=not show) as bar:
        task = bar.add_task("matches", total=len(matches))
        results = run_matches(matches, cfg.workers, lambda r: bar.advance(task))
    rows = summarize(results)
    out = {"focal": cfg.focal, "config": OmegaConf.to_container(cfg, resolve=True), "rows": rows,
           "matches": results}
    write_atomic(run_dir / "results.json", json.dumps(out, indent=1).encode())
    print_table(rows, cfg.focal)
    print(f"results: {run_dir / 'results.json'}")


if __name__ == "__main__":
    run(main, "python -m baselines.evaluate")
