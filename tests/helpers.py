"""Tiny worlds drawn in ASCII, for testing one engine rule at a time.

A drawing is rows of space-separated symbols::

    ~ ~ ~ ~ ~
    ~ . . f ~
    ~ . A . ~
    ~ ~ ~ ~ ~

Legend (:data:`LEGEND`): ``.`` grass, ``~`` water, ``f`` foliage, ``s`` scrub, ``#`` stone,
``_`` void; resources of the full config's professions: ``o`` ore, ``t`` tree, ``c`` crystal,
``%`` herb, ``=`` fish. ``A``, ``B``, ... are agents 0, 1, ... (standing on grass); ``p``, ``n``,
``h`` are passive, neutral and hostile NPCs (on grass), in NPC slots in reading order. The
drawing's top-left symbol lands on ``origin`` (default: the playable square's top-left tile); the rest of the
playable square is ``fill`` (default stone, so the drawing is an island).

:func:`make_world` builds a small env (32 x 32 playable square, flat terrain, a long horizon),
resets it, overwrites its state with the drawing and recomputes observations and masks, so the
next ``env.step`` sees exactly the drawn world. ``make_world(..., config="full")`` builds the full
config (items, professions, gold, market): agents start with empty inventories and the starting
gold, :meth:`World.put_item` puts items in their slots, and :meth:`World.step` orders take the
item heads too.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

import metammo
from metammo.actions import Head
from metammo.constants import FOOD_MAX, MAX_LEVEL, NPC_HEALTH, PASSABLE, WATER_MAX, Event, Kind, Material, Style
from metammo.state import playable_bounds
from metammo.systems.spawn import place_agent

LEGEND = {
    ".": Material.GRASS,
    "~": Material.WATER,
    "f": Material.FOLIAGE,
    "s": Material.SCRUB,
    "#": Material.STONE,
    "_": Material.VOID,
    "o": Material.ORE,
    "t": Material.TREE,
    "c": Material.CRYSTAL,
    "%": Material.HERB,
    "=": Material.FISH,
}
NPC_KINDS = {"p": Kind.PASSIVE, "n": Kind.NEUTRAL, "h": Kind.HOSTILE}


def reachable_from_edge(material: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``(hi - lo, hi - lo)`` bool: tiles of the playable square ``[lo, hi)^2`` that an agent on
    its outer ring reaches by 4-neighbour moves over passable tiles (a plain breadth-first search,
    independent of the engine's code)."""
    ok = PASSABLE[material[lo:hi, lo:hi]]
    size = hi - lo
    seen = np.zeros((size, size), bool)
    queue = deque((r, c) for r in range(size) for c in range(size)
                  if (r in (0, size - 1) or c in (0, size - 1)) and ok[r, c])
    for r, c in queue:
        seen[r, c] = True
    while queue:
        r, c = queue.popleft()
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < size and 0 <= cc < size and ok[rr, cc] and not seen[rr, cc]:
                seen[rr, cc] = True
                queue.append((rr, cc))
    return seen
AGENT_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse(drawing: str) -> list[list[str]]:
    """The drawing as a list of rows of symbols (blank lines and indentation ignored).

    Raises:
        ValueError: rows of different lengths or an unknown symbol.
    """
    rows = [line.split() for line in drawing.strip("\n").splitlines() if line.strip()]
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"drawing rows differ in length: {[len(r) for r in rows]}")
    for row in rows:
        for sym in row:
            if sym not in LEGEND and sym not in NPC_KINDS and sym not in AGENT_LETTERS:
                raise ValueError(f"unknown symbol {sym!r} in drawing")
    return rows


def place_npc(state, slot: int, r: int, c: int, kind: int, level: int = 1, style: int = Style.MELEE,
              health: int = NPC_HEALTH) -> None:
    """Write a fresh live NPC of ``kind`` into entity ``slot`` on tile (r, c)."""
    e = state.entities
    e.row[slot], e.col[slot] = r, c
    e.alive[slot] = True
    e.kind[slot] = kind
    e.team[slot] = -1
    e.health[slot] = health
    e.food[slot], e.water[slot] = FOOD_MAX, WATER_MAX
    e.level[slot] = level
    e.xp[slot] = 0
    e.style[slot] = style
    e.last_attacker[slot] = -1
    e.time_alive[slot] = 0
    e.freeze[slot] = 0
    e.message[slot] = 0
    state.tiles.npcs[r, c] += 1


@dataclass
class World:
    """An env whose state was overwritten with a drawing, plus the drawing's names.

    Attributes:
        env: the :class:`metammo.env.Env`.
        slots: ``{symbol name: entity slot}``; agents by letter (``"A"``), NPCs as
            ``"n0"``, ``"h1"`` ... (kind letter + NPC index in reading order).
        origin: absolute (row, col) of the drawing's top-left symbol.
    """

    env: object
    slots: dict
    origin: tuple

    # --- accessors ---------------------------------------------------------------------------
    @property
    def state(self):
        return self.env.state

    @property
    def ent(self):
        return self.env.state.entities

    @property
    def tiles(self):
        return self.env.state.tiles

    @property
    def cfg(self):
        return self.env.config

    def slot(self, who) -> int:
        return who if isinstance(who, (int, np.integer)) else self.slots[who]

    def at(self, dr: int, dc: int) -> tuple[int, int]:
        """Absolute tile of drawing cell (dr, dc)."""
        return self.origin[0] + dr, self.origin[1] + dc

    def pos(self, who) -> tuple[int, int]:
        s = self.slot(who)
        return int(self.ent.row[s]), int(self.ent.col[s])

    def health(self, who) -> int:
        return int(self.ent.health[self.slot(who)])

    def count(self, who, event: Event) -> int:
        """Episode count of ``event`` for ``who``."""
        return int(self.state.events.counts[self.slot(who), event])

    def log(self, event: Event | None = None, items: bool = False) -> list[tuple[int, ...]]:
        """This tick's event log as ``(event, actor, target, value)`` tuples, with the
        ``item`` column appended when ``items``."""
        ev = self.state.events
        width = 5 if items else 4
        rows = [tuple(int(x) for x in ev.log[k, :width]) for k in range(int(ev.num_log[0]))]
        return [r for r in rows if event is None or r[0] == event]

    def view(self, name: str, who=None) -> np.ndarray:
        """Observation part ``name`` (see the layout) of agent ``who`` (all agents if None)."""
        v = self.env.layout.view(self.env.observations, name)
        return v if who is None else v[self.slot(who)]

    def row_of(self, observer, target) -> int | None:
        """Entity row (0-based) in ``observer``'s observation that shows ``target``, or None."""
        hits = np.flatnonzero(self.env._entity_ids[self.slot(observer)] == self.slot(target))
        return int(hits[0]) if len(hits) else None

    def can_target(self, observer, target) -> bool:
        """The target-mask bit for ``target`` in ``observer``'s masks (False if not shown)."""
        k = self.row_of(observer, target)
        return k is not None and bool(self.view("mask_target", observer)[k + 1])

    # --- changing the world ------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute every observation and mask from the current state."""
        e = self.env
        e.refresh_observations()

    def set_material(self, r: int, c: int, symbol: str) -> None:
        self.tiles.material[r, c] = LEGEND[symbol]

    def add_agent(self, letter: str, r: int, c: int, team: int | None = None,
                  style: int = Style.MELEE, age: int = 0) -> int:
        """Place the (dead, undrawn) agent ``letter`` on absolute tile (r, c); call
        :meth:`refresh` afterwards. Returns its slot."""
        i = AGENT_LETTERS.index(letter)
        assert i < self.env.num_agents and not self.ent.alive[i], f"agent {letter} is taken"
        team = i // self.cfg.tunables.team_size if team is None else team
        place_agent(self.state, i, r, c, team, int(style))
        self.ent.time_alive[i] = age
        self.slots[letter] = i
        return i

    #: Order keys of the full config's slot heads: a 0-based inventory slot (head value slot + 1).
    SLOT_ORDERS = {"use": Head.USE, "destroy": Head.DESTROY, "give_item": Head.GIVE_ITEM,
                   "sell_item": Head.SELL_ITEM}
    #: Order keys written to their head as given.
    RAW_ORDERS = {"give_gold": Head.GIVE_GOLD, "sell_price": Head.SELL_PRICE,
                  "give_target_row": Head.GIVE_TARGET}

    def actions(self, orders: dict | None = None) -> np.ndarray:
        """An action array from ``{who: {key: value}}``; unlisted agents and keys do nothing.

        Keys of every config: ``move``, ``style``, ``comm`` (head values); ``target`` (a name or
        slot resolved through the current observation; it must be shown) or ``target_row`` (a
        raw target-head value). Full config only: ``use``, ``destroy``, ``give_item``,
        ``sell_item`` take a 0-based inventory slot; ``give_gold`` an amount, ``sell_price`` a
        price; ``give_to`` a name or slot resolved like ``target`` (or ``give_target_row``, a
        raw head value); ``buy`` an ``(Item, level)`` pair (or a raw head value).

        Raises:
            ValueError: a target not shown, or an item key in a config without item heads.
        """
        acts = np.zeros((self.env.num_agents, len(self.env.head_sizes)), np.int32)
        full = acts.shape[1] > Head.BUY
        for who, order in (orders or {}).items():
            i = self.slot(who)
            acts[i, 0] = order.get("move", 0)
            acts[i, 1] = order.get("style", 0)
            if "target" in order:
                acts[i, 2] = self._row_value(i, order["target"], who)
            acts[i, 2] = order.get("target_row", acts[i, 2])
            acts[i, 3] = order.get("comm", 0)
            item_keys = (set(order) & (set(self.SLOT_ORDERS) | set(self.RAW_ORDERS) | {"give_to", "buy"}))
            if item_keys and not full:
                raise ValueError(f"orders {sorted(item_keys)} need the full config's item heads")
            for key, head in self.SLOT_ORDERS.items():
                if key in order:
                    acts[i, head] = order[key] + 1
            if "give_to" in order:
                acts[i, Head.GIVE_TARGET] = self._row_value(i, order["give_to"], who)
            for key, head in self.RAW_ORDERS.items():
                if key in order:
                    acts[i, head] = order[key]
            if "buy" in order:
                b = order["buy"]
                acts[i, Head.BUY] = b if isinstance(b, (int, np.integer)) else 1 + (b[0] - 1) * MAX_LEVEL + b[1] - 1
        return acts

    def _row_value(self, i: int, target, who) -> int:
        """Target-head value (entity row + 1) that shows ``target`` to agent ``i``."""
        k = self.row_of(i, self.slot(target))
        if k is None:
            raise ValueError(f"{target!r} is not in {who!r}'s observation")
        return k + 1

    # --- inventories (full config) -----------------------------------------------------------
    def put_item(self, who, slot: int, item: int, level: int = 1, quantity: int = 1,
                 equipped: bool = False, price: int = 0, listed_tick: int = 0) -> None:
        """Write ``item`` at ``level`` into inventory ``slot`` (0-based) of agent ``who``,
        replacing what was there; call :meth:`refresh` afterwards (equipment stats are
        recomputed by the next tick)."""
        inv, i = self.state.inventory, self.slot(who)
        inv.item[i, slot], inv.level[i, slot], inv.quantity[i, slot] = item, level, quantity
        inv.equipped[i, slot], inv.price[i, slot], inv.listed_tick[i, slot] = equipped, price, listed_tick

    def slot_items(self, who) -> list[tuple[int, int, int]]:
        """``(item, level, quantity)`` of each of agent ``who``'s inventory slots."""
        inv, i = self.state.inventory, self.slot(who)
        return [(int(a), int(b), int(c)) for a, b, c in zip(inv.item[i], inv.level[i], inv.quantity[i])]

    def step(self, orders: dict | None = None, ticks: int = 1, allow_end: bool = False) -> list:
        """Run ``ticks`` ticks with the same ``orders`` (targets re-resolved every tick).

        Raises:
            AssertionError: the episode ended (and auto-reset) unless ``allow_end``.
        """
        infos = []
        for _ in range(ticks):
            _, _, _, _, infos = self.env.step(self.actions(orders))
            assert allow_end or not infos, f"episode ended at tick {self.state.tick}: {infos}"
        return infos


def make_world(
    drawing: str,
    *,
    num_agents: int | None = None,
    max_npcs: int | None = None,
    origin: tuple[int, int] | None = None,
    fill: str = "#",
    styles: dict | None = None,
    teams: dict | None = None,
    age: int = 0,
    npc_level: int = 1,
    npc_styles: dict | None = None,
    seed: int = 0,
    config: str = "mini",
    **overrides,
) -> World:
    """Build, reset and overwrite an env with ``drawing`` (see the module docstring).

    Args:
        num_agents: agent slots (default: agents drawn); slots not drawn are dead.
        max_npcs: NPC slots (default: NPCs drawn, at least 1).
        origin: absolute (row, col) of the drawing's top-left; default the playable top-left.
        fill: symbol for the rest of the playable square.
        styles: ``{agent letter: Style}`` main style (default melee).
        teams: ``{agent letter: team}`` (default ``slot // team_size``).
        age: ``time_alive`` of every drawn agent (>= spawn_immunity makes them hittable).
        npc_level / npc_styles: level (all styles) of every NPC; ``{name: Style}`` per NPC.
        config: the preset, ``"mini"`` or ``"full"`` (items, professions, gold and market).
        **overrides: config keys; defaults ``terrain=False, max_map_size=32, map_size=32,
            horizon=100000, npc_count=0``, ``npcs`` on when NPCs are drawn.
    """
    rows = parse(drawing)
    letters = [s for row in rows for s in row if s in AGENT_LETTERS]
    npcs = [s for row in rows for s in row if s in NPC_KINDS]
    if sorted(letters) != list(AGENT_LETTERS[: len(letters)]):
        raise ValueError(f"agents must be A, B, C ... each once, got {letters}")
    n_agents = num_agents if num_agents is not None else max(len(letters), 1)
    n_npcs = max_npcs if max_npcs is not None else max(len(npcs), 1)
    kw = dict(terrain=False, max_map_size=32, map_size=32, horizon=100_000, npc_count=0,
              npcs=bool(npcs), num_agents=n_agents, max_npcs=n_npcs)
    kw.update(overrides)
    env = metammo.make("sandbox", config, seed=seed, **kw)
    env.reset()
    state, cfg = env.state, env.config
    lo, hi = playable_bounds(cfg)
    rng_state = state.rng.copy()
    state.clear()
    state.rng[:] = rng_state
    mat = state.tiles.material
    mat[:] = Material.VOID
    mat[lo:hi, lo:hi] = LEGEND[fill]
    r0, c0 = origin if origin is not None else (lo, lo)
    if not (lo <= r0 and r0 + len(rows) <= hi and lo <= c0 and c0 + len(rows[0]) <= hi):
        raise ValueError("drawing does not fit inside the playable square at this origin")
    slots: dict = {}
    styles, teams, npc_styles = styles or {}, teams or {}, npc_styles or {}
    team_size = cfg.tunables.team_size
    k = 0
    for dr, row in enumerate(rows):
        for dc, sym in enumerate(row):
            r, c = r0 + dr, c0 + dc
            mat[r, c] = LEGEND.get(sym, Material.GRASS)
            if sym in AGENT_LETTERS:
                i = AGENT_LETTERS.index(sym)
                place_agent(state, i, r, c, teams.get(sym, i // team_size), int(styles.get(sym, Style.MELEE)))
                state.entities.time_alive[i] = age
                slots[sym] = i
            elif sym in NPC_KINDS:
                name = f"{sym}{k}"
                slot = n_agents + k
                place_npc(state, slot, r, c, NPC_KINDS[sym], npc_level, int(npc_styles.get(name, Style.MELEE)))
                slots[name] = slot
                k += 1
    world = World(env, slots, (r0, c0))
    world.refresh()
    return world
