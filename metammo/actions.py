"""The action space and its decoding into entity intents.

Each agent sends one row of integers per tick (a MultiDiscrete space), one per :class:`Head`:

===========  ================  ===========================================================
head         size              meaning
===========  ================  ===========================================================
move         5                 :class:`~metammo.constants.Move`; 0 stays
style        3                 :class:`~metammo.constants.Style` of the attack
target       obs_entities + 1  0 no attack; k attacks the entity in observation row k - 1
comm         128               0 no message; k sends token k to teammates
*full config (shape key ``inventory``) only:*
use          13                0 none; k uses inventory slot k - 1 (equip, unequip, consume)
destroy      13                0 none; k destroys inventory slot k - 1
give_item    13                0 none; k gives inventory slot k - 1 to ``give_target``
give_gold    100               amount of gold to give to ``give_target`` (0 none)
give_target  obs_entities + 1  k: the agent in observation row k - 1
sell_item    13                0 none; k lists inventory slot k - 1 at ``sell_price``
sell_price   100               price 1..99 (0 only with no sale)
buy          161               0 none; 1 + (item - 1) * 10 + level - 1 buys the cheapest
                               listing of that item type and level (the market view's key)
===========  ================  ===========================================================

An out-of-range index or a wrong shape or dtype raises ``ValueError`` before anything changes.
An in-range choice of the first four heads that the observation's action mask forbids is a
silent no-op (a blocked move, a target out of reach), as is anything in a dead agent's row. The
item and market heads are checked against the state when they resolve, in tick order, not
against the mask, which is written before the tick: a choice the state refuses is a no-op
recorded as an ``Event.REJECTED`` with its :class:`~metammo.constants.Rejection` (a listing
bought a moment earlier by another agent is gone), and an earlier phase can make a masked choice
legal (``use`` unequips a hat that ``destroy`` then destroys; gold from a listing bought in the
buy phase can be given). Heads of a system that is off this episode (``items``: use, destroy,
give; ``market``: give_gold, sell, buy) are ignored.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import njit

from metammo.config import Shape
from metammo.constants import (
    INVENTORY_SLOTS,
    MAX_GIVE_GOLD,
    MAX_LEVEL,
    MAX_PRICE,
    NUM_ITEM_TYPES,
    NUM_MOVES,
    NUM_STYLES,
    NUM_TOKENS,
    Event,
)
from metammo.systems.common import emit


class Head(IntEnum):
    """Columns of an action row; the full config's item heads follow the first four."""

    MOVE = 0
    STYLE = 1
    TARGET = 2
    COMM = 3
    USE = 4
    DESTROY = 5
    GIVE_ITEM = 6
    GIVE_GOLD = 7
    GIVE_TARGET = 8
    SELL_ITEM = 9
    SELL_PRICE = 10
    BUY = 11


#: Heads of every config; a shape with ``inventory`` has all of :class:`Head`.
BASE_HEADS = 4


def head_sizes(shape: Shape) -> np.ndarray:
    """Choices per head for ``shape``: ``(4,)`` int64, or ``(len(Head),)`` with ``inventory``."""
    target = shape.obs_entities + 1
    sizes = [NUM_MOVES, NUM_STYLES, target, NUM_TOKENS]
    if shape.inventory:
        slot = INVENTORY_SLOTS + 1
        sizes += [slot, slot, slot, MAX_GIVE_GOLD + 1, target, slot, MAX_PRICE + 1,
                  NUM_ITEM_TYPES * MAX_LEVEL + 1]
    return np.array(sizes, np.int64)


@njit(cache=True)
def _first_out_of_range(actions, sizes):
    for i in range(actions.shape[0]):
        for h in range(actions.shape[1]):
            if actions[i, h] < 0 or actions[i, h] >= sizes[h]:
                return i, h
    return -1, -1


def validate(actions: np.ndarray, sizes: np.ndarray, num_agents: int) -> None:
    """Check an action array without changing anything.

    Raises:
        ValueError: not a ``(num_agents, len(sizes))`` integer array, or an index outside
            ``0 .. size - 1`` of its head (the message names agent, head and allowed range).
    """
    expected = (num_agents, len(sizes))
    if not isinstance(actions, np.ndarray):
        raise ValueError(f"actions must be a numpy array of shape {expected}, got {type(actions).__name__}")
    if actions.shape != expected:
        raise ValueError(f"actions must have shape {expected} (agents, heads), got {actions.shape}")
    if actions.dtype.kind not in "iu":
        raise ValueError(f"actions must have an integer dtype, got {actions.dtype}")
    i, h = _first_out_of_range(actions, sizes)
    if i >= 0:
        raise ValueError(
            f"actions[{i}, {h}] (head {Head(h).name.lower()!r}) = {actions[i, h]} is out of range; "
            f"allowed 0..{sizes[h] - 1}"
        )


_MESSAGE = int(Event.MESSAGE)


@njit(cache=True)
def decode(actions, obs, ids, offsets, ent, events):
    """Phase: turn validated agent actions into ``Entities.act_*`` and messages, dropping every
    choice the masks in ``obs`` (written last tick) forbid. ``ids`` maps entity rows to slots."""
    mm_off, ms_off, mt_off, mc_off = offsets[4], offsets[5], offsets[6], offsets[7]
    for i in range(actions.shape[0]):
        row = obs[i]
        move, style, target, token = actions[i, 0], actions[i, 1], actions[i, 2], actions[i, 3]
        ent.act_move[i] = move if row[mm_off + move] else 0
        ent.act_style[i] = style if row[ms_off + style] else 0
        ent.act_target[i] = ids[i, target - 1] if (target > 0 and row[mt_off + target]) else -1
        ent.message[i] = token if row[mc_off + token] else 0
        if ent.message[i] > 0:
            emit(events, _MESSAGE, i, -1, token)
