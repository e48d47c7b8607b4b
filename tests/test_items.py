"""The full config's systems, one rule per test on tiny ASCII worlds (see helpers.py): items
(equip, consume, level requirements, equipment in combat, ammunition), professions (harvest),
give and give-gold, destroy, the market, loot; then the action masks against the systems, and
conservation of gold and items over random rollouts.

Numbers are the ones of rules.md §1 "Full-config systems", ``metammo/constants.py`` and the
systems' module docstrings (items.py, professions.py, market.py).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import make_world

import metammo
from metammo.actions import Head
from metammo.constants import (
    ATTACK_STYLE,
    CONSUME_BASE,
    CONSUME_PER_LEVEL,
    EQUIP_SLOT,
    GIVE_REACH,
    HARVEST_AMMO,
    INVENTORY_SLOTS,
    ITEM_CODE_STRIDE,
    LISTING_TICKS,
    LOOT_WEIGHT,
    MAX_LEVEL,
    NUM_EQUIP_SLOTS,
    NUM_ITEMS,
    STACKABLE,
    STARTING_GOLD,
    EquipSlot,
    Event,
    Item,
    Material,
    Move,
    Rejection,
    Skill,
    Style,
)
from metammo.observation import InventoryFeature as IF
from metammo.observation import MarketFeature as MF
from metammo.observation import ProfileFeature as PF
from metammo.policy import RandomPolicy
from metammo.systems.items import gear
from metammo.systems.market import market_key

MELEE, RANGE, MAGE = Style.MELEE, Style.RANGE, Style.MAGE
OLD = 100  # time_alive past spawn immunity
#: Resources that never change food, water or health, so item effects are exact.
STILL = dict(health_regen=0, starvation_damage=0, food_depletion=0, water_depletion=0)
REJ = Event.REJECTED


def full(drawing: str, **kw):
    """A full-config world (items, professions, gold, market)."""
    return make_world(drawing, config="full", **kw)


def code(item: int, level: int) -> int:
    """The event log's item column for ``item`` at ``level``."""
    return int(item) * ITEM_CODE_STRIDE + level


def rejections(w, who=None) -> list[int]:
    """Rejection reasons logged this tick (for agent ``who``, or all)."""
    return [e[3] for e in w.log(REJ) if who is None or e[1] == w.slot(who)]


def snapshot(w, *who) -> list:
    """Inventories and gold of agents ``who``, to check that an action was a no-op."""
    inv = w.state.inventory
    return [(w.slot(x), int(w.ent.gold[w.slot(x)]), *(getattr(inv, f)[w.slot(x)].tolist() for f in inv._fields))
            for x in who]


# --- inventory ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["reset", "make_world"])
def test_empty_inventory_slots_are_all_zero_after_reset(how):
    """state.Inventory: an empty slot has item NONE "and zeros elsewhere"; the observation's
    inventory rows of empty slots are all 0."""
    if how == "reset":
        env = metammo.make("sandbox", "full", 0, num_agents=4, max_npcs=4, npc_count=0, max_map_size=32,
                           map_size=32)
        env.reset()
        inv, obs = env.state.inventory, env.layout.view(env.observations, "inventory")
    else:
        w = full("A .")
        inv, obs = w.state.inventory, w.view("inventory")
    assert not inv.item.any()
    assert not inv.level.any(), "empty slots have level 1: State.clear fills INITIAL['level'] into Inventory.level too"
    assert not obs.any()


# --- use: equip, unequip, consume ------------------------------------------------------------


def test_use_equips_and_replaces_the_item_in_the_same_slot():
    w = full("A .", **STILL)
    inv = w.state.inventory
    w.put_item("A", 0, Item.HAT, 1)
    w.put_item("A", 1, Item.HAT, 1)
    w.put_item("A", 2, Item.TOP, 1)
    w.put_item("A", 3, Item.SPEAR, 1)
    w.put_item("A", 4, Item.ROD, 1)
    w.refresh()
    w.step({"A": {"use": 0}})
    assert inv.equipped[0].tolist()[:5] == [True, False, False, False, False]
    assert w.log(Event.EQUIP, items=True) == [(Event.EQUIP, 0, -1, 0, code(Item.HAT, 1))]
    w.step({"A": {"use": 2}})  # a top goes in another equipment slot: both stay on
    assert inv.equipped[0].tolist()[:5] == [True, False, True, False, False]
    assert not w.log(Event.UNEQUIP)
    w.step({"A": {"use": 1}})  # a second hat replaces the first
    assert inv.equipped[0].tolist()[:5] == [False, True, True, False, False]
    assert w.log(Event.UNEQUIP, items=True) == [(Event.UNEQUIP, 0, -1, 0, code(Item.HAT, 1))]
    w.step({"A": {"use": 3}})
    w.step({"A": {"use": 4}})  # weapon and tool share the held slot
    assert inv.equipped[0].tolist()[:5] == [False, True, True, False, True]
    assert w.log(Event.UNEQUIP, items=True) == [(Event.UNEQUIP, 0, -1, 0, code(Item.SPEAR, 1))]
    assert w.slot_items("A")[:5] == [(Item.HAT, 1, 1), (Item.HAT, 1, 1), (Item.TOP, 1, 1),
                                     (Item.SPEAR, 1, 1), (Item.ROD, 1, 1)]


def test_use_on_an_equipped_item_unequips_it():
    w = full("A .", **STILL)
    w.put_item("A", 5, Item.BOW, 1, equipped=True)
    w.refresh()
    assert w.view("inventory", "A")[5, IF.EQUIPPED] == 1
    w.step({"A": {"use": 5}})
    assert not w.state.inventory.equipped[0, 5]
    assert w.slot_items("A")[5] == (Item.BOW, 1, 1)
    assert w.log(Event.UNEQUIP, items=True) == [(Event.UNEQUIP, 0, -1, 0, code(Item.BOW, 1))]
    assert w.view("inventory", "A")[5, IF.EQUIPPED] == 0
    assert w.view("profile", "A")[PF.ATTACK_RANGE] == 0


@pytest.mark.parametrize("level, food, water, expected", [(2, 30, 80, (90, 100)), (1, 100, 0, (100, 55))])
def test_a_ration_restores_food_and_water_by_50_plus_5_per_level_capped(level, food, water, expected):
    w = full("A .", **STILL)
    w.ent.level[0, MAGE] = level  # consumables need the highest combat level
    w.ent.food[0], w.ent.water[0] = food, water
    w.put_item("A", 3, Item.RATION, level)
    w.refresh()
    assert (CONSUME_BASE, CONSUME_PER_LEVEL) == (50, 5)
    w.step({"A": {"use": 3}})
    assert (w.ent.food[0], w.ent.water[0]) == expected
    assert w.slot_items("A")[3] == (Item.NONE, 0, 0)
    assert w.log(Event.CONSUME, items=True) == [(Event.CONSUME, 0, -1, 1, code(Item.RATION, level))]


@pytest.mark.parametrize("level, health, expected", [(3, 20, 85), (1, 90, 100)])
def test_a_potion_restores_health_by_50_plus_5_per_level_capped(level, health, expected):
    w = full("A .", **STILL)
    w.ent.level[0, MELEE] = level
    w.ent.health[0] = health
    w.ent.food[0] = w.ent.water[0] = 10
    w.put_item("A", 0, Item.POTION, level)
    w.refresh()
    w.step({"A": {"use": 0}})
    assert w.health("A") == expected
    assert (w.ent.food[0], w.ent.water[0]) == (10, 10)
    assert w.slot_items("A")[0] == (Item.NONE, 0, 0)
    assert w.log(Event.CONSUME, items=True) == [(Event.CONSUME, 0, -1, 1, code(Item.POTION, level))]


@pytest.mark.parametrize(
    "item, level, skills, ok",
    [
        (Item.HAT, 2, {}, False),
        (Item.HAT, 2, {Skill.RANGE: 2}, True),  # armor: the highest combat level
        (Item.TOP, 3, {Skill.FISHING: 9}, False),  # professions do not count for armor
        (Item.SPEAR, 2, {Skill.MAGE: 9}, False),  # weapons: their own style
        (Item.SPEAR, 2, {Skill.MELEE: 2}, True),
        (Item.WAND, 3, {Skill.MAGE: 3}, True),
        (Item.ARROW, 2, {Skill.MELEE: 9}, False),  # ammunition: its style
        (Item.ARROW, 2, {Skill.RANGE: 2}, True),
        (Item.ROD, 3, {Skill.MELEE: 9}, False),  # tools: their profession
        (Item.ROD, 3, {Skill.FISHING: 3}, True),
        (Item.CHISEL, 2, {Skill.PROSPECTING: 2}, False),
        (Item.CHISEL, 2, {Skill.ALCHEMY: 2}, True),
        (Item.RATION, 2, {Skill.HERBALISM: 5}, False),  # consumables: the highest combat level
        (Item.POTION, 2, {Skill.MAGE: 2}, True),
    ],
)
def test_level_requirement(item, level, skills, ok):
    w = full("A .", **STILL)
    for skill, lv in skills.items():
        w.ent.level[0, skill] = lv
    w.put_item("A", 0, item, level)
    w.refresh()
    assert w.view("inventory", "A")[0, IF.USABLE] == ok
    assert w.view("mask_use", "A")[1] == ok
    w.step({"A": {"use": 0}})
    if ok:
        assert not rejections(w)
        assert w.log(Event.EQUIP) or w.log(Event.CONSUME)
    else:
        assert rejections(w, "A") == [Rejection.LEVEL_TOO_LOW]
        assert w.slot_items("A")[0] == (item, level, 1) and not w.state.inventory.equipped[0, 0]


@pytest.mark.parametrize("case, reason", [("empty", Rejection.EMPTY_SLOT), ("listed", Rejection.LISTED),
                                          ("combat", Rejection.IN_COMBAT)])
def test_use_rejections_are_no_ops(case, reason):
    w = full("A .", **STILL)
    w.ent.food[0] = 10
    if case != "empty":
        w.put_item("A", 0, Item.RATION, 1, price=5 if case == "listed" else 0)
    if case == "combat":
        w.ent.combat_tick[0] = 0  # hit at tick 0: in combat through tick 2
    w.refresh()
    assert w.view("mask_use", "A")[1] == 0
    before = snapshot(w, "A")
    w.step({"A": {"use": 0}})
    assert rejections(w, "A") == [reason]
    assert snapshot(w, "A") == before and w.ent.food[0] == 10


def test_in_combat_lasts_3_ticks_after_an_attack():
    w = full("A B", age=OLD, **STILL)
    w.put_item("A", 0, Item.HAT, 1)
    w.refresh()
    w.step({"A": {"target": "B"}})  # tick 1
    for tick in (2, 3):
        assert w.view("mask_use", "A")[1] == 0
        w.step({"A": {"use": 0}})
        assert w.state.tick == tick and rejections(w, "A") == [Rejection.IN_COMBAT]
    assert w.view("mask_use", "A")[1] == 1
    w.step({"A": {"use": 0}})  # tick 4
    assert w.state.inventory.equipped[0, 0] and not rejections(w)


# --- equipment in combat -----------------------------------------------------------------


@pytest.mark.parametrize(
    "attacker, defender, style, expected",
    [
        ([], [], MELEE, 10),  # 15 - 5
        ([(Item.SPEAR, 2)], [], MELEE, 25),  # weapon 5 + 5 * 2
        ([(Item.SPEAR, 2)], [], RANGE, 10),  # a weapon helps its own style only
        ([(Item.BOW, 1)], [], RANGE, 20),
        ([(Item.SPEAR, 2), (Item.WHETSTONE, 1)], [], MELEE, 40),  # ammunition 5 + 10 * 1
        ([(Item.ARROW, 2)], [], RANGE, 35),  # 15 + 25 - 5
        ([(Item.ARROW, 2)], [], MELEE, 10),  # ammunition of another style: no effect
        ([(Item.WAND, 1), (Item.RUNES, 1)], [], MAGE, 55),  # 1.5 * 40 - 5: mage counters melee
        ([], [(Item.HAT, 1)], MELEE, 7),  # armor 3 * level
        ([(Item.SPEAR, 4)], [(Item.HAT, 2), (Item.TOP, 1), (Item.BOTTOM, 3)], MELEE, 17),  # 40 - 23
        ([], [(Item.SPEAR, 9)], MELEE, 10),  # a weapon is no armor
    ],
)
def test_equipment_changes_damage(attacker, defender, style, expected):
    w = full("A B", age=OLD, **STILL)
    for who, items in (("A", attacker), ("B", defender)):
        for s, (item, level) in enumerate(items):
            w.put_item(who, s, item, level, quantity=5 if STACKABLE[item] else 1, equipped=True)
    w.refresh()
    w.step({"A": {"target": "B", "style": style}})
    assert w.log(Event.SCORE_HIT) == [(Event.SCORE_HIT, 0, 1, expected)]
    assert w.health("B") == 100 - expected
    fired = [code(it, lv) for it, lv in attacker
             if EQUIP_SLOT[it] == EquipSlot.AMMUNITION and ATTACK_STYLE[it] == style]
    assert [e[4] for e in w.log(Event.FIRE_AMMO, items=True)] == fired
    gear_attack = sum(5 + (5 if EQUIP_SLOT[it] == EquipSlot.HELD else 10) * lv
                      for it, lv in attacker if ATTACK_STYLE[it] == style)
    assert w.view("profile", "A")[PF.ATTACK_MELEE + style] == gear_attack
    armor = sum(3 * lv for it, lv in defender if it in (Item.HAT, Item.TOP, Item.BOTTOM))
    assert w.view("profile", "B")[PF.DEFENSE] == armor


def test_each_attack_with_matching_ammunition_fires_one_and_the_slot_empties_at_0():
    w = full("A B", age=OLD, **STILL)
    w.put_item("A", 2, Item.WHETSTONE, 1, quantity=2, equipped=True)
    w.refresh()
    w.step({"A": {"target": "B", "style": RANGE}})  # another style: nothing fired
    assert w.health("B") == 90 and not w.log(Event.FIRE_AMMO)
    assert w.slot_items("A")[2] == (Item.WHETSTONE, 1, 2)
    for quantity in (1, 0):
        hp = w.health("B")
        w.step({"A": {"target": "B", "style": MELEE}})
        assert w.health("B") == hp - 25  # 10 + 5 + 15 - 5
        assert w.log(Event.FIRE_AMMO, items=True) == [(Event.FIRE_AMMO, 0, -1, 1, code(Item.WHETSTONE, 1))]
        assert w.state.inventory.quantity[0, 2] == quantity
    inv = w.state.inventory
    assert (inv.item[0, 2], inv.level[0, 2], inv.quantity[0, 2], inv.equipped[0, 2]) == (0, 0, 0, False)
    assert w.ent.gear_attack[0, MELEE] == 0 and w.view("profile", "A")[PF.ATTACK_MELEE] == 0
    hp = w.health("B")
    w.step({"A": {"target": "B", "style": MELEE}})
    assert w.health("B") == hp - 10 and not w.log(Event.FIRE_AMMO)


# --- professions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "drawing, move, item, quantity, skill, xp, left",
    [
        ("A o", Move.EAST, Item.WHETSTONE, HARVEST_AMMO, Skill.PROSPECTING, 15, Material.SLAG),
        ("A t", Move.EAST, Item.ARROW, HARVEST_AMMO, Skill.CARVING, 15, Material.STUMP),
        ("A c", Move.EAST, Item.RUNES, HARVEST_AMMO, Skill.ALCHEMY, 15, Material.FRAGMENT),
        ("A %", Move.EAST, Item.POTION, 1, Skill.HERBALISM, 30, Material.WEEDS),
        ("A =", Move.STAY, Item.RATION, 1, Skill.FISHING, 30, Material.OCEAN),  # fish: adjacent
    ],
)
def test_harvest_gives_the_item_depletes_the_tile_and_gives_xp(drawing, move, item, quantity, skill, xp, left):
    w = full(drawing, **STILL)
    w.step({"A": {"move": move}})
    assert w.log(Event.HARVEST, items=True)[0] == (Event.HARVEST, 0, -1, quantity, code(item, 1))
    assert w.slot_items("A")[0] == (item, 1, quantity)
    assert w.tiles.material[w.at(0, 1)] == left
    assert w.ent.xp[0, skill] == xp and w.ent.xp[0].sum() == xp
    w.step()  # the depleted tile gives nothing
    assert not w.log(Event.HARVEST) and w.ent.xp[0, skill] == xp


def test_harvest_on_grass_gives_nothing_and_fish_must_be_4_adjacent():
    w = full("""
    = #
    # A
    """, **STILL)
    w.step(ticks=3)
    assert not w.log(Event.HARVEST) and not w.state.inventory.item[0].any()
    assert w.ent.xp[0].sum() == 0


def test_harvested_ammunition_stacks():
    w = full("A o o", **STILL)
    w.step({"A": {"move": Move.EAST}}, ticks=2)
    assert w.slot_items("A")[0] == (Item.WHETSTONE, 1, 2 * HARVEST_AMMO)
    assert w.ent.xp[0, Skill.PROSPECTING] == 30


@pytest.mark.parametrize(
    "tool, tool_level, equipped, expected",
    [
        (Item.PICKAXE, 3, True, 4),  # 1 + tool level
        (Item.PICKAXE, 9, True, 10),
        (Item.PICKAXE, 10, True, 10),  # capped at 10
        (Item.PICKAXE, 3, False, 1),  # carried, not held
        (Item.AXE, 3, True, 1),  # another profession's tool
    ],
)
def test_harvest_level_with_a_held_tool(tool, tool_level, equipped, expected):
    w = full("A o", **STILL)
    w.put_item("A", 0, tool, tool_level, equipped=equipped)
    w.refresh()
    w.step({"A": {"move": Move.EAST}})
    assert w.log(Event.HARVEST, items=True)[0] == (Event.HARVEST, 0, -1, HARVEST_AMMO, code(Item.WHETSTONE, expected))
    assert w.slot_items("A")[1] == (Item.WHETSTONE, expected, HARVEST_AMMO)


def test_harvest_xp_levels_up_the_profession():
    w = full("A %", **STILL)
    w.ent.xp[0, Skill.HERBALISM] = 60  # 90 for level 2
    w.refresh()
    w.step({"A": {"move": Move.EAST}})
    assert w.ent.level[0, Skill.HERBALISM] == 2
    assert w.log(Event.LEVEL_UP) == [(Event.LEVEL_UP, 0, Skill.HERBALISM, 2)]
    assert w.view("profile", "A")[PF.LEVEL_HERBALISM] == 2


def test_harvest_without_progression_gives_the_item_but_no_xp():
    w = full("A %", **STILL, progression=False)
    w.step({"A": {"move": Move.EAST}})
    assert w.log(Event.HARVEST) and not w.log(Event.LEVEL_UP)
    assert w.ent.xp[0, Skill.HERBALISM] == 0 and w.ent.level[0, Skill.HERBALISM] == 1


def test_harvest_into_a_full_inventory_is_destroyed():
    w = full("A t", **STILL)
    for s in range(INVENTORY_SLOTS):
        w.put_item("A", s, Item.HAT, 1)
    w.refresh()
    before = snapshot(w, "A")
    w.step({"A": {"move": Move.EAST}})
    c = code(Item.ARROW, 1)
    kinds = [e for e in w.log(items=True) if e[0] in (Event.HARVEST, Event.DESTROY)]
    assert kinds[:2] == [(Event.HARVEST, 0, -1, HARVEST_AMMO, c), (Event.DESTROY, 0, -1, HARVEST_AMMO, c)]
    assert snapshot(w, "A") == before
    assert w.ent.xp[0, Skill.CARVING] == 15  # the work still counts


@pytest.mark.parametrize("symbol", ["%", "="])
def test_harvest_bonus_never_gives_item_none(symbol):
    """Herb and fish have no bonus weapon (HARVEST_BONUS is Item.NONE): the 2.5% bonus draw must
    not log a HARVEST of item 0 nor write level and quantity into an empty slot."""
    w = full("A . .", **STILL)
    r, c = w.pos("A")
    inv = w.state.inventory
    target = (r, c) if symbol == "%" else (r, c + 1)
    harvested = []
    inv.level[0] = 0  # see test_empty_inventory_slots_are_all_zero_after_reset
    for _ in range(200):  # P(no bonus draw in 200) = 0.975**200 < 1%
        w.tiles.material[target] = Material.HERB if symbol == "%" else Material.FISH
        w.step()
        harvested += [e[4] // ITEM_CODE_STRIDE for e in w.log(Event.HARVEST, items=True)]
        empty = inv.item[0] == Item.NONE
        assert not inv.level[0][empty].any() and not inv.quantity[0][empty].any(), "an empty slot holds data"
        for s in range(INVENTORY_SLOTS):
            inv.item[0, s] = inv.level[0, s] = inv.quantity[0, s] = 0
    assert len(harvested) >= 200
    assert set(harvested) == {Item.POTION if symbol == "%" else Item.RATION}


def test_harvest_bonus_weapon_comes_about_2_5_percent_of_the_time():
    w = full("A .", **STILL)
    r, c = w.pos("A")
    inv = w.state.inventory
    bonus = 0
    for _ in range(400):
        w.tiles.material[r, c] = Material.CRYSTAL
        w.step()
        bonus += sum(e[4] == code(Item.BOW, 1) for e in w.log(Event.HARVEST, items=True))
        for s in range(INVENTORY_SLOTS):
            inv.item[0, s] = inv.level[0, s] = inv.quantity[0, s] = 0
    assert 2 <= bonus <= 25  # mean 10


# --- give and give-gold ------------------------------------------------------------------


def test_give_moves_an_item_and_gold_to_an_agent_within_reach():
    w = full("A . . . . . . B", **STILL)  # Chebyshev 7 = GIVE_REACH
    assert GIVE_REACH == 7
    w.put_item("A", 4, Item.WAND, 3)
    w.ent.gold[0] = 10
    w.refresh()
    w.step({"A": {"give_item": 4, "give_gold": 4, "give_to": "B"}})
    assert not rejections(w)
    assert w.slot_items("A")[4] == (0, 0, 0) and w.slot_items("B")[0] == (Item.WAND, 3, 1)
    assert (w.ent.gold[0], w.ent.gold[1]) == (6, STARTING_GOLD + 4)
    c = code(Item.WAND, 3)
    assert (Event.GIVE, 0, 1, 1, c) in w.log(items=True)
    assert (Event.RECEIVE, 1, 0, 1, c) in w.log(items=True)
    assert w.log(Event.GIVE_GOLD) == [(Event.GIVE_GOLD, 0, 1, 4)]


def test_given_ammunition_joins_the_receivers_stack():
    w = full("A B", **STILL)
    w.put_item("A", 0, Item.ARROW, 2, quantity=5)
    w.put_item("B", 3, Item.ARROW, 2, quantity=3, equipped=True)
    w.refresh()
    w.step({"A": {"give_item": 0, "give_to": "B"}})
    assert w.slot_items("B")[3] == (Item.ARROW, 2, 8) and w.state.inventory.item[1, 0] == 0
    assert w.slot_items("A")[0] == (0, 0, 0)


def test_give_gold_is_logged_as_give_gold_and_receive():
    w = full("A B", **STILL)
    w.ent.gold[0] = 10
    w.refresh()
    w.step({"A": {"give_gold": 4, "give_to": "B"}})
    assert (Event.GIVE_GOLD, 0, 1, 4) in w.log()
    assert (Event.RECEIVE, 1, 0, 4) in w.log()
    assert (Event.EARN_GOLD, 1, 0, 4) not in w.log()  # earning is sales and kills only


GIVE_CASES = {
    # case: (drawing, orders of A, reason)
    "equipped": ("A B", {"give_item": 0, "give_to": "B"}, Rejection.EQUIPPED),
    "listed": ("A B", {"give_item": 1, "give_to": "B"}, Rejection.LISTED),
    "empty slot": ("A B", {"give_item": 5, "give_to": "B"}, Rejection.EMPTY_SLOT),
    "in combat": ("A B", {"give_item": 2, "give_gold": 1, "give_to": "B"}, Rejection.IN_COMBAT),
    "out of reach": ("A . . . . . . . B", {"give_item": 2, "give_gold": 1, "give_to": "B"}, Rejection.BAD_TARGET),
    "dead": ("A B", {"give_item": 2, "give_gold": 1, "give_target_row": 1}, Rejection.BAD_TARGET),
    "npc": ("A B p", {"give_item": 2, "give_gold": 1, "give_to": "p0"}, Rejection.BAD_TARGET),
    "no target": ("A B", {"give_item": 2, "give_gold": 1}, Rejection.BAD_TARGET),
    "receiver full": ("A B", {"give_item": 2, "give_to": "B"}, Rejection.INVENTORY_FULL),
    "not enough gold": ("A B", {"give_gold": 2, "give_to": "B"}, Rejection.NOT_ENOUGH_GOLD),
}


@pytest.mark.parametrize("case", list(GIVE_CASES))
def test_give_rejections_are_no_ops(case):
    drawing, order, reason = GIVE_CASES[case]
    w = full(drawing, vision=9, **STILL)  # vision 9 shows B at 8 tiles, beyond GIVE_REACH
    w.put_item("A", 0, Item.HAT, 1, equipped=True)
    w.put_item("A", 1, Item.TOP, 1, price=5)
    w.put_item("A", 2, Item.SPEAR, 1)
    if case == "in combat":
        w.ent.combat_tick[0] = 0
    if case == "dead":
        assert w.row_of("A", "B") == 0
        b = w.slot("B")
        w.ent.alive[b], w.ent.health[b] = False, 0
        w.tiles.agents[w.pos("B")] -= 1
    if case == "receiver full":
        for s in range(INVENTORY_SLOTS):
            w.put_item("B", s, Item.POTION, 1)
    w.refresh()
    before = snapshot(w, "A", "B")
    w.step({"A": order})
    assert rejections(w) == [reason]
    assert not (w.log(Event.GIVE) or w.log(Event.RECEIVE) or w.log(Event.GIVE_GOLD))
    assert snapshot(w, "A", "B") == before


def test_give_item_refused_still_gives_gold():
    w = full("A B", **STILL)
    w.put_item("A", 0, Item.HAT, 1, equipped=True)
    w.ent.gold[0] = 3
    w.refresh()
    w.step({"A": {"give_item": 0, "give_gold": 3, "give_to": "B"}})
    assert rejections(w) == [Rejection.EQUIPPED]
    assert (w.ent.gold[0], w.ent.gold[1]) == (0, STARTING_GOLD + 3)


# --- destroy -----------------------------------------------------------------------------


def test_destroy_removes_an_item():
    w = full("A .", **STILL)
    w.put_item("A", 7, Item.RUNES, 4, quantity=9)
    w.refresh()
    assert w.view("mask_destroy", "A")[8] == 1
    w.step({"A": {"destroy": 7}})
    assert w.slot_items("A")[7] == (0, 0, 0)
    assert w.log(Event.DESTROY, items=True) == [(Event.DESTROY, 0, -1, 9, code(Item.RUNES, 4))]


@pytest.mark.parametrize("case, reason", [("equipped", Rejection.EQUIPPED), ("listed", Rejection.LISTED),
                                          ("empty", Rejection.EMPTY_SLOT)])
def test_destroy_rejections_are_no_ops(case, reason):
    w = full("A .", **STILL)
    if case != "empty":
        w.put_item("A", 0, Item.AXE, 1, equipped=case == "equipped", price=7 if case == "listed" else 0)
    w.refresh()
    assert w.view("mask_destroy", "A")[1] == 0
    before = snapshot(w, "A")
    w.step({"A": {"destroy": 0}})
    assert rejections(w) == [reason] and not w.log(Event.DESTROY)
    assert snapshot(w, "A") == before


# --- market ------------------------------------------------------------------------------


def _market_world(**kw):
    w = full("A B C", **STILL, **kw)
    w.ent.gold[[0, 1, 2]] = [1, 20, 20]
    w.refresh()
    return w


def test_sell_lists_and_the_next_tick_a_buyer_naming_item_and_level_gets_it():
    w = _market_world()
    inv = w.state.inventory
    w.put_item("A", 2, Item.HAT, 2)
    w.refresh()
    assert w.view("mask_sell_item", "A")[3] == 1
    w.step({"A": {"sell_item": 2, "sell_price": 7}, "B": {"buy": (Item.HAT, 2)}})  # tick 1
    c = code(Item.HAT, 2)
    assert (inv.price[0, 2], inv.listed_tick[0, 2]) == (7, 1)
    assert w.log(Event.LIST, items=True) == [(Event.LIST, 0, -1, 7, c)]
    assert rejections(w, "B") == [Rejection.NO_LISTING]  # not yet on the market
    assert tuple(w.view("market", "C")[Item.HAT - 1, 1]) == (7, 1)
    assert w.view("profile", "A")[PF.LISTINGS] == 1
    assert w.view("mask_buy", "B")[1 + market_key(Item.HAT, 2)] == 1
    w.step({"B": {"buy": (Item.HAT, 2)}})  # tick 2
    assert w.slot_items("A")[2] == (0, 0, 0) and inv.price[0, 2] == 0
    assert w.slot_items("B")[0] == (Item.HAT, 2, 1) and inv.price[1, 0] == 0 and not inv.equipped[1, 0]
    assert (w.ent.gold[0], w.ent.gold[1]) == (1 + 7, 20 - 7)
    log = w.log(items=True)
    for row in [(Event.BUY, 1, 0, 7, c), (Event.SELL, 0, 1, 7, c), (Event.SPEND_GOLD, 1, 0, 7, 0),
                (Event.EARN_GOLD, 0, 1, 7, 0)]:
        assert row in log
    amounts = w.state.events.amounts  # the gold task predicates' sums
    assert (amounts[0, Event.EARN_GOLD], amounts[1, Event.SPEND_GOLD]) == (7, 7)
    assert amounts[0, Event.SPEND_GOLD] == amounts[1, Event.EARN_GOLD] == 0
    assert tuple(w.view("market", "C")[Item.HAT - 1, 1]) == (0, 0)


def test_the_cheapest_listing_wins_and_the_market_view_shows_best_price_and_supply():
    w = _market_world()
    w.put_item("A", 0, Item.ARROW, 1, quantity=5)
    w.put_item("C", 0, Item.ARROW, 1, quantity=3)
    w.refresh()
    w.step({"A": {"sell_item": 0, "sell_price": 9}, "C": {"sell_item": 0, "sell_price": 4}})
    view = w.view("market", "B")
    assert tuple(view[Item.ARROW - 1, 0]) == (4, 2)
    assert view[:, :, MF.SUPPLY].sum() == 2
    w.step({"B": {"buy": (Item.ARROW, 1)}})
    assert w.slot_items("B")[0] == (Item.ARROW, 1, 3)
    assert w.ent.gold.tolist()[:3] == [1, 16, 24]
    assert tuple(w.view("market", "B")[Item.ARROW - 1, 0]) == (9, 1)


def test_a_second_buyer_of_a_single_listing_gets_no_listing():
    w = _market_world()
    w.put_item("A", 0, Item.GLOVES, 2)
    w.refresh()
    w.step({"A": {"sell_item": 0, "sell_price": 5}})
    w.step({"B": {"buy": (Item.GLOVES, 2)}, "C": {"buy": (Item.GLOVES, 2)}})
    buys = w.log(Event.BUY)
    assert len(buys) == 1
    loser = 3 - buys[0][1]  # B is 1, C is 2
    assert [(e[1], e[3]) for e in w.log(REJ)] == [(loser, Rejection.NO_LISTING)]
    assert w.ent.gold[loser] == 20 and w.state.inventory.item[loser].sum() == 0
    assert w.ent.gold[0] == 6


def test_a_buyer_skips_its_own_listing_for_the_next_best_offer():
    w = _market_world()
    w.put_item("A", 0, Item.ARROW, 1, quantity=5)
    w.put_item("C", 0, Item.ARROW, 1, quantity=3)
    w.refresh()
    w.ent.gold[0] = 20
    w.step({"A": {"sell_item": 0, "sell_price": 2}, "C": {"sell_item": 0, "sell_price": 7}})
    gold = w.ent.gold[:3].copy()
    w.step({"A": {"buy": (Item.ARROW, 1)}})
    assert [(e[1], e[2], e[3]) for e in w.log(Event.BUY)] == [(0, 2, 7)]  # C's, not its own at 2
    assert w.ent.gold[0] == gold[0] - 7 and w.ent.gold[2] == gold[2] + 7
    w.step({"A": {"buy": (Item.ARROW, 1)}})  # only its own listing is left
    assert [(e[1], e[3]) for e in w.log(REJ)] == [(0, Rejection.NO_LISTING)]
    assert not w.log(Event.BUY) and not w.log(Event.EARN_GOLD)


def test_buy_rejections_unaffordable_full_in_combat():
    w = _market_world()
    w.ent.gold[1] = 4
    w.put_item("A", 0, Item.BOW, 1)
    for s in range(INVENTORY_SLOTS):
        w.put_item("C", s, Item.HAT, 1)
    w.refresh()
    w.step({"A": {"sell_item": 0, "sell_price": 5}})
    assert w.view("mask_buy", "B")[1 + market_key(Item.BOW, 1)] == 0  # 5 > 4 gold
    assert w.view("mask_buy", "C")[1 + market_key(Item.BOW, 1)] == 0  # no room
    before = snapshot(w, "A", "B", "C")
    w.step({"B": {"buy": (Item.BOW, 1)}, "C": {"buy": (Item.BOW, 1)}})
    assert sorted((e[1], e[3]) for e in w.log(REJ)) == [(1, Rejection.UNAFFORDABLE), (2, Rejection.INVENTORY_FULL)]
    assert snapshot(w, "A", "B", "C") == before
    w.ent.gold[1] = 5
    w.ent.combat_tick[1] = w.state.tick
    w.refresh()
    w.step({"B": {"buy": (Item.BOW, 1)}})
    assert rejections(w) == [Rejection.IN_COMBAT]


@pytest.mark.parametrize("wait, bought", [(LISTING_TICKS - 1, True), (LISTING_TICKS, False)])
def test_listings_expire_after_listing_ticks(wait, bought):
    w = _market_world()
    inv = w.state.inventory
    w.put_item("A", 0, Item.POTION, 1)
    w.refresh()
    w.step({"A": {"sell_item": 0, "sell_price": 3}})  # tick 1: buyable at ticks 2 .. 4
    w.step(ticks=wait)
    w.step({"B": {"buy": (Item.POTION, 1)}})
    assert w.state.tick == 2 + wait
    assert bool(w.log(Event.BUY)) == bought
    if bought:
        assert w.slot_items("B")[0] == (Item.POTION, 1, 1)
    else:
        assert rejections(w, "B") == [Rejection.NO_LISTING]
        assert w.slot_items("A")[0] == (Item.POTION, 1, 1) and inv.price[0, 0] == 0
        assert w.view("market", "B")[:, :, MF.SUPPLY].sum() == 0


def test_expired_listing_leaves_the_market_view_at_the_end_of_its_last_tick():
    w = _market_world()
    inv = w.state.inventory
    w.put_item("A", 0, Item.POTION, 1)
    w.refresh()
    w.step({"A": {"sell_item": 0, "sell_price": 3}})
    for _ in range(LISTING_TICKS - 1):
        w.step()
        assert inv.price[0, 0] == 3 and w.view("market", "B")[Item.POTION - 1, 0, MF.SUPPLY] == 1
    w.step()
    assert inv.price[0, 0] == 0 and w.view("market", "B")[Item.POTION - 1, 0, MF.SUPPLY] == 0


@pytest.mark.parametrize("case, reason", [("equipped", Rejection.EQUIPPED), ("price 0", Rejection.BAD_PRICE),
                                          ("empty", Rejection.EMPTY_SLOT), ("combat", Rejection.IN_COMBAT)])
def test_sell_rejections_are_no_ops(case, reason):
    w = _market_world()
    if case != "empty":
        w.put_item("A", 0, Item.SPEAR, 1, equipped=case == "equipped")
    if case == "combat":
        w.ent.combat_tick[0] = 0
    w.refresh()
    before = snapshot(w, "A")
    w.step({"A": {"sell_item": 0, "sell_price": 0 if case == "price 0" else 10}})
    assert rejections(w) == [reason] and not w.log(Event.LIST)
    assert snapshot(w, "A") == before
    assert w.view("market", "B").sum() == 0


def test_a_listed_item_can_be_repriced():
    w = _market_world()
    inv = w.state.inventory
    w.put_item("A", 0, Item.SPEAR, 1)
    w.refresh()
    w.step({"A": {"sell_item": 0, "sell_price": 10}})
    w.step({"A": {"sell_item": 0, "sell_price": 6}})
    assert (inv.price[0, 0], inv.listed_tick[0, 0]) == (6, 2)
    assert tuple(w.view("market", "B")[Item.SPEAR - 1, 0]) == (6, 1)


# --- loot --------------------------------------------------------------------------------


def test_an_agent_killed_by_an_agent_hands_over_items_and_gold():
    w = full("A B", age=OLD, **STILL)
    w.put_item("A", 0, Item.ARROW, 1, quantity=3)
    w.put_item("B", 0, Item.HAT, 2, equipped=True)
    w.put_item("B", 1, Item.ARROW, 1, quantity=5)
    w.put_item("B", 2, Item.ROD, 1, price=9)
    w.ent.gold[1] = 6
    w.ent.health[1] = 3  # A deals 15 - (5 + 6 armor) = 4
    w.refresh()
    w.step({"A": {"target": "B"}})
    assert not w.ent.alive[1]
    assert w.slot_items("A")[:3] == [(Item.ARROW, 1, 8), (Item.HAT, 2, 1), (Item.ROD, 1, 1)]
    inv = w.state.inventory
    assert not inv.equipped[0].any() and not inv.price[0].any()
    assert inv.item[1].sum() == inv.quantity[1].sum() == 0
    assert (w.ent.gold[0], w.ent.gold[1]) == (STARTING_GOLD + 6, 0)
    loot = [(e[1], e[2], e[3], e[4]) for e in w.log(Event.LOOT, items=True)]
    assert loot == [(0, 1, 1, code(Item.HAT, 2)), (0, 1, 5, code(Item.ARROW, 1)), (0, 1, 1, code(Item.ROD, 1))]
    assert (Event.EARN_GOLD, 0, 1, 6) in w.log()
    assert not w.log(Event.DESTROY)


def test_an_agent_killed_by_an_npc_loses_its_items_and_gold():
    w = full("""
    # # # # # # # # # # # #
    # h A # # # # # # # B #
    """, **STILL, npc_level=3, npc_styles={"h0": MAGE})
    w.put_item("A", 0, Item.ARROW, 1, quantity=5, equipped=True)
    w.put_item("A", 3, Item.POTION, 2)
    w.ent.gold[0] = 9
    w.ent.health[0] = 10
    w.refresh()
    total = int(w.ent.gold[:2].sum())
    w.step()
    assert not w.ent.alive[0]
    assert (Event.DEATH, 0, w.slot("h0"), 0) in w.log()
    assert sorted(e[1:] for e in w.log(Event.DESTROY, items=True)) == [
        (0, -1, 1, code(Item.POTION, 2)), (0, -1, 5, code(Item.ARROW, 1))]
    assert w.state.inventory.item[0].sum() == 0 and w.ent.gold[0] == 0
    assert int(w.ent.gold[:2].sum()) == total - 9
    assert not w.log(Event.LOOT) and not w.log(Event.EARN_GOLD)


def test_a_killer_that_dies_in_the_same_tick_inherits_nothing():
    w = full("A B . . . . . . . . . C", age=OLD, **STILL)
    w.put_item("A", 0, Item.HAT, 1)
    w.put_item("B", 0, Item.TOP, 1)
    w.ent.health[[0, 1]] = 5
    w.refresh()
    w.step({"A": {"target": "B"}, "B": {"target": "A"}})
    assert not w.ent.alive[0] and not w.ent.alive[1]
    assert not w.log(Event.LOOT) and len(w.log(Event.DESTROY)) == 2
    assert w.state.inventory.item[:2].sum() == 0 and w.ent.gold[:2].sum() == 0


def test_an_npc_killed_by_an_agent_gives_one_loot_item_at_its_level_and_gold():
    w = full("""
    # # # #
    # p A #
    # # # #
    """, age=OLD, **STILL, npc_level=3)
    npc = w.slot("p0")
    w.ent.health[npc] = 1
    w.refresh()
    w.step({"A": {"target": "p0"}})
    assert w.count("A", Event.NPC_KILL) == 1
    loot = w.log(Event.LOOT, items=True)
    assert len(loot) == 1
    _, actor, target, quantity, c = loot[0]
    item, level = divmod(c, ITEM_CODE_STRIDE)
    assert (actor, target, quantity, level) == (0, npc, 1, 3)
    assert LOOT_WEIGHT[item] > 0
    assert w.slot_items("A")[0] == (item, 3, 1)
    assert w.ent.gold[0] == STARTING_GOLD + 3
    assert w.log(Event.EARN_GOLD) == [(Event.EARN_GOLD, 0, npc, 3)]


# --- masks against the systems -----------------------------------------------------------

ROLLOUT = dict(num_agents=16, max_npcs=16, npc_count=16, max_map_size=32, map_size=32,
               food_depletion=1, water_depletion=1)  # slow starvation: longer lives, more trades
#: Head groups of the item and market actions; the mask test lets each agent use one per tick
#: so that its own actions do not interfere (a slot given away, then sold, is empty).
GROUPS = {
    "use": (Head.USE,),
    "destroy": (Head.DESTROY,),
    "give": (Head.GIVE_ITEM, Head.GIVE_GOLD, Head.GIVE_TARGET),
    "sell": (Head.SELL_ITEM, Head.SELL_PRICE),
    "buy": (Head.BUY,),
}
ITEM_HEADS = [h for g in GROUPS.values() for h in g]


def _endow(env, gold=40):
    """Give every live agent some gold so that the market trades (agents start with 1)."""
    n = env.num_agents
    env.state.entities.gold[:n] = np.where(env.state.entities.alive[:n], gold, 0)
    env.refresh_observations()


@pytest.mark.parametrize("seed", [0, 1])
def test_no_rejection_for_a_mask_allowed_choice(seed):
    """Each tick, each agent draws a mask-allowed action (RandomPolicy) and keeps one item head
    group. Rejections that can still happen, because masks are written at the end of the
    previous tick and the tick's other actions come first, are allowed only with their cause:

    * buy NO_LISTING / UNAFFORDABLE: other buyers, served first, took the cheaper listings;
    * sell EMPTY_SLOT: someone bought the listed item being re-priced, earlier this tick;
    * sell IN_COMBAT: the agent attacked or was hit this tick (sell comes after combat);
    * give INVENTORY_FULL: the masks do not know the receiver's inventory;
    * give BAD_TARGET with the give-target head at 0 ("none", always allowed; see
      test_give_masks_allow_no_item_or_gold_without_a_target).

    Everything else (use, destroy and the other reasons) must never be refused."""
    env = metammo.make("sandbox", "full", seed, **ROLLOUT)
    env.reset()
    _endow(env)
    n = env.num_agents
    policy = RandomPolicy(env.layout, env.head_sizes, seed)
    rng = np.random.default_rng(seed)
    inv, ent = env.state.inventory, env.state.entities
    names = list(GROUPS)
    done = {e: 0 for e in (Event.EQUIP, Event.CONSUME, Event.DESTROY, Event.GIVE, Event.GIVE_GOLD,
                           Event.LIST, Event.BUY)}
    for _ in range(300):
        actions, _ = policy.act(env.observations, None)
        group = rng.integers(len(names), size=n)
        for g, name in enumerate(names):
            for h in ITEM_HEADS:
                if h not in GROUPS[name]:
                    actions[group == g, h] = 0
        listed_before = inv.price.copy()
        _, _, _, _, infos = env.step(actions)
        if infos:
            _endow(env)
            continue
        log = env.state.events.log[: int(env.state.events.num_log[0])]
        for e in done:
            done[e] += int((log[:, 0] == e).sum())
        tick = env.state.tick
        for _, i, _, reason, _ in log[log[:, 0] == REJ]:
            name = names[group[i]]
            a = actions[i]
            cause = f"agent {i} {name} {a[ITEM_HEADS].tolist()} refused: {Rejection(reason).name}"
            if name == "buy":
                assert reason in (Rejection.NO_LISTING, Rejection.UNAFFORDABLE), cause
            elif name == "sell" and reason == Rejection.EMPTY_SLOT:
                assert listed_before[i, a[Head.SELL_ITEM] - 1] > 0, cause
            elif name == "sell" and reason == Rejection.IN_COMBAT:
                assert ent.combat_tick[i] == tick, cause
            elif name == "give" and reason == Rejection.BAD_TARGET:
                assert a[Head.GIVE_TARGET] == 0, cause
            else:
                assert name == "give" and reason == Rejection.INVENTORY_FULL, cause
    assert all(v > 0 for v in done.values()), done  # the rollout exercised every action


def test_give_masks_allow_no_item_or_gold_without_a_target():
    w = full("A . . . . . . . . . B", **STILL)
    w.put_item("A", 0, Item.HAT, 1)
    w.ent.gold[0] = 5
    w.refresh()
    assert not w.view("mask_give_target", "A")[1:].any()  # nobody within reach
    allowed = {"give_item": 0} if w.view("mask_give_item", "A")[1] else {}
    if w.view("mask_give_gold", "A")[1]:
        allowed["give_gold"] = 1
    w.step({"A": allowed})
    assert not rejections(w), f"mask-allowed {allowed} refused"


# --- conservation and invariants ---------------------------------------------------------


def _totals(inv) -> np.ndarray:
    """Quantity held per item code (item * 16 + level) over all inventories."""
    present = inv.item > 0
    codes = inv.item[present].astype(np.int64) * ITEM_CODE_STRIDE + inv.level[present]
    return np.bincount(codes, weights=inv.quantity[present], minlength=NUM_ITEMS * ITEM_CODE_STRIDE).astype(np.int64)


def _by_code(rows) -> np.ndarray:
    return np.bincount(rows[:, 4], weights=rows[:, 3], minlength=NUM_ITEMS * ITEM_CODE_STRIDE).astype(np.int64)


def _check_invariants(env):
    n, inv, ent = env.num_agents, env.state.inventory, env.state.entities
    alive = ent.alive[:n]
    present = inv.item > 0
    assert not present[~alive].any(), "a dead agent holds items"
    assert (ent.gold[:n][~alive] == 0).all(), "a dead agent holds gold"
    assert (ent.gold[:n] >= 0).all()
    assert (inv.quantity[present] >= 1).all()
    # (empty slots' level: see test_empty_inventory_slots_are_all_zero_after_reset)
    assert not inv.quantity[~present].any(), "an empty slot holds a quantity"
    assert not inv.equipped[~present].any() and not inv.price[~present].any()
    assert ((inv.level[present] >= 1) & (inv.level[present] <= MAX_LEVEL)).all()
    assert (inv.quantity[present & ~STACKABLE[inv.item]] == 1).all(), "a stack of a non-stackable item"
    assert not (inv.equipped & (inv.price > 0)).any(), "a listed item is equipped"
    slot_of = np.where(inv.equipped, EQUIP_SLOT[inv.item], -1)
    for s in range(NUM_EQUIP_SLOTS):
        assert ((slot_of == s).sum(axis=1) <= 1).all(), f"two items in equipment slot {s}"
    listed = inv.price > 0
    assert (inv.price[listed] <= 99).all()
    assert (env.state.tick - inv.listed_tick[listed] < LISTING_TICKS).all(), "an expired listing"
    # equipment stats and the market view agree with the inventories
    attack, defense, ammo = ent.gear_attack.copy(), ent.gear_defense.copy(), ent.ammo_slot.copy()
    gear(ent, inv, env._params)
    assert (attack == ent.gear_attack).all() and (defense == ent.gear_defense).all()
    assert (ammo == ent.ammo_slot).all()
    keys = (inv.item[listed].astype(np.int64) - 1) * MAX_LEVEL + inv.level[listed] - 1
    market = env.state.market
    assert (np.bincount(keys, minlength=market.supply.shape[0]) == market.supply).all()
    best = np.zeros_like(market.best_price)
    for k, price in sorted(zip(keys, inv.price[listed]), key=lambda kp: -kp[1]):
        best[k] = price
    assert (best == market.best_price).all()


def _check_tick(env, before):
    """Gold and items of this tick against its events (see test_conservation)."""
    n = env.num_agents
    ent, inv, ev = env.state.entities, env.state.inventory, env.state.events
    gold0, alive0, totals0 = before
    num = int(ev.num_log[0])
    assert num < ev.log.shape[0], "the event log overflowed: the check would be blind"
    log = ev.log[:num].astype(np.int64)
    kind, actor, target, value, item = log.T

    def rows(e, mask=True):
        return log[(kind == e) & mask]

    # items, per item code: sources harvest and NPC loot; sinks consume, fired ammo, destroy
    expected = (_by_code(rows(Event.HARVEST)) + _by_code(rows(Event.LOOT, target >= n))
                - _by_code(rows(Event.CONSUME)) - _by_code(rows(Event.FIRE_AMMO)) - _by_code(rows(Event.DESTROY)))
    change = _totals(inv) - totals0
    assert (change == expected).all(), {
        "code": np.flatnonzero(change != expected).tolist(), "change": change[change != expected].tolist(),
        "events": expected[change != expected].tolist()}
    # gold, per agent: sale, NPC or agent loot in (EARN_GOLD), purchase out (SPEND_GOLD), gifts
    gift_in = rows(Event.RECEIVE, item == 0)
    flow = np.zeros(n, np.int64)
    np.add.at(flow, rows(Event.EARN_GOLD)[:, 1], rows(Event.EARN_GOLD)[:, 3])
    np.subtract.at(flow, rows(Event.SPEND_GOLD)[:, 1], rows(Event.SPEND_GOLD)[:, 3])
    np.subtract.at(flow, rows(Event.GIVE_GOLD)[:, 1], rows(Event.GIVE_GOLD)[:, 3])
    np.add.at(flow, gift_in[:, 1], gift_in[:, 3])
    gold1, alive1 = ent.gold[:n].astype(np.int64), ent.alive[:n]
    lost = 0
    for i in range(n):
        if alive1[i]:
            assert gold1[i] == gold0[i] + flow[i], f"agent {i}: gold {gold0[i]} -> {gold1[i]}, events {flow[i]}"
        elif alive0[i]:  # died this tick, holding gold0 + flow
            at_death = gold0[i] + flow[i]
            death = int(np.flatnonzero((kind == Event.DEATH) & (actor == i))[0])
            killer = int(target[death])
            heir = killer if 0 <= killer < n and alive1[killer] else -1
            after = np.arange(num) > death  # loot follows the death; a sale to i came earlier
            handed = rows(Event.EARN_GOLD, (target == i) & after)
            if heir >= 0:
                assert handed[:, 3].sum() == at_death and (handed[:, 1] == heir).all()
            else:
                assert len(handed) == 0
                lost += at_death
    npc_gold = rows(Event.EARN_GOLD, target >= n)[:, 3].sum()
    assert gold1.sum() - gold0.sum() == npc_gold - lost


@pytest.mark.parametrize("mode", ["random", "masked", "mixed"])
@pytest.mark.parametrize("seed", [0, 1])
def test_conservation_of_gold_and_items(mode, seed):
    """Every tick of a random rollout (unmasked, mask-respecting, or a mix): each item code's
    total over all inventories changes by exactly HARVEST + LOOT from NPCs - CONSUME - FIRE_AMMO
    - DESTROY of that tick; every live agent's gold by its gold events; total gold by NPC-kill
    gold minus what agents dying without an agent heir held; and the inventory invariants."""
    env = metammo.make("sandbox", "full", seed, **ROLLOUT)
    env.reset()
    _endow(env)
    n, heads = env.num_agents, env.head_sizes
    policy = RandomPolicy(env.layout, heads, seed)
    rng = np.random.default_rng(seed)
    inv, ent = env.state.inventory, env.state.entities
    seen = np.zeros(len(Event), np.int64)
    for _ in range(300):
        unmasked = rng.integers(0, heads, size=(n, len(heads))).astype(np.int32)
        masked, _ = policy.act(env.observations, None)
        if mode == "random":
            actions = unmasked
        elif mode == "masked":
            actions = masked
        else:
            actions = np.where(rng.random((n, 1)) < 0.3, unmasked, masked).astype(np.int32)
        before = (ent.gold[:n].astype(np.int64), ent.alive[:n].copy(), _totals(inv))
        _, _, _, _, infos = env.step(actions)
        if infos:  # the episode ended and a new one began: nothing to compare
            _endow(env)
            continue
        _check_tick(env, before)
        _check_invariants(env)
        ev = env.state.events
        np.add.at(seen, ev.log[: int(ev.num_log[0]), 0], 1)
    exercised = [Event.HARVEST, Event.DESTROY, Event.DEATH, Event.EQUIP]
    if mode != "random":
        exercised += [Event.LOOT, Event.BUY, Event.FIRE_AMMO, Event.CONSUME, Event.GIVE_GOLD]
    assert all(seen[e] > 0 for e in exercised), {Event(e).name: int(seen[e]) for e in exercised}


def test_bad_input_never_crashes():
    """Random in-range actions over every head, and every head at its extremes, for many ticks
    (several episodes) of the full config: nothing raises (the invariants are checked by
    test_conservation_of_gold_and_items)."""
    env = metammo.make("sandbox", "full", 3, num_agents=24, max_npcs=24, npc_count=24,
                       max_map_size=32, map_size=32, horizon=200)
    env.reset()
    heads = env.head_sizes
    rng = np.random.default_rng(3)
    episodes = 0
    for t in range(1000):
        if t % 50 < 3:
            actions = np.broadcast_to(np.where(t % 2, heads - 1, 0), (env.num_agents, len(heads)))
            actions = np.ascontiguousarray(actions, np.int32)
        else:
            actions = rng.integers(0, heads, size=(env.num_agents, len(heads))).astype(np.int32)
        episodes += len(env.step(actions)[4])
    assert episodes >= 2


def test_a_buy_in_a_dead_row_or_a_refused_one_leaves_the_world_s_random_stream_alone():
    """The buyers' order is drawn every tick, whatever the actions: a buy in a dead agent's row is
    a no-op (the same state as none), and a refused one changes only its REJECTED event (the
    order was drawn only when some row named a buy, so a dead row's contents changed the world)."""
    env = metammo.make("sandbox", "full", seed=0)
    obs, _ = env.reset()
    policy = RandomPolicy(env.layout, env.head_sizes, seed=0)
    state = policy.initial_state(env.num_agents)
    while env.state.entities.alive[: env.num_agents].all():
        actions, state = policy.act(obs, state)
        obs, *_ = env.step(actions)
    dead = int(np.flatnonzero(~env.state.entities.alive[: env.num_agents])[0])
    live = int(np.flatnonzero(env.state.entities.alive[: env.num_agents])[0])
    key = 1 + market_key(Item.HAT, 1)
    assert env.layout.view(obs, "mask_buy")[live, key] == 0  # no hat is listed
    for row, same_state in ((dead, True), (live, False)):
        a, b = copy.deepcopy(env), copy.deepcopy(env)
        actions = np.zeros_like(env.actions)
        actions[row, Head.BUY] = key
        a.step(actions)
        b.step(np.zeros_like(actions))
        assert (a.state.rng == b.state.rng).all()
        assert (a.state.hash() == b.state.hash()) == same_state
        for _ in range(5):
            a.step(np.zeros_like(actions))
            b.step(np.zeros_like(actions))
        assert (a.state.entities.row == b.state.entities.row).all()
