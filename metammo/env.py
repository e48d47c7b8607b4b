"""The env: PufferLib's ``PufferEnv`` contract, without importing pufferlib.

* fixed ``num_agents``; ``single_observation_space`` (Box of uint8, one flat row per agent,
  described by :attr:`Env.layout`) and ``single_action_space`` (MultiDiscrete, see
  :mod:`metammo.actions`);
* preallocated buffers written in place: ``observations`` (num_agents, layout.size) uint8,
  ``rewards`` (num_agents,) float32, ``terminals`` and ``truncations`` (num_agents,) bool,
  ``masks`` (num_agents,) bool (the agent was alive for this transition), ``actions``
  (num_agents, heads) int32 (4 heads, 12 in the full config);
* ``reset(seed) -> (observations, infos)``, ``step(actions) -> (observations, rewards,
  terminals, truncations, infos)``; ``infos`` is a list of dicts: empty, or one episode summary
  on the step that ends an episode. With ``autoreset`` (the default) that step also starts the
  next episode, so the observations it returns are the new episode's first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from metammo import actions as act
from metammo.config import Config, make_config
from metammo.constants import Event
from metammo.files import plain
from metammo.game import game_class, new_game, option_names, own_options, pack_games, pack_names, repeated
from metammo.kernels import Kernels
from metammo.observation import GAME_ID_BYTES, SYSTEM_BITS, GameFeature, Layout, Observer, game_id, system_bits
from metammo.replay import Recorder, Replay
from metammo.state import allocate, playable_bounds
from metammo.systems.common import centre_tile
from metammo.systems.npc import npc_population
from metammo.systems.params import params
from metammo.systems.spawn import open_paths
from metammo.systems.tick import tick
from metammo.terrain import EVAL_MAP_SEEDS, TRAIN_MAP_SEEDS, generate

#: The config keys whose values, drawn by domain randomization, make an episode's map unlike
#: any cached one (:func:`metammo.terrain.generate`'s ``cache``).
_THRESHOLDS = frozenset({"water_threshold", "grass_threshold", "foliage_threshold"})


class Env:
    """A game (or a game pack: one game sampled per episode) on the engine, ``num_agents``
    agents acting every tick.

    Args:
        game: a registered game name (see :func:`metammo.game.games`), a registered game pack
            name (:func:`metammo.game.packs`, e.g. ``"mini_generalist"``) or a list of game names.
        config: a preset name (``"mini"``, ``"full"``) or a :class:`~metammo.config.Config`.
        seed: seeds the episode Generator (None or a non-negative int); every random draw of
            every episode derives from it.
        autoreset: start the next episode inside the step that ends one.
        weights: sampling weight of each game of a pack (default uniform); non-negative, not
            all zero.
        randomize, preset, difficulty: game options (see :mod:`metammo.game`), given to every
            game of the pack; ``None`` keeps each game's default.
        game_options: a mapping of further keyword options for the games' constructors (e.g.
            Multi-task's ``curriculum``); each game of a pack gets those its constructor takes.
            An option may also be given here instead of as a keyword, not both.
        record: record every episode (:mod:`metammo.replay`): ``recorder`` is then a
            :class:`~metammo.replay.Recorder` (``None`` otherwise; assign one to start recording
            from the next episode, ``None`` to stop) and ``last_replay`` the
            :class:`~metammo.replay.Replay` of the last episode that ended.
        **overrides: config keys (see :mod:`metammo.config`).

    Raises:
        ValueError: unknown game, pack, preset or config key; a value out of range; a game that
            cannot play on the config; a pack listing a game twice; bad weights; ``autoreset`` or
            ``record`` not a bool; ``game_options`` not a mapping, repeating a keyword option, or
            holding an option no game of the pack takes or a bad value; a game option given as
            a config key.
    """

    def __init__(self, game: str | Sequence[str] = "sandbox", config: str | Config = "mini",
                 seed: int | None = 0, autoreset: bool = True, weights: Sequence[float] | None = None,
                 randomize: bool | None = None, preset: str | None = None,
                 difficulty: int | str | None = None, game_options: dict[str, Any] | None = None,
                 record: bool = False, **overrides: Any):
        _check_seed(seed)
        for flag, value in (("autoreset", autoreset), ("record", record)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{flag} must be a bool, got {value!r}")
        names = _game_names(game)
        classes = {name: game_class(name) for name in names}
        takes = {name: option_names(game) for name, game in classes.items()}
        misplaced = sorted(set(overrides) & set().union(*takes.values()))
        if misplaced:
            raise ValueError(f"{misplaced}: game options, not config keys; pass them as "
                             f"game_options={{{', '.join(f'{k!r}: ...' for k in misplaced)}}}")
        self.base_config = make_config(config, **overrides)
        options = {k: v for k, v in (("randomize", randomize), ("preset", preset), ("difficulty", difficulty))
                   if v is not None}
        options.update(_check_game_options(game_options, options))
        unused = set(options) - set().union(*takes.values())
        if unused:
            raise ValueError(f"no game of {names} takes option(s) {sorted(unused)}; "
                             f"options: {sorted(set().union(*takes.values()))}")
        self.games = []
        for name in names:
            instance = new_game(classes[name], **own_options(classes[name], options))
            try:
                instance.check_config(self.base_config)
            except ValueError as err:
                if len(names) == 1:
                    raise
                raise ValueError(f"game pack {(game if isinstance(game, str) else names)!r}: {err}") from None
            self.games.append(instance)
        self.weights = _pack_weights(weights, names)
        self.game = self.games[0]
        self.config = self.base_config
        shape = self.base_config.shape
        self.layout = Layout(shape)
        self.num_agents = shape.num_agents
        self.autoreset = autoreset
        self.single_observation_space = spaces.Box(0, 255, (self.layout.size,), np.uint8)
        self.head_sizes = act.head_sizes(shape)
        self.single_action_space = spaces.MultiDiscrete(self.head_sizes)
        self.observations = np.zeros((self.num_agents, self.layout.size), np.uint8)
        self.rewards = np.zeros(self.num_agents, np.float32)
        self.terminals = np.zeros(self.num_agents, np.bool_)
        self.truncations = np.zeros(self.num_agents, np.bool_)
        self.masks = np.zeros(self.num_agents, np.bool_)
        self.actions = np.zeros((self.num_agents, len(self.head_sizes)), np.int32)
        self.state = allocate(shape)
        self._entity_ids = np.full((self.num_agents, shape.obs_entities), -1, np.int32)
        self._observe = Observer(self.state, self.layout, self.observations, self._entity_ids)
        self._kernels = Kernels()  # the arguments' types never change (Params: see its docstring)
        self._died = np.zeros(self.num_agents, np.bool_)
        self._returns = np.zeros(self.num_agents, np.float64)
        self._rng = np.random.default_rng(seed)
        self.map_seed = -1
        self.recorder: Recorder | None = Recorder() if record else None
        self.last_replay: Replay | None = None
        self._started = False  # an episode is running

    # --- episode -----------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, list[dict]]:
        """Start an episode. With a ``seed``, first reseed the episode Generator and restart every
        game of the pack (:meth:`metammo.game.Game.restart`: the adaptive difficulty starts again
        from its first level), so the env plays as a fresh one made with that seed would (with
        the pack's weights as last set); without one, the games keep what earlier episodes
        taught them, as at an auto-reset.

        Returns ``(observations, infos)`` with ``infos == []``.

        Raises:
            ValueError: ``seed`` not None or a non-negative int.
        """
        _check_seed(seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            for game in self.games:
                game.restart()
        self._begin_episode()
        np.copyto(self.masks, self.state.entities.alive[: self.num_agents])
        self.rewards[:] = 0
        self.terminals[:] = False
        self.truncations[:] = False
        return self.observations, []

    def set_weights(self, weights: Sequence[float] | None) -> None:
        """Change the pack's game sampling weights from the next episode on.

        Args:
            weights: one finite, non-negative number per game of the pack, not all zero
                (normalized here); None: uniform.

        Raises:
            ValueError: the wrong count of weights, or a negative, non-finite or all-zero set.
        """
        self.weights = _pack_weights(weights, [g.name for g in self.games])

    def _begin_episode(self) -> None:
        rng = self._rng
        if len(self.games) > 1:
            self.game = self.games[rng.choice(len(self.games), p=self.weights)]
        cfg = self.game.episode_config(self.base_config, rng)
        if cfg.shape != self.base_config.shape:
            raise ValueError(f"game {self.game.name!r} changed shape settings; only tunables may change per episode")
        self.config = cfg
        self._params = params(cfg)
        t = cfg.tunables
        state = self.state
        state.clear()
        pool = TRAIN_MAP_SEEDS if t.map_pool == "train" else EVAL_MAP_SEEDS
        self.map_seed = int(pool[rng.integers(len(pool))])
        np.copyto(state.tiles.material, generate(
            self.map_seed, t.map_size, cfg.shape.grid_size, t.water_threshold,
            t.grass_threshold, t.foliage_threshold, flat=not t.terrain, extra=t.extra_resources,
            cache=_THRESHOLDS.isdisjoint(self.game.randomized),  # drawn: this map seldom recurs
        ))
        state.rng[0] = rng.integers(2**63, dtype=np.uint64)
        self.game.setup(state, cfg, rng)
        if t.fog and t.fog_onset < t.horizon:
            _join_safe_square(state.tiles.material, cfg)
        npc_population(state.entities, state.tiles, state.rng, self._params)
        self._write_game_vector()
        self.refresh_observations()
        self._returns[:] = 0
        self._started = True
        if self.recorder is not None:
            self.recorder.begin(state, cfg, self.game.name, self.map_seed)

    def _write_game_vector(self) -> None:
        # a view made here, not kept: a pickled or copied env's kept view would be an array apart
        game, cfg, view = self.game, self.config, self.layout.view(self.observations, "game")
        view[:] = 0
        view[:, :SYSTEM_BITS] = system_bits(cfg)
        view[:, GameFeature.GAME:GameFeature.GAME + GAME_ID_BYTES] = game_id(game.name)
        view[:, GameFeature.TEAM_GAME] = cfg.tunables.team_size > 1
        view[:, GameFeature.LEADER] = self.state.entities.leader[: self.num_agents]
        levels = len(game.difficulty_levels)
        view[:, GameFeature.DIFFICULTY] = game.difficulty * 255 // (levels - 1) if levels > 1 else 0
        game.write_game_vector(view, self.state, cfg)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        """Advance one tick with ``actions`` ((num_agents, heads) integers, see :mod:`metammo.actions`).

        Raises:
            ValueError: wrong shape or dtype, or an index out of range (state unchanged).
            RuntimeError: ``step`` before the first ``reset``, or (with ``autoreset`` off) after
                the episode ended.
        """
        if not self._started:
            raise RuntimeError("no episode is running: call reset() before step() "
                               "(with autoreset=False, again after each episode ends)")
        act.validate(actions, self.head_sizes, self.num_agents)
        if actions is not self.actions:
            np.copyto(self.actions, actions, casting="unsafe")
        state, cfg, alive = self.state, self.config, self.state.entities.alive[: self.num_agents]
        np.copyto(self.masks, alive)
        state.tick += 1

        self._kernels(tick, self.actions, self.observations, self._entity_ids, self.layout.offsets, state.entities,
                      state.tiles, state.inventory, state.market, state.events, state.rng, self._params, state.tick)

        np.greater(self.masks, alive, out=self._died)
        self.rewards[:] = 0
        over = self.game.update(state, cfg, self._died, self.rewards)
        end = over or state.tick >= cfg.tunables.horizon
        if end:
            self.game.finish(state, cfg, self.rewards, over)
        np.logical_or(self._died, np.greater(self.masks, alive), out=self._died)  # rules may kill
        np.copyto(self.terminals, self._died)  # ... or revive: a respawned agent still ended one life
        self.truncations[:] = False
        self._returns += self.rewards
        self.refresh_observations()
        if self.recorder is not None:
            self.recorder.record(state)

        infos: list[dict] = []
        if end:
            if over:
                self.terminals |= alive
            else:
                np.copyto(self.truncations, alive)
            infos.append(self.episode_summary())
            if self.recorder is not None:
                self.last_replay = self.recorder.finish(infos[0])
            if self.autoreset:
                self._begin_episode()
            else:
                self._started = False
        return self.observations, self.rewards, self.terminals, self.truncations, infos

    def refresh_observations(self) -> None:
        """Rewrite ``observations`` (and masks) from the current state: for tools and tests
        that edit the state by hand between steps."""
        self._observe(self._params)

    def episode_summary(self) -> dict[str, Any]:
        """Statistics of the current episode so far: game, config, length, survivors, mean
        lifetime and return of agents, and per-event totals over agents (``events``), then the
        game's entries (:meth:`metammo.game.Game.summary`) as plain data (numpy numbers and
        arrays made Python numbers and lists).

        Raises:
            ValueError: the game's entries would replace one of the env's."""
        n, ent = self.num_agents, self.state.entities
        counts = self.state.events.counts[:n].sum(axis=0)
        summary = {
            "game": self.game.name,
            "config": self.config.name,
            "map_seed": self.map_seed,
            "length": self.state.tick,
            "survivors": int(ent.alive[:n].sum()),
            "mean_lifetime": float(ent.time_alive[:n].mean()),
            "mean_return": float(self._returns.mean()),
            "events": {e.name.lower(): int(counts[e]) for e in Event},
        }
        extra = self.game.summary(self.state, self.config)
        clash = sorted(set(extra) & set(summary))
        if clash:
            raise ValueError(f"game {self.game.name!r}: summary() returned {clash}, entries the env writes; "
                             "name the game's entries otherwise")
        summary.update(plain(extra))
        return summary

    def close(self) -> None:
        """Nothing to release; present for the env contracts."""


def _join_safe_square(material: np.ndarray, cfg: Config) -> None:
    """Make a tile of the fog's safe square (rules.md §1 "Death fog": ``2 * fog_final_size + 1``
    tiles a side around the centre tile) reachable from the map's edge, opening the fewest
    impassable tiles (:func:`~metammo.systems.spawn.open_paths`), so the fog cannot kill every
    agent. Runs after the game's setup, so a game that already joins its centre opens nothing."""
    lo, hi = playable_bounds(cfg)
    centre, half = centre_tile(lo, hi), cfg.tunables.fog_final_size
    span = np.arange(max(lo, centre - half), min(hi, centre + half + 1))
    open_paths(material, lo, hi, np.repeat(span, span.size), np.tile(span, span.size), every=False)


def _check_seed(seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative int, got {seed!r}")


def _game_names(game: str | Sequence[str]) -> list[str]:
    known_packs = pack_names()
    if isinstance(game, str):
        names = list(pack_games(game)) if game in known_packs else [game]
    elif not isinstance(game, Sequence) or not game or not all(isinstance(n, str) for n in game):
        raise ValueError(f"game must be a game or pack name or a non-empty list of game names, got {game!r}")
    else:
        for name in game:
            if name in known_packs:
                raise ValueError(f"{name!r} is a game pack: packs cannot be listed with other names (list game "
                                 f"names instead, e.g. its games {list(pack_games(name))}), got {list(game)}")
        names = list(game)
    twice = repeated(names)
    if twice:
        raise ValueError(f"a game pack lists each game once (weights set how often each plays); "
                         f"{twice} repeated in {game if isinstance(game, str) else names}")
    return names


def _pack_weights(weights: Sequence[float] | None, names: list[str]) -> np.ndarray:
    if weights is None:
        return np.full(len(names), 1.0 / len(names))
    listed = isinstance(weights, Iterable) and not isinstance(weights, (str, bytes, Mapping))
    values = list(weights) if listed else []
    numbers = all(isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) for x in values)
    if not listed or not numbers or len(values) != len(names):
        raise ValueError(f"weights must be a list of numbers, one per game ({len(names)}: {names}), got {weights!r}")
    w = np.asarray(values, np.float64)
    if not np.isfinite(w).all() or (w < 0).any() or w.max() <= 0:
        raise ValueError(f"weights must be finite, non-negative and not all zero, got {values}")
    w /= w.max()  # first, so the sum cannot overflow
    return w / w.sum()


def _check_game_options(game_options: Mapping[str, Any] | None, given: Mapping[str, Any]) -> Mapping[str, Any]:
    if game_options is None:
        return {}
    if not isinstance(game_options, Mapping) or not all(isinstance(k, str) for k in game_options):
        raise ValueError(f"game_options must be a mapping of option names to values, got {game_options!r}")
    twice = sorted(set(game_options) & set(given))
    if twice:
        raise ValueError(f"game option(s) {twice} given both as keyword and in game_options; give each once")
    return game_options
