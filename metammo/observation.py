"""Observations: one flat uint8 row per agent, described by a :class:`Layout`.

An agent's row holds, in order (shapes for the default vision 7 and 32 entity rows):

=============  =================  =========================================================
part           shape              content
=============  =================  =========================================================
tiles          (4, 15, 15)        :class:`TileChannel` planes of the crop centred on the agent
entities       (32, 20)           nearest entities in view, sorted by distance, then slot;
                                  :class:`EntityFeature` columns; unused rows are all 0
self           (24,)              :class:`SelfFeature`
game           (48,)              :class:`GameFeature`: [0:16] :class:`System` bits, [16:27]
                                  game id, team and leader flags, difficulty (all written by
                                  the env); [27:32] the game's own, [32:48] task embedding
mask_move      (5,)               1 where the :class:`~metammo.constants.Move` is allowed
mask_style     (3,)               1 where the attack style is allowed
mask_target    (33,)              [0] no attack (always 1); [k] attack entity row k - 1
mask_comm      (128,)             [0] no message (always 1); [k] send token k
*full config (shape key ``inventory``) only:*
inventory      (12, 6)            :class:`InventoryFeature` per slot; empty slots are all 0
profile        (17,)              :class:`ProfileFeature`: gold, professions, equipment
market         (16, 10, 2)        per item type and level: best price (0: none), supply
mask_use ...   13, 13, 13, 100,   masks of the use, destroy, give_item, give_gold,
mask_buy       33, 13, 100, 161   give_target, sell_item, sell_price and buy heads
=============  =================  =========================================================

Neural MMO 2.1 spends 29.8 KB per agent-step (int16 everywhere, entities in storage order, the
whole market copied to every agent). Here every value fits a byte (scales noted per feature),
entities are nearest first, the market is a 320-byte view, and the row is 1.7 KB (mini) or
2.6 KB (full) at the defaults.

:meth:`Layout.views` returns zero-copy structured views of a ``(..., size)`` array, numpy or
torch alike, so the env writes and the policy reads with the same layout. ``Layout.VERSION``
travels in checkpoints; bump it whenever a part or a feature changes.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum

import numpy as np
from numba import njit

from metammo.config import Config, Shape
from metammo.actions import head_sizes
from metammo.constants import (
    COMBAT_LEVEL,
    COMBAT_TICKS,
    GIVE_REACH,
    INVENTORY_SLOTS,
    REQUIRED_SKILL,
    MAX_LEVEL,
    NUM_ITEM_TYPES,
    NUM_MOVES,
    NUM_SKILLS,
    NUM_STYLES,
    NUM_TOKENS,
    MAX_GIVE_GOLD,
    MAX_PRICE,
    STACKABLE,
    XP_TO_LEVEL,
)
from metammo.kernels import Kernels
from metammo.state import State
from metammo.systems.combat import can_hit, main_style
from metammo.systems.common import centre_tile, edge_distance, fog_rise, fog_value
from metammo.systems.market import market_key
from metammo.systems.movement import can_enter
from metammo.systems.params import Params
from metammo.systems.spatial import SLOT_KEY, build_buckets


class TileChannel(IntEnum):
    """Planes of the tile crop."""

    MATERIAL = 0  # Material code
    FOG = 1  # fog value v as clip(int((v + 8) * 8), 0, 255); 0 when off; 68 may hurt (v in [0.5, 0.625)), > 68 hurts
    AGENTS = 2  # live agents on the tile (clipped at 255)
    NPCS = 3  # live NPCs on the tile


class EntityFeature(IntEnum):
    """Columns of an entity row."""

    PRESENT = 0  # 1 for a real row
    ROW = 1  # row offset from the observer + vision (0..2v)
    COL = 2  # column offset from the observer + vision
    KIND = 3  # Kind
    TEAMMATE = 4  # 1 when an agent of the observer's team
    HEALTH = 5
    FOOD = 6
    WATER = 7
    LEVEL_MELEE = 8
    LEVEL_RANGE = 9
    LEVEL_MAGE = 10
    STYLE = 11  # main Style (what counters it)
    IMMUNE = 12  # 1 while an agent is spawn-immune
    FROZEN = 13  # freeze ticks left (clipped)
    MESSAGE = 14  # this tick's comm token, teammates only
    ATTACKED_ME = 15  # 1 when it attacked the observer this tick
    MY_TARGET = 16  # 1 when the observer attacked it this tick
    TIME_ALIVE = 17  # ticks alive // 4 (clipped)
    IN_COMBAT = 18  # 1 within COMBAT_TICKS of attacking or being hit
    LEADER = 19  # 1 when an agent leads its team (team games with leaders)


class SelfFeature(IntEnum):
    """The observer's own state."""

    ALIVE = 0
    ROW = 1  # row within the playable square
    COL = 2
    MAP_SIZE = 3  # playable side (clipped at 255)
    HEALTH = 4
    FOOD = 5
    WATER = 6
    LEVEL_MELEE = 7
    LEVEL_RANGE = 8
    LEVEL_MAGE = 9
    XP_MELEE = 10  # progress to the next level, 0..255
    XP_RANGE = 11
    XP_MAGE = 12
    STYLE = 13  # main Style
    IMMUNE = 14
    FROZEN = 15  # freeze ticks left (clipped)
    IN_COMBAT = 16
    TIME_ALIVE = 17  # ticks alive // 4 (clipped)
    PROGRESS = 18  # tick * 255 // horizon
    FOG = 19  # fog value here, encoded as TileChannel.FOG
    EDGE_DISTANCE = 20  # rings to the playable edge
    CENTRE_DISTANCE = 21  # Chebyshev distance to the centre tile
    TEAMMATES_ALIVE = 22  # live teammates other than itself
    TICK_MOD = 23  # tick % 256, for periodic behaviour


class System(IntEnum):
    """Bits of the game vector the engine sets: which systems are on this episode."""

    TERRAIN = 0
    RESOURCES = 1
    COMBAT = 2
    NPCS = 3
    FOG = 4
    COMM = 5
    EXCLUSIVE_TILES = 6
    FRIENDLY_FIRE = 7
    ITEMS = 8
    PROFESSIONS = 9
    MARKET = 10
    PROGRESSION = 11
    # 12..15 reserved for the engine


class InventoryFeature(IntEnum):
    """Columns of an inventory slot (full config)."""

    ITEM = 0  # Item (0: empty slot)
    LEVEL = 1
    QUANTITY = 2  # clipped at 255
    EQUIPPED = 3
    PRICE = 4  # listed price, 0 when not on the market
    USABLE = 5  # 1 when the agent's level allows equipping or consuming it


class ProfileFeature(IntEnum):
    """The observer's gold, professions and equipment (full config)."""

    GOLD = 0  # clipped at 255
    LEVEL_FISHING = 1
    LEVEL_HERBALISM = 2
    LEVEL_PROSPECTING = 3
    LEVEL_CARVING = 4
    LEVEL_ALCHEMY = 5
    XP_FISHING = 6  # progress to the next level, 0..255
    XP_HERBALISM = 7
    XP_PROSPECTING = 8
    XP_CARVING = 9
    XP_ALCHEMY = 10
    ATTACK_MELEE = 11  # equipment attack per style (clipped at 255)
    ATTACK_RANGE = 12
    ATTACK_MAGE = 13
    DEFENSE = 14  # armor defense
    FREE_SLOTS = 15  # empty inventory slots
    LISTINGS = 16  # own items on the market


class MarketFeature(IntEnum):
    """Columns of a market-view cell (full config)."""

    BEST_PRICE = 0  # lowest listed price, 0 when none is listed
    SUPPLY = 1  # listings (clipped at 255)


#: The full config's masks, in :class:`~metammo.actions.Head` order after the first four.
ITEM_MASKS = ("mask_use", "mask_destroy", "mask_give_item", "mask_give_gold", "mask_give_target",
              "mask_sell_item", "mask_sell_price", "mask_buy")
TILE_CHANNELS = len(TileChannel)
ENTITY_FEATURES = len(EntityFeature)
SELF_FEATURES = len(SelfFeature)
INVENTORY_FEATURES = len(InventoryFeature)
PROFILE_FEATURES = len(ProfileFeature)
MARKET_FEATURES = len(MarketFeature)
GAME_FEATURES = 48
#: Game-vector columns of :class:`System` bits (the engine's); :class:`GameFeature` follows.
SYSTEM_BITS = 16


class GameFeature(IntEnum):
    """Columns of the game vector after the :class:`System` bits. The env writes the game's
    identity, team role and difficulty at each reset; the game writes its own columns and
    each agent's task embedding (:meth:`metammo.game.Game.write_game_vector`)."""

    GAME = 16  # 8 columns: bytes of sha256(game name), a fixed identity for any registered game
    TEAM_GAME = 24  # 1 when agents play in teams (team_size > 1)
    LEADER = 25  # 1 when this agent leads its team
    DIFFICULTY = 26  # difficulty level * 255 // (levels - 1); 0 for games without levels
    GAME_OWNED = 27  # 27..31: free for a game's own features
    TASK = 32  # 16 columns: the agent's task embedding (metammo.tasks.embed), 0 without a task


GAME_ID_BYTES = GameFeature.TEAM_GAME - GameFeature.GAME


def game_id(name: str) -> np.ndarray:
    """The game vector's identity columns for game ``name``: ``(GAME_ID_BYTES,)`` uint8, the
    first bytes of sha256(name)."""
    return np.frombuffer(hashlib.sha256(name.encode()).digest()[:GAME_ID_BYTES], np.uint8)


class Layout:
    """Offsets and shapes of the parts of an observation row for a :class:`Shape`.

    Attributes:
        parts: ``{name: (offset, shape)}`` in row order.
        size: bytes per row (the Box's length).
        offsets: ``(len(parts),)`` int64 part offsets in row order, for compiled kernels.
        mask_offsets: ``(heads,)`` int64 offset of each action head's mask, in head order.
    """

    VERSION = 4  # 4: System.PROGRESSION (0 in mini, as before: see baselines.checkpoint.READS_AS_CURRENT)

    def __init__(self, shape: Shape):
        side = 2 * shape.vision + 1
        self.vision = shape.vision
        self.entities = shape.obs_entities
        self.parts: dict[str, tuple[int, tuple[int, ...]]] = {}
        offset = 0
        parts = [
            ("tiles", (TILE_CHANNELS, side, side)),
            ("entities", (shape.obs_entities, ENTITY_FEATURES)),
            ("self", (SELF_FEATURES,)),
            ("game", (GAME_FEATURES,)),
            ("mask_move", (NUM_MOVES,)),
            ("mask_style", (NUM_STYLES,)),
            ("mask_target", (shape.obs_entities + 1,)),
            ("mask_comm", (NUM_TOKENS,)),
        ]
        if shape.inventory:
            parts += [
                ("inventory", (INVENTORY_SLOTS, INVENTORY_FEATURES)),
                ("profile", (PROFILE_FEATURES,)),
                ("market", (NUM_ITEM_TYPES, MAX_LEVEL, MARKET_FEATURES)),
            ]
            parts += [(name, (int(size),)) for name, size in zip(ITEM_MASKS, head_sizes(shape)[4:])]
        for name, part_shape in parts:
            self.parts[name] = (offset, part_shape)
            offset += int(np.prod(part_shape))
        self.size = offset
        self.offsets = np.array([o for o, _ in self.parts.values()], np.int64)
        masks = ["mask_move", "mask_style", "mask_target", "mask_comm"] + (list(ITEM_MASKS) if shape.inventory else [])
        self.mask_offsets = np.array([self.parts[m][0] for m in masks], np.int64)

    def view(self, obs, name: str):
        """Zero-copy view of part ``name`` of ``obs`` (shape ``(..., size)``, numpy or torch).

        Raises:
            KeyError: an unknown part (the message lists the parts).
            ValueError: rows of another length than :attr:`size`.
        """
        if name not in self.parts:
            raise KeyError(f"unknown observation part {name!r}; parts: {list(self.parts)}")
        if obs.shape[-1:] != (self.size,):
            raise ValueError(f"observations must be (..., {self.size}): rows of this layout's size, got shape "
                             f"{tuple(obs.shape)}")
        offset, part_shape = self.parts[name]
        return obs[..., offset : offset + int(np.prod(part_shape))].reshape(*obs.shape[:-1], *part_shape)

    def views(self, obs) -> dict:
        """``{name: view}`` of every part (see :meth:`view`)."""
        return {name: self.view(obs, name) for name in self.parts}

    def describe(self) -> dict:
        """``{"version", "size", "parts": {name: [offset, shape]}}``, JSON-ready."""
        return {
            "version": self.VERSION,
            "size": self.size,
            "parts": {k: [o, list(s)] for k, (o, s) in self.parts.items()},
        }


@njit(cache=True)
def _fog_byte(value):
    return min(max(int((value + 8.0) * 8.0), 0), 255)


@njit(cache=True)
def _fog_map(out, lo, hi, tick, onset, speed, final_size):
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = _fog_byte(fog_value(r, c, lo, hi, tick, onset, speed, final_size))


@njit(cache=True)
def _xp_progress(xp, level):
    if level >= MAX_LEVEL:
        return 255
    base, top = XP_TO_LEVEL[level - 1], XP_TO_LEVEL[level]
    return min(255 * (xp - base) // (top - base), 255)


_SELF_KEY = 1 << 62  # sorts the observer after every other entity


@njit(cache=True)
def _observe(
    obs, ids, ent, tiles, fog, fog_on, num_agents, vision, lo, hi, tick, horizon, offsets,
    combat_on, comm_on, exclusive, reach, immunity, friendly_fire,
):
    side = 2 * vision + 1
    plane = np.uint64(side * side)
    t_agents = offsets[0] + TileChannel.AGENTS * side * side
    t_npcs = offsets[0] + TileChannel.NPCS * side * side
    t_counted = offsets[0] + (TileChannel.AGENTS if fog_on else TileChannel.FOG) * side * side
    t_end = offsets[0] + TILE_CHANNELS * side * side
    n_rows = ids.shape[1]
    t_off, e_off, s_off = offsets[0], offsets[1], offsets[2]
    mm_off, ms_off, mt_off, mc_off = offsets[4], offsets[5], offsets[6], offsets[7]
    centre = centre_tile(lo, hi)
    cell = vision + 1
    start, items, ncell = build_buckets(ent, cell, tiles.material.shape[0], ent.alive.shape[0])
    team_alive = np.zeros(num_agents + 1, np.int64)
    for j in range(num_agents):
        if ent.alive[j]:
            team_alive[ent.team[j]] += 1
    slots = ent.alive.shape[0]
    # the columns of an entity's row that do not depend on the observer: computed once per
    # entity, copied into every row that shows it
    shared = np.zeros((slots, ENTITY_FEATURES), np.uint8)
    for j in range(slots):
        if not ent.alive[j]:
            continue
        shared[j, 0] = 1
        shared[j, 3] = ent.kind[j]
        shared[j, 5] = max(ent.health[j], 0)
        shared[j, 6] = ent.food[j]
        shared[j, 7] = ent.water[j]
        shared[j, 8] = ent.level[j, 0]
        shared[j, 9] = ent.level[j, 1]
        shared[j, 10] = ent.level[j, 2]
        shared[j, 11] = main_style(ent, j)
        shared[j, 12] = j < num_agents and ent.time_alive[j] < immunity
        shared[j, 13] = min(ent.freeze[j], 255)
        shared[j, 17] = min(ent.time_alive[j] // 4, 255)
        shared[j, 18] = tick - ent.combat_tick[j] < COMBAT_TICKS
        shared[j, 19] = ent.leader[j]
    span = np.uint64(2 * vision)
    seen = np.empty(slots, np.int64)  # the entities in the observer's view
    key = np.empty(slots, np.int64)  # their sort keys
    nearest = np.empty(slots, np.int64)  # the nearest first
    for i in range(num_agents):
        row = obs[i]
        if not ent.alive[i]:
            row[: offsets[3]] = 0
            ids[i, :] = -1
            row[mm_off:] = 0
            row[mm_off] = 1
            row[ms_off] = 1
            row[mt_off] = 1
            row[mc_off] = 1
            continue
        r, c = ent.row[i], ent.col[i]
        # tiles: the material and fog planes are copied from the maps (the fog plane is zeroed
        # instead when fog is off); the agent and NPC planes are zeroed here and counted while
        # scanning the entities in view below, since most of their tiles are empty. Unsigned
        # indices spare numba its negative-index checks, and indexing the 2-D arrays directly
        # (no row views) spares it reference counting: both matter here.
        c0 = np.uint64(c - vision)
        for dr in range(side):
            rr = np.uint64(r - vision + dr)
            k = np.uint64(t_off + dr * side)
            for dc in range(np.uint64(side)):
                row[k + dc] = tiles.material[rr, c0 + dc]
            if fog_on:
                for dc in range(np.uint64(side)):
                    row[k + plane + dc] = fog[rr, c0 + dc]
        row[t_counted:t_end] = 0
        # nearest entities, by the key (squared Euclidean distance, then slot). The loops below
        # avoid branching on the data, which changes every tick: which entity is in view, and
        # the order of two keys, are 50:50 guesses for the CPU, and a wrong guess costs about
        # as much as a visit. So the scan appends every visited entity and advances only past
        # those in view, and each one's place is its rank: the number of smaller keys (the
        # keys are distinct), counted in a loop the compiler vectorizes. The buckets of a row
        # of buckets are adjacent in ``items``.
        m = 0
        bc0, bc1 = (c - vision) // cell, (c + vision) // cell + 1
        for br in range((r - vision) // cell, (r + vision) // cell + 1):
            for q in range(start[br * ncell + bc0], start[br * ncell + bc1]):
                j = items[q]
                seen[m] = j
                m += (np.uint64(ent.row[j] - r + vision) <= span) & (np.uint64(ent.col[j] - c + vision) <= span)
        for q in range(m):
            j = seen[q]
            dr_, dc_ = ent.row[j] - r, ent.col[j] - c
            t = (t_agents if j < num_agents else t_npcs) + (dr_ + vision) * side + dc_ + vision
            row[t] = min(row[t] + 1, 255)
            key[q] = _SELF_KEY if j == i else (dr_ * dr_ + dc_ * dc_) * SLOT_KEY + j
        for q in range(m):
            kq = key[q]
            rank = 0
            for q2 in range(m):
                rank += key[q2] < kq
            if rank < n_rows:
                nearest[rank] = seen[q]
        n = min(m - 1, n_rows)  # all but the observer itself, whose key ranks last
        previous = n_rows
        while previous > 0 and ids[i, previous - 1] < 0:
            previous -= 1
        row[mt_off] = 1
        for k in range(n, previous):  # rows filled last tick but empty now
            for f in range(ENTITY_FEATURES):
                row[e_off + k * ENTITY_FEATURES + f] = 0
            row[mt_off + 1 + k] = 0
            ids[i, k] = -1
        for k in range(n):
            base = e_off + k * ENTITY_FEATURES
            j = nearest[k]
            ids[i, k] = j
            for f in range(ENTITY_FEATURES):
                row[base + f] = shared[j, f]
            mate = j < num_agents and ent.team[j] == ent.team[i]
            row[base + 1] = ent.row[j] - r + vision
            row[base + 2] = ent.col[j] - c + vision
            row[base + 4] = mate
            row[base + 14] = ent.message[j] if (mate and comm_on) else 0
            row[base + 15] = ent.act_target[j] == i
            row[base + 16] = ent.act_target[i] == j
            row[mt_off + 1 + k] = combat_on and can_hit(ent, i, j, num_agents, reach, immunity, friendly_fire)
        # self
        s = s_off
        row[s + 0] = 1
        row[s + 1] = min(r - lo, 255)
        row[s + 2] = min(c - lo, 255)
        row[s + 3] = min(hi - lo, 255)
        row[s + 4] = max(ent.health[i], 0)
        row[s + 5] = ent.food[i]
        row[s + 6] = ent.water[i]
        for st in range(NUM_STYLES):
            row[s + 7 + st] = ent.level[i, st]
            row[s + 10 + st] = _xp_progress(ent.xp[i, st], ent.level[i, st])
        row[s + 13] = main_style(ent, i)
        row[s + 14] = ent.time_alive[i] < immunity
        row[s + 15] = min(ent.freeze[i], 255)
        row[s + 16] = tick - ent.combat_tick[i] < COMBAT_TICKS
        row[s + 17] = min(ent.time_alive[i] // 4, 255)
        row[s + 18] = min(tick * 255 // horizon, 255)
        row[s + 19] = fog[r, c]
        row[s + 20] = min(edge_distance(r, c, lo, hi), 255)
        row[s + 21] = min(max(abs(r - centre), abs(c - centre)), 255)
        row[s + 22] = min(team_alive[ent.team[i]] - 1, 255)
        row[s + 23] = tick % 256
        # masks
        free = ent.freeze[i] == 0
        row[mm_off] = 1
        for m in range(1, NUM_MOVES):
            dr_ = -1 if m == 1 else (1 if m == 2 else 0)
            dc_ = 1 if m == 3 else (-1 if m == 4 else 0)
            row[mm_off + m] = free and can_enter(tiles.material, tiles.agents, tiles.npcs, r + dr_, c + dc_, exclusive)
        row[ms_off] = 1
        for st in range(1, NUM_STYLES):
            row[ms_off + st] = combat_on
        row[mc_off] = 1
        if row[mc_off + 1] != comm_on:  # constant while alive: rewrite only when it changes
            for tok in range(1, NUM_TOKENS):
                row[mc_off + tok] = comm_on


@njit(cache=True)
def _observe_items(obs, ids, ent, inv, market, offsets, p, tick):
    num_agents, n_slots = p.num_agents, inv.item.shape[1]
    inv_off, prof_off, mkt_off = offsets[8], offsets[9], offsets[10]
    use_off, des_off, gi_off, gg_off = offsets[11], offsets[12], offsets[13], offsets[14]
    gt_off, si_off, sp_off, buy_off = offsets[15], offsets[16], offsets[17], offsets[18]
    num_keys = market.best_price.shape[0]
    view = np.empty(2 * num_keys, np.uint8)  # shared by every agent
    for k in range(num_keys):
        view[2 * k] = market.best_price[k]
        view[2 * k + 1] = min(market.supply[k], 255)
    room = np.empty(num_keys, np.bool_)
    # Plain arrays, and no calls to helpers taking the NamedTuples: see the note in combat.py.
    alive, erow, ecol, level = ent.alive, ent.row, ent.col, ent.level
    for i in range(num_agents):
        row = obs[i]
        if not ent.alive[i]:
            row[inv_off:] = 0
            for off in (use_off, des_off, gi_off, gg_off, gt_off, si_off, sp_off, buy_off):
                row[off] = 1
            continue
        fighting = tick + 1 - ent.combat_tick[i] < COMBAT_TICKS  # as the next tick will see it
        combat_top = max(level[i, 0], max(level[i, 1], level[i, 2]))
        free, listings, sellable = 0, 0, False
        for s in range(n_slots):
            base = inv_off + s * INVENTORY_FEATURES
            item, lvl = inv.item[i, s], inv.level[i, s]
            present, equipped, listed = item != 0, inv.equipped[i, s], inv.price[i, s] > 0
            skill = REQUIRED_SKILL[item]
            usable = present and (combat_top if skill == COMBAT_LEVEL else level[i, skill]) >= lvl
            row[base + 0] = item
            row[base + 1] = lvl
            row[base + 2] = min(inv.quantity[i, s], 255)
            row[base + 3] = equipped
            row[base + 4] = inv.price[i, s]
            row[base + 5] = usable
            free += not present
            listings += listed
            movable = present and not equipped and not listed
            row[use_off + 1 + s] = p.items and present and not listed and not fighting and (equipped or usable)
            row[des_off + 1 + s] = p.items and movable
            row[gi_off + 1 + s] = p.items and movable and not fighting
            can_sell = p.market and present and not equipped and not fighting
            row[si_off + 1 + s] = can_sell
            sellable |= can_sell
        # profile
        row[prof_off + 0] = min(ent.gold[i], 255)
        for k in range(NUM_SKILLS - NUM_STYLES):
            skill = NUM_STYLES + k
            row[prof_off + 1 + k] = ent.level[i, skill]
            row[prof_off + 6 + k] = _xp_progress(ent.xp[i, skill], ent.level[i, skill])
        for st in range(NUM_STYLES):
            row[prof_off + 11 + st] = min(ent.gear_attack[i, st], 255)
        row[prof_off + 14] = min(ent.gear_defense[i], 255)
        row[prof_off + 15] = free
        row[prof_off + 16] = listings
        # market view
        row[mkt_off : mkt_off + 2 * num_keys] = view
        # masks
        for off in (use_off, des_off, gi_off, gg_off, si_off, buy_off):
            row[off] = 1
        r, c = erow[i], ecol[i]
        receivers = 0
        for k in range(ids.shape[1]):  # as give_target(), inline
            j = ids[i, k]
            reach = max(abs(erow[j] - r), abs(ecol[j] - c)) <= GIVE_REACH
            ok = p.items & (j >= 0) & (j < num_agents) & alive[max(j, 0)] & reach
            row[gt_off + 1 + k] = ok
            receivers += ok
        # with someone to give to, a target must be named (the gift heads may still be 0);
        # without, nothing can be given
        row[gt_off] = receivers == 0
        if receivers == 0:
            for s in range(n_slots):
                row[gi_off + 1 + s] = 0
        limit = min(ent.gold[i], MAX_GIVE_GOLD) if (p.market and not fighting and receivers > 0) else 0
        for a in range(1, MAX_GIVE_GOLD + 1):
            row[gg_off + a] = a <= limit
        row[sp_off] = not sellable
        if row[sp_off + 1] != sellable:  # the same for every price: rewrite on change only
            for price in range(1, MAX_PRICE + 1):
                row[sp_off + price] = sellable
        trade = p.market and not fighting
        room[:] = free > 0
        for s in range(n_slots):
            item = inv.item[i, s]
            if item != 0 and STACKABLE[item] and inv.price[i, s] == 0:
                room[market_key(item, inv.level[i, s])] = True
        gold = ent.gold[i]
        for k in range(num_keys):
            best = market.best_price[k]
            row[buy_off + 1 + k] = trade and best > 0 and best <= gold and room[k]


class Observer:
    """Writes every agent's observation row and action masks in place, for one env's buffers.

    Args:
        state: the env's :class:`State`.
        layout: the env's :class:`Layout`.
        obs: ``(num_agents, layout.size)`` uint8, written except the game-owned columns.
        ids: ``(num_agents, obs_entities)`` int32 scratch: the entity slot behind each entity
            row (-1 for an empty row); the action decoder resolves attack targets through it.
    """

    def __init__(self, state: State, layout: Layout, obs: np.ndarray, ids: np.ndarray):
        self.state, self.layout, self.obs, self.ids = state, layout, obs, ids
        grid = state.tiles.material.shape[0]
        self.fog = np.zeros((grid, grid), np.uint8)  # this tick's encoded fog (0 when off)
        self._fog_key: tuple | None = None  # what the fog map was written for (None: 0, fog off)
        self._kernels = Kernels()  # the arguments' types never change

    def __call__(self, p: Params) -> None:
        """Phase: write the observations of the state's current tick under the episode's
        :class:`~metammo.systems.params.Params` ``p``."""
        kernels, s, offsets = self._kernels, self.state, self.layout.offsets
        key = None
        if p.fog:  # the map changes only as the fog rises (from its onset) or with the map's bounds
            key = p.lo, p.hi, p.fog_final_size, fog_rise(s.tick, True, p.fog_onset, p.fog_speed)
            if key != self._fog_key:
                kernels(_fog_map, self.fog, p.lo, p.hi, s.tick, p.fog_onset, p.fog_speed, p.fog_final_size)
        elif self._fog_key is not None:
            self.fog[:] = 0
        self._fog_key = key
        kernels(_observe, self.obs, self.ids, s.entities, s.tiles, self.fog, p.fog, p.num_agents, p.vision, p.lo,
                p.hi, s.tick, p.horizon, offsets, p.combat, p.comm, p.exclusive, p.reach, p.immunity,
                p.friendly_fire)
        if "inventory" in self.layout.parts:
            kernels(_observe_items, self.obs, self.ids, s.entities, s.inventory, s.market, offsets, p, s.tick)


def system_bits(cfg: Config) -> np.ndarray:
    """The engine's game-vector columns for ``cfg``: ``(SYSTEM_BITS,)`` uint8 of 0/1."""
    t = cfg.tunables
    bits = np.zeros(SYSTEM_BITS, np.uint8)
    for system, on in (
        (System.TERRAIN, t.terrain),
        (System.RESOURCES, t.resources),
        (System.COMBAT, t.combat),
        (System.NPCS, t.npcs),
        (System.FOG, t.fog),
        (System.COMM, t.comm),
        (System.EXCLUSIVE_TILES, t.exclusive_tiles),
        (System.FRIENDLY_FIRE, t.friendly_fire),
        (System.ITEMS, t.items),
        (System.PROFESSIONS, t.professions),
        (System.MARKET, t.market),
        (System.PROGRESSION, t.progression),
    ):
        bits[system] = on
    return bits
