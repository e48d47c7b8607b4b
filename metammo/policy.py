"""The policy interface shared by scripted bots and checkpoints, and the random policy.

A policy has ``initial_state(num_agents) -> state`` and ``act(observations, state) ->
(actions, state)``: ``observations`` is ``(num_agents, layout.size)`` uint8 as the env writes
it, ``actions`` ``(num_agents, heads)`` int32 within the env's head sizes. The trainer, the
evaluator and the leaderboard drive every policy through these two calls.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol

import numpy as np
from numba import njit

from metammo.observation import Layout
from metammo.systems.common import randint


class Policy(Protocol):
    """What every policy offers (see the module docstring)."""

    def initial_state(self, num_agents: int) -> Any: ...

    def act(self, observations: np.ndarray, state: Any) -> tuple[np.ndarray, Any]: ...


@njit(cache=True)
def _sample_masked(obs, offsets, sizes, rng, out):
    for i in range(obs.shape[0]):
        for h in range(sizes.shape[0]):
            base = offsets[h]
            valid = 0
            for k in range(sizes[h]):
                valid += obs[i, base + k]
            pick = randint(rng, valid)
            for k in range(sizes[h]):
                if obs[i, base + k]:
                    if pick == 0:
                        out[i, h] = k
                        break
                    pick -= 1


class RandomPolicy:
    """Uniform over the choices each head's action mask allows; stateless, seeded.

    Args:
        layout: the env's observation layout (masks are read from it).
        head_sizes: the env's action head sizes.
        seed: seed of the policy's own random stream.
    """

    def __init__(self, layout: Layout, head_sizes: np.ndarray, seed: int = 0):
        self.layout = layout
        self.head_sizes = np.asarray(head_sizes, np.int64)
        self._rng = np.array([np.random.default_rng(seed).integers(2**63)], np.uint64)

    def initial_state(self, num_agents: int) -> None:
        return None

    def act(self, observations: np.ndarray, state: None) -> tuple[np.ndarray, None]:
        actions = np.zeros((observations.shape[0], len(self.head_sizes)), np.int32)
        _sample_masked(observations, self.layout.mask_offsets, self.head_sizes, self._rng, actions)
        return actions, state


#: Entry-point group of named policies (``random``, ``scripted``, and any a package adds).
POLICY_GROUP = "metammo.policies"


def policies() -> list[str]:
    """Names of the registered policies, sorted."""
    return sorted(ep.name for ep in entry_points(group=POLICY_GROUP))


def make_policy(name: str, layout: Layout, head_sizes: np.ndarray, seed: int = 0) -> Policy:
    """The registered policy ``name`` for an env's ``layout`` and ``head_sizes``.

    Raises:
        ValueError: an unknown name (the message lists the registered ones).
    """
    found = [ep for ep in entry_points(group=POLICY_GROUP) if ep.name == name]
    if not found:
        raise ValueError(f"unknown policy {name!r}; registered: {policies()}")
    return found[0].load()(layout, head_sizes, seed=seed)
