"""PufferLib 3's PuffeRL trainer on metammo envs and our policy network (``trainer=puffer``).

    python -m baselines.train trainer=puffer                      # conf/trainer/puffer.yaml
    python -m baselines.train trainer=puffer game=team_battle trainer.total_agent_steps=100000

Needs pufferlib 3 (``pip install metammo[puffer]``, or ``tools/install-pufferlib.sh VENV`` where
its PyPI build cannot reach GitHub); without it importing this module raises ``ImportError``
saying so. Three pieces:

* :class:`MetammoPufferEnv`: a metammo env as a ``pufferlib.PufferEnv``, so PufferLib's
  ``Serial`` vector backend steps ``num_envs`` of them into its shared buffers. PuffeRL reads
  only ``terminals``, so they hold ``terminals | truncations`` (an episode's end cuts the
  advantage); ``masks`` stay all true, so PuffeRL counts agent steps dead or alive (as
  :mod:`baselines.ppo` does). Episode summaries become per-game metrics (``GAME/score``, ...).
* :class:`PufferPolicy`: a :class:`~baselines.network.PolicyNetwork` under PuffeRL's policy
  protocol (``hidden_size``, ``forward_eval`` for rollouts, ``forward`` for BPTT segments).
* :class:`Trainer`: ``PuffeRL`` writing our checkpoint format
  (``RUN_DIR/checkpoints/latest.pt``, loadable by :func:`baselines.checkpoint.load_policy`)
  and logging to our :class:`~baselines.tracking.RunLog` (``metrics.jsonl``, wandb).

What PuffeRL does differs from :mod:`baselines.ppo`: every agent is the learner (no self-play
or scripted opponents); rewards are the game's reward clipped to [-1, 1]; the LSTM state starts
from zero at each rollout and each BPTT segment (and where an agent is dead, as the network
does), not at episode starts inside a segment; advantages are GAE with V-trace clipping;
minibatches sample segments by priority; the learning rate follows a cosine schedule. Runs do
not resume (``resume`` is refused).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import signal
import tempfile
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

import metammo
from baselines import checkpoint
from baselines.network import SIZES, PolicyNetwork
from baselines.ppo import RunConfig, resolve_device
from baselines.tracking import RunLog, show_progress
from baselines import train

INSTALL_HINT = ("trainer=puffer needs PufferLib 3: `pip install metammo[puffer]`, or where its build cannot "
                "reach GitHub, `bash tools/install-pufferlib.sh VENV` and run in that virtualenv")

_cwd = os.getcwd()
with tempfile.TemporaryDirectory() as _tmp:  # `import pufferlib` puts a `resources` symlink in the cwd
    os.chdir(_tmp)
    try:
        import pufferlib
        import pufferlib.pufferl
        import pufferlib.vector
    except ImportError as err:
        raise ImportError(f"{INSTALL_HINT} ({err})") from err
    finally:
        os.chdir(_cwd)
# Undo pufferlib.pufferl's process-wide import side effects: RuntimeWarnings as errors, and
# Ctrl+C as an immediate os._exit(0) (here it raises KeyboardInterrupt and the run saves).
warnings.filterwarnings("default", category=RuntimeWarning)
signal.signal(signal.SIGINT, signal.default_int_handler)

log = logging.getLogger(__name__)


@dataclass
class PufferConfig(RunConfig):
    """The settings of a ``trainer=puffer`` run (``conf/trainer/puffer.yaml`` plus the env, game,
    policy and seed of ``train.yaml``, :class:`~baselines.ppo.RunConfig`); PuffeRL's name of a
    key is in brackets. ``seed`` also seeds torch, numpy and random."""

    total_agent_steps: int = 5_000_000  # [total_timesteps] stop after this many agent steps
    num_envs: int = 2  # envs stepped in this process (Serial backend)
    bptt_horizon: int = 32  # [bptt_horizon] ticks per BPTT segment
    batch_size: int = 0  # [batch_size] agent steps per update; 0: num_envs x num_agents x bptt_horizon
    minibatch_size: int = 2048  # [minibatch_size] agent steps per minibatch
    epochs: int = 2  # [update_epochs] passes over each batch
    learning_rate: float = 5e-4  # [learning_rate]
    anneal_lr: bool = True  # [anneal_lr] cosine decay to 0
    optimizer: str = "adam"  # [optimizer] adam or muon (heavyball)
    adam_beta1: float = 0.9  # [adam_beta1]
    adam_beta2: float = 0.999  # [adam_beta2]
    adam_eps: float = 1e-5  # [adam_eps]
    gamma: float = 0.99  # [gamma]
    gae_lambda: float = 0.95  # [gae_lambda]
    clip: float = 0.1  # [clip_coef] PPO ratio clip
    value_clip: float = 0.1  # [vf_clip_coef] value update clip
    value_coef: float = 0.5  # [vf_coef]
    entropy_coef: float = 0.01  # [ent_coef]
    max_grad_norm: float = 0.5  # [max_grad_norm]
    vtrace_rho_clip: float = 1.0  # [vtrace_rho_clip]
    vtrace_c_clip: float = 1.0  # [vtrace_c_clip]
    prio_alpha: float = 0.8  # [prio_alpha] prioritized segment sampling exponent (0: uniform)
    prio_beta0: float = 0.2  # [prio_beta0] initial importance-sampling correction
    device: str = "auto"  # [device] auto (CUDA when available), cpu, cuda, cuda:N
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    checkpoint_every: int = 50  # [checkpoint_interval] updates between checkpoints (and one at the end)


def puffer_config(cfg: DictConfig) -> PufferConfig:
    """The :class:`PufferConfig` of a composed ``train.yaml`` with ``trainer=puffer``.

    Raises:
        ValueError: trainer keys PufferConfig does not have (e.g. ppo's, set by an experiment
            preset); omegaconf.errors.ValidationError: a value of the wrong type (names the key).
    """
    trainer = OmegaConf.to_container(cfg.trainer, resolve=True)
    trainer.pop("name")
    unknown = sorted(set(trainer) - {f.name for f in dataclasses.fields(PufferConfig)})
    if unknown:
        raise ValueError(f"trainer=puffer has no keys {unknown} (experiment presets set trainer=ppo's keys); "
                         f"its keys are in conf/trainer/puffer.yaml")
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(PufferConfig), trainer, train.run_fields(cfg)))


class MetammoPufferEnv(pufferlib.PufferEnv):
    """``metammo.make(game, config, seed=seed, **options)`` as a ``pufferlib.PufferEnv`` writing into
    ``buf`` (a vector backend's slices: observations ``(num_agents, layout.size)`` uint8, rewards
    float32, terminals, truncations and masks bool ``(num_agents,)``, actions ``(num_agents, heads)``
    int32), or into its own buffers when ``buf`` is None.

    ``terminals`` hold ``terminals | truncations`` and ``masks`` are all true (see the module
    docstring); ``infos`` turn each episode summary into ``{game: {return, length, score,
    win_rate, task_progress, difficulty}}`` (the keys the game reports).

    Raises:
        ValueError: from :func:`metammo.make` (unknown game, config key, ...).
    """

    def __init__(self, game: str | list[str], config: str, buf: dict[str, np.ndarray] | None = None, seed: int = 0,
                 **options: Any):
        self.env = metammo.make(game, config, seed=seed, **options)
        self.num_agents = self.env.num_agents
        self.single_observation_space = self.env.single_observation_space
        self.single_action_space = self.env.single_action_space
        super().__init__(buf)
        self.masks[:] = True

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, list[dict]]:
        """Start an episode (``seed`` reseeds the env and restarts its games' adaptive
        difficulty, see :meth:`metammo.env.Env.reset`) -> ``(observations, [])``."""
        _, infos = self.env.reset(seed)
        self._publish()
        return self.observations, infos

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        """One tick with ``actions`` ``(num_agents, heads)`` integers -> (observations, rewards,
        terminals, truncations, infos); auto-resets at an episode's end.

        Raises:
            ValueError: actions of the wrong shape or dtype, or out of range.
        """
        _, _, _, _, summaries = self.env.step(actions)
        self._publish()
        return self.observations, self.rewards, self.terminals, self.truncations, [
            {s["game"]: self._metrics(s)} for s in summaries]

    def _publish(self) -> None:
        env = self.env
        np.copyto(self.observations, env.observations)
        np.copyto(self.rewards, env.rewards)
        np.logical_or(env.terminals, env.truncations, out=self.terminals)
        np.copyto(self.truncations, env.truncations)

    def _metrics(self, summary: dict[str, Any]) -> dict[str, float]:
        out = {"return": summary["mean_return"], "length": summary["length"]}
        if "scores" in summary:
            out.update(score=summary["mean_score"], win_rate=len(summary["winners"]) / self.num_agents,
                       task_progress=summary["task_progress"], difficulty=summary["difficulty"]["level"])
        return out

    def close(self) -> None:
        self.env.close()


class PufferPolicy(nn.Module):
    """A :class:`~baselines.network.PolicyNetwork` under PuffeRL's policy protocol.

    ``hidden_size`` is the LSTM width; logits come back as a list of masked ``float32`` tensors,
    one per action head (PuffeRL's MultiDiscrete form).
    """

    def __init__(self, net: PolicyNetwork):
        super().__init__()
        self.net = net
        self.hidden_size = net.hidden

    def forward_eval(self, observations: torch.Tensor, state: dict[str, Any]
                     ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """One rollout tick: ``observations`` ``(B, layout.size)`` uint8; ``state["lstm_h"]`` and
        ``state["lstm_c"]`` ``(B, hidden_size)`` float32 (None: zeros), replaced in ``state`` by
        the new LSTM state -> (logits per head, each ``(B, head_size)``; values ``(B,)``)."""
        h, c = state.get("lstm_h"), state.get("lstm_c")
        if h is None:
            h, c = self.net.initial_state(len(observations), observations.device)
        logits, values, (state["lstm_h"], state["lstm_c"]) = self.net.step(observations, (h, c))
        return logits, values

    def forward(self, observations: torch.Tensor, state: dict[str, Any]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """BPTT over segments: ``observations`` ``(S, T, layout.size)`` uint8 (S segments of T
        ticks); the LSTM starts from ``state["lstm_h"]``, ``state["lstm_c"]`` ``(S, hidden_size)``
        or zeros where None -> (logits per head, each ``(S * T, head_size)`` in segment-major
        order; values ``(S, T)``)."""
        segments, steps = observations.shape[:2]
        h, c = state.get("lstm_h"), state.get("lstm_c")
        if h is None:
            h, c = self.net.initial_state(segments, observations.device)
        starts = torch.zeros(steps, segments, dtype=torch.bool, device=observations.device)
        logits, values = self.net.unroll(observations.transpose(0, 1), (h, c), starts)  # rows tick-major
        logits = [y.view(steps, segments, -1).transpose(0, 1).reshape(segments * steps, -1) for y in logits]
        return logits, values.view(steps, segments).T


class _RunLogger:
    """PuffeRL's logger protocol (``run_id``, ``log(logs, step)``) onto the trainer's :class:`RunLog`."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.run_id = trainer, trainer.run_dir.name

    def log(self, logs: dict[str, Any], step: int) -> None:
        self.trainer.tracker.log(logs)  # PuffeRL's logs hold agent_steps == step


class Trainer(pufferlib.pufferl.PuffeRL):
    """``PuffeRL`` that writes our checkpoints and shows its dashboard only when asked.

    Args:
        cfg: the settings.
        run_dir: the run directory; checkpoints go to ``run_dir/checkpoints/latest.pt``.
        dashboard: print PuffeRL's terminal dashboard after each logged update.

    Set ``tracker`` (a :class:`RunLog`, where metrics and checkpoints are logged) before training:
    made after the settings are checked, a refused run leaves no run log behind.

    Raises:
        ValueError: an unknown policy size or device, ``total_agent_steps`` below one batch,
            bad env settings (from :func:`metammo.make`).
        pufferlib.APIUsageError: batch, minibatch and horizon sizes that do not fit together.
    """

    def __init__(self, cfg: PufferConfig, run_dir: str | Path, dashboard: bool = False):
        if cfg.policy_size not in SIZES:
            raise ValueError(f"unknown policy size {cfg.policy_size!r}; known: {sorted(SIZES)}")
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        random.seed(cfg.seed)
        np.random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        self.cfg, self.run_dir, self.dashboard = cfg, Path(run_dir), dashboard
        self.tracker: RunLog | None = None
        self.saved_at = -1  # agent steps of the last checkpoint written
        device = resolve_device(cfg.device)
        vecenv = pufferlib.vector.make(
            MetammoPufferEnv, env_kwargs={"game": cfg.game, "config": cfg.config, "weights": cfg.weights,
                                          "randomize": cfg.randomize, "game_options": cfg.game_options,
                                          **cfg.env_overrides},
            backend=pufferlib.vector.Serial, num_envs=cfg.num_envs)
        self.batch = cfg.batch_size or vecenv.num_agents * cfg.bptt_horizon
        if cfg.total_agent_steps < self.batch:
            raise ValueError(f"total_agent_steps ({cfg.total_agent_steps}) must be at least one batch ({self.batch})")
        shape = dataclasses.asdict(vecenv.driver_env.env.base_config.shape)
        self.net = PolicyNetwork(shape, **SIZES[cfg.policy_size]).to(device)
        config = {
            "env": cfg.game if isinstance(cfg.game, str) else "+".join(cfg.game), "seed": cfg.seed,
            "device": str(device), "torch_deterministic": True, "cpu_offload": False, "use_rnn": True,
            "compile": False, "compile_mode": "default", "compile_fullgraph": False, "precision": "float32",
            "total_timesteps": cfg.total_agent_steps, "batch_size": self.batch, "bptt_horizon": cfg.bptt_horizon,
            "minibatch_size": cfg.minibatch_size, "max_minibatch_size": cfg.minibatch_size,
            "update_epochs": cfg.epochs, "learning_rate": cfg.learning_rate, "anneal_lr": cfg.anneal_lr,
            "optimizer": cfg.optimizer, "adam_beta1": cfg.adam_beta1, "adam_beta2": cfg.adam_beta2,
            "adam_eps": cfg.adam_eps, "gamma": cfg.gamma, "gae_lambda": cfg.gae_lambda, "clip_coef": cfg.clip,
            "vf_clip_coef": cfg.value_clip, "vf_coef": cfg.value_coef, "ent_coef": cfg.entropy_coef,
            "max_grad_norm": cfg.max_grad_norm, "vtrace_rho_clip": cfg.vtrace_rho_clip,
            "vtrace_c_clip": cfg.vtrace_c_clip, "prio_alpha": cfg.prio_alpha, "prio_beta0": cfg.prio_beta0,
            "checkpoint_interval": cfg.checkpoint_every,
        }
        super().__init__(config, vecenv, PufferPolicy(self.net), _RunLogger(self))

    def print_dashboard(self, *args: Any, **kwargs: Any) -> None:
        """PuffeRL's rich dashboard (it clears the terminal), only with ``dashboard``."""
        if self.dashboard:
            super().print_dashboard(*args, **kwargs)

    def save_checkpoint(self) -> Path:
        """Write ``run_dir/checkpoints/latest.pt`` (our format, see :mod:`baselines.checkpoint`;
        no optimizer state) and log it to the tracker; returns its path."""
        meta = checkpoint.metadata(self.net, self.cfg.game, self.cfg.config, self.global_step, self.cfg.game_options)
        path = checkpoint.save(self.run_dir / "checkpoints" / "latest.pt", self.net, meta,
                               trainer={"agent_steps": self.global_step, "updates": self.epoch})
        self.tracker.checkpoint(path, meta)
        self.saved_at = self.global_step
        return path

    def close(self) -> Path:
        """Close the envs and stop PuffeRL's utilization thread; returns the final checkpoint's
        path (written now unless the last update wrote it)."""
        self.vecenv.close()
        self.utilization.stop()
        if self.saved_at == self.global_step:
            return self.run_dir / "checkpoints" / "latest.pt"
        return self.save_checkpoint()


def main(cfg: DictConfig, run_dir: Path) -> float:
    """Train with PuffeRL on a composed ``train.yaml`` (``trainer=puffer``) in ``run_dir``; logs
    the throughput, prints the checkpoint's path and returns the objective: the mean over games
    of the logged mean episode score over the run's second half (0.0 when none ended there).
    Bad settings (``resume`` given, see also :func:`puffer_config` and :class:`Trainer`) exit
    with one line and status 2 (:func:`baselines.train.exit_bad_input`) before the run log (metrics,
    wandb) is written.
    """
    try:
        if cfg.resume is not None:
            raise ValueError("trainer=puffer does not resume runs; resume=PATH works with trainer=ppo")
        pcfg = puffer_config(cfg)
        dashboard = show_progress(cfg.progress)
        wandb_settings = train.wandb_settings(cfg)
        trainer = Trainer(pcfg, run_dir, dashboard)
    except (*train.BAD_INPUT, pufferlib.APIUsageError) as err:
        train.exit_bad_input(err, log)
    trainer.tracker = tracker = RunLog(run_dir, OmegaConf.to_container(cfg, resolve=True), wandb_settings,
                                       name=f"{cfg.game.name}-{run_dir.name}")
    try:
        log.info("training %s on %s (%s) with PuffeRL: %d agent steps in batches of %d; run directory %s",
                 pcfg.policy_size, cfg.game.name, pcfg.config, pcfg.total_agent_steps, trainer.batch, run_dir)
        scores = defaultdict(list)
        started = time.perf_counter()
        try:
            while trainer.global_step < pcfg.total_agent_steps:
                trainer.evaluate()
                logs = trainer.train()
                if logs and trainer.global_step >= pcfg.total_agent_steps / 2:
                    for key, value in logs.items():
                        if key.endswith("/score"):
                            scores[key].append(value)
        finally:
            path = trainer.close()
        seconds = time.perf_counter() - started
    finally:
        tracker.close()
    objective = float(np.mean([np.mean(v) for v in scores.values()])) if scores else 0.0
    log.info("done: %d agent steps in %.1f s (%.0f agent-steps/s), checkpoint %s, objective %.4f",
             trainer.global_step, seconds, trainer.global_step / seconds, path, objective)
    print(f"checkpoint: {path}")
    return objective
