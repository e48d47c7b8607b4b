"""The task system (metammo/tasks.py) and task rewards (minigames/base.py), rules.md §1 "Tasks".

* every predicate, evaluated by the compiled task kernel :func:`metammo.tasks.score_tasks` on random
  hand-written states, equals a slow Python reference written here from the docstrings (agent
  and team subjects; a subject with no member alive or dying this tick leaves the progress
  unchanged);
* combinators (AND min, OR max, NOT 1 - x, ADD clipped at 1, SUB clipped at 0, MUL product,
  constants), by hand and on random nested trees;
* bad task definitions fail with a ValueError whose message names the problem;
* the 16-byte task embedding: deterministic (also across processes), and its geometry;
* curricula files (YAML, JSON) and their errors; the shipped multitask curriculum;
* delta-progress rewards through real envs: a probe minigame registered here and ``multitask``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import make_world

import metammo
from metammo.constants import (
    EQUIP_SLOT,
    INVENTORY_SLOTS,
    NUM_ITEMS,
    NUM_SKILLS,
    STACKABLE,
    EquipSlot,
    Event,
    Item,
    Material,
    Move,
    Skill,
)
from metammo.game import games, register
from metammo.observation import GameFeature
from metammo.state import playable_bounds
from metammo.systems.lifecycle import kill_agents
from metammo.systems.params import params
from metammo.systems.spawn import place_agent
from metammo.tasks import (
    EMBED_DIM,
    EVENT_PREDICATES,
    MAX_PROGRAM,
    PREDICATES,
    Curriculum,
    Task,
    compile_tasks,
    embed,
    load_curriculum,
    score_tasks,
)
from minigames.base import Minigame
from minigames.multitask import DEFAULT_CURRICULUM

REPO = Path(__file__).resolve().parents[1]
UNCHANGED = -0.5  # sentinel written into ``out`` before a kernel call
N_AGENTS, TEAM_SIZE = 6, 3


# --- running the kernel the way Minigame._evaluate does ------------------------------------------


def run_kernel(w, tasks, agent_task=None, *, team_size=TEAM_SIZE, spawn=None, holds=None, leader=None,
               out=None, best=None, complete=None, rewards=None, acting=None):
    """Each agent's progress after one evaluation by the compiled kernel, the way
    ``Minigame._evaluate`` calls it, for ``tasks`` (agent ``i`` plays ``tasks[agent_task[i]]``;
    -1: none), starting from ``out`` (default :data:`UNCHANGED` everywhere). ``best``,
    ``complete``, ``rewards`` and ``acting`` are the kernel's other per-agent arrays, updated in
    place when given (default: fresh ones, nobody acting)."""
    n = w.env.num_agents
    ent, inv = w.ent, w.state.inventory
    agent_task = np.zeros(n, np.int64) if agent_task is None else np.asarray(agent_task, np.int64)
    out = np.full(n, UNCHANGED) if out is None else np.asarray(out, np.float64).copy()
    spawn_row, spawn_col = spawn if spawn is not None else (ent.row[:n].copy(), ent.col[:n].copy())
    spawn_row, spawn_col = np.asarray(spawn_row, np.int32), np.asarray(spawn_col, np.int32)
    num_teams = n // team_size
    holds = np.zeros((0, 4), np.int64) if holds is None else np.asarray(holds, np.int64).reshape(-1, 4)
    leader = np.full(num_teams, -1, np.int64) if leader is None else np.asarray(leader, np.int64)
    program, length, team = compile_tasks(tasks)
    lo, hi = playable_bounds(w.cfg)
    events, tick, vision = w.state.events, w.state.tick, w.cfg.shape.vision
    best = out.copy() if best is None else best
    complete = np.zeros(n, np.bool_) if complete is None else complete
    rewards = np.zeros(n, np.float32) if rewards is None else rewards
    acting = np.zeros(n, np.bool_) if acting is None else acting
    score_tasks(out, best, complete, acting, agent_task, program, length, team, team_size, ent.alive, ent.time_alive,
                ent.row, ent.col, ent.level, ent.xp, ent.gold, events.counts, events.amounts, inv.item, inv.level,
                inv.quantity, inv.equipped, w.tiles.material, lo, hi, vision, spawn_row, spawn_col, holds, leader,
                rewards, tick)
    return out


@pytest.fixture(scope="module")
def world():
    """Six agents in two teams of three, full config (items, gold)."""
    return make_world("""
    . . . . . .
    A B C D E F
    """, config="full", team_size=TEAM_SIZE)


# --- random states and the Python reference ------------------------------------------------------

#: Rare materials so CanSeeTile is sometimes 0 and sometimes 1.
MATERIAL_P = {Material.GRASS: 0.9, Material.STONE: 0.08, Material.ORE: 0.015, Material.HERB: 0.004,
              Material.FISH: 0.001}


def randomize(w, rng):
    """Write a random but coherent state (dead agents hold nothing, as after a death) and return
    ``(spawn, holds, leader)``."""
    n = w.env.num_agents
    ent, inv, counts = w.ent, w.state.inventory, w.state.events.counts
    lo, hi = playable_bounds(w.cfg)
    centre = (lo + hi - 1) // 2
    mats = np.array(list(MATERIAL_P), np.uint8)
    w.tiles.material[lo:hi, lo:hi] = rng.choice(mats, size=(hi - lo, hi - lo), p=list(MATERIAL_P.values()))
    ent.alive[:n] = rng.random(n) < 0.7
    if rng.random() < 0.3:  # a whole team dead
        t = int(rng.integers(n // TEAM_SIZE))
        ent.alive[t * TEAM_SIZE:(t + 1) * TEAM_SIZE] = False
    ent.row[:n] = rng.integers(lo, hi, n)
    ent.col[:n] = rng.integers(lo, hi, n)
    if rng.random() < 0.5:
        ent.row[1], ent.col[1] = centre + 2, centre - 3
    if rng.random() < 0.5:
        ent.row[n - 1], ent.col[n - 1] = centre, centre
    ent.time_alive[:n] = rng.integers(0, 400, n)
    ent.level[:n] = rng.integers(1, 11, (n, NUM_SKILLS))
    ent.xp[:n] = rng.integers(0, 2000, (n, NUM_SKILLS))
    ent.gold[:n] = rng.integers(0, 60, n) * ent.alive[:n]
    counts[:n] = rng.integers(0, 8, counts[:n].shape)
    w.state.events.amounts[:n] = rng.integers(0, 30, counts[:n].shape)
    for arr in inv:
        arr[:n] = 0
    for i in range(n):
        if not ent.alive[i]:
            continue
        worn = set()
        for s in range(INVENTORY_SLOTS):
            if rng.random() < 0.4:
                continue
            item = int(rng.integers(1, NUM_ITEMS))
            inv.item[i, s], inv.level[i, s] = item, rng.integers(1, 11)
            inv.quantity[i, s] = rng.integers(2, 15) if STACKABLE[item] else 1
            slot = int(EQUIP_SLOT[item])
            if slot >= 0 and slot not in worn and rng.random() < 0.6:
                inv.equipped[i, s] = True
                worn.add(slot)
    w.state.tick = int(rng.integers(0, 500))
    spawn = (rng.integers(lo, hi, n).astype(np.int32), rng.integers(lo, hi, n).astype(np.int32))
    teams = n // TEAM_SIZE
    leader = np.where(rng.random(teams) < 0.75,
                      np.arange(teams) * TEAM_SIZE + rng.integers(0, TEAM_SIZE, teams), -1).astype(np.int64)
    holds = np.array([[r, c, rng.integers(-1, teams), rng.integers(0, 80)] for r, c in SEIZED], np.int64)
    if rng.random() < 0.15:  # everyone alive (AllDead 0), with what the state holds so far
        ent.alive[:n] = True
    return spawn, holds, leader


def cheb(r1, c1, r2, c2):
    return max(abs(int(r1) - int(r2)), abs(int(c1) - int(c2)))


def ref_leaf(name, a, w, members, t, spawn, holds, leader):
    """A predicate's value (unclipped) from its docstring, the obvious way."""
    n = w.env.num_agents
    ent, inv = w.ent, w.state.inventory
    lo, hi = playable_bounds(w.cfg)
    centre = (lo + hi - 1) // 2
    live = [j for j in members if ent.alive[j]]
    if name in EVENT_PREDICATES:
        name, a = "CountEvent", {"event": EVENT_PREDICATES[name].name.lower(), **a}
    if name == "TickGE":
        return w.state.tick / a["n"]
    if name == "StayAlive":
        return max(int(ent.time_alive[j]) for j in members) / a["n"]
    if name == "AllDead":
        others = [j for j in range(n) if j not in members]
        return sum(not ent.alive[j] for j in others) / len(others) if others else 1.0
    if name == "CanSeeTile":
        m, v = Material[a["material"].upper()], w.cfg.shape.vision
        return float(any(w.tiles.material[r, c] == m for j in live
                         for r in range(ent.row[j] - v, ent.row[j] + v + 1)
                         for c in range(ent.col[j] - v, ent.col[j] + v + 1)))
    if name == "OccupyTile":
        return float(any((ent.row[j], ent.col[j]) == (centre + a["row"], centre + a["col"]) for j in live))
    if name == "DistanceTraveled":
        return max(cheb(ent.row[j], ent.col[j], spawn[0][j], spawn[1][j]) for j in members) / a["n"]
    if name == "AttainSkill":  # levels gained over the base level 1
        if a["level"] == 1:
            return 1.0
        return max(int(ent.level[j, Skill[a["skill"].upper()]]) - 1 for j in members) / (a["level"] - 1)
    if name == "GainExperience":
        return sum(int(ent.xp[j, Skill[a["skill"].upper()]]) for j in members) / a["n"]
    if name == "CountEvent":
        return sum(int(w.state.events.counts[j, Event[a["event"].upper()]]) for j in members) / a["n"]
    if name == "HoardGold":
        return sum(int(ent.gold[j]) for j in members) / a["n"]
    if name == "InventorySpaceGE":  # a dead member holds no inventory: only live members count
        return max(sum(inv.item[j, s] == Item.NONE for s in range(INVENTORY_SLOTS)) for j in live) / a["n"]
    if name == "OwnItem":  # items held: a stack of 10 arrows is 10 arrows (quantity)
        return sum(int(inv.quantity[j, s]) for j in members for s in range(INVENTORY_SLOTS)
                   if inv.item[j, s] == Item[a["item"].upper()] and inv.level[j, s] >= a["level"]) / a["n"]
    if name == "EquipItem":
        return float(any(inv.item[j, s] == Item[a["item"].upper()] and inv.level[j, s] >= a["level"]
                         and inv.equipped[j, s] for j in members for s in range(INVENTORY_SLOTS)))
    if name == "FullyArmed":
        armor = (EquipSlot.HAT, EquipSlot.TOP, EquipSlot.BOTTOM)
        return max(sum(bool(inv.equipped[j, s]) and inv.level[j, s] >= a["level"]
                       and EQUIP_SLOT[inv.item[j, s]] in armor for s in range(INVENTORY_SLOTS)) / 3
                   for j in members)
    if name == "ProgressTowardCenter":
        return max(1 - cheb(ent.row[j], ent.col[j], centre, centre) / ((hi - lo) / 2) for j in live)
    if name == "AllMembersWithinRange":
        lead = leader[t]
        if lead < 0 or not ent.alive[lead]:
            return 0.0
        near = [j for j in live if cheb(ent.row[j], ent.col[j], ent.row[lead], ent.col[lead]) <= a["n"]]
        return len(near) / len(live)
    if name in ("SeizeCenter", "SeizeTile"):
        tile = (0, 0) if name == "SeizeCenter" else (a["row"], a["col"])
        return sum(ticks / a["n"] for r, c, team, ticks in holds if (r, c) == tile and team == t)
    if name == "CanSeeAgent":
        g, v = a["agent"], w.cfg.shape.vision
        return float(g < n and ent.alive[g] and any(cheb(ent.row[j], ent.col[j], ent.row[g], ent.col[g]) <= v
                                                     for j in live))
    gold = w.state.events.amounts[members][:, [Event.EARN_GOLD, Event.SPEND_GOLD]].sum(axis=0)
    if name == "EarnGold":
        return gold[0] / a["n"]
    if name == "SpendGold":
        return gold[1] / a["n"]
    if name == "MakeProfit":
        return (gold[0] - gold[1]) / a["n"]
    if name == "ProtectLeader":
        return ent.time_alive[leader[t]] / a["n"] if leader[t] >= 0 else 0.0
    raise AssertionError(f"no reference for {name}")


def clip(x):
    return min(max(float(x), 0.0), 1.0)


def members_of(i, subject, team_size=TEAM_SIZE):
    t = i // team_size
    return (list(range(t * team_size, (t + 1) * team_size)) if subject == "team" else [i]), t


#: Argument sets tried for every predicate of PREDICATES.
CASES = {
    "TickGE": [{"n": 1}, {"n": 100}, {"n": 100_000}],
    "StayAlive": [{"n": 50}, {"n": 300}],
    "AllDead": [{}],
    "CanSeeTile": [{"material": m} for m in ("stone", "ore", "herb", "fish", "water")],
    "OccupyTile": [{"row": 2, "col": -3}, {"row": 0, "col": 0}, {"row": -16, "col": 15}],
    "DistanceTraveled": [{"n": 5}, {"n": 20}],
    "AttainSkill": [{"skill": "melee", "level": 3}, {"skill": "fishing", "level": 10},
                    {"skill": "alchemy", "level": 1}],
    "GainExperience": [{"skill": "range", "n": 500}, {"skill": "carving", "n": 5000}],
    "CountEvent": [{"event": "eat", "n": 5}, {"event": "score_hit", "n": 12}, {"event": "earn_gold", "n": 1}],
    "HoardGold": [{"n": 10}, {"n": 80}],
    "InventorySpaceGE": [{"n": 1}, {"n": 6}, {"n": 12}],
    "OwnItem": [{"item": "arrow", "level": 1, "n": 20}, {"item": "hat", "level": 5, "n": 1},
                {"item": "ration", "level": 1, "n": 3}],
    "EquipItem": [{"item": "hat", "level": 1}, {"item": "spear", "level": 6}],
    "FullyArmed": [{"level": 1}, {"level": 5}],
    "ProgressTowardCenter": [{}],
    "AllMembersWithinRange": [{"n": 0}, {"n": 5}, {"n": 20}],
    "SeizeCenter": [{"n": 10}, {"n": 60}],
    "ProtectLeader": [{"n": 30}, {"n": 300}],
    "CanSeeAgent": [{"agent": 0}, {"agent": 4}, {"agent": 1023}],
    "SeizeTile": [{"row": 0, "col": 0, "n": 30}, {"row": 2, "col": -3, "n": 60}, {"row": 5, "col": 5, "n": 1}],
    "EarnGold": [{"n": 3}, {"n": 40}],
    "SpendGold": [{"n": 3}, {"n": 40}],
    "MakeProfit": [{"n": 5}, {"n": 30}],
}
#: Tiles of the random ``holds`` tables (offsets from the centre); SeizeTile 5, 5 is never held.
SEIZED = [(0, 0), (2, -3), (-16, 15)]
STATES = 12


def check_against_reference(world, name, cases, subject):
    rng = np.random.default_rng(1234)
    seen = set()
    for k in range(STATES):
        spawn, holds, leader = randomize(world, rng)
        for args in cases:
            out = run_kernel(world, [Task(name, subject, {name: args})], spawn=spawn, holds=holds, leader=leader)
            for i in range(N_AGENTS):
                members, t = members_of(i, subject)
                if not any(world.ent.alive[j] for j in members):
                    assert out[i] == UNCHANGED, f"{name}{args} state {k} agent {i}: no live member"
                    continue
                want = clip(ref_leaf(name, args, world, members, t, spawn, holds, leader))
                assert out[i] == pytest.approx(want, abs=1e-12), (
                    f"{name}{args} ({subject}) state {k} agent {i}: kernel {out[i]}, reference {want}")
                seen.add(want if want in (0.0, 1.0) else "between")
    return seen


def test_cases_cover_every_predicate():
    assert set(CASES) == set(PREDICATES)


@pytest.mark.parametrize("subject", ["agent", "team"])
@pytest.mark.parametrize("name", sorted(PREDICATES))
def test_predicate_matches_python_reference(world, name, subject):
    seen = check_against_reference(world, name, CASES[name], subject)
    assert len(seen) >= 2, f"{name}: the random states only ever gave {seen}; the test is too weak"


@pytest.mark.parametrize("subject", ["agent", "team"])
@pytest.mark.parametrize("name", sorted(EVENT_PREDICATES))
def test_event_predicate_counts_its_event(world, name, subject):
    check_against_reference(world, name, [{"n": 3}, {"n": 40}], subject)
    # ... and is exactly CountEvent with that event
    rng = np.random.default_rng(7)
    spawn, holds, leader = randomize(world, rng)
    world.ent.alive[:N_AGENTS] = True
    alias = Task("a", subject, {name: {"n": 4}})
    plain = Task("p", subject, {"CountEvent": {"event": EVENT_PREDICATES[name].name.lower(), "n": 4}})
    np.testing.assert_array_equal(run_kernel(world, [alias]), run_kernel(world, [plain]))


# --- team aggregation and "no live member", by hand ---------------------------------------------


@pytest.fixture
def pair():
    """Agents A, B in team 0; C, D in team 1 (team_size 2), full config, all alive."""
    w = make_world("""
    . . . .
    A B C D
    """, config="full", team_size=2)
    return w


def test_team_sums_counts_and_maxes_levels(pair):
    w = pair
    counts = w.state.events.counts
    counts[0, Event.EAT], counts[1, Event.EAT], counts[2, Event.EAT] = 1, 2, 4
    w.ent.level[0, Skill.FISHING], w.ent.level[1, Skill.FISHING] = 2, 7
    w.ent.xp[0, Skill.MAGE], w.ent.xp[1, Skill.MAGE] = 30, 45
    w.ent.gold[:4] = [3, 4, 0, 0]
    eat = {"CountEvent": {"event": "eat", "n": 5}}
    tasks = [Task("a", "agent", eat), Task("t", "team", eat)]
    np.testing.assert_allclose(run_kernel(w, tasks, [0, 0, 0, 0], team_size=2), [0.2, 0.4, 0.8, 0.0])
    np.testing.assert_allclose(run_kernel(w, tasks, [1, 1, 1, 1], team_size=2), [0.6, 0.6, 0.8, 0.8])
    skill = {"AttainSkill": {"skill": "fishing", "level": 10}}
    np.testing.assert_allclose(run_kernel(w, [Task("t", "team", skill)], team_size=2)[:2], [6 / 9, 6 / 9])
    np.testing.assert_allclose(run_kernel(w, [Task("a", "agent", skill)], team_size=2)[:2], [1 / 9, 6 / 9])
    xp = {"GainExperience": {"skill": "mage", "n": 100}}
    np.testing.assert_allclose(run_kernel(w, [Task("t", "team", xp)], team_size=2)[:2], [0.75, 0.75])
    gold = {"HoardGold": {"n": 10}}
    np.testing.assert_allclose(run_kernel(w, [Task("t", "team", gold)], team_size=2)[:2], [0.7, 0.7])


def test_no_live_member_leaves_progress_unchanged(pair):
    w = pair
    w.state.tick = 50
    tick = {"TickGE": {"n": 100}}
    w.ent.alive[:4] = [False, True, False, False]
    before = np.array([0.1, 0.2, 0.3, 0.4])
    got = run_kernel(w, [Task("a", "agent", tick)], team_size=2, out=before)
    np.testing.assert_allclose(got, [0.1, 0.5, 0.3, 0.4])
    got = run_kernel(w, [Task("t", "team", tick)], team_size=2, out=before)
    np.testing.assert_allclose(got, [0.5, 0.5, 0.3, 0.4])  # A is dead but its team lives


def test_agents_without_a_task_and_several_tasks(pair):
    w = pair
    w.state.tick = 30
    tasks = [Task("t60", "agent", {"TickGE": {"n": 60}}), Task("t30", "agent", {"TickGE": {"n": 30}})]
    got = run_kernel(w, tasks, [1, -1, 0, 1], team_size=2, out=[0.9, 0.9, 0.9, 0.9])
    np.testing.assert_allclose(got, [1.0, 0.9, 0.5, 1.0])


def test_team_members_with_different_tasks(pair):
    """Members of one team playing different team tasks each get their own task's value."""
    w = pair
    w.state.tick = 20
    counts = w.state.events.counts
    counts[:4, Event.EAT] = [1, 2, 3, 4]
    eat = {"CountEvent": {"event": "eat", "n": 10}}
    tasks = [Task("tick", "team", {"TickGE": {"n": 40}}), Task("eat", "team", eat), Task("eat_a", "agent", eat)]
    got = run_kernel(w, tasks, [0, 1, 1, 0], team_size=2)
    np.testing.assert_allclose(got, [0.5, 0.3, 0.7, 0.5])
    got = run_kernel(w, tasks, [1, 0, 2, 1], team_size=2)
    np.testing.assert_allclose(got, [0.3, 0.5, 0.3, 0.7])
    got = run_kernel(w, tasks, [1, 2, 1, 1], team_size=2)
    np.testing.assert_allclose(got, [0.3, 0.2, 0.7, 0.7])


def test_fractions_that_sum_to_one_complete_in_any_order(pair):
    """0.1 + 0.2 + 0.7 is 0.9999999999999999 in one order of float additions and 1.0 in another;
    the two orders are one task (one key), so both must reach 1."""
    forward, backward = Task("f", "agent", {"ADD": [0.1, 0.2, 0.7]}), Task("b", "agent", {"ADD": [0.7, 0.2, 0.1]})
    assert forward.key() == backward.key()
    assert (run_kernel(pair, [forward, backward], [0, 1, 0, 1]) == 1.0).all()


def test_kernel_pays_progress_increase_until_complete(pair):
    """score_tasks over ticks: rewards += progress change while acting and not yet complete;
    ``best`` is the maximum, ``complete`` latches at 1, ``value`` follows the progress."""
    w = pair
    n = 4
    tree = {"SUB": [{"TickGE": {"n": 10}}, {"SUB": [{"TickGE": {"n": 500}}, 0.02]}]}  # 1 at tick 10 only
    value, best = np.zeros(n), np.zeros(n)
    complete = np.zeros(n, np.bool_)
    acting = np.array([True, True, False, True])
    agent_task = np.array([0, 0, 0, -1], np.int64)
    paid, values = [], []
    ticks = (2, 5, 3, 10, 700, 12)  # progress .2 .5 .3 1 .02 .996
    for tick in ticks:
        w.state.tick = tick
        w.ent.alive[1] = tick < 10  # B dies in tick 10: that tick counts, then its progress freezes
        acting[1] = tick <= 10  # alive at the tick's start (Minigame.update: alive or died)
        rewards = np.full(n, 0.25, np.float32)  # added to, not overwritten
        value = run_kernel(w, [Task("t", "agent", tree)], agent_task, team_size=2, out=value, best=best,
                           complete=complete, rewards=rewards, acting=acting)
        paid.append(rewards - 0.25)
        values.append(value.copy())
    want = [ref_tree(tree, t) for t in ticks]
    np.testing.assert_allclose(want, [0.2, 0.5, 0.3, 1.0, 0.02, 0.996])
    np.testing.assert_allclose([v[0] for v in values], want)
    np.testing.assert_allclose([v[1] for v in values], want[:4] + [want[3]] * 2)  # frozen once dead
    np.testing.assert_allclose([v[2] for v in values], want)  # evaluated though not acting ...
    np.testing.assert_allclose([p[2] for p in paid], 0.0)  # ... but never paid
    assert all(v[3] == 0.0 and p[3] == 0.0 for v, p in zip(values, paid))  # no task
    # A: paid the changes (also the fall at tick 3) until progress first reaches 1 at tick 10
    np.testing.assert_allclose([p[0] for p in paid], [0.2, 0.3, -0.2, 0.7, 0.0, 0.0], atol=1e-6)
    assert best[0] == 1.0 and complete[0] and values[-1][0] < 1.0
    np.testing.assert_allclose([p[1] for p in paid], [0.2, 0.3, -0.2, 0.7, 0.0, 0.0], atol=1e-6)
    assert best[1] == 1.0 and complete[1]  # completed on the tick it died
    assert complete[2] and best[2] == 1.0


def test_team_inventory_space_ignores_dead_members(pair):
    """A dead member holds nothing (its belongings are looted or destroyed); its 12 empty slots
    must not complete its team's InventorySpaceGE."""
    w = pair
    inv = w.state.inventory
    inv.item[0, :] = Item.RATION  # A: full inventory, alive
    inv.level[0, :], inv.quantity[0, :] = 1, 1
    w.ent.alive[1] = False  # B: dead, empty inventory
    got = run_kernel(w, [Task("t", "team", {"InventorySpaceGE": {"n": 12}})], team_size=2)
    assert got[0] == 0.0, f"team progress {got[0]}: the dead member's empty inventory counted"


def test_own_item_counts_stacked_quantity(pair):
    """OwnItem counts items held: one stack of 10 arrows is 10 arrows (rules.md: ammunition is
    stackable; Neural MMO 2's OwnItem sums quantities)."""
    w = pair
    w.put_item("A", 0, Item.ARROW, level=1, quantity=10)
    got = run_kernel(w, [Task("a", "agent", {"OwnItem": {"item": "arrow", "level": 1, "n": 10}})], team_size=2)
    assert got[0] == 1.0, f"progress {got[0]} for 10 of 10 arrows held"


def test_leader_predicates(pair):
    w = pair
    w.ent.time_alive[:4] = [40, 10, 99, 5]
    lead = np.array([0, -1], np.int64)
    protect = [Task("p", "team", {"ProtectLeader": {"n": 80}})]
    np.testing.assert_allclose(run_kernel(w, protect, team_size=2, leader=lead), [0.5, 0.5, 0.0, 0.0])
    near = [Task("r", "team", {"AllMembersWithinRange": {"n": 1}})]
    w.ent.row[:4] = [10, 10, 10, 10]
    w.ent.col[:4] = [10, 13, 10, 10]
    np.testing.assert_allclose(run_kernel(w, near, team_size=2, leader=lead)[:2], [0.5, 0.5])
    w.ent.alive[0] = False  # the leader died: 0, though B lives
    np.testing.assert_allclose(run_kernel(w, near, team_size=2, leader=lead)[:2], [0.0, 0.0])
    seize = [Task("s", "agent", {"SeizeCenter": {"n": 20}})]
    np.testing.assert_allclose(run_kernel(w, seize, team_size=2, holds=[0, 0, 0, 5])[1:], [0.25, 0.0, 0.0])
    np.testing.assert_allclose(run_kernel(w, seize, team_size=2, holds=[0, 0, 1, 30])[1:], [0.0, 1.0, 1.0])


# --- combinators --------------------------------------------------------------------------------


def leaf(x):
    """A TickGE node worth ``x`` at tick 50 (x in (0, 1]) or a constant."""
    return {"TickGE": {"n": int(round(50 / x))}} if x > 0 else 0.0


@pytest.mark.parametrize("tree, want", [
    ({"AND": [0.3, 0.8, 0.5]}, 0.3),
    ({"OR": [0.3, 0.8, 0.5]}, 0.8),
    ({"NOT": [0.3]}, 0.7),
    ({"NOT": {"TickGE": {"n": 200}}}, 0.75),
    ({"ADD": [0.25, 0.5]}, 0.75),
    ({"ADD": [0.7, 0.6]}, 1.0),
    ({"ADD": [0.5, 0.5, 0.5]}, 1.0),
    ({"SUB": [0.9, 0.25]}, 0.65),
    ({"SUB": [0.5, 0.75]}, 0.0),
    ({"SUB": [1.0, 0.25, 0.5]}, 0.25),
    ({"MUL": [0.5, 0.5, 0.8]}, 0.2),
    ({"MUL": [{"TickGE": {"n": 25}}, 0.3]}, 0.3),  # the leaf is clipped to 1 first
    ({"AND": [0.4]}, 0.4),
    (0.0, 0.0),
    (1, 1.0),
    (0.37, 0.37),
    ({"TickGE": {"n": 10}}, 1.0),  # 50 / 10, clipped
    ({"NOT": {"AND": [{"TickGE": {"n": 100}}, {"OR": [0.2, {"TickGE": {"n": 250}}]}]}}, 0.8),
    ({"MUL": [{"ADD": [0.6, 0.6]}, {"SUB": [0.3, 0.1]}]}, 0.2),
    ({"SUB": [{"ADD": [{"TickGE": {"n": 100}}, 0.75]}, {"NOT": [0.9]}]}, 0.9),
])
def test_combinators_by_hand(pair, tree, want):
    pair.state.tick = 50
    for subject in ("agent", "team"):
        got = run_kernel(pair, [Task("c", subject, tree)], team_size=2)
        np.testing.assert_allclose(got, want, atol=1e-12, err_msg=json.dumps(tree))


def random_tree(rng, depth):
    if depth == 0 or rng.random() < 0.3:
        x = float(rng.choice([0.0, 0.1, 0.25, 0.5, 0.8, 1.0, 2.0]))
        return round(x, 2) if x <= 1 and rng.random() < 0.5 else {"TickGE": {"n": int(round(50 / x)) if x else 100_000}}
    op = str(rng.choice(["AND", "OR", "NOT", "ADD", "SUB", "MUL"]))
    if op == "NOT":
        child = random_tree(rng, depth - 1)
        return {"NOT": child if isinstance(child, dict) and rng.random() < 0.5 else [child]}
    return {op: [random_tree(rng, depth - 1) for _ in range(int(rng.integers(1, 4)))]}


def ref_tree(node, tick):
    if isinstance(node, (int, float)):
        return float(node)
    (op, body), = node.items()
    if op == "TickGE":
        return clip(tick / body["n"])
    xs = [ref_tree(c, tick) for c in (body if isinstance(body, list) else [body])]
    if op == "AND":
        v = min(xs)
    elif op == "OR":
        v = max(xs)
    elif op == "NOT":
        v = 1 - xs[0]
    elif op == "ADD":
        v = sum(xs)
    elif op == "SUB":
        v = xs[0] - sum(xs[1:])
    else:
        v = float(np.prod(xs))
    return clip(v)


def test_random_trees_match_python_reference(pair):
    pair.state.tick = 50
    rng = np.random.default_rng(3)
    trees = []
    while len(trees) < 150:
        tree = random_tree(rng, 4)
        try:
            Task("r", "agent", tree)
        except ValueError:  # too long
            continue
        trees.append(tree)
    tasks = [Task(f"r{k}", "agent", t) for k, t in enumerate(trees)]
    for k in range(0, len(tasks), 4):
        batch = tasks[k:k + 4]
        got = run_kernel(pair, batch, np.arange(4) % len(batch), team_size=2)
        for i in range(4):
            tree = batch[i % len(batch)].tree
            want = ref_tree(tree, 50)
            assert 0.0 <= got[i] <= 1.0
            assert got[i] == pytest.approx(want, abs=1e-9), json.dumps(tree)


# --- bad task definitions -----------------------------------------------------------------------

TICK = {"TickGE": {"n": 1}}
BAD_TREES = [
    ({"Frobnicate": {}}, ["unknown predicate or combinator 'Frobnicate'", "TickGE", "ScoreHit", "'AND'"]),
    ({"XOR": [0.5, 0.5]}, ["unknown predicate or combinator 'XOR'", "'MUL'"]),
    ({"AND": [TICK, {"Nope": {}}]}, ["unknown predicate or combinator 'Nope'"]),
    ({"TickGE": {}}, ["TickGE takes arguments ['n']", "got []"]),
    ({"TickGE": None}, ["TickGE takes arguments ['n']"]),
    ({"TickGE": {"n": 5, "m": 1}}, ["TickGE takes arguments ['n']", "'m'"]),
    ({"AttainSkill": {"skill": "melee"}}, ["AttainSkill takes arguments ['skill', 'level']"]),
    ({"TickGE": 5}, ["arguments of TickGE must be a mapping", "5"]),
    ({"TickGE": {"n": 0}}, ["'n' must be an int in [1, 100000]", "got 0"]),
    ({"TickGE": {"n": 100_001}}, ["'n' must be an int in [1, 100000]", "100001"]),
    ({"TickGE": {"n": 2.5}}, ["'n' must be an int", "2.5"]),
    ({"TickGE": {"n": True}}, ["'n' must be an int", "True"]),
    ({"TickGE": {"n": "5"}}, ["'n' must be an int", "'5'"]),
    ({"AttainSkill": {"skill": "melee", "level": 11}}, ["'level' must be an int in [1, 10]"]),
    ({"InventorySpaceGE": {"n": 13}}, ["'n' must be an int in [1, 12]"]),
    ({"OccupyTile": {"row": 129, "col": 0}}, ["'row' must be an int in [-128, 128]"]),
    ({"AttainSkill": {"skill": "cooking", "level": 3}},
     ["'skill' must be one of", "'melee'", "'alchemy'", "'cooking'"]),
    ({"CanSeeTile": {"material": "void"}}, ["'material' must be one of", "'grass'", "'void'"]),
    ({"OwnItem": {"item": "none", "level": 1, "n": 1}}, ["'item' must be one of", "'hat'"]),
    ({"CountEvent": {"event": 3, "n": 1}}, ["'event' must be one of", "'eat'"]),
    ({"ScoreHit": {"n": 0}}, ["'n' must be an int in [1, 100000]"]),
    (1.5, ["constants must be in [0, 1]", "1.5"]),
    (-0.1, ["constants must be in [0, 1]", "-0.1"]),
    (float("nan"), ["constants must be in [0, 1]"]),
    ({"AND": [0.5, 2]}, ["constants must be in [0, 1]", "2"]),
    (True, ["a node is a number or a one-key mapping"]),
    ("TickGE", ["a node is a number or a one-key mapping", "'TickGE'"]),
    ({}, ["a node is a number or a one-key mapping"]),
    ({"TickGE": {"n": 1}, "StayAlive": {"n": 1}}, ["a node is a number or a one-key mapping"]),
    ({"NOT": [TICK, TICK]}, ["NOT takes one node"]),
    ({"NOT": []}, ["NOT takes one node"]),
    ({"AND": []}, ["AND takes a non-empty list of nodes"]),
    ({"OR": TICK}, ["OR takes a non-empty list of nodes"]),
    ({"MUL": 0.5}, ["MUL takes a non-empty list of nodes"]),
]


@pytest.mark.parametrize("tree, fragments", BAD_TREES, ids=[str(k) for k in range(len(BAD_TREES))])
def test_bad_tree_is_rejected_with_a_clear_message(tree, fragments):
    with pytest.raises(ValueError) as err:
        Task("bad", "agent", tree)
    msg = str(err.value)
    assert "task 'bad'" in msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"


@pytest.mark.parametrize("body", [5, [3], "n"])
def test_event_predicate_with_non_mapping_arguments_is_a_value_error(body):
    """``{"ScoreHit": 5}`` must fail like ``{"TickGE": 5}`` (a ValueError naming the
    predicate), not with a TypeError from unpacking the arguments."""
    with pytest.raises(ValueError, match="ScoreHit"):
        Task("bad", "agent", {"ScoreHit": body})


def test_event_predicate_rejects_an_event_argument():
    """ScoreHit takes only ``n``; an ``event`` argument must not silently turn it into
    another event's counter."""
    with pytest.raises(ValueError, match="ScoreHit"):
        Task("bad", "agent", {"ScoreHit": {"event": "eat", "n": 5}})


def test_event_predicate_missing_argument_names_it():
    with pytest.raises(ValueError) as err:
        Task("bad", "agent", {"ScoreHit": {}})
    assert "'n'" in str(err.value)


def test_bad_subject():
    with pytest.raises(ValueError, match=r"subject must be one of \['agent', 'team'\], got 'teams'"):
        Task("bad", "teams", TICK)
    with pytest.raises(ValueError, match="subject must be one of"):
        Task("bad", None, TICK)


def test_program_length_limit():
    ok = {"AND": [{"TickGE": {"n": k}} for k in range(1, MAX_PROGRAM)]}  # 31 leaves + AND = 32
    program, length, _ = compile_tasks([Task("ok", "agent", ok)])
    assert length[0] == MAX_PROGRAM and program.shape == (1, MAX_PROGRAM, 4)
    too_long = {"AND": [{"TickGE": {"n": k}} for k in range(1, MAX_PROGRAM + 1)]}
    with pytest.raises(ValueError, match=rf"task 'long' compiles to {MAX_PROGRAM + 1} steps; at most {MAX_PROGRAM}"):
        Task("long", "agent", too_long)


def test_task_from_dict():
    t = Task.from_dict({"name": "x", "task": TICK})
    assert (t.name, t.subject, t.tree) == ("x", "agent", TICK)
    assert Task.from_dict(t.to_dict()) == t
    with pytest.raises(ValueError, match=r"unknown keys \['reward'\]"):
        Task.from_dict({"name": "x", "task": TICK, "reward": 1})
    with pytest.raises(ValueError, match="must be a mapping with keys 'name', 'subject', 'task'"):
        Task.from_dict({"name": "x"})
    with pytest.raises(ValueError, match="must be a mapping"):
        Task.from_dict(["x", TICK])
    with pytest.raises(ValueError, match="subject must be one of"):
        Task.from_dict({"name": "x", "subject": "world", "task": TICK})


def test_every_predicate_compiles_with_its_declared_arguments():
    for name, (opcode, args, doc) in PREDICATES.items():
        body = {a.name: (next(m.name.lower() for m in a.enum if m.name not in ("NONE", "VOID"))
                         if a.enum is not None else max(a.lo, 1)) for a in args}
        program, length, team = compile_tasks([Task(name, "team", {name: body})])
        assert length[0] == 1 and program[0, 0, 0] == opcode and team[0]
        assert doc


# --- embedding ----------------------------------------------------------------------------------

EAT10 = {"CountEvent": {"event": "eat", "n": 10}}


def emb(tree, subject="agent", name="x"):
    return embed(Task(name, subject, tree))


def dist(a, b):
    return float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))


def test_embedding_shape_dtype_and_determinism():
    v = emb(EAT10)
    assert v.dtype == np.uint8 and v.shape == (EMBED_DIM,) == (16,)
    np.testing.assert_array_equal(v, emb(json.loads(json.dumps(EAT10))))
    assert len(set(v.tolist())) > 4  # not a constant vector


EMBED_SCRIPT = textwrap.dedent("""
    import json, sys
    from metammo.tasks import Task, embed
    trees = json.loads(sys.argv[1])
    print(json.dumps([embed(Task("x", s, t)).tolist() for s, t in trees]))
""")


def test_embedding_is_the_same_in_another_process():
    trees = [["agent", EAT10], ["team", {"AND": [{"ScoreHit": {"n": 3}}, {"StayAlive": {"n": 300}}]}],
             ["agent", {"NOT": {"CanSeeTile": {"material": "stone"}}}], ["agent", {"MUL": [0.5, TICK]}]]
    env = {**os.environ, "PYTHONHASHSEED": "4321"}
    run = subprocess.run([sys.executable, "-c", EMBED_SCRIPT, json.dumps(trees)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [emb(t, s).tolist() for s, t in trees]


def test_embedding_geometry():
    base = emb(EAT10)
    # different predicates, enum values and combinators differ
    others = [
        {"CountEvent": {"event": "drink", "n": 10}}, {"StayAlive": {"n": 10}}, {"HoardGold": {"n": 10}},
        {"AND": [EAT10, {"TickGE": {"n": 10}}]}, {"NOT": EAT10}, {"OR": [EAT10, {"TickGE": {"n": 10}}]},
    ]
    vectors = [base] + [emb(t) for t in others]
    for a in range(len(vectors)):
        for b in range(a):
            assert dist(vectors[a], vectors[b]) > 0, (a, b)
    # nearby arguments land closer than far ones
    near = emb({"CountEvent": {"event": "eat", "n": 12}})
    far = emb({"CountEvent": {"event": "eat", "n": 1000}})
    assert dist(base, near) < dist(base, far)
    assert dist(emb({"StayAlive": {"n": 200}}), emb({"StayAlive": {"n": 250}})) < \
        dist(emb({"StayAlive": {"n": 200}}), emb({"StayAlive": {"n": 20_000}}))
    # the same predicate with other arguments is closer than another predicate
    assert dist(base, far) < dist(base, emb({"HarvestItem": {"n": 10}}))
    # subject matters, name does not
    assert dist(base, emb(EAT10, subject="team")) > 0
    np.testing.assert_array_equal(base, emb(EAT10, name="something/else"))
    # SUB takes the rest from the first: order matters there, not among what is taken
    hit, alive, tick = {"ScoreHit": {"n": 3}}, {"StayAlive": {"n": 300}}, {"TickGE": {"n": 50}}
    assert dist(emb({"SUB": [hit, alive]}), emb({"SUB": [alive, hit]})) > 30
    np.testing.assert_array_equal(emb({"SUB": [hit, alive, tick]}), emb({"SUB": [hit, tick, alive]}))
    # agent ids name agents, not amounts: neighbouring ids embed apart, every one distinct
    seen = {emb({"CanSeeAgent": {"agent": g}}).tobytes() for g in range(128)}
    assert len(seen) == 128
    # aliases and the two spellings of NOT embed as what they mean
    np.testing.assert_array_equal(emb({"ScoreHit": {"n": 5}}),
                                  emb({"CountEvent": {"event": "score_hit", "n": 5}}))
    np.testing.assert_array_equal(emb({"NOT": EAT10}), emb({"NOT": [EAT10]}))


def test_tasks_with_one_key_embed_alike_and_others_apart():
    a, b, c = EAT10, {"StayAlive": {"n": 300}}, {"CanSeeTile": {"material": "water"}}
    same = [
        (a, {"AND": [a]}), (a, {"AND": [a, a]}), (a, {"NOT": {"NOT": a}}), (a, {"OR": [{"MUL": [a]}]}),
        ({"AND": [a, b]}, {"AND": [b, a]}), ({"ADD": [a, {"ADD": [b, c]}]}, {"ADD": [{"ADD": [c, a]}, b]}),
        ({"SUB": [{"SUB": [a, b]}, c]}, {"SUB": [a, c, b]}), ({"MUL": [0.5, a]}, {"MUL": [a, 0.5]}),
        ({"SeizeCenter": {"n": 30}}, {"SeizeTile": {"row": 0, "col": 0, "n": 30}}),
        ({"ScoreHit": {"n": 3}}, {"CountEvent": {"event": "SCORE_HIT", "n": 3}}),
        ({"CanSeeTile": {"material": "Water"}}, c),
        # constants: one per combinator, dropped when it changes nothing, the result when it decides
        (a, {"MUL": [1, a]}), (a, {"AND": [a, 1]}), (a, {"ADD": [0, a]}), (a, {"OR": [0.0, a]}), (a, {"SUB": [a, 0]}),
        ({"MUL": [0.5, a]}, {"MUL": [a, 1, 0.5]}), ({"ADD": [0.3, a]}, {"ADD": [0.1, a, 0.2]}),
        ({"ADD": [0.1, 0.2, 0.7]}, 1), ({"ADD": [0.7, 0.2, 0.1]}, 1), ({"MUL": [0, a]}, 0), ({"OR": [b, 1]}, 1),
        ({"AND": [a, 0, b]}, 0), ({"SUB": [a, 0.5, 0.5]}, 0), ({"SUB": [0, a]}, 0), ({"NOT": 0.25}, 0.75),
        ({"OR": [a, {"NOT": 0.7}]}, {"OR": [a, 0.3]}), ({"MUL": [a, 4e-13]}, {"MUL": [4e-13, a]}),
        ({"SUB": [a, 0.2, b, 0.1]}, {"SUB": [a, b, 0.3]}),
    ]
    for first, second in same:
        assert Task("x", "team", first).key() == Task("y", "team", second).key()
        np.testing.assert_array_equal(emb(first, "team"), emb(second, "team"), err_msg=f"{first} vs {second}")
    apart = [(a, b), ({"AND": [a, b]}, {"OR": [a, b]}), ({"SUB": [a, b]}, {"SUB": [b, a]}),
             ({"SeizeCenter": {"n": 30}}, {"SeizeTile": {"row": 0, "col": 1, "n": 30}}),
             ({"AND": [a, b]}, {"AND": [a, {"AND": [b, c]}]}),
             # a child given twice counts twice where it adds up
             ({"ADD": [a, a]}, {"ADD": [a, a, a]}), ({"MUL": [a, a]}, {"MUL": [a, a, a]}),
             ({"SUB": [a, b]}, {"SUB": [a, b, b]}), ({"ADD": [a, b]}, {"ADD": [a, a, b, b]}),
             ({"MUL": [0.5, a]}, a), ({"SUB": [a, 0.5]}, a), ({"MUL": [a, 4e-13]}, 0)]
    for first, second in apart:
        assert Task("x", "agent", first).key() != Task("y", "agent", second).key()
        assert dist(emb(first), emb(second)) > 0, (first, second)


def test_an_event_predicate_names_itself_and_its_arguments_in_errors():
    for body in ({"combat_style": "melee", "N": 3}, {"event": "eat", "n": 3}, {}):
        with pytest.raises(ValueError, match=r"ScoreHit counts score_hit events and takes arguments \['n'\], got "
                                             + re.escape(str(sorted(body)))):
            Task("x", "agent", {"ScoreHit": body})


def test_a_task_name_is_a_string_and_a_curriculum_takes_lists():
    with pytest.raises(ValueError, match=r"a task's name must be a string, got 5"):
        Task(5, "agent", TICK)
    cur = Curriculum(train=[Task("a", "agent", TICK)], eval=[Task("b", "agent", EAT10)])
    assert isinstance(cur.train, tuple) and isinstance(cur.eval, tuple)
    with pytest.raises(ValueError, match=r"curriculum: 'eval' must be a list or tuple of Task, got \[\{"):
        Curriculum(train=(Task("a", "agent", TICK),), eval=[EAT10])


def test_embeddings_of_the_shipped_curriculum_are_distinct():
    cur = load_curriculum(DEFAULT_CURRICULUM)
    vectors = {t.name: embed(t).tobytes() for t in cur.train + cur.eval}
    assert len(set(vectors.values())) == len(vectors)


# --- curricula ----------------------------------------------------------------------------------

TRAIN = [{"name": "f/eat_2", "task": {"CountEvent": {"event": "eat", "n": 2}}},
         {"name": "s/alive", "subject": "team", "task": {"StayAlive": {"n": 50}}}]
EVAL = [{"name": "f/eat_3", "task": {"AND": [{"CountEvent": {"event": "eat", "n": 3}}, 0.5]}}]


def write(path: Path, data=None, text=None):
    if text is None:
        if path.suffix == ".json":
            text = json.dumps(data)
        else:
            import yaml

            text = yaml.safe_dump(data)
    path.write_text(text)
    return path


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json", ".YAML"])
def test_load_curriculum(tmp_path, suffix):
    cur = load_curriculum(write(tmp_path / f"c{suffix}", {"train": TRAIN, "eval": EVAL}))
    assert isinstance(cur, Curriculum)
    assert [t.name for t in cur.train] == ["f/eat_2", "s/alive"]
    assert [t.subject for t in cur.train] == ["agent", "team"]
    assert [t.to_dict() for t in cur.eval] == [{**EVAL[0], "subject": "agent"}]


def test_curriculum_train_and_eval_must_be_disjoint(tmp_path):
    shared = {"name": "e/same_as_train", "task": TRAIN[0]["task"]}
    with pytest.raises(ValueError) as err:
        load_curriculum(write(tmp_path / "c.yaml", {"train": TRAIN, "eval": EVAL + [shared]}))
    assert "disjoint" in str(err.value) and "e/same_as_train" in str(err.value)
    # the name does not matter, the definition does; another subject is another task
    other_subject = {**shared, "subject": "team"}
    cur = load_curriculum(write(tmp_path / "d.yaml", {"train": TRAIN, "eval": [other_subject]}))
    assert cur.eval[0].subject == "team"


@pytest.mark.parametrize("train_tree, eval_tree", [
    ({"CountEvent": {"event": "eat", "n": 5}}, {"CountEvent": {"event": "EAT", "n": 5}}),
    ({"ScoreHit": {"n": 5}}, {"CountEvent": {"event": "score_hit", "n": 5}}),
    ({"NOT": {"TickGE": {"n": 5}}}, {"NOT": [{"TickGE": {"n": 5}}]}),
], ids=["enum-case", "alias", "not-spelling"])
def test_curriculum_disjointness_sees_through_spellings(train_tree, eval_tree):
    """The same task spelled differently (enum case, an event alias, NOT's two forms) compiles
    and embeds identically, so it must count as shared between train and eval."""
    data = {"train": [{"name": "t", "task": train_tree}], "eval": [{"name": "e", "task": eval_tree}]}
    a, b = Task("t", "agent", train_tree), Task("e", "agent", eval_tree)
    assert (compile_tasks([a])[0] == compile_tasks([b])[0]).all()  # the same program ...
    with pytest.raises(ValueError, match="disjoint"):  # ... so the same task
        Curriculum.from_dict(data)


_EAT, _DRINK, _ALIVE = ({"CountEvent": {"event": "eat", "n": 5}}, {"CountEvent": {"event": "drink", "n": 5}},
                        {"StayAlive": {"n": 100}})


@pytest.mark.parametrize("train_tree, eval_tree", [
    ({"AND": [_EAT, _DRINK]}, {"AND": [_DRINK, _EAT]}),
    ({"OR": [{"OR": [_EAT, _DRINK]}, _ALIVE]}, {"OR": [_ALIVE, _DRINK, _EAT]}),
    ({"ADD": [_EAT, {"ADD": [_DRINK, _ALIVE]}]}, {"ADD": [_ALIVE, _EAT, _DRINK]}),
    ({"MUL": [_EAT, _DRINK]}, {"MUL": [_DRINK, _EAT]}),
    ({"AND": [_EAT, _EAT, _DRINK]}, {"AND": [_DRINK, _EAT]}),
    ({"NOT": {"NOT": _EAT}}, _EAT),
    ({"OR": [_EAT]}, _EAT),
    ({"SUB": [{"SUB": [_ALIVE, _EAT]}, _DRINK]}, {"SUB": [_ALIVE, _DRINK, _EAT]}),
    ({"OR": [{"SeizeCenter": {"n": 7}}, _EAT]}, {"OR": [_EAT, {"SeizeTile": {"row": 0, "col": 0, "n": 7}}]}),
], ids=["and-order", "or-nested", "add-nested", "mul-order", "and-repeat", "not-not", "one-child", "sub-rest",
        "seize-centre"])
def test_curriculum_disjointness_sees_through_identities(train_tree, eval_tree):
    """Trees that compute the same progress in any state (combinators reordered, nested,
    repeated where that changes nothing, NOT NOT) are one task: shared between train and eval."""
    data = {"train": [{"name": "t", "task": train_tree}], "eval": [{"name": "e", "task": eval_tree}]}
    with pytest.raises(ValueError, match="disjoint"):
        Curriculum.from_dict(data)


@pytest.mark.parametrize("first, second", [
    ({"SUB": [_EAT, _DRINK]}, {"SUB": [_DRINK, _EAT]}),
    ({"ADD": [_EAT, _EAT]}, _EAT),
    ({"MUL": [_EAT, _EAT]}, _EAT),
    ({"AND": [_EAT, _DRINK]}, {"OR": [_EAT, _DRINK]}),
], ids=["sub-order", "add-repeat", "mul-repeat", "and-or"])
def test_different_tasks_keep_different_keys(first, second):
    assert Task("a", "agent", first).key() != Task("b", "agent", second).key()
    assert Task("a", "agent", first).key() != Task("a", "team", first).key()


@pytest.mark.parametrize("data, fragments", [
    ({"train": [], "eval": EVAL}, ["the 'train' task list is empty"]),
    ({"train": TRAIN, "eval": []}, ["the 'eval' task list is empty"]),
    ({"train": TRAIN, "eval": EVAL, "test": EVAL}, ["exactly the keys ['eval', 'train']", "'test'"]),
    ({"train": TRAIN}, ["exactly the keys ['eval', 'train']"]),
    ([TRAIN, EVAL], ["must be a mapping", "list"]),
    ({"train": TRAIN, "eval": "f/eat_3"}, ["'eval' must be a list of task entries"]),
    ({"train": TRAIN, "eval": [{"name": "x", "task": {"Nope": {}}}]}, ["(eval)", "unknown predicate", "'Nope'"]),
    ({"train": TRAIN, "eval": [{"name": "x", "tsk": TICK}]}, ["(eval)", "'task'"]),
])
def test_bad_curriculum_contents(tmp_path, data, fragments):
    path = write(tmp_path / "c.json", data)
    with pytest.raises(ValueError) as err:
        load_curriculum(path)
    msg = str(err.value)
    assert str(path) in msg or fragments[0].startswith("the '"), msg  # the file, where it is checked
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"


@pytest.mark.parametrize("name", ["c.pkl", "c.pickle", "c.txt", "c"])
def test_curriculum_suffix_is_checked_before_reading(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x80\x04\x95not read")
    with pytest.raises(ValueError, match=r"suffix must be one of \['.json', '.yaml', '.yml'\]"):
        load_curriculum(path)


@pytest.mark.parametrize("name, text", [
    ("c.json", '{"train": [}'),
    ("c.yaml", "train: [ {name: x\n  eval: ]"),
    ("c.yml", "train:\n  - {name: a\n\tbad"),
])
def test_unparsable_curriculum_names_the_file(tmp_path, name, text):
    path = write(tmp_path / name, text=text)
    with pytest.raises(ValueError) as err:
        load_curriculum(path)
    assert str(path) in str(err.value) and "does not parse" in str(err.value)


def test_binary_curriculum_file_names_the_file(tmp_path):
    """A file that is not text does not parse either; the error must name it."""
    path = tmp_path / "c.json"
    path.write_bytes(b"\xff\xfe\x00\x81 binary")
    with pytest.raises(ValueError) as err:
        load_curriculum(path)
    assert str(path) in str(err.value)


def test_a_task_compiles_and_embeds_once_and_its_embedding_is_read_only():
    """Games set their tasks up every episode; the program and embedding are computed once per
    task, and the shared embedding cannot be edited through one episode's game vector."""
    task = Task("t", "team", {"AND": [{"TickGE": {"n": 5}}, {"ScoreHit": {"n": 2}}]})
    assert task.program is task.program and task.embedding is task.embedding
    assert list(task.program) == [tuple(row) for row in compile_tasks([task])[0][0, :len(task.program)]]
    np.testing.assert_array_equal(task.embedding, embed(Task("copy", "team", task.tree)))
    with pytest.raises(ValueError, match="read-only"):
        task.embedding[0] = 0


def test_missing_curriculum_file(tmp_path):
    with pytest.raises(ValueError, match="absent.yaml: no such file"):
        load_curriculum(tmp_path / "absent.yaml")


def test_shipped_multitask_curriculum_loads_and_compiles():
    cur = load_curriculum(DEFAULT_CURRICULUM)
    assert len(cur.train) >= 10 and len(cur.eval) >= 5
    for split in (cur.train, cur.eval):
        program, length, team = compile_tasks(split)
        assert program.shape == (len(split), MAX_PROGRAM, 4)
        assert (length >= 1).all() and (length <= MAX_PROGRAM).all()
        for t in split:
            category, _, short = t.name.partition("/")
            assert category and short, t.name
            assert embed(t).shape == (EMBED_DIM,)
    train_keys = {t.key() for t in cur.train}
    assert not any(t.key() in train_keys for t in cur.eval)
    assert {t.name.split("/")[0] for t in cur.eval} <= {t.name.split("/")[0] for t in cur.train}


# --- delta-progress rewards through an env -------------------------------------------------------


class Probe(Minigame):
    """One agent on a flat grass map, a row of foliage east of it; the task is a game option."""

    name = "test_tasks_probe"
    description = "test game of tests/test_tasks.py"
    configs = ("mini", "full")
    has_winners = False

    def __init__(self, tree=TICK, subject="agent", offset=(0, 0), team_size=1, absent=(), doomed=(), **options):
        self.team_size = team_size
        super().__init__(**options)
        self.tree, self.subject, self.offset, self.absent, self.doomed = tree, subject, offset, absent, doomed

    def rules(self, state, cfg, died):
        if self.doomed and state.tick == 1:  # a special rule kills them on the first tick
            kill_agents(state, params(cfg), np.array(self.doomed), self.kernels)

    def task(self, cfg):
        return Task("probe/task", self.subject, self.tree)

    def spawn(self, state, cfg, rng):
        lo, hi = playable_bounds(cfg)
        centre = (lo + hi - 1) // 2
        r, c = centre + self.offset[0], centre + self.offset[1]
        state.tiles.material[r, c + 1:c + 4] = Material.FOLIAGE
        for i in range(cfg.shape.num_agents):
            if i not in self.absent:
                place_agent(state, i, r, c, i // cfg.tunables.team_size, 0)


if Probe.name not in games():
    register(Probe.name, Probe)

#: A 32-tile map in a 128-tile shape with 128 NPC slots: Minigame.episode_config fails on smaller
#: shapes (see test_minigame_runs_on_a_small_shape).
SHAPE = dict(max_map_size=128, max_npcs=128)
PROBE = dict(num_agents=1, npcs=False, npc_count=0, map_size=32, **SHAPE,
             terrain=False, water_depletion=0, food_depletion=0, starvation_damage=0, autoreset=False)


def play(env, moves):
    """Step with agent 0's moves; per tick ``(reward, game progress, infos)``."""
    out = []
    for move in moves:
        act = np.zeros_like(env.actions)
        act[:, 0] = move
        _, rewards, _, _, infos = env.step(act)
        out.append((rewards.copy(), env.game.progress.copy(), infos))
    return out


def test_rewards_are_progress_deltas_until_completion():
    eat2 = {"CountEvent": {"event": "eat", "n": 2}}
    env = metammo.make(Probe.name, "full", seed=0, horizon=6, game_options={"tree": eat2}, **PROBE)
    env.reset()
    assert env.game.progress[0] == 0.0
    ticks = play(env, [Move.EAST] * 6)
    total, last, seen = 0.0, 0.0, []
    for rewards, prog, infos in ticks:
        want = 0.0 if last >= 1.0 else prog[0] - last
        assert rewards[0] == pytest.approx(want), seen
        total += float(rewards[0])
        last = prog[0]
        seen.append(prog[0])
    assert env.state.events.counts[0, Event.EAT] == 3 and seen[-1] == 1.0, seen
    assert total == pytest.approx(1.0)
    assert len(infos) == 1
    summary = infos[0]
    assert summary["game"] == Probe.name and summary["winners"] == []
    assert summary["scores"] == [1.0] and summary["task_progress"] == 1.0
    assert summary["tasks"] == ["probe/task"]
    assert summary["mean_return"] == pytest.approx(1.0)


def test_rewards_may_fall_before_completion_and_stop_after_it():
    """ProgressTowardCenter from 4 east of the centre (0.75): the progress is 0 before the first
    tick (the reference's), so the first tick pays what it is then; 3 steps away (negative
    rewards), 7 back to the centre (1: complete), then away again (no reward, the score keeps 1):
    the rewards sum to 1."""
    env = metammo.make(Probe.name, "full", seed=0, horizon=14, game_options={
        "tree": {"ProgressTowardCenter": {}}, "offset": (0, 4)}, **PROBE)
    env.reset()
    assert env.game.progress[0] == 0.0
    moves = [Move.EAST] * 3 + [Move.WEST] * 7 + [Move.WEST] * 4
    ticks = play(env, moves)
    rewards = np.array([t[0][0] for t in ticks], np.float64)
    progresses = np.array([t[1][0] for t in ticks])
    np.testing.assert_allclose(progresses[:3], [0.75 - k / 16 for k in (1, 2, 3)])
    np.testing.assert_allclose(rewards[:3], [0.75 - 1 / 16, -1 / 16, -1 / 16], rtol=1e-6)
    assert progresses[9] == 1.0
    np.testing.assert_allclose(rewards[3:10], 1 / 16, rtol=1e-6)
    assert progresses[-1] < 1.0 and (rewards[10:] == 0).all()
    assert rewards.sum() == pytest.approx(1.0, abs=1e-6)
    summary = ticks[-1][2][0]
    assert summary["scores"] == [1.0] and summary["winners"] == []


def test_a_task_complete_at_spawn_is_paid_once_on_the_first_tick():
    """As the reference, whose progress starts at 0: foliage is in view from the spawn."""
    env = metammo.make(Probe.name, "full", seed=0, horizon=8, game_options={
        "tree": {"CanSeeTile": {"material": "foliage"}}}, **PROBE)
    env.reset()
    assert env.game.progress[0] == 0.0
    ticks = play(env, [Move.STAY] * 8)
    assert [t[0][0] for t in ticks] == [1.0] + [0.0] * 7
    assert ticks[-1][2][0]["scores"] == [1.0]


def test_a_task_that_changes_between_episodes_is_scored_and_shown_anew():
    """A game compiles its tasks again only when they differ from its last episode's."""
    env = metammo.make(Probe.name, "full", seed=0, horizon=4, **PROBE)
    env.reset()
    first = env.game.tasks[0]
    env.reset()
    assert env.game.tasks[0] is first
    env.game.tree = {"NOT": {"TickGE": {"n": 4}}}
    env.reset()
    assert env.game.tasks[0] is not first and env.game.progress[0] == 0.0
    env.step(np.zeros_like(env.actions))
    assert env.game.progress[0] == 0.75  # 1 - TickGE 4 at tick 1
    game = env.layout.view(env.observations, "game")
    np.testing.assert_array_equal(game[0, GameFeature.TASK:GameFeature.TASK + EMBED_DIM],
                                  embed(Task("x", "agent", env.game.tree)))


def test_team_task_rewards_every_member_and_observation_holds_the_embedding():
    eat2 = {"CountEvent": {"event": "eat", "n": 2}}
    env = metammo.make(Probe.name, "full", seed=0, horizon=4,
                       game_options={"tree": eat2, "subject": "team", "team_size": 2},
                       **{**PROBE, "num_agents": 2})
    env.reset()
    game = env.layout.view(env.observations, "game")
    want = embed(Task("x", "team", eat2))
    np.testing.assert_array_equal(game[:, GameFeature.TASK:GameFeature.TASK + EMBED_DIM], [want, want])
    act = np.zeros_like(env.actions)
    act[0, 0] = Move.EAST  # only A walks onto the foliage
    total = np.zeros(2)
    for _ in range(4):
        _, rewards, _, _, infos = env.step(act)
        total += rewards
    assert env.state.events.counts[1, Event.EAT] == 0
    np.testing.assert_allclose(total, [1.0, 1.0])
    assert infos[0]["scores"] == [1.0, 1.0]


def test_seize_tile_counts_a_team_alone_on_the_tile_and_restarts_on_a_takeover():
    """SeizeTile 0, 1 through the env: four agents of two teams spawn on the centre; team 0
    steps east onto the tile (held 1, 2 ticks), C of team 1 joins (contested: no count), team 0
    steps back (team 1 alone: it takes the tile and its count starts at 1; team 0's falls to 0)."""
    seize = {"SeizeTile": {"row": 0, "col": 1, "n": 4}}
    env = metammo.make(Probe.name, "mini", seed=0, horizon=20, **{**PROBE, "num_agents": 4},
                       game_options={"tree": seize, "subject": "team", "team_size": 2})
    env.reset()
    game = env.game
    assert game.hold(0, 1) == (-1, 0)
    with pytest.raises(KeyError, match=r"seizes the tile \(0, 0\).*\[\(0, 1\)\]"):
        game.hold()
    still = np.zeros_like(env.actions)
    moves = {0: Move.EAST, 1: Move.EAST}, {}, {2: Move.EAST}, {}, {0: Move.WEST, 1: Move.WEST}, {}
    seen = []
    for move in moves:
        act = still.copy()
        for i, m in move.items():
            act[i, 0] = m
        env.step(act)
        seen.append((game.hold(0, 1), game.progress.tolist()))
    assert seen == [((0, 1), [0.25, 0.25, 0.0, 0.0]), ((0, 2), [0.5, 0.5, 0.0, 0.0]),
                    ((0, 2), [0.5, 0.5, 0.0, 0.0]), ((0, 2), [0.5, 0.5, 0.0, 0.0]),
                    ((1, 1), [0.0, 0.0, 0.25, 0.25]), ((1, 2), [0.0, 0.0, 0.5, 0.5])]


def test_a_hold_is_counted_after_the_rules_kill():
    """Both teams spawn on the seized tile and a rule kills team 1 on the first tick: team 0 is
    then alone there and holds the tile that tick (counted before the rules, it was contested)."""
    env = metammo.make(Probe.name, "mini", seed=0, horizon=4, **{**PROBE, "num_agents": 4},
                       game_options={"tree": {"SeizeCenter": {"n": 2}}, "subject": "team", "team_size": 2,
                                     "doomed": (2, 3)})
    env.reset()
    env.step(np.zeros_like(env.actions))
    assert not env.state.entities.alive[2:4].any()
    assert env.game.hold() == (0, 1) and env.game.progress.tolist()[:2] == [0.5, 0.5]


@pytest.mark.parametrize("subject", ["agent", "team"])
def test_the_tick_an_agent_dies_still_counts_for_its_task(subject):
    """As in the reference, which scores the agents "alive and dead this tick": a task the
    death itself completes is paid and scored, for an agent as for a team's last member."""
    env = metammo.make(Probe.name, "mini", seed=0, horizon=4, **{**PROBE, "num_agents": 2},
                       game_options={"tree": {"CountEvent": {"event": "death", "n": 1}}, "subject": subject,
                                     "team_size": 2 if subject == "team" else 1, "doomed": (0, 1)})
    env.reset()
    _, rewards, *_ = env.step(np.zeros_like(env.actions))
    assert not env.state.entities.alive[:2].any() and env.state.events.counts[0, Event.DEATH] == 1
    assert rewards.tolist() == [1.0, 1.0] and env.game.scores().tolist() == [1.0, 1.0]


def test_a_member_who_dies_is_read_where_it_died():
    """The death tick does not turn where-predicates to 0: no hidden penalty of -progress."""
    env = metammo.make(Probe.name, "mini", seed=0, horizon=4, **{**PROBE, "num_agents": 2},
                       game_options={"tree": {"ProgressTowardCenter": {}}, "offset": (0, 4), "doomed": (0,)})
    env.reset()
    _, rewards, *_ = env.step(np.zeros_like(env.actions))
    assert not env.state.entities.alive[0] and env.state.entities.alive[1]
    assert rewards.tolist() == [0.75, 0.75] and env.game.progress.tolist() == [0.75, 0.75]


def test_leader_predicates_read_the_first_member_in_games_without_a_leader_role():
    """rules.md §2: the first member of a team is its leader, in every game; the Probe game
    marks none (``leaders`` False), and its tasks still see agent 0 lead team 0."""
    env = metammo.make(Probe.name, "mini", seed=0, horizon=8, **{**PROBE, "num_agents": 2},
                       game_options={"tree": {"AND": [{"ProtectLeader": {"n": 4}}, {"AllMembersWithinRange": {"n": 0}}]},
                                     "subject": "team", "team_size": 2})
    env.reset()
    assert not env.state.entities.leader[:2].any()
    play(env, [Move.STAY] * 2)
    assert env.game.progress.tolist() == [0.5, 0.5]  # the leader lived 2 of 4 ticks; both on its tile


def test_can_see_agent_must_name_an_agent_of_the_env():
    env = metammo.make(Probe.name, "mini", seed=0, horizon=4, **{**PROBE, "num_agents": 2},
                       game_options={"tree": {"CanSeeAgent": {"agent": 1}}})
    env.reset()
    env.step(np.zeros_like(env.actions))
    assert env.game.progress.tolist() == [1.0, 1.0]  # both on one tile: each sees agent 1
    with pytest.raises(ValueError, match=r"CanSeeAgent agent 2 is not an agent of this env; agent ids are 0\.\.1"):
        metammo.make(Probe.name, "mini", seed=0, horizon=4, **{**PROBE, "num_agents": 2},
                     game_options={"tree": {"CanSeeAgent": {"agent": 2}}}).reset()


def test_team_task_pays_nothing_to_dead_members():
    """B never spawns (dead all episode): its team's progress rises with A's meals, but only A,
    who acts, is paid."""
    eat2 = {"CountEvent": {"event": "eat", "n": 2}}
    env = metammo.make(Probe.name, "full", seed=0, horizon=4, **{**PROBE, "num_agents": 2},
                       game_options={"tree": eat2, "subject": "team", "team_size": 2, "absent": (1,)})
    env.reset()
    assert not env.state.entities.alive[1]
    act = np.zeros_like(env.actions)
    act[0, 0] = Move.EAST
    paid = []
    for _ in range(4):
        _, rewards, _, _, infos = env.step(act)
        paid.append(rewards.copy())
    paid = np.array(paid)
    assert paid[:, 0].sum() == pytest.approx(1.0)
    assert (paid[:, 1] == 0).all()


def test_multitask_rewards_sum_to_progress_and_scores_are_best_progress():
    """Per agent: each tick's reward is the progress change until the task is first complete,
    so the episode's rewards sum to (1 if completed else final progress) - initial progress;
    the summary's scores are the best progress (multitask has no winners)."""
    env = metammo.make("multitask", "full", seed=0, randomize=False, horizon=60, autoreset=False,
                       num_agents=16, npc_count=16, map_size=48, **SHAPE)
    env.reset()
    game = env.game
    tasks = game.tasks
    assert [t.name for t in tasks] == [t.name for t in game.curriculum.train]
    obs_task = env.layout.view(env.observations, "game")[:, GameFeature.TASK:GameFeature.TASK + EMBED_DIM]
    np.testing.assert_array_equal(obs_task, np.stack([embed(tasks[k]) for k in game.agent_task]))
    initial = game.progress.copy()
    last, best, done = initial.copy(), initial.copy(), initial >= 1.0
    total = np.zeros(env.num_agents)
    rng = np.random.default_rng(0)
    infos = []
    for _ in range(60):
        _, rewards, _, _, infos = env.step(rng.integers(0, env.head_sizes, size=env.actions.shape))
        prog = game.progress.copy()
        np.testing.assert_allclose(rewards, np.where(done, 0.0, prog - last), atol=1e-6)
        total += rewards
        done |= prog >= 1.0
        best = np.maximum(best, prog)
        last = prog
        if infos:
            break
    assert len(infos) == 1 and infos[0]["length"] <= 60
    np.testing.assert_allclose(total, np.where(done, 1.0, last) - initial, atol=1e-5)
    assert (total != 0).any(), "no agent made any progress: the test is too weak"
    summary = infos[0]
    assert summary["winners"] == []
    np.testing.assert_allclose(summary["scores"], np.round(best, 4), atol=1e-9)
    assert summary["task_progress"] == pytest.approx(best.mean())
    names = np.array([t.name.split("/")[0] for t in tasks])[game.agent_task]
    for category, fraction in summary["completion"].items():
        assert fraction == pytest.approx((best[names == category] >= 1.0).mean())


def test_multitask_eval_preset_and_custom_curriculum(tmp_path):
    env = metammo.make("multitask", "full", seed=0, preset="eval", horizon=5, num_agents=4, **SHAPE)
    env.reset()
    assert [t.name for t in env.game.tasks] == [t.name for t in env.game.curriculum.eval]
    path = write(tmp_path / "mine.yaml", {"train": [TRAIN[0], {**TRAIN[1], "subject": "agent"}], "eval": EVAL})
    env = metammo.make("multitask", "full", seed=0, horizon=5, num_agents=4, npc_count=4, map_size=32,
                       game_options={"curriculum": str(path)}, **SHAPE)
    env.reset()
    assert [t.name for t in env.game.tasks] == ["f/eat_2", "s/alive"]
    with pytest.raises(ValueError, match="suffix"):
        metammo.make("multitask", "full", game_options={"curriculum": str(tmp_path / "x.pkl")})


@pytest.mark.parametrize("entry", [
    {"name": "s/alive", "subject": "team", "task": {"StayAlive": {"n": 50}}},
    {"name": "s/alive", "task": {"ProtectLeader": {"n": 50}}},
    {"name": "s/alive", "task": {"OR": [TICK, {"AllMembersWithinRange": {"n": 3}}]}},
], ids=["team-subject", "leader", "members"])
def test_multitask_refuses_team_tasks(tmp_path, entry):
    """Multi-task has no teams: a team task is an agent task under another name, which the
    split check could not tell from a training task (ProtectLeader 50 is StayAlive 50)."""
    path = write(tmp_path / "teams.yaml", {"train": [TRAIN[0]], "eval": [entry]})
    with pytest.raises(ValueError, match=rf"curriculum {path} \(eval\): task 's/alive' is a team task, but "
                                         r"Multi-task plays without teams"):
        metammo.make("multitask", "full", game_options={"curriculum": str(path)})


def test_minigame_runs_on_a_small_shape():
    """A minigame on a shape smaller than the preset's defaults (max_map_size < 128 or
    max_npcs < 128) must reset: episode_config must not validate the default tunables
    (map_size 128, npc_count 128) against the small shape."""
    env = metammo.make(Probe.name, "full", seed=0, horizon=3, **{**PROBE, "max_map_size": 32, "max_npcs": 1})
    env.reset()
    assert env.config.tunables.map_size == 32


def test_rollout_plays_a_curriculum_given_as_a_game_option(tmp_path, capsys):
    """``--game-options`` reaches the game: Multi-task plays the file's training tasks, and
    under ``--preset eval`` its held-out ones."""
    from metammo import rollout

    path = tmp_path / "mine.yaml"
    path.write_text("train:\n  - {name: live, task: {StayAlive: {n: 50}}}\n"
                    "eval:\n  - {name: eat, task: {CountEvent: {event: eat, n: 3}}}\n")
    for extra, tasks in (([], ["live"]), (["--preset", "eval"], ["eat"])):
        argv = ["--game", "multitask", "--config", "full", "--set", "horizon=3", "--json",
                "--game-options", json.dumps({"curriculum": str(path)}), *extra]
        assert rollout.main(argv) == 0
        assert json.loads(capsys.readouterr().out)["tasks"] == tasks
