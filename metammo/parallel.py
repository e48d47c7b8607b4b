"""A PettingZoo ``ParallelEnv`` view of :class:`metammo.env.Env`.

The mapping, from the PufferLib-style env (fixed ``num_agents``, arrays indexed by agent slot)
to PettingZoo's dicts keyed by agent name:

=================================  ==============================================================
PettingZoo                         metammo
=================================  ==============================================================
``possible_agents``                ``agent_0 .. agent_{N-1}``, agent ``agent_i`` is slot ``i``
``agents``                         the live agents: alive at reset, removed on the step they
                                   terminate (die, or the game ends) or are truncated (horizon);
                                   an agent the game revives in the tick it died (Race's
                                   respawn) stays, without a termination (truncated only if
                                   that tick is the horizon): PettingZoo agents cannot come
                                   back, and its reward still carries the death
``observation_space(agent)``       ``env.single_observation_space`` (one object for every agent)
``action_space(agent)``            ``env.single_action_space`` (one object for every agent)
``reset(seed, options)``           ``env.reset(seed)`` (a seed also restarts the adaptive
                                   difficulty); ``options`` is accepted and unused
``step(actions)``                  one ``env.step``: agents missing from ``actions`` play the
                                   no-op row (all zeros); the returned dicts are keyed by the
                                   agents that were live before the step
observation                        a copy of the agent's row of ``env.observations``: (size,)
                                   uint8, described by ``env.layout``
reward / termination / truncation  ``float`` / ``bool`` from ``env.rewards`` / ``terminals`` /
                                   ``truncations``
info                               ``{}``; on the step that ends the episode every returned
                                   agent gets ``{"episode": summary}`` (the summary dict is
                                   shared, see :meth:`metammo.env.Env.episode_summary`)
=================================  ==============================================================

The underlying env runs with ``autoreset=False``: when its episode ends, every agent still live
gets the termination or truncation the env's arrays say, ``agents`` becomes empty, and the next
call must be ``reset``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pettingzoo
from gymnasium import spaces

from metammo.config import Config
from metammo.env import Env


class ParallelEnv(pettingzoo.ParallelEnv):
    """PettingZoo Parallel API over ``Env(game, config, seed, autoreset=False, **overrides)``.

    Attributes:
        env: the underlying :class:`~metammo.env.Env`.

    Raises:
        ValueError: as :class:`~metammo.env.Env` (unknown game, preset or config key, or a
            value out of range); ``autoreset`` given (a PettingZoo env ends its episodes: the
            caller resets).
    """

    metadata = {"name": "metammo_v0", "render_modes": []}
    render_mode = None

    def __init__(self, game: str = "sandbox", config: str | Config = "mini", seed: int | None = 0,
                 **overrides: Any):
        if "autoreset" in overrides:
            raise ValueError(f"autoreset: a PettingZoo env never resets itself (agents leave when the episode "
                             f"ends; call reset() for the next), so it takes no autoreset option, got "
                             f"{overrides['autoreset']!r}")
        self.env = Env(game, config, seed, autoreset=False, **overrides)
        self.possible_agents = [f"agent_{i}" for i in range(self.env.num_agents)]
        self._index = {name: i for i, name in enumerate(self.possible_agents)}
        self.observation_spaces = dict.fromkeys(self.possible_agents, self.env.single_observation_space)
        self.action_spaces = dict.fromkeys(self.possible_agents, self.env.single_action_space)
        self.agents: list[str] = []
        self._actions = np.zeros((self.env.num_agents, len(self.env.head_sizes)), np.int64)

    def observation_space(self, agent: str) -> spaces.Box:
        """``env.single_observation_space``, the same object for every agent.

        Raises:
            KeyError: an unknown agent name.
        """
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        """``env.single_action_space``, the same object for every agent.

        Raises:
            KeyError: an unknown agent name.
        """
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """Start an episode (``seed`` reseeds the episode Generator and restarts the games'
        adaptive difficulty, see :meth:`metammo.env.Env.reset`; ``options`` is unused).

        Returns:
            ``(observations, infos)``: ``{agent: (size,) uint8}`` and ``{agent: {}}`` for the
            live agents.
        """
        obs, _ = self.env.reset(seed)
        self.agents = [self.possible_agents[i] for i in np.flatnonzero(self.env.masks)]
        obs = obs.copy()
        return {a: obs[self._index[a]] for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, float],
                                                     dict[str, bool], dict[str, bool], dict[str, dict]]:
        """Advance one tick.

        Args:
            actions: ``{agent: (4,) integers}`` (see :mod:`metammo.actions`); missing agents
                play the no-op row. An agent no longer live may be given an action: the engine
                treats a dead agent's row as a no-op.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``, dicts keyed by the
            agents that were live before the step.

        Raises:
            ValueError: ``actions`` not a mapping, an unknown agent name, an action that is not
                a ``(4,)`` integer array, or an index out of its head's range (the env's message,
                ``actions[i, head]`` for agent ``agent_i``); nothing changes.
            RuntimeError: ``step`` before ``reset`` or after the episode ended.
        """
        if not self.agents:
            raise RuntimeError("no live agents: call reset() to start an episode before step()")
        if not isinstance(actions, Mapping):
            raise ValueError(f"actions must be a dict {{agent: action}}, got {type(actions).__name__}")
        self._actions[:] = 0
        expected = (len(self.env.head_sizes),)
        for agent, action in actions.items():
            if agent not in self._index:
                raise ValueError(f"unknown agent {agent!r}; agents are agent_0..agent_{self.env.num_agents - 1}")
            row = np.asarray(action)
            if row.shape != expected:
                raise ValueError(f"action of {agent!r} must have shape {expected} (heads), got {row.shape}")
            if row.dtype.kind not in "iu":
                raise ValueError(f"action of {agent!r} must have an integer dtype, got {row.dtype}")
            if row.dtype.kind == "u" and (row > np.iinfo(np.int64).max).any():
                raise ValueError(f"action of {agent!r} = {row} is out of range; allowed 0..{self.env.head_sizes - 1}")
            self._actions[self._index[agent]] = row
        obs, rewards, terminals, truncations, infos = self.env.step(self._actions)

        before = self.agents
        obs = obs.copy()
        # a respawned agent lives on: not terminated mid-episode, only truncated at the horizon
        alive = self.env.state.entities.alive[: self.env.num_agents]
        ended = terminals & ~(alive & truncations) if infos else terminals & ~alive
        out_obs = {a: obs[self._index[a]] for a in before}
        out_rew = {a: float(rewards[self._index[a]]) for a in before}
        out_term = {a: bool(ended[self._index[a]]) for a in before}
        out_trunc = {a: bool(truncations[self._index[a]]) for a in before}
        out_info = {a: ({"episode": infos[0]} if infos else {}) for a in before}
        self.agents = [a for a in before if not (out_term[a] or out_trunc[a])]
        return out_obs, out_rew, out_term, out_trunc, out_info

    def close(self) -> None:
        """Close the underlying env."""
        self.env.close()
