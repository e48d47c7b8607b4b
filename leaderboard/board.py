"""Submitting, scoring, rating and reading the leaderboard.

Scoring (:func:`submit`). The entry plays the focal slots of every scenario of the suite its
config allows (:mod:`leaderboard.suite`), each episode stored as it finishes (one transaction
each), so an interrupted submission resumes where it stopped when re-run with the same name and
checkpoint. Episodes are deterministic given the suite version (seeds, maps, policy sampling
seeds), so the same checkpoint gets the same scores.

Scores (:func:`standings`). An entry's score on a scenario is the mean, over its episodes, of
its agents' mean reference score (max task progress + winner bonus, rules.md §2), normalized
between the suite's ``zero`` entry (random: 0) and ``one`` entry (the reference generalist: 1)
on the same scenario: ``(s - zero) / (one - zero)``. A column (game/config) averages its
scenarios; the overall score averages the columns the entry played, leaving out a column whose
normalization is degenerate (zero and one entries within :data:`MIN_SPAN` of each other).
Intervals are 95% percentile bootstraps over episodes (2,000 resamples, seeded, so they are
reproducible), the reference means held fixed. Multi-task adds its focal agents' completion per task category.

Ratings (:func:`rating_round`). After scoring, the entry meets, in the suite's PvP games, the
current top :data:`TOP_K` other entries by ordinal that play the game's config and the anchor
bot (:data:`leaderboard.suite.ANCHOR`), teams dealt round-robin. Each episode ranks the entries
by their agents' mean score and updates OpenSkill (Plackett-Luce) ratings; the anchor's rating
stays at the prior (mu 25, sigma 25/3), pinning the scale. The round, its episodes and the new
ratings (computed from the ratings as committed when the transaction starts) are one
transaction, with the evaluation row that marks the entry scored. Ratings, like scores, belong
to a suite version: a new version starts every entry from the prior.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from leaderboard.db import LeaderboardError, now, transaction
from leaderboard.suite import ANCHOR, GENERALIST, REFERENCES, Suite

#: Other entries (best by ordinal) each new entry meets in its rating round.
TOP_K = 2
#: Offset of PvP episode seeds from the suite's seed.
PVP_SEED_OFFSET = 500_000
BOOTSTRAP_RESAMPLES = 2000
#: Smallest ``one - zero`` gap (score units: task progress) a scenario is normalized with; below
#: it the reference entries do not tell the game apart and the score is reported as n/a.
MIN_SPAN = 0.01
NAME_MAX = 64


@dataclass(frozen=True)
class Entry:
    id: int
    name: str
    reference: bool
    policy: str | None  # registered policy, or None for a checkpoint
    sha256: str | None
    config: str | None  # the config it plays; None: any
    metadata: dict

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Entry":
        return cls(row["id"], row["name"], bool(row["reference"]), row["policy"], row["checkpoint_sha256"],
                   row["config"], json.loads(row["metadata"]))

    def plays(self, config: str) -> bool:
        return self.config is None or self.config == config


# --- checkpoints and entries ---------------------------------------------------------------------


def read_checkpoint(path: str | Path) -> tuple[bytes, dict]:
    """``(bytes, metadata)`` of the checkpoint at ``path``, fully checked before anything runs:
    loaded with ``torch.load(weights_only=True)`` (code inside is never executed), a known
    architecture, this engine's observation layout and heads for its config, every weight
    present, of its shape and finite (:func:`baselines.checkpoint.read` and ``build``).

    Raises:
        LeaderboardError: any of those checks fails; the message names the problem.
    """
    from baselines import checkpoint
    from metammo import actions
    from metammo.config import make_config
    from metammo.observation import Layout
    from leaderboard.suite import CONFIGS

    path = Path(path)
    try:
        payload = checkpoint.read(path)
        checkpoint.build(payload, str(path))
    except (ValueError, FileNotFoundError) as err:
        raise LeaderboardError(str(err)) from None
    meta = payload["metadata"]
    config = meta.get("config")
    if config not in CONFIGS:
        raise LeaderboardError(f"{path}: metadata config {config!r} is not one of {list(CONFIGS)}")
    shape = make_config(config).shape
    size, heads = Layout(shape).size, [int(h) for h in actions.head_sizes(shape)]
    if meta["layout_size"] != size or list(meta["head_sizes"]) != heads:
        raise LeaderboardError(f"{path}: observations of {meta['layout_size']} bytes and heads {meta['head_sizes']} do "
                               f"not fit the {config} config ({size} bytes, heads {heads})")
    return path.read_bytes(), meta


def entries(conn: sqlite3.Connection) -> list[Entry]:
    return [Entry.from_row(r) for r in conn.execute("SELECT * FROM submissions ORDER BY id")]


def entry(conn: sqlite3.Connection, name: str) -> Entry | None:
    row = conn.execute("SELECT * FROM submissions WHERE name = ?", (name,)).fetchone()
    return Entry.from_row(row) if row else None


def ensure_references(conn: sqlite3.Connection) -> None:
    """Insert the reference entries (:data:`REFERENCES`) missing from the board, in one
    transaction; the generalist's checkpoint bytes go into the database like any entry's."""
    missing = [name for name in REFERENCES if entry(conn, name) is None]
    if not missing:
        return
    rows = []
    for name in missing:
        spec, config = REFERENCES[name]
        if spec is None:  # the shipped checkpoint
            data, meta = read_checkpoint(GENERALIST)
            rows.append((name, None, hashlib.sha256(data).hexdigest(), data, meta["config"], json.dumps(meta)))
        else:
            rows.append((name, spec, None, None, config, json.dumps({"policy": spec})))
    with transaction(conn):
        conn.executemany("INSERT INTO submissions (name, reference, policy, checkpoint_sha256, checkpoint, config, "
                         "metadata, created_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?)", [(*r, now()) for r in rows])


def check_name(name: str) -> None:
    """Raises LeaderboardError unless ``name`` is 1..64 printable characters, not padded, and
    not a reference entry's."""
    if not isinstance(name, str) or not 0 < len(name) <= NAME_MAX or not name.isprintable() or name != name.strip():
        raise LeaderboardError(f"entry name must be 1 to {NAME_MAX} printable characters without surrounding spaces, "
                               f"got {name!r}")
    if name in REFERENCES:
        raise LeaderboardError(f"{name!r} is a reference entry's name; reserved: {list(REFERENCES)}")


def claim(conn: sqlite3.Connection, name: str, data: bytes, meta: dict, suite: Suite) -> Entry:
    """The entry ``name`` for the checkpoint ``data`` to score on ``suite`` (the reference
    entries are added first to a new board): a new row, or the existing one when the same name and checkpoint were
    submitted before and not yet scored on ``suite`` (resuming, or another suite).

    Raises:
        LeaderboardError: a bad or reserved name, a name taken by another checkpoint, a
            checkpoint already on the board under another name, or already scored on ``suite``.
    """
    check_name(name)
    ensure_references(conn)
    sha = hashlib.sha256(data).hexdigest()
    same_name = entry(conn, name)
    if same_name is not None:
        if same_name.sha256 != sha:
            raise LeaderboardError(f"an entry named {name!r} is already on the leaderboard with another checkpoint; "
                                   f"choose another name")
        if evaluated(conn, same_name, suite):
            raise LeaderboardError(f"{name!r} is already scored on suite {suite.name} v{suite.version}; nothing to do")
        return same_name
    row = conn.execute("SELECT name FROM submissions WHERE checkpoint_sha256 = ?", (sha,)).fetchone()
    if row is not None:
        raise LeaderboardError(f"this checkpoint (sha256 {sha[:12]}) is already on the leaderboard as {row['name']!r}")
    with transaction(conn):
        conn.execute("INSERT INTO submissions (name, reference, policy, checkpoint_sha256, checkpoint, config, "
                     "metadata, created_at) VALUES (?, 0, NULL, ?, ?, ?, ?, ?)",
                     (name, sha, data, meta["config"], json.dumps(meta), now()))
    return entry(conn, name)


def evaluated(conn: sqlite3.Connection, e: Entry, suite: Suite) -> bool:
    return conn.execute("SELECT 1 FROM evaluations WHERE submission_id = ? AND suite = ? AND suite_version = ?",
                        (e.id, suite.name, suite.version)).fetchone() is not None


class Specs:
    """Policy specs for worker processes: registered names, or checkpoint files written from
    the database into a temporary folder (removed by :meth:`close`)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.dir = tempfile.TemporaryDirectory(prefix="metammo-leaderboard-")

    def __call__(self, e: Entry) -> str:
        if e.policy is not None:
            return e.policy
        path = Path(self.dir.name) / f"{e.sha256}.pt"
        if not path.exists():
            (data,) = self.conn.execute("SELECT checkpoint FROM submissions WHERE id = ?", (e.id,)).fetchone()
            path.write_bytes(data)
        return str(path)

    def close(self) -> None:
        self.dir.cleanup()


# --- scoring -------------------------------------------------------------------------------------


def score(conn: sqlite3.Connection, e: Entry, suite: Suite, specs: Specs, workers: int,
          on_result: Callable[[], None] = lambda: None) -> int:
    """Play ``e``'s missing scoring episodes of ``suite``, storing each as it finishes.
    Returns the number of episodes played."""
    from baselines.evaluate import Match, run_matches

    done = {(r["scenario"], r["episode"]) for r in conn.execute(
        "SELECT scenario, episode FROM episodes WHERE focal_id = ? AND suite = ? AND suite_version = ?",
        (e.id, suite.name, suite.version))}
    todo = []
    for sc in suite.scenarios_for(e.config):
        background = entry(conn, sc.background) if sc.background else None
        players = [e] + ([background] if background else [])
        for ep in range(sc.episodes):
            if (sc.name, ep) not in done:
                match = Match(sc.game, sc.config, tuple(specs(p) for p in players), suite.seed + ep, rotate=ep % 2,
                              overrides=sc.overrides, record=ep < suite.replays, labels=tuple(p.name for p in players))
                todo.append((sc, ep, players, match))

    def store(result: dict[str, Any]) -> None:
        sc, ep, players, _ = todo[len(stored)]
        stored.append(result)
        details = {"rotate": result["rotate"]}
        if "completion" in result:
            details["completion"] = result["completion"][0]
        with transaction(conn):
            cur = conn.execute(
                "INSERT INTO episodes (suite, suite_version, scenario, focal_id, episode, seed, length, details, "
                "replay, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (suite.name, suite.version, sc.name, e.id, ep, result["seed"], result["length"], json.dumps(details),
                 result.get("replay"), now()))
            for i, (p, role) in enumerate(zip(players, ("focal", "background"))):
                conn.execute("INSERT INTO results (episode_id, submission_id, role, agents, score, win_rate) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (cur.lastrowid, p.id, role, result["agents"][i], result["scores"][i],
                              result["win_rates"][i]))
        on_result()

    stored: list[dict] = []
    run_matches([m for *_, m in todo], workers, store)
    return len(todo)


def episodes_to_score(conn: sqlite3.Connection, e: Entry, suite: Suite) -> int:
    played = conn.execute("SELECT count(*) FROM episodes WHERE focal_id = ? AND suite = ? AND suite_version = ?",
                          (e.id, suite.name, suite.version)).fetchone()[0]
    return sum(sc.episodes for sc in suite.scenarios_for(e.config)) - played


# --- ratings -------------------------------------------------------------------------------------


#: The rating rows of one suite version (ratings are per suite and version, like scores).
_SUITE_RATINGS = ("SELECT r.round_id, r.submission_id, r.mu, r.sigma FROM ratings r JOIN rounds ro "
                  "ON ro.id = r.round_id WHERE ro.suite = ? AND ro.suite_version = ?")


def current_ratings(conn: sqlite3.Connection, suite: Suite) -> dict[int, tuple[float, float]]:
    """``{entry id: (mu, sigma)}`` from each rated entry's latest round of ``suite``'s version."""
    latest: dict[int, tuple[float, float]] = {}
    for _, i, mu, sigma in conn.execute(_SUITE_RATINGS + " ORDER BY r.round_id", (suite.name, suite.version)):
        latest[i] = (mu, sigma)
    return latest


def ordinal(mu: float, sigma: float) -> float:
    """The conservative rating, mu - 3 sigma (openskill's ``ordinal``)."""
    return mu - 3 * sigma


def rating_round(conn: sqlite3.Connection, e: Entry, suite: Suite, specs: Specs, workers: int,
                 on_result: Callable[[], None] = lambda: None) -> None:
    """Play ``e``'s PvP round of ``suite``, rate it, and mark its evaluation complete: one
    transaction (see the module docstring)."""
    from openskill.models import PlackettLuce

    from baselines.evaluate import Match, run_matches

    model = PlackettLuce()
    ratings = current_ratings(conn, suite)  # to pick the rivals; the update re-reads them below
    scored = {r[0] for r in conn.execute("SELECT DISTINCT submission_id FROM evaluations WHERE suite = ? AND "
                                         "suite_version = ?", (suite.name, suite.version))}
    anchor = entry(conn, ANCHOR)
    rivals = [o for o in entries(conn) if o.id not in (e.id, anchor.id) and o.id in scored]
    plan = []
    for game in suite.pvp_for(e.config):
        others = [o for o in rivals if o.plays(game.config)]
        others.sort(key=lambda o: -ordinal(*ratings.get(o.id, (model.mu, model.sigma))))
        players = [e] + others[:TOP_K] + ([anchor] if anchor.id != e.id else [])
        if len(players) < 2:
            continue
        for ep in range(game.episodes):
            plan.append((game, ep, players, Match(game.game, game.config, tuple(specs(p) for p in players),
                                                  suite.seed + PVP_SEED_OFFSET + ep, rotate=ep,
                                                  overrides=game.overrides, labels=tuple(p.name for p in players))))
    results = run_matches([m for *_, m in plan], workers, lambda r: on_result())

    with transaction(conn):
        ratings = current_ratings(conn, suite)  # as committed now, not when the matches began
        current = {i: model.rating(*ratings.get(i, (model.mu, model.sigma))) for _, _, ps, _ in plan for i in
                   (p.id for p in ps)}
        round_id = None
        if plan:
            round_id = conn.execute("INSERT INTO rounds (suite, suite_version, trigger_id, created_at) "
                                    "VALUES (?, ?, ?, ?)", (suite.name, suite.version, e.id, now())).lastrowid
        for (game, ep, players, _), result in zip(plan, results):
            scores = np.nan_to_num(np.asarray(result["scores"]), nan=-np.inf)
            placement = [1 + int((scores > s).sum()) for s in scores]  # 1 best; ties share a place
            cur = conn.execute(
                "INSERT INTO episodes (suite, suite_version, scenario, round_id, episode, seed, length, details, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (suite.name, suite.version, game.name, round_id, ep, result["seed"], result["length"],
                 json.dumps({"rotate": result["rotate"]}), now()))
            for i, p in enumerate(players):
                conn.execute("INSERT INTO results (episode_id, submission_id, role, agents, score, win_rate, placement) "
                             "VALUES (?, ?, 'pvp', ?, ?, ?, ?)",
                             (cur.lastrowid, p.id, result["agents"][i], result["scores"][i], result["win_rates"][i],
                              placement[i]))
            rated = model.rate([[current[p.id]] for p in players], ranks=placement)
            for p, (r,) in zip(players, rated):
                if p.id != anchor.id:
                    current[p.id] = r
        for i, r in current.items():
            if i != anchor.id:
                conn.execute("INSERT INTO ratings (round_id, submission_id, mu, sigma) VALUES (?, ?, ?, ?)",
                             (round_id, i, r.mu, r.sigma))
        conn.execute("INSERT INTO evaluations (submission_id, suite, suite_version, finished_at) VALUES (?, ?, ?, ?)",
                     (e.id, suite.name, suite.version, now()))


def pvp_episodes(conn: sqlite3.Connection, e: Entry, suite: Suite) -> int:
    return sum(g.episodes for g in suite.pvp_for(e.config))


# --- reading -------------------------------------------------------------------------------------


def standings(conn: sqlite3.Connection, suite: Suite) -> dict[str, Any]:
    """The board of ``suite``: ``columns`` (game/config, in suite order) and ``rows``, best
    overall first, each with the entry's name, reference flag, config, metadata, ``overall``
    and per-column ``scores`` (``{"score", "low", "high"}``, normalized; ``None`` where not
    played), ``raw`` per-scenario mean scores, ``completion`` (Multi-task), ``rating`` (mu,
    sigma, ordinal) and ``replays`` (scenario, episode, episode id). A score whose
    normalization is degenerate (zero and one entries within :data:`MIN_SPAN`) has None
    values. Entries count once their evaluation on this suite version is complete."""
    from baselines.evaluate import bootstrap_means

    columns = list(dict.fromkeys(sc.column for sc in suite.scenarios))
    ratings = current_ratings(conn, suite)
    everyone = entries(conn)
    scored = [e for e in everyone if evaluated(conn, e, suite)]
    focal: dict[tuple[int, str], np.ndarray] = {}
    for r in conn.execute("SELECT ep.focal_id, ep.scenario, res.score FROM episodes ep JOIN results res "
                          "ON res.episode_id = ep.id AND res.role = 'focal' WHERE ep.suite = ? AND ep.suite_version = ? "
                          "ORDER BY ep.focal_id, ep.scenario, ep.episode", (suite.name, suite.version)):
        focal.setdefault((r[0], r[1]), []).append(r[2])
    by_name = {e.name: e for e in everyone}

    def reference_mean(name: str, scenario: str) -> float:
        values = focal.get((by_name[name].id, scenario))
        return float(np.mean(values)) if values else float("nan")

    rows = []
    for e in scored:
        rng = np.random.default_rng(0)
        draws: dict[str, list[np.ndarray]] = {}
        points: dict[str, list[float]] = {}
        raw = {}
        for sc in suite.scenarios_for(e.config):
            x = np.asarray(focal.get((e.id, sc.name), []), np.float64)
            if x.size == 0:
                continue
            raw[sc.name] = float(x.mean())
            zero, one = (reference_mean(n, sc.name) for n in suite.normalize[sc.config])
            span = one - zero
            norm = (x - zero) / span if abs(span) >= MIN_SPAN else np.full_like(x, np.nan)
            resampled = bootstrap_means(norm, rng, BOOTSTRAP_RESAMPLES)
            draws.setdefault(sc.column, []).append(resampled)
            points.setdefault(sc.column, []).append(float(norm.mean()))
        scores: dict[str, Any] = {c: None for c in columns}
        column_draws = []
        for c in draws:
            d = np.mean(draws[c], axis=0)
            column_draws.append(d)
            scores[c] = _interval(float(np.mean(points[c])), d)
        with np.errstate(all="ignore"), warnings.catch_warnings():  # a degenerate column is left out
            warnings.simplefilter("ignore", RuntimeWarning)
            overall = (_interval(float(np.nanmean([np.mean(points[c]) for c in points])),
                                 np.nanmean(column_draws, axis=0)) if column_draws else None)
        mu, sigma = ratings.get(e.id, (25.0, 25.0 / 3))
        rows.append({
            "name": e.name, "reference": e.reference, "config": e.config or "any", "metadata": e.metadata,
            "overall": overall, "scores": scores, "raw": raw, "completion": _completion(conn, e, suite),
            "rating": {"mu": mu, "sigma": sigma, "ordinal": ordinal(mu, sigma), "fixed": e.name == ANCHOR},
            "replays": [dict(r) for r in conn.execute(
                "SELECT id, scenario, episode FROM episodes WHERE focal_id = ? AND suite = ? AND suite_version = ? "
                "AND replay IS NOT NULL ORDER BY scenario, episode", (e.id, suite.name, suite.version))],
        })
    rows.sort(key=lambda r: np.inf if r["overall"] is None or r["overall"]["score"] is None
              else -r["overall"]["score"])
    return {"suite": suite.name, "version": suite.version, "columns": columns, "rows": rows}


def _interval(point: float, draws: np.ndarray) -> dict[str, float | None]:
    """Point and 95% percentile interval; all None when the normalization is degenerate (the
    zero and one entries scored the same)."""
    finite = draws[np.isfinite(draws)]
    if not np.isfinite(point) or finite.size == 0:
        return {"score": None, "low": None, "high": None}
    return {"score": point, "low": float(np.quantile(finite, 0.025)), "high": float(np.quantile(finite, 0.975))}


def _completion(conn: sqlite3.Connection, e: Entry, suite: Suite) -> dict[str, float]:
    """Mean completion per task category of ``e``'s focal agents over its Multi-task episodes."""
    per: dict[str, list[float]] = {}
    for (details,) in conn.execute("SELECT details FROM episodes WHERE focal_id = ? AND suite = ? AND "
                                   "suite_version = ?", (e.id, suite.name, suite.version)):
        for category, value in json.loads(details).get("completion", {}).items():
            per.setdefault(category, []).append(value)
    return {c: float(np.mean(v)) for c, v in sorted(per.items())}


def rating_history(conn: sqlite3.Connection, suite: Suite) -> dict[str, list[dict[str, float]]]:
    """``{entry name: [{"round", "mu", "sigma"}, ...]}`` in round order, on ``suite``'s version."""
    names = {e.id: e.name for e in entries(conn)}
    history: dict[str, list[dict[str, float]]] = {}
    for round_id, i, mu, sigma in conn.execute(_SUITE_RATINGS + " ORDER BY r.round_id", (suite.name, suite.version)):
        history.setdefault(names[i], []).append({"round": round_id, "mu": mu, "sigma": sigma})
    return history


def win_matrix(conn: sqlite3.Connection, suite: Suite) -> dict[str, Any]:
    """Pairwise PvP results on ``suite``'s version: ``names`` and ``matrix[i][j]``, the fraction
    of shared episodes in which entry i placed above entry j (ties count half; ``None`` where
    they never met)."""
    per_episode: dict[int, list[tuple[str, int]]] = {}
    for r in conn.execute("SELECT res.episode_id, s.name, res.placement FROM results res JOIN submissions s "
                          "ON s.id = res.submission_id JOIN episodes ep ON ep.id = res.episode_id "
                          "WHERE res.role = 'pvp' AND ep.suite = ? AND ep.suite_version = ? ORDER BY s.id",
                          (suite.name, suite.version)):
        per_episode.setdefault(r[0], []).append((r[1], r[2]))
    names = list(dict.fromkeys(n for players in per_episode.values() for n, _ in players))
    index = {n: i for i, n in enumerate(names)}
    wins, met = np.zeros((len(names),) * 2), np.zeros((len(names),) * 2)
    for players in per_episode.values():
        for a, pa in players:
            for b, pb in players:
                if a != b:
                    met[index[a], index[b]] += 1
                    wins[index[a], index[b]] += 1.0 if pa < pb else 0.5 if pa == pb else 0.0
    matrix = [[float(wins[i, j] / met[i, j]) if met[i, j] else None for j in range(len(names))]
              for i in range(len(names))]
    return {"names": names, "matrix": matrix}


def replay_bytes(conn: sqlite3.Connection, episode_id: int) -> bytes:
    (data,) = conn.execute("SELECT replay FROM episodes WHERE id = ?", (episode_id,)).fetchone()
    return data


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))
