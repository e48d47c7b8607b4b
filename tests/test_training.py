"""The PPO trainer (baselines/ppo.py), run tracking (baselines/tracking.py) and the Hydra entry
point (baselines/train.py, conf/): background rows, determinism, resume, checkpoints, metrics,
wandb offline runs, every experiment preset, sweeps, and the command line end to end."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from baselines import checkpoint
from baselines.checkpoint import load_policy
from baselines.network import PolicyNetwork
from baselines.ppo import (Envs, KickstartConfig, Opponents, PPOConfig, RewardConfig, SelfPlayConfig, Teacher, Trainer,
                          per_game_advantages, resolve_device, step_rows)
from baselines.tracking import LiveView, RunLog, show_progress, wandb_mode
from baselines.train import CONFIG_PATH, ppo_config

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p.stem for p in (Path(CONFIG_PATH) / "experiment").glob("*.yaml"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**changes) -> PPOConfig:
    """One update of 16 ticks x 128 agents on Team Battle, whose 12-tick episodes end mid-rollout."""
    cfg = PPOConfig(game="team_battle", env_overrides={"horizon": 12}, num_envs=1, rollout_ticks=16, bptt=8,
                    epochs=1, minibatch_segments=64, total_agent_steps=2048, device="cpu", threads=1,
                    checkpoint_every=1, log_every=0.0, seed=3,
                    selfplay=SelfPlayConfig(past_fraction=0.25, scripted_fraction=0.25, snapshot_every=1))
    return dataclasses.replace(cfg, **changes)


class Tracker:
    """Records what the trainer sends to a tracker."""

    def __init__(self):
        self.records, self.checkpoints = [], []

    def log(self, record):
        self.records.append(record)

    def checkpoint(self, path, metadata):
        self.checkpoints.append((Path(path), metadata))

    def video(self, frames, step, fps=8):
        pass


def weights(net) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A Trainer after one update, its initial weights, its tracker and its final checkpoint."""
    tracker = Tracker()
    trainer = Trainer(tiny(), tmp_path_factory.mktemp("run"), tracker)
    initial = weights(trainer.net)
    path = trainer.train()
    return trainer, initial, tracker, path


# --- trainer ------------------------------------------------------------------------------------


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_trainer_rejects_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="unknown policy size 'huge'.*large.*small"):
        Trainer(tiny(policy_size="huge"), tmp_path)
    with pytest.raises(ValueError, match=r"rollout_ticks \(12\) must be a multiple of bptt \(8\)"):
        Trainer(tiny(rollout_ticks=12), tmp_path)
    for bad in (KickstartConfig(weight=-0.1), KickstartConfig(weight=1.0, until=0.0), KickstartConfig(until=1.5)):
        with pytest.raises(ValueError, match=r"kickstart needs weight >= 0 and until in \(0, 1\]"):
            Trainer(tiny(kickstart=bad), tmp_path)
    with pytest.raises(ValueError, match=r"normalize_advantages must be one of \['minibatch', 'game', 'none'\], got 'yes'"):
        Trainer(tiny(normalize_advantages="yes"), tmp_path)
    for changes, match in [
        (dict(num_envs=0), r"trainer.num_envs must be >= 1, got 0"),
        (dict(bptt=0), r"trainer.bptt must be >= 1, got 0"),
        (dict(total_agent_steps=-5), r"trainer.total_agent_steps must be >= 1, got -5"),
        (dict(gamma=2.0), r"trainer.gamma must be in \[0, 1\], got 2.0"),
        (dict(learning_rate=-1e-3), r"trainer.learning_rate must be >= 0, got -0.001"),
        (dict(selfplay=SelfPlayConfig(pool_size=0)), r"trainer.selfplay.pool_size must be >= 1, got 0"),
        (dict(selfplay=SelfPlayConfig(past_fraction=0.6, scripted_fraction=0.6)),
         r"past_fraction \+ scripted_fraction must be < 1 \(the rest of the agents learn\), got 1.2"),
    ]:
        with pytest.raises(ValueError, match=match):
            Trainer(tiny(**changes), tmp_path)


def test_per_game_advantages_measure_and_standardize_each_game_alone():
    gen = torch.Generator().manual_seed(0)
    games = torch.tensor([[0, 0, 1, 1, 2]] * 50)  # game 2 (one column) has no valid step
    advantages = torch.randn((50, 5), generator=gen) * torch.tensor([5.0, 5.0, 0.01, 0.01, 3.0]) + 2.0
    valid = torch.rand((50, 5), generator=gen) < 0.8
    valid[:, 4] = False
    raw = advantages.clone()
    index = {"big": 0, "small": 1, "idle": 2}
    scales = per_game_advantages(advantages.clone(), valid, games, index, standardize=False)
    assert set(scales) == {"big/advantage_std", "small/advantage_std"}
    assert scales["big/advantage_std"] == pytest.approx(raw[valid & (games == 0)].std().item())
    assert scales["small/advantage_std"] < 0.02 < 4 < scales["big/advantage_std"]
    assert per_game_advantages(advantages, valid, games, index, standardize=True) == scales
    for g in (0, 1):
        rows = valid & (games == g)
        assert advantages[rows].mean().item() == pytest.approx(0.0, abs=1e-5)
        assert advantages[rows].std().item() == pytest.approx(1.0, abs=1e-4)
    assert torch.equal(advantages[~valid], raw[~valid])  # steps not learned from are left alone


def test_one_update_trains_logs_and_checkpoints(trained):
    trainer, initial, tracker, path = trained
    assert trainer.updates == 1 and trainer.agent_steps == 16 * 128 == trainer.batch
    assert path == trainer.run_dir / "checkpoints" / "latest.pt" and path.is_file()
    changed = [k for k, v in weights(trainer.net).items() if not torch.equal(v, initial[k])]
    assert changed, "the update left every weight unchanged"
    (record,) = tracker.records
    assert record["agent_steps"] == 2048 and record["updates"] == 1
    for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance", "grad_norm"):
        assert math.isfinite(record[key]), key
    assert record["team_battle/episodes"] >= 1  # 12-tick episodes ended inside the rollout
    assert record["team_battle/advantage_std"] > 0
    assert 0 < record["focal_live_share"] <= 0.5  # half the rows are background
    ((logged, meta),) = tracker.checkpoints
    assert logged == path and meta["agent_steps"] == 2048 and meta["game"] == "team_battle"
    policy = load_policy(path)
    for key, value in weights(trainer.net).items():
        assert torch.equal(policy.net.state_dict()[key], value)


def test_per_game_normalization_trains_on_standardized_advantages(tmp_path, monkeypatch):
    seen = []
    real = per_game_advantages

    def spy(advantages, valid, games, index, standardize):
        scales = real(advantages, valid, games, index, standardize)
        seen.append((standardize, advantages[valid & (games == index["team_battle"])].std().item()))
        return scales

    monkeypatch.setattr("baselines.ppo.per_game_advantages", spy)
    tracker = Tracker()
    trainer = Trainer(tiny(normalize_advantages="game"), tmp_path, tracker)
    trainer.train()
    ((standardize, std),) = seen
    assert standardize and std == pytest.approx(1.0, abs=1e-4)
    assert math.isfinite(tracker.records[0]["policy_loss"])


def test_the_update_recomputes_the_rollouts_log_probabilities(tmp_path):
    """With a zero learning rate the update's re-run (BPTT segments from their stored states)
    must give back the rollout's log-probabilities on every learned-from step: deaths, episode
    ends, background rows and rows turning focal included."""
    records = []
    trainer = Trainer(tiny(learning_rate=0.0, total_agent_steps=3 * 2048), tmp_path)
    trainer.train(progress=records.append)
    assert len(records) == 3 and len(trainer.opponents.pool) >= 1  # past checkpoints played too
    for record in records:
        assert record["approx_kl"] < 1e-9 and record["clip_fraction"] == 0.0


def test_kickstart_games_limit_the_labels_to_those_games(tmp_path, monkeypatch):
    cfg = tiny(game=["team_battle", "protect_the_king"], total_agent_steps=4 * 2048,
               kickstart=KickstartConfig(weight=1.0, until=1.0, games=["protect_the_king"]))
    trainer = Trainer(cfg, tmp_path)
    labelled = []  # per labelling call: the games of the rows it was given
    real = Teacher.label

    def spy(teacher, obs, starts, rows):
        labelled.append(set(trainer.envs.playing()[rows].tolist()))
        return real(teacher, obs, starts, rows)

    monkeypatch.setattr(Teacher, "label", spy)
    trainer.train()
    ptk = trainer.envs.game_index["protect_the_king"]
    assert {ptk} in labelled and set() in labelled  # rows of Protect the King labelled, none of Team Battle
    assert all(games <= {ptk} for games in labelled)
    for bad in (["sandwich"], "sandwich"):
        with pytest.raises(ValueError, match=r"kickstart.games names \['sandwich'\], not in the pack; allowed: "
                                             r"\['team_battle', 'protect_the_king'\]"):
            Trainer(dataclasses.replace(cfg, kickstart=KickstartConfig(weight=1.0, games=bad)), tmp_path)


def teacher_cross_entropy(net: PolicyNetwork, seed: int = 9) -> float:
    """Mean cross-entropy of ``net`` toward the scripted teacher's sure choices over 24 ticks of
    Team Battle played by the teacher (the net's own state carried along)."""
    envs = Envs(tiny(seed=seed))
    teacher = Teacher(envs, seed)
    state, total, count = net.initial_state(len(envs.obs)), 0.0, 0
    with torch.no_grad():
        for _ in range(24):
            rows = np.flatnonzero(envs.live())
            labels, sure = teacher.label(envs.obs, envs.starts, rows)
            logits, _, state = net.step(torch.from_numpy(envs.obs), state, torch.from_numpy(envs.starts.copy()))
            for h, y in enumerate(logits):
                ce = torch.nn.functional.cross_entropy(y, torch.from_numpy(labels[:, h]), reduction="none")
                total += float(ce[torch.from_numpy(sure[:, h])].sum())
            count += int(sure.sum())
            envs.step(labels.astype(np.int32))
    return total / count


def test_kickstart_pulls_the_policy_toward_the_teachers_sure_choices(tmp_path):
    """Same seed and batches, with and without kickstarting: the kickstarted network's
    cross-entropy to the teacher's labels ends lower, and the weight anneals as configured."""
    run = dict(total_agent_steps=5 * 2048, learning_rate=5e-3, anneal_lr=False, epochs=4)
    plain = Trainer(tiny(**run), tmp_path / "plain")
    plain.train()
    records = []
    kicked = Trainer(tiny(**run, kickstart=KickstartConfig(weight=1.0, until=0.8)), tmp_path / "kick")
    kicked.train(progress=records.append)
    assert [r["kickstart_weight"] for r in records] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert all(math.isfinite(r["kickstart_loss"]) for r in records[:4]) and "kickstart_loss" not in records[4]
    assert teacher_cross_entropy(kicked.net) < 0.9 * teacher_cross_entropy(plain.net)  # measured: 0.33 vs 0.40


def test_teacher_labels_only_the_given_rows_and_restarts_its_state():
    envs = Envs(tiny())
    teacher = Teacher(envs, 0)
    rows = np.arange(0, len(envs.obs), 2)
    labels, sure = teacher.label(envs.obs, np.ones(len(envs.obs), bool), rows)
    off = np.ones(len(envs.obs), bool)
    off[rows] = False
    assert not labels[off].any() and not sure[off].any() and sure[rows].any()
    teacher.state[:] = 7
    teacher.label(envs.obs, np.zeros(len(envs.obs), bool), rows[:0])
    assert (teacher.state == 7).all()  # no start, no rows: untouched
    starts = np.zeros(len(envs.obs), bool)
    starts[:3] = True
    teacher.label(envs.obs, starts, rows[:0])
    np.testing.assert_array_equal(teacher.state[:3], teacher.fresh[:3])


def test_step_rows_steps_only_the_given_rows_and_zeroes_the_others_state():
    envs = Envs(tiny())
    net = PolicyNetwork(dataclasses.asdict(envs.envs[0].base_config.shape), hidden=16, tile_channels=4, entity_dim=8)
    obs, batch = torch.from_numpy(envs.obs), len(envs.obs)
    gen = torch.Generator().manual_seed(0)
    state = (torch.randn(batch, 16, generator=gen), torch.randn(batch, 16, generator=gen))
    starts = torch.zeros(batch, dtype=torch.bool)
    rows = torch.tensor([3, 40, 41, 100])
    with torch.no_grad():
        logits, value, (h, c) = step_rows(net, obs, state, starts, rows)
        all_logits, all_value, (all_h, all_c) = net.step(obs, state, starts)
    for y, ref in zip(logits, all_logits):
        torch.testing.assert_close(y, ref[rows])
    torch.testing.assert_close(value, all_value[rows])
    torch.testing.assert_close(h[rows], all_h[rows])
    torch.testing.assert_close(c[rows], all_c[rows])
    others = torch.ones(batch, dtype=torch.bool)
    others[rows] = False
    assert not h[others].any() and not c[others].any()


def test_same_seed_gives_identical_weights(trained, tmp_path):
    first, initial, _, _ = trained
    second = Trainer(tiny(), tmp_path)
    for key, value in weights(second.net).items():
        assert torch.equal(value, initial[key])
    second.train()
    for key, value in weights(second.net).items():
        assert torch.equal(value, first.net.state_dict()[key]), key


def test_resume_continues_from_the_checkpoint(trained, tmp_path):
    first, _, _, path = trained
    resumed = Trainer(tiny(total_agent_steps=4096), tmp_path, resume=path)
    assert resumed.agent_steps == 2048 and resumed.updates == 1
    for key, value in weights(resumed.net).items():
        assert torch.equal(value, first.net.state_dict()[key]), key
    assert len(resumed.opponents.pool) == len(first.opponents.pool)
    saved_opt, loaded_opt = first.optimizer.state_dict()["state"], resumed.optimizer.state_dict()["state"]
    assert saved_opt.keys() == loaded_opt.keys()
    for key in saved_opt:
        assert torch.equal(saved_opt[key]["exp_avg"], loaded_opt[key]["exp_avg"])
    last = resumed.train()
    assert resumed.agent_steps == 4096 and resumed.updates == 2
    assert checkpoint.read(last)["metadata"]["agent_steps"] == 4096


def test_resuming_a_finished_run_returns_its_checkpoint(trained, tmp_path):
    """``Trainer.train`` "returns the final checkpoint's path", also when no update is left."""
    _, _, _, path = trained
    last = Trainer(tiny(), tmp_path, resume=path).train()
    assert last is not None and Path(last).is_file()


def test_resuming_an_exported_checkpoint_is_a_warm_start_with_a_warning(trained, tmp_path, caplog):
    first, _, _, path = trained
    exported = checkpoint.export(path, tmp_path / "policy.pt")
    with caplog.at_level("WARNING", logger="baselines.ppo"):
        warm = Trainer(tiny(), tmp_path / "warm", resume=exported)
    assert "holds no trainer state (an exported checkpoint)" in caplog.text
    assert "holds no optimizer state: the optimizer starts afresh" in caplog.text
    assert "game options" not in caplog.text  # trained and played with none
    assert warm.agent_steps == 0 and warm.updates == 0 and not warm.optimizer.state_dict()["state"]
    for key, value in weights(warm.net).items():
        assert torch.equal(value, first.net.state_dict()[key]), key


def test_resuming_with_other_game_options_warns(trained, tmp_path, caplog):
    _, _, _, path = trained
    options = {"randomization": {"water_threshold": {"uniform": [0.05, 0.15]}}}
    with caplog.at_level("WARNING", logger="baselines.ppo"):
        Trainer(tiny(game_options=options), tmp_path, resume=path)
    assert f"was trained with game options {{}}; this run plays {options}" in caplog.text


def test_resume_with_another_policy_size_fails(trained, tmp_path):
    _, _, _, path = trained
    with pytest.raises(ValueError, match="differs from this run's"):
        Trainer(tiny(policy_size="large"), tmp_path, resume=path)


def test_objective_is_the_mean_game_score_of_the_second_half(trained):
    trainer = trained[0]
    half = trainer.total_updates * trainer.batch // 2
    saved = trainer.episode_scores
    try:
        trainer.episode_scores = []
        assert trainer.objective() == 0.0
        trainer.episode_scores = [(0, "a", 100.0), (half, "a", 1.0), (half, "a", 3.0), (half + 1, "b", 6.0)]
        assert trainer.objective() == pytest.approx(4.0)  # mean of a's 2 and b's 6
    finally:
        trainer.episode_scores = saved


def test_background_rows_are_whole_teams():
    cfg = tiny(num_envs=2)
    envs = Envs(cfg)
    net = PolicyNetwork(dataclasses.asdict(envs.envs[0].base_config.shape), hidden=16, tile_channels=4, entity_dim=8)
    opponents = Opponents(cfg, envs, net, torch.device("cpu"))
    opponents.draw()
    assert not opponents.past_rows.any()  # an empty pool: no past checkpoint to play
    opponents.snapshot(net)
    draws = set()
    for _ in range(4):
        opponents.draw()
        past = opponents.past_rows.reshape(2, 16, 8)  # envs x teams x agents
        scripted = opponents.scripted_rows.reshape(2, 16, 8)
        for rows in (past, scripted):
            assert (rows.all(2) | ~rows.any(2)).all(), "a team split between background and focal"
            assert (rows.all(2).sum(1) == 4).all()  # 25% of the 16 teams of each env
        assert not (opponents.past_rows & opponents.scripted_rows).any()
        np.testing.assert_array_equal(opponents.focal, ~(opponents.past_rows | opponents.scripted_rows))
        draws.add(opponents.past_rows.tobytes())
    assert len(draws) > 1  # drawn anew each rollout
    # act() overwrites exactly the background rows, with valid choices
    actions = np.full((len(envs.obs), len(envs.head_sizes)), -1, np.int64)
    opponents.act(torch.from_numpy(envs.obs), torch.from_numpy(envs.starts.copy()), actions, envs.live())
    background = ~opponents.focal
    assert (actions[opponents.focal] == -1).all()
    assert ((actions[background] >= 0) & (actions[background] < envs.head_sizes)).all()


def test_background_blocks_are_whole_teams_of_every_game_of_the_pack_and_new_bots_start_fresh():
    cfg = tiny(game=["race_to_the_center", "team_battle", "sandwich"])  # teams of 1, 8 and 16
    envs = Envs(cfg)
    net = PolicyNetwork(dataclasses.asdict(envs.envs[0].base_config.shape), hidden=16, tile_channels=4, entity_dim=8)
    opponents = Opponents(cfg, envs, net, torch.device("cpu"))
    opponents.snapshot(net)
    for _ in range(6):
        opponents.draw()
        for rows in (opponents.past_rows, opponents.scripted_rows):
            blocks = rows.reshape(8, 16)
            assert (blocks.all(1) | ~blocks.any(1)).all() and blocks.all(1).sum() == 2  # 25% of 8 blocks
        stale = opponents.scripted_rows
        opponents.scripted_state[stale] = 7  # stand-in for a bot's memory from this rollout
        before = opponents.scripted_rows.copy()
        opponents.draw()
        kept, new = opponents.scripted_rows & before, opponents.scripted_rows & ~before
        assert (opponents.scripted_state[kept] == 7).all(), "a bot that plays on keeps its memory"
        np.testing.assert_array_equal(opponents.scripted_state[new], opponents.fresh_scripted[new])


def test_max_difficulty_envs_pin_the_top_level_and_the_others_adapt():
    envs = Envs(tiny(game="race_to_the_center", num_envs=2, max_difficulty_envs=1))
    pinned, adaptive = (env.game for env in envs.envs)
    assert pinned.difficulty == len(pinned.difficulty_levels) - 1 > 0
    assert adaptive.difficulty == 0  # adaptive difficulty starts at the bottom level
    with pytest.raises(ValueError, match=r"max_difficulty_envs must be in \[0, num_envs=2\], got 3"):
        Envs(tiny(num_envs=2, max_difficulty_envs=3))


def test_step_game_sampling_weights_games_by_inverse_mean_episode_length():
    envs = Envs(tiny(game=["team_battle", "race_to_the_center", "king_of_the_hill"], game_sampling="steps"))
    env = envs.envs[0]
    np.testing.assert_allclose(env.weights, 1 / 3)  # nothing seen yet: the configured weights
    envs._observe_length(0, "team_battle", 30)
    envs._observe_length(0, "race_to_the_center", 1020)  # king_of_the_hill unseen: the mean, 525
    expected = np.array([1 / 30, 1 / 1020, 1 / 525])
    np.testing.assert_allclose(env.weights, expected / expected.sum())
    envs._observe_length(0, "race_to_the_center", 20)  # a running mean: 0.9 x 1020 + 0.1 x 20
    assert envs.mean_length[0, 1] == pytest.approx(920)
    draws = []
    for _ in range(200):
        env.reset()
        draws.append(env.game.name)
    assert draws.count("team_battle") > 150  # ~91% of episodes: the short game gets its share of steps
    with pytest.raises(ValueError, match="weights must be finite, non-negative and not all zero"):
        env.set_weights([1.0, -1.0, 0.0])
    with pytest.raises(ValueError, match=r"game_sampling must be one of \['episodes', 'steps'\], got 'ticks'"):
        Envs(tiny(game_sampling="ticks"))


def test_envs_apply_reward_scale_and_mark_starts():
    envs = Envs(tiny(env_overrides={"horizon": 3}, reward=RewardConfig(scale=2.0)))
    assert envs.starts.all()  # the first step starts afresh
    rows = len(envs.obs)
    actions = np.zeros((rows, len(envs.head_sizes)), np.int32)
    envs.step(actions)
    assert not envs.starts.any()
    raw = envs.envs[0].rewards.copy()
    assert raw.any()
    np.testing.assert_allclose(envs.rewards, 2.0 * raw)
    envs.step(actions)
    summaries = envs.step(actions)  # the horizon ends the episode
    assert len(summaries) == 1 and summaries[0]["env"] == 0
    assert envs.starts.all()


def test_shaping_pays_health_changes_a_death_costs_all_and_a_reset_nothing():
    envs = Envs(tiny(game="race_to_the_center", env_overrides={"horizon": 3}, reward=RewardConfig(scale=0.0, health=1.0)))
    env, ent = envs.envs[0], envs.envs[0].state.entities
    actions = np.zeros((len(envs.obs), len(envs.head_sizes)), np.int32)
    ent.health[1], ent.health[2] = 60, 0  # agent 1 hurt, agent 2 dies this tick (and respawns: Race)
    envs.step(actions)
    assert env.terminals[2] and ent.alive[2] and ent.health[2] == 100, "a racer respawns at once"
    assert envs.rewards[2] == -100, "its death cost all its health, whatever the respawn restored"
    assert envs.rewards[1] == ent.health[1] - 100 < 0, "from 100 to 60, then upkeep (regeneration)"
    before = int(ent.health[1])
    envs.step(actions)
    assert envs.rewards[1] == ent.health[1] - before
    ent.health[1] = 20
    assert len(envs.step(actions)) == 1, "the horizon ended the episode; the env reset its state"
    assert not envs.rewards.any(), "no shaping from the next episode's fresh health"
    envs.step(actions)
    assert not envs.rewards.any()


# --- tracking -----------------------------------------------------------------------------------


def test_run_log_appends_json_lines(tmp_path):
    log = RunLog(tmp_path, {"seed": 0})
    log.log({"agent_steps": 1, "loss": 0.5})
    log.log({"agent_steps": 2, "loss": 0.25})
    log.checkpoint(tmp_path / "x.pt", {"agent_steps": 2})  # no wandb: nothing to do
    log.close()
    again = RunLog(tmp_path, {"seed": 0})
    again.log({"agent_steps": 3, "loss": 0.125})
    again.close()
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["agent_steps"] for line in lines] == [1, 2, 3]
    assert not (tmp_path / "wandb").exists()


def test_run_log_creates_an_offline_wandb_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    log = RunLog(tmp_path, {"seed": 0}, {"mode": "offline", "project": "metammo-tests", "log_checkpoints": False},
                 name="test")
    log.log({"agent_steps": 10, "loss": 0.5})
    log.close()
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
    assert json.loads((tmp_path / "metrics.jsonl").read_text()) == {"agent_steps": 10, "loss": 0.5}


def test_wandb_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert wandb_mode(None) == "offline"
    assert wandb_mode("disabled") == "disabled"
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    assert wandb_mode(None) == "online"
    assert wandb_mode("offline") == "offline"  # an explicit mode wins
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert wandb_mode(None) == "offline"  # WANDB_MODE wins over the key
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.delenv("WANDB_API_KEY")
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "1" * 40 + "\n")
    netrc.chmod(0o600)
    assert wandb_mode(None) == "online"  # a `wandb login` entry
    with pytest.raises(ValueError, match="online, offline or disabled, got 'sometimes'"):
        wandb_mode("sometimes")
    monkeypatch.setenv("WANDB_MODE", "bogus")
    with pytest.raises(ValueError, match="'bogus'"):
        wandb_mode(None)


def test_live_view_is_quiet_without_a_terminal(capsys):
    assert show_progress("auto") is False and show_progress(True) is True and show_progress(False) is False
    for bad in ("on", "flase", 1, None):
        with pytest.raises(ValueError, match=f"progress must be auto, true or false, got {bad!r}"):
            show_progress(bad)
    view = LiveView(show_progress("auto"), 1000)
    assert view.live is None
    view.update({"agent_steps": 10, "agent_steps_per_s": 5.0, "team_battle/win_rate": 0.5})
    view.close()
    assert capsys.readouterr().out == ""


# --- Hydra configs ------------------------------------------------------------------------------


def composed(*overrides, hydra_config=False):
    with initialize_config_dir(config_dir=CONFIG_PATH, version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=hydra_config)


def test_experiment_presets_exist():
    assert {"smoke", "generalist_mini", "generalist_full"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_preset_composes_into_a_ppo_config(name):
    lines = (Path(CONFIG_PATH) / "experiment" / f"{name}.yaml").read_text().splitlines()
    assert lines[0] == "# @package _global_"
    assert lines[1] == f"# to execute: python -m baselines.train experiment={name}"
    cfg = composed(f"experiment={name}")
    ppo = ppo_config(cfg)
    assert isinstance(ppo, PPOConfig)
    assert ppo.game == cfg.game.name and ppo.config == cfg.env.config and ppo.policy_size == cfg.policy.size
    assert ppo.total_agent_steps == cfg.trainer.total_agent_steps
    assert ppo.rollout_ticks % ppo.bptt == 0
    if name.startswith("specialist_"):
        assert ppo.game == name.removeprefix("specialist_")


def test_ppo_config_rejects_unknown_trainer_keys_and_trainers():
    from omegaconf.errors import ConfigKeyError

    with pytest.raises(ConfigKeyError, match="nonexistent"):
        ppo_config(composed("experiment=smoke", "+trainer.nonexistent=1"))
    with pytest.raises(ValueError, match="'sac' is not built"):
        ppo_config(composed("experiment=smoke", "trainer.name=sac"))


def test_env_overrides_take_engine_keys_with_a_plus():
    """conf/env/*.yaml: ``overrides`` holds engine config keys, added with Hydra's ``+``."""
    cfg = composed("experiment=smoke", "+env.overrides.horizon=32")
    assert ppo_config(cfg).env_overrides == {"horizon": 32}


def test_evaluate_overrides_take_engine_keys_with_a_plus():
    """conf/evaluate.yaml: ``overrides`` holds engine config keys, added with Hydra's ``+``."""
    with initialize_config_dir(config_dir=CONFIG_PATH, version_base="1.3"):
        cfg = compose("evaluate", overrides=["+overrides.horizon=48"])
    assert cfg.overrides.horizon == 48


def test_game_weights_reach_the_envs():
    """conf/game/mini_generalist.yaml: ``weights``, one sampling weight per game of the pack."""
    cfg = composed("experiment=smoke", "game.weights=[1,0,0,0,0]")
    envs = Envs(ppo_config(cfg))
    np.testing.assert_allclose(envs.envs[0].weights, [1, 0, 0, 0, 0])


@pytest.mark.parametrize("game", sorted(p.stem for p in (Path(CONFIG_PATH) / "game").glob("*.yaml")))
def test_every_game_group_takes_game_options(game):
    """conf/game/*.yaml: ``options`` (metammo.make's game_options) is there, empty, in every game."""
    assert ppo_config(composed(f"game={game}")).game_options == {}


def test_game_options_reach_the_envs_and_the_checkpoint(tmp_path):
    """``+game.options.curriculum=PATH`` trains Multi-task on that curriculum; the checkpoint says so."""
    curriculum = tmp_path / "mine.yaml"
    curriculum.write_text("train:\n  - {name: foraging/eat_3, task: {CountEvent: {event: eat, n: 3}}}\n"
                          "eval:\n  - {name: foraging/drink_3, task: {CountEvent: {event: drink, n: 3}}}\n")
    cfg = composed("experiment=smoke", "game=multitask", "env=full", f"+game.options.curriculum={curriculum}",
                   "trainer.total_agent_steps=4096")
    ppo = ppo_config(cfg)
    assert ppo.game_options == {"curriculum": str(curriculum)}
    trainer = Trainer(ppo, tmp_path / "run")
    (game,) = trainer.envs.envs[0].games
    assert game.curriculum_path == str(curriculum)
    assert {t.name for t in game.tasks} == {"foraging/eat_3"}
    assert checkpoint.read(trainer.save())["metadata"]["game_options"] == {"curriculum": str(curriculum)}


def test_optuna_search_and_joblib_launcher_compose():
    cfg = composed("hparams_search=optuna", "experiment=smoke", hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert "OptunaSweeper" in sweeper._target_ and sweeper.direction == "maximize"
    assert {"trainer.learning_rate", "trainer.entropy_coef"} <= set(sweeper.params)
    assert ppo_config(cfg).total_agent_steps == 1_000_000, "the search's budget replaces the preset's"
    assert ppo_config(composed("hparams_search=optuna", "experiment=smoke",
                               "trainer.total_agent_steps=16384")).total_agent_steps == 16384
    cfg = composed("hydra/launcher=joblib", "experiment=smoke", hydra_config=True)
    assert "JoblibLauncher" in cfg.hydra.launcher._target_


# --- the command line ---------------------------------------------------------------------------


def train_cli(*args, timeout=180):
    env = {**os.environ, "WANDB_MODE": "offline"}
    return subprocess.run([sys.executable, "-m", "baselines.train", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_train_cli_smoke_end_to_end(tmp_path):
    run_dir = tmp_path / "smoke"
    out = train_cli("experiment=smoke", "trainer.threads=1", f"hydra.run.dir={run_dir}")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "total_agent_steps: 16384" in (run_dir / ".hydra" / "config.yaml").read_text()
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["agent_steps"] for r in records] == [4096, 8192, 12288, 16384]  # log_every 0: every update
    path = run_dir / "checkpoints" / "latest.pt"
    policy = load_policy(path)
    assert policy.metadata["agent_steps"] == 16384 and policy.metadata["game"] == "mini_generalist"
    actions, _ = policy.act(np.zeros((2, policy.layout.size), np.uint8), policy.initial_state(2))
    assert actions.shape == (2, len(policy.head_sizes))
    assert f"checkpoint: {path}" in out.stdout


def test_train_cli_rejects_an_unknown_override(tmp_path):
    out = train_cli("trainer.nonexistent=1", f"hydra.run.dir={tmp_path / 'bad'}", timeout=60)
    assert out.returncode != 0
    assert "Could not override 'trainer.nonexistent'" in out.stderr
    assert not (tmp_path / "bad" / "metrics.jsonl").exists()


@pytest.mark.parametrize("args,message", [
    (["game=survival"], "game 'survival' does not support config 'mini'; it supports ['full']"),
    (["trainer.num_envs=0"], "trainer.num_envs must be >= 1, got 0"),
    (["+env.overrides.randomize=true"], "env.overrides {'randomize': True}: unknown config key(s) ['randomize']"),
    (["progress=on"], "progress must be auto, true or false, got 'on'"),
    (["+game.options.preset=eval"], "game.options.preset: presets (held-out maps) are for evaluation"),
    (["+game.options.randomize=false"], "game.options.randomize: set it with game.randomize"),
])
def test_train_cli_reports_a_bad_setting_in_one_line(tmp_path, args, message):
    out = train_cli("experiment=smoke", *args, f"hydra.run.dir={tmp_path / 'bad'}", timeout=90)
    assert out.returncode == 2, out.stderr[-3000:]
    assert f"error: {message}" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert not (tmp_path / "bad" / "metrics.jsonl").exists(), "no run is started"


def test_train_cli_says_how_to_install_pufferlib_when_it_is_missing(tmp_path):
    if importlib.util.find_spec("pufferlib") is not None:
        pytest.skip("pufferlib is installed here: tests/test_puffer.py runs trainer=puffer")
    out = train_cli("trainer=puffer", f"hydra.run.dir={tmp_path / 'bad'}", timeout=60)
    assert out.returncode == 2, out.stderr[-3000:]
    assert "error: trainer=puffer needs PufferLib 3" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_train_cli_multirun_gives_one_job_dir_each(tmp_path):
    sweep = tmp_path / "sweep"
    out = train_cli("-m", "trainer.learning_rate=0.001,0.002", "experiment=smoke", "trainer.threads=1",
                    "trainer.total_agent_steps=4096", f"hydra.sweep.dir={sweep}")
    assert out.returncode == 0, out.stderr[-3000:]
    for job, lr in (("0", "0.001"), ("1", "0.002")):
        assert f"trainer.learning_rate={lr}" in (sweep / job / ".hydra" / "overrides.yaml").read_text()
        assert (sweep / job / "checkpoints" / "latest.pt").is_file()
        records = [json.loads(line) for line in (sweep / job / "metrics.jsonl").read_text().splitlines()]
        assert records[-1]["agent_steps"] == 4096 and records[0]["learning_rate"] == float(lr)
