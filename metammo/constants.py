"""Enumerations and balance tables of the engine.

Every number a system uses lives here, in an array indexed by an ``IntEnum`` or as a named
constant, with the row's source in a comment. Sources: ``rules.md`` §1 (Neural MMO 2.1
defaults). Deviations from the reference are marked ``DEVIATION`` with the reason.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Material(IntEnum):
    """Tile materials (rules.md §1, "Materials"). Values are the codes stored in tile arrays."""

    VOID = 0
    WATER = 1
    GRASS = 2
    SCRUB = 3
    FOLIAGE = 4
    STONE = 5
    SLAG = 6
    ORE = 7
    STUMP = 8
    TREE = 9
    FRAGMENT = 10
    CRYSTAL = 11
    WEEDS = 12
    HERB = 13
    OCEAN = 14
    FISH = 15


NUM_MATERIALS = len(Material)

#: PASSABLE[m] is True when an entity may stand on material m (rules.md §1: impassable are
#: void, water, stone, ocean, fish).
PASSABLE = np.ones(NUM_MATERIALS, dtype=np.bool_)
PASSABLE[[Material.VOID, Material.WATER, Material.STONE, Material.OCEAN, Material.FISH]] = False

#: DEPLETED[m] is the material m turns into when harvested; m itself when it does not deplete.
DEPLETED = np.arange(NUM_MATERIALS, dtype=np.uint8)
#: RESTORED[m] is the material a depleted tile m regrows into; m itself when m is not depleted.
RESTORED = np.arange(NUM_MATERIALS, dtype=np.uint8)
#: REGROW_P[m] is the per-tick probability that depleted material m regrows (rules.md §1 and
#: the professions table).
REGROW_P = np.zeros(NUM_MATERIALS, dtype=np.float64)
for _full, _empty, _p in (
    (Material.FOLIAGE, Material.SCRUB, 0.025),  # food source
    (Material.ORE, Material.SLAG, 0.10),  # prospecting
    (Material.TREE, Material.STUMP, 0.105),  # carving
    (Material.CRYSTAL, Material.FRAGMENT, 0.10),  # alchemy
    (Material.HERB, Material.WEEDS, 0.02),  # herbalism
    (Material.FISH, Material.OCEAN, 0.02),  # fishing
):
    DEPLETED[_full] = _empty
    RESTORED[_empty] = _full
    REGROW_P[_empty] = _p


class Style(IntEnum):
    """Combat styles (rules.md §1, "Combat")."""

    MELEE = 0
    RANGE = 1
    MAGE = 2


NUM_STYLES = len(Style)

#: COUNTERS[a] is the style that style a counters: mage > melee > range > mage.
COUNTERS = np.array([Style.RANGE, Style.MAGE, Style.MELEE], dtype=np.int64)


class Skill(IntEnum):
    """Skills with a level and XP: the three combat styles (same values as :class:`Style`), then
    the five professions (rules.md §1 "Professions")."""

    MELEE = 0
    RANGE = 1
    MAGE = 2
    FISHING = 3
    HERBALISM = 4
    PROSPECTING = 5
    CARVING = 6
    ALCHEMY = 7


NUM_SKILLS = len(Skill)
#: Item requirement meaning "the highest combat style level" (Neural MMO's attack level).
COMBAT_LEVEL = -1


class Kind(IntEnum):
    """Entity kinds. NPC kinds follow danger (rules.md §1, "NPCs")."""

    NONE = 0  # empty slot (used in observations only)
    AGENT = 1
    PASSIVE = 2  # wanders
    NEUTRAL = 3  # fights back when attacked
    HOSTILE = 4  # chases the nearest visible agent


class Move(IntEnum):
    """Move head choices. 0 is the no-op so that an all-masked head still has a valid choice."""

    STAY = 0
    NORTH = 1
    SOUTH = 2
    EAST = 3
    WEST = 4


NUM_MOVES = len(Move)
#: MOVE_DELTA[m] = (d_row, d_col) of move m; north is up (row - 1).
MOVE_DELTA = np.array([[0, 0], [-1, 0], [1, 0], [0, 1], [0, -1]], dtype=np.int64)


class Event(IntEnum):
    """Event types logged per tick and counted per entity (rules.md §1 "Tasks", events counted
    per agent). ``value`` and ``item`` columns of the log are described per row; ``item`` is
    :func:`item_code` of the item involved, 0 for none."""

    EAT = 0  # stood on foliage and refilled food
    DRINK = 1  # was next to water and refilled water
    SCORE_HIT = 2  # landed an attack (target: victim; value: damage)
    DAMAGED = 3  # was hit (target: attacker; value: damage)
    PLAYER_KILL = 4  # killed an agent (target: victim)
    NPC_KILL = 5  # killed an NPC (target: victim)
    DEATH = 6  # died, any cause (target: killer or -1)
    FOG_DAMAGE = 7  # took death-fog damage (value: damage)
    STARVE = 8  # took damage from empty food or water (value: damage)
    LEVEL_UP = 9  # a skill gained a level (target: Skill; value: new level)
    MOVE = 10  # moved to another tile
    MESSAGE = 11  # sent a communication token (value: token)
    # full config (rules.md §1 "Full-config systems")
    HARVEST = 12  # a profession harvested an item (value: quantity; item)
    EQUIP = 13  # equipped an item (item)
    UNEQUIP = 14  # took an equipped item off (item)
    CONSUME = 15  # ate a ration or drank a potion (item)
    FIRE_AMMO = 16  # an attack used one ammunition (value: 1; item)
    DESTROY = 17  # items left the world: the destroy action, inventory overflow, or the
    #               belongings of an agent that died without an agent killer (value: quantity; item)
    LOOT = 18  # received a dead entity's item (target: the dead; value: quantity; item)
    GIVE = 19  # gave an item (target: receiver; value: quantity; item)
    RECEIVE = 20  # received a gift (target: giver; value: quantity, or gold amount with item 0)
    GIVE_GOLD = 21  # gave gold (target: receiver; value: amount)
    LIST = 22  # put an item on the market (value: price; item)
    BUY = 23  # bought a listing (target: seller; value: price; item)
    SELL = 24  # a listing was bought (target: buyer; value: price; item)
    EARN_GOLD = 25  # gold from a sale, an NPC kill or a killed agent (target: source; value)
    SPEND_GOLD = 26  # gold paid for a purchase (target: seller; value)
    REJECTED = 27  # an item or market action was refused, a no-op (value: Rejection)


class Rejection(IntEnum):
    """Why an item or market action was a no-op (``Event.REJECTED`` value)."""

    EMPTY_SLOT = 0  # the inventory slot holds nothing
    IN_COMBAT = 1  # within COMBAT_TICKS of attacking or being hit (rules.md §1 "Combat")
    LEVEL_TOO_LOW = 2  # the item's level is above the required skill's level
    EQUIPPED = 3  # equipped items cannot be given, sold or destroyed
    LISTED = 4  # a listed item cannot be used, given or destroyed until it sells or expires
    NO_LISTING = 5  # no listing of that item type and level (gone or never there)
    UNAFFORDABLE = 6  # the best offer costs more gold than the agent has
    INVENTORY_FULL = 7  # no slot for the item
    BAD_PRICE = 8  # a sale price outside 1..99
    BAD_TARGET = 9  # the give target is empty, an NPC, dead, itself, or out of reach
    NOT_ENOUGH_GOLD = 10  # giving more gold than the agent has
NUM_EVENTS = len(Event)

# --- Resources (rules.md §1, "Resources") -------------------------------------------------
FOOD_MAX = 100
WATER_MAX = 100
HEALTH_MAX = 100
#: Health regained per tick while food and water are both above REGEN_THRESHOLD.
HEALTH_REGEN = 10
REGEN_THRESHOLD = 50

# --- Combat (rules.md §1, "Combat") ---------------------------------------------------------
BASE_OFFENSE = 10
OFFENSE_PER_LEVEL = 5
DEFENSE_PER_LEVEL = 5
COUNTER_MULTIPLIER = 1.5
MIN_DAMAGE_FRACTION = 0.25
XP_PER_ATTACK = 6
#: Ticks an agent stays "in combat" after attacking or being hit.
COMBAT_TICKS = 3
#: ``Entities.combat_tick`` of an entity that has never fought.
COMBAT_NEVER = -(10**6)
MAX_LEVEL = 10
#: XP_TO_LEVEL[l - 1] is the total XP needed for level l (rules.md §1, professions table;
#: Neural MMO uses the same curve for combat styles).
XP_TO_LEVEL = np.array([0, 90, 217, 373, 553, 754, 974, 1212, 1467, 1737], dtype=np.int64)

# --- NPCs (rules.md §1, "NPCs") --------------------------------------------------------------
NPC_HEALTH = 100
NPC_REGEN = 1
#: Danger thresholds: danger >= HOSTILE_DANGER is hostile, >= NEUTRAL_DANGER neutral.
HOSTILE_DANGER = 0.8
NEUTRAL_DANGER = 0.5
#: Fraction of the NPC target spawned per tick, so the population fills in ~10 ticks.
NPC_SPAWN_FRACTION = 0.1
#: Tries to find a free passable tile per NPC spawn before giving up for this tick.
NPC_SPAWN_TRIES = 8

# --- Communication (rules.md §1, "Observation and action": Comm(token of 127)) ---------------
#: Comm head size: 0 is "no message", 1..127 are tokens.
NUM_TOKENS = 128

# --- Items (rules.md §1 "Items") ----------------------------------------------------------------


class Item(IntEnum):
    """Item types. 0 marks an empty inventory slot."""

    NONE = 0
    HAT = 1
    TOP = 2
    BOTTOM = 3
    SPEAR = 4
    BOW = 5
    WAND = 6
    ROD = 7
    GLOVES = 8
    PICKAXE = 9
    AXE = 10
    CHISEL = 11
    WHETSTONE = 12
    ARROW = 13
    RUNES = 14
    RATION = 15
    POTION = 16


NUM_ITEMS = len(Item)
#: Item types that exist (``Item.NONE`` excluded): rows of the market view.
NUM_ITEM_TYPES = NUM_ITEMS - 1
#: Inventory slots per agent; an item that does not fit is destroyed (rules.md §1 "Items").
INVENTORY_SLOTS = 12


class EquipSlot(IntEnum):
    """Equipment slots (rules.md §1): one item of each may be equipped at a time."""

    HAT = 0
    TOP = 1
    BOTTOM = 2
    HELD = 3  # a weapon or a tool
    AMMUNITION = 4


NUM_EQUIP_SLOTS = len(EquipSlot)
#: Sentinel for "not equippable" (consumables) in :data:`EQUIP_SLOT`.
NO_SLOT = -1


def _item_table(dtype, default, rows):
    table = np.full(NUM_ITEMS, default, dtype=dtype)
    for item, value in rows.items():
        table[item] = value
    return table


_I = Item
#: EQUIP_SLOT[item]: the equipment slot the item goes in, NO_SLOT for consumables.
EQUIP_SLOT = _item_table(np.int64, NO_SLOT, {
    _I.HAT: EquipSlot.HAT, _I.TOP: EquipSlot.TOP, _I.BOTTOM: EquipSlot.BOTTOM,
    **{t: EquipSlot.HELD for t in (_I.SPEAR, _I.BOW, _I.WAND, _I.ROD, _I.GLOVES, _I.PICKAXE, _I.AXE, _I.CHISEL)},
    **{t: EquipSlot.AMMUNITION for t in (_I.WHETSTONE, _I.ARROW, _I.RUNES)},
})
#: REQUIRED_SKILL[item]: the skill whose level must be >= the item's level to equip or use it;
#: COMBAT_LEVEL (the highest combat style level) for armor and consumables (Neural MMO 2.1).
REQUIRED_SKILL = _item_table(np.int64, COMBAT_LEVEL, {
    _I.SPEAR: Skill.MELEE, _I.BOW: Skill.RANGE, _I.WAND: Skill.MAGE,
    _I.ROD: Skill.FISHING, _I.GLOVES: Skill.HERBALISM, _I.PICKAXE: Skill.PROSPECTING,
    _I.AXE: Skill.CARVING, _I.CHISEL: Skill.ALCHEMY,
    _I.WHETSTONE: Skill.MELEE, _I.ARROW: Skill.RANGE, _I.RUNES: Skill.MAGE,
})
#: ATTACK_STYLE[item]: the combat style a weapon or ammunition strengthens, -1 for none.
ATTACK_STYLE = _item_table(np.int64, -1, {
    _I.SPEAR: Style.MELEE, _I.BOW: Style.RANGE, _I.WAND: Style.MAGE,
    _I.WHETSTONE: Style.MELEE, _I.ARROW: Style.RANGE, _I.RUNES: Style.MAGE,
})
#: Attack of an equipped item = ATTACK_BASE + ATTACK_PER_LEVEL * level, for its style only
#: (rules.md §1: weapon 5 + 5 * level, ammunition 5 + 10 * level).
ATTACK_BASE = _item_table(np.int64, 0, {t: 5 for t in (_I.SPEAR, _I.BOW, _I.WAND, _I.WHETSTONE, _I.ARROW, _I.RUNES)})
ATTACK_PER_LEVEL = _item_table(np.int64, 0, {
    **{t: 5 for t in (_I.SPEAR, _I.BOW, _I.WAND)}, **{t: 10 for t in (_I.WHETSTONE, _I.ARROW, _I.RUNES)},
})
#: Defense of an equipped item = DEFENSE_PER_ITEM_LEVEL * level (armor: 3 per level, rules.md §1).
DEFENSE_PER_ITEM_LEVEL = _item_table(np.int64, 0, {_I.HAT: 3, _I.TOP: 3, _I.BOTTOM: 3})
#: STACKABLE[item]: same type and level share one slot, counted by quantity (ammunition).
STACKABLE = _item_table(np.bool_, False, {_I.WHETSTONE: True, _I.ARROW: True, _I.RUNES: True})
#: Consumables restore CONSUME_BASE + CONSUME_PER_LEVEL * level (rules.md §1): a ration food
#: and water, a potion health.
CONSUME_BASE = 50
CONSUME_PER_LEVEL = 5

#: Harvest, per Material (rules.md §1 "Professions"): HARVEST_SKILL[m] is the profession
#: (-1: nothing to harvest), HARVEST_ITEM[m] what it gives, HARVEST_BONUS[m] the weapon it gives
#: with probability HARVEST_BONUS_P, HARVEST_XP[m] the XP. Fish is harvested from a 4-adjacent
#: tile, the rest by standing on them.
HARVEST_SKILL = np.full(NUM_MATERIALS, -1, np.int64)
HARVEST_ITEM = np.zeros(NUM_MATERIALS, np.int64)
HARVEST_BONUS = np.zeros(NUM_MATERIALS, np.int64)
HARVEST_XP = np.zeros(NUM_MATERIALS, np.int64)
for _m, _skill, _item, _bonus, _xp in (
    (Material.FISH, Skill.FISHING, _I.RATION, _I.NONE, 30),
    (Material.HERB, Skill.HERBALISM, _I.POTION, _I.NONE, 30),
    (Material.ORE, Skill.PROSPECTING, _I.WHETSTONE, _I.WAND, 15),
    (Material.TREE, Skill.CARVING, _I.ARROW, _I.SPEAR, 15),
    (Material.CRYSTAL, Skill.ALCHEMY, _I.RUNES, _I.BOW, 15),
):
    HARVEST_SKILL[_m], HARVEST_ITEM[_m], HARVEST_BONUS[_m], HARVEST_XP[_m] = _skill, _item, _bonus, _xp
HARVEST_BONUS_P = 0.025
#: Ammunition per harvest. DEVIATION: the reference gives one; one arrow per ~10 ticks of
#: regrowth cannot keep up with one attack per tick, so a harvest gives a bundle.
HARVEST_AMMO = 5
#: TOOL[skill]: the held tool that raises a profession's harvest level to 1 + tool level.
TOOL = np.zeros(NUM_SKILLS, np.int64)
TOOL[[Skill.FISHING, Skill.HERBALISM, Skill.PROSPECTING, Skill.CARVING, Skill.ALCHEMY]] = [
    _I.ROD, _I.GLOVES, _I.PICKAXE, _I.AXE, _I.CHISEL,
]

#: NPC loot (rules.md §1 "NPCs": drop items at their level): an NPC killed by an agent gives
#: the killer one item drawn with these weights, at the NPC's level, and gold equal to its
#: level. DEVIATION: the reference's NPCs carry equipment that drops; here loot is drawn at
#: death, and NPCs fight without equipment.
LOOT_WEIGHT = _item_table(np.float64, 0.0, {
    _I.HAT: 1, _I.TOP: 1, _I.BOTTOM: 1, _I.SPEAR: 1, _I.BOW: 1, _I.WAND: 1,
    _I.ROD: 0.5, _I.GLOVES: 0.5, _I.PICKAXE: 0.5, _I.AXE: 0.5, _I.CHISEL: 0.5,
    _I.RATION: 1, _I.POTION: 1,
})
LOOT_CDF = np.cumsum(LOOT_WEIGHT) / LOOT_WEIGHT.sum()

# --- Gold and market (rules.md §1 "Gold and market") --------------------------------------------
STARTING_GOLD = 1
MIN_PRICE = 1
MAX_PRICE = 99
#: A listing posted at tick t can be bought at ticks t + 1 .. t + LISTING_TICKS.
LISTING_TICKS = 3
#: Give and give-gold reach agents within this Chebyshev distance.
GIVE_REACH = 7
#: Largest amount of one give-gold action (the head's size is this + 1).
MAX_GIVE_GOLD = 99

#: The event log's ``item`` column holds ``item * ITEM_CODE_STRIDE + level`` (0: no item).
ITEM_CODE_STRIDE = 16
