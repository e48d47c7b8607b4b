"""metammo: a fast many-agent game engine (Neural MMO style) for the metammo benchmark.

``metammo.make(game, config, seed, **overrides)`` returns an env with PufferLib's ``PufferEnv``
contract (``game``: a registered game, a game pack such as ``"mini_generalist"``, or a list of
games sampled per episode); ``metammo.make_parallel(...)`` a PettingZoo ``ParallelEnv`` view. Importing this
package loads numpy only: the env, gymnasium and numba load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metammo.config import Config, make_config

if TYPE_CHECKING:
    from metammo.env import Env
    from metammo.parallel import ParallelEnv

__all__ = ["Config", "make", "make_config", "make_parallel"]
__version__ = "0.1.0"


def make(game: str | list[str] = "sandbox", config: str | Config = "mini", seed: int | None = 0, **kwargs: Any) -> "Env":
    """An :class:`~metammo.env.Env` playing ``game`` on ``config`` (see that class for kwargs).

    Raises:
        ValueError: unknown game, pack, preset or config key, a value out of range, bad pack
            weights or game options.
    """
    from metammo.env import Env

    return Env(game, config, seed, **kwargs)


def make_parallel(game: str | list[str] = "sandbox", config: str | Config = "mini", seed: int | None = 0, **kwargs: Any) -> "ParallelEnv":
    """A PettingZoo ``ParallelEnv`` view of ``make(game, config, seed, **kwargs)``."""
    from metammo.parallel import ParallelEnv

    return ParallelEnv(game, config, seed, **kwargs)
