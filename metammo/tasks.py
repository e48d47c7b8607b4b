"""Tasks: predicates over the world state and event log, combinators, delta-progress rewards.

The Neural MMO 2.0 task system (rules.md §1 "Tasks"). A **predicate** maps the state and a
subject to a progress in [0, 1]; **combinators** join them: ``AND`` (min), ``OR`` (max), ``NOT``
(1 - x), ``ADD`` (sum, clipped at 1), ``SUB`` (first minus the rest, clipped at 0), ``MUL``
(product). A **task** is a predicate tree plus a **subject**: ``agent`` (the agent alone) or
``team`` (its team: event counts, XP and gold summed over members; levels, time alive and
distances the best member's; "any member" for tile predicates). A task's reward each tick is
the change of its progress, until the progress first reaches 1; the progress is 0 before the
first tick, so what holds at spawn is paid on the first tick, as in the reference; a subject
makes no progress once none of its members is alive or died this tick. The tick an agent dies still counts, as
in the reference, which scores the agents "alive and dead this tick": predicates of where a
member is (what it sees, the tile it stands on, its distance to the centre or its leader)
read a member who died this tick where it died; what it held is gone (``InventorySpaceGE``
counts live members only, and items owned or worn leave with a death).

Tasks are plain data, as curricula files hold them::

    {"name": "eat_and_drink", "subject": "agent",
     "task": {"AND": [{"CountEvent": {"event": "eat", "n": 5}},
                      {"CountEvent": {"event": "drink", "n": 5}}]}}

A node is ``{PREDICATE: {arg: value}}``, ``{COMBINATOR: [node, ...]}`` (``NOT`` takes one node)
or a number in [0, 1] (a constant, e.g. a weight inside ``MUL``). :data:`PREDICATES` lists every
predicate with its arguments. Event-based predicates count events of that kind (the event log's
``Events.counts``), whatever the item or amount; the gold predicates (``EarnGold``,
``SpendGold``, ``MakeProfit``) sum gold amounts (``Events.amounts``), as the reference does.
``SeizeTile`` and ``SeizeCenter`` read the holds that :class:`minigames.base.Minigame` keeps of
the tiles its tasks name (a team holds a tile from the tick its live members stand there with
no other agent until another team does; its count rises each tick it stands there alone).

Trees compile to a postfix program (:func:`compile_tasks`) that one compiled kernel evaluates
for every agent each tick (:func:`score_tasks`). :func:`embed` maps a definition to a fixed 16-byte
vector built from its predicates, arguments, combinators and subject, so tasks never seen in
training still get meaningful, stable vectors.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from numba import njit

from metammo.constants import (
    EQUIP_SLOT,
    INVENTORY_SLOTS,
    MAX_LEVEL,
    Event,
    Item,
    Material,
    Skill,
)
from metammo.files import plain
from metammo.systems.common import centre_tile

#: Length of a task embedding, in bytes (the observation's task slot).
EMBED_DIM = 16
#: Longest compiled program, in instructions.
MAX_PROGRAM = 32
SUBJECTS = ("agent", "team")
COMBINATORS = ("AND", "OR", "NOT", "ADD", "SUB", "MUL")

# opcodes: 0 constant, 1..6 combinators, then predicates
_CONST = 0
_COMBINATOR_OP = {name: k + 1 for k, name in enumerate(COMBINATORS)}


@dataclass(frozen=True)
class Arg:
    """An argument of a predicate: a name and either an integer range or an enum. An ``id``
    range (agent ids) names things rather than amounts: its values embed apart, not on a scale."""

    name: str
    lo: int = 1
    hi: int = 100_000
    enum: Any = None
    id: bool = False

    def parse(self, value: Any, where: str) -> int:
        if self.enum is not None:
            names = [m.name.lower() for m in self.enum if m.name not in ("NONE", "VOID")]
            if not isinstance(value, str) or value.lower() not in names:
                raise ValueError(f"{where}: argument {self.name!r} must be one of {names}, got {value!r}")
            return int(self.enum[value.upper()])
        if isinstance(value, bool) or not isinstance(value, int) or not self.lo <= value <= self.hi:
            raise ValueError(f"{where}: argument {self.name!r} must be an int in [{self.lo}, {self.hi}], got {value!r}")
        return value


#: SeizeTile's opcode; SeizeCenter compiles to it, so opcode 26 is unused
_SEIZE_TILE = 29
_N = Arg("n")
_SKILL = Arg("skill", enum=Skill)
_LEVEL = Arg("level", 1, MAX_LEVEL)
_ITEM = Arg("item", enum=Item)

#: ``name: (opcode, args, doc)`` of every predicate.
PREDICATES: dict[str, tuple[int, tuple[Arg, ...], str]] = {
    "TickGE": (10, (_N,), "tick / n"),
    "StayAlive": (11, (_N,), "ticks alive / n (frozen at death)"),
    "AllDead": (12, (), "fraction of agents outside the subject that are dead"),
    "CanSeeTile": (13, (Arg("material", enum=Material),), "1 when a tile of that material is in view"),
    "OccupyTile": (14, (Arg("row", -128, 128), Arg("col", -128, 128)),
                   "1 while on the tile (row, col) counted from the map centre"),
    "DistanceTraveled": (15, (_N,), "Chebyshev distance from the spawn tile / n"),
    "AttainSkill": (16, (_SKILL, _LEVEL), "levels gained in the skill / (level - 1): 0 at the base "
                    "level 1, 1 at the level (always 1 for level 1)"),
    "GainExperience": (17, (_SKILL, _N), "XP in the skill / n"),
    "CountEvent": (18, (Arg("event", enum=Event), _N), "events of that kind / n"),
    "HoardGold": (19, (_N,), "gold held / n"),
    "InventorySpaceGE": (20, (Arg("n", 1, INVENTORY_SLOTS),), "free inventory slots of a live member / n"),
    "OwnItem": (21, (_ITEM, _LEVEL, _N), "quantity held of that type at or above the level / n"),
    "EquipItem": (22, (_ITEM, _LEVEL), "1 while such an item is equipped"),
    "FullyArmed": (23, (_LEVEL,), "fraction of hat, top, bottom equipped at or above the level"),
    "ProgressTowardCenter": (24, (), "1 - Chebyshev distance to the centre / (map size / 2)"),
    "AllMembersWithinRange": (25, (Arg("n", 0, 256),),
                              "fraction of team members (alive or dying this tick) within n tiles of the leader"),
    "SeizeCenter": (_SEIZE_TILE, (_N,), "ticks the subject's team has held the centre alone / n "
                    "(compiles to SeizeTile 0, 0)"),
    "ProtectLeader": (27, (_N,), "ticks the team's leader has lived / n"),
    "CanSeeAgent": (28, (Arg("agent", 0, 1023, id=True),),
                    "1 while a member (alive or dying this tick) has the live agent `agent` (an id) in view"),
    "SeizeTile": (_SEIZE_TILE, (Arg("row", -128, 128), Arg("col", -128, 128), _N),
                  "ticks the subject's team has held the tile (row, col), counted from the map centre, alone / n "
                  "(a tile off the episode's map is never held)"),
    "EarnGold": (30, (_N,), "gold earned (sales, NPC and agent kills) / n"),
    "SpendGold": (31, (_N,), "gold spent on purchases / n"),
    "MakeProfit": (32, (_N,), "(gold earned - gold spent) / n"),
}
#: Predicates that are :data:`PREDICATES` ``CountEvent`` with a fixed event (the reference's names).
EVENT_PREDICATES = {
    "ScoreHit": Event.SCORE_HIT, "DefeatEntity": Event.PLAYER_KILL, "ConsumeItem": Event.CONSUME,
    "HarvestItem": Event.HARVEST, "FireAmmo": Event.FIRE_AMMO, "ListItem": Event.LIST, "BuyItem": Event.BUY,
}


@dataclass(frozen=True)
class Task:
    """A task definition: ``name``, ``subject`` (``agent`` or ``team``) and the predicate tree
    ``tree`` in the plain-data form of the module docstring. Validated on construction.

    Raises:
        ValueError: a name that is not a string; an unknown predicate, combinator, argument or
            subject (the message names the allowed ones), or a tree that compiles to more than
            :data:`MAX_PROGRAM` steps.
    """

    name: str
    subject: str
    tree: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "tree", plain(self.tree))  # numpy numbers count as Python ones
        if not isinstance(self.name, str):
            raise ValueError(f"a task's name must be a string, got {self.name!r}")
        if self.subject not in SUBJECTS:
            raise ValueError(f"task {self.name!r}: subject must be one of {list(SUBJECTS)}, got {self.subject!r}")
        if len(self.program) > MAX_PROGRAM:
            raise ValueError(f"task {self.name!r} compiles to {len(self.program)} steps; at most {MAX_PROGRAM}")

    # A task is immutable (its tree is never edited after construction), so what it compiles
    # and embeds to is computed once: games set their tasks up again every episode.
    @cached_property
    def program(self) -> tuple[tuple[float, float, float, float], ...]:
        """The postfix instructions ``(opcode, a, b, c)`` the tree compiles to."""
        return tuple(_compile(self.tree, f"task {self.name!r}"))

    @cached_property
    def embedding(self) -> np.ndarray:
        """:func:`embed` of the task (read-only)."""
        vector = embed(self)
        vector.flags.writeable = False
        return vector

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Task":
        """A task from ``{"name", "subject", "task"}`` (``subject`` defaults to ``agent``)."""
        if not isinstance(data, Mapping) or "task" not in data:
            raise ValueError(f"a task entry must be a mapping with keys 'name', 'subject', 'task'; got {data!r}")
        unknown = set(data) - {"name", "subject", "task"}
        if unknown:
            raise ValueError(f"task entry has unknown keys {sorted(unknown)}; allowed: ['name', 'subject', 'task']")
        return cls(data.get("name", ""), data.get("subject", "agent"), data["task"])

    def key(self) -> str:
        """Canonical text of what the task computes: its subject and a normal form of its
        compiled program (:func:`_normal_form`), so the name and the spelling do not matter:
        ``ScoreHit`` and ``CountEvent score_hit`` are one task, and so are ``AND [a, b]`` and
        ``AND [b, a]``, ``NOT NOT a`` and ``a``."""
        return json.dumps([self.subject, _normal_form(self.program)])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "task": self.tree}


def _count_event(name: str, body: Any, where: str) -> dict[str, Any]:
    """The ``CountEvent`` node an event predicate (``ScoreHit``, ...) stands for."""
    body = {} if body is None else body
    if not isinstance(body, Mapping) or set(body) != {"n"}:
        raise ValueError(f"{where}: {name} counts {EVENT_PREDICATES[name].name.lower()} events and takes "
                         f"arguments ['n'], got {sorted(body) if isinstance(body, Mapping) else body!r}")
    return {"CountEvent": {"event": EVENT_PREDICATES[name].name.lower(), **body}}


def _compile(node: Any, where: str) -> list[tuple[float, float, float, float]]:
    """Postfix instructions ``(opcode, a, b, c)`` of a tree."""
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        if not 0.0 <= node <= 1.0:
            raise ValueError(f"{where}: constants must be in [0, 1], got {node!r}")
        return [(_CONST, float(node), 0.0, 0.0)]
    if not isinstance(node, Mapping) or len(node) != 1:
        raise ValueError(f"{where}: a node is a number or a one-key mapping {{PREDICATE: args}} or "
                         f"{{COMBINATOR: [nodes]}}; got {node!r}")
    (name, body), = node.items()
    if name in _COMBINATOR_OP:
        children = [body] if name == "NOT" and not isinstance(body, list) else body
        if not isinstance(children, list) or not children or (name == "NOT" and len(children) != 1):
            need = "one node" if name == "NOT" else "a non-empty list of nodes"
            raise ValueError(f"{where}: {name} takes {need}, got {body!r}")
        out = []
        for child in children:
            out += _compile(child, where)
        return out + [(_COMBINATOR_OP[name], float(len(children)), 0.0, 0.0)]
    if name in EVENT_PREDICATES:
        return _compile(_count_event(name, body, where), where)
    if name not in PREDICATES:
        raise ValueError(f"{where}: unknown predicate or combinator {name!r}; predicates: "
                         f"{sorted(PREDICATES) + sorted(EVENT_PREDICATES)}, combinators: {list(COMBINATORS)}")
    opcode, args, _ = PREDICATES[name]
    body = {} if body is None else body
    if not isinstance(body, Mapping):
        raise ValueError(f"{where}: arguments of {name} must be a mapping, got {body!r}")
    names = [a.name for a in args]
    if set(body) != set(names):
        raise ValueError(f"{where}: {name} takes arguments {names}, got {sorted(body)}")
    values = [float(a.parse(body[a.name], f"{where}: {name}")) for a in args]
    if name == "SeizeCenter":  # SeizeTile 0, 0: one instruction for every held tile
        values = [0.0, 0.0] + values
    return [(opcode, *(values + [0.0] * (3 - len(values))))]


def _normal_form(program: Sequence[tuple[float, float, float, float]]) -> Any:
    """The expression tree of a postfix ``program`` rewritten by identities that hold for
    progress values in [0, 1]: AND, OR, ADD and MUL are associative and commutative (nested
    ones flattened, children sorted; AND and OR also drop repeated children), SUB's subtrahends
    commute (``SUB [SUB [a, b], c]`` is ``SUB [a, b, c]``), a combinator of one child is that
    child, and NOT NOT cancels. Constants fold: a combinator's constants become one (``ADD``
    sums them, clipped at 1; ``SUB`` sums the subtrahends), which is dropped when it changes
    nothing (``MUL [1, a]``, ``AND [1, a]``, ``ADD [0, a]`` are ``a``) and is the result when it
    decides it (``MUL [0, a]`` and ``SUB [a, 1]`` are 0, ``OR [1, a]`` is 1); ``NOT`` of a
    constant is one. Leaves are the instructions. JSON-ready lists."""
    stack: list[Any] = []
    for op, a, b, c in program:
        if not 1 <= op <= len(COMBINATORS):  # a constant or a predicate
            stack.append([op, a, b, c])
            continue
        name, arity = COMBINATORS[int(op) - 1], int(a)
        kids = stack[len(stack) - arity:]
        del stack[len(stack) - arity:]
        if name == "NOT":
            (kid,) = kids
            if kid[0] == _CONST:
                stack.append(_constant(_clip(1.0 - kid[1])))
            else:
                stack.append(kid[1][0] if kid[0] == "NOT" else ["NOT", [kid]])
            continue
        if name == "SUB":
            first, rest = kids[0], kids[1:]
            if first[0] == "SUB":
                first, rest = first[1][0], first[1][1:] + rest
            taken = _clip(math.fsum(kid[1] for kid in rest if kid[0] == _CONST))
            rest = [kid for kid in rest if kid[0] != _CONST]
            if first[0] == _CONST:
                first, taken = _constant(_clip(first[1] - taken)), 0.0
            if taken == 1.0 or first == _constant(0.0):  # nothing is left of the first
                stack.append(_constant(0.0))
                continue
            rest += [_constant(taken)] if taken > 0 else []
            kids = [first] + sorted(rest, key=json.dumps)
        else:
            flat = [g for kid in kids for g in (kid[1] if kid[0] == name else [kid])]
            kids = [kid for kid in flat if kid[0] != _CONST]
            values = [kid[1] for kid in flat if kid[0] == _CONST]
            if values:  # one constant at most: folded, then dropped when it is the identity
                identity, value = _FOLD[name](values)
                if value == 1.0 - identity or not kids:  # absorbing (0 for AND and MUL, 1 for OR and ADD)
                    stack.append(_constant(value))
                    continue
                kids += [_constant(value)] if value != identity else []
            kids = sorted(kids, key=json.dumps)
            if name in ("AND", "OR"):
                kids = [kid for k, kid in enumerate(kids) if k == 0 or kid != kids[k - 1]]
        stack.append(kids[0] if len(kids) == 1 else [name, kids])
    return stack[0]


#: ``name: values -> (identity, folded value)`` of the combinators whose constants fold into one.
#: Sums are exact (``math.fsum``) and products sorted, so the order the constants are written in
#: cannot change the result.
_FOLD = {"AND": lambda v: (1.0, min(v)), "OR": lambda v: (0.0, max(v)),
         "ADD": lambda v: (0.0, _clip(math.fsum(v))), "MUL": lambda v: (1.0, _clip(math.prod(sorted(v))))}


def _clip(x: float) -> float:
    """``x`` clipped to [0, 1] as :func:`score_tasks` clips progress, and rounded to 12
    significant digits, so that constants computed from decimal fractions land on the fraction
    written (0.1 + 0.2 is 0.3, 1 - 0.7 is 0.3, 0.1 + 0.2 + 0.7 is 1)."""
    return 1.0 if x > 1.0 - ROUNDING else max(float(f"{x:.12g}"), 0.0)


def _constant(value: float) -> list[Any]:
    """A constant leaf of :func:`_normal_form`'s tree."""
    return [_CONST, float(value), 0.0, 0.0]


def compile_tasks(tasks: Sequence[Task]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(program, length, team)``: ``(T, MAX_PROGRAM, 4)`` float64 postfix instructions,
    ``(T,)`` int64 lengths, ``(T,)`` bool team subject, for :func:`score_tasks`."""
    program = np.zeros((len(tasks), MAX_PROGRAM, 4), np.float64)
    length = np.zeros(len(tasks), np.int64)
    for k, task in enumerate(tasks):
        program[k, : len(task.program)] = task.program
        length[k] = len(task.program)
    team = np.array([t.subject == "team" for t in tasks], np.bool_)
    return program, length, team


def seize_table(tasks: Sequence[Task]) -> np.ndarray:
    """The ``holds`` table :func:`score_tasks` reads: ``(K, 4)`` int64, one row
    ``(row, col, -1, 0)`` (no holder yet) per distinct tile the tasks' ``SeizeTile`` and
    ``SeizeCenter`` name, in first-named order; ``(0, 4)`` when none does."""
    tiles = {}
    for task in tasks:
        for op, a, b, _ in task.program:
            if op == _SEIZE_TILE:
                tiles.setdefault((a, b), None)
    table = np.full((len(tiles), 4), -1, np.int64)
    table[:, :2] = np.reshape(list(tiles), (-1, 2))
    table[:, 3] = 0
    return table


def check_agent_ids(tasks: Sequence[Task], num_agents: int) -> None:
    """Check that every ``CanSeeAgent`` of ``tasks`` names an agent of an env of ``num_agents``.

    Raises:
        ValueError: a ``CanSeeAgent`` names an agent id outside ``0 .. num_agents - 1``."""
    opcode = PREDICATES["CanSeeAgent"][0]
    for task in tasks:
        for op, a, _, _ in task.program:
            if op == opcode and a >= num_agents:
                raise ValueError(f"task {task.name!r}: CanSeeAgent agent {int(a)} is not an agent of this env; "
                                 f"agent ids are 0..{num_agents - 1}")


# --- evaluation ------------------------------------------------------------------------------

EARN_GOLD, SPEND_GOLD = int(Event.EARN_GOLD), int(Event.SPEND_GOLD)
#: A value within this of 1 counts as 1: float sums of fractions that make 1 (0.1 + 0.2 + 0.7)
#: can land an ulp below it in one order and on it in another, and a task is complete at 1.
ROUNDING = 1e-9


@njit(cache=True)
def score_tasks(value, best, complete, acting, agent_task, program, length, team_task, team_size, alive, time_alive,
                row, col, level, xp, gold, counts, amounts, inv_item, inv_level, inv_quantity, inv_equipped,
                material, lo, hi, vision, spawn_row, spawn_col, holds, leader, rewards, tick):
    """Evaluate every agent's task and pay its progress increase.

    Per agent (``(num_agents,)`` arrays): ``value`` (float64) is the task's progress, updated
    unless the agent has no task (``agent_task`` -1) or no member of the subject is ``alive``
    or ``acting``; ``best`` (float64) its maximum; ``complete`` (bool) whether it has reached
    1, after which it pays nothing more; ``rewards`` (float32) gains ``value - previous
    value`` where ``acting`` (bool: alive at the tick's start, so also those who died in it).
    Team ``t`` is agents ``t*team_size .. (t+1)*team_size - 1``; ``leader`` is per team (its
    leader's slot; -1 for none, which a bare caller may pass), ``spawn_row/col`` per agent; ``holds`` is
    ``(K, 4)`` int64, one row ``(row, col, team, ticks)`` per tile the tasks seize (offsets
    from the centre; the holding team, -1 for none; ticks it has held the tile alone); the rest
    are the state's arrays (``Entities`` fields, ``Events.counts`` and ``amounts``,
    ``Inventory`` fields, ``Tiles.material``).

    One flat function on plain arrays, on purpose: numba reference-counts every array passed
    to a helper (inlined or not), which cost ~0.4 us per evaluation, and NamedTuple arguments
    cost ~7 us per call to check; this runs every tick.
    """
    num_agents = value.shape[0]
    slots = inv_item.shape[1]
    centre = centre_tile(lo, hi)
    half = (hi - lo) / 2.0
    stack = np.empty(MAX_PROGRAM, np.float64)
    present = np.empty(num_agents, np.bool_)  # alive, or alive at the tick's start (the reference's "dead this tick")
    for j in range(num_agents):
        present[j] = alive[j] or acting[j]
    last_team, last_task, last_value = -1, -1, 0.0
    for i in range(num_agents):
        k = agent_task[i]
        if k < 0:
            continue
        t = i // team_size
        m0, m1 = (t * team_size, (t + 1) * team_size) if team_task[k] else (i, i + 1)
        live = False
        for j in range(m0, m1):
            live |= present[j]
        if not live:
            continue
        if team_task[k] and t == last_team and k == last_task:  # the team's value, once per team
            v = last_value
        else:
            top = 0
            for q in range(length[k]):
                op, a, b, c = program[k, q, 0], program[k, q, 1], program[k, q, 2], program[k, q, 3]
                x = 0.0
                if op == 0:  # constant
                    x = a
                elif op <= 6:  # combinators: pop the arity, push one
                    arity = int(a)
                    top -= arity
                    x = stack[top]
                    for p in range(1, arity):
                        y = stack[top + p]
                        if op == 1:
                            x = min(x, y)
                        elif op == 2:
                            x = max(x, y)
                        elif op == 4:
                            x = x + y
                        elif op == 5:
                            x = x - y
                        elif op == 6:
                            x = x * y
                    if op == 3:
                        x = 1.0 - x
                elif op == 10:  # TickGE
                    x = tick / a
                elif op == 11:  # StayAlive
                    for j in range(m0, m1):
                        x = max(x, time_alive[j] / a)
                elif op == 12:  # AllDead
                    dead = 0
                    for j in range(num_agents):
                        dead += not alive[j] and not m0 <= j < m1
                    others = num_agents - (m1 - m0)
                    x = dead / others if others else 1.0
                elif op == 13:  # CanSeeTile
                    for j in range(m0, m1):
                        if present[j] and x == 0.0:
                            for rr in range(row[j] - vision, row[j] + vision + 1):
                                for cc in range(col[j] - vision, col[j] + vision + 1):
                                    if material[rr, cc] == a:
                                        x = 1.0
                elif op == 14:  # OccupyTile
                    for j in range(m0, m1):
                        if present[j] and row[j] == centre + a and col[j] == centre + b:
                            x = 1.0
                elif op == 15:  # DistanceTraveled
                    for j in range(m0, m1):
                        x = max(x, max(abs(row[j] - spawn_row[j]), abs(col[j] - spawn_col[j])) / a)
                elif op == 16:  # AttainSkill
                    if b <= 1:
                        x = 1.0
                    else:
                        for j in range(m0, m1):
                            x = max(x, (level[j, int(a)] - 1) / (b - 1))
                elif op == 17:  # GainExperience
                    for j in range(m0, m1):
                        x += xp[j, int(a)] / b
                elif op == 18:  # CountEvent
                    for j in range(m0, m1):
                        x += counts[j, int(a)] / b
                elif op == 19:  # HoardGold
                    for j in range(m0, m1):
                        x += gold[j] / a
                elif op == 20:  # InventorySpaceGE
                    for j in range(m0, m1):
                        if not alive[j]:
                            continue
                        free = 0
                        for s in range(slots):
                            free += inv_item[j, s] == 0
                        x = max(x, free / a)
                elif op == 21:  # OwnItem
                    for j in range(m0, m1):
                        for s in range(slots):
                            if inv_item[j, s] == a and inv_level[j, s] >= b:
                                x += inv_quantity[j, s] / c
                elif op == 22:  # EquipItem
                    for j in range(m0, m1):
                        for s in range(slots):
                            if inv_item[j, s] == a and inv_level[j, s] >= b and inv_equipped[j, s]:
                                x = 1.0
                elif op == 23:  # FullyArmed
                    for j in range(m0, m1):
                        worn = 0
                        for s in range(slots):
                            slot = EQUIP_SLOT[inv_item[j, s]]
                            worn += inv_equipped[j, s] and inv_level[j, s] >= a and 0 <= slot <= 2
                        x = max(x, worn / 3.0)
                elif op == 24:  # ProgressTowardCenter
                    for j in range(m0, m1):
                        if present[j]:
                            x = max(x, 1.0 - max(abs(row[j] - centre), abs(col[j] - centre)) / half)
                elif op == 25:  # AllMembersWithinRange
                    lead = leader[t]
                    if lead >= 0 and present[lead]:
                        near, members = 0, 0
                        for j in range(m0, m1):
                            if present[j]:
                                members += 1
                                near += max(abs(row[j] - row[lead]), abs(col[j] - col[lead])) <= a
                        x = near / members
                elif op == 29:  # SeizeTile (and SeizeCenter, compiled to it)
                    for s in range(holds.shape[0]):
                        if holds[s, 0] == a and holds[s, 1] == b and holds[s, 2] == t:
                            x = holds[s, 3] / c
                elif op == 27:  # ProtectLeader
                    if leader[t] >= 0:
                        x = time_alive[leader[t]] / a
                elif op == 28:  # CanSeeAgent
                    g = int(a)
                    if g < num_agents and alive[g]:
                        for j in range(m0, m1):
                            if present[j] and max(abs(row[j] - row[g]), abs(col[j] - col[g])) <= vision:
                                x = 1.0
                elif op == 30:  # EarnGold
                    for j in range(m0, m1):
                        x += amounts[j, EARN_GOLD] / a
                elif op == 31:  # SpendGold
                    for j in range(m0, m1):
                        x += amounts[j, SPEND_GOLD] / a
                elif op == 32:  # MakeProfit
                    for j in range(m0, m1):
                        x += (amounts[j, EARN_GOLD] - amounts[j, SPEND_GOLD]) / a
                stack[top] = 1.0 if x > 1.0 - ROUNDING else max(x, 0.0)
                top += 1
            v = stack[0]
            if team_task[k]:
                last_team, last_task, last_value = t, k, v
        if not complete[i] and acting[i]:
            rewards[i] += v - value[i]
        value[i] = v
        best[i] = max(best[i], v)
        complete[i] |= v >= 1.0


# --- embedding -------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # games build their tasks again every episode
def _direction(*parts: str) -> np.ndarray:
    """A fixed pseudo-random unit-norm direction in R^EMBED_DIM for ``parts`` (read-only)."""
    digest = hashlib.sha256(json.dumps(parts).encode()).digest()
    v = np.frombuffer(digest[: EMBED_DIM * 2], np.uint16).astype(np.float64) / 65535.0 - 0.5
    v /= np.linalg.norm(v)
    v.flags.writeable = False
    return v


#: The predicate each opcode compiles from (``SeizeCenter`` compiles to ``SeizeTile`` 0, 0).
_PREDICATE_OF = {op: name for name, (op, _, _) in PREDICATES.items() if name != "SeizeCenter"}


def _embed_form(node: Any) -> np.ndarray:
    """The embedding vector of a node of :func:`_normal_form`'s tree."""
    if isinstance(node[0], str):  # [combinator, children]
        name, children = node
        vectors = [_embed_form(child) for child in children]
        if name == "SUB":  # what is taken from what: the first child against the rest
            v = (vectors[0] - np.mean(vectors[1:], axis=0)) / 2
        else:
            v = np.mean(vectors, axis=0) * (-1 if name == "NOT" else 1)
        # a child given twice counts twice in ADD, MUL and SUB's subtrahends, which the mean hides
        summed = children[1:] if name == "SUB" else children
        repeats = len(summed) - len({json.dumps(child) for child in summed}) if name in ("ADD", "MUL", "SUB") else 0
        return v + 0.5 * _direction("combinator", name) + 0.5 * repeats * _direction("repeat", name)
    op, *values = node
    if op == _CONST:
        return values[0] * _direction("const")
    name = _PREDICATE_OF[op]
    if op == _SEIZE_TILE and values[:2] == [0.0, 0.0]:  # the centre: one name for it
        name, values = "SeizeCenter", values[2:]
    v = _direction("predicate", name).copy()
    for arg, value in zip(PREDICATES[name][1], values):
        if arg.enum is not None:
            v += 0.5 * _direction("arg", name, arg.name, arg.enum(int(value)).name.lower())
        elif arg.id:
            v += 0.5 * _direction("arg", name, arg.name, str(int(value)))
        else:  # magnitudes on a log scale, so 10 and 12 land close and 10 and 1000 do not
            v += 0.5 * np.log1p(abs(value)) / np.log1p(arg.hi) * np.sign(value) * _direction("arg", name, arg.name)
    return v


def embed(task: Task) -> np.ndarray:
    """The task's ``(EMBED_DIM,)`` uint8 embedding: a sum of fixed directions for each
    predicate, argument value (numbers on a log scale, names and ids each their own) and
    combinator, plus the subject, mapped to 0..255 around 128. A combinator's children enter as
    their mean (negated under ``NOT``), ``SUB``'s as half of the first minus the mean of the
    rest (``SUB [a, b]`` and ``SUB [b, a]`` differ), plus a direction per repeated child of
    ``ADD``, ``MUL`` and ``SUB``'s rest (``ADD [a, a]`` and ``ADD [a, a, a]`` differ). It
    embeds the normal form of what the task computes (:meth:`Task.key`), not how it is written:
    tasks with one key have one embedding (``AND [a]`` and ``a``, ``SeizeTile`` at (0, 0) and
    ``SeizeCenter``, ``ScoreHit`` and ``CountEvent score_hit``). Deterministic across processes
    and versions of Python."""
    v = _embed_form(_normal_form(task.program)) + 0.5 * _direction("subject", task.subject)
    return np.clip(np.round(128 + 64 * v), 0, 255).astype(np.uint8)


# --- curricula -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curriculum:
    """Training tasks and held-out evaluation tasks, disjoint by definition (:meth:`Task.key`).

    Raises:
        ValueError: a split that is not a list or tuple of :class:`Task`, or as
            :func:`load_curriculum` (an empty split, a blank or repeated name, a task in both).
    """

    train: tuple[Task, ...]
    eval: tuple[Task, ...]

    def __post_init__(self) -> None:
        for split in ("train", "eval"):
            tasks = getattr(self, split)
            if not isinstance(tasks, (list, tuple)) or not all(isinstance(t, Task) for t in tasks):
                raise ValueError(f"curriculum: {split!r} must be a list or tuple of Task, got {tasks!r}")
            object.__setattr__(self, split, tuple(tasks))
        _check_splits(self.train, self.eval, "curriculum")

    @classmethod
    def from_dict(cls, data: Any, where: str = "curriculum") -> "Curriculum":
        if not isinstance(data, Mapping) or set(data) != {"train", "eval"}:
            got = sorted(data) if isinstance(data, Mapping) else type(data).__name__
            raise ValueError(f"{where}: must be a mapping with exactly the keys ['eval', 'train'], got {got}")
        splits = {}
        for split in ("train", "eval"):
            entries = data[split]
            if not isinstance(entries, list):
                raise ValueError(f"{where}: {split!r} must be a list of task entries")
            try:
                splits[split] = tuple(Task.from_dict(e) for e in entries)
            except ValueError as err:
                raise ValueError(f"{where} ({split}): {err}") from None
        _check_splits(splits["train"], splits["eval"], where)  # first: the message names the file
        return cls(**splits)


def _check_splits(train: tuple[Task, ...], held_out: tuple[Task, ...], where: str) -> None:
    """Raises:
        ValueError: an empty split, a task without a name or a name given twice (summaries
            report per name), or a task in both; the message starts with ``where``."""
    for split, tasks in (("train", train), ("eval", held_out)):
        if not tasks:
            raise ValueError(f"{where}: the {split!r} task list is empty")
        for k, task in enumerate(tasks):
            if not task.name.strip():
                raise ValueError(f"{where}: every task needs a non-empty 'name'; {split} entry {k} has none")
    names = [t.name for t in train + held_out]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{where}: task names must be unique across 'train' and 'eval'; given more than once: {twice}")
    shared = {t.key() for t in train} & {t.key() for t in held_out}
    if shared:
        names = [t.name for t in held_out if t.key() in shared]
        raise ValueError(f"{where}: training and evaluation tasks must be disjoint; both hold {names}")


def load_curriculum(path: str | Path) -> Curriculum:
    """Read a curriculum from a ``.json``, ``.yaml`` or ``.yml`` file (never a pickle).

    Raises:
        ValueError: not a path, another suffix, no such file, a file that does not parse, or
            invalid tasks (the message names the file and the problem).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"curriculum must be the path of a .json, .yaml or .yml file, got {path!r}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise ValueError(f"curriculum {path}: suffix must be one of ['.json', '.yaml', '.yml'], got {suffix!r}")
    if not path.is_file():
        raise ValueError(f"curriculum {path}: {'is a folder, not a file' if path.is_dir() else 'no such file'}")
    try:
        text = path.read_text()
        data = json.loads(text, object_pairs_hook=_unique_keys) if suffix == ".json" else _load_yaml(text)
    except Exception as err:  # noqa: BLE001 - both parsers' errors, re-raised with the path
        raise ValueError(f"curriculum {path}: does not parse: {err}") from None
    return Curriculum.from_dict(data, f"curriculum {path}")


def _repeated(keys: list[Any]) -> int:
    """The index of the first of ``keys`` given before it, -1 when none is. (The parsers keep a
    repeated key's last value and drop the rest without a word.)"""
    return next((k for k, key in enumerate(keys) if key in keys[:k]), -1)


def _unique_keys(pairs: list[tuple[Any, Any]]) -> dict:
    """A mapping from the JSON parser's ``(key, value)`` pairs; a key given twice is an error."""
    k = _repeated([key for key, _ in pairs])
    if k >= 0:
        raise ValueError(f"a key given twice in one mapping: {pairs[k][0]!r}")
    return dict(pairs)


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` of ``text`` that refuses a key given twice in one mapping (merge keys,
    ``<<``, still override what they bring in, as YAML says)."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                nodes = [key for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"]
                keys = [self.construct_object(key, deep=True) for key in nodes]
                k = _repeated(keys)
                if k >= 0:
                    raise ValueError(f"line {nodes[k].start_mark.line + 1}: a key given twice in one mapping: "
                                     f"{keys[k]!r}")
            return super().construct_mapping(node, deep)

    return yaml.load(text, Loader=Loader)
