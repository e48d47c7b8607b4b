"""Train a baseline policy: the Hydra entry point.

    python -m baselines.train                                  # conf/train.yaml defaults
    python -m baselines.train experiment=generalist_mini       # the reference mini generalist
    python -m baselines.train experiment=smoke logger=wandb    # seconds; wandb offline without a key
    python -m baselines.train -m trainer.learning_rate=1e-4,3e-4,1e-3   # a sweep, one job each
    python -m baselines.train -m hparams_search=optuna                 # Optuna over lr, entropy
    python -m baselines.train trainer=puffer                   # PufferLib's PuffeRL (baselines/puffer.py)
    python -m baselines.train experiment=specialist_multitask +game.options.curriculum=my.yaml  # your tasks

The run directory (``runs/train/DATE/TIME``, or ``runs/sweep/DATE/TIME/N`` per job of a sweep)
holds Hydra's resolved config (``.hydra/config.yaml``), the log (``train.log``), the metrics
(``metrics.jsonl``) and ``checkpoints/latest.pt`` (written atomically; ``resume=PATH``
continues from it). The job returns its objective (see :meth:`baselines.ppo.Trainer.objective`)
for sweepers.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from baselines.ppo import PPOConfig, Trainer
from baselines.tracking import LiveView, RunLog, show_progress

log = logging.getLogger(__name__)

#: conf/ at the repository root (DESIGN.md: "conf/ Hydra configs").
CONFIG_PATH = str(Path(__file__).resolve().parent.parent / "conf")


#: What a user's bad setting raises while a job is set up (not while it runs: that is a bug).
BAD_INPUT = (ValueError, OSError, OmegaConfBaseException)


def exit_bad_input(err: Exception, logger: logging.Logger = log) -> NoReturn:
    """Report ``err`` as one line through ``logger`` (on the console and in the job's log) and
    exit with status 2, as the other command lines do for bad input."""
    logger.error("error: %s", err)
    raise SystemExit(2)


def ppo_config(cfg: DictConfig) -> PPOConfig:
    """The trainer's :class:`~baselines.ppo.PPOConfig` from a composed ``train.yaml``.

    Raises:
        omegaconf.errors.ValidationError: a value of the wrong type; unknown trainer keys
            raise ``ConfigKeyError`` (both name the key).
    """
    trainer = OmegaConf.to_container(cfg.trainer, resolve=True)
    name = trainer.pop("name")
    if name != "ppo":
        raise ValueError(f"trainer {name!r} is not built; available: ppo, puffer")
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(PPOConfig), trainer, run_fields(cfg)))


def run_fields(cfg: DictConfig) -> dict:
    """The :class:`~baselines.ppo.RunConfig` fields (every trainer's) from ``train.yaml``'s
    env, game and policy groups and its seed."""
    game, weights = cfg.game.name, cfg.game.weights
    return {
        "game": game if isinstance(game, str) else list(game),
        "weights": None if weights is None else list(weights),
        "config": cfg.env.config,
        "env_overrides": OmegaConf.to_container(cfg.env.overrides, resolve=True),
        "randomize": cfg.game.randomize,
        "game_options": game_options(cfg),
        "policy_size": cfg.policy.size,
        "seed": cfg.seed,
    }


#: Game options a training run does not take in ``game.options``, and why.
RUN_OPTIONS = {"randomize": "set it with game.randomize",
               "difficulty": "training raises the levels as it wins; trainer.max_difficulty_envs plays the top one",
               "preset": "presets (held-out maps) are for evaluation"}


def game_options(cfg: DictConfig) -> dict:
    """``game.options`` of a composed ``train.yaml`` (``{}`` for a game group without it).

    Raises:
        ValueError: an option the run sets through its own keys (:data:`RUN_OPTIONS`).
    """
    options = cfg.game.get("options")
    options = {} if options is None else OmegaConf.to_container(options, resolve=True)
    clash = sorted(set(options) & set(RUN_OPTIONS))
    if clash:
        raise ValueError(f"game.options.{clash[0]}: {RUN_OPTIONS[clash[0]]}")
    return options


def wandb_settings(cfg: DictConfig) -> dict | None:
    """The :class:`~baselines.tracking.RunLog` wandb settings of ``cfg.logger`` (None: no wandb);
    a sweep's runs share one group. Raises ValueError: an unknown logger."""
    if cfg.logger.name == "none":
        return None
    if cfg.logger.name != "wandb":
        raise ValueError(f"logger {cfg.logger.name!r} is not known; available: none, wandb")
    settings = OmegaConf.to_container(cfg.logger, resolve=True)
    hydra_cfg = HydraConfig.get()
    if settings.get("group") is None and hydra_cfg.mode == RunMode.MULTIRUN:
        settings["group"] = "sweep-" + Path(hydra_cfg.sweep.dir).name  # one group per sweep
    return settings


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="train")
def main(cfg: DictConfig) -> float:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if cfg.trainer.name == "puffer":
        try:
            from baselines import puffer
        except ImportError as err:  # pufferlib is missing: the message says how to install it
            exit_bad_input(err)
        return puffer.main(cfg, run_dir)
    try:
        ppo = ppo_config(cfg)
        show = show_progress(cfg.progress)
        tracking = wandb_settings(cfg)
        trainer = Trainer(ppo, run_dir, resume=cfg.resume)
    except BAD_INPUT as err:
        exit_bad_input(err)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    trainer.tracker = tracker = RunLog(run_dir, resolved, tracking, name=f"{cfg.game.name}-{run_dir.name}")
    view = LiveView(show, ppo.total_agent_steps)
    log.info("training %s on %s (%s): %d agent steps in %d updates of %d; run directory %s", cfg.policy.size,
             cfg.game.name, cfg.env.config, ppo.total_agent_steps, trainer.total_updates, trainer.batch, run_dir)
    try:
        last = trainer.train(progress=view.update)
    finally:
        view.close()
        tracker.close()
    objective = trainer.objective()
    log.info("done: %d agent steps, checkpoint %s, objective %.4f", trainer.agent_steps, last, objective)
    print(f"checkpoint: {last}")
    return objective


if __name__ == "__main__":
    os.environ.setdefault("WANDB_SILENT", "true")
    main()
