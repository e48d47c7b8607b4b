"""The scripted reference bot: a sensible player of the full game, and of the mini game as the
subset. It reads only the observation (like any policy), needs no torch, and decides for all
agents in one compiled pass.

Each tick, for each live agent, in priority order:

1. **Fight**: attack the entity that hit it, else the weakest attackable NPC not above its level
   + 1, else an agent it outclasses (lower level sum and health); with the style that deals the
   most damage (level, equipment, and the 1.5x counter bonus against the target's main style).
2. **Move** (first match): away from the death fog (toward the centre); to water when thirsty
   and to foliage when hungry (the nearest in view, else the last one seen; foliage that a
   teammate in view after food, hungry and not thirsty, stands nearer to is left to it, and
   such teammates on one tile split up among the nearest few at random); toward its prey when
   out of reach; to the nearest resource to harvest (full config); else onward in its current
   heading, turning when blocked or at random. Where the terrain blocks the straight step toward the centre, or to
   food or water in view, it walks around by a shortest path through the tiles in view (to a
   remembered tile, its prey or its leader it takes the greedy step).
3. **Items** (full config; one use, one sale and one purchase per tick): eat a ration or drink a
   potion when low; equip the best usable item for each slot (weapon over tool in the hand);
   list surplus (duplicates and items worse than what it wears) at a price set by level, or
   destroy it when the market is off and the bag is full; buy armor upgrades it can wear and
   afford, and a ration or potion when it has none.

4. **Per game** (told by the game vector's game identity, :data:`GAME_MODES`): in Race to the
   Center it walks to the centre tile unless hungry or thirsty and farther from it than its food
   and water last; in King of the Hill it goes to the centre, hungry or not, stays on it and
   attacks any rival in reach; hurt (health below :data:`HURT`) it starts no fights with agents
   (rule 1), and leaves or keeps off the centre only to eat or drink below :data:`HOLD_LOW`,
   where it sees or remembers food or water (else it holds, even starving); in Protect the King
   a member keeps within :data:`GUARD_RANGE` tiles of its leader (where it last saw it, when out
   of view), and a fed leader stays put instead of wandering. Everywhere it flees the fog once it has risen where it
   stands (:data:`FOG_ALARM`), and otherwise it seeks food, water, prey and its leader out of
   the fog only and never steps into it (only fleeing and racing to the centre, which the fog
   rises away from, are not checked).

The bot is the leaderboard's reference opponent, so it is deterministic given its seed and
cheap: see the README's measured figures for its cost per agent-step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from metammo.config import Tunables
from metammo.constants import (
    ATTACK_STYLE,
    COUNTERS,
    EQUIP_SLOT,
    HARVEST_SKILL,
    HEALTH_MAX,
    MAX_LEVEL,
    MOVE_DELTA,
    NUM_STYLES,
    PASSABLE,
    EquipSlot,
    Item,
    Kind,
    Material,
    Move,
)
from metammo.observation import (
    ENTITY_FEATURES,
    INVENTORY_FEATURES,
    EntityFeature as E,
    GameFeature,
    InventoryFeature as I,
    Layout,
    ProfileFeature as P,
    SelfFeature as S,
    System,
    TileChannel,
    game_id,
)
from metammo.systems.common import randint, uniform

_FOLIAGE, _WATER, _FISH = int(Material.FOLIAGE), int(Material.WATER), int(Material.FISH)
_AGENT, _PASSIVE = int(Kind.AGENT), int(Kind.PASSIVE)
_N, _S, _E, _W = int(Move.NORTH), int(Move.SOUTH), int(Move.EAST), int(Move.WEST)
_RATION, _POTION = int(Item.RATION), int(Item.POTION)
_HELD = int(EquipSlot.HELD)
_MARKET = int(System.MARKET)
_ARMOR = np.array([Item.HAT, Item.TOP, Item.BOTTOM], np.int64)
#: A fog byte above this (fog value above 0: the fog has risen here, and hurts above 0.5) sends
#: the bot toward the centre, and keeps it from stepping onto such a tile otherwise. (The
#: playable edge is at 0 and the ring inside it at -1 before the fog rises: a lower alarm sent
#: agents there back and forth from tick 0.)
FOG_ALARM = 64
#: Food or water below this sends the bot to eat or drink; rations and potions are used below it.
LOW = 45
#: Health below this: no new fights with agents, drink a potion when there is one.
HURT = 50
#: Race to the Center: food and water lost per tick (the config's default) and the ticks an
#: agent lives with both at 0 (full health, the default starvation damage from each): a racer
#: closer to the centre than its food or water lasts keeps racing instead of turning back to eat.
DEPLETION = max(Tunables.food_depletion, Tunables.water_depletion)
STARVING_TICKS = HEALTH_MAX // (2 * Tunables.starvation_damage)
#: King of the Hill: food or water below this (not LOW) sends a hurt bot (health below HURT) to eat.
HOLD_LOW = 25
#: A guard (Protect the King) walks back to its leader beyond this Chebyshev distance.
GUARD_RANGE = 2
_DEFAULT, _RACE, _HOLD, _GUARD = 0, 1, 2, 3
#: Per-game behaviour of the bot, by registered game name (other games: the default).
GAME_MODES = {"race_to_the_center": _RACE, "king_of_the_hill": _HOLD, "protect_the_king": _GUARD}
#: Chance per tick to turn while exploring.
TURN_P = 0.05
#: Rations and potions kept before the rest count as surplus.
KEEP_CONSUMABLES = 2


@njit(cache=True)
def _axis_moves(dr, dc):
    """``(first, second)``: the moves that close the larger and the smaller gap of (dr, dc), 0
    where a gap is 0."""
    vertical = _S if dr > 0 else (_N if dr < 0 else 0)
    horizontal = _E if dc > 0 else (_W if dc < 0 else 0)
    return (vertical, horizontal) if abs(dr) >= abs(dc) else (horizontal, vertical)


@njit(cache=True)
def _step_toward(row, mm, dr, dc):
    """The move that closes the larger gap of (dr, dc), else the other, else 0 (blocked)."""
    first, second = _axis_moves(dr, dc)
    if first != 0 and row[mm + first]:
        return first
    if second != 0 and row[mm + second]:
        return second
    return 0


@njit(cache=True)
def _path_toward(row, t_off, mm, vision, dr, dc):
    """The first move of a shortest walk, over passable tiles in view, to the tile in view
    nearest (Manhattan) the point ``(dr, dc)`` tiles away (which may lie out of view); 0 when
    no reachable tile in view is nearer than where the agent stands. A breadth-first search
    over the ``(2 * vision + 1)**2`` tile plane, for when the straight step is blocked."""
    side = 2 * vision + 1
    n = side * side
    start = vision * side + vision
    first = np.zeros(n, np.int64)  # the move that starts the walk to each tile; 0: not reached
    queue = np.empty(n, np.int64)
    queue[0], head, tail = start, 0, 1
    best, best_d = start, abs(dr) + abs(dc)
    bound = max(abs(dr) - vision, 0) + max(abs(dc) - vision, 0)  # no tile in view is nearer
    while head < tail and best_d > bound:
        t = queue[head]
        head += 1
        r, c = t // side, t % side
        for m, u in ((_N, t - side if r > 0 else -1), (_S, t + side if r < side - 1 else -1),
                     (_E, t + 1 if c < side - 1 else -1), (_W, t - 1 if c > 0 else -1)):
            if u < 0 or u == start or first[u] != 0 or not PASSABLE[row[t_off + u]]:
                continue
            if t == start and not row[mm + m]:  # the first step must be a legal move now
                continue
            first[u] = m if t == start else first[t]
            d = abs(dr - (u // side - vision)) + abs(dc - (u % side - vision))
            if d < best_d:
                best, best_d = u, d
            queue[tail] = u
            tail += 1
    return first[best]


@njit(cache=True)
def _walk_toward(row, t_off, mm, vision, dr, dc):
    """The straight step toward the point ``(dr, dc)`` tiles away (the centre, food, water) when
    it is open; when an agent stands there, the step along the other axis
    (:func:`_step_toward`); when the terrain blocks it, the first step of a walk around
    (:func:`_path_toward`)."""
    first = _axis_moves(dr, dc)[0]
    if first == 0 or row[mm + first]:
        return first
    ahead = (vision + MOVE_DELTA[first, 0]) * (2 * vision + 1) + vision + MOVE_DELTA[first, 1]
    if PASSABLE[row[t_off + ahead]]:  # an agent in the way
        return _step_toward(row, mm, dr, dc)
    return _path_toward(row, t_off, mm, vision, dr, dc)


@njit(cache=True)
def _foggy(row, t_off, vision, move):
    """Whether ``move`` steps onto a tile where the fog has risen (byte above :data:`FOG_ALARM`)."""
    side = 2 * vision + 1
    ahead = (vision + MOVE_DELTA[move, 0]) * side + vision + MOVE_DELTA[move, 1]
    return row[t_off + TileChannel.FOG * side * side + ahead] > FOG_ALARM


@njit(cache=True)
def _explore(row, t_off, mm, vision, heading, rng):
    """Keep the heading while it is open, else (or at random) turn to an open direction; a
    direction into the fog is not open, and a heading into it waits at the fog's edge (turning
    there, inward or along the edge, sent Sandwich's agents toward its NPCs at the centre: its
    last agent died ~50 ticks sooner at the evaluation settings)."""
    if heading[0] != 0 and row[mm + heading[0]] and _foggy(row, t_off, vision, heading[0]):
        return 0
    if heading[0] == 0 or not row[mm + heading[0]] or uniform(rng) < TURN_P:
        open_moves = 0
        for m in range(1, 5):
            open_moves += row[mm + m] and not _foggy(row, t_off, vision, m)
        if open_moves == 0:
            heading[0] = 0
            return 0
        pick = randint(rng, open_moves)
        for m in range(1, 5):
            if row[mm + m] and not _foggy(row, t_off, vision, m):
                if pick == 0:
                    heading[0] = m
                    break
                pick -= 1
    return heading[0]


@njit(cache=True)
def _foraging(row, base, low):
    """Whether the teammate in the entity row at ``base`` is after food: hungry (food below
    ``low``, the bot's threshold in this game) and not thirsty, which sends it to water first."""
    return row[base + E.FOOD] < low and row[base + E.WATER] >= low


@njit(cache=True)
def _share_foliage(row, t_off, e_off, n_rows, vision, low, rng):
    """The foliage a hungry agent walks to when teammates after food (:func:`_foraging`) are in
    view: the nearest tile in view and out of the fog (ties in row-major order) that no such
    teammate stands nearer to.
    Teammates on its own tile see what it sees and would all pick the same tile, which feeds
    one of them: among them each takes one of the nearest few at random.

    Returns:
        ``(dr, dc, drawn)``: the tile's offset (``(0, 0)``: every tile is nearer a teammate), and
        whether the choice was drawn at random.
    """
    side = 2 * vision + 1
    plane = side * side
    mates = np.empty((n_rows, 2), np.int64)  # offsets of the hungry teammates not on its tile
    n, stacked = 0, 0
    for k in range(n_rows):
        base = e_off + k * ENTITY_FEATURES
        if not row[base + E.PRESENT]:
            break
        if row[base + E.TEAMMATE] and _foraging(row, base, low):
            dr, dc = row[base + E.ROW] - vision, row[base + E.COL] - vision
            if dr == 0 and dc == 0:
                stacked += 1
            else:
                mates[n, 0], mates[n, 1] = dr, dc
                n += 1
    skip = randint(rng, stacked + 1) if stacked > 0 else 0
    fr = fc = 0
    for d in range(1, 2 * vision + 1):  # the rings of Manhattan distance d, in row-major order
        for dr in range(max(-d, -vision), min(d, vision) + 1):
            for sign in (-1, 1):
                dc = sign * (d - abs(dr))
                if abs(dc) > vision or (sign == 1 and dc == 0):
                    continue
                t = (dr + vision) * side + dc + vision
                if row[t_off + t] != _FOLIAGE or row[t_off + TileChannel.FOG * plane + t] > FOG_ALARM:
                    continue
                mine = True
                for q in range(n):
                    mine &= abs(dr - mates[q, 0]) + abs(dc - mates[q, 1]) >= d
                if mine:
                    fr, fc = dr, dc
                    if skip == 0:
                        return fr, fc, stacked > 0
                    skip -= 1
    return fr, fc, stacked > 0  # fewer tiles than the draw: the farthest


@njit(cache=True)
def _best_style(row, s_off, prof, full, target_style, style_mask):
    """The allowed style with the most damage against a target of main style ``target_style``."""
    best, best_damage = 0, -1.0
    for st in range(NUM_STYLES):
        if not row[style_mask + st]:
            continue
        offense = 10.0 + 5.0 * row[s_off + S.LEVEL_MELEE + st]
        if full:
            offense += row[prof + P.ATTACK_MELEE + st]
        if COUNTERS[st] == target_style:
            offense *= 1.5
        if offense > best_damage:
            best, best_damage = st, offense
    return best


@njit(cache=True)
def _price(item, level):
    """Asking price: consumables cheap, equipment by level."""
    if item == _RATION or item == _POTION:
        return 2 + level
    return min(3 * level + 2, 99)


@njit(cache=True)
def _items(row, out, off, mask_off, full_market, level_cap):
    """Use, sell and buy choices from the inventory, profile and market parts."""
    inv, prof, mkt = off[8], off[9], off[10]
    m_use, m_destroy, m_sell, m_price, m_buy = mask_off[4], mask_off[5], mask_off[9], mask_off[10], mask_off[11]
    s_off = off[2]
    food, water, health = row[s_off + S.FOOD], row[s_off + S.WATER], row[s_off + S.HEALTH]
    # what is worn, and the best usable candidate per equipment slot
    worn = np.zeros(5, np.int64)
    best_slot = np.full(5, -1, np.int64)
    best_level = np.zeros(5, np.int64)
    weapon_in_hand = False
    rations, potions, ration_slot, potion_slot = 0, 0, -1, -1
    for s in range(12):
        base = inv + s * INVENTORY_FEATURES
        item, level = row[base + I.ITEM], row[base + I.LEVEL]
        if item == 0:
            continue
        slot = EQUIP_SLOT[item]
        if row[base + I.EQUIPPED]:
            worn[slot] = level
            if slot == _HELD and ATTACK_STYLE[item] >= 0:
                weapon_in_hand = True
        if item == _RATION:
            rations += 1
            if row[m_use + 1 + s]:
                ration_slot = s
        elif item == _POTION:
            potions += 1
            if row[m_use + 1 + s]:
                potion_slot = s
    for s in range(12):
        base = inv + s * INVENTORY_FEATURES
        item, level = row[base + I.ITEM], row[base + I.LEVEL]
        if item == 0 or row[base + I.EQUIPPED] or not row[m_use + 1 + s]:
            continue
        slot = EQUIP_SLOT[item]
        if slot < 0:
            continue
        is_weapon = ATTACK_STYLE[item] >= 0
        if slot == _HELD and weapon_in_hand and not is_weapon:
            continue  # a weapon in hand beats a tool
        bonus = 100 if (slot == _HELD and is_weapon and not weapon_in_hand) else 0
        if level + bonus > best_level[slot] and level > worn[slot] - bonus:
            best_slot[slot], best_level[slot] = s, level + bonus
    # use: consume when low, else equip an upgrade
    if (food < LOW or water < LOW) and ration_slot >= 0:
        out[4] = ration_slot + 1
    elif health < HURT and potion_slot >= 0:
        out[4] = potion_slot + 1
    else:
        for slot in range(5):
            if best_slot[slot] >= 0:
                out[4] = best_slot[slot] + 1
                break
    # surplus: not an upgrade, not worn, beyond the kept consumables
    kept_r, kept_p = 0, 0
    for s in range(12):
        base = inv + s * INVENTORY_FEATURES
        item, level = row[base + I.ITEM], row[base + I.LEVEL]
        if item == 0 or row[base + I.EQUIPPED] or row[base + I.PRICE] > 0 or s == out[4] - 1:
            continue
        surplus = False
        if item == _RATION:
            kept_r += 1
            surplus = kept_r > KEEP_CONSUMABLES
        elif item == _POTION:
            kept_p += 1
            surplus = kept_p > KEEP_CONSUMABLES
        else:
            slot = EQUIP_SLOT[item]
            surplus = best_slot[slot] != s and (level <= worn[slot] or not row[base + I.USABLE])
        if not surplus:
            continue
        if full_market and row[m_sell + 1 + s]:
            out[9] = s + 1
            out[10] = _price(item, level)
            break
        if not full_market and row[prof + P.FREE_SLOTS] == 0 and row[m_destroy + 1 + s]:
            out[5] = s + 1
            break
    if out[9] == 0:
        out[10] = 0 if row[m_price] else 1
    # buy: an armor upgrade it can wear, else a consumable when it has none
    if not full_market:
        return
    gold = row[prof + P.GOLD]
    for a in range(3):
        item = _ARMOR[a]
        for level in range(min(level_cap, MAX_LEVEL), worn[a], -1):
            key = (item - 1) * MAX_LEVEL + level - 1
            if row[m_buy + 1 + key]:
                out[11] = key + 1
                return
    for c in range(2):
        item, have = (_RATION, rations) if c == 0 else (_POTION, potions)
        if have > 0:
            continue
        for level in range(1, min(level_cap, MAX_LEVEL) + 1):
            key = (item - 1) * MAX_LEVEL + level - 1
            if row[m_buy + 1 + key] and row[mkt + 2 * key] <= max(gold // 4, 3):
                out[11] = key + 1
                return


@njit(cache=True)
def _mode(row, game_off, mode_ids, modes):
    """The bot's per-game mode from the game vector's identity bytes."""
    for k in range(modes.shape[0]):
        same = True
        for b in range(mode_ids.shape[1]):
            same &= row[game_off + GameFeature.GAME + b] == mode_ids[k, b]
        if same:
            return modes[k]
    return _DEFAULT


@njit(cache=True)
def _act(obs, off, mask_off, vision, state, rng, out, sure, mode_ids, modes):
    side = 2 * vision + 1
    plane = side * side
    t_off, e_off, s_off = off[0], off[1], off[2]
    mm, ms, mt = mask_off[0], mask_off[1], mask_off[2]
    full = off.shape[0] > 8
    n_rows = (s_off - e_off) // ENTITY_FEATURES
    for i in range(obs.shape[0]):
        row = obs[i]
        out[i, :] = 0
        sure[i, :] = False
        if not row[s_off + S.ALIVE]:
            state[i, 0] = 0
            state[i, 1:] = -1
            if full:
                out[i, 10] = 0 if row[mask_off[10]] else 1
            continue
        mode = _mode(row, off[3], mode_ids, modes)
        health, food, water = row[s_off + S.HEALTH], row[s_off + S.FOOD], row[s_off + S.WATER]
        my_levels = row[s_off + S.LEVEL_MELEE] + row[s_off + S.LEVEL_RANGE] + row[s_off + S.LEVEL_MAGE]
        my_top = max(row[s_off + S.LEVEL_MELEE], max(row[s_off + S.LEVEL_RANGE], row[s_off + S.LEVEL_MAGE]))
        # --- fight ---
        low = HOLD_LOW if mode == _HOLD else LOW
        target, prey, score = -1, -1, 1 << 30
        foraging_mates = 0
        for k in range(n_rows):
            base = e_off + k * ENTITY_FEATURES
            if not row[base + E.PRESENT]:
                break
            kind = row[base + E.KIND]
            if row[base + E.TEAMMATE]:
                foraging_mates += _foraging(row, base, low)
                continue
            level = max(row[base + E.LEVEL_MELEE], max(row[base + E.LEVEL_RANGE], row[base + E.LEVEL_MAGE]))
            levels = row[base + E.LEVEL_MELEE] + row[base + E.LEVEL_RANGE] + row[base + E.LEVEL_MAGE]
            hp = row[base + E.HEALTH]
            if row[base + E.ATTACKED_ME]:
                value = -1000 + hp
            elif kind != _AGENT:
                value = hp + 100 * level if level <= my_top + 1 else 1 << 29
            elif health >= HURT and ((levels < my_levels and hp < health) or (mode == _HOLD and row[mt + 1 + k])):
                value = 300 + hp
            else:
                value = 1 << 29
            if value < score:
                score, prey = value, k
        sure[i, 2] = True  # whom to attack (or no one) follows from the entities in view
        if prey >= 0 and score < (1 << 29):
            if row[mt + 1 + prey]:
                target = prey
                sure[i, 1] = True
                out[i, 2] = prey + 1
                out[i, 1] = _best_style(row, s_off, off[9] if full else 0, full,
                                        row[e_off + prey * ENTITY_FEATURES + E.STYLE], ms)
        # --- move ---
        move = 0
        wander = False
        centre = (row[s_off + S.MAP_SIZE] - 1) // 2
        to_centre_r, to_centre_c = centre - row[s_off + S.ROW], centre - row[s_off + S.COL]
        at_centre = to_centre_r == 0 and to_centre_c == 0
        # Race: race while fed, or when the centre is nearer than the ticks left before starving.
        # King of the Hill: go to the centre and hold it while healthy, hungry or not (a team
        # that leaves it loses its hold).
        reach = min(food, water) // DEPLETION + STARVING_TICKS
        near = abs(to_centre_r) + abs(to_centre_c) <= reach
        racing = not at_centre and ((mode == _RACE and (min(food, water) >= LOW or near))
                                    or (mode == _HOLD and health >= HURT))
        holding = mode == _HOLD and at_centre and health >= HURT
        fleeing = row[s_off + S.FOG] > FOG_ALARM
        if fleeing or racing:
            move = _walk_toward(row, t_off, mm, vision, to_centre_r, to_centre_c)
            if move == 0 and not at_centre:
                move = _explore(row, t_off, mm, vision, state[i], rng)
                wander = True
        else:
            me_r, me_c = row[s_off + S.ROW], row[s_off + S.COL]
            memory = state[i]
            guard_r = guard_c = 0  # offset to a leader out of guard range
            if mode == _GUARD and not row[off[3] + GameFeature.LEADER]:
                seen = False
                for k in range(n_rows):
                    base = e_off + k * ENTITY_FEATURES
                    if not row[base + E.PRESENT]:
                        break
                    if row[base + E.TEAMMATE] and row[base + E.LEADER]:
                        dr_, dc_ = row[base + E.ROW] - vision, row[base + E.COL] - vision
                        memory[5], memory[6] = me_r + dr_, me_c + dc_
                        seen = True
                        break
                if not seen and memory[5] >= 0 and max(abs(memory[5] - me_r), abs(memory[6] - me_c)) <= GUARD_RANGE:
                    memory[5] = memory[6] = -1  # where it was last seen, and gone: lost
                if memory[5] >= 0 and max(abs(memory[5] - me_r), abs(memory[6] - me_c)) > GUARD_RANGE:
                    guard_r, guard_c = memory[5] - me_r, memory[6] - me_c
            # nearest foliage, water and resource in view out of the fog (Manhattan distance)
            best_f, best_w, best_r = 1 << 20, 1 << 20, 1 << 20
            fr = fc = wr = wc = rr = rc = 0
            for dr in range(side):
                for dc in range(side):
                    if row[t_off + TileChannel.FOG * plane + dr * side + dc] > FOG_ALARM:
                        continue
                    m = row[t_off + dr * side + dc]
                    d = abs(dr - vision) + abs(dc - vision)
                    if m == _FOLIAGE and d < best_f:
                        best_f, fr, fc = d, dr - vision, dc - vision
                    elif m == _WATER and d < best_w:
                        best_w, wr, wc = d, dr - vision, dc - vision
                    elif full and HARVEST_SKILL[m] >= 0 and d < best_r:
                        best_r, rr, rc = d, dr - vision, dc - vision
            if best_w <= plane:
                memory[1], memory[2] = me_r + wr, me_c + wc
            elif memory[1] >= 0 and abs(memory[1] - me_r) <= vision and abs(memory[2] - me_c) <= vision:
                memory[1] = -1  # the remembered water is in view and in the fog
            if best_f <= plane:
                memory[3], memory[4] = me_r + fr, me_c + fc
            elif memory[3] >= 0 and abs(memory[3] - me_r) <= vision and abs(memory[4] - me_c) <= vision:
                memory[3] = -1  # the remembered foliage is in view and gone (eaten, or in the fog)
            thirsty, hungry = water < low, food < low
            goal = 0  # the memory columns of a remembered tile it walks to (0: none)
            if holding:
                move = 0
            elif thirsty and best_w <= plane:
                if best_w > 1:
                    move = _walk_toward(row, t_off, mm, vision, wr, wc)
            elif thirsty and memory[1] >= 0:
                move, goal = _step_toward(row, mm, memory[1] - me_r, memory[2] - me_c), 1
            elif hungry and best_f <= plane:
                if best_f > 0:
                    if foraging_mates > 0:
                        fr, fc, wander = _share_foliage(row, t_off, e_off, n_rows, vision, low, rng)
                    if fr != 0 or fc != 0:
                        move = _walk_toward(row, t_off, mm, vision, fr, fc)
            elif hungry and memory[3] >= 0:
                move, goal = _step_toward(row, mm, memory[3] - me_r, memory[4] - me_c), 3
            elif mode == _HOLD:  # hurt, with nothing to eat or drink on the way: to the centre, and on it stay
                holding = at_centre
                if not at_centre:
                    move = _walk_toward(row, t_off, mm, vision, to_centre_r, to_centre_c)
            elif guard_r != 0 or guard_c != 0:
                move, goal = _step_toward(row, mm, guard_r, guard_c), 5
            elif prey >= 0 and target < 0 and score < (1 << 29) and row[e_off + prey * ENTITY_FEATURES + E.KIND] != _PASSIVE:
                base = e_off + prey * ENTITY_FEATURES
                move = _step_toward(row, mm, row[base + E.ROW] - vision, row[base + E.COL] - vision)
            elif full and best_r <= plane and best_r > 0 and row[off[9] + P.FREE_SLOTS] > 0:
                # fish is harvested from next to it; the rest by standing on it
                at = row[t_off + (rr + vision) * side + rc + vision]
                if not (at == _FISH and best_r == 1):
                    move = _step_toward(row, mm, rr, rc)
            # Protect the King: a fed leader stays where its guards can find it, and a fed guard
            # by its leader stays there
            guarding = mode == _GUARD and (row[off[3] + GameFeature.LEADER] or (memory[5] >= 0 and guard_r == 0
                                                                                  and guard_c == 0))
            settled = (thirsty and best_w == 1) or (hungry and best_f == 0) or holding or (
                guarding and not (thirsty or hungry))
            if move != 0 and _foggy(row, t_off, vision, move):
                move = 0  # the way to a remembered tile, prey or a leader leads into the fog
                if goal > 0:
                    memory[goal] = memory[goal + 1] = -1  # forget it: the fog keeps it
            if move == 0 and (thirsty or hungry) and not settled:
                # nothing known: the centre is farther from the all-grass edge ring, and the fog
                centre = row[s_off + S.MAP_SIZE] // 2
                move = _step_toward(row, mm, centre - me_r, centre - me_c)
                if move != 0 and _foggy(row, t_off, vision, move):
                    move = 0
            if move == 0 and not settled:
                move = _explore(row, t_off, mm, vision, memory, rng)
                wander = True
        out[i, 0] = move
        sure[i, 0] = not wander
        # --- items ---
        if full:
            _items(row, out[i], off, mask_off, row[off[3] + _MARKET] == 1, my_top)


class ScriptedPolicy:
    """The scripted reference bot (see the module docstring), behind the policy interface.

    Args:
        layout: the env's observation layout (mini or full).
        head_sizes: the env's action head sizes.
        seed: seed of the bot's own random stream (exploration turns).
    """

    def __init__(self, layout: Layout, head_sizes: np.ndarray, seed: int = 0):
        self.layout = layout
        self.head_sizes = np.asarray(head_sizes, np.int64)
        self._rng = np.array([np.random.default_rng(seed).integers(2**63)], np.uint64)
        self._mode_ids = np.array([list(game_id(name)) for name in GAME_MODES], np.uint8)
        self._modes = np.array(list(GAME_MODES.values()), np.int64)

    def initial_state(self, num_agents: int) -> np.ndarray:
        """``(num_agents, 7)`` int64 per agent: exploration heading (a Move, 0 none), then the
        last water, foliage and (Protect the King) leader tiles seen (row, col in the playable
        square; -1 none)."""
        state = np.full((num_agents, 7), -1, np.int64)
        state[:, 0] = 0
        return state

    def act(self, observations: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions, state, _ = self.decide(observations, state)
        return actions, state

    def decide(self, observations: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`act`, plus which of its choices follow from what the agent sees (a teacher's
        labels, see :class:`baselines.ppo.KickstartConfig`).

        Returns:
            actions ``(B, H)`` int32, the new state, and ``sure`` ``(B, H)`` bool: per live agent,
            the move unless it wandered (a random heading, the bot's own state), the attack
            target (an entity or no one), the style when it attacks; never the comm token or
            the full config's item and market heads.
        """
        actions = np.zeros((observations.shape[0], len(self.head_sizes)), np.int32)
        sure = np.zeros(actions.shape, bool)
        _act(observations, self.layout.offsets, self.layout.mask_offsets, self.layout.vision,
             state, self._rng, actions, sure, self._mode_ids, self._modes)
        return actions, state, sure
