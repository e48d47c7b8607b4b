"""``trainer=puffer`` (baselines/puffer.py): PufferLib's PuffeRL on our env and policy network.

Runs where pufferlib 3 is installed (``bash tools/install-pufferlib.sh .venv-puffer``); skipped
elsewhere. Importing pufferlib leaves a ``resources`` symlink in the working directory, so the
tests run in ``tmp_path`` and pufferlib is only imported through :mod:`baselines.puffer` (which
imports it from a temporary folder).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("pufferlib") is None:
    pytest.skip("pufferlib is not installed (bash tools/install-pufferlib.sh VENV)", allow_module_level=True)

import numpy as np
import torch
from hydra import compose, initialize_config_dir

from baselines import puffer
from baselines.checkpoint import load_policy
from baselines.evaluate import Match, play
from baselines.network import SIZES, PolicyNetwork, sample
from baselines.train import CONFIG_PATH

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def composed(*overrides):
    with initialize_config_dir(config_dir=CONFIG_PATH, version_base="1.3"):
        return compose("train", overrides=["trainer=puffer", *overrides])


def test_policy_forward_matches_forward_eval_tick_by_tick():
    """forward over (segments, ticks) gives, row for row in segment-major order, what forward_eval
    gives tick by tick from a zero state; forward_eval replaces the state in the dict."""
    torch.manual_seed(0)
    env = puffer.MetammoPufferEnv("team_battle", "mini", seed=0)
    obs, _ = env.reset(0)
    net = PolicyNetwork(dataclasses.asdict(env.env.base_config.shape), **SIZES["small"])
    policy = puffer.PufferPolicy(net)
    assert policy.hidden_size == 64
    agents, ticks, heads = env.num_agents, 3, len(env.env.head_sizes)
    state = {"lstm_h": torch.zeros(agents, 64), "lstm_c": torch.zeros(agents, 64)}
    seen, eval_logits, eval_values = [], [], []
    with torch.no_grad():
        for t in range(ticks):
            seen.append(torch.from_numpy(obs.copy()))
            before = state["lstm_h"]
            logits, values = policy.forward_eval(seen[-1], state)
            assert [y.shape for y in logits] == [(agents, int(s)) for s in env.env.head_sizes]
            assert values.shape == (agents,) and state["lstm_h"].shape == (agents, 64)
            assert state["lstm_h"] is not before and state["lstm_h"].abs().sum() > 0
            eval_logits.append(logits)
            eval_values.append(values)
            obs, *_ = env.step(sample(logits)[0].int().numpy())
        segments = torch.stack(seen, 1)  # (agents, ticks, size): one segment per agent
        logits, values = policy.forward(segments, {"lstm_h": None, "lstm_c": None})
    assert values.shape == (agents, ticks)
    assert torch.allclose(values, torch.stack(eval_values, 1), atol=1e-5)
    assert len(logits) == heads
    for h in range(heads):
        expected = torch.stack([eval_logits[t][h] for t in range(ticks)], 1).reshape(agents * ticks, -1)
        assert torch.allclose(logits[h], expected, atol=1e-4)


def test_serial_vecenv_gathers_envs_and_reports_episode_ends():
    """Two envs under PufferLib's Serial backend: each env's rows, the horizon's end folded into
    terminals, masks all true (agent steps dead or alive), per-game episode metrics."""
    import pufferlib.vector

    vecenv = pufferlib.vector.make(puffer.MetammoPufferEnv, backend=pufferlib.vector.Serial, num_envs=2,
                                   env_kwargs={"game": "team_battle", "config": "mini", "horizon": 3})
    vecenv.async_reset(5)
    obs, rewards, terminals, truncations, infos, _, masks = vecenv.recv()
    assert obs.shape == (256, vecenv.single_observation_space.shape[0]) and not infos
    for i, env in enumerate(vecenv.envs):
        assert np.array_equal(obs[128 * i:128 * (i + 1)], env.env.observations)
    for _ in range(3):
        vecenv.send(np.zeros((256, 4), np.int32))
        obs, rewards, terminals, truncations, infos, _, masks = vecenv.recv()
    assert masks.all()
    assert truncations.any() and np.array_equal(terminals, terminals | truncations)
    assert len(infos) == 2 and all(set(info) == {"team_battle"} for info in infos)
    assert {"return", "length", "score", "win_rate", "task_progress", "difficulty"} == set(infos[0]["team_battle"])
    assert infos[0]["team_battle"]["length"] == 3


def test_config_rejects_ppo_keys_and_budgets_below_one_batch():
    with pytest.raises(ValueError, match="rollout_ticks"):
        puffer.puffer_config(composed("experiment=smoke"))
    cfg = puffer.puffer_config(composed("game=team_battle", "trainer.total_agent_steps=1000", "trainer.num_envs=1"))
    assert cfg.game == "team_battle" and cfg.policy_size == "small"
    with pytest.raises(ValueError, match=r"at least one batch \(4096\)"):
        puffer.Trainer(cfg, "unused")


def test_missing_pufferlib_names_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pufferlib", None)  # `import pufferlib` now fails
    monkeypatch.delitem(sys.modules, "baselines.puffer")
    with pytest.raises(ImportError, match=r"pip install metammo\[puffer\].*tools/install-pufferlib.sh"):
        importlib.import_module("baselines.puffer")
    assert Path.cwd() == tmp_path  # the failed import went back to the working directory


def test_train_cli_writes_a_checkpoint_that_plays(tmp_path):
    run_dir = tmp_path / "run"
    out = subprocess.run(
        [sys.executable, "-m", "baselines.train", "trainer=puffer", "game=team_battle",
         "trainer.total_agent_steps=8192", "trainer.num_envs=1", "trainer.bptt_horizon=16",
         "trainer.minibatch_size=1024", "trainer.threads=1", "trainer.checkpoint_every=1", f"hydra.run.dir={run_dir}"],
        cwd=tmp_path, env={**os.environ, "WANDB_MODE": "offline"}, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    path = run_dir / "checkpoints" / "latest.pt"
    assert f"checkpoint: {path}" in out.stdout
    assert not (tmp_path / "resources").exists()
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["agent_steps"] == 8192 and records[-1]["epoch"] == 4
    assert math.isfinite(records[-1]["losses/entropy"]) and records[-1]["SPS"] > 0
    policy = load_policy(path)
    assert policy.metadata["agent_steps"] == 8192 and policy.metadata["game"] == "team_battle"
    result = play(Match("team_battle", "mini", (str(path), "scripted"), seed=0, overrides={"horizon": 16}))
    assert result["agents"] == [64, 64] and 0 < result["length"] <= 16
    assert all(math.isfinite(s) for s in result["scores"])


@pytest.mark.parametrize("override, message", [
    ("+game.options.curriculum=missing.yaml", "curriculum missing.yaml: no such file"),  # from the envs' setup
    ("trainer.minibatch_size=1000", "minibatch_size 1000 must be divisible by bptt_horizon 32"),  # PuffeRL's own
])
def test_train_cli_refuses_bad_settings_in_one_line_before_writing(tmp_path, override, message):
    run_dir = tmp_path / "run"
    out = subprocess.run(
        [sys.executable, "-m", "baselines.train", "trainer=puffer", "game=multitask", "env=full", "trainer.num_envs=1",
         override, f"hydra.run.dir={run_dir}"],
        cwd=tmp_path, env={**os.environ, "WANDB_MODE": "offline"}, capture_output=True, text=True, timeout=180)
    assert out.returncode == 2, out.stderr[-3000:]
    assert f"error: {message}" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert not (run_dir / "metrics.jsonl").exists() and not (run_dir / "wandb").exists()
