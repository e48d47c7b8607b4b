"""Where a training run's numbers go: a JSONL file always, Weights & Biases when asked, and a
live terminal view.

* :class:`RunLog` appends one JSON object per record to ``RUN_DIR/metrics.jsonl`` (flushed each
  time, so an interrupted run keeps what it logged) and mirrors records, checkpoints (model
  artifacts) and videos to wandb with ``logger=wandb``. wandb runs offline unless an API key is
  configured or a mode is given, so ``wandb sync RUN_DIR/wandb/offline-run-*`` uploads later.
* :class:`LiveView` shows agent steps, steps per second, episodes and per-game win rates with
  rich; it stays quiet when stdout is not a terminal (CI, pipes) unless forced on.
"""

from __future__ import annotations

import json
import netrc
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np


def wandb_mode(mode: str | None) -> str:
    """``mode`` if given, else ``WANDB_MODE``, else ``online`` with a configured API key
    (``WANDB_API_KEY`` or a ``wandb login`` entry in ~/.netrc) and ``offline`` without.

    Raises:
        ValueError: a mode other than online, offline or disabled.
    """
    mode = mode or os.environ.get("WANDB_MODE")
    if mode is None:
        mode = "online" if os.environ.get("WANDB_API_KEY") or _netrc_has_wandb() else "offline"
    if mode not in ("online", "offline", "disabled"):
        raise ValueError(f"wandb mode must be online, offline or disabled, got {mode!r}")
    return mode


def _netrc_has_wandb() -> bool:
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


class RunLog:
    """Metrics of one run: ``RUN_DIR/metrics.jsonl`` and, when ``wandb_cfg`` is given, a wandb run.

    Args:
        run_dir: the run directory.
        config: the resolved config (logged to wandb).
        wandb_cfg: ``logger`` group values (project, entity, mode, group, tags, log_checkpoints),
            or None for no wandb.
        name: the run's name.
    """

    def __init__(self, run_dir: str | Path, config: dict[str, Any], wandb_cfg: dict[str, Any] | None = None,
                 name: str | None = None):
        self.path = Path(run_dir) / "metrics.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a")
        self.run = None
        self.log_checkpoints = False
        if wandb_cfg is not None:
            import wandb

            self.log_checkpoints = bool(wandb_cfg.get("log_checkpoints", True))
            self.run = wandb.init(project=wandb_cfg.get("project", "metammo"), entity=wandb_cfg.get("entity"),
                                  group=wandb_cfg.get("group"), tags=list(wandb_cfg.get("tags") or []),
                                  name=name, dir=str(run_dir), config=config,
                                  mode=wandb_mode(wandb_cfg.get("mode")))

    def log(self, record: dict[str, Any]) -> None:
        """Append ``record`` (JSON-ready values; ``agent_steps`` is the x axis)."""
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        if self.run is not None:
            self.run.log(record, step=int(record["agent_steps"]))

    def checkpoint(self, path: Path, metadata: dict[str, Any]) -> None:
        """Log ``path`` as a model artifact (aliases ``latest``) when wandb checkpoints are on."""
        if self.run is None or not self.log_checkpoints:
            return
        import wandb

        artifact = wandb.Artifact(f"policy-{self.run.id}", type="model", metadata=metadata)
        artifact.add_file(str(path))
        self.run.log_artifact(artifact, aliases=["latest", f"step-{metadata['agent_steps']}"])

    def video(self, frames: np.ndarray, step: int, fps: int = 8) -> None:
        """Log ``frames`` ``(T, 3, H, W)`` uint8 as a ``wandb.Video`` (no-op without wandb)."""
        if self.run is None:
            return
        import wandb

        self.run.log({"replay": wandb.Video(frames, fps=fps, format="mp4")}, step=step)

    def close(self) -> None:
        self._file.close()
        if self.run is not None:
            self.run.finish()


def show_progress(setting: Any) -> bool:
    """Whether a command shows live progress under its ``progress`` setting: ``"auto"`` (when
    stdout is a terminal), True or False.

    Raises:
        ValueError: any other value (the message names the allowed ones).
    """
    if setting == "auto":
        return sys.stdout.isatty()
    if not isinstance(setting, bool):
        raise ValueError(f"progress must be auto, true or false, got {setting!r}")
    return setting


class LiveView:
    """A live table of a run's progress (rich), or nothing when ``enabled`` is false.

    Args:
        enabled: whether to show it (see :func:`show_progress`).
        total: agent steps of the whole run.
    """

    def __init__(self, enabled: bool, total: int):
        self.total = total
        self.live = None
        self.win_rates: dict[str, float] = {}
        if enabled:
            from rich.live import Live

            self.live = Live(self._render({}), refresh_per_second=4, transient=False)
            self.live.start()

    def _render(self, record: dict[str, Any]):
        from rich.table import Table

        for key, value in record.items():
            if key.endswith("/win_rate"):
                self.win_rates[key.split("/")[0]] = value
        steps = record.get("agent_steps", 0)
        table = Table(title="metammo PPO", show_header=False, min_width=48)
        table.add_row("agent steps", f"{steps:,} / {self.total:,} ({100 * steps / max(self.total, 1):.1f}%)")
        table.add_row("agent steps/s", f"{record.get('agent_steps_per_s', 0):,.0f}")
        table.add_row("episodes", f"{record.get('episodes', 0):,}")
        table.add_row("entropy", f"{record.get('entropy', float('nan')):.3f}")
        for game, rate in sorted(self.win_rates.items()):
            table.add_row(f"win rate {game}", f"{rate:.3f}")
        return table

    def update(self, record: dict[str, Any]) -> None:
        if self.live is not None:
            self.live.update(self._render(record))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
