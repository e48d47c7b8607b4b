"""The leaderboard: suites, storage and migrations, scoring with resume, normalization and
intervals, OpenSkill rating rounds, the command line and its bad input, the static site.

The end-to-end runs use a tiny suite (two mini scenarios and one PvP game, horizon 16, one or two
episodes each) so a whole board, reference entries included, is scored in seconds."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import baselines.evaluate
from baselines import checkpoint
from baselines.evaluate import Match, play
from baselines.network import SIZES, PolicyNetwork
from leaderboard import board, db, suite as suites
from leaderboard.cli import main
from metammo.config import make_config

ROOT = Path(__file__).resolve().parent.parent

TINY = {
    "suite": "tiny", "version": 1, "seed": 5, "replays": 1,
    "normalize": {"mini": {"zero": "random", "one": "generalist"}},
    "scenarios": [
        {"game": "team_battle", "config": "mini", "focal": "half", "background": "scripted", "episodes": 2,
         "overrides": {"horizon": 16}},
        {"game": "race_to_the_center", "config": "mini", "focal": "half", "background": "generalist", "episodes": 1,
         "overrides": {"horizon": 16}},
    ],
    "pvp": [{"game": "team_battle", "config": "mini", "episodes": 1, "overrides": {"horizon": 16}}],
}
EPISODES = 3  # per entry in TINY


@pytest.fixture(scope="module", autouse=True)
def _threads(one_torch_thread):
    yield


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def save_policy(path: Path, seed: int, config: str = "mini") -> Path:
    torch.manual_seed(seed)
    net = PolicyNetwork(dataclasses.asdict(make_config(config).shape), **SIZES["small"])
    return checkpoint.save(path, net, checkpoint.metadata(net, "mini_generalist", config, 1000 + seed))


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory) -> Path:
    return save_policy(tmp_path_factory.mktemp("policy") / "policy.pt", seed=1)


@pytest.fixture(scope="module")
def scored(tmp_path_factory, tiny_suite, policy_file) -> Path:
    """A board with the reference entries and one submission, 'mine', scored on the tiny suite."""
    path = tmp_path_factory.mktemp("board") / "board.sqlite"
    assert main(["submit", str(policy_file), "--name", "mine", "--suite", str(tiny_suite), "--db", str(path),
                 "--workers", "1", "--progress", "off"]) == 0
    return path


def standings(path: Path, suite_path: Path) -> dict:
    conn = db.connect(path, create=False)
    try:
        return board.standings(conn, suites.load(suite_path))
    finally:
        conn.close()


def query(path: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


# --- suites --------------------------------------------------------------------------------------


def test_builtin_suites():
    from metammo.game import games

    quick, standard = suites.load("quick"), suites.load("standard")
    assert {s.game for s in quick.scenarios} == {"team_battle", "protect_the_king", "race_to_the_center",
                                                  "king_of_the_hill", "sandwich"}
    assert {s.config for s in quick.scenarios} == {"mini"} and quick.pvp
    minigames = {"survival", "team_battle", "protect_the_king", "race_to_the_center", "king_of_the_hill", "sandwich",
                 "multitask"}
    supported = {(name, c) for name, g in games().items() if name in minigames for c in g.configs}
    assert {(s.game, s.config) for s in standard.scenarios} == supported  # every game, every config
    assert standard.normalize == {"mini": ("random", "generalist"), "full": ("random", "scripted")}
    assert [s.name for s in standard.scenarios_for("full")] == [
        "survival/full/scripted", "team_battle/full/scripted", "multitask/full/alone"]
    assert len(standard.scenarios_for(None)) == len(standard.scenarios)


def _with(**changes):
    data = json.loads(json.dumps(TINY))
    for key, value in changes.items():
        if key.startswith("scenario_"):
            data["scenarios"][0][key[len("scenario_"):]] = value
        else:
            data[key] = value
    return data


BAD_SUITES = {
    "not-a-mapping": ([1, 2], "must be a mapping"),
    "unknown-key": (_with(colour="red"), "unknown keys \\['colour'\\]"),
    "version": (_with(version=0), "'version' must be an integer >= 1"),
    "no-scenarios": (_with(scenarios=[]), "non-empty list"),
    "unknown-game": (_with(scenario_game="chess"), "unknown game 'chess'; known games: .*team_battle"),
    "unsupported-config": (_with(scenario_game="multitask", scenario_focal="all", scenario_background=None),
                           "'multitask' does not support config 'mini'; it supports \\['full'\\]"),
    "focal": (_with(scenario_focal="some"), "'focal' must be one of \\['half', 'all'\\]"),
    "background": (_with(scenario_background="nobody"), "'background' must be a reference entry"),
    "background-with-all": (_with(scenario_focal="all"), "leaves no slots for background"),
    "episodes": (_with(scenario_episodes=0), "'episodes' must be an integer >= 1"),
    "overrides": (_with(scenario_overrides={"warp_speed": 9}), "warp_speed"),
    "normalize-missing": (_with(normalize={}), "lacks the scenarios' configs \\['mini'\\]"),
    "normalize-same": (_with(normalize={"mini": {"zero": "random", "one": "random"}}), "must be different"),
    "normalize-config": (_with(normalize={"full": {"zero": "random", "one": "generalist"}}),
                         "normalize.full.one must be a reference entry playing full"),
    "repeated": (_with(scenarios=[TINY["scenarios"][0]] * 2), "scenarios repeat"),
    "game-list": (_with(scenario_game=["team_battle"]), "'game' must be a name, got \\['team_battle'\\]"),
    "background-dict": (_with(scenario_background={"a": 1}), "'background' must be a reference entry"),
    "normalize-dict": (_with(normalize={"mini": {"zero": {"a": 1}, "one": "generalist"}}),
                       "normalize.mini.zero must be a reference entry"),
}


@pytest.mark.parametrize("name", list(BAD_SUITES))
def test_bad_suites_raise_naming_the_problem(tmp_path, name):
    data, message = BAD_SUITES[name]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=message):
        suites.load(path)


def test_unknown_suite_lists_the_builtin_ones():
    with pytest.raises(ValueError, match="unknown suite 'nope'.*quick.*standard"):
        suites.load("nope")


# --- storage -------------------------------------------------------------------------------------


def test_new_database_has_the_schema_and_the_reference_entries(tmp_path):
    path = tmp_path / "sub" / "board.sqlite"
    conn = db.connect(path)
    board.ensure_references(conn)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == db.APPLICATION_ID
    refs = board.entries(conn)
    assert [e.name for e in refs] == ["random", "scripted", "generalist"] and all(e.reference for e in refs)
    assert refs[2].config == "mini" and refs[2].policy is None and refs[0].config is None
    conn.close()
    before = digest(path)
    db.connect(path).close()  # reopening a current database writes nothing
    assert digest(path) == before


def test_migrations_bring_an_old_database_up_to_date(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS[:1])
    monkeypatch.setattr(db, "SCHEMA_VERSION", 1)
    db.connect(path).close()
    later = [*db.MIGRATIONS, ["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"]]
    monkeypatch.setattr(db, "MIGRATIONS", later)
    monkeypatch.setattr(db, "SCHEMA_VERSION", 2)
    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0


def test_a_failed_transaction_leaves_nothing(tmp_path):
    path = tmp_path / "board.sqlite"
    conn = db.connect(path)
    with pytest.raises(RuntimeError):
        with db.transaction(conn):
            conn.execute("INSERT INTO submissions (name, policy, metadata, created_at) VALUES ('a', 'random', '{}', '')")
            raise RuntimeError("interrupted")
    assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] == 0
    with pytest.raises(db.LeaderboardError, match="breaks a constraint"):
        with db.transaction(conn):  # a checkpoint-less entry with no policy breaks the CHECK
            conn.execute("INSERT INTO submissions (name, metadata, created_at) VALUES ('b', '{}', '')")
    assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] == 0


# --- scoring, normalization, ratings --------------------------------------------------------------


def test_submission_scores_every_entry_and_rates_it(scored, tiny_suite):
    result = standings(scored, tiny_suite)
    rows = {r["name"]: r for r in result["rows"]}
    assert set(rows) == {"random", "scripted", "generalist", "mine"}
    assert result["columns"] == ["team_battle/mini", "race_to_the_center/mini"]
    for column in result["columns"]:  # the normalization points score 0 and 1 by construction
        for name, value in (("random", 0.0), ("generalist", 1.0)):
            s = rows[name]["scores"][column]
            assert s["score"] is None or s["score"] == pytest.approx(value, abs=1e-9)
    mine = rows["mine"]
    assert set(mine["raw"]) == {"team_battle/mini/scripted", "race_to_the_center/mini/generalist"}
    assert mine["metadata"]["agent_steps"] == 1001 and mine["config"] == "mini"
    assert rows["scripted"]["rating"]["fixed"] and rows["scripted"]["rating"]["mu"] == 25.0
    # every entry played every episode once; replays kept for episode 0 of each scenario
    for name in rows:
        (count,) = query(scored, "SELECT count(*) FROM episodes e JOIN submissions s ON s.id = e.focal_id "
                                 "WHERE s.name = ?", name)[0]
        assert count == EPISODES
    assert [(r["scenario"], r["episode"]) for r in mine["replays"]] == [
        ("race_to_the_center/mini/generalist", 0), ("team_battle/mini/scripted", 0)]
    # one rating round per entry; the anchor is never re-rated
    assert query(scored, "SELECT count(*) FROM rounds")[0][0] == 4
    assert query(scored, "SELECT count(*) FROM ratings r JOIN submissions s ON s.id = r.submission_id "
                         "WHERE s.name = 'scripted'")[0][0] == 0
    suite = suites.load(tiny_suite)
    conn = db.connect(scored, create=False)
    history = board.rating_history(conn, suite)
    assert len(history["mine"]) == 1 and len(history["random"]) >= 2  # random met later entries too
    ratings = board.current_ratings(conn, suite)
    assert ratings[query(scored, "SELECT id FROM submissions WHERE name = ?", "mine")[0][0]] == (history["mine"][-1]["mu"], history["mine"][-1]["sigma"])
    other = dataclasses.replace(suite, version=suite.version + 1)
    assert board.current_ratings(conn, other) == {} and board.rating_history(conn, other) == {}, \
        "a suite version's ratings are its own"
    assert board.win_matrix(conn, other)["names"] == []


def test_pvp_placements_and_win_matrix(scored, tiny_suite):
    placements = query(scored, "SELECT episode_id, submission_id, score, placement FROM results WHERE role = 'pvp'")
    by_episode: dict[int, list] = {}
    for episode, _, score, place in placements:
        by_episode.setdefault(episode, []).append((score, place))
    for players in by_episode.values():
        for score, place in players:  # placement = 1 + entries with a higher score
            assert place == 1 + sum(s > score for s, _ in players)
    wins = board.win_matrix(db.connect(scored, create=False), suites.load(tiny_suite))
    m = wins["matrix"]
    assert set(wins["names"]) == {"random", "scripted", "generalist", "mine"}
    for i in range(len(m)):
        assert m[i][i] is None
        for j in range(len(m)):
            if i != j and m[i][j] is not None:
                assert m[i][j] + m[j][i] == pytest.approx(1.0)


def test_an_interrupted_submission_resumes_to_the_same_scores(tmp_path, tiny_suite, policy_file, scored,
                                                              monkeypatch):
    path = tmp_path / "board.sqlite"
    args = ["submit", str(policy_file), "--name", "mine", "--suite", str(tiny_suite), "--db", str(path),
            "--workers", "1", "--progress", "off"]
    real_play, calls = baselines.evaluate.play, []

    def interrupted(match):
        calls.append(match)
        if len(calls) > 3 * (EPISODES + 1) + 1:  # after the references (and their PvP episode), one of 'mine'
            raise KeyboardInterrupt
        return real_play(match)

    monkeypatch.setattr(baselines.evaluate, "play", interrupted)
    assert main(args) == 130
    assert query(path, "SELECT count(*) FROM evaluations e JOIN submissions s ON s.id = e.submission_id "
                       "WHERE s.name = 'mine'")[0][0] == 0
    stored = query(path, "SELECT e.scenario, e.episode FROM episodes e JOIN submissions s ON s.id = e.focal_id "
                         "WHERE s.name = 'mine'")
    assert len(stored) == 1
    (orphans,) = query(path, "SELECT count(*) FROM episodes e WHERE NOT EXISTS "
                             "(SELECT 1 FROM results r WHERE r.episode_id = e.id)")[0]
    assert orphans == 0
    monkeypatch.setattr(baselines.evaluate, "play", real_play)
    calls.clear()
    assert main(args) == 0
    replayed = query(path, "SELECT e.scenario, e.episode FROM episodes e JOIN submissions s ON s.id = e.focal_id "
                           "WHERE s.name = 'mine'")
    assert len(replayed) == EPISODES and set(stored) <= set(replayed)
    # the same checkpoint and suite version give the same scores as on the other board
    fresh = {r["name"]: r for r in standings(path, tiny_suite)["rows"]}
    first = {r["name"]: r for r in standings(scored, tiny_suite)["rows"]}
    for name in first:
        assert fresh[name]["raw"] == first[name]["raw"]
    assert main(args) == 2  # a third time: already scored, nothing to do


def _board_with(tmp_path, scores: dict[str, list[float]]) -> tuple[Path, suites.Suite]:
    """A board whose entries' focal scores on one scenario are ``scores`` (no episodes played)."""
    suite = suites.parse({**TINY, "scenarios": TINY["scenarios"][:1], "pvp": []})
    path = tmp_path / "hand.sqlite"
    conn = db.connect(path)
    board.ensure_references(conn)
    with db.transaction(conn):
        conn.execute("INSERT INTO submissions (name, policy, config, metadata, created_at) "
                     "VALUES ('x', 'random', 'mini', '{}', '')")
        for name, values in scores.items():
            (entry_id,) = conn.execute("SELECT id FROM submissions WHERE name = ?", (name,)).fetchone()
            for e, value in enumerate(values):
                episode = conn.execute("INSERT INTO episodes (suite, suite_version, scenario, focal_id, episode, seed, "
                                       "length, details, created_at) VALUES (?, ?, ?, ?, ?, 0, 1, '{}', '')",
                                       (suite.name, suite.version, suite.scenarios[0].name, entry_id, e)).lastrowid
                conn.execute("INSERT INTO results (episode_id, submission_id, role, agents, score, win_rate) "
                             "VALUES (?, ?, 'focal', 64, ?, 0)", (episode, entry_id, value))
            conn.execute("INSERT INTO evaluations VALUES (?, ?, ?, '')", (entry_id, suite.name, suite.version))
    conn.close()
    return path, suite


def test_scores_are_normalized_between_random_and_the_generalist(tmp_path):
    x = [0.5, 0.7, 0.6, 0.8, 0.4, 0.6]
    path, suite = _board_with(tmp_path, {"random": [0.1, 0.1, 0.1, 0.1], "generalist": [0.9, 1.1, 1.0, 1.0],
                                         "scripted": [2.0, 2.0], "x": x})
    conn = db.connect(path)
    rows = {r["name"]: r for r in board.standings(conn, suite)["rows"]}
    expected = (np.mean(x) - 0.1) / (1.0 - 0.1)
    s = rows["x"]["scores"]["team_battle/mini"]
    assert s["score"] == pytest.approx(expected)
    assert s["low"] < expected < s["high"] and s["high"] - s["low"] < 0.5
    assert rows["x"]["overall"]["score"] == pytest.approx(expected)
    assert rows["scripted"]["scores"]["team_battle/mini"]["score"] == pytest.approx((2.0 - 0.1) / 0.9)
    assert [r["name"] for r in board.standings(conn, suite)["rows"]] == ["scripted", "generalist", "x", "random"]
    assert board.standings(conn, suite) == board.standings(conn, suite)  # seeded bootstrap


def test_a_degenerate_normalization_is_reported_not_divided(tmp_path):
    path, suite = _board_with(tmp_path, {"random": [0.5, 0.5], "generalist": [0.5, 0.5 + board.MIN_SPAN], "x": [0.7]})
    rows = {r["name"]: r for r in board.standings(db.connect(path), suite)["rows"]}
    assert rows["x"]["scores"]["team_battle/mini"] == {"score": None, "low": None, "high": None}
    assert rows["x"]["raw"] == {"team_battle/mini/scripted": 0.7}


def test_multitask_completion_is_split_by_side():
    result = play(Match("multitask", "full", ("scripted", "random"), seed=3, overrides={"horizon": 8}))
    assert len(result["completion"]) == 2
    for side in result["completion"]:
        assert side and all(0.0 <= v <= 1.0 for v in side.values())


# --- command line and bad input ------------------------------------------------------------------


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def _bad_checkpoint(kind: str, good: Path, tmp: Path) -> Path:
    path = tmp / f"{kind}.pt"
    payload = torch.load(good, weights_only=True)
    if kind == "missing":
        return tmp / "no_such_file.pt"
    if kind == "not-torch":
        path.write_text("hello, not a checkpoint")
    elif kind == "truncated":
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "pickle-with-code":
        torch.save({**payload, "trainer": _Evil(tmp / "pwned")}, path)
    elif kind == "unknown-architecture":
        payload["metadata"]["architecture"] = "transformer"
        torch.save(payload, path)
    elif kind == "mismatched-shapes":
        payload["state_dict"]["value.weight"] = torch.zeros(1, 3)
        torch.save(payload, path)
    elif kind == "nan-weights":
        payload["state_dict"]["value.bias"] = torch.full_like(payload["state_dict"]["value.bias"], float("nan"))
        torch.save(payload, path)
    elif kind == "config-layout":
        payload["metadata"]["config"] = "full"
        torch.save(payload, path)
    return path


BAD_CHECKPOINTS = {
    "missing": "is not a file",
    "not-torch": "not a loadable torch checkpoint",
    "truncated": "not a loadable torch checkpoint",
    "pickle-with-code": "not a loadable torch checkpoint",
    "unknown-architecture": "unknown architecture 'transformer'",
    "mismatched-shapes": "'value.weight' has shape",
    "nan-weights": "'value.bias' holds NaN or inf",
    "config-layout": "do not fit the full config",
}


@pytest.fixture()
def board_file(tmp_path, policy_file) -> Path:
    """A board with the reference entries and 'taken' (another checkpoint), nothing scored."""
    path = tmp_path / "board.sqlite"
    conn = db.connect(path)
    other = save_policy(tmp_path / "other.pt", seed=2)
    data, meta = board.read_checkpoint(other)
    board.claim(conn, "taken", data, meta, suites.load("quick"))
    conn.close()
    return path


def _fails(args: list[str], message: str, db_path: Path, capsys) -> None:
    before = digest(db_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and re.search(message, err), err
    assert digest(db_path) == before  # the database is unchanged (or still absent)


@pytest.mark.parametrize("kind", list(BAD_CHECKPOINTS))
def test_bad_checkpoints_are_refused(tmp_path, policy_file, board_file, capsys, kind):
    bad = _bad_checkpoint(kind, policy_file, tmp_path)
    _fails(["submit", str(bad), "--name", "new", "--db", str(board_file)], BAD_CHECKPOINTS[kind], board_file, capsys)
    _fails(["submit", str(bad), "--name", "new", "--db", str(tmp_path / "absent.sqlite")], BAD_CHECKPOINTS[kind],
           tmp_path / "absent.sqlite", capsys)
    assert not (tmp_path / "pwned").exists()  # the pickle's code never ran


def test_bad_names_are_refused(tmp_path, policy_file, board_file, capsys):
    base = ["submit", str(policy_file), "--db", str(board_file), "--name"]
    _fails([*base, "taken"], "already on the leaderboard with another checkpoint", board_file, capsys)
    _fails([*base, "random"], "reference entry's name", board_file, capsys)
    _fails([*base, " padded"], "printable characters without surrounding spaces", board_file, capsys)
    _fails([*base, "x" * 65], "1 to 64", board_file, capsys)
    other = tmp_path / "other.pt"  # 'taken''s checkpoint under a new name
    _fails(["submit", str(other), "--db", str(board_file), "--name", "again"], "already on the leaderboard as 'taken'",
           board_file, capsys)
    _fails([*base, "fine", "--suite", "nope"], "unknown suite 'nope'", board_file, capsys)
    _fails([*base, "fine", "--workers", "0"], "--workers must be >= 1", board_file, capsys)
    full = save_policy(tmp_path / "full.pt", seed=3, config="full")  # quick has mini scenarios only
    _fails(["submit", str(full), "--db", str(board_file), "--name", "fine"], "no scenarios for the full config",
           board_file, capsys)


def test_unusable_databases_are_refused(tmp_path, policy_file, board_file, capsys, monkeypatch):
    submit = ["submit", str(policy_file), "--name", "new", "--db"]
    newer = tmp_path / "newer.sqlite"
    db.connect(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {db.SCHEMA_VERSION + 1}")
    conn.close()
    _fails([*submit, str(newer)], f"schema version {db.SCHEMA_VERSION + 1}, newer than", newer, capsys)
    _fails(["show", "--db", str(newer)], "newer than", newer, capsys)

    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(np.random.default_rng(0).bytes(8192))
    _fails([*submit, str(corrupt)], "corrupt or not a SQLite database", corrupt, capsys)

    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    _fails([*submit, str(foreign)], "another application", foreign, capsys)

    folder = tmp_path / "folder"
    folder.mkdir()
    _fails([*submit, str(folder)], "is a folder", board_file, capsys)
    _fails([*submit, str(board_file / "x.sqlite")], f"{board_file} is not a folder", board_file, capsys)
    if Path("/proc").is_dir():  # a folder where SQLite cannot create a file, even as root
        _fails([*submit, "/proc/metammo.sqlite"], "cannot open the database /proc/metammo.sqlite", board_file, capsys)
    _fails(["render", str(board_file / "site"), "--db", str(board_file)], "render: cannot create", board_file,
           capsys)
    _fails(["show", "--db", str(tmp_path / "absent.sqlite")], "no leaderboard database", tmp_path / "absent.sqlite",
           capsys)

    monkeypatch.setattr(db, "LOCK_TIMEOUT", 0.2)
    holder = sqlite3.connect(board_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        _fails([*submit, str(board_file)], "locked by another process", board_file, capsys)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_show_prints_the_table(scored, tiny_suite):
    out = subprocess.run([sys.executable, "-m", "leaderboard", "show", "--suite", str(tiny_suite), "--db", str(scored)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in ("random", "scripted", "generalist", "mine", "team_battle", "overall", "rating"):
        assert name in out.stdout
    js = subprocess.run([sys.executable, "-m", "leaderboard", "show", "--json", "--suite", str(tiny_suite), "--db",
                         str(scored)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert [r["name"] for r in json.loads(js.stdout)["rows"]] == [r["name"] for r in
                                                                 standings(scored, tiny_suite)["rows"]]


def test_show_says_when_no_entry_was_scored_on_the_suite(scored, capsys):
    from leaderboard.cli import main

    before = scored.read_bytes()
    assert main(["show", "--suite", "standard", "--db", str(scored)]) == 0
    assert capsys.readouterr().out.startswith(f"no entries scored on suite 'standard' v{suites.load('standard').version}")
    assert scored.read_bytes() == before


# --- the site ------------------------------------------------------------------------------------


def test_render_writes_a_self_contained_site(scored, tiny_suite, tmp_path):
    from leaderboard.site import render

    index = render(db.connect(scored, create=False), suites.load(tiny_suite), tmp_path / "site")
    text = index.read_text()
    assert "<script src" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    data = json.loads(text.split('<script id="data" type="application/json">')[1].split("</script>")[0])
    assert {r["name"] for r in data["rows"]} == {"random", "scripted", "generalist", "mine"}
    for row in data["rows"]:
        for replay in row["replays"]:
            assert (index.parent / replay["href"]).is_file()
    assert data["wins"]["names"] and data["history"]["mine"]


def test_render_links_only_its_boards_replay_pages(scored, tiny_suite, tmp_path):
    """Episode ids are a database's own: a page another board left under the same id is neither
    linked nor kept, while files that are not replay pages stay."""
    from leaderboard.site import render

    replays = tmp_path / "site" / "replays"
    replays.mkdir(parents=True)
    conn, suite = db.connect(scored, create=False), suites.load(tiny_suite)
    ids = [r["id"] for row in board.standings(conn, suite)["rows"] for r in row["replays"]]
    foreign = [replays / f"{ids[0]}.html", replays / f"{ids[0]}-{'0' * 16}.html", replays / "999.html"]
    for path in foreign:
        path.write_text("another board's episode")
    (replays / "notes.html").write_text("mine")
    index = render(conn, suite, tmp_path / "site")
    data = json.loads(index.read_text().split('<script id="data" type="application/json">')[1].split("</script>")[0])
    hrefs = {r["href"] for row in data["rows"] for r in row["replays"]}
    assert len(hrefs) == len(ids)
    assert all("another board" not in (index.parent / h).read_text() for h in hrefs)
    assert not any(path.exists() for path in foreign) and (replays / "notes.html").exists()
    assert {p.name for p in replays.iterdir()} == {h.removeprefix("replays/") for h in hrefs} | {"notes.html"}


def test_site_in_a_browser(scored, tiny_suite, tmp_path, browser):
    from leaderboard.site import render

    index = render(db.connect(scored, create=False), suites.load(tiny_suite), tmp_path / "site")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(index.as_uri())
    names = lambda: page.eval_on_selector_all("#standings tbody tr", "rows => rows.map(r => r.dataset.name)")
    ranked = names()
    assert sorted(ranked) == ["generalist", "mine", "random", "scripted"]
    page.click("#standings th[data-key='name']")
    assert names() == sorted(ranked)
    page.click("#standings th[data-key='name']")
    assert names() == sorted(ranked, reverse=True)
    assert page.locator("#wins td").count() == 4 * 5
    assert page.locator("#history-plot polyline").count() >= 3
    page.click("#entry-mine summary")
    href = page.get_attribute("#entry-mine a.replay", "href")
    page.goto((index.parent / href).as_uri())
    page.wait_for_selector("#tick")
    assert errors == []
    page.close()
