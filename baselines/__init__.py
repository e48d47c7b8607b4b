"""Baselines: the scripted reference bot (:mod:`baselines.scripted`, the policy ``scripted``), the
torch policy network (:mod:`baselines.network`), checkpoints (:mod:`baselines.checkpoint`), the
PPO trainer (:mod:`baselines.ppo`) and the Hydra entry points :mod:`baselines.train` and
:mod:`baselines.evaluate`.

``baselines.load_policy(path)`` returns a ready policy (``initial_state``, ``act``) from a
checkpoint; torch loads only when it is first used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_policy"]


def load_policy(path: Any, seed: int = 0, device: str = "cpu") -> Any:
    """See :func:`baselines.checkpoint.load_policy`."""
    from baselines.checkpoint import load_policy as load

    return load(path, seed=seed, device=device)
