"""The hooks a game implements on the engine, and the registry that finds games.

A game is a subclass of :class:`Game`. The env calls its hooks at fixed points of an episode:

* :meth:`Game.check_config` when the env is made: can the game play on the env's config?
* :meth:`Game.episode_config` at reset: a new frozen config for this episode (systems, map
  size, fog, NPCs ...) derived from the env's base config; never mutates it.
* :meth:`Game.setup` at reset, after the terrain: spawns, teams, map features.
* :meth:`Game.update` every tick, after deaths: rewards, special rules, whether the game is over.
* :meth:`Game.finish` once when the episode ends (the game is over or the horizon is reached):
  winning scores.
* :meth:`Game.summary` at the end of an episode: extra statistics for the episode summary.
* :meth:`Game.restart` at a seeded reset: forget what earlier episodes taught the game.

Options every game takes (``metammo.make(..., randomize=, preset=, difficulty=)``):
``randomize`` (domain randomization, on by default), ``preset`` (a named evaluation preset from
:attr:`Game.presets`) and ``difficulty`` (pin a level of :attr:`Game.difficulty_levels`, or
``"max"``). The machinery behind them lives in :mod:`minigames.base`.

Games are found through the entry-point group ``metammo.minigames`` (name = class path); the
engine's own ``sandbox`` is registered there the same way any third-party package would be, so
``pip install`` of a package with such entry points adds games to :func:`metammo.make`.
"""

from __future__ import annotations

import inspect
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Mapping

import numpy as np

from metammo.config import Config
from metammo.state import State
from metammo.systems.spawn import spawn_agents

ENTRY_POINT_GROUP = "metammo.minigames"


class Game:
    """Base class of a game. Subclasses set the class attributes and override hooks."""

    #: registry name: the entry point's (or :func:`register`'s) name must be this
    name: ClassVar[str] = ""
    #: one line for ``list`` commands
    description: ClassVar[str] = ""
    #: config presets the game supports
    configs: ClassVar[tuple[str, ...]] = ("mini", "full")
    #: named evaluation presets (name -> a mapping of settings the subclass understands)
    presets: ClassVar[Mapping[str, Any]] = {}
    #: values of the adaptive-difficulty knob, easiest first (empty: no adaptive difficulty)
    difficulty_levels: ClassVar[tuple[Any, ...]] = ()

    def __init__(self, randomize: bool = True, preset: str | None = None, difficulty: int | str | None = None):
        """Raises:
            ValueError: an unknown preset, or a difficulty outside ``0 .. len(levels) - 1``
                (``0`` for a game without levels) and not ``"max"`` (the message lists the
                allowed values); a class attribute of the wrong type (``configs`` a string,
                ``presets`` not a mapping of names to mappings, ``difficulty_levels`` not a
                tuple or list)."""
        self._check_attributes()
        if not isinstance(randomize, bool):
            raise ValueError(f"game option 'randomize' must be a bool, got {randomize!r}")
        if preset is not None and preset not in self.presets:
            raise ValueError(f"game {self.name!r} has no preset {preset!r}; presets: {sorted(self.presets)}")
        levels = len(self.difficulty_levels)
        if isinstance(difficulty, np.integer):  # numpy ints count as ints (np.bool_ is no np.integer)
            difficulty = int(difficulty)
        if difficulty == "max":  # the hardest level; a game without levels has just the one, 0
            difficulty = levels - 1 if levels else None
        if type(difficulty) is int and difficulty == 0 and not levels:
            difficulty = None
        if difficulty is not None and (isinstance(difficulty, bool) or not isinstance(difficulty, int)
                                       or not 0 <= difficulty < levels):
            allowed = (f"an int in [0, {levels - 1}] or 'max'" if levels
                       else "None, 0 or 'max' (this game has no difficulty levels: just the one, 0)")
            raise ValueError(f"game {self.name!r}: difficulty must be {allowed}, got {difficulty!r}")
        self.randomize = randomize
        self.preset = preset
        self.pinned_difficulty = difficulty
        #: config values domain randomization drew for this episode (:meth:`episode_config`)
        self.randomized: dict[str, Any] = {}

    @classmethod
    def _check_attributes(cls) -> None:
        """Raises ValueError for a class attribute of the wrong type (see :meth:`__init__`)."""
        def wrong(attribute: str, what: str) -> ValueError:
            return ValueError(f"game {cls.name!r}: {attribute} must be {what}, got {getattr(cls, attribute)!r}")

        if isinstance(cls.configs, str) or not isinstance(cls.configs, (tuple, list, frozenset, set)) or not all(
                isinstance(c, str) for c in cls.configs):
            raise wrong("configs", "a tuple of config preset names, such as ('mini', 'full')")
        if not isinstance(cls.presets, Mapping) or not all(
                isinstance(k, str) and isinstance(v, Mapping) for k, v in cls.presets.items()):
            raise wrong("presets", "a mapping of preset names to mappings of settings")
        if not isinstance(cls.difficulty_levels, (tuple, list)):
            raise wrong("difficulty_levels", "a tuple of the knob's values, easiest first")

    @property
    def difficulty(self) -> int:
        """Index of the current difficulty level (0 for games without levels)."""
        return 0 if self.pinned_difficulty is None else self.pinned_difficulty

    def restart(self) -> None:
        """Forget what earlier episodes taught the game (a seeded ``env.reset``): afterwards it
        plays as when the env made it. The default keeps nothing, so does nothing; a game that
        learns across episodes (:class:`minigames.base.Minigame`'s adaptive difficulty) resets
        it here."""

    def check_config(self, base: Config) -> None:
        """Check, when the env is made, that the game can play every episode on ``base`` (the
        env's config); the default checks that ``base`` is one of :attr:`configs`.

        Raises:
            ValueError: naming what clashes and what is allowed.
        """
        if base.name not in self.configs:
            raise ValueError(f"game {self.name!r} does not support config {base.name!r}; "
                             f"it supports {list(self.configs)}")

    def episode_config(self, base: Config, rng: np.random.Generator) -> Config:
        """This episode's config, derived from ``base`` (default: ``base`` itself)."""
        return base

    def setup(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        """Place agents and map features after the terrain is generated (default: teams
        spawn around the edge, :func:`metammo.systems.spawn.spawn_agents`)."""
        spawn_agents(state, cfg, rng)

    def write_game_vector(self, game: np.ndarray, state: State, cfg: Config) -> None:
        """Fill the game's columns of the game vector ``game`` ((num_agents, 48) uint8 view) at
        reset: ``GameFeature.GAME_OWNED`` .. ``GameFeature.TASK - 1`` for its own features and
        the ``GameFeature.TASK`` columns for each agent's task embedding; the env has written
        the columns before ``GAME_OWNED``. The default leaves the game's columns 0."""

    def update(self, state: State, cfg: Config, died: np.ndarray, rewards: np.ndarray) -> bool:
        """Apply this tick's rules after deaths; return True when the game is over.

        Args:
            died: ``(num_agents,)`` bool, agents that died this tick.
            rewards: ``(num_agents,)`` float32, zeroed by the env, written in place.
        """
        raise NotImplementedError

    def finish(self, state: State, cfg: Config, rewards: np.ndarray, over: bool) -> None:
        """The episode ends after this tick's :meth:`update`: add winning scores to ``rewards``
        and note the result (default nothing). ``over`` is False when the horizon ended it."""

    def summary(self, state: State, cfg: Config) -> dict[str, Any]:
        """Extra entries for the episode summary (default none)."""
        return {}


_registered: dict[str, type[Game]] = {}


def _entry_points(group: str) -> dict[str, list[EntryPoint]]:
    """``{name: entry points}`` of ``group``, not loaded. The same value from the same
    distribution, listed twice because it is on ``sys.path`` twice, counts once."""
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=group):
        same = found.setdefault(ep.name, [])
        if all(_origin(e) != _origin(ep) for e in same):
            same.append(ep)
    return found


def _origin(ep: EntryPoint) -> str:
    """``ep``'s value and the package (distribution) that declares it, for messages."""
    package = ep.dist.name if ep.dist is not None else "?"
    return f"{ep.value!r} from package {package!r}"


def _load(kind: str, name: str, eps: list[EntryPoint]) -> Any:
    """The object of the one entry point in ``eps``, those of a ``kind`` (in messages) named
    ``name``.

    Raises:
        ValueError: several entry points have the name, or loading it fails.
    """
    if len(eps) > 1:
        raise ValueError(f"{kind} {name!r} is registered by {len(eps)} entry points in group {eps[0].group!r}: "
                         f"{'; '.join(map(_origin, eps))}; uninstall all but one")
    try:
        return eps[0].load()
    except Exception as exc:
        raise ValueError(f"{kind} {name!r}: cannot load entry point {_origin(eps[0])} "
                         f"({type(exc).__name__}: {exc})") from exc


def register(name: str, game: type[Game]) -> None:
    """Register ``game`` under ``name`` for this process (entry points are the durable way).

    Raises:
        ValueError: ``name`` is taken (by :func:`register` or an entry point), ``game`` is
            not a :class:`Game` subclass, or its :attr:`Game.name` is not ``name``.
    """
    if not (isinstance(game, type) and issubclass(game, Game)):
        raise ValueError(f"game {name!r} must be a subclass of metammo.game.Game, got {game!r}")
    if name in _registered or name in _entry_points(ENTRY_POINT_GROUP):
        raise ValueError(f"game name {name!r} is already registered")
    _check_name(name, game, "register()")
    _registered[name] = game


def _check_name(name: str, game: type[Game], source: str) -> None:
    """A game's ``name`` is its registry name: the summaries, the observation's game identity
    and the messages use it."""
    if game.name != name:
        raise ValueError(f"game {name!r}: {source} gives class {game.__module__}.{game.__qualname__}, whose "
                         f"name attribute is {game.name!r}; set its name to {name!r}, the name it is "
                         "registered under")


def game_names() -> list[str]:
    """The names of every registered game, sorted, without loading any."""
    return sorted({*_entry_points(ENTRY_POINT_GROUP), *_registered})


def games() -> dict[str, type[Game]]:
    """``{name: Game subclass}`` of every registered game: entry points, then :func:`register`.

    Raises:
        ValueError: a broken entry point, as :func:`game_class`.
    """
    return {name: game_class(name) for name in game_names()}


def repeated(names: list[str]) -> list[str]:
    """The names ``names`` lists more than once, sorted."""
    return sorted({name for name in names if names.count(name) > 1})


def game_class(name: str) -> type[Game]:
    """The game registered as ``name``; loads only that game's entry point.

    Raises:
        ValueError: an unknown name (the message lists the known games and packs); a name that
            several entry points have (naming each); an entry point that fails to load (naming
            its value, its package and the error), that is not a :class:`Game` subclass, whose
            class's :attr:`Game.name` is not ``name`` or whose class attributes have the wrong
            types.
    """
    if name in _registered:
        return _registered[name]
    found = _entry_points(ENTRY_POINT_GROUP)
    if name not in found:
        raise ValueError(f"unknown game {name!r}; known games: {game_names()}; "
                         f"game packs: {pack_names()}")
    game = _load("game", name, found[name])
    if not (isinstance(game, type) and issubclass(game, Game)):
        raise ValueError(f"game {name!r}: entry point {_origin(found[name][0])} gives {game!r}, "
                         f"not a subclass of metammo.game.Game")
    _check_name(name, game, f"entry point {_origin(found[name][0])}")
    game._check_attributes()
    return game


def option_names(game: type[Game]) -> set[str]:
    """The keyword options ``game``'s constructor takes, its own and those it passes on to its
    bases through ``**options``."""
    names: set[str] = set()
    for cls in game.__mro__:
        if "__init__" not in cls.__dict__:
            continue
        params = list(inspect.signature(cls.__dict__["__init__"]).parameters.values())[1:]
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def own_options(game: type[Game], options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The entries of ``options`` (game options, as :func:`metammo.make`'s ``game_options``) that
    ``game`` takes: what each game of a pack, or each game played on its own, is given."""
    takes = option_names(game)
    return {k: v for k, v in (options or {}).items() if k in takes}


def new_game(game: type[Game], **options: Any) -> Game:
    """A new instance of ``game`` with game ``options``.

    Raises:
        ValueError: an option the game does not take (the message lists those it takes) or a
            bad option value.
    """
    unknown = sorted(set(options) - option_names(game))
    if unknown:
        raise ValueError(f"game {game.name!r} takes no option(s) {unknown}; options: {sorted(option_names(game))}")
    return game(**options)


def make_game(name: str, **options: Any) -> Game:
    """A new instance of the game registered as ``name``, with game ``options``
    (:func:`new_game`).

    Raises:
        ValueError: an unknown name (the message lists the known ones), or as :func:`new_game`.
    """
    return new_game(game_class(name), **options)


PACK_ENTRY_POINT_GROUP = "metammo.game_packs"


def pack_names() -> list[str]:
    """The names of every game pack registered in the entry-point group ``metammo.game_packs``,
    sorted, without loading any."""
    return sorted(_entry_points(PACK_ENTRY_POINT_GROUP))


def pack_games(name: str) -> tuple[str, ...]:
    """The game names of the pack registered as ``name`` (its entry point names a sequence of
    game names); loads only that pack's entry point.

    Raises:
        ValueError: an unknown pack (the message lists the known ones); a broken entry point
            (as :func:`game_class`) or one that is not a sequence of game names.
    """
    found = _entry_points(PACK_ENTRY_POINT_GROUP)
    if name not in found:
        raise ValueError(f"unknown game pack {name!r}; game packs: {sorted(found)}")
    members = _load("game pack", name, found[name])
    if not isinstance(members, (list, tuple)) or not all(isinstance(m, str) for m in members):
        raise ValueError(f"game pack {name!r} must be a sequence of game names, got {members!r}")
    return tuple(members)


def packs() -> dict[str, tuple[str, ...]]:
    """``{name: game names}`` of every registered game pack (:func:`pack_games`).

    Raises:
        ValueError: as :func:`pack_games`.
    """
    return {name: pack_games(name) for name in pack_names()}
