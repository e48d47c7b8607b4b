"""Procedural terrain: fractal noise thresholded into materials, then scattered resources.

Source: rules.md §1 "Map" (Neural MMO 2.1 ``nmmo/core/terrain.py``). Pure numpy, no files.

Algorithm (:func:`generate`), for a playable square of side ``map_size`` centred in a
``grid_size`` grid (``border = (grid_size - map_size) // 2``; everything outside is VOID):

1. **Noise.** Two fractal value-noise fields over the playable square, each a sum of octaves
   (wavelength halves, amplitude halves): a *centre* field with long wavelengths
   (:data:`CENTRE_WAVELENGTHS`) and an *edge* field with short ones (:data:`EDGE_WAVELENGTHS`).
   Each is standardised, then they are blended by Chebyshev distance ``d`` to the centre with
   weight ``w = d / (map_size / 2)`` on the edge field, ``(1 - w) * centre + w * edge`` divided
   by ``sqrt((1 - w)**2 + w**2)`` so the variance stays 1 everywhere. The terrain is therefore
   coarse (big lakes, plains and ranges) near the centre and broken up near the edge.
   One octave of value noise is separable on the tile grid: a random lattice is interpolated
   (quintic fade) along rows, then along columns, a handful of whole-array operations.
2. **Normalise to [0, 1]** by rank: each tile's value is its noise quantile over the square,
   ``(rank + 0.5) / map_size**2``, strictly inside (0, 1).
3. **Threshold:** ``<= water`` WATER, ``<= grass`` GRASS, ``<= foliage`` FOLIAGE, else STONE.
   The outer ring (1 tile) of the playable square is GRASS, so every spawn tile on the edge
   can walk along the ring.
4. **Resources**, counts scaled by playable area relative to 128 x 128 (``round(n * (map_size /
   128) ** 2)``, at least 1), never on the outer ring:

   * ``64`` plus-shaped clusters each of ORE, TREE, CRYSTAL. A centre is drawn on a GRASS or
     FOLIAGE tile; each of its 4 arms becomes the same resource when it is GRASS or FOLIAGE
     and not taken by an earlier cluster or any centre;
   * ``256`` HERB on GRASS or FOLIAGE tiles;
   * ``256`` FISH on WATER tiles 4-adjacent to a passable tile (``constants.PASSABLE``).

   Each placement draws distinct tiles without replacement from the eligible ones; when fewer
   are eligible than asked (e.g. ``water=0`` leaves no water for fish) all of them are used.
5. **Extra resources** (``extra=True``; the reference's ``TERRAIN_SCATTER_EXTRA_RESOURCES``,
   ``scatter_extra_resources`` with density factor :data:`EXTRA_DENSITY`): ``(map_size // 6)**2``
   single WATER tiles, then as many single FOLIAGE tiles, on the interior's remaining GRASS, so
   food and water lie within a few tiles everywhere (100 of each on a 60 map: ~2.8% each).

Determinism: every draw comes from ``np.random.default_rng(SeedSequence((seed, map_size)))``;
the noise, the resources and the extra resources use three spawned child streams, so changing
the thresholds keeps the same geography, and turning ``extra`` on adds tiles to the same map.
Maps are read-only; copy them into state with ``np.copyto``. The last :data:`MAP_CACHE` maps
are kept (``functools.lru_cache``), and as many noise fields, so games that draw the thresholds
per episode reuse the noise; such maps seldom recur and are built with ``cache=False``.

Speed: a 128 map in a 142 grid takes a median 2.0-2.3 ms uncached (100 training seeds, 2-core
CPU, numpy 2.4; 2.9-3.2 ms with the stable rank sort it used before), measured with::

    python -c "import time, numpy as np; from metammo.terrain import generate, TRAIN_MAP_SEEDS
    ts = []
    for s in TRAIN_MAP_SEEDS[:100]:
        t = time.perf_counter(); generate(s, 128, 142, cache=False); ts.append(time.perf_counter() - t)
    print(np.median(ts) * 1e3, 'ms')"

Deviations from the reference (what, and why):

* **Value noise, not simplex.** Separable value noise is a few whole-array operations in numpy,
  with no compiled dependency (the reference needs ``vec_noise``); octave sums hide its grid.
* **Two blended fields instead of per-tile octave weights.** The reference weights each octave
  per tile by a Gaussian of distance to the centre, seeded by a further noise field; blending
  a low- and a high-frequency field by distance gives the same "lower frequency toward the
  centre" effect with far less code.
* **Rank normalisation instead of std-scale-and-clip.** The thresholds then *are* the material
  fractions before the grass ring and resources: 30% water, 40% grass, 15% foliage, 15% stone
  on every map and every map size (the reference's measured map: ~29 / 40 / 21 / 11.5%).
  Maps are comparable in difficulty, and randomising a threshold changes a fraction
  predictably.
* **Resources on GRASS or FOLIAGE** (reference: clusters and herbs on GRASS only, fish next to
  GRASS only). Allowing foliage spreads resources over more of the land; stone is never
  replaced, so no resource sits sealed inside a stone range. Fish need any passable neighbour
  (ore, herb, ... included). Clusters come out a little larger than the reference's (about
  4.4 tiles per cluster against 3.3: ~280 each of ore, tree, crystal at 128 against ~207).
* **No lava, no foliage ring.** The reference also turns water or stone just inside the grass
  ring into foliage; here the grass ring alone keeps edge spawns connected.
* **Seeds.** Map seeds are plain non-negative ints in two disjoint pools
  (:data:`TRAIN_MAP_SEEDS`, :data:`EVAL_MAP_SEEDS`) instead of the reference's sign flip.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from metammo.constants import PASSABLE, Material

__all__ = [
    "CENTRE_WAVELENGTHS",
    "EDGE_WAVELENGTHS",
    "EVAL_MAP_SEEDS",
    "EXTRA_DENSITY",
    "MAP_CACHE",
    "MIN_MAP_SIZE",
    "REFERENCE_AREA",
    "TRAIN_MAP_SEEDS",
    "generate",
    "material_counts",
    "resource_targets",
]

#: 256 training map seeds: ``0 .. 255``.
TRAIN_MAP_SEEDS: tuple[int, ...] = tuple(range(256))
#: 64 held-out evaluation map seeds: ``2**20 .. 2**20 + 63``, disjoint from the training ones
#: (a policy trained on ``TRAIN_MAP_SEEDS`` never saw these maps).
EVAL_MAP_SEEDS: tuple[int, ...] = tuple(range(1 << 20, (1 << 20) + 64))

#: Smallest playable side accepted by :func:`generate`, in tiles.
MIN_MAP_SIZE = 32
#: Playable area (tiles) at which resource counts equal the reference's (rules.md §1: 128 x 128).
REFERENCE_AREA = 128 * 128
#: Reference resource counts at 128 x 128 (rules.md §1 "Map"): clusters per cluster material,
#: herbs, fish.
_CLUSTERS, _HERBS, _FISH = 64, 256, 256
_CLUSTER_MATERIALS = np.array([Material.ORE, Material.TREE, Material.CRYSTAL], dtype=np.uint8)

#: Octave wavelengths (tiles) of the centre field, first octave weight 1, then halving.
CENTRE_WAVELENGTHS: tuple[float, ...] = (48.0, 24.0, 12.0, 6.0)
#: Octave wavelengths (tiles) of the edge field, first octave weight 1, then halving.
EDGE_WAVELENGTHS: tuple[float, ...] = (16.0, 8.0, 4.0)

#: The reference's ``density_factor``: ``extra=True`` adds ``(map_size // EXTRA_DENSITY)**2``
#: water and as many foliage tiles.
EXTRA_DENSITY = 6

#: Maps :func:`generate` keeps, and noise fields it keeps for games that randomize the
#: thresholds: the training maps of the ``mini_generalist`` pack's games (256 each for Team
#: Battle and Protect the King's shared maps, King of the Hill and Sandwich) fit, with room for
#: a run's evaluation maps. At most ~20 KB per map in a 142 grid and ~32 KB per noise field
#: of a 128 map (ranks as uint16): ~55 MB per process when full.
MAP_CACHE = 1024

#: 4-neighbour offsets (d_row, d_col): the arms of a plus-shaped cluster.
_ARMS = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)


def resource_targets(map_size: int) -> dict[str, int]:
    """Resource counts asked for on a ``map_size`` square: the reference's scaled by area.

    Returns ``{"clusters": n, "herbs": n, "fish": n}`` where ``clusters`` is per cluster
    material (ORE, TREE, CRYSTAL each). ``round(reference * map_size**2 / 128**2)``, at least 1.
    """
    scale = map_size * map_size / REFERENCE_AREA
    return {
        "clusters": max(1, round(_CLUSTERS * scale)),
        "herbs": max(1, round(_HERBS * scale)),
        "fish": max(1, round(_FISH * scale)),
    }


def _octave(rng: np.random.Generator, size: int, wavelength: float) -> np.ndarray:
    """One octave of value noise: ``(size, size)`` float64 in [-1, 1], quintic-interpolated.

    A random ``(cells, cells)`` lattice with spacing ``wavelength`` tiles and a random offset,
    interpolated along rows, then along columns (separable, so no per-tile corner lookups).
    """
    cells = int(math.ceil(size / wavelength)) + 2
    lattice = rng.uniform(-1.0, 1.0, size=(cells, cells))
    axes = []
    for _axis in range(2):
        t = (np.arange(size) + rng.uniform(0.0, wavelength)) / wavelength
        i0 = t.astype(np.int64)
        f = t - i0
        axes.append((i0, f * f * f * (f * (f * 6.0 - 15.0) + 10.0)))
    (r0, fr), (c0, fc) = axes
    rows = lattice[r0] + fr[:, None] * (lattice[r0 + 1] - lattice[r0])  # (size, cells)
    return rows[:, c0] + fc[None, :] * (rows[:, c0 + 1] - rows[:, c0])


def _fractal(rng: np.random.Generator, size: int, wavelengths: tuple[float, ...]) -> np.ndarray:
    """Sum of octaves (amplitude halving), standardised to mean 0, std 1 over the square."""
    total = np.zeros((size, size))
    for k, wavelength in enumerate(wavelengths):
        total += 0.5**k * _octave(rng, size, wavelength)
    total -= total.mean()
    std = total.std()
    return total / std if std > 0 else total


def _noise(rng: np.random.Generator, size: int) -> np.ndarray:
    """Blended noise: ``(size, size)`` float64, mean 0 and variance 1 everywhere."""
    centre = _fractal(rng, size, CENTRE_WAVELENGTHS)
    edge = _fractal(rng, size, EDGE_WAVELENGTHS)
    # Chebyshev distance of each tile centre to the square's centre, 0 (centre) .. 1 (edge).
    axis = np.abs(np.arange(size) - (size - 1) / 2.0) / (size / 2.0)
    w = np.maximum(axis[:, None], axis[None, :])
    blend = ((1.0 - w) * centre + w * edge) / np.sqrt((1.0 - w) ** 2 + w**2)
    return blend


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each value's rank, ``0 .. values.size - 1``, same shape as ``values``, in the smallest
    unsigned dtype that holds them (the cache keeps ranks, a quarter of float64's bytes at
    128 x 128); equal values rank in row-major order."""
    flat = values.reshape(-1)
    order = np.argsort(flat)  # ~5x faster than a stable sort, and the same order without ties
    ordered = flat[order]
    if (ordered[1:] == ordered[:-1]).any():  # ties: the order must not depend on the sort
        order = np.argsort(flat, kind="stable")
    ranks = np.empty(flat.size, np.min_scalar_type(flat.size - 1))
    ranks[order] = np.arange(flat.size)
    return ranks.reshape(values.shape)


def _choose(rng: np.random.Generator, mask: np.ndarray, count: int) -> np.ndarray:
    """Flat indices of ``min(count, mask.sum())`` distinct True cells of ``mask``, random order."""
    candidates = np.flatnonzero(mask)
    count = min(count, candidates.size)
    return candidates[rng.choice(candidates.size, size=count, replace=False)]


def _interior(shape: tuple[int, int]) -> np.ndarray:
    """Bool mask of the square ``shape`` without its outer ring (the all-grass edge)."""
    interior = np.zeros(shape, dtype=np.bool_)
    interior[1:-1, 1:-1] = True
    return interior


def _scatter(rng: np.random.Generator, play: np.ndarray, map_size: int) -> None:
    """Place clusters, herbs and fish on the C-contiguous playable square ``play`` in place."""
    targets = resource_targets(map_size)
    interior = _interior(play.shape)
    flat = play.reshape(-1)

    # Plus-shaped clusters: centres, then arms (centres win, then the earlier cluster).
    land = interior & ((play == Material.GRASS) | (play == Material.FOLIAGE))
    centres = _choose(rng, land, 3 * targets["clusters"])
    mats = np.resize(_CLUSTER_MATERIALS, centres.size)
    r, c = np.divmod(centres, map_size)
    arm_r = (r[:, None] + _ARMS[None, :, 0]).reshape(-1)
    arm_c = (c[:, None] + _ARMS[None, :, 1]).reshape(-1)
    arm_idx = arm_r * map_size + arm_c  # centres lie on the interior, so arms stay in the square
    arm_mat = np.repeat(mats, len(_ARMS))
    ok = land.reshape(-1)[arm_idx] & ~np.isin(arm_idx, centres)
    arm_idx, arm_mat = arm_idx[ok], arm_mat[ok]
    _, first = np.unique(arm_idx, return_index=True)  # earliest cluster claiming each tile
    flat[arm_idx[first]] = arm_mat[first]
    flat[centres] = mats

    # Herbs on the remaining grass and foliage.
    land = interior & ((play == Material.GRASS) | (play == Material.FOLIAGE))
    flat[_choose(rng, land, targets["herbs"])] = Material.HERB

    # Fish on water next to a passable tile (the ring is grass, so never on the ring).
    passable = PASSABLE[play]
    near = np.zeros(play.shape, dtype=np.bool_)
    near[1:, :] |= passable[:-1, :]
    near[:-1, :] |= passable[1:, :]
    near[:, 1:] |= passable[:, :-1]
    near[:, :-1] |= passable[:, 1:]
    flat[_choose(rng, interior & near & (play == Material.WATER), targets["fish"])] = Material.FISH


def _scatter_extra(rng: np.random.Generator, play: np.ndarray, map_size: int) -> None:
    """Turn ``(map_size // EXTRA_DENSITY)**2`` interior GRASS tiles of ``play`` into WATER, then
    as many of the remaining into FOLIAGE, in place (fewer when less grass is left)."""
    count = (map_size // EXTRA_DENSITY) ** 2
    interior = _interior(play.shape)
    flat = play.reshape(-1)
    for material in (Material.WATER, Material.FOLIAGE):
        flat[_choose(rng, interior & (play == Material.GRASS), count)] = material


def _check_int(name: str, value, lo: int, hi: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name!r} must be an int, got {value!r}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        allowed = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name!r} must be in {allowed}, got {value}")
    return value


def _validate(seed, map_size, grid_size, water, grass, foliage, flat, extra, cache) -> None:
    _check_int("seed", seed, 0, None)
    _check_int("grid_size", grid_size, MIN_MAP_SIZE, None)
    _check_int("map_size", map_size, MIN_MAP_SIZE, int(grid_size))
    for name, value in (("water", water), ("grass", grass), ("foliage", foliage)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name!r} must be a number in [0, 1], got {value!r}")
        if not 0.0 <= value <= 1.0:  # also rejects NaN
            raise ValueError(f"{name!r} must be in [0, 1], got {value!r}")
    if not water <= grass <= foliage:
        raise ValueError(
            "thresholds must satisfy 0 <= 'water' <= 'grass' <= 'foliage' <= 1, "
            f"got water={water}, grass={grass}, foliage={foliage}"
        )
    for name, value in (("flat", flat), ("extra", extra), ("cache", cache)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name!r} must be a bool, got {value!r}")


@functools.lru_cache(maxsize=MAP_CACHE)
def _noise_ranks(seed: int, map_size: int) -> np.ndarray:
    """The ranks of map ``seed``'s noise (:func:`_ranks`), read-only and shared by the cache:
    games that randomize the thresholds reuse the slow part of :func:`generate`."""
    noise_seq = np.random.SeedSequence((seed, map_size)).spawn(2)[0]
    ranks = _ranks(_noise(np.random.default_rng(noise_seq), map_size))
    ranks.flags.writeable = False
    return ranks


def generate(
    seed: int,
    map_size: int,
    grid_size: int,
    water: float = 0.30,
    grass: float = 0.70,
    foliage: float = 0.85,
    flat: bool = False,
    extra: bool = False,
    cache: bool = True,
) -> np.ndarray:
    """The tile materials of map ``seed`` (rules.md §1 "Map"; algorithm in the module doc).

    Args:
        seed: map seed, an int >= 0 (see :data:`TRAIN_MAP_SEEDS`, :data:`EVAL_MAP_SEEDS`).
        map_size: side of the playable square in tiles, in ``[32, grid_size]``.
        grid_size: side of the whole grid in tiles, >= 32. The playable square occupies rows
            and columns ``[border, border + map_size)`` with ``border = (grid_size -
            map_size) // 2``; every other tile is VOID.
        water, grass, foliage: noise thresholds in [0, 1] with ``water <= grass <= foliage``;
            noise is rank-normalised, so they are the cumulative material fractions.
        flat: all-GRASS playable square, no resources (the ``terrain`` system off); the same
            map whatever the seed, thresholds and ``extra``.
        extra: scatter the reference's extra single water and foliage tiles (step 5 of the
            module doc); ignored when ``flat``.
        cache: keep the map for later calls (the last :data:`MAP_CACHE` maps are kept).
            False builds it afresh and keeps nothing: for a map unlikely to be asked for
            again (thresholds drawn from a range), which would only push out maps that are.

    Returns:
        ``(grid_size, grid_size)`` uint8 array of :class:`~metammo.constants.Material` codes,
        read-only (``flags.writeable`` False) and, with ``cache``, shared by the cache: copy
        it into state.

    Raises:
        ValueError: an argument of the wrong type or out of range, or thresholds out of order;
            the message names the argument and the allowed range.
    """
    _validate(seed, map_size, grid_size, water, grass, foliage, flat, extra, cache)
    if flat:  # one key for every all-grass square of a size
        key = (0, int(map_size), int(grid_size), 0.0, 0.0, 0.0, True, False)
    else:
        key = (int(seed), int(map_size), int(grid_size), float(water), float(grass), float(foliage), False, bool(extra))
    return (_cached_build if cache else _build)(*key)


def _build(seed: int, map_size: int, grid_size: int, water: float, grass: float, foliage: float,
           flat: bool, extra: bool) -> np.ndarray:
    """:func:`generate` on checked arguments."""
    play = np.full((map_size, map_size), Material.GRASS, dtype=np.uint8)
    if not flat:
        ranks = _noise_ranks(seed, map_size)
        noise = (ranks + 0.5) / ranks.size  # step 2 of the module doc: quantiles in (0, 1)
        _, resource_seq, extra_seq = np.random.SeedSequence((seed, map_size)).spawn(3)
        play[...] = np.select(
            [noise <= water, noise <= grass, noise <= foliage],
            [Material.WATER, Material.GRASS, Material.FOLIAGE],
            default=Material.STONE,
        )
        play[[0, -1], :] = Material.GRASS
        play[:, [0, -1]] = Material.GRASS
        _scatter(np.random.default_rng(resource_seq), play, map_size)
        if extra:
            _scatter_extra(np.random.default_rng(extra_seq), play, map_size)
    tiles = np.full((grid_size, grid_size), Material.VOID, dtype=np.uint8)
    border = (grid_size - map_size) // 2
    tiles[border : border + map_size, border : border + map_size] = play
    tiles.flags.writeable = False
    return tiles


_cached_build = functools.lru_cache(maxsize=MAP_CACHE)(_build)


def material_counts(tiles: np.ndarray) -> dict[str, int]:
    """``{material name: number of tiles}`` for every :class:`Material`, zeros included.

    Args:
        tiles: any-shaped integer array of Material codes.

    Raises:
        ValueError: a code outside the Material enum.
    """
    codes = np.asarray(tiles).reshape(-1)
    if codes.size and (codes.min() < 0 or codes.max() >= len(Material)):
        raise ValueError(
            f"tiles must hold Material codes in [0, {len(Material) - 1}], "
            f"got values in [{codes.min()}, {codes.max()}]"
        )
    counts = np.bincount(codes.astype(np.int64), minlength=len(Material))
    return {m.name: int(counts[m]) for m in Material}
