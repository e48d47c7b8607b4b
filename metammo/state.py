"""World state as struct-of-arrays, preallocated once per env and mutated in place.

Five groups of arrays — :class:`Tiles`, :class:`Entities`, :class:`Inventory`, :class:`Market`,
:class:`Events` — plus the tick counter and the kernels' random stream live in :class:`State`. The groups are ``NamedTuple``s of
numpy arrays so that compiled numba kernels take a whole group as one argument and read fields
by name; the arrays themselves are never replaced, only written.

Entity slots: agents are ``0 .. num_agents - 1``, NPCs ``num_agents .. max_entities - 1``.
Coordinates are (row, col) in the allocated grid, whose playable square starts at
``Shape.border`` (see :func:`playable_bounds`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from metammo.config import Config, Shape
from metammo.constants import (
    COMBAT_NEVER,
    INVENTORY_SLOTS,
    MAX_LEVEL,
    NUM_EVENTS,
    NUM_ITEM_TYPES,
    NUM_SKILLS,
    NUM_STYLES,
)


class Tiles(NamedTuple):
    """Per-tile arrays, each ``(grid_size, grid_size)``, plus the regrowth schedule."""

    material: np.ndarray  # uint8 Material code
    agents: np.ndarray  # int16 number of live agents on the tile
    npcs: np.ndarray  # int16 number of live NPCs on the tile
    regrow_row: np.ndarray  # (grid_size**2,) int32 depleted tiles waiting to regrow ...
    regrow_col: np.ndarray  # (grid_size**2,) int32
    regrow_tick: np.ndarray  # (grid_size**2,) int32 ... and the tick each one regrows
    num_regrow: np.ndarray  # (1,) int64 entries in use in the three arrays above


class Entities(NamedTuple):
    """Per-entity arrays, each of length ``max_entities`` (agents, then NPCs)."""

    row: np.ndarray  # int32
    col: np.ndarray  # int32
    alive: np.ndarray  # bool
    kind: np.ndarray  # int8 Kind (NONE for an empty NPC slot)
    team: np.ndarray  # int32 team id; -1 for NPCs
    health: np.ndarray  # int32 hit points, 0..HEALTH_MAX
    food: np.ndarray  # int32 0..FOOD_MAX
    water: np.ndarray  # int32 0..WATER_MAX
    level: np.ndarray  # (max_entities, NUM_SKILLS) int32 level per Skill (styles first)
    xp: np.ndarray  # (max_entities, NUM_SKILLS) int32 experience per Skill
    style: np.ndarray  # int8 main style: last used (agents) or fixed (NPCs)
    last_attacker: np.ndarray  # int32 entity that last hit this one, -1 none
    killer: np.ndarray  # int32 entity whose hit took health to 0 this tick, -1 none
    combat_tick: np.ndarray  # int32 last tick this entity attacked or was hit, COMBAT_NEVER none
    message: np.ndarray  # int32 comm token sent this tick, 0 none
    time_alive: np.ndarray  # int32 ticks since spawn
    freeze: np.ndarray  # int32 ticks left unable to move or attack
    act_move: np.ndarray  # int8 this tick's Move
    act_style: np.ndarray  # int8 this tick's attack Style
    act_target: np.ndarray  # int32 this tick's attack target entity, -1 none
    gold: np.ndarray  # int32 (agents; NPC gold is their level, paid at death)
    gear_attack: np.ndarray  # (max_entities, 3) int32 attack of equipped items per Style
    gear_defense: np.ndarray  # int32 defense of equipped armor
    ammo_slot: np.ndarray  # int32 inventory slot of the equipped ammunition, -1 none
    leader: np.ndarray  # bool the agent leads its team (set by team games)
    goal_row: np.ndarray  # int32 tile an NPC walks to when it has no target, -1 none
    goal_col: np.ndarray  # int32


class Inventory(NamedTuple):
    """Items, struct-of-arrays: each array is ``(num_agents, INVENTORY_SLOTS)``; the owner is the
    row and the slot the column. An empty slot has ``item == Item.NONE`` and zeros elsewhere."""

    item: np.ndarray  # int8 Item
    level: np.ndarray  # int8 1..MAX_LEVEL
    quantity: np.ndarray  # int32 (> 1 only for stackable items)
    equipped: np.ndarray  # bool
    price: np.ndarray  # int32 listed price, 0 when not on the market
    listed_tick: np.ndarray  # int32 tick the listing was posted


class Market(NamedTuple):
    """The market view every agent sees, recomputed at the end of each tick: per item type and
    level (``key = (item - 1) * MAX_LEVEL + level - 1``), the lowest listed price and the
    number of listings. Neural MMO 2.1 copies all 384 listings to every agent instead."""

    best_price: np.ndarray  # (NUM_ITEM_TYPES * MAX_LEVEL,) int32, 0 when nothing is listed
    supply: np.ndarray  # (NUM_ITEM_TYPES * MAX_LEVEL,) int32 listings

class Events(NamedTuple):
    """This tick's event log and the episode's per-entity counts.

    ``log[k] = (Event, actor, target, value, item)`` for ``k < num_log``; cleared every tick
    (``item`` is ``item * ITEM_CODE_STRIDE + level``, 0 for none; see :class:`~metammo.constants.Event`).
    ``counts[e, Event]`` counts an entity's events over the episode and ``amounts[e, Event]``
    sums their ``value`` column (gold earned and spent, damage dealt, ...).
    """

    log: np.ndarray  # (capacity, 5) int32
    num_log: np.ndarray  # (1,) int64
    counts: np.ndarray  # (max_entities, NUM_EVENTS) int32
    amounts: np.ndarray  # (max_entities, NUM_EVENTS) int64


@dataclass
class State:
    """Everything that changes during an episode. ``rng`` seeds the kernels' random stream."""

    tiles: Tiles
    entities: Entities
    inventory: Inventory
    market: Market
    events: Events
    rng: np.ndarray  # (1,) uint64 state of the kernels' splitmix64 stream
    tick: int = 0

    def groups(self) -> tuple:
        """The array groups, in a fixed order."""
        return self.tiles, self.entities, self.inventory, self.market, self.events

    def clear(self) -> None:
        """Refill every array with 0, entity arrays with their :data:`INITIAL` value; tick 0."""
        for group in self.groups():
            initial = INITIAL if group is self.entities else {}
            for name, arr in zip(group._fields, group):
                arr.fill(initial.get(name, 0))
        self.rng[0] = 0
        self.tick = 0

    def hash(self) -> str:
        """A hex digest of every array and the tick: equal states give equal hashes."""
        h = hashlib.blake2b(digest_size=16)
        h.update(np.int64(self.tick).tobytes())
        h.update(self.rng.tobytes())
        for group in self.groups():
            for arr in group:
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


#: Initial value of the :class:`Entities` arrays that do not start at 0.
INITIAL = {
    "team": -1, "level": 1, "last_attacker": -1, "killer": -1, "combat_tick": COMBAT_NEVER,
    "act_target": -1, "ammo_slot": -1, "goal_row": -1, "goal_col": -1,
}

#: Event log capacity per entity per tick: an entity hits, is hit, eats, drinks, harvests,
#: trades ... a few times per tick; a death hands up to INVENTORY_SLOTS items to the killer.
#: Events beyond the capacity are still counted in ``Events.counts`` and ``amounts``.
EVENTS_PER_ENTITY = 16


def allocate(shape: Shape) -> State:
    """Preallocate a cleared :class:`State` for ``shape``; memory is O(grid_size^2 + entities)."""
    g, e = shape.grid_size, shape.max_entities
    tiles = Tiles(
        material=np.empty((g, g), np.uint8),
        agents=np.empty((g, g), np.int16),
        npcs=np.empty((g, g), np.int16),
        regrow_row=np.empty(g * g, np.int32),
        regrow_col=np.empty(g * g, np.int32),
        regrow_tick=np.empty(g * g, np.int32),
        num_regrow=np.empty(1, np.int64),
    )
    entities = Entities(
        row=np.empty(e, np.int32),
        col=np.empty(e, np.int32),
        alive=np.empty(e, np.bool_),
        kind=np.empty(e, np.int8),
        team=np.empty(e, np.int32),
        health=np.empty(e, np.int32),
        food=np.empty(e, np.int32),
        water=np.empty(e, np.int32),
        level=np.empty((e, NUM_SKILLS), np.int32),
        xp=np.empty((e, NUM_SKILLS), np.int32),
        style=np.empty(e, np.int8),
        last_attacker=np.empty(e, np.int32),
        killer=np.empty(e, np.int32),
        combat_tick=np.empty(e, np.int32),
        message=np.empty(e, np.int32),
        time_alive=np.empty(e, np.int32),
        freeze=np.empty(e, np.int32),
        act_move=np.empty(e, np.int8),
        act_style=np.empty(e, np.int8),
        act_target=np.empty(e, np.int32),
        gold=np.empty(e, np.int32),
        gear_attack=np.empty((e, NUM_STYLES), np.int32),
        gear_defense=np.empty(e, np.int32),
        ammo_slot=np.empty(e, np.int32),
        leader=np.empty(e, np.bool_),
        goal_row=np.empty(e, np.int32),
        goal_col=np.empty(e, np.int32),
    )
    a, k = (shape.num_agents, INVENTORY_SLOTS), NUM_ITEM_TYPES * MAX_LEVEL
    inventory = Inventory(
        item=np.empty(a, np.int8),
        level=np.empty(a, np.int8),
        quantity=np.empty(a, np.int32),
        equipped=np.empty(a, np.bool_),
        price=np.empty(a, np.int32),
        listed_tick=np.empty(a, np.int32),
    )
    market = Market(best_price=np.empty(k, np.int32), supply=np.empty(k, np.int32))
    events = Events(
        log=np.empty((e * EVENTS_PER_ENTITY, 5), np.int32),
        num_log=np.empty(1, np.int64),
        counts=np.empty((e, NUM_EVENTS), np.int32),
        amounts=np.empty((e, NUM_EVENTS), np.int64),
    )
    state = State(tiles, entities, inventory, market, events, np.zeros(1, np.uint64))
    state.clear()
    return state


def playable_bounds(cfg: Config) -> tuple[int, int]:
    """``(lo, hi)``: playable rows and columns are ``lo <= x < hi`` for this episode's map.

    The playable square is centred in the allocated grid, so a smaller per-episode map keeps
    the same centre tile.
    """
    lo = (cfg.shape.grid_size - cfg.tunables.map_size) // 2
    return lo, lo + cfg.tunables.map_size
