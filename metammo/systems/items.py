"""Items: inventory, use (equip, unequip, consume), give, destroy, equipment stats and loot
(rules.md §1 "Items", "Gold and market", "Death and spawn").

* **Inventory.** 12 slots per agent (:class:`~metammo.state.Inventory`). Ammunition of one type
  and level stacks in one slot; anything else takes a slot of its own. An item arriving in a
  full inventory from a harvest or loot is destroyed (``Event.DESTROY``); a give or a purchase
  into a full inventory is refused instead.
* **Use** on slot k: an equipped item is taken off; a ration restores food and water, a potion
  health, by 50 + 5 * level, and is used up; any other item is equipped in its slot (hat, top,
  bottom, held, ammunition), replacing what was there. Equipping and consuming need the item's
  required skill at the item's level (:data:`~metammo.constants.REQUIRED_SKILL`).
* **Give** moves an unequipped, unlisted item, and **give-gold** an amount of gold, to a live
  agent within 7 tiles (the ``give_target`` row of the observation).
* **Destroy** removes an unequipped, unlisted item.
* Agents in combat (within 3 ticks of attacking or being hit) cannot use or give.
* **Equipment stats** (:func:`gear`): attack per style from the held weapon (5 + 5 * level)
  and the equipped ammunition (5 + 10 * level), defense from armor (3 * level per piece).
* **Loot** (:func:`loot`, at death): an agent killed by an agent that survives the tick hands
  over its items and gold; an agent that dies otherwise loses them (``Event.DESTROY``). An NPC
  killed by such an agent gives one item at its level (:data:`~metammo.constants.LOOT_WEIGHT`)
  and, with the market on, gold equal to its level.

Every refused action is a no-op logged as ``Event.REJECTED`` with a
:class:`~metammo.constants.Rejection`. Sources of items: harvest and NPC loot; sinks: consume,
fired ammunition, destroy (action, overflow, death without an agent killer). Sources of gold:
the starting gold and NPC kills; sink: death without an agent killer.
"""

from __future__ import annotations

from numba import njit

from metammo.constants import (
    ATTACK_BASE,
    ATTACK_PER_LEVEL,
    ATTACK_STYLE,
    COMBAT_LEVEL,
    COMBAT_TICKS,
    CONSUME_BASE,
    CONSUME_PER_LEVEL,
    DEFENSE_PER_ITEM_LEVEL,
    EQUIP_SLOT,
    FOOD_MAX,
    GIVE_REACH,
    HEALTH_MAX,
    LOOT_CDF,
    NO_SLOT,
    REQUIRED_SKILL,
    STACKABLE,
    WATER_MAX,
    Event,
    EquipSlot,
    Item,
    Rejection,
)
from metammo.actions import Head
from metammo.systems.common import emit, item_code, uniform

_NONE, _RATION, _POTION = int(Item.NONE), int(Item.RATION), int(Item.POTION)
_AMMO = int(EquipSlot.AMMUNITION)
_REJECTED, _DESTROY, _LOOT = int(Event.REJECTED), int(Event.DESTROY), int(Event.LOOT)
_EQUIP, _UNEQUIP, _CONSUME = int(Event.EQUIP), int(Event.UNEQUIP), int(Event.CONSUME)
_FIRE_AMMO = int(Event.FIRE_AMMO)
_GIVE, _RECEIVE, _GIVE_GOLD, _EARN_GOLD = int(Event.GIVE), int(Event.RECEIVE), int(Event.GIVE_GOLD), int(Event.EARN_GOLD)
_EMPTY_SLOT, _IN_COMBAT, _LEVEL_TOO_LOW = int(Rejection.EMPTY_SLOT), int(Rejection.IN_COMBAT), int(Rejection.LEVEL_TOO_LOW)
_EQUIPPED, _LISTED, _FULL = int(Rejection.EQUIPPED), int(Rejection.LISTED), int(Rejection.INVENTORY_FULL)
_BAD_TARGET, _NOT_ENOUGH_GOLD = int(Rejection.BAD_TARGET), int(Rejection.NOT_ENOUGH_GOLD)


# --- inventory helpers -----------------------------------------------------------------------


@njit(cache=True)
def in_combat(ent, i, tick):
    """Whether entity ``i`` attacked or was hit within the last COMBAT_TICKS ticks."""
    return tick - ent.combat_tick[i] < COMBAT_TICKS


@njit(cache=True)
def meets_level(ent, i, item, level):
    """Whether agent ``i`` may equip or consume ``item`` at ``level`` (REQUIRED_SKILL)."""
    skill = REQUIRED_SKILL[item]
    if skill == COMBAT_LEVEL:
        return max(ent.level[i, 0], max(ent.level[i, 1], ent.level[i, 2])) >= level
    return ent.level[i, skill] >= level


@njit(cache=True)
def slot_for(inv, i, item, level):
    """The slot of agent ``i`` an ``item`` at ``level`` would go to: an unlisted stack of the
    same stackable item, else the first empty slot; -1 when there is none."""
    free = -1
    for s in range(inv.item.shape[1]):
        if inv.item[i, s] == _NONE:
            if free < 0:
                free = s
        elif STACKABLE[item] and inv.item[i, s] == item and inv.level[i, s] == level and inv.price[i, s] == 0:
            return s
    return free


@njit(cache=True)
def put(inv, i, s, item, level, quantity):
    """Add ``quantity`` of ``item`` at ``level`` to slot ``s`` of agent ``i`` (from :func:`slot_for`)."""
    if inv.item[i, s] == _NONE:
        inv.item[i, s] = item
        inv.level[i, s] = level
        inv.quantity[i, s] = quantity
    else:
        inv.quantity[i, s] += quantity


@njit(cache=True)
def clear_slot(inv, i, s):
    """Empty slot ``s`` of agent ``i``."""
    inv.item[i, s] = _NONE
    inv.level[i, s] = 0
    inv.quantity[i, s] = 0
    inv.equipped[i, s] = False
    inv.price[i, s] = 0
    inv.listed_tick[i, s] = 0


@njit(cache=True)
def receive(inv, events, i, source, item, level, quantity, kind):
    """Give agent ``i`` a new or looted item, logged as ``kind`` (target ``source``); destroyed
    with an ``Event.DESTROY`` when the inventory is full."""
    code = item_code(item, level)
    emit(events, kind, i, source, quantity, code)
    s = slot_for(inv, i, item, level)
    if s < 0:
        emit(events, _DESTROY, i, source, quantity, code)
    else:
        put(inv, i, s, item, level, quantity)


@njit(cache=True)
def reject(events, i, reason):
    """Log that agent ``i``'s item or market action was refused for ``reason`` (a no-op)."""
    emit(events, _REJECTED, i, -1, reason)


@njit(cache=True)
def _movable(inv, events, i, s):
    """Slot ``s`` of agent ``i`` holds an item that may leave it (give, sell is checked apart)."""
    if inv.item[i, s] == _NONE:
        reject(events, i, _EMPTY_SLOT)
        return False
    if inv.equipped[i, s]:
        reject(events, i, _EQUIPPED)
        return False
    if inv.price[i, s] > 0:
        reject(events, i, _LISTED)
        return False
    return True


# --- phases ----------------------------------------------------------------------------------


@njit(cache=True)
def use(actions, ent, inv, events, p, tick):
    """Phase: the use head — unequip, consume or equip (see the module docstring)."""
    for i in range(p.num_agents):
        k = actions[i, Head.USE]
        if k == 0 or not ent.alive[i]:
            continue
        s = k - 1
        item, level = inv.item[i, s], inv.level[i, s]
        if item == _NONE:
            reject(events, i, _EMPTY_SLOT)
        elif in_combat(ent, i, tick):
            reject(events, i, _IN_COMBAT)
        elif inv.price[i, s] > 0:
            reject(events, i, _LISTED)
        elif inv.equipped[i, s]:
            inv.equipped[i, s] = False
            emit(events, _UNEQUIP, i, -1, 0, item_code(item, level))
        elif not meets_level(ent, i, item, level):
            reject(events, i, _LEVEL_TOO_LOW)
        elif EQUIP_SLOT[item] == NO_SLOT:
            restore = CONSUME_BASE + CONSUME_PER_LEVEL * level
            if item == _RATION:
                ent.food[i] = min(ent.food[i] + restore, FOOD_MAX)
                ent.water[i] = min(ent.water[i] + restore, WATER_MAX)
            else:
                ent.health[i] = min(ent.health[i] + restore, HEALTH_MAX)
            emit(events, _CONSUME, i, -1, 1, item_code(item, level))
            clear_slot(inv, i, s)
        else:
            for o in range(inv.item.shape[1]):
                if inv.equipped[i, o] and EQUIP_SLOT[inv.item[i, o]] == EQUIP_SLOT[item]:
                    inv.equipped[i, o] = False
                    emit(events, _UNEQUIP, i, -1, 0, item_code(inv.item[i, o], inv.level[i, o]))
            inv.equipped[i, s] = True
            emit(events, _EQUIP, i, -1, 0, item_code(item, level))


@njit(cache=True)
def give_target(ent, ids, i, k, num_agents):
    """The agent behind give-target row ``k`` (1-based) of agent ``i``, or -1 when the row is
    empty, an NPC, dead, or beyond GIVE_REACH."""
    j = ids[i, k - 1] if k > 0 else -1
    if j < 0 or j >= num_agents or j == i or not ent.alive[j]:
        return -1
    if max(abs(ent.row[j] - ent.row[i]), abs(ent.col[j] - ent.col[i])) > GIVE_REACH:
        return -1
    return j


@njit(cache=True)
def give(actions, ids, ent, inv, events, p, tick):
    """Phase: the give-item and give-gold heads, to the agent in the give-target row."""
    for i in range(p.num_agents):
        k_item, amount = actions[i, Head.GIVE_ITEM], actions[i, Head.GIVE_GOLD]
        if not ent.alive[i]:
            continue
        gold = amount > 0 and p.market
        if k_item == 0 and not gold:
            continue
        j = give_target(ent, ids, i, actions[i, Head.GIVE_TARGET], p.num_agents)
        if in_combat(ent, i, tick):
            reject(events, i, _IN_COMBAT)
            continue
        if j < 0:
            reject(events, i, _BAD_TARGET)
            continue
        if k_item > 0 and _movable(inv, events, i, k_item - 1):
            s = k_item - 1
            item, level, quantity = inv.item[i, s], inv.level[i, s], inv.quantity[i, s]
            d = slot_for(inv, j, item, level)
            if d < 0:
                reject(events, i, _FULL)
            else:
                code = item_code(item, level)
                put(inv, j, d, item, level, quantity)
                clear_slot(inv, i, s)
                emit(events, _GIVE, i, j, quantity, code)
                emit(events, _RECEIVE, j, i, quantity, code)
        if gold:
            if amount > ent.gold[i]:
                reject(events, i, _NOT_ENOUGH_GOLD)
            else:
                ent.gold[i] -= amount
                ent.gold[j] += amount
                emit(events, _GIVE_GOLD, i, j, amount)
                emit(events, _RECEIVE, j, i, amount)


@njit(cache=True)
def destroy(actions, ent, inv, events, p):
    """Phase: the destroy head removes an unequipped, unlisted item."""
    for i in range(p.num_agents):
        k = actions[i, Head.DESTROY]
        if k == 0 or not ent.alive[i]:
            continue
        s = k - 1
        if _movable(inv, events, i, s):
            emit(events, _DESTROY, i, -1, inv.quantity[i, s], item_code(inv.item[i, s], inv.level[i, s]))
            clear_slot(inv, i, s)


@njit(cache=True)
def gear(ent, inv, p):
    """Phase: equipment attack per style, armor defense and the ammunition slot of every agent."""
    for i in range(p.num_agents):
        ent.gear_attack[i, :] = 0
        ent.gear_defense[i] = 0
        ent.ammo_slot[i] = -1
        for s in range(inv.item.shape[1]):
            if not inv.equipped[i, s]:
                continue
            item, level = inv.item[i, s], inv.level[i, s]
            style = ATTACK_STYLE[item]
            if style >= 0:
                ent.gear_attack[i, style] += ATTACK_BASE[item] + ATTACK_PER_LEVEL[item] * level
            ent.gear_defense[i] += DEFENSE_PER_ITEM_LEVEL[item] * level
            if EQUIP_SLOT[item] == _AMMO:
                ent.ammo_slot[i] = s


@njit(cache=True)
def fire_ammo(ent, inv, events, i, style):
    """Use one equipped ammunition of agent ``i`` when it matches the attack ``style``; the
    slot empties, and its attack is lost, with the last one."""
    s = ent.ammo_slot[i]
    if s < 0 or ATTACK_STYLE[inv.item[i, s]] != style:
        return
    item, level = inv.item[i, s], inv.level[i, s]
    emit(events, _FIRE_AMMO, i, -1, 1, item_code(item, level))
    inv.quantity[i, s] -= 1
    if inv.quantity[i, s] == 0:
        ent.gear_attack[i, style] -= ATTACK_BASE[item] + ATTACK_PER_LEVEL[item] * level
        ent.ammo_slot[i] = -1
        clear_slot(inv, i, s)


@njit(cache=True)
def loot(ent, inv, events, rng, p, i):
    """At the death of entity ``i``: hand its belongings to its killer or destroy them, or give
    an NPC's loot (see the module docstring)."""
    k = ent.killer[i]
    heir = k if (0 <= k < p.num_agents and ent.alive[k] and ent.health[k] > 0) else -1
    if i >= p.num_agents:
        if heir >= 0:
            level = ent.level[i, 0]
            u, item = uniform(rng), 1
            while LOOT_CDF[item] <= u:
                item += 1
            receive(inv, events, heir, i, item, level, 1, _LOOT)
            if p.market:
                ent.gold[heir] += level
                emit(events, _EARN_GOLD, heir, i, level)
        return
    for s in range(inv.item.shape[1]):
        item = inv.item[i, s]
        if item == _NONE:
            continue
        if heir >= 0:
            receive(inv, events, heir, i, item, inv.level[i, s], inv.quantity[i, s], _LOOT)
        else:
            emit(events, _DESTROY, i, -1, inv.quantity[i, s], item_code(item, inv.level[i, s]))
        clear_slot(inv, i, s)
    if heir >= 0 and ent.gold[i] > 0:
        ent.gold[heir] += ent.gold[i]
        emit(events, _EARN_GOLD, heir, i, ent.gold[i])
    ent.gold[i] = 0
    ent.gear_attack[i, :] = 0
    ent.gear_defense[i] = 0
    ent.ammo_slot[i] = -1
