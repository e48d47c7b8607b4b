"""Gold and the global market (rules.md §1 "Gold and market").

* **Sell** (after moving): the sell head lists an unequipped inventory item at a price of 1-99
  gold; the item stays in the seller's inventory, locked (it cannot be used, given or
  destroyed), until it is bought or its listing expires. A listing posted at tick t can be
  bought at ticks t + 1 .. t + 3. Listing a listed item again re-prices it and restarts its time.
* **Buy** (before giving and fighting): the buy head names an item type and level; the buyer
  gets the cheapest listing of that key that is not its own (ties: the oldest, then the lowest
  agent and slot), pays its price to the seller, and the item moves. Buyers are served in a
  random order each tick; a listing sold a moment earlier is gone for the next buyer. The order
  is drawn every tick whatever the actions, so a no-op row (a dead agent's, or a refused choice)
  leaves the world's random stream as it was.
* **Market view** (end of tick): per item type and level, the best price and the number of
  listings (:class:`~metammo.state.Market`). DEVIATION from Neural MMO 2.1, which copies all
  384 listings (12 KB) to every agent and lets buy name a listing: the view is 320 bytes and
  buy names a key, which is what a buyer decides on anyway.

Agents in combat cannot buy or sell. Refusals are ``Event.REJECTED`` no-ops: no listing at that
key (gone, never there, or only the buyer's own), the best offer above the buyer's gold, no room
in the buyer's inventory, an empty or equipped slot, a price outside 1-99.

The masks are written from the end of the previous tick, so a choice they allow can still be
refused by what happens first in the tick: another buyer takes the listing, a fight starts
before the sell phase, or the best offer in the view is the buyer's own listing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from metammo.actions import Head
from metammo.constants import LISTING_TICKS, MAX_LEVEL, Event, Item, Rejection
from metammo.systems.common import emit, item_code, shuffled
from metammo.systems.items import clear_slot, in_combat, put, reject, slot_for

_NONE = int(Item.NONE)
_LIST = int(Event.LIST)
_BUY, _SELL, _EARN_GOLD, _SPEND_GOLD = int(Event.BUY), int(Event.SELL), int(Event.EARN_GOLD), int(Event.SPEND_GOLD)
_EMPTY_SLOT, _IN_COMBAT, _EQUIPPED = int(Rejection.EMPTY_SLOT), int(Rejection.IN_COMBAT), int(Rejection.EQUIPPED)
_NO_LISTING, _UNAFFORDABLE, _FULL = int(Rejection.NO_LISTING), int(Rejection.UNAFFORDABLE), int(Rejection.INVENTORY_FULL)
_BAD_PRICE = int(Rejection.BAD_PRICE)


@njit(cache=True)
def market_key(item, level):
    """Row of the market view and the buy head (minus one) for ``item`` at ``level``."""
    return (item - 1) * MAX_LEVEL + level - 1


@njit(cache=True)
def _order_book(inv, num_keys):
    """Active listings sorted by (key, price, listed tick, agent, slot), and per key the start
    of its run: ``(owners, slots, start)`` with ``start`` of length ``num_keys + 1``."""
    n_agents, n_slots = inv.item.shape
    sort_key = np.empty(n_agents * n_slots, np.int64)
    where = np.empty(n_agents * n_slots, np.int64)
    n = 0
    for a in range(n_agents):
        for s in range(n_slots):
            if inv.price[a, s] > 0:
                k = market_key(inv.item[a, s], inv.level[a, s])
                sort_key[n] = (((k * 128 + inv.price[a, s]) << 32) + inv.listed_tick[a, s]) * 65536 + a * n_slots + s
                where[n] = a * n_slots + s
                n += 1
    order = np.argsort(sort_key[:n])
    owners = np.empty(n, np.int64)
    slots = np.empty(n, np.int64)
    start = np.zeros(num_keys + 1, np.int64)
    for q in range(n):
        w = where[order[q]]
        owners[q], slots[q] = w // n_slots, w % n_slots
        start[market_key(inv.item[owners[q], slots[q]], inv.level[owners[q], slots[q]]) + 1] += 1
    for k in range(num_keys):
        start[k + 1] += start[k]
    return owners, slots, start


@njit(cache=True)
def buy(actions, ent, inv, market, events, rng, p, tick):
    """Phase: the buy head (see the module docstring)."""
    order = shuffled(rng, p.num_agents)
    buyers = 0
    for i in range(p.num_agents):
        buyers += actions[i, Head.BUY] > 0 and ent.alive[i]
    if buyers == 0:
        return
    num_keys = market.best_price.shape[0]
    owners, slots, start = _order_book(inv, num_keys)
    sold = np.zeros(owners.shape[0], np.bool_)
    for i in order:
        b = actions[i, Head.BUY]
        if b == 0 or not ent.alive[i]:
            continue
        k = b - 1
        if in_combat(ent, i, tick):
            reject(events, i, _IN_COMBAT)
            continue
        q = start[k]  # the best offer left that is not the buyer's own
        while q < start[k + 1] and (sold[q] or owners[q] == i):
            q += 1
        if q == start[k + 1]:
            reject(events, i, _NO_LISTING)
            continue
        seller, s = owners[q], slots[q]
        price = inv.price[seller, s]
        if price > ent.gold[i]:
            reject(events, i, _UNAFFORDABLE)
            continue
        item, level, quantity = inv.item[seller, s], inv.level[seller, s], inv.quantity[seller, s]
        d = slot_for(inv, i, item, level)
        if d < 0:
            reject(events, i, _FULL)
            continue
        sold[q] = True
        clear_slot(inv, seller, s)
        put(inv, i, d, item, level, quantity)
        ent.gold[i] -= price
        ent.gold[seller] += price
        code = item_code(item, level)
        emit(events, _BUY, i, seller, price, code)
        emit(events, _SPEND_GOLD, i, seller, price)
        emit(events, _SELL, seller, i, price, code)
        emit(events, _EARN_GOLD, seller, i, price)


@njit(cache=True)
def sell(actions, ent, inv, events, p, tick):
    """Phase: the sell head lists an item at the sell-price head's price."""
    for i in range(p.num_agents):
        k = actions[i, Head.SELL_ITEM]
        if k == 0 or not ent.alive[i]:
            continue
        s, price = k - 1, actions[i, Head.SELL_PRICE]
        if inv.item[i, s] == _NONE:
            reject(events, i, _EMPTY_SLOT)
        elif in_combat(ent, i, tick):
            reject(events, i, _IN_COMBAT)
        elif inv.equipped[i, s]:
            reject(events, i, _EQUIPPED)
        elif price < 1:
            reject(events, i, _BAD_PRICE)
        else:
            inv.price[i, s] = price
            inv.listed_tick[i, s] = tick
            emit(events, _LIST, i, -1, price, item_code(inv.item[i, s], inv.level[i, s]))


@njit(cache=True)
def market_view(inv, market, tick):
    """Phase: expire listings older than LISTING_TICKS and rebuild the market view."""
    market.best_price[:] = 0
    market.supply[:] = 0
    for a in range(inv.item.shape[0]):
        for s in range(inv.item.shape[1]):
            price = inv.price[a, s]
            if price == 0:
                continue
            if tick - inv.listed_tick[a, s] >= LISTING_TICKS:
                inv.price[a, s] = 0
                inv.listed_tick[a, s] = 0
                continue
            k = market_key(inv.item[a, s], inv.level[a, s])
            market.supply[k] += 1
            if market.best_price[k] == 0 or price < market.best_price[k]:
                market.best_price[k] = price
