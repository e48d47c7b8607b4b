"""Tests of metammo.terrain: layout, determinism, material fractions, resources, validation."""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pytest

from metammo import terrain
from metammo.constants import PASSABLE, Material
from metammo.terrain import EVAL_MAP_SEEDS, TRAIN_MAP_SEEDS, generate, material_counts

GRID = 142  # the default shape: max_map_size 128 + 2 * vision 7
SIZES = (32, 40, 64, 128)
# generate without the cache, so determinism is tested on fresh computations
_uncached = functools.partial(generate, cache=False)


def playable(tiles: np.ndarray, map_size: int) -> np.ndarray:
    b = (tiles.shape[0] - map_size) // 2
    return tiles[b : b + map_size, b : b + map_size]


def ring(play: np.ndarray) -> np.ndarray:
    return np.concatenate([play[0], play[-1], play[1:-1, 0], play[1:-1, -1]])


# --- seeds -------------------------------------------------------------------------------


def test_seed_pools_sized_unique_and_disjoint():
    assert len(TRAIN_MAP_SEEDS) == 256 and len(set(TRAIN_MAP_SEEDS)) == 256
    assert len(EVAL_MAP_SEEDS) == 64 and len(set(EVAL_MAP_SEEDS)) == 64
    assert not set(TRAIN_MAP_SEEDS) & set(EVAL_MAP_SEEDS)
    assert all(isinstance(s, int) and s >= 0 for s in TRAIN_MAP_SEEDS + EVAL_MAP_SEEDS)


def test_train_and_eval_maps_differ():
    train = generate(TRAIN_MAP_SEEDS[0], 128, GRID)
    for seed in EVAL_MAP_SEEDS[:4]:
        assert not np.array_equal(train, generate(seed, 128, GRID))


# --- determinism ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_same_seed_same_map(size):
    a = _uncached(5, size, GRID)
    b = _uncached(5, size, GRID)
    assert a is not b
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("size", SIZES)
def test_different_seeds_differ(size):
    maps = [_uncached(seed, size, GRID) for seed in range(4)]
    for i in range(len(maps)):
        for j in range(i + 1, len(maps)):
            # not just different: most of the terrain differs
            assert (maps[i] != maps[j]).mean() > 0.05 * (size / GRID) ** 2


def test_maps_are_the_same_in_every_version():
    # Pinned: checkpoints, replays and leaderboard figures assume the maps a seed names. A
    # change here changes every map; make it on purpose, and say so in the notes.
    digest = hashlib.sha256()
    for seed, size in ((0, 128), (7, 40), (EVAL_MAP_SEEDS[0], 64)):
        digest.update(_uncached(seed, size, GRID).tobytes())
    assert digest.hexdigest() == "aee0c1d48e519741101c034962301702f830a64e0eeb0118149b438490638aa1"
    extra = hashlib.sha256()
    for seed, size in ((0, 128), (7, 60)):
        extra.update(_uncached(seed, size, GRID, 0.05, 0.70, 0.95, extra=True).tobytes())
    assert extra.hexdigest() == "020cae17290bf5c79000460e0598a80a6b7f07ee70eb932ec53e5217f2815c1b"


def test_ranks_rank_ties_in_row_major_order_in_the_smallest_dtype():
    values = np.array([[0.5, 0.1, 0.5], [0.1, 0.9, 0.5]])
    np.testing.assert_array_equal(terrain._ranks(values), [[2, 0, 3], [1, 5, 4]])
    assert terrain._ranks(values).dtype == np.uint8
    many = np.random.default_rng(0).integers(0, 5, (64, 64)).astype(np.float64)  # a fast sort reorders these
    ranks = np.argsort(np.argsort(many, axis=None, kind="stable"), kind="stable")
    np.testing.assert_array_equal(terrain._ranks(many), ranks.reshape(64, 64))
    distinct = np.random.default_rng(0).standard_normal((256, 257))  # more ranks than uint16 holds
    ranks = np.argsort(np.argsort(distinct, axis=None, kind="stable"), kind="stable")
    assert terrain._ranks(distinct).dtype == np.uint32
    np.testing.assert_array_equal(terrain._ranks(distinct), ranks.reshape(256, 257))


def test_map_size_is_folded_into_the_seed():
    # The 64 map is not the centre crop of the 128 map with the same seed.
    small = playable(generate(3, 64, GRID), 64)
    big = playable(generate(3, 128, GRID), 128)[32:96, 32:96]
    assert (small != big).mean() > 0.2


def test_thresholds_keep_the_geography():
    # Same noise, lower water threshold: the water of the drier map lies inside the wetter's.
    wet = np.isin(generate(9, 128, GRID, water=0.30), [Material.WATER, Material.FISH])
    dry = np.isin(generate(9, 128, GRID, water=0.20), [Material.WATER, Material.FISH])
    assert dry.sum() < wet.sum()
    assert not (dry & ~wet).any()


# --- layout --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES + (41,))
def test_playable_square_centred_in_void(size):
    tiles = generate(1, size, GRID)
    assert tiles.shape == (GRID, GRID) and tiles.dtype == np.uint8
    border = (GRID - size) // 2
    inside = np.zeros((GRID, GRID), dtype=bool)
    inside[border : border + size, border : border + size] = True
    assert (tiles[~inside] == Material.VOID).all()
    assert (tiles[inside] != Material.VOID).all()
    assert tiles.max() < len(Material)


@pytest.mark.parametrize("size", SIZES)
def test_outer_ring_is_grass(size):
    for seed in range(3):
        assert (ring(playable(generate(seed, size, GRID), size)) == Material.GRASS).all()


def test_map_size_equal_to_grid_size_has_no_void():
    tiles = generate(0, 64, 64)
    assert (tiles != Material.VOID).all()
    assert (ring(tiles) == Material.GRASS).all()


# --- materials -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", TRAIN_MAP_SEEDS[:3] + EVAL_MAP_SEEDS[:2])
def test_material_fractions_at_128(seed):
    counts = material_counts(playable(generate(seed, 128, GRID), 128))
    area = 128 * 128
    water = (counts["WATER"] + counts["FISH"]) / area
    assert 0.10 <= water <= 0.45
    assert 0.25 <= counts["GRASS"] / area <= 0.55
    assert 0.05 <= counts["FOLIAGE"] / area <= 0.30
    assert 0.05 <= counts["STONE"] / area <= 0.25
    # nothing depleted or void on a fresh map
    for name in ("VOID", "SCRUB", "SLAG", "STUMP", "FRAGMENT", "WEEDS", "OCEAN"):
        assert counts[name] == 0, name


def test_center_is_coarser_than_edge():
    # Lower frequency toward the centre: fewer water / stone / land changes between neighbours.
    changes_centre = changes_edge = 0.0
    for seed in range(8):
        play = playable(generate(seed, 128, GRID), 128)
        kind = np.where(np.isin(play, [Material.WATER, Material.FISH]), 0, 2)
        kind[play == Material.STONE] = 1
        diff = (kind[:-1, 1:] != kind[:-1, :-1]) | (kind[1:, :-1] != kind[:-1, :-1])
        centre = np.zeros(diff.shape, dtype=bool)
        centre[32:96, 32:96] = True
        edge = np.zeros(diff.shape, dtype=bool)
        edge[2:-2, 2:-2] = True
        edge &= ~np.pad(np.ones((96, 96), dtype=bool), ((16, 15), (16, 15)))
        changes_centre += diff[centre].mean()
        changes_edge += diff[edge].mean()
    assert changes_centre < 0.8 * changes_edge


def test_extreme_thresholds():
    all_water = playable(generate(2, 64, GRID, water=1.0, grass=1.0, foliage=1.0), 64)
    interior = all_water[1:-1, 1:-1]
    assert np.isin(interior, [Material.WATER, Material.FISH]).all()
    no_water = material_counts(generate(2, 64, GRID, water=0.0))
    assert no_water["WATER"] == no_water["FISH"] == 0


# --- resources -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_resource_counts_scale_with_area(size):
    target = terrain.resource_targets(size)
    assert target["clusters"] == max(1, round(64 * size * size / 128**2))
    for seed in range(3):
        counts = material_counts(generate(seed, size, GRID))
        assert counts["HERB"] == target["herbs"] == max(1, round(256 * size * size / 128**2))
        assert counts["FISH"] == target["fish"]
        for name in ("ORE", "TREE", "CRYSTAL"):
            # a plus-shaped cluster covers 1 to 5 tiles; most arms land on land
            assert 2 * target["clusters"] <= counts[name] <= 5 * target["clusters"], name


def test_resource_counts_near_reference_at_128():
    # rules.md §1: ore 215, tree 208, crystal 197, herb 256, fish 256 on one 128 map.
    counts = material_counts(generate(TRAIN_MAP_SEEDS[0], 128, GRID))
    assert counts["HERB"] == 256 and counts["FISH"] == 256
    for name in ("ORE", "TREE", "CRYSTAL"):
        assert 150 <= counts[name] <= 320, (name, counts[name])


@pytest.mark.parametrize("size", SIZES)
def test_fish_only_on_water_next_to_passable(size):
    for seed in range(3):
        play = playable(generate(seed, size, GRID), size)
        passable = np.pad(PASSABLE[play], 1, constant_values=False)
        near = passable[:-2, 1:-1] | passable[2:, 1:-1] | passable[1:-1, :-2] | passable[1:-1, 2:]
        fish = play == Material.FISH
        assert fish.any()
        assert near[fish].all()


def test_clusters_are_plus_shaped_pieces():
    # Every cluster tile touches (4-adjacency) another tile of its material or is a lone centre;
    # no cluster material sits on stone or water: it replaced grass or foliage.
    play = playable(generate(4, 128, GRID), 128)
    for mat in (Material.ORE, Material.TREE, Material.CRYSTAL):
        m = np.pad(play == mat, 1)
        neighbours = (
            m[:-2, 1:-1].astype(int) + m[2:, 1:-1] + m[1:-1, :-2] + m[1:-1, 2:]
        )[play == mat]
        assert (neighbours >= 1).mean() > 0.8


def test_flat_map_is_all_grass():
    for size in SIZES:
        tiles = generate(7, size, GRID, flat=True)
        play = playable(tiles, size)
        assert (play == Material.GRASS).all()
        assert (tiles == Material.VOID).sum() == GRID * GRID - size * size


@pytest.mark.parametrize("size", (40, 60, 128))
def test_extra_resources_turn_interior_grass_into_single_water_and_foliage(size):
    # the reference's scatter_extra_resources: (map_center // 6)**2 of each, on grass only
    base = playable(generate(5, size, GRID, water=0.05, foliage=0.95), size)
    extra = playable(generate(5, size, GRID, water=0.05, foliage=0.95, extra=True), size)
    changed = base != extra
    assert (base[changed] == Material.GRASS).all(), "only grass changes"
    assert not ring(changed).any(), "the outer ring stays grass"
    count = (size // terrain.EXTRA_DENSITY) ** 2
    assert (extra[changed] == Material.WATER).sum() == count
    assert (extra[changed] == Material.FOLIAGE).sum() == count
    assert changed.sum() == 2 * count


def test_extra_resources_on_a_flat_map_change_nothing():
    assert np.array_equal(generate(5, 64, GRID, flat=True, extra=True), generate(5, 64, GRID, flat=True))


# --- cache and read-only -------------------------------------------------------------------


def test_returned_array_is_read_only_and_cached():
    tiles = generate(11, 64, GRID)
    assert not tiles.flags.writeable
    with pytest.raises(ValueError):
        tiles[0, 0] = Material.GRASS
    assert generate(11, 64, GRID) is tiles
    state = np.zeros((GRID, GRID), dtype=np.uint8)
    np.copyto(state, tiles)
    state[0, 0] = Material.STONE  # the caller's copy is writable
    assert tiles[0, 0] == Material.VOID


def test_without_the_cache_a_map_is_built_afresh_and_not_kept():
    kept = terrain._cached_build.cache_info()
    fresh = generate(12, 64, GRID, water=0.123, cache=False)
    assert terrain._cached_build.cache_info() == kept  # neither looked up nor stored
    assert not fresh.flags.writeable
    cached = generate(12, 64, GRID, water=0.123)
    assert cached is not fresh and np.array_equal(cached, fresh)
    with pytest.raises(ValueError, match="'cache' must be a bool"):
        generate(12, 64, GRID, cache="no")


def test_flat_maps_of_a_size_share_one_cache_entry():
    # the all-grass square depends on nothing but its size and grid
    assert generate(5, 64, GRID, flat=True) is generate(6, 64, GRID, water=0.1, flat=True, extra=True)
    assert generate(5, 64, GRID, flat=True) is not generate(5, 80, GRID, flat=True)


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"map_size": 31}, "map_size"),
        ({"map_size": 143}, "map_size"),
        ({"map_size": 64.0}, "map_size"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"grid_size": 16, "map_size": 32}, "grid_size"),
        ({"water": -0.1}, "water"),
        ({"grass": 1.5}, "grass"),
        ({"foliage": float("nan")}, "foliage"),
        ({"water": "0.3"}, "water"),
        ({"water": 0.5, "grass": 0.4}, "grass"),
        ({"grass": 0.9, "foliage": 0.8}, "foliage"),
        ({"flat": 1}, "flat"),
        ({"extra": "yes"}, "extra"),
    ],
)
def test_bad_arguments_raise(kwargs, name):
    args = {"seed": 0, "map_size": 64, "grid_size": GRID, **kwargs}
    with pytest.raises(ValueError, match=name):
        generate(**args)


def test_range_named_in_message():
    with pytest.raises(ValueError, match=r"\[32, 142\]"):
        generate(0, 200, GRID)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        generate(0, 64, GRID, water=2.0)


def test_material_counts():
    tiles = generate(0, 32, GRID)
    counts = material_counts(tiles)
    assert list(counts) == [m.name for m in Material]
    assert sum(counts.values()) == GRID * GRID
    assert counts["VOID"] == GRID * GRID - 32 * 32
    with pytest.raises(ValueError, match="Material codes"):
        material_counts(np.array([0, len(Material)]))
