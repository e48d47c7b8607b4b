"""Replays: record an episode compactly, save and load it, and write the web viewer page.

Recording. ``metammo.make(..., record=True)`` gives the env a :class:`Recorder`; every episode is
then recorded, and when one ends its :class:`Replay` is ``env.last_replay`` (set on the step
that ends it, before any auto-reset). Per tick, in preallocated arrays filled by one compiled
kernel: every entity slot's position, health, food, water, combat level, gold, team, kind,
alive flag and attack style; the tick's events except ``MOVE`` and ``MESSAGE`` (moves show in
the positions; comm tokens are not replayed); the tiles whose material changed (harvest,
regrowth); the death fog's rise. Once per episode: the map, the game, the episode's config,
its randomized values, the episode summary and the policy playing each team (set
``recorder.policies``). With ``record=False`` (the default) the env's step does one ``if``
more. Recording costs about 15-30 microseconds per tick: ``python -m metammo.bench --game
sandbox --config mini --seconds 5 --json [--record]`` measured 1.35M agent-steps/s without and
1.04M with it (random actions; 2.20M and 1.71M with ``--policy scripted``), medians of 3.

File format, version :data:`VERSION`: an xz-compressed stream (suffix :data:`SUFFIX`, kept from
version 1) of one line of JSON, the header, then a newline and the arrays' bytes::

    {"format": "metammo-replay", "version": 2, "meta": {...},
     "arrays": {name: {"dtype": "int16", "shape": [T, E], "delta": true}}}

The bytes are the arrays of :data:`BLOCKS` one block after another, each block a table of
records in column-major order (a ``(T, E)`` array's ticks of one entity are contiguous) with one
little-endian field per array of the block: one record per event, an entity's row and column
side by side, every other array alone. With ``delta`` each row of an array holds its difference
from the previous row (row 0 as is), in the array's own dtype (wrapping), which xz compresses
to almost nothing for values that rarely change. Version 1 files (still read) are one JSON
document whose arrays each carry their own bytes (every array alone), base64-encoded, as
``"data"``; raw bytes and the two interleaved blocks make version 2 files 17-23% smaller. :func:`load`
checks the compression, the format name, the version and the structure (every array, dtype,
shape and value range of :data:`ARRAYS`, the required ``meta`` keys) and raises ``ValueError``
naming what is wrong and what is allowed.
Sizes, 128 agents, scripted bot, seed 0 (``python -m metammo.rollout --policy scripted
--replay PATH``): sandbox mini 1,024 ticks 70 KB, sandbox full 1,024 ticks 131 KB, team battle
mini 295 ticks 23 KB; sandbox full with ``--set food_depletion=0 water_depletion=0`` (most
agents live all 1,024 ticks, 117,000 events, mostly market listings) 160 KB, and with ``--set
starvation_damage=0`` (all but one live) 196 KB.

Command line::

    python -m metammo.replay view FILE [--out PAGE.html]   # write the self-contained viewer page
    python -m metammo.replay info FILE                     # print the replay's meta as JSON

The viewer (``metammo/viewer/index.html``) is one HTML file with inline CSS and JavaScript; the
page written by ``view`` embeds the replay, so it opens from disk with no server or network.
"""

from __future__ import annotations

import argparse
import base64
import json
import lzma
import os
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from numba import njit

from metammo.cli import run
from metammo.config import Config
from metammo.files import plain, write_atomic
from metammo.constants import NUM_EVENTS, NUM_MATERIALS, NUM_STYLES, Event, Kind, Material, Skill, Style
from metammo.state import State, playable_bounds
from metammo.systems.common import centre_tile, fog_rise

#: Name in every replay file's ``format`` field.
FORMAT = "metammo-replay"
#: Version of the file format this module writes; it reads this one and version 1.
VERSION = 2
#: File name suffix of saved replays.
SUFFIX = ".replay.json.xz"

#: Per-tick entity fields, each a ``(T, E)`` array (T = episode length + 1: tick 0 is the state
#: after reset; E = entity slots, agents first then NPCs), and their dtype in a replay.
ENTITY_FIELDS: dict[str, str] = {
    "row": "int16",  # tile row in the allocated grid
    "col": "int16",  # tile column
    "alive": "uint8",  # 1 alive, 0 dead or an empty NPC slot
    "kind": "int8",  # Kind
    "team": "int16",  # team id, -1 for NPCs
    "health": "int16",  # hit points
    "food": "int16",
    "water": "int16",
    "level": "int16",  # combat level: the highest of the melee, range and mage levels
    "gold": "int32",
    "style": "int8",  # this tick's attack Style (meaningful on ticks with a SCORE_HIT event)
}

#: The recorded events, one array per column of the engine's event log, in tick order.
EVENT_FIELDS: dict[str, str] = {
    "event_tick": "int32",
    "event": "int8",  # Event
    "event_actor": "int16",  # entity
    "event_target": "int16",  # entity, Skill or -1, by Event
    "event_value": "int32",
    "event_item": "int16",  # item * ITEM_CODE_STRIDE + level, 0 none
}

#: The tiles whose material changed (harvest, regrowth): one row per change, in the order
#: (tick, row, col).
CHANGE_FIELDS: dict[str, str] = {
    "change_tick": "int32",
    "change_row": "int16",
    "change_col": "int16",
    "change_material": "uint8",  # the new Material
}

#: Every array of a replay: name -> (dtype, shape in terms of T ticks, E entities, G grid
#: side, N events, M tile changes; delta-coded along axis 0 in the file).
ARRAYS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "material": ("uint8", ("G", "G"), False),  # Material of every tile at tick 0
    "fog": ("float32", ("T",), False),  # death-fog rise per tick (see fog_grid)
    **{name: (dtype, ("N",), name == "event_tick") for name, dtype in EVENT_FIELDS.items()},
    **{name: (dtype, ("M",), name in ("change_tick", "change_row")) for name, dtype in CHANGE_FIELDS.items()},
    **{name: (dtype, ("T", "E"), True) for name, dtype in ENTITY_FIELDS.items()},
}

#: The arrays in the order a version-2 file stores them: each block's arrays interleaved, one
#: record per element (events; an entity's row and column), every other array alone.
_INTERLEAVED = (tuple(EVENT_FIELDS), ("row", "col"))
BLOCKS: tuple[tuple[str, ...], ...] = tuple(dict.fromkeys(
    next((block for block in _INTERLEAVED if name in block), (name,)) for name in ARRAYS))

#: Keys every replay's ``meta`` has, and their JSON types.
META_KEYS: dict[str, type] = {
    "game": str,  # registered game name
    "config": dict,  # the episode's config, Config.to_dict()
    "map_seed": int,
    "num_agents": int,
    "bounds": list,  # [lo, hi]: playable rows and columns are lo <= x < hi
    "fog": dict,  # on, onset, speed, final_size (the episode's fog tunables)
    "randomized": dict,  # the randomized config values of the episode
    "policies": dict,  # team id (a string) -> policy name
    "summary": dict,  # the env's episode summary
}

#: Events not recorded: moves show in the positions, comm tokens are not replayed.
SKIPPED_EVENTS = (Event.MOVE, Event.MESSAGE)

_ENTITY_NAMES = tuple(ENTITY_FIELDS)
_KEEP_EVENT = np.ones(NUM_EVENTS, np.bool_)
_KEEP_EVENT[list(SKIPPED_EVENTS)] = False


@dataclass
class Replay:
    """One recorded episode. Construction validates (see :meth:`validate`).

    Attributes:
        meta: JSON-able episode facts (:data:`META_KEYS`).
        arrays: numpy arrays by name (:data:`ARRAYS`): ``material`` (G, G) uint8 at tick 0;
            ``fog`` (T,) float32; the N events' columns (:data:`EVENT_FIELDS`, each (N,));
            the M tile changes' columns (:data:`CHANGE_FIELDS`, each (M,)); the entity
            fields (:data:`ENTITY_FIELDS`, each (T, E)).

    Raises:
        ValueError: a missing or unexpected array, a wrong dtype, shape or value range, a
            missing meta key or one of the wrong type.
    """

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        self.validate()

    @property
    def num_ticks(self) -> int:
        """T: recorded ticks, ``0 .. length``."""
        return int(self.arrays["fog"].shape[0])

    @property
    def length(self) -> int:
        """The episode's length in ticks (``num_ticks - 1``)."""
        return self.num_ticks - 1

    @property
    def num_entities(self) -> int:
        """E: entity slots (agents, then NPCs)."""
        return int(self.arrays["row"].shape[1])

    def __getitem__(self, name: str) -> np.ndarray:
        """The array ``name`` (see :data:`ARRAYS`)."""
        return self.arrays[name]

    def validate(self) -> None:
        """Check the arrays and meta against :data:`ARRAYS` and :data:`META_KEYS`.

        Raises:
            ValueError: naming the array or key, what it is and what is allowed.
        """
        _validate_meta(self.meta)
        missing = sorted(set(ARRAYS) - set(self.arrays))
        extra = sorted(set(self.arrays) - set(ARRAYS))
        if missing or extra:
            raise ValueError(f"replay arrays: missing {missing}, unexpected {extra}; expected {sorted(ARRAYS)}")
        sizes: dict[str, int] = {}
        for name, (dtype, dims, _) in ARRAYS.items():
            arr = self.arrays[name]
            if not isinstance(arr, np.ndarray) or arr.dtype != np.dtype(dtype):
                got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
                raise ValueError(f"replay array {name!r} must be a numpy {dtype} array, got {got}")
            if arr.ndim != len(dims):
                raise ValueError(f"replay array {name!r} must have shape ({', '.join(dims)}), got {arr.shape}")
            for dim, size in zip(dims, arr.shape):
                if sizes.setdefault(dim, size) != size:
                    raise ValueError(f"replay array {name!r} has shape {arr.shape}: dimension {dim} must be "
                                     f"{sizes[dim]} like the other arrays ({', '.join(dims)})")
        t, e, g = sizes["T"], sizes["E"], sizes["G"]
        if t < 1:
            raise ValueError("replay must hold at least tick 0, got 0 ticks")
        lo, hi = self.meta["bounds"]
        if not 0 <= lo < hi <= g:
            raise ValueError(f"replay meta 'bounds' must satisfy 0 <= lo < hi <= {g} (grid side), got {[lo, hi]}")
        if not 1 <= self.meta["num_agents"] <= e:
            raise ValueError(f"replay meta 'num_agents' must be in [1, {e}] (entity slots), got {self.meta['num_agents']}")
        a = self.arrays
        _check_range("material", a["material"], 0, NUM_MATERIALS - 1)
        _check_range("row", a["row"], 0, g - 1)
        _check_range("col", a["col"], 0, g - 1)
        _check_range("alive", a["alive"], 0, 1)
        _check_range("kind", a["kind"], 0, len(Kind) - 1)
        _check_range("style", a["style"], 0, NUM_STYLES - 1)
        _check_range("event_tick", a["event_tick"], 0, t - 1)
        _check_range("event", a["event"], 0, NUM_EVENTS - 1)
        _check_range("event_actor", a["event_actor"], 0, e - 1)
        _check_range("change_tick", a["change_tick"], 1, t - 1)
        _check_range("change_row", a["change_row"], 0, g - 1)
        _check_range("change_col", a["change_col"], 0, g - 1)
        _check_range("change_material", a["change_material"], 0, NUM_MATERIALS - 1)
        for name in ("event_tick", "change_tick"):
            if (np.diff(a[name]) < 0).any():
                raise ValueError(f"replay array {name!r} must be in tick order (non-decreasing)")
        if not np.isfinite(a["fog"]).all():
            raise ValueError("replay array 'fog' must be finite")

    def to_bytes(self) -> bytes:
        """The replay file's bytes (what :meth:`save` writes and :func:`loads` reads)."""
        header = {"format": FORMAT, "version": VERSION, "meta": self.meta,
                  "arrays": {name: {"dtype": dtype, "shape": list(self.arrays[name].shape), "delta": delta}
                             for name, (dtype, _, delta) in ARRAYS.items()}}
        line = json.dumps(header, separators=(",", ":")).encode()  # one line: JSON escapes newlines
        body = b"".join([line, b"\n", *(_pack(self.arrays, block) for block in BLOCKS)])
        return lzma.compress(body, preset=6 | lzma.PRESET_EXTREME)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the replay to ``path`` (conventionally ending in :data:`SUFFIX`) atomically:
        a temporary file in the same folder, then renamed over ``path``. Returns the path."""
        return write_atomic(path, self.to_bytes())


def load(path: str | os.PathLike) -> Replay:
    """Read a replay written by :meth:`Replay.save`.

    Raises:
        ValueError: not an xz file, truncated or corrupt data, a header that is not JSON, another
            format, an unsupported version, arrays' bytes that do not match the header, or a
            structure :meth:`Replay.validate` rejects; the message names the file and the problem.
        OSError: the file cannot be read.
    """
    return loads(Path(path).read_bytes(), str(path))


def loads(raw: bytes, source: str = "replay") -> Replay:
    """The replay in ``raw``, a replay file's bytes; errors as :func:`load`'s, naming ``source``."""
    try:
        text = lzma.decompress(raw, format=lzma.FORMAT_XZ)
    except lzma.LZMAError as err:
        raise ValueError(f"{source}: not a metammo replay: not a complete xz-compressed file ({err})") from None
    header, _, data = text.partition(b"\n")
    try:
        document = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{source}: not a metammo replay: the decompressed data does not start with "
                         f"a line of JSON ({err})") from None
    try:
        return from_document(document, data)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def from_document(document: Any, data: bytes = b"") -> Replay:
    """A :class:`Replay` from a decoded replay header (the JSON line of a file) and ``data``, the
    arrays' bytes after it; a version-1 document (the whole JSON of a file) carries its arrays'
    bytes itself, with no ``data``.

    Raises:
        ValueError: another format, an unsupported version, or a bad structure.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ValueError(f"not a metammo replay: 'format' must be {FORMAT!r}, got {found!r}")
    version = document.get("version")
    if version not in (1, VERSION) or isinstance(version, bool):
        raise ValueError(f"replay version {version!r} is not supported; this metammo reads versions 1 and {VERSION}")
    for key, kind in (("meta", dict), ("arrays", dict)):
        if not isinstance(document.get(key), kind):
            raise ValueError(f"replay key {key!r} must be a JSON object, got {type(document.get(key)).__name__}")
    unexpected = sorted(set(document) - {"format", "version", "meta", "arrays"})
    if unexpected:
        raise ValueError(f"replay has unexpected keys {unexpected}; allowed: format, version, meta, arrays")
    specs = document["arrays"]
    missing, extra = sorted(set(ARRAYS) - set(specs)), sorted(set(specs) - set(ARRAYS))
    if missing or extra:
        raise ValueError(f"replay arrays: missing {missing}, unexpected {extra}; expected {sorted(ARRAYS)}")
    shapes = {name: _shape(name, spec, version) for name, spec in specs.items()}
    if version == 1:
        if data:
            raise ValueError(f"replay version 1 is one JSON document, got {len(data)} bytes after it")
        blocks = [((name,), _base64(name, specs[name]["data"], shapes[name])) for name in ARRAYS]
    else:
        blocks, start = [], 0
        for block in BLOCKS:
            if len({tuple(shapes[name]) for name in block}) > 1:
                raise ValueError(f"replay arrays {', '.join(block)} are stored together and must have one "
                                 f"shape, got {[shapes[name] for name in block]}")
            end = start + int(np.prod(shapes[block[0]])) * _records(block).itemsize
            blocks.append((block, data[start:end]))
            start = end
        if len(data) != start:
            raise ValueError(f"replay holds {len(data)} bytes of arrays after its header; "
                             f"the shapes in the header need {start}")
    arrays = {}
    for block, raw in blocks:
        arrays.update(_unpack(block, shapes[block[0]], raw))
    return Replay(document["meta"], arrays)


# --- recording -------------------------------------------------------------------------------


class Recorder:
    """Records an env's episodes into preallocated arrays (reused across episodes, doubled
    when an episode outgrows them).

    The env calls :meth:`begin` when an episode starts, :meth:`record` after every tick and
    :meth:`finish` when the episode ends. A recorder given to an env mid-episode starts with
    the next episode.

    Attributes:
        policies: the policy playing each team, for the replay's meta: one name for every
            team, or ``{team id: name}`` (teams left out are ``"unknown"``).
    """

    def __init__(self, policies: str | Mapping[int, str] = "unknown"):
        self.policies = policies
        self._tick = -1  # index of the last recorded tick, -1 before the first begin()
        self._frames = np.zeros((0, len(_ENTITY_NAMES), 0), np.int32)
        self._fog = np.zeros(0, np.float32)
        self._events = np.zeros((0, 6), np.int32)
        self._changes = np.zeros((0, 4), np.int32)
        self._counts = np.zeros(2, np.int64)  # events, tile changes recorded
        self._previous = np.zeros((0, 0), np.uint8)  # the map as last recorded
        self._material = np.zeros((0, 0), np.uint8)  # the map at tick 0
        self._start: dict[str, Any] = {}  # the episode's meta known at begin(); {} before

    def begin(self, state: State, cfg: Config, game: str, map_seed: int) -> None:
        """Start recording the episode that ``state`` (just reset) begins, with tick 0."""
        shape, t = cfg.shape, cfg.tunables
        capacity = min(t.horizon + 1, 4096)
        if self._frames.shape[0] < capacity or self._frames.shape[2] != shape.max_entities:
            self._frames = np.zeros((capacity, len(_ENTITY_NAMES), shape.max_entities), np.int32)
            self._fog = np.zeros(capacity, np.float32)
        area = shape.grid_size**2
        if self._changes.shape[0] < 2 * area:
            self._changes = np.zeros((2 * area, 4), np.int32)
        if self._events.shape[0] < state.events.log.shape[0]:
            self._events = np.zeros((2 * state.events.log.shape[0], 6), np.int32)
        self._previous = state.tiles.material.copy()
        self._material = state.tiles.material.copy()
        self._counts[:] = 0
        lo, hi = playable_bounds(cfg)
        self._start = {
            "game": game, "config": cfg.to_dict(), "map_seed": int(map_seed), "num_agents": shape.num_agents,
            "bounds": [lo, hi],
            "fog": {"on": t.fog, "onset": t.fog_onset, "speed": t.fog_speed, "final_size": t.fog_final_size},
        }
        self._tick = -1
        self.record(state)

    def record(self, state: State) -> None:
        """Append the state after a tick (no-op before the first :meth:`begin`)."""
        if not self._start:
            return
        t = self._tick + 1
        if t == self._frames.shape[0]:
            self._frames = np.concatenate([self._frames, np.zeros_like(self._frames)])
            self._fog = np.concatenate([self._fog, np.zeros_like(self._fog)])
        num_log = int(state.events.num_log[0])
        if self._counts[0] + num_log > self._events.shape[0]:
            self._events = np.concatenate([self._events, np.zeros((self._events.shape[0] + num_log, 6), np.int32)])
        if self._counts[1] + self._previous.size > self._changes.shape[0]:
            self._changes = np.concatenate([self._changes, np.zeros_like(self._changes)])
        ent, tiles, fog = state.entities, state.tiles, self._start["fog"]
        lo, hi = self._start["bounds"]
        self._fog[t] = fog_rise(t, fog["on"], fog["onset"], fog["speed"])
        _record_tick(t, self._frames, ent.row, ent.col, ent.alive, ent.kind, ent.team, ent.health,
                     ent.food, ent.water, ent.level, ent.gold, ent.act_style, tiles.material, self._previous,
                     lo, hi, self._changes, state.events.log, num_log, _KEEP_EVENT, self._events, self._counts)
        self._tick = t

    def finish(self, summary: Mapping[str, Any]) -> Replay | None:
        """The episode recorded so far as a :class:`Replay`, with ``summary`` (the env's
        episode summary) in its meta; ``None`` when no episode was begun (a recorder attached
        mid-episode). Recording goes on until the next :meth:`begin` (an env without
        auto-reset that keeps stepping after the end extends the episode)."""
        if not self._start:
            return None
        n, start = self._tick + 1, self._start
        arrays = {"material": self._material.copy(), "fog": self._fog[:n].copy()}
        for fields, table in ((EVENT_FIELDS, self._events[: self._counts[0]]),
                              (CHANGE_FIELDS, self._changes[: self._counts[1]])):
            for k, (name, dtype) in enumerate(fields.items()):
                arrays[name] = table[:, k].astype(dtype)
        for k, (name, dtype) in enumerate(ENTITY_FIELDS.items()):
            arrays[name] = self._frames[:n, k].astype(dtype)
        summary = plain(dict(summary))
        teams = np.unique(arrays["team"][:, : start["num_agents"]])
        if isinstance(self.policies, str):
            policies = {str(team): self.policies for team in teams}
        else:
            policies = {str(team): str(self.policies.get(int(team), "unknown")) for team in teams}
        meta = {**start, "randomized": summary.get("randomized", {}), "policies": policies, "summary": summary}
        return Replay(meta, arrays)


@njit(cache=True)
def _record_tick(t, frames, row, col, alive, kind, team, health, food, water, level, gold, style,
                 material, previous, lo, hi, changes, log, num_log, keep, events, counts):
    """Write tick ``t``'s entity fields into ``frames[t]`` (order of ENTITY_FIELDS), append the
    kept events and the tiles whose material differs from ``previous`` (then update it)."""
    f = frames[t]
    for i in range(row.shape[0]):
        f[0, i] = row[i]
        f[1, i] = col[i]
        f[2, i] = alive[i]
        f[3, i] = kind[i]
        f[4, i] = team[i]
        f[5, i] = health[i]
        f[6, i] = food[i]
        f[7, i] = water[i]
        f[8, i] = max(level[i, 0], level[i, 1], level[i, 2])
        f[9, i] = gold[i]
        f[10, i] = style[i]
    n = counts[0]
    for k in range(num_log):
        if keep[log[k, 0]]:
            events[n, 0] = t
            for j in range(5):
                events[n, j + 1] = log[k, j]
            n += 1
    counts[0] = n
    m = counts[1]
    for r in range(lo, hi):
        for c in range(lo, hi):
            if material[r, c] != previous[r, c]:
                previous[r, c] = material[r, c]
                changes[m, 0] = t
                changes[m, 1] = r
                changes[m, 2] = c
                changes[m, 3] = material[r, c]
                m += 1
    counts[1] = m


def fog_grid(grid_size: int, lo: int, hi: int, rise: float, final_size: int) -> np.ndarray:
    """``(grid_size, grid_size)`` float32: the death-fog value of every tile
    (:func:`metammo.systems.common.fog_value`) when the fog has risen by ``rise``: minus the
    rings to the edge of the playable square ``lo <= x < hi``, plus ``rise`` outside the safe
    square of half-width ``final_size`` around the centre; agents take damage above 0.5.
    Tiles outside the playable square get -1."""
    idx = np.arange(grid_size)
    to_edge = np.minimum(idx - lo, hi - 1 - idx)
    value = -np.minimum(to_edge[:, None], to_edge[None, :]).astype(np.float32)
    centre = centre_tile(lo, hi)
    near = np.abs(idx - centre) <= final_size
    value[~(near[:, None] & near[None, :])] += rise
    outside = to_edge < 0
    value[outside, :] = -1
    value[:, outside] = -1
    return value


# --- viewer page ------------------------------------------------------------------------------

#: The viewer template's data block; :func:`page` replaces ``null`` with the replay.
_DATA_BLOCK = '<script type="application/json" id="replay-data">null</script>'


def page(replay: Replay) -> str:
    """The web viewer (``metammo/viewer/index.html``) with ``replay`` embedded: one
    self-contained HTML document (inline CSS and JavaScript, no network). The replay travels as a
    version-1 document (the layout the viewer reads, see the module docstring) whose arrays'
    bytes are zlib-compressed before base64, with the colours of :mod:`metammo.render` and the
    names of the enums."""
    from metammo.render import FOG_COLOR, KIND_COLORS, MATERIAL_COLORS, team_colors

    template = resources.files("metammo").joinpath("viewer/index.html").read_text(encoding="utf-8")
    arrays = {name: {"dtype": dtype, "shape": list(replay[name].shape), "delta": delta,
                     "data": base64.b64encode(zlib.compress(_pack(replay.arrays, (name,)), 9)).decode("ascii")}
              for name, (dtype, _, delta) in ARRAYS.items()}
    data = {
        "format": FORMAT, "version": 1, "meta": replay.meta, "arrays": arrays,
        "names": {"material": [m.name.lower() for m in Material], "kind": [k.name.lower() for k in Kind],
                  "event": [e.name.lower() for e in Event], "style": [s.name.lower() for s in Style], "skill": [s.name.lower() for s in Skill]},
        "colors": {"material": MATERIAL_COLORS.tolist(), "kind": KIND_COLORS.tolist(), "fog": FOG_COLOR.tolist(),
                   "team": team_colors(int(replay["team"].max()) + 1).tolist()},
    }
    text = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return template.replace(_DATA_BLOCK, _DATA_BLOCK.replace("null", text))


# --- encoding --------------------------------------------------------------------------------


def _records(block: tuple[str, ...]) -> np.dtype:
    """The record of ``block``'s arrays in a file: one little-endian field per array."""
    return np.dtype([(name, np.dtype(ARRAYS[name][0]).newbyteorder("<")) for name in block])


def _pack(arrays: Mapping[str, np.ndarray], block: tuple[str, ...]) -> bytes:
    """The bytes of ``block``'s arrays (of one shape): their records in column-major order, each
    array delta-coded along axis 0 (in its own dtype, wrapping) when :data:`ARRAYS` says so."""
    records = np.empty(arrays[block[0]].T.shape, _records(block))
    for name in block:
        arr, column = arrays[name], records[name].T
        column[...] = arr
        if ARRAYS[name][2] and len(arr):
            column[1:] -= arr[:-1]
    return records.tobytes()


def _unpack(block: tuple[str, ...], shape: list[int], raw: bytes) -> dict[str, np.ndarray]:
    """``block``'s arrays of ``shape`` from their bytes (:func:`_pack`'s inverse)."""
    records = np.frombuffer(raw, _records(block)).reshape(shape[::-1])
    arrays = {}
    for name in block:
        arr = records[name].T.astype(ARRAYS[name][0], order="C")
        arrays[name] = np.cumsum(arr, axis=0, dtype=arr.dtype) if ARRAYS[name][2] and len(arr) else arr
    return arrays


def _shape(name: str, spec: Any, version: int) -> list[int]:
    """The shape of array ``name`` from its header entry ``spec``, checked against :data:`ARRAYS`."""
    dtype, dims, delta = ARRAYS[name]
    keys = ["data", "delta", "dtype", "shape"] if version == 1 else ["delta", "dtype", "shape"]
    if not isinstance(spec, dict) or sorted(spec) != keys:
        got = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise ValueError(f"replay array {name!r} must be an object with keys {', '.join(keys)}; got {got}")
    if spec["dtype"] != dtype or spec["delta"] is not delta:
        raise ValueError(f"replay array {name!r} must have dtype {dtype!r} and delta {delta}, "
                         f"got {spec['dtype']!r} and {spec['delta']!r}")
    shape = spec["shape"]
    if not (isinstance(shape, list) and len(shape) == len(dims)
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)):
        raise ValueError(f"replay array {name!r} must have a shape of {len(dims)} non-negative ints "
                         f"({', '.join(dims)}), got {shape!r}")
    return shape


def _base64(name: str, data: Any, shape: list[int]) -> bytes:
    """Array ``name``'s bytes in a version-1 document: ``data`` decoded, checked against ``shape``."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (TypeError, ValueError) as err:
        raise ValueError(f"replay array {name!r}: 'data' is not base64 ({err})") from None
    dtype = ARRAYS[name][0]
    expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if len(raw) != expected:
        raise ValueError(f"replay array {name!r} holds {len(raw)} bytes; shape {shape} of {dtype} needs {expected}")
    return raw


def _check_range(name: str, values: np.ndarray, lo: int, hi: int) -> None:
    if values.size and (values.min() < lo or values.max() > hi):
        raise ValueError(f"replay array {name} must be in [{lo}, {hi}], got values in "
                         f"[{values.min()}, {values.max()}]")


def _validate_meta(meta: Any) -> None:
    if not isinstance(meta, dict):
        raise ValueError(f"replay meta must be a dict, got {type(meta).__name__}")
    for key, kind in META_KEYS.items():
        if key not in meta:
            raise ValueError(f"replay meta lacks key {key!r}; required: {sorted(META_KEYS)}")
        value = meta[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"replay meta {key!r} must be a {kind.__name__}, got {type(value).__name__}")
    bounds = meta["bounds"]
    if len(bounds) != 2 or not all(isinstance(b, int) for b in bounds):
        raise ValueError(f"replay meta 'bounds' must be [lo, hi] ints, got {bounds!r}")
    fog = meta["fog"]
    if set(fog) != {"on", "onset", "speed", "final_size"}:
        raise ValueError(f"replay meta 'fog' must have keys final_size, on, onset, speed; got {sorted(fog)}")


# --- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metammo.replay", description="Replays: view or describe a file.")
    commands = parser.add_subparsers(dest="command", required=True)
    view = commands.add_parser("view", help="write the self-contained web viewer page of a replay")
    view.add_argument("file", help=f"a replay file (*{SUFFIX})")
    view.add_argument("--out", default=None,
                      help=f"the page to write (default: next to FILE, {SUFFIX} replaced by .html)")
    info = commands.add_parser("info", help="print a replay's facts as one JSON line")
    info.add_argument("file", help=f"a replay file (*{SUFFIX})")
    args = parser.parse_args(argv)
    try:
        replay = load(args.file)
    except (OSError, ValueError) as err:
        parser.error(str(err))
    if args.command == "info":
        meta = replay.meta
        print(json.dumps({
            "file": args.file, "version": VERSION, "game": meta["game"], "config": meta["config"]["name"],
            "length": replay.length, "num_agents": meta["num_agents"], "entity_slots": replay.num_entities,
            "events": int(replay["event"].shape[0]), "tile_changes": int(replay["change_tick"].shape[0]),
            "map_seed": meta["map_seed"], "policies": sorted(set(meta["policies"].values())),
            "randomized": meta["randomized"], "bytes": os.path.getsize(args.file),
        }))
        return 0
    name = args.file[: -len(SUFFIX)] if args.file.endswith(SUFFIX) else args.file
    out = Path(args.out if args.out is not None else name + ".html")
    if out.exists() and os.path.samefile(out, args.file):
        parser.error(f"--out {args.out} is the replay itself; give another path for the page")
    try:
        write_atomic(out, page(replay).encode("utf-8"))
    except OSError as err:
        parser.error(str(err))
    print(out)
    return 0


if __name__ == "__main__":
    run(main, "python -m metammo.replay")
