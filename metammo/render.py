"""RGB frames of a replay or a live env, in numpy: for ``wandb.Video`` and quick looks.

    frames(replay, every=4, scale=2)   # (T', 3, H, W) uint8, as wandb.Video(frames, fps=...) takes
    frame(env, scale=2)                # (3, H, W) uint8 of the env's current state

A frame shows the playable square: each tile a ``scale`` x ``scale`` block in its material's
colour (:data:`MATERIAL_COLORS`), tiles in the death fog blended toward :data:`FOG_COLOR`
(more as the fog value grows), NPCs in their kind's colour (:data:`KIND_COLORS`) and agents,
drawn over NPCs, in their team's colour (:func:`team_colors`) with a one-pixel dark outline. The web viewer
(:mod:`metammo.replay`) uses the same colours.
"""

from __future__ import annotations

import colorsys
from typing import TYPE_CHECKING

import numpy as np

from metammo.constants import NUM_MATERIALS, Kind, Material
from metammo.replay import Replay, fog_grid
from metammo.state import playable_bounds
from metammo.systems.common import fog_rise

if TYPE_CHECKING:
    from metammo.env import Env

#: RGB of each Material, indexed by its code.
MATERIAL_COLORS = np.zeros((NUM_MATERIALS, 3), np.uint8)
for _material, _rgb in {
    Material.VOID: (16, 16, 20),
    Material.WATER: (58, 112, 196),
    Material.GRASS: (118, 168, 84),
    Material.SCRUB: (160, 164, 100),  # foliage eaten
    Material.FOLIAGE: (46, 122, 56),
    Material.STONE: (122, 122, 126),
    Material.SLAG: (96, 86, 86),  # ore mined
    Material.ORE: (176, 142, 108),
    Material.STUMP: (128, 100, 64),  # tree cut
    Material.TREE: (26, 86, 40),
    Material.FRAGMENT: (150, 140, 176),  # crystal harvested
    Material.CRYSTAL: (172, 120, 232),
    Material.WEEDS: (142, 150, 80),  # herb picked
    Material.HERB: (206, 196, 84),
    Material.OCEAN: (30, 62, 150),
    Material.FISH: (70, 150, 214),
}.items():
    MATERIAL_COLORS[_material] = _rgb

#: RGB of each NPC Kind (AGENT and NONE rows unused: agents take their team's colour).
KIND_COLORS = np.zeros((len(Kind), 3), np.uint8)
KIND_COLORS[Kind.PASSIVE] = (236, 236, 228)
KIND_COLORS[Kind.NEUTRAL] = (244, 164, 40)
KIND_COLORS[Kind.HOSTILE] = (214, 36, 36)

#: RGB the death fog blends tiles toward.
FOG_COLOR = np.array((92, 64, 112), np.uint8)


def team_colors(num_teams: int) -> np.ndarray:
    """``(num_teams, 3)`` uint8: one colour per team id, hues spread by the golden angle so
    that neighbouring ids differ, brightness alternating in three steps."""
    colors = np.zeros((num_teams, 3), np.uint8)
    for team in range(num_teams):
        hue = (team * 0.618033988749895) % 1.0
        value = (1.0, 0.8, 0.62)[team % 3]
        colors[team] = np.round(np.array(colorsys.hsv_to_rgb(hue, 0.85, value)) * 255)
    return colors


def frames(replay: Replay, every: int = 1, scale: int = 2, fog: bool = True) -> np.ndarray:
    """Frames of ticks ``0, every, 2 * every, ...`` of ``replay``.

    Args:
        every: tick stride, >= 1.
        scale: pixels per tile side, 1..16.
        fog: blend tiles in the death fog toward :data:`FOG_COLOR`.

    Returns:
        ``(ceil(T / every), 3, S * scale, S * scale)`` uint8, S the playable square's side.

    Raises:
        ValueError: ``every`` or ``scale`` out of range.
    """
    _check(every=(every, 1, 1 << 30), scale=(scale, 1, 16))
    lo, hi = replay.meta["bounds"]
    grid = replay["material"].shape[0]
    final_size = replay.meta["fog"]["final_size"]
    teams = team_colors(int(replay["team"].max()) + 1)
    material = replay["material"].copy()
    rows, cols, materials = replay["change_row"], replay["change_col"], replay["change_material"]
    ticks = np.arange(0, replay.num_ticks, every)
    ends = np.searchsorted(replay["change_tick"], ticks, side="right")
    out = np.empty((len(ticks), 3, (hi - lo) * scale, (hi - lo) * scale), np.uint8)
    applied = 0
    for k, (tick, end) in enumerate(zip(ticks, ends)):
        material[rows[applied:end], cols[applied:end]] = materials[applied:end]
        applied = end
        fog_values = fog_grid(grid, lo, hi, float(replay["fog"][tick]), final_size) if fog else None
        out[k] = _draw(material, fog_values, lo, hi, scale, teams, replay["row"][tick], replay["col"][tick],
                       replay["alive"][tick].astype(bool), replay["kind"][tick], replay["team"][tick])
    return out


def frame(env: Env, scale: int = 2, fog: bool = True) -> np.ndarray:
    """``(3, S * scale, S * scale)`` uint8: the env's current state drawn like a replay frame
    (S the playable square's side).

    Raises:
        ValueError: ``scale`` out of range (1..16).
    """
    _check(scale=(scale, 1, 16))
    cfg, state = env.config, env.state
    t = cfg.tunables
    lo, hi = playable_bounds(cfg)
    material, ent = state.tiles.material, state.entities
    fog_values = None
    if fog:
        rise = fog_rise(state.tick, t.fog, t.fog_onset, t.fog_speed)
        fog_values = fog_grid(material.shape[0], lo, hi, rise, t.fog_final_size)
    teams = team_colors(max(int(ent.team.max()) + 1, 1))
    return _draw(material, fog_values, lo, hi, scale, teams, ent.row, ent.col, ent.alive, ent.kind, ent.team)


def _draw(material: np.ndarray, fog_values: np.ndarray | None, lo: int, hi: int, scale: int, teams: np.ndarray,
          row: np.ndarray, col: np.ndarray, alive: np.ndarray, kind: np.ndarray, team: np.ndarray) -> np.ndarray:
    """One (3, H, W) frame: tiles, fog, then NPCs, then agents on top."""
    image = MATERIAL_COLORS[material[lo:hi, lo:hi]].astype(np.float32)
    if fog_values is not None:
        value = fog_values[lo:hi, lo:hi]
        alpha = np.where(value > 0, np.clip(0.35 + value / 8.0, 0.0, 0.85), 0.0)[..., None]
        image = image * (1 - alpha) + FOG_COLOR * alpha
    image = np.repeat(np.repeat(image.astype(np.uint8), scale, axis=0), scale, axis=1)
    npc = alive & (kind != Kind.AGENT)
    agent = alive & (kind == Kind.AGENT)
    _stamp(image, (row[npc] - lo) * scale, (col[npc] - lo) * scale, 0, scale, KIND_COLORS[kind[npc]])
    ys, xs = (row[agent] - lo) * scale, (col[agent] - lo) * scale
    _stamp(image, ys, xs, -1, scale + 2, np.zeros(3, np.uint8))  # a dark outline a pixel wider ...
    _stamp(image, ys, xs, 0, scale, teams[team[agent]])  # ... around the team colour
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def _stamp(image: np.ndarray, ys: np.ndarray, xs: np.ndarray, offset: int, size: int, colors: np.ndarray) -> None:
    """Paint ``size`` x ``size`` squares whose corners are ``(ys + offset, xs + offset)``,
    clipped to the image."""
    h, w = image.shape[:2]
    for dy in range(offset, offset + size):
        for dx in range(offset, offset + size):
            y, x = ys + dy, xs + dx
            inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
            image[y[inside], x[inside]] = colors if colors.ndim == 1 else colors[inside]


def _check(**values: tuple[int, int, int]) -> None:
    for name, (value, lo, hi) in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an int in [{lo}, {hi}], got {value!r}")
