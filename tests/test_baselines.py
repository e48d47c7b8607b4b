"""The baseline policy network (baselines/network.py), checkpoints (baselines/checkpoint.py) and
the evaluator (baselines/evaluate.py): unroll equals repeated steps, sampling never picks a
masked action, checkpoints round-trip and reject every kind of bad file with a clear error, and
evaluation matches, intervals and verdicts behave."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import metammo
from baselines import checkpoint
from baselines.checkpoint import TorchPolicy, load_policy
from baselines.evaluate import Match, bootstrap_ci, make_policy, matches_for, play, slots, summarize
from baselines.network import ARCHITECTURE, SIZES, PolicyNetwork, evaluate_actions, sample
from metammo.observation import EntityFeature, Layout, SelfFeature
from metammo.policy import RandomPolicy
from metammo.replay import loads

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def shape_of(env) -> dict:
    return dataclasses.asdict(env.base_config.shape)


def head_masks(env, obs) -> list[np.ndarray]:
    """The env's action masks per head, ``(B, head_size)`` bool, read through its layout."""
    off = env.layout.mask_offsets
    return [obs[..., off[h]: off[h] + size].astype(bool) for h, size in enumerate(env.head_sizes)]


def trajectory(env, ticks: int, seed: int = 0) -> np.ndarray:
    """``(ticks, agents, size)`` observations of random play from a reset."""
    obs, _ = env.reset(seed)
    policy = RandomPolicy(env.layout, env.head_sizes, seed=seed)
    frames = []
    for _ in range(ticks):
        frames.append(obs.copy())
        actions, _ = policy.act(obs, None)
        obs, *_ = env.step(actions)
    return np.stack(frames)


@pytest.fixture(scope="module")
def mini_env():
    return metammo.make("team_battle", "mini", seed=0, horizon=32)


@pytest.fixture(scope="module")
def full_env():
    return metammo.make("team_battle", "full", seed=0, horizon=32)


@pytest.fixture(scope="module")
def mini_net(mini_env):
    torch.manual_seed(0)
    return PolicyNetwork(shape_of(mini_env), **SIZES["small"]).eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, mini_net):
    """A real checkpoint of the small mini network."""
    path = tmp_path_factory.mktemp("ckpt") / "policy.pt"
    checkpoint.save(path, mini_net, checkpoint.metadata(mini_net, "team_battle", "mini", 1234))
    return path


# --- network ------------------------------------------------------------------------------------


def test_network_step_shapes_on_the_mini_config(mini_env, mini_net):
    obs, _ = mini_env.reset(0)
    n = mini_env.num_agents
    with torch.no_grad():
        logits, value, (h, c) = mini_net.step(torch.from_numpy(obs), mini_net.initial_state(n))
    assert [tuple(y.shape) for y in logits] == [(n, int(s)) for s in mini_env.head_sizes]
    assert value.shape == (n,) and h.shape == c.shape == (n, SIZES["small"]["hidden"])
    assert torch.isfinite(value).all() and torch.isfinite(h).all()
    assert PolicyNetwork(**mini_net.kwargs).kwargs == mini_net.kwargs  # kwargs rebuild the network
    with torch.no_grad():  # no rows (a trainer's tick with no live agent to play): empty outputs
        logits, value, (h, _) = mini_net.step(torch.from_numpy(obs[:0]), mini_net.initial_state(0))
        actions, _ = sample(logits)
    assert [tuple(y.shape) for y in logits] == [(0, int(s)) for s in mini_env.head_sizes]
    assert value.shape == (0,) and h.shape == (0, SIZES["small"]["hidden"]) and actions.shape == (0, len(logits))


def test_absent_entity_rows_change_nothing(mini_env, mini_net):
    obs = trajectory(mini_env, 4)[-1]
    ents = mini_env.layout.view(obs, "entities")
    absent = ents[..., EntityFeature.PRESENT] == 0
    assert absent.any() and (~absent).any()
    noisy = obs.copy()
    view = mini_env.layout.view(noisy, "entities")
    garbage = np.random.default_rng(0).integers(1, 256, view.shape, dtype=np.uint8)
    garbage[..., EntityFeature.PRESENT] = 0
    view[absent] = garbage[absent]
    assert not np.array_equal(noisy, obs)
    with torch.no_grad():
        state = mini_net.initial_state(len(obs))
        clean = mini_net.step(torch.from_numpy(obs), state)
        dirty = mini_net.step(torch.from_numpy(noisy), state)
    for a, b in zip(clean[0], dirty[0]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(clean[1], dirty[1], rtol=0, atol=0)


def test_network_full_config_has_twelve_heads_and_two_pointer_heads(full_env):
    obs = trajectory(full_env, 3)[-1]
    net = PolicyNetwork(shape_of(full_env), **SIZES["small"]).eval()
    assert len(net.heads) == 12 == len(full_env.head_sizes)
    assert net.head_sizes == [int(s) for s in full_env.head_sizes]
    assert net.pointer == {2, 8}  # attack target, give target
    entities = full_env.base_config.shape.obs_entities
    assert full_env.head_sizes[2] == full_env.head_sizes[8] == entities + 1  # none + one per entity row
    with torch.no_grad():
        logits, value, _ = net.step(torch.from_numpy(obs), net.initial_state(len(obs)))
        actions, _ = sample(logits, torch.Generator().manual_seed(0))
    assert [y.shape[1] for y in logits] == list(full_env.head_sizes)
    masks = head_masks(full_env, obs)
    rows = np.arange(len(obs))
    for h, mask in enumerate(masks):
        assert mask[rows, actions[:, h].numpy()].all(), f"head {h} sampled a masked choice"


def test_large_size_builds_on_the_full_config(full_env):
    net = PolicyNetwork(shape_of(full_env), **SIZES["large"]).eval()
    obs, _ = full_env.reset(0)
    with torch.no_grad():
        logits, value, (h, _) = net.step(torch.from_numpy(obs[:2]), net.initial_state(2))
    assert h.shape == (2, 256) and len(logits) == 12 and value.shape == (2,)


def test_network_rejects_a_vision_below_four(mini_env):
    with pytest.raises(ValueError, match="vision"):
        PolicyNetwork({**shape_of(mini_env), "vision": 3})


def test_unroll_equals_repeated_steps_with_starts_and_a_dead_row(mini_env, mini_net):
    steps, alive = 6, SelfFeature.ALIVE
    obs = torch.from_numpy(trajectory(mini_env, steps))
    batch = obs.shape[1]
    self_offset = mini_env.layout.parts["self"][0]
    obs[2:4, 10, self_offset + alive] = 0  # agent 10 is dead at ticks 2 and 3, revived at 4 (no start)
    starts = torch.zeros(steps, batch, dtype=torch.bool)
    starts[0, 7] = True
    starts[3, :5] = True  # a new life starts in the middle of the segment
    gen = torch.Generator().manual_seed(1)
    state = (torch.randn(batch, mini_net.hidden, generator=gen), torch.randn(batch, mini_net.hidden, generator=gen))
    with torch.no_grad():
        logits, values = mini_net.unroll(obs, state, starts)
        s, ref_logits, ref_values = state, [], []
        for t in range(steps):
            lt, vt, s = mini_net.step(obs[t], s, starts[t])
            ref_logits.append(lt)
            ref_values.append(vt)
        no_starts, _ = mini_net.unroll(obs, state, torch.zeros_like(starts))
        fresh, _, _ = mini_net.step(obs[2, 10:11], mini_net.initial_state(1))
        revived, _, _ = mini_net.step(obs[4, 10:11], mini_net.initial_state(1))
        _, _, (h_dead, c_dead) = mini_net.step(obs[2, 10:11], (state[0][10:11], state[1][10:11]))
    for h in range(len(logits)):
        ref = torch.cat([ref_logits[t][h] for t in range(steps)])
        assert logits[h].shape == ref.shape == (steps * batch, mini_env.head_sizes[h])
        torch.testing.assert_close(logits[h], ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(values, torch.cat(ref_values), rtol=1e-5, atol=1e-5)
    # the starts and the dead row really reset the state (so the check above means something)
    row = 3 * batch + 0
    assert not torch.allclose(no_starts[0][row], logits[0][row])
    torch.testing.assert_close(logits[0][2 * batch + 10], fresh[0][0], rtol=1e-5, atol=1e-5)
    # a dead agent carries no state, so the revived one starts afresh
    assert not h_dead.any() and not c_dead.any()
    torch.testing.assert_close(logits[0][4 * batch + 10], revived[0][0], rtol=1e-5, atol=1e-5)


def test_sample_never_picks_a_masked_action_even_when_its_logit_is_largest(mini_env):
    obs = trajectory(mini_env, 5)[-1].copy()
    masks = head_masks(mini_env, obs)
    rng = np.random.default_rng(0)
    for mask in masks:  # zero entries by hand: choice 0 wherever another stays allowed, and random ones
        other = mask[:, 1:].any(1)
        mask[other, 0] = False
        drop = rng.random(mask.shape) < 0.4
        keep_row = (mask & ~drop).any(1)
        mask[keep_row] &= ~drop[keep_row]
    off = mini_env.layout.mask_offsets
    for h, mask in enumerate(masks):
        obs[:, off[h]: off[h] + mask.shape[1]] = mask
        assert mask.any(1).all()
    torch.manual_seed(0)
    net = PolicyNetwork(shape_of(mini_env), **SIZES["small"]).eval()
    with torch.no_grad():  # the network prefers exactly the choices forbidden above
        for head in net.heads:
            head.bias.zero_()
            head.bias[0] = 50.0
    rows = np.arange(len(obs))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        logits, _, _ = net.step(torch.from_numpy(obs), net.initial_state(len(obs)))
        for _ in range(30):
            actions, logp = sample(logits, gen)
            assert actions.dtype == torch.int64 and actions.shape == (len(obs), len(masks))
            for h, mask in enumerate(masks):
                assert mask[rows, actions[:, h].numpy()].all(), f"head {h} sampled a masked choice"
            assert torch.isfinite(logp).all()


def test_sample_is_seeded_and_uniform_over_the_allowed_choices():
    mask = torch.tensor([False, True, False, True, True])
    logits = [torch.zeros(6000, 5).masked_fill(~mask, -1e9)]
    a1, logp = sample(logits, torch.Generator().manual_seed(3))
    a2, _ = sample(logits, torch.Generator().manual_seed(3))
    assert torch.equal(a1, a2)
    counts = torch.bincount(a1[:, 0], minlength=5).numpy() / 6000
    assert counts[[0, 2]].sum() == 0
    np.testing.assert_allclose(counts[[1, 3, 4]], 1 / 3, atol=0.03)
    torch.testing.assert_close(logp, torch.full((6000,), -math.log(3)))


def test_evaluate_actions_matches_sample_and_gives_the_entropy_of_the_allowed_choices(mini_env, mini_net):
    obs, _ = mini_env.reset(0)
    with torch.no_grad():
        logits, _, _ = mini_net.step(torch.from_numpy(obs), mini_net.initial_state(len(obs)))
        actions, logp = sample(logits, torch.Generator().manual_seed(0))
        logp2, entropy = evaluate_actions(logits, actions)
    torch.testing.assert_close(logp, logp2)
    assert (entropy >= 0).all() and torch.isfinite(entropy).all()
    # uniform over the allowed choices: entropy = sum over heads of log(allowed count)
    masks = [torch.from_numpy(m) for m in head_masks(mini_env, obs)]
    uniform = [torch.zeros(m.shape).masked_fill(~m, -1e9) for m in masks]
    _, entropy = evaluate_actions(uniform, torch.zeros(len(obs), len(masks), dtype=torch.int64))
    expected = sum(torch.log(m.sum(1).float()) for m in masks)
    torch.testing.assert_close(entropy, expected, rtol=1e-5, atol=1e-5)


# --- checkpoints --------------------------------------------------------------------------------


def test_saved_checkpoint_loads_with_weights_only_and_carries_metadata(saved, mini_net):
    payload = torch.load(saved, weights_only=True)
    assert set(payload) == {"metadata", "state_dict", "optimizer", "trainer"}
    meta = payload["metadata"]
    assert meta["format"] == checkpoint.FORMAT and meta["architecture"] == ARCHITECTURE
    assert meta["layout_version"] == Layout.VERSION and meta["layout_size"] == mini_net.layout.size
    assert meta["head_sizes"] == mini_net.head_sizes and meta["agent_steps"] == 1234
    assert meta["game"] == "team_battle" and meta["config"] == "mini"
    for key, value in mini_net.state_dict().items():
        assert torch.equal(payload["state_dict"][key], value)


def test_checkpoint_records_the_game_options_as_plain_data(tmp_path, mini_net):
    """A curriculum given as a Path (the Python API's type) is recorded as its string, so the file
    still loads with ``weights_only``; checkpoints without game options record ``{}``."""
    curriculum = tmp_path / "my curriculum.yaml"
    meta = checkpoint.metadata(mini_net, "multitask", "full", 5, {"curriculum": curriculum})
    path = checkpoint.save(tmp_path / "c.pt", mini_net, meta)
    assert torch.load(path, weights_only=True)["metadata"]["game_options"] == {"curriculum": str(curriculum)}
    assert checkpoint.metadata(mini_net, "team_battle", "mini", 5)["game_options"] == {}


def test_export_refuses_to_write_over_a_source_it_would_lose_state_of(tmp_path, mini_net):
    source = tmp_path / "latest.pt"
    checkpoint.save(source, mini_net, checkpoint.metadata(mini_net, "team_battle", "mini", 7),
                    optimizer={"state": {}, "param_groups": []}, trainer={"updates": 3})
    before = source.read_bytes()
    (tmp_path / "link.pt").symlink_to(source)
    with pytest.raises(ValueError, match="is the source, whose optimizer and trainer state"):
        checkpoint.export(source, tmp_path / "link.pt")
    assert source.read_bytes() == before
    exported = checkpoint.export(source, tmp_path / "policy.pt")
    checkpoint.export(exported, exported, decoding="greedy")  # nothing to lose: rewritten in place
    assert checkpoint.read(exported)["metadata"]["decoding"] == "greedy"


def test_round_trip_gives_identical_actions(saved, mini_net, mini_env):
    loaded = load_policy(saved, seed=5)
    direct = TorchPolicy(mini_net, seed=5)
    other_seed = load_policy(saved, seed=6)
    obs, _ = mini_env.reset(0)
    s1, s2, s3 = loaded.initial_state(128), direct.initial_state(128), other_seed.initial_state(128)
    differ = False
    for _ in range(4):
        a1, s1 = loaded.act(obs, s1)
        a2, s2 = direct.act(obs, s2)
        a3, s3 = other_seed.act(obs, s3)
        assert a1.dtype == np.int32 and a1.shape == (128, len(mini_env.head_sizes))
        np.testing.assert_array_equal(a1, a2)
        torch.testing.assert_close(s1, s2)
        differ |= not np.array_equal(a1, a3)
        obs, *_ = mini_env.step(a1)
    assert differ  # the seed drives the sampling


def test_export_drops_training_state_and_sets_the_decoding(tmp_path, mini_net, mini_env, capsys):
    source = tmp_path / "run.pt"
    checkpoint.save(source, mini_net, checkpoint.metadata(mini_net, "team_battle", "mini", 7),
                    optimizer={"state": {}, "param_groups": []}, trainer={"updates": 3})
    plain = checkpoint.export(source, tmp_path / "plain.pt")
    greedy = checkpoint.export(source, tmp_path / "greedy.pt", decoding="greedy")
    payload = checkpoint.read(greedy)
    assert payload["optimizer"] is None and payload["trainer"] is None
    assert payload["metadata"]["decoding"] == "greedy" and payload["metadata"]["agent_steps"] == 7
    assert "decoding" not in checkpoint.read(plain)["metadata"]  # the source's: none, so sampling
    assert checkpoint.read(checkpoint.export(greedy, tmp_path / "again.pt"))["metadata"]["decoding"] == "greedy"
    assert load_policy(plain).decoding == "sample"

    # greedy: each head's most likely allowed choice, whatever the seed
    a, b = load_policy(greedy, seed=1), load_policy(greedy, seed=2)
    obs, _ = mini_env.reset(0)
    sa, sb, sn = a.initial_state(128), b.initial_state(128), mini_net.initial_state(128)
    for _ in range(3):
        acts, sa = a.act(obs, sa)
        other, sb = b.act(obs, sb)
        np.testing.assert_array_equal(acts, other)
        with torch.inference_mode():
            logits, _, sn = mini_net.step(torch.from_numpy(obs), sn)
        best = np.stack([y.argmax(-1).numpy() for y in logits], 1)
        np.testing.assert_array_equal(acts, best)
        masks = [mini_env.layout.view(obs, m) for m in ("mask_move", "mask_style", "mask_target", "mask_comm")]
        for h, mask in enumerate(masks):
            assert mask[np.arange(128), acts[:, h]].all()
        obs, *_ = mini_env.step(acts)

    with pytest.raises(ValueError, match=r"decoding must be one of \['sample', 'greedy'\], got 'top_k'"):
        checkpoint.export(source, tmp_path / "bad.pt", decoding="top_k")
    assert not (tmp_path / "bad.pt").exists()
    from baselines.checkpoint import main as checkpoint_cli

    assert checkpoint_cli(["export", str(source), str(tmp_path)]) == 2
    assert f"{tmp_path} is a folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="decoding must be one of"):
        TorchPolicy(mini_net, decoding="argmax")
    meta = {**checkpoint.read(plain)["metadata"], "decoding": "beam"}
    checkpoint.save(tmp_path / "odd.pt", mini_net, meta)
    with pytest.raises(ValueError, match=r"odd.pt: checkpoint decoding 'beam' is not one of"):
        load_policy(tmp_path / "odd.pt")


def test_torch_policy_rejects_observations_of_another_width(saved):
    policy = load_policy(saved)
    with pytest.raises(ValueError, match="observations must be"):
        policy.act(np.zeros((4, policy.layout.size + 1), np.uint8), policy.initial_state(4))


def test_save_is_atomic(tmp_path, mini_net, monkeypatch):
    path = tmp_path / "latest.pt"
    meta = checkpoint.metadata(mini_net, "team_battle", "mini", 0)
    checkpoint.save(path, mini_net, meta)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        checkpoint.save(path, mini_net, {**meta, "agent_steps": 99})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]  # no temporary file left
    monkeypatch.undo()
    nested = checkpoint.save(tmp_path / "a" / "b" / "c.pt", mini_net, meta)  # parents are created
    assert checkpoint.read(nested)["metadata"]["agent_steps"] == 0


class _Evil:
    """Pickles to a call of ``os.system``: what a hostile checkpoint would carry."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def test_a_checkpoint_carrying_code_is_refused_and_the_code_never_runs(tmp_path, saved):
    payload = torch.load(saved, weights_only=True)
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({**payload, "trainer": _Evil(marker)}, path)
    with pytest.raises(ValueError, match=r"not a loadable torch checkpoint \(.*\): it holds \S*\.system$"):
        load_policy(path)
    assert not marker.exists()
    yaml_file = tmp_path / "config.yaml"
    yaml_file.write_text("a: 1\nb: [2]\n")  # torch's own error (IndexError: pop from empty list) is not shown
    with pytest.raises(ValueError, match=r"not a loadable torch checkpoint \(.*plain data\)$"):
        load_policy(yaml_file)
    # the payload is live: plain unpickling would have run it
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Evil(control)))
    assert control.exists()


@pytest.mark.parametrize("make, error, message", [
    (lambda d: d / "absent.pt", FileNotFoundError, "is not a file"),
    (lambda d: d, FileNotFoundError, "is not a file"),
    (lambda d: d / "empty.pt", ValueError, "not a loadable torch checkpoint"),
    (lambda d: d / "random.pt", ValueError, "not a loadable torch checkpoint"),
    (lambda d: d / "notes.txt", ValueError, "not a loadable torch checkpoint"),
    (lambda d: d / "hello.txt", ValueError, "not a loadable torch checkpoint"),
    (lambda d: d / "readme.txt", ValueError, "not a loadable torch checkpoint"),
    (lambda d: d / "truncated.pt", ValueError, "not a loadable torch checkpoint"),
], ids=["missing", "directory", "empty", "random-bytes", "text", "text-hello", "text-a", "truncated"])
def test_bad_files_raise_clear_errors(tmp_path, saved, make, error, message):
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "random.pt").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    (tmp_path / "notes.txt").write_text("not a checkpoint\n")
    (tmp_path / "hello.txt").write_text("hello world\n")
    (tmp_path / "readme.txt").write_text("a text file\n")
    data = saved.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    path = make(tmp_path)
    with pytest.raises(error, match=message) as info:
        load_policy(path)
    assert str(path) in str(info.value)


def _meta(**changes):
    def change(p):
        p["metadata"].update(changes)
    return change


def _weights(fn):
    def change(p):
        fn(p["state_dict"])
    return change


def _set(key, value):
    def fn(sd):
        sd[key] = value
    return fn


def _poison(key, value):
    def fn(sd):
        sd[key] = sd[key].clone()
        sd[key].view(-1)[0] = value
    return fn


def _kwargs(**changes):
    def change(p):
        p["metadata"]["kwargs"] = {**p["metadata"]["kwargs"], **changes}
    return change


BAD_PAYLOADS = {
    "not-a-dict": (lambda p: [1, 2, 3], "expected a dict"),
    "no-metadata": (lambda p: {"state_dict": p["state_dict"]}, "'metadata'"),
    "metadata-not-a-dict": (lambda p: {**p, "metadata": "hello"}, "format"),
    "format-name": (_meta(format="other-checkpoint"), "other-checkpoint"),
    "format-version": (_meta(format_version=99), "format version 99"),
    "metadata-lacks-keys": (lambda p: {**p, "metadata": {k: v for k, v in p["metadata"].items() if k != "head_sizes"}},
                            "lacks.*head_sizes"),
    "architecture": (_meta(architecture="transformer"), "unknown architecture 'transformer'.*metammo_lstm"),
    "layout-version": (_meta(layout_version=Layout.VERSION + 1), f"layout version {Layout.VERSION + 1}"),
    "layout-version-3-full": (_meta(layout_version=3, config="full"), "layout version 3"),  # PROGRESSION is 1 there
    "layout-size": (_meta(layout_size=7), "layout size 7"),
    "head-sizes-type": (_meta(head_sizes=5), "metadata 'head_sizes' must be a list of ints, got 5"),
    "kwargs-type": (_meta(kwargs=[1]), "metadata 'kwargs' must be a dict, got \\[1\\]"),
    "layout-size-type": (_meta(layout_size="big"), "metadata 'layout_size' must be an int, got 'big'"),
    "bad-kwargs": (_kwargs(colour="red"), "rejects kwargs"),
    "negative-kwargs": (_kwargs(hidden=-1), "rejects kwargs"),
    "weight-shape": (_weights(_set("value.weight", torch.zeros(1, 3))), "'value.weight' has shape \\(1, 3\\)"),
    "weight-not-a-tensor": (_weights(_set("value.weight", [0.0])), "'value.weight'"),
    "missing-weight": (_weights(lambda sd: sd.pop("value.bias")), "missing \\['value.bias'\\]"),
    "unexpected-weight": (_weights(_set("extra.weight", torch.zeros(2))), "unexpected \\['extra.weight'\\]"),
    "nan-weight": (_weights(_poison("lstm.weight_ih", float("nan"))), "'lstm.weight_ih' holds NaN or inf"),
    "inf-weight": (_weights(_poison("value.bias", float("inf"))), "'value.bias' holds NaN or inf"),
    "minus-inf-weight": (_weights(_poison("tile_out.weight", float("-inf"))), "'tile_out.weight' holds NaN or inf"),
}


@pytest.mark.parametrize("name", list(BAD_PAYLOADS))
def test_bad_checkpoints_raise_value_errors_naming_the_problem(tmp_path, saved, name):
    change, message = BAD_PAYLOADS[name]
    payload = torch.load(saved, weights_only=True)
    payload = change(payload) or payload
    path = tmp_path / f"{name}.pt"
    torch.save(payload, path)
    with pytest.raises(ValueError, match=message):
        load_policy(path)


def test_mini_checkpoints_of_layout_3_still_play(tmp_path, saved):
    """Layout 4 added System.PROGRESSION in a reserved column that stays 0 in mini, so a mini
    checkpoint of layout 3 (the shipped generalist's, and those already on leaderboards) reads
    the same rows."""
    payload = torch.load(saved, weights_only=True)
    assert payload["metadata"]["config"] == "mini"
    payload["metadata"]["layout_version"] = 3
    torch.save(payload, tmp_path / "v3.pt")
    assert load_policy(tmp_path / "v3.pt").metadata["layout_version"] == 3
    shipped = Path(checkpoint.__file__).parent / "checkpoints" / "generalist_mini.pt"
    assert torch.load(shipped, weights_only=True)["metadata"]["layout_version"] == 3  # played through this


# --- evaluation ---------------------------------------------------------------------------------


def test_slots_take_whole_teams_round_robin():
    mask = slots(128, 8, 2) == 0
    assert mask.sum() == 64
    teams = mask.reshape(16, 8)
    assert (teams.all(1) | ~teams.any(1)).all()  # whole teams
    assert teams[0].all() and not teams[1].any()
    np.testing.assert_array_equal(slots(128, 8, 2, rotate=1) == 0, ~mask)
    np.testing.assert_array_equal(slots(6, 1, 2), [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(slots(8, 2, 3, rotate=1), [1, 1, 2, 2, 0, 0, 1, 1])


def test_bootstrap_ci():
    rng = np.random.default_rng(0)
    few, many = rng.normal(5, 2, 10), rng.normal(5, 2, 1000)
    for values in (few, many):
        mean, low, high = bootstrap_ci(values)
        assert low <= mean <= high
        assert mean == pytest.approx(values.mean())
    (_, low_few, high_few), (_, low_many, high_many) = bootstrap_ci(few), bootstrap_ci(many)
    assert high_many - low_many < high_few - low_few
    assert bootstrap_ci(few, seed=3) == bootstrap_ci(few, seed=3)
    assert bootstrap_ci([2.5]) == (2.5, 2.5, 2.5)
    with pytest.raises(ValueError, match="at least one value"):
        bootstrap_ci([])


def _result(game, background, focal, other):
    return {"game": game, "policies": ["focal", background], "scores": [focal, other],
            "win_rates": [float(focal > other), float(other > focal)]}


def test_summarize_gives_verdicts_per_game_and_opponent():
    rng = np.random.default_rng(0)
    results = []
    for _ in range(8):
        results.append(_result("team_battle", "random", 10 + rng.normal(0, 0.1), 1 + rng.normal(0, 0.1)))
        results.append(_result("team_battle", "scripted", 1 + rng.normal(0, 0.1), 10 + rng.normal(0, 0.1)))
        results.append(_result("sandwich", "random", 5 + rng.normal(0, 1), 5 + rng.normal(0, 1)))
    rows = {(r["game"], r["opponent"]): r for r in summarize(results)}
    assert set(rows) == {("team_battle", "random"), ("team_battle", "scripted"), ("sandwich", "random")}
    assert [rows[k]["verdict"] for k in sorted(rows)] == ["tie", "better", "worse"]
    row = rows[("team_battle", "random")]
    assert row["matches"] == 8
    assert row["focal"]["low"] <= row["focal"]["score"] <= row["focal"]["high"]
    assert row["focal"]["win_rate"] == 1.0 and row["background"]["win_rate"] == 0.0


def test_play_scripted_against_random():
    match = Match("team_battle", "mini", ("scripted", "random"), seed=0, overrides={"horizon": 48})
    result = play(match)
    assert result["game"] == "team_battle" and result["overrides"] == {"horizon": 48}
    assert 0 < result["length"] <= 48
    assert result["agents"] == [64, 64] and "replay" not in result and "completion" not in result
    assert result["scores"][0] > result["scores"][1]  # whole teams per side: the scripted half outlives random
    for i in range(2):
        assert 0.0 <= result["scores"][i] <= 17.0
        assert 0.0 <= result["win_rates"][i] <= 1.0
    assert json.loads(json.dumps(result)) == result  # JSON-ready


def test_play_three_policies_with_a_replay():
    result = play(Match("race_to_the_center", "mini", ("scripted", "random", "scripted"), seed=2, rotate=1,
                        overrides={"horizon": 24}, record=True))
    assert sum(result["agents"]) == 128 and len(result["scores"]) == 3
    replay = loads(result["replay"])
    assert replay.length == result["length"] and replay.meta["game"] == "race_to_the_center"
    assert set(replay.meta["policies"].values()) == {"scripted", "random"}


def test_play_a_checkpoint(saved):
    result = play(Match("team_battle", "mini", (str(saved), "scripted"), seed=1, rotate=1, overrides={"horizon": 16}))
    assert 0 < result["length"] <= 16 and math.isfinite(result["scores"][0])


def test_make_policy_errors(tmp_path, mini_env, full_env):
    with pytest.raises(ValueError, match="'no_such_policy'.*random.*scripted"):
        make_policy("no_such_policy", mini_env, 0)
    full_net = PolicyNetwork(shape_of(full_env), **SIZES["small"])
    path = checkpoint.save(tmp_path / "full.pt", full_net, checkpoint.metadata(full_net, "team_battle", "full", 0))
    assert make_policy(str(path), full_env, 0).layout.size == full_env.layout.size
    with pytest.raises(ValueError, match=rf"trained on config 'full' \(observations of {full_env.layout.size} bytes, "
                                         rf"heads \[5, 3, .*\]\); this env plays config 'mini'"):
        make_policy(str(path), mini_env, 0)


@pytest.mark.parametrize("args,message", [
    (["episodes=1"], "evaluation needs episodes >= 2 (a confidence interval)"),
    (["opponents=[]"], "at least one game and one opponent"),
    (["focal=/no/such.pt"], "/no/such.pt"),
    (["games=[team_batle]"], "unknown game 'team_batle'"),
    (["+overrides.horizn=5"], "overrides {'horizn': 5}: unknown config key(s) ['horizn']"),
    (["+game_options.colour=red"], "game_options: no game of ['team_battle', 'protect_the_king', "
                                   "'race_to_the_center', 'king_of_the_hill', 'sandwich'] takes ['colour']"),
    (["+game_options.difficulty=0"], "game_options: ['difficulty'] are the evaluation's own"),
    (["progress=yes"], "progress must be auto, true or false, got 'yes'"),
    (["config=full", "games=[multitask]", "+game_options.curriculum=/no/such.yaml"],
     "curriculum /no/such.yaml: no such file"),
])
def test_evaluate_cli_reports_a_bad_setting_in_one_line(tmp_path, args, message):
    env = {**os.environ, "WANDB_MODE": "offline"}
    out = subprocess.run([sys.executable, "-m", "baselines.evaluate", *args, f"hydra.run.dir={tmp_path / 'bad'}"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr[-3000:]
    assert "error: " in out.stdout + out.stderr and message in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "[baselines.train]" not in out.stdout + out.stderr, "logged as evaluation's, not training's"
    assert not (tmp_path / "bad" / "results.json").exists()


def test_evaluate_cli_writes_results(tmp_path):
    run_dir = tmp_path / "eval"
    env = {**os.environ, "WANDB_MODE": "offline"}
    out = subprocess.run(
        [sys.executable, "-m", "baselines.evaluate", "focal=scripted", "opponents=[random]", "games=[team_battle]",
         "episodes=2", "workers=1", "+overrides.horizon=48", f"hydra.run.dir={run_dir}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert len(results["matches"]) == 2 and results["focal"] == "scripted"
    assert [m["rotate"] for m in results["matches"]] == [0, 1]
    assert all(m["length"] <= 48 for m in results["matches"])
    (row,) = results["rows"]
    assert row["game"] == "team_battle" and row["opponent"] == "random" and row["matches"] == 2
    assert row["verdict"] in ("better", "worse", "tie")


def test_evaluation_gives_each_game_the_game_options_it_takes(tmp_path):
    """``game_options``: Multi-task gets the curriculum and plays its held-out tasks; Survival,
    which takes no curriculum, plays without it."""
    curriculum = tmp_path / "mine.yaml"
    curriculum.write_text("train:\n  - {name: foraging/eat_3, task: {CountEvent: {event: eat, n: 3}}}\n"
                          "eval:\n  - {name: travel/travel_4, task: {DistanceTraveled: {n: 4}}}\n")
    matches = matches_for("scripted", ["random"], ["multitask", "survival"], "full", 2, 0, {"horizon": 16},
                          {"curriculum": str(curriculum)})
    assert [m.game_options for m in matches] == [{"curriculum": str(curriculum)}] * 2 + [{}] * 2
    result = play(matches[0])
    assert result["game_options"] == {"curriculum": str(curriculum)}
    assert all(set(side) == {"travel"} for side in result["completion"])  # the held-out task's category


@pytest.mark.parametrize("curriculum", [True, False], ids=["curriculum", "randomization-only"])
def test_evaluate_cli_warns_when_the_focal_was_trained_with_other_game_options(tmp_path, curriculum):
    """A curriculum changes what Multi-task plays: evaluating without it warns. A randomization
    spec does not (evaluation plays none): no warning."""
    path = tmp_path / "mine.yaml"
    path.write_text("train:\n  - {name: foraging/eat_3, task: {CountEvent: {event: eat, n: 3}}}\n"
                    "eval:\n  - {name: foraging/drink_3, task: {CountEvent: {event: drink, n: 3}}}\n")
    trained = {"randomization": {"water_threshold": {"uniform": [0.05, 0.15]}}}
    if curriculum:
        trained["curriculum"] = str(path)
    focal = tmp_path / "focal.pt"
    full_net = PolicyNetwork(shape_of(metammo.make("multitask", "full")), **SIZES["small"])
    checkpoint.save(focal, full_net, checkpoint.metadata(full_net, "multitask", "full", 1, trained))
    env = {**os.environ, "WANDB_MODE": "offline"}
    out = subprocess.run(
        [sys.executable, "-m", "baselines.evaluate", f"focal={focal}", "opponents=[random]", "config=full",
         "games=[multitask]", "episodes=2", "workers=1", "+overrides.horizon=8", f"hydra.run.dir={tmp_path / 'eval'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    warning = f"focal {focal} was trained with game options {{'curriculum': '{path}'}}; this evaluation plays {{}}"
    assert (warning in out.stdout + out.stderr) == curriculum
    assert ("was trained with game options" in out.stdout + out.stderr) == curriculum


def test_run_matches_cancels_the_matches_not_started_when_anything_raises(monkeypatch):
    """Ctrl-C (or a failed store) stops a many-process evaluation now, not after every queued
    match: the pool's pending matches are cancelled (threads stand in for the processes)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from baselines import evaluate

    played = []
    lock = threading.Lock()

    def fake_play(match):
        time.sleep(0.01)
        with lock:
            played.append(match.seed)
        return {"seed": match.seed}

    def interrupted(result):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate, "play", fake_play)
    monkeypatch.setattr(evaluate, "ProcessPoolExecutor", lambda workers, mp_context, initializer: ThreadPoolExecutor(1))
    matches = [Match("sandbox", "mini", ("random",), seed) for seed in range(40)]
    with pytest.raises(KeyboardInterrupt):
        evaluate.run_matches(matches, workers=2, on_result=interrupted)
    assert len(played) <= 2  # the first, and at most the one its worker had begun
    assert evaluate.run_matches(matches[:3], workers=2) == [{"seed": 0}, {"seed": 1}, {"seed": 2}]
