"""PPO with an LSTM (BPTT), GAE and historical self-play on metammo envs, CleanRL style.

    python -m baselines.train experiment=smoke          # the Hydra entry point drives this module

One process steps ``num_envs`` envs (each a game pack sampled per episode) and one policy
network. Each update:

1. **Opponents.** A fraction of the agents of every env (whole teams in team games) is handed to
   the *background*: a past checkpoint from the self-play pool or the scripted bot, drawn anew
   each rollout (rules.md §3: 16 of 128 agents play a past checkpoint). The rest are *focal*:
   the learner plays them and learns from them.
2. **Rollout.** ``rollout_ticks`` ticks of every env. The networks run on the live rows they
   play only (a dead agent's action is ignored and its LSTM state is zero, as
   :meth:`~baselines.network.PolicyNetwork.step` gives it); per agent and tick it stores the
   observation, actions, log-probability, value, reward and whether the LSTM state starts
   afresh (a new episode, a death). Reward = ``reward.scale`` x the game's reward (task
   progress, winning score at the end) + optional shaping from health, XP and gold changes.
3. **Advantages.** GAE(gamma, lambda) per agent, cut where a life or episode ends; normalized
   per minibatch, or per game over the batch (``normalize_advantages``), so that in a game pack
   the game with the largest rewards does not set the step size for all of them.
4. **Update.** ``epochs`` passes over the batch in minibatches of BPTT segments
   (``bptt`` ticks, the LSTM state re-run from its value at the segment's start): clipped
   policy loss, (clipped) value loss and entropy bonus over the focal live agent-steps only;
   optionally a kickstarting cross-entropy toward the scripted bot's choices
   (:class:`KickstartConfig`); gradient clipping; the learning rate annealed linearly to 0.

Counts: an *agent step* is one agent for one tick, dead or alive (``num_envs x num_agents`` per
tick), as in the engine benchmark and PufferLib.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import metammo
from metammo import render
from metammo.config import check_overrides
from metammo.observation import SelfFeature
from metammo.replay import Recorder
from baselines import checkpoint
from baselines.network import SIZES, PolicyNetwork, evaluate_actions, sample
from baselines.scripted import ScriptedPolicy

log = logging.getLogger(__name__)


@dataclass
class RewardConfig:
    """What the learner is rewarded for (rules.md §3: task reward + winning score + shaping)."""

    scale: float = 1.0  # multiplies the game's reward (task progress deltas, winning score, death penalty)
    health: float = 0.0  # per hit point gained (negative when lost; all of it at a death), shaping;
    # shaping is read each tick from the state, so an episode's last tick earns none (the env
    # has started the next episode by then)
    xp: float = 0.0  # per experience point gained over all skills, shaping
    gold: float = 0.0  # per gold gained, shaping


@dataclass
class SelfPlayConfig:
    """Background agents: past checkpoints and scripted bots beside the learner."""

    past_fraction: float = 0.125  # share of agents (of teams in team games) played by a past checkpoint
    scripted_fraction: float = 0.0  # share played by the scripted bot
    snapshot_every: int = 10  # updates between snapshots of the learner into the pool
    pool_size: int = 20  # snapshots kept (oldest dropped)


@dataclass
class KickstartConfig:
    """Kickstarting from the scripted bot (Schmitt et al. 2018, "Kickstarting Deep
    Reinforcement Learning"): on the learner's own live steps, a cross-entropy toward the bot's
    choice on the same observation, added to the PPO loss with ``weight`` annealed linearly to 0
    at ``until`` (a fraction of the run). Only the choices the bot derives from what it sees are
    labels (:meth:`~baselines.scripted.ScriptedPolicy.decide`: its moves unless it wanders, its
    attack target, its style when it attacks): cloning its random wandering and its constant
    comm token saturated the LSTM (README, "How it got here"). ``games`` limits the labels to
    the steps of those games of the pack (a game where the bot's play is a poor guide)."""

    weight: float = 0.0  # 0: off
    until: float = 0.5  # the weight reaches 0 at this fraction of the run
    games: Any = None  # the games whose steps get labels (None: every game of the pack)


@dataclass
class RunConfig:
    """What every trainer takes from ``train.yaml``'s other groups (env, game, policy, seed)."""

    game: Any = "mini_generalist"  # game pack, game or list of games
    weights: Any = None  # sampling weight per game of the pack (None: uniform)
    config: str = "mini"  # engine config: mini or full
    env_overrides: dict = field(default_factory=dict)  # config keys for every env
    randomize: bool = True  # domain randomization of the games
    game_options: dict = field(default_factory=dict)  # metammo.make's game_options (e.g. a curriculum)
    policy_size: str = "small"  # key of baselines.network.SIZES
    seed: int = 0


@dataclass
class PPOConfig(RunConfig):
    """The trainer's settings; defaults are sized for 2 CPU cores and the small policy."""

    total_agent_steps: int = 5_000_000  # stop after this many agent steps
    num_envs: int = 2  # envs stepped in this process
    max_difficulty_envs: int = 0  # of those, how many pin every game at its top difficulty
    game_sampling: str = "episodes"  # a pack's games share episodes (rules.md §3) or "steps" (see Envs)
    rollout_ticks: int = 64  # ticks per env per rollout
    bptt: int = 8  # BPTT segment length in ticks
    epochs: int = 2  # passes over each batch
    minibatch_segments: int = 256  # BPTT segments per minibatch
    learning_rate: float = 5e-4
    anneal_lr: bool = True  # linear decay to 0 over the run
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip: float = 0.1  # PPO ratio clip
    clip_value: bool = True  # clip the value update to the same range
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5
    normalize_advantages: str = "minibatch"  # one of ADVANTAGE_NORMALIZATION
    device: str = "auto"  # auto (CUDA when available), cpu, cuda, cuda:N
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    reward: RewardConfig = field(default_factory=RewardConfig)
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    kickstart: KickstartConfig = field(default_factory=KickstartConfig)
    checkpoint_every: int = 50  # updates between checkpoints (and one at the end)
    log_every: float = 10.0  # seconds between metric records
    video_every: int = 0  # updates between episodes recorded and sent as a video (0: never)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; any other name as given.

    Raises:
        ValueError: CUDA asked for but not available.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N ({err})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available; use device=auto or cpu")
    return device


#: Numeric trainer settings and their allowed ranges ``(low, high, low included)``; None: no bound.
LIMITS = {
    "total_agent_steps": (1, None, True), "num_envs": (1, None, True), "rollout_ticks": (1, None, True),
    "bptt": (1, None, True), "epochs": (1, None, True), "minibatch_segments": (1, None, True),
    "learning_rate": (0, None, True), "gamma": (0, 1, True), "gae_lambda": (0, 1, True), "clip": (0, None, False),
    "value_coef": (0, None, True), "entropy_coef": (0, None, True), "max_grad_norm": (0, None, False),
    "threads": (0, None, True), "checkpoint_every": (1, None, True), "log_every": (0, None, True),
    "video_every": (0, None, True), "selfplay.past_fraction": (0, 1, True),
    "selfplay.scripted_fraction": (0, 1, True), "selfplay.snapshot_every": (1, None, True),
    "selfplay.pool_size": (1, None, True),
}


def check_settings(cfg: PPOConfig) -> None:
    """Check the numeric settings against :data:`LIMITS`, and that the background leaves the
    learner some agents.

    Raises:
        ValueError: the first setting out of range, with its allowed range.
    """
    for name, (low, high, closed) in LIMITS.items():
        value = cfg
        for part in name.split("."):
            value = getattr(value, part)
        if (value < low if closed else value <= low) or (high is not None and value > high):
            allowed = f"{'>=' if closed else '>'} {low}" if high is None else f"in [{low}, {high}]"
            raise ValueError(f"trainer.{name} must be {allowed}, got {value}")
    background = cfg.selfplay.past_fraction + cfg.selfplay.scripted_fraction
    if background >= 1:
        raise ValueError(f"trainer.selfplay.past_fraction + scripted_fraction must be < 1 (the rest of the "
                         f"agents learn), got {background}")


#: ``game_sampling`` choices: a pack's games drawn per episode by ``weights`` alone, or by
#: ``weights`` / the game's mean episode length so that they share agent steps instead.
GAME_SAMPLING = ("episodes", "steps")
#: ``minibatch``: advantages standardized over each minibatch (the usual PPO); ``game``: over
#: each game's focal live steps in the batch, then left alone; ``none``: raw.
ADVANTAGE_NORMALIZATION = ("minibatch", "game", "none")
#: Weight of the newest episode in a game's running mean length (``game_sampling=steps``).
LENGTH_EMA = 0.1


class Envs:
    """``num`` envs stepped in turn, their buffers gathered into one batch of ``num x agents`` rows.

    With ``game_sampling="steps"`` each env draws its next game with probability proportional to
    the configured weight over that game's running mean episode length in this env (games not
    seen yet: the mean of those seen), so a pack's games get about equal agent steps. With
    episode sampling, mini games whose episodes end in ~30 ticks (Team Battle, Protect the King)
    got ~3% of the steps each and Race to the Center ~60% (the reference reports uneven shares
    too, rules.md §3).
    """

    def __init__(self, cfg: PPOConfig):
        if not 0 <= cfg.max_difficulty_envs <= cfg.num_envs:
            raise ValueError(f"max_difficulty_envs must be in [0, num_envs={cfg.num_envs}], got {cfg.max_difficulty_envs}")
        if cfg.game_sampling not in GAME_SAMPLING:
            raise ValueError(f"game_sampling must be one of {list(GAME_SAMPLING)}, got {cfg.game_sampling!r}")
        overrides = check_overrides(cfg.config, cfg.env_overrides, "env.overrides")
        self.envs = [metammo.make(cfg.game, cfg.config, seed=cfg.seed * 1000 + i, weights=cfg.weights,
                                  randomize=cfg.randomize, difficulty="max" if i < cfg.max_difficulty_envs else None,
                                  game_options=cfg.game_options, **overrides) for i in range(cfg.num_envs)]
        first = self.envs[0]
        self.agents = first.num_agents
        self.layout, self.head_sizes = first.layout, first.head_sizes
        rows = cfg.num_envs * self.agents
        self.obs = np.zeros((rows, first.layout.size), np.uint8)
        self.rewards = np.zeros(rows, np.float32)
        self.starts = np.ones(rows, bool)  # the LSTM state starts afresh at the next step
        self.alive = np.zeros(rows, bool)  # the agent was alive for the last transition
        self.shaping = np.zeros((rows, 3), np.float64)  # health, xp, gold of the last tick
        self.weights = np.array([cfg.reward.health, cfg.reward.xp, cfg.reward.gold])
        self.balance_steps = cfg.game_sampling == "steps"
        self.game_weights = first.weights.copy()  # the configured ones (every env's), normalized
        self.game_index = {game.name: g for g, game in enumerate(first.games)}
        self.mean_length = np.full((cfg.num_envs, len(first.games)), np.nan)  # ticks, per env and game
        self.reward_scale = cfg.reward.scale
        for i, env in enumerate(self.envs):
            obs, _ = env.reset(cfg.seed * 1000 + i)
            self.obs[self.rows(i)] = obs
            self._read_shaping(i)

    def rows(self, i: int) -> slice:
        return slice(i * self.agents, (i + 1) * self.agents)

    def playing(self) -> np.ndarray:
        """``(rows,)`` int64: the index (into the pack) of the game each row's episode plays."""
        return np.repeat([self.game_index[env.game.name] for env in self.envs], self.agents)

    def live(self) -> np.ndarray:
        """``(rows,)`` bool: the agents alive in the current observations."""
        return self.layout.view(self.obs, "self")[:, SelfFeature.ALIVE] > 0

    def _read_shaping(self, i: int, died: np.ndarray | None = None) -> np.ndarray:
        """``(agents, 3)``: env ``i``'s agents' health, XP and gold gained since the last read;
        an agent that ``died`` lost its health, whatever a respawn (Race) restored since."""
        ent, n, rows = self.envs[i].state.entities, self.agents, self.rows(i)
        now = np.stack([ent.health[:n], ent.xp[:n].sum(1), ent.gold[:n]], 1).astype(np.float64)
        gained = now - self.shaping[rows]
        if died is not None:
            gained[died, 0] = -self.shaping[rows][died, 0]
        self.shaping[rows] = now
        return gained

    def step(self, actions: np.ndarray) -> list[dict]:
        """Step every env with its rows of ``actions``; returns the episode summaries that ended."""
        summaries = []
        shaped = self.weights.any()
        for i, env in enumerate(self.envs):
            rows = self.rows(i)
            obs, rewards, terminals, truncations, infos = env.step(actions[rows])
            self.obs[rows] = obs
            self.rewards[rows] = rewards * self.reward_scale
            self.alive[rows] = env.masks
            self.starts[rows] = terminals | truncations
            if shaped and not infos:
                self.rewards[rows] += (self._read_shaping(i, terminals) @ self.weights) * env.masks
            if infos:  # the env has started the next episode: its state is no longer the last tick's
                self.starts[rows] = True
                if shaped:
                    self._read_shaping(i)  # the new episode's first values; the last tick earns no shaping
                for summary in infos:
                    summary["env"] = i
                    if self.balance_steps:
                        self._observe_length(i, summary["game"], summary["length"])
                summaries += infos
        return summaries

    def _observe_length(self, i: int, game: str, length: int) -> None:
        """Fold a finished episode's length into env ``i``'s means and re-weight its next draw."""
        means, g = self.mean_length[i], self.game_index[game]
        means[g] = length if np.isnan(means[g]) else (1 - LENGTH_EMA) * means[g] + LENGTH_EMA * length
        self.envs[i].set_weights(self.game_weights / np.where(np.isnan(means), np.nanmean(means), means))


def per_game_advantages(advantages: torch.Tensor, valid: torch.Tensor, games: torch.Tensor,
                        index: dict[str, int], standardize: bool) -> dict[str, float]:
    """``{"GAME/advantage_std": std}``: per game of ``index`` (name -> game index) with at
    least two ``valid`` steps, the standard deviation of its advantages; with ``standardize``
    those advantages are then set, in place, to zero mean and unit deviation.

    ``advantages`` ``(T, B)`` float, ``valid`` ``(T, B)`` bool (the focal live steps), ``games``
    ``(T, B)`` int64 (each step's game index); steps not valid are left alone.
    """
    scales = {}
    for name, g in index.items():
        rows = valid & (games == g)
        if rows.sum() > 1:
            adv = advantages[rows]
            std = adv.std()
            scales[f"{name}/advantage_std"] = std.item()
            if standardize:
                advantages[rows] = (adv - adv.mean()) / (std + 1e-8)
    return scales


def step_rows(net: PolicyNetwork, obs: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], starts: torch.Tensor,
              rows: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """:meth:`PolicyNetwork.step` on the batch rows ``rows`` (int64 indices) only: the logits and
    values of those rows, and the whole batch's new state, zero on every other row (what the
    network itself gives a dead agent, so skipping dead rows changes nothing the update re-runs)."""
    logits, value, (h, c) = net.step(obs[rows], (state[0][rows], state[1][rows]), starts[rows])
    return logits, value, (torch.zeros_like(state[0]).index_copy_(0, rows, h),
                           torch.zeros_like(state[1]).index_copy_(0, rows, c))


class Opponents:
    """The background population of one rollout: which rows it plays and with what."""

    def __init__(self, cfg: PPOConfig, envs: Envs, net: PolicyNetwork, device: torch.device):
        self.cfg, self.envs, self.device = cfg.selfplay, envs, device
        self.past_net = PolicyNetwork(**net.kwargs).to(device).eval()
        self.past_state = self.past_net.initial_state(0, device)
        self.pool: list[dict[str, torch.Tensor]] = []
        self.scripted = ScriptedPolicy(envs.layout, envs.head_sizes, seed=cfg.seed + 11)
        self.fresh_scripted = self.scripted.initial_state(len(envs.obs))
        self.scripted_state = self.fresh_scripted.copy()
        self.past_rows = np.zeros(len(envs.obs), bool)
        self.scripted_rows = np.zeros(len(envs.obs), bool)
        self.focal = np.ones(len(envs.obs), bool)
        self.rng = np.random.default_rng(cfg.seed + 7)
        # per env, the background block: a whole team of every game of the pack
        self.blocks = [math.lcm(*(getattr(game, "team_size", env.base_config.tunables.team_size) for game in env.games))
                       for env in envs.envs]

    def snapshot(self, net: PolicyNetwork) -> None:
        """Add the learner's current weights to the pool."""
        self.pool.append({k: v.detach().clone() for k, v in net.state_dict().items()})
        del self.pool[: -self.cfg.pool_size]

    def draw(self) -> None:
        """Choose this rollout's background rows and past checkpoint. Rows go in blocks of the
        least common multiple of the pack's team sizes, so they stay whole teams whichever game
        an env switches to mid-rollout. A row the scripted bot did not play last rollout starts
        with fresh bot state."""
        was_scripted = self.scripted_rows.copy()
        self.past_rows[:] = False
        self.scripted_rows[:] = False
        for i, (env, team) in enumerate(zip(self.envs.envs, self.blocks)):
            units = env.num_agents // team
            order = self.rng.permutation(units)
            past = round(self.cfg.past_fraction * units) if self.pool else 0
            scripted = round(self.cfg.scripted_fraction * units)
            base = i * env.num_agents
            for unit_set, flags in ((order[:past], self.past_rows), (order[past:past + scripted], self.scripted_rows)):
                for u in unit_set:
                    flags[base + u * team: base + (u + 1) * team] = True
        np.logical_not(self.past_rows | self.scripted_rows, out=self.focal)
        fresh = self.scripted_rows & ~was_scripted
        self.scripted_state[fresh] = self.fresh_scripted[fresh]
        self.past_index = torch.from_numpy(np.flatnonzero(self.past_rows)).to(self.device)
        if self.past_rows.any():
            self.past_net.load_state_dict(self.pool[self.rng.integers(len(self.pool))])
        self.past_state = self.past_net.initial_state(len(self.past_index), self.device)

    @torch.inference_mode()
    def act(self, obs: torch.Tensor, starts: torch.Tensor, actions: np.ndarray, live: np.ndarray) -> None:
        """Overwrite the background rows of ``actions`` with the background's choices (``live``:
        :meth:`Envs.live`)."""
        live = np.flatnonzero(live[self.past_rows])  # the past checkpoint's live rows, among its own
        if len(live):
            idx = self.past_index
            logits, _, self.past_state = step_rows(self.past_net, obs[idx], self.past_state, starts[idx],
                                                   torch.from_numpy(live).to(self.device))
            actions[np.flatnonzero(self.past_rows)[live]] = sample(logits)[0].cpu().numpy()
        else:  # none to play (or none alive): skip the call and its fixed cost
            for part in self.past_state:
                part.zero_()
        if self.scripted_rows.any():
            rows = self.scripted_rows
            fresh = rows & self.envs.starts
            self.scripted_state[fresh] = self.fresh_scripted[fresh]
            chosen, self.scripted_state[rows] = self.scripted.act(self.envs.obs[rows], self.scripted_state[rows])
            actions[rows] = chosen


class Teacher:
    """The scripted bot as a teacher (:class:`KickstartConfig`): its choices and their
    ``sure`` flags on chosen rows, its own state (heading, remembered water, food and leader) following
    every row's trajectory."""

    def __init__(self, envs: Envs, seed: int):
        self.bot = ScriptedPolicy(envs.layout, envs.head_sizes, seed=seed)
        self.fresh = self.bot.initial_state(len(envs.obs))
        self.state = self.fresh.copy()
        self.heads = len(envs.head_sizes)

    def label(self, obs: np.ndarray, starts: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``obs`` ``(B, size)`` uint8, ``starts`` ``(B,)`` bool (the bot's state restarts there),
        ``rows`` int64 indices -> the bot's actions ``(B, H)`` int64 and ``sure`` ``(B, H)`` bool,
        zero off ``rows``."""
        self.state[starts] = self.fresh[starts]
        actions = np.zeros((len(obs), self.heads), np.int64)
        sure = np.zeros((len(obs), self.heads), bool)
        actions[rows], self.state[rows], sure[rows] = self.bot.decide(obs[rows], self.state[rows])
        return actions, sure


class EpisodeStats:
    """Per-game means of finished episodes since the last :meth:`flush`."""

    def __init__(self):
        self.values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.episodes = 0

    def add(self, summary: dict, focal: np.ndarray) -> None:
        game = self.values[summary["game"]]
        self.episodes += 1
        game["episodes"].append(1)
        game["return"].append(summary["mean_return"])
        game["length"].append(summary["length"])
        if "scores" in summary:
            winners = np.zeros(len(focal), bool)
            winners[summary["winners"]] = True
            game["win_rate"].append(float(winners[focal].mean()) if focal.any() else 0.0)
            game["score"].append(summary["mean_score"])
            game["task_progress"].append(summary["task_progress"])
            game["difficulty"].append(summary["difficulty"]["level"])

    def flush(self) -> dict[str, float]:
        out = {}
        for game, values in self.values.items():
            for key, vals in values.items():
                out[f"{game}/{key}"] = float(np.sum(vals) if key == "episodes" else np.mean(vals))
        self.values.clear()
        return out


class Trainer:
    """PPO on ``cfg`` (see the module docstring); checkpoints go to ``run_dir/checkpoints``.

    Args:
        cfg: the settings.
        run_dir: the run directory.
        tracker: receives ``log(record)`` (metric dicts) and ``checkpoint(path, metadata)``
            (see :class:`baselines.tracking.RunLog`); None: numbers are dropped.
        resume: a checkpoint of an earlier run of the same network to continue from (weights,
            optimizer, counters, self-play pool); an exported one, which has no trainer state,
            starts this run from its weights at agent step 0 with a fresh optimizer (a warm
            start, logged as a warning).

    Raises:
        ValueError: a setting out of range (:func:`check_settings`), an unknown policy size or
            ``normalize_advantages``, ``rollout_ticks`` not a multiple of ``bptt``, a kickstart
            weight below 0 or its ``until`` outside (0, 1], ``kickstart.games`` naming a game not
            in the pack, engine overrides that are not config keys, bad env settings (from
            :func:`metammo.make`), a resume checkpoint that does not fit.
    """

    def __init__(self, cfg: PPOConfig, run_dir: str | Path, tracker: Any = None, resume: str | Path | None = None):
        check_settings(cfg)
        if cfg.policy_size not in SIZES:
            raise ValueError(f"unknown policy size {cfg.policy_size!r}; known: {sorted(SIZES)}")
        if cfg.kickstart.weight < 0 or not 0 < cfg.kickstart.until <= 1:
            raise ValueError(f"kickstart needs weight >= 0 and until in (0, 1], got weight "
                             f"{cfg.kickstart.weight} and until {cfg.kickstart.until}")
        if cfg.normalize_advantages not in ADVANTAGE_NORMALIZATION:
            raise ValueError(f"normalize_advantages must be one of {list(ADVANTAGE_NORMALIZATION)}, "
                             f"got {cfg.normalize_advantages!r}")
        if cfg.rollout_ticks % cfg.bptt:
            raise ValueError(f"rollout_ticks ({cfg.rollout_ticks}) must be a multiple of bptt ({cfg.bptt})")
        self.cfg, self.run_dir, self.tracker = cfg, Path(run_dir), tracker
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        random.seed(cfg.seed)
        np.random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        self.device = resolve_device(cfg.device)
        self.envs = Envs(cfg)
        shape = dataclasses.asdict(self.envs.envs[0].base_config.shape)
        self.net = PolicyNetwork(shape, **SIZES[cfg.policy_size]).to(self.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=cfg.learning_rate, eps=1e-5)
        self.opponents = Opponents(cfg, self.envs, self.net, self.device)
        self.teacher = Teacher(self.envs, cfg.seed + 13) if cfg.kickstart.weight > 0 else None
        taught = list(self.envs.game_index) if cfg.kickstart.games is None else cfg.kickstart.games
        if isinstance(taught, str):
            taught = [taught]
        unknown = sorted(set(taught) - set(self.envs.game_index))
        if unknown:
            raise ValueError(f"kickstart.games names {unknown}, not in the pack; allowed: {list(self.envs.game_index)}")
        self.taught = np.array([name in taught for name in self.envs.game_index])  # per game index
        self.agent_steps = 0
        self.updates = 0
        self.episode_scores: list[tuple[int, str, float]] = []  # (agent steps, game, mean score)
        if resume is not None:
            self._resume(resume)
        if not self.opponents.pool:
            self.opponents.snapshot(self.net)
        self.batch = cfg.num_envs * self.envs.agents * cfg.rollout_ticks
        self.total_updates = max(1, -(-cfg.total_agent_steps // self.batch))

    # --- checkpoints ---------------------------------------------------------------------------

    def save(self, name: str = "latest.pt") -> Path:
        """Write a resumable checkpoint to ``run_dir/checkpoints/name``."""
        meta = checkpoint.metadata(self.net, self.cfg.game, self.cfg.config, self.agent_steps, self.cfg.game_options)
        trainer = {"agent_steps": self.agent_steps, "updates": self.updates, "pool": self.opponents.pool}
        path = checkpoint.save(self.run_dir / "checkpoints" / name, self.net, meta,
                               self.optimizer.state_dict(), trainer)
        if self.tracker is not None:
            self.tracker.checkpoint(path, meta)
        return path

    def _resume(self, path: str | Path) -> None:
        payload = checkpoint.read(path)
        net = checkpoint.build(payload, str(path))
        if net.kwargs != self.net.kwargs:
            raise ValueError(f"{path}: its network {net.kwargs} differs from this run's {self.net.kwargs}")
        self.net.load_state_dict(net.state_dict())
        if payload.get("optimizer"):
            self.optimizer.load_state_dict(payload["optimizer"])
        trainer = payload.get("trainer") or {}
        if not trainer:
            log.warning("resume: %s holds no trainer state (an exported checkpoint): this run starts from its "
                        "weights at agent step 0", path)
        if not payload.get("optimizer"):
            log.warning("resume: %s holds no optimizer state: the optimizer starts afresh", path)
        trained = payload["metadata"].get("game_options")
        if trained is not None and trained != checkpoint.recorded(self.cfg.game_options):
            log.warning("resume: %s was trained with game options %s; this run plays %s", path, trained,
                        self.cfg.game_options)
        self.agent_steps = int(trainer.get("agent_steps", 0))
        self.updates = int(trainer.get("updates", 0))
        self.opponents.pool = list(trainer.get("pool", []))

    # --- the loop ------------------------------------------------------------------------------

    def train(self, progress: Callable[[dict], None] = lambda r: None) -> Path:
        """Run updates until ``total_agent_steps``; returns the final checkpoint's path."""
        cfg, envs, net, device = self.cfg, self.envs, self.net, self.device
        T, B = cfg.rollout_ticks, len(envs.obs)
        heads = len(envs.head_sizes)
        obs_buf = torch.zeros((T, B, envs.layout.size), dtype=torch.uint8)
        act_buf = torch.zeros((T, B, heads), dtype=torch.int64)
        logp_buf, value_buf, reward_buf = (torch.zeros((T, B)) for _ in range(3))
        start_buf, valid_buf = (torch.zeros((T, B), dtype=torch.bool) for _ in range(2))
        game_buf = torch.zeros((T, B), dtype=torch.int64)  # the game each transition belongs to
        teach_buf = torch.zeros_like(act_buf)  # the scripted teacher's choices and their sure flags
        sure_buf = torch.zeros((T, B, heads), dtype=torch.bool)
        segments = T // cfg.bptt
        h0_buf = torch.zeros((segments, B, net.hidden), device=device)
        c0_buf = torch.zeros_like(h0_buf)
        state = net.initial_state(B, device)
        stats = EpisodeStats()
        last = self.run_dir / "checkpoints" / "latest.pt"
        if self.updates >= self.total_updates:  # a finished run resumed: nothing left to do
            return last if last.is_file() else self.save()
        started = last_log = time.perf_counter()

        while self.updates < self.total_updates:
            update_start, env_time = time.perf_counter(), 0.0
            if cfg.anneal_lr:
                self.optimizer.param_groups[0]["lr"] = cfg.learning_rate * (1 - self.updates / self.total_updates)
            kick = cfg.kickstart.weight * max(0.0, 1 - self.updates / (cfg.kickstart.until * self.total_updates))
            self.opponents.draw()
            focal = torch.from_numpy(self.opponents.focal.copy())
            self._video()

            # 1-2. rollout
            net.eval()
            with torch.inference_mode():
                for t in range(T):
                    if t % cfg.bptt == 0:
                        h0_buf[t // cfg.bptt], c0_buf[t // cfg.bptt] = state
                    obs = torch.from_numpy(envs.obs)
                    starts = torch.from_numpy(envs.starts.copy())
                    starts_d = starts.to(device)
                    obs_buf[t].copy_(obs)
                    start_buf[t] = starts
                    obs_d = obs.to(device, non_blocking=True)
                    live = envs.live()
                    learn = torch.from_numpy(np.flatnonzero(self.opponents.focal & live))  # the learner's live rows
                    playing = envs.playing()  # each row's game, for this transition
                    game_buf[t] = torch.from_numpy(playing)
                    if kick > 0:  # (once the weight reaches 0 the teacher is not asked again)
                        rows = learn.numpy()
                        rows = rows[self.taught[playing[rows]]]
                        teach, sure = self.teacher.label(envs.obs, envs.starts, rows)
                        teach_buf[t], sure_buf[t] = torch.from_numpy(teach), torch.from_numpy(sure)
                    logits, value, state = step_rows(net, obs_d, state, starts_d, learn.to(device))
                    chosen, logp = sample(logits)
                    actions_np = np.zeros((B, heads), np.int64)  # dead rows: any action, the env ignores it
                    actions_np[learn.numpy()] = chosen.cpu().numpy()
                    self.opponents.act(obs_d, starts_d, actions_np, live)
                    act_buf[t] = torch.from_numpy(actions_np)
                    logp_buf[t].zero_().index_copy_(0, learn, logp.cpu())
                    value_buf[t].zero_().index_copy_(0, learn, value.cpu())
                    tick = time.perf_counter()
                    summaries = envs.step(actions_np.astype(np.int32))
                    env_time += time.perf_counter() - tick
                    reward_buf[t] = torch.from_numpy(envs.rewards)
                    valid_buf[t] = torch.from_numpy(envs.alive) & focal
                    for summary in summaries:
                        stats.add(summary, self.opponents.focal[envs.rows(summary["env"])])
                        if "mean_score" in summary:
                            self.episode_scores.append((self.agent_steps, summary["game"], summary["mean_score"]))
                _, next_value, _ = net.step(torch.from_numpy(envs.obs).to(device), state,
                                            torch.from_numpy(envs.starts).to(device))
                next_value, next_start = next_value.cpu(), torch.from_numpy(envs.starts.copy())
            self.agent_steps += T * B

            # 3. GAE: a transition whose next step starts afresh does not bootstrap
            advantages = torch.zeros((T, B))
            gae = torch.zeros(B)
            for t in reversed(range(T)):
                following_start = next_start if t == T - 1 else start_buf[t + 1]
                following_value = next_value if t == T - 1 else value_buf[t + 1]
                carry = (~following_start).float()
                delta = reward_buf[t] + cfg.gamma * following_value * carry - value_buf[t]
                gae = delta + cfg.gamma * cfg.gae_lambda * carry * gae
                advantages[t] = gae
            returns = advantages + value_buf
            scales = per_game_advantages(advantages, valid_buf, game_buf, envs.game_index,
                                         standardize=cfg.normalize_advantages == "game")

            # 4. update over minibatches of BPTT segments (segment s of agent b: ticks s*bptt ..)
            net.train()
            seg = lambda x: x.view(segments, cfg.bptt, B, *x.shape[2:]).transpose(1, 2).reshape(
                segments * B, cfg.bptt, *x.shape[2:])
            seg_valid = seg(valid_buf)
            keep = seg_valid.any(1).nonzero().squeeze(1)  # segments with something to learn from
            data = {"obs": seg(obs_buf), "actions": seg(act_buf), "logp": seg(logp_buf), "value": seg(value_buf),
                    "adv": seg(advantages), "ret": seg(returns), "starts": seg(start_buf), "valid": seg_valid}
            if kick > 0:
                data |= {"teach": seg(teach_buf), "sure": seg(sure_buf)}
            h0, c0 = h0_buf.reshape(segments * B, -1), c0_buf.reshape(segments * B, -1)
            info = defaultdict(list)
            for _ in range(cfg.epochs):
                order = keep[torch.randperm(len(keep))]
                for lo in range(0, len(order), cfg.minibatch_segments):
                    idx = order[lo: lo + cfg.minibatch_segments]
                    mb = {k: v[idx].transpose(0, 1).to(device) for k, v in data.items()}  # (bptt, n, ...)
                    logits, values = net.unroll(mb["obs"], (h0[idx], c0[idx]), mb["starts"])
                    flat = lambda x: x.reshape(-1, *x.shape[2:])
                    valid = flat(mb["valid"])
                    logp, entropy = evaluate_actions(logits, flat(mb["actions"]))
                    adv = flat(mb["adv"])[valid]
                    if cfg.normalize_advantages == "minibatch" and len(adv) > 1:
                        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                    log_ratio = logp[valid] - flat(mb["logp"])[valid]
                    ratio = log_ratio.exp()
                    policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - cfg.clip, 1 + cfg.clip)).mean()
                    ret, old_v, new_v = flat(mb["ret"])[valid], flat(mb["value"])[valid], values[valid]
                    value_loss = (new_v - ret).pow(2)
                    if cfg.clip_value:
                        clipped = old_v + (new_v - old_v).clamp(-cfg.clip, cfg.clip)
                        value_loss = torch.max(value_loss, (clipped - ret).pow(2))
                    value_loss = 0.5 * value_loss.mean()
                    entropy_loss = entropy[valid].mean()
                    loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy_loss
                    if kick > 0:  # cross-entropy toward the teacher's sure choices, per live step
                        teach, sure = flat(mb["teach"]), flat(mb["sure"]) & valid.unsqueeze(1)
                        kick_loss = sum((F.cross_entropy(y, teach[:, h], reduction="none") * sure[:, h]).sum()
                                        for h, y in enumerate(logits)) / valid.sum().clamp_min(1)
                        loss = loss + kick * kick_loss
                        info["kickstart_loss"].append(kick_loss.item())
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    grad_norm = nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)  # before clipping
                    self.optimizer.step()
                    with torch.no_grad():
                        info["policy_loss"].append(policy_loss.item())
                        info["value_loss"].append(value_loss.item())
                        info["grad_norm"].append(grad_norm.item())
                        info["entropy"].append(entropy_loss.item())
                        info["approx_kl"].append(((ratio - 1) - log_ratio).mean().item())
                        info["clip_fraction"].append(((ratio - 1).abs() > cfg.clip).float().mean().item())
            self.updates += 1
            if self.updates % cfg.selfplay.snapshot_every == 0:
                self.opponents.snapshot(net)

            # 5. records, progress, checkpoints
            valid = valid_buf
            variance = returns[valid].var() if valid.sum() > 1 else torch.tensor(0.0)  # (no focal agent lived)
            explained = 1 - (returns[valid] - value_buf[valid]).var() / variance if variance > 0 else torch.tensor(0.0)
            now = time.perf_counter()
            record = {
                "agent_steps": self.agent_steps, "updates": self.updates, "seconds": now - started,
                "learning_rate": self.optimizer.param_groups[0]["lr"], "kickstart_weight": kick,
                "explained_variance": float(explained), "focal_live_share": float(valid.float().mean()),
                **{k: float(np.mean(v)) for k, v in info.items()}, **scales,
            }
            record["agent_steps_per_s"] = T * B / (now - update_start)
            record["env_share"] = env_time / (now - update_start)
            record["episodes"] = stats.episodes
            done = self.updates >= self.total_updates
            if now - last_log >= cfg.log_every or done:
                record.update(stats.flush())
                if self.tracker is not None:
                    self.tracker.log(record)
                last_log = now
            progress(record)
            if self.updates % cfg.checkpoint_every == 0 or done:
                last = self.save()
        return last

    def _video(self) -> None:
        """Every ``video_every`` updates record env 0's next episode; once it has ended, send
        its frames to the tracker (``tracker.video(frames, agent_steps)``)."""
        env = self.envs.envs[0]
        if env.last_replay is not None:
            if self.tracker is not None:
                self.tracker.video(render.frames(env.last_replay, every=2), self.agent_steps)
            env.last_replay, env.recorder = None, None
        elif self.cfg.video_every and env.recorder is None and self.updates % self.cfg.video_every == 0:
            env.recorder = Recorder()

    def objective(self) -> float:
        """Mean over games of the mean episode score in the run's second half (what a sweep
        maximizes); 0.0 when no episode ended there."""
        half = self.total_updates * self.batch // 2
        by_game = defaultdict(list)
        for steps, game, score in self.episode_scores:
            if steps >= half:
                by_game[game].append(score)
        return float(np.mean([np.mean(v) for v in by_game.values()])) if by_game else 0.0
