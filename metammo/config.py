"""Typed, validated, frozen configs.

A :class:`Config` has two halves:

* :class:`Shape` sets array sizes (agents, NPC slots, maximum map size, vision, entity rows).
  It is fixed for the life of an env: changing it means a new env.
* :class:`Tunables` are per-episode values (systems on or off, map size up to the maximum, fog,
  NPC count, resources ...). Games and domain randomization make a new ``Config`` per episode
  with :meth:`Config.replace`; nothing is reallocated.

Every field declares its allowed range. Unknown keys, values outside the range, and broken
system dependencies raise ``ValueError`` naming the key and what is allowed.

Presets: ``mini`` (terrain, resources, combat, NPCs, communication; rules.md §2 "Configs") and
``full`` (mini plus progression, items, professions, gold and the market; rules.md §1
"Full-config systems").
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from metammo.files import plain


def _spec(default: Any, lo: Any = None, hi: Any = None, choices: tuple = (), doc: str = ""):
    return field(default=default, metadata={"lo": lo, "hi": hi, "choices": choices, "doc": doc})


@functools.cache
def _field_rules(cls: type) -> tuple[tuple[str, type, Any, Any, tuple], ...]:
    """``(name, kind, lo, hi, choices)`` of each field of the config dataclass ``cls``: read once,
    since games build a config every episode."""
    return tuple((f.name, type(f.default), f.metadata["lo"], f.metadata["hi"], f.metadata["choices"])
                 for f in fields(cls))


def _check_fields(obj: Any) -> None:
    for name, kind, lo, hi, choices in _field_rules(type(obj)):
        value = getattr(obj, name)
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"config key {name!r} must be a bool, got {value!r}")
            continue
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"config key {name!r} must be an int, got {value!r}")
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"config key {name!r} must be a number, got {value!r}")
            if value != value or value in (math.inf, -math.inf):
                raise ValueError(f"config key {name!r} must be finite, got {value!r}")
        if choices and value not in choices:
            raise ValueError(f"config key {name!r} must be one of {list(choices)}, got {value!r}")
        if lo is not None and not lo <= value <= hi:
            raise ValueError(f"config key {name!r} must be in [{lo}, {hi}], got {value!r}")


@dataclass(frozen=True)
class Shape:
    """Settings that size the preallocated arrays; fixed for the life of an env."""

    num_agents: int = _spec(128, 1, 1024, doc="agents per env (PufferLib's fixed num_agents)")
    max_npcs: int = _spec(256, 0, 1024, doc="NPC slots; the per-episode npc_count is at most this "
                          "(256: Sandwich's rallying NPCs at their cap)")
    max_map_size: int = _spec(128, 32, 256, doc="largest playable square side, in tiles")
    vision: int = _spec(7, 1, 15, doc="view radius in tiles; the tile crop is (2v+1)^2")
    obs_entities: int = _spec(32, 1, 255, doc="entity rows in each observation, nearest first")
    inventory: bool = _spec(False, doc="inventory, market view and item action heads in the "
                            "observation and action space (the full config)")

    def __post_init__(self) -> None:
        _check_fields(self)

    @property
    def border(self) -> int:
        """Void margin around the playable square, so vision crops never leave the grid."""
        return self.vision

    @property
    def grid_size(self) -> int:
        """Side of the allocated tile grid: ``max_map_size + 2 * border``."""
        return self.max_map_size + 2 * self.border

    @property
    def max_entities(self) -> int:
        """Entity slots: agents first (``0..num_agents-1``), then NPCs."""
        return self.num_agents + self.max_npcs


@dataclass(frozen=True)
class Tunables:
    """Per-episode values. A game or a randomizer returns a new one; nothing is reallocated."""

    # systems (rules.md §2 "Configs")
    terrain: bool = _spec(True, doc="fractal terrain; off gives an all-grass map")
    resources: bool = _spec(True, doc="food, water, health regeneration and starvation")
    combat: bool = _spec(True, doc="the attack action")
    npcs: bool = _spec(True, doc="NPCs (needs combat)")
    fog: bool = _spec(False, doc="death fog (off by default, rules.md §1)")
    comm: bool = _spec(True, doc="one communication token per agent per tick")
    progression: bool = _spec(False, doc="XP and levels: attacks and harvests give XP that raises the "
                              "skill's level (rules.md §1); off (mini), agents stay at level 1")
    items: bool = _spec(False, doc="inventory, equipment, consumables, give, destroy, NPC loot "
                        "(needs shape key inventory)")
    professions: bool = _spec(False, doc="automatic harvest with profession levels (needs items)")
    market: bool = _spec(False, doc="gold: market, give-gold, NPC gold (needs items)")
    # episode
    horizon: int = _spec(1024, 1, 100_000, doc="ticks per episode (rules.md §1 'Horizon')")
    map_size: int = _spec(128, 32, 256, doc="playable square side; at most shape.max_map_size")
    map_pool: str = _spec("train", choices=("train", "eval"), doc="training or held-out map seeds")
    # terrain thresholds on noise in [0, 1] (rules.md §1 "Map")
    water_threshold: float = _spec(0.30, 0.0, 1.0, doc="noise <= this is water")
    grass_threshold: float = _spec(0.70, 0.0, 1.0, doc="noise <= this is grass")
    foliage_threshold: float = _spec(0.85, 0.0, 1.0, doc="noise <= this is foliage, else stone")
    extra_resources: bool = _spec(False, doc="scatter (map_size // 6)**2 single water and as many "
                                  "foliage tiles on grass (the reference's TERRAIN_SCATTER_EXTRA_RESOURCES)")
    # resources (rules.md §1 "Resources")
    food_depletion: int = _spec(5, 0, 100, doc="food lost per tick")
    water_depletion: int = _spec(5, 0, 100, doc="water lost per tick")
    starvation_damage: int = _spec(10, 0, 100, doc="damage per tick for each of food, water at 0")
    health_regen: int = _spec(10, 0, 100, doc="HP per tick while food and water are above half")
    # combat (rules.md §1 "Combat")
    attack_reach: int = _spec(3, 1, 7, doc="Chebyshev reach of attacks, in tiles")
    spawn_immunity: int = _spec(20, 0, 1000, doc="ticks after spawning an agent cannot be hit by agents")
    friendly_fire: bool = _spec(False, doc="whether teammates can hurt each other")
    # NPCs (rules.md §1 "NPCs")
    npc_count: int = _spec(128, 0, 1024, doc="NPC population target; at most shape.max_npcs")
    # fog (rules.md §1 "Death fog")
    fog_onset: int = _spec(1024, 0, 100_000, doc="tick the fog starts rising")
    fog_speed: float = _spec(0.125, 0.0, 16.0, doc="fog rise per tick")
    fog_final_size: int = _spec(4, 0, 128, doc="half-width of the safe square at the centre")
    # teams and movement (rules.md §1 "Death and spawn")
    team_size: int = _spec(1, 1, 1024, doc="agents per team (1: free-for-all); must divide num_agents")
    exclusive_tiles: bool = _spec(False, doc="forbid two entities on one tile")

    def __post_init__(self) -> None:
        _check_fields(self)


_SHAPE_KEYS = frozenset(f.name for f in fields(Shape))
_TUNABLE_KEYS = frozenset(f.name for f in fields(Tunables))


@dataclass(frozen=True)
class Config:
    """A whole config: ``name`` (the preset it came from), ``shape`` and ``tunables``;
    ``overridden`` holds the keys given to :func:`make_config` or :meth:`replace` since the
    preset, whatever their values (games let the keys a user set win over their own rules). It
    takes no part in equality.

    Raises:
        ValueError: a value out of range, or a cross-field rule broken (map larger than the
            allocated maximum, NPCs without combat, agents not divisible into teams, ...).
    """

    name: str
    shape: Shape
    tunables: Tunables
    overridden: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        s, t = self.shape, self.tunables
        if t.map_size > s.max_map_size:
            raise ValueError(
                f"config key 'map_size' must be <= max_map_size ({s.max_map_size}), got {t.map_size}"
            )
        if t.npc_count > s.max_npcs:
            raise ValueError(
                f"config key 'npc_count' must be <= max_npcs ({s.max_npcs}), got {t.npc_count}"
            )
        if t.npcs and not t.combat:
            raise ValueError("config key 'npcs' requires 'combat': NPCs fight, so enable combat")
        if t.items and not s.inventory:
            raise ValueError("config key 'items' requires the shape key 'inventory' (the full config's "
                             "observation and action space); use config 'full'")
        for system in ("professions", "market"):
            if getattr(t, system) and not t.items:
                raise ValueError(f"config key {system!r} requires 'items': enable items")
        if s.num_agents % t.team_size:
            raise ValueError(
                f"config key 'team_size' must divide num_agents ({s.num_agents}), got {t.team_size}"
            )
        if not t.water_threshold <= t.grass_threshold <= t.foliage_threshold:
            raise ValueError(
                "config keys 'water_threshold' <= 'grass_threshold' <= 'foliage_threshold' must "
                f"hold, got {t.water_threshold}, {t.grass_threshold}, {t.foliage_threshold}"
            )

    def replace(self, **overrides: Any) -> "Config":
        """A new config with ``overrides`` applied (shape or tunable keys, by name).

        Raises:
            ValueError: an unknown key (the message lists the allowed keys) or a bad value.
        """
        unknown = sorted(set(overrides) - _SHAPE_KEYS - _TUNABLE_KEYS)
        if unknown:
            raise ValueError(
                f"unknown config key(s) {unknown}; allowed: {sorted(_SHAPE_KEYS | _TUNABLE_KEYS)}"
            )
        overrides = plain(overrides)  # numpy numbers count as Python ones
        shape_kw = {k: v for k, v in overrides.items() if k in _SHAPE_KEYS}
        tun_kw = {k: v for k, v in overrides.items() if k in _TUNABLE_KEYS}
        shape = dataclasses.replace(self.shape, **shape_kw) if shape_kw else self.shape
        tunables = dataclasses.replace(self.tunables, **tun_kw) if tun_kw else self.tunables
        return Config(self.name, shape, tunables, self.overridden | frozenset(overrides))

    def to_dict(self) -> dict[str, Any]:
        """Flat ``{key: value}`` of every shape and tunable key, plus ``name``."""
        return {"name": self.name, **dataclasses.asdict(self.shape), **dataclasses.asdict(self.tunables)}


PRESETS: dict[str, Config] = {
    "mini": Config("mini", Shape(), Tunables()),
    "full": Config("full", Shape(inventory=True), Tunables(progression=True, items=True, professions=True,
                                                                   market=True)),
}


def check_tunables(values: Mapping[str, Any]) -> None:
    """Check each of ``values`` (tunable keys) alone against its key's type and range, without
    the rules that tie keys together or to a shape (those hold for a whole :class:`Config`).

    Raises:
        ValueError: the first value out of its key's type or range, named.
    """
    dataclasses.replace(_DEFAULT_TUNABLES, **values)


_DEFAULT_TUNABLES = Tunables()


def make_config(name: str = "mini", **overrides: Any) -> Config:
    """The preset ``name`` with ``overrides`` applied.

    Raises:
        ValueError: an unknown preset (the message lists them) or a bad override.
    """
    if isinstance(name, Config):
        return name.replace(**overrides)
    if name not in PRESETS:
        raise ValueError(f"unknown config {name!r}; allowed: {sorted(PRESETS)}")
    return PRESETS[name].replace(**overrides)


def check_overrides(config: Any, overrides: Any, where: str) -> dict[str, Any]:
    """``overrides`` as a dict, checked to be config keys with values preset (or Config)
    ``config`` accepts: for settings passed on to :func:`metammo.make`, whose other keywords
    (``seed``, ``randomize`` ...) they must not reach.

    Raises:
        ValueError: not a mapping, an unknown key (the message lists the keys) or a bad value;
            the message starts with ``where``.
    """
    if not isinstance(overrides, Mapping):
        raise ValueError(f"{where} must map engine config keys to values, got {overrides!r}")
    try:
        make_config(config, **overrides)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where} {dict(overrides)}: {err}") from None
    return dict(overrides)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` from a command line to ``{key: value}``; values parse as bool
    (``true``/``false``), int, float, else string. Keys and values are checked later, by
    :meth:`Config.replace`.

    Raises:
        ValueError: an item without ``=``, or a key given twice.
    """
    overrides: dict[str, Any] = {}
    given: dict[str, str] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"config overrides take KEY=VALUE, got {item!r}")
        if key in given:
            raise ValueError(f"config override {key!r} given twice: {given[key]}, then {item}")
        given[key] = item
        lowered = text.lower()
        if lowered in ("true", "false"):
            overrides[key] = lowered == "true"
            continue
        for kind in (int, float, str):
            try:
                overrides[key] = kind(text)
                break
            except ValueError:
                pass
    return overrides
