"""Replays (metammo/replay.py) and numpy frames (metammo/render.py): the recorder checked tick by
tick against the env's state, save/load round trips, determinism, reading version-1 files, the
loader's errors, the size target, the command lines (``replay view/info``, ``rollout --replay``)
and the renderer."""

from __future__ import annotations

import base64
import json
import lzma
import os

import numpy as np
import pytest

import metammo
from metammo import replay as rp
from metammo.constants import Event, Kind
from metammo.policy import make_policy
from metammo.render import KIND_COLORS, MATERIAL_COLORS, frame, frames, team_colors
from metammo.rollout import main as rollout_main
from metammo.state import playable_bounds
from metammo.systems.common import fog_value

SMALL = dict(num_agents=8, max_npcs=8, npc_count=8, max_map_size=32, map_size=32, horizon=40,
             fog=True, fog_onset=10, fog_speed=0.5, fog_final_size=2)


def play(env, ticks: int, seed: int = 0, each=None):
    """Step ``env`` ``ticks`` times with the random policy, or (with autoreset off) until its
    episode ends; ``each(env)`` after every step."""
    policy = make_policy("random", env.layout, env.head_sizes, seed=seed)
    obs, _ = env.reset(seed)
    state = policy.initial_state(env.num_agents)
    for _ in range(ticks):
        actions, state = policy.act(obs, state)
        obs, *_, infos = env.step(actions)
        if each is not None:
            each(env)
        if infos and not env.autoreset:
            return


def materials_at(replay: rp.Replay, tick: int) -> np.ndarray:
    """The map at ``tick``, the slow obvious way: tick 0's map with every change up to ``tick``."""
    material = replay["material"].copy()
    changes = zip(*(replay[name] for name in rp.CHANGE_FIELDS))
    for t, r, c, m in changes:
        if t <= tick:
            material[r, c] = m
    return material


@pytest.fixture(scope="module")
def small_replay() -> rp.Replay:
    env = metammo.make("sandbox", "mini", seed=3, record=True, **SMALL)
    play(env, SMALL["horizon"])
    return env.last_replay


def test_recording_matches_the_state_tick_by_tick():
    env = metammo.make("sandbox", "mini", seed=1, autoreset=False, record=True, **SMALL)
    seen = []

    def snapshot(env):
        ent, n = env.state.entities, int(env.state.events.num_log[0])
        log = env.state.events.log[:n]
        kept = log[~np.isin(log[:, 0], [Event.MOVE, Event.MESSAGE])]
        seen.append(dict(
            row=ent.row.copy(), col=ent.col.copy(), alive=ent.alive.copy(), kind=ent.kind.copy(),
            team=ent.team.copy(), health=ent.health.copy(), food=ent.food.copy(), water=ent.water.copy(),
            level=ent.level[:, :3].max(axis=1), gold=ent.gold.copy(), style=ent.act_style.copy(),
            events=np.column_stack([np.full(len(kept), env.state.tick), kept]),
            material=env.state.tiles.material.copy(),
        ))

    policy = make_policy("random", env.layout, env.head_sizes, seed=1)
    obs, _ = env.reset(1)
    snapshot(env)
    state = policy.initial_state(env.num_agents)
    while env.last_replay is None:
        actions, state = policy.act(obs, state)
        obs, *_ = env.step(actions)
        snapshot(env)
    replay = env.last_replay
    assert replay.length == env.state.tick == len(seen) - 1
    assert replay.num_entities == env.config.shape.max_entities
    for t, ref in enumerate(seen):
        for name in rp.ENTITY_FIELDS:
            np.testing.assert_array_equal(replay[name][t], ref[name], err_msg=f"{name} at tick {t}")
        np.testing.assert_array_equal(materials_at(replay, t), ref["material"], err_msg=f"map at tick {t}")
        ev = np.column_stack([replay[name] for name in rp.EVENT_FIELDS])
        np.testing.assert_array_equal(ev[ev[:, 0] == t], ref["events"], err_msg=f"events at tick {t}")
    assert replay["alive"].any() and len(replay["event"]) and len(replay["change_tick"])
    lo, hi = playable_bounds(env.config)
    meta = replay.meta
    assert meta["game"] == "sandbox" and meta["bounds"] == [lo, hi] and meta["num_agents"] == 8
    assert meta["config"] == env.config.to_dict() and meta["map_seed"] == env.map_seed
    assert meta["summary"]["length"] == replay.length
    assert meta["policies"] == {str(team): "unknown" for team in range(8)}


def test_fog_matches_the_engine(small_replay):
    meta, g = small_replay.meta, small_replay["material"].shape[0]
    lo, hi = meta["bounds"]
    fog = meta["fog"]
    for tick in (0, 10, 11, 25, small_replay.length):
        grid = rp.fog_grid(g, lo, hi, float(small_replay["fog"][tick]), fog["final_size"])
        for r in range(lo, hi):
            for c in range(lo, hi):
                expected = fog_value(r, c, lo, hi, tick, fog["onset"], fog["speed"], fog["final_size"])
                assert grid[r, c] == pytest.approx(expected), (tick, r, c)
        assert (grid[:lo] == -1).all() and (grid[:, hi:] == -1).all()
    assert small_replay["fog"][10] == 0 and small_replay["fog"][12] == pytest.approx(1.0)


def test_recording_does_not_change_the_episode():
    hashes = []
    for record in (False, True):
        env = metammo.make("sandbox", "mini", seed=2, record=record, **SMALL)
        play(env, 25)
        hashes.append(env.state.hash())
    assert hashes[0] == hashes[1]


def test_each_episode_is_recorded_and_a_recorder_can_be_attached_or_removed():
    env = metammo.make("sandbox", "mini", seed=0, **{**SMALL, "horizon": 10})
    assert env.recorder is None
    play(env, 5)
    env.recorder = rp.Recorder(policies={0: "scripted"})  # mid-episode: starts with the next one
    ends = []
    play_on = make_policy("random", env.layout, env.head_sizes, seed=0)
    obs, state = env.observations, play_on.initial_state(env.num_agents)
    for _ in range(25):
        actions, state = play_on.act(obs, state)
        obs, _, _, _, infos = env.step(actions)
        if infos:
            ends.append(env.last_replay)
    assert ends[0] is None  # the episode it joined
    assert [r.length for r in ends[1:]] == [10, 10]
    assert ends[1].meta["policies"]["0"] == "scripted" and ends[1].meta["policies"]["1"] == "unknown"
    env.recorder = None
    env.last_replay = None
    play(env, 10)
    assert env.last_replay is None


def test_save_load_round_trip_and_atomic_write(small_replay, tmp_path):
    path = small_replay.save(tmp_path / ("ep" + rp.SUFFIX))
    assert os.listdir(tmp_path) == ["ep" + rp.SUFFIX]  # no temporary file left
    loaded = rp.load(path)
    assert loaded.meta == small_replay.meta
    for name in rp.ARRAYS:
        assert loaded[name].dtype == small_replay[name].dtype
        np.testing.assert_array_equal(loaded[name], small_replay[name], err_msg=name)
    header, newline, data = lzma.decompress(path.read_bytes()).partition(b"\n")
    document = json.loads(header)
    assert document["format"] == rp.FORMAT and document["version"] == rp.VERSION == 2 and newline
    assert set(document["arrays"]) == set(rp.ARRAYS) and sum(map(len, rp.BLOCKS)) == len(rp.ARRAYS)
    assert len(data) == sum(loaded[name].nbytes for name in rp.ARRAYS)
    small_replay.save(path)  # overwrites in place
    assert os.listdir(tmp_path) == ["ep" + rp.SUFFIX]


def test_same_seed_and_actions_give_the_same_file(tmp_path):
    files = []
    for k in range(2):
        env = metammo.make("team_battle", "mini", seed=5, record=True, **{**SMALL, "horizon": 30, "num_agents": 16, "max_npcs": 64, "npc_count": 64})
        play(env, 30, seed=5)
        files.append(env.last_replay.save(tmp_path / f"{k}{rp.SUFFIX}").read_bytes())
    assert files[0] == files[1]


def write_document(path, document, data: bytes = b"") -> None:
    path.write_bytes(lzma.compress(json.dumps(document).encode() + (b"\n" + data if data else b"")))


def good_document(replay: rp.Replay, tmp_path) -> tuple[dict, bytes]:
    """A saved replay's header and the arrays' bytes after it."""
    header, _, data = lzma.decompress(replay.save(tmp_path / "good.replay.json.xz").read_bytes()).partition(b"\n")
    return json.loads(header), data


def v1_document(replay: rp.Replay) -> dict:
    """``replay`` as version 1 wrote it: one JSON document, each array's little-endian bytes in
    column-major order, delta-coded along axis 0 where ARRAYS says so, in base64."""
    arrays = {}
    for name, (dtype, _, delta) in rp.ARRAYS.items():
        values = replay[name].astype(np.dtype(dtype).newbyteorder("<"))
        if delta:
            values[1:] -= replay[name][:-1]
        arrays[name] = {"dtype": dtype, "shape": list(values.shape), "delta": delta,
                        "data": base64.b64encode(values.tobytes(order="F")).decode()}
    return {"format": rp.FORMAT, "version": 1, "meta": replay.meta, "arrays": arrays}


def test_version_1_files_still_load(small_replay, tmp_path):
    path = tmp_path / "v1.replay.json.xz"
    path.write_bytes(lzma.compress(json.dumps(v1_document(small_replay), separators=(",", ":")).encode(),
                                   preset=6 | lzma.PRESET_EXTREME))
    loaded = rp.load(path)
    assert loaded.meta == small_replay.meta
    for name in rp.ARRAYS:
        assert loaded[name].dtype == small_replay[name].dtype
        np.testing.assert_array_equal(loaded[name], small_replay[name], err_msg=name)
    assert small_replay.save(tmp_path / "v2.replay.json.xz").stat().st_size < path.stat().st_size


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(version=3), "replay version 3 is not supported; this metammo reads versions 1 and 2"),
    (lambda d: d.pop("version"), "replay version None is not supported"),
    (lambda d: d.update(format="something-else"), "'format' must be 'metammo-replay'"),
    (lambda d: d.update(extra=1), "unexpected keys \\['extra'\\]"),
    (lambda d: d["arrays"].pop("health"), "missing \\['health'\\]"),
    (lambda d: d["arrays"].update(bogus=d["arrays"]["row"]), "unexpected \\['bogus'\\]"),
    (lambda d: d["arrays"]["row"].update(dtype="int32"), "'row' must have dtype 'int16'"),
    (lambda d: d["arrays"]["row"].update(data="AAAA"), "'row' must be an object with keys delta, dtype, shape"),
    (lambda d: d["arrays"]["row"].update(shape=[3, 4]), "arrays row, col are stored together and must have one shape"),
    (lambda d: d["arrays"]["health"].update(shape=[3, 4]),
     "holds .* bytes of arrays after its header; the shapes in the header need"),
    (lambda d: d["meta"].pop("game"), "replay meta lacks key 'game'"),
    (lambda d: d["meta"].update(num_agents="8"), "replay meta 'num_agents' must be a int"),
    (lambda d: d["meta"].update(bounds=[20, 10]), "'bounds' must satisfy 0 <= lo < hi"),
    (lambda d: d.update(meta=[]), "replay key 'meta' must be a JSON object"),
])
def test_load_rejects_bad_structure(small_replay, tmp_path, edit, message):
    document, data = good_document(small_replay, tmp_path)
    edit(document)
    path = tmp_path / "bad.replay.json.xz"
    write_document(path, document, data)
    with pytest.raises(ValueError, match=message) as err:
        rp.load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["arrays"]["row"].update(data="%%%"), "'row': 'data' is not base64"),
    (lambda d: d["arrays"]["row"].update(shape=[3, 4]), "'row' holds .* bytes; shape \\[3, 4\\] of int16 needs 24"),
    (lambda d: d["arrays"]["row"].pop("data"), "'row' must be an object with keys data, delta, dtype, shape"),
    (lambda d: d["arrays"]["fog"].update(shape=[5], data="AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
     "dimension T must be 5 like the other arrays"),
])
def test_load_rejects_bad_version_1_arrays(small_replay, tmp_path, edit, message):
    document = v1_document(small_replay)
    edit(document)
    path = tmp_path / "bad.replay.json.xz"
    write_document(path, document)
    with pytest.raises(ValueError, match=message) as err:
        rp.load(path)
    assert str(path) in str(err.value)


def test_load_rejects_arrays_bytes_that_do_not_match_the_header(small_replay, tmp_path):
    document, data = good_document(small_replay, tmp_path)
    path = tmp_path / "bad.replay.json.xz"
    for cut in (data[:-1], data + b"\0", b""):
        write_document(path, document, cut)
        with pytest.raises(ValueError, match=f"holds {len(cut)} bytes of arrays after its header; the shapes in "
                                             f"the header need {len(data)}"):
            rp.load(path)
    write_document(path, v1_document(small_replay), b"\0\0")
    with pytest.raises(ValueError, match="replay version 1 is one JSON document, got 2 bytes after it"):
        rp.load(path)


def test_load_rejects_out_of_range_values(small_replay, tmp_path):
    arrays = dict(small_replay.arrays, kind=small_replay["kind"] + np.int8(7))
    with pytest.raises(ValueError, match="replay array kind must be in \\[0, 4\\]"):
        rp.Replay(small_replay.meta, arrays)
    arrays = dict(small_replay.arrays, row=small_replay["row"].astype(np.int32))
    with pytest.raises(ValueError, match="'row' must be a numpy int16 array, got int32"):
        rp.Replay(small_replay.meta, arrays)


def test_load_rejects_files_that_are_not_replays(small_replay, tmp_path):
    path = small_replay.save(tmp_path / "ep.replay.json.xz")
    cut = tmp_path / "cut.replay.json.xz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a complete xz-compressed file"):
        rp.load(cut)
    plain = tmp_path / "plain.replay.json.xz"
    plain.write_text('{"format": "metammo-replay"}')
    with pytest.raises(ValueError, match="not a complete xz-compressed file"):
        rp.load(plain)
    garbage = tmp_path / "garbage.replay.json.xz"
    garbage.write_bytes(lzma.compress(b"\x00\x01 not json"))
    with pytest.raises(ValueError, match="decompressed data does not start with a line of JSON"):
        rp.load(garbage)
    listing = tmp_path / "list.replay.json.xz"
    write_document(listing, [1, 2])
    with pytest.raises(ValueError, match="'format' must be 'metammo-replay', got 'list'"):
        rp.load(listing)
    with pytest.raises(OSError):
        rp.load(tmp_path / "missing.replay.json.xz")


@pytest.mark.parametrize("config, overrides", [
    ("mini", {}),
    ("full", dict(food_depletion=0, water_depletion=0)),  # market events, most agents live 1024 ticks
])
def test_a_1024_tick_128_agent_episode_is_under_200_kb(tmp_path, config, overrides):
    env = metammo.make("sandbox", config, seed=0, record=True, **overrides)
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    obs, _ = env.reset(0)
    state = policy.initial_state(env.num_agents)
    while env.last_replay is None:
        actions, state = policy.act(obs, state)
        obs, *_ = env.step(actions)
    replay = env.last_replay
    assert replay.length == 1024 and replay.meta["num_agents"] == 128
    assert len(replay["change_tick"]) > 0 and len(replay["event"]) > 0
    size = replay.save(tmp_path / "big.replay.json.xz").stat().st_size
    assert size < 200_000, f"{size} bytes"


def test_view_and_info_command_lines(small_replay, tmp_path, capsys):
    path = small_replay.save(tmp_path / "ep.replay.json.xz")
    assert rp.main(["view", str(path)]) == 0
    page = (tmp_path / "ep.html").read_text()
    assert capsys.readouterr().out.strip() == str(tmp_path / "ep.html")
    assert '<script type="application/json" id="replay-data">{' in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from the network
    assert rp.main(["view", str(path), "--out", str(tmp_path / "other.html")]) == 0
    assert (tmp_path / "other.html").read_text() == page
    capsys.readouterr()
    assert rp.main(["info", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["game"] == "sandbox" and info["length"] == small_replay.length and info["version"] == rp.VERSION
    (tmp_path / "bad.replay.json.xz").write_text("nope")
    with pytest.raises(SystemExit) as err:
        rp.main(["view", str(tmp_path / "bad.replay.json.xz")])
    assert err.value.code == 2
    assert "not a complete xz-compressed file" in capsys.readouterr().err


def test_page_embeds_the_replay(small_replay):
    page = rp.page(small_replay)
    start = page.index('id="replay-data">') + len('id="replay-data">')
    data = json.loads(page[start: page.index("</script>", start)])
    assert data["version"] == 1 and data["meta"] == small_replay.meta  # the layout the viewer reads
    assert set(data["arrays"]) == set(rp.ARRAYS)
    assert data["colors"]["material"] == MATERIAL_COLORS.tolist()
    assert data["names"]["event"][Event.SCORE_HIT] == "score_hit"


def test_rollout_records_the_first_or_every_episode(tmp_path, capsys):
    args = ["--game", "sandbox", "--policy", "random", "--episodes", "2", "--json",
            "--set", "num_agents=8", "max_npcs=8", "npc_count=8", "max_map_size=32", "map_size=32", "horizon=15"]
    assert rollout_main([*args, "--replay", str(tmp_path / "first.replay.json.xz")]) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert summaries[0]["replay"] == str(tmp_path / "first.replay.json.xz") and "replay" not in summaries[1]
    assert rp.load(tmp_path / "first.replay.json.xz").meta["policies"]["0"] == "random"
    assert rollout_main([*args, "--replay", str(tmp_path / "ep{episode}.replay.json.xz")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ep1.replay.json.xz", "ep2.replay.json.xz", "first.replay.json.xz"]
    with pytest.raises(SystemExit):
        rollout_main([*args, "--replay", str(tmp_path / "no" / "such.replay.json.xz")])
    assert f"its folder {tmp_path / 'no'} does not exist" in capsys.readouterr().err


def test_frames_draw_tiles_npcs_and_agents_in_their_colours(small_replay):
    scale, r = 2, small_replay
    video = frames(r, every=3, scale=scale, fog=False)
    lo, hi = r.meta["bounds"]
    side = (hi - lo) * scale
    assert video.shape == (len(range(0, r.num_ticks, 3)), 3, side, side) and video.dtype == np.uint8
    teams = team_colors(int(r["team"].max()) + 1)
    for k, tick in enumerate(range(0, r.num_ticks, 3)):
        row, col, kind, team = (r[name][tick].astype(int) for name in ("row", "col", "kind", "team"))
        alive = r["alive"][tick].astype(bool)
        agent = alive & (kind == Kind.AGENT)
        for i in np.flatnonzero(alive):
            pixel = tuple(video[k, :, (row[i] - lo) * scale, (col[i] - lo) * scale])
            here = alive & (row == row[i]) & (col == col[i])
            if kind[i] == Kind.AGENT:  # agents on top, in a team colour of one of them
                assert pixel in {tuple(teams[team[j]]) for j in np.flatnonzero(here & agent)}
            elif not (agent & (np.abs(row - row[i]) <= 1) & (np.abs(col - col[i]) <= 1)).any():
                assert pixel in {tuple(KIND_COLORS[kind[j]]) for j in np.flatnonzero(here)}
        material = materials_at(r, tick)
        near = np.zeros((hi - lo + 2, hi - lo + 2), bool)  # tiles with an entity within one tile
        for i in np.flatnonzero(alive):
            near[row[i] - lo: row[i] - lo + 3, col[i] - lo: col[i] - lo + 3] = True
        free = np.argwhere(~near[1:-1, 1:-1])
        rows, cols = free[:, 0], free[:, 1]
        np.testing.assert_array_equal(video[k][:, rows * scale, cols * scale].T,
                                      MATERIAL_COLORS[material[rows + lo, cols + lo]])
    fogged = frames(r, every=r.length, scale=1, fog=True)
    assert fogged.shape[0] == 2
    assert (fogged[0] == frames(r, every=r.length, scale=1, fog=False)[0]).all()  # no fog at tick 0
    corner = fogged[1, :, 0, 0]  # the playable edge, long after the onset: in the fog
    assert tuple(corner) != tuple(MATERIAL_COLORS[materials_at(r, r.length)[lo, lo]])


def test_live_frame_matches_the_replay_frame():
    env = metammo.make("sandbox", "mini", seed=4, autoreset=False, record=True, **SMALL)
    play(env, SMALL["horizon"])
    assert env.last_replay.length == env.state.tick > 0
    live = frame(env, scale=3)
    recorded = frames(env.last_replay, every=1, scale=3)[-1]
    np.testing.assert_array_equal(live, recorded)
    with pytest.raises(ValueError, match="scale must be an int in \\[1, 16\\], got 0"):
        frame(env, scale=0)
    with pytest.raises(ValueError, match="every must be an int"):
        frames(env.last_replay, every=0)


def test_view_refuses_an_output_in_a_missing_folder_a_folder_or_the_replay_itself(tmp_path, capsys):
    env = metammo.make("sandbox", "mini", seed=1, record=True, **SMALL)
    play(env, SMALL["horizon"])
    path = tmp_path / f"run{rp.SUFFIX}"
    env.last_replay.save(path)
    saved = path.read_bytes()
    for out, message in [(tmp_path / "missing" / "x.html", "its folder"), (tmp_path, "is a folder"),
                         (path, "is the replay itself")]:
        with pytest.raises(SystemExit) as exit_:
            rp.main(["view", str(path), "--out", str(out)])
        assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert path.read_bytes() == saved  # the page had been written over the replay
    assert rp.main(["view", str(path), "--out", str(tmp_path / "x.html")]) == 0
    assert (tmp_path / "x.html").read_text().startswith("<!") and not list(tmp_path.glob(".x.html.*"))
