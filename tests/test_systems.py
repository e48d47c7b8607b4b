"""One test (or a few) per engine rule, each on a tiny ASCII-drawn world (see helpers.py).

Numbers are the ones of rules.md §1 and the systems' module docstrings. Combat, NPC and fog
tests use :data:`QUIET` resources so health changes are exactly the rule under test.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap

import numpy as np
import pytest
from helpers import LEGEND, make_world, reachable_from_edge

import metammo
from metammo.config import Shape
from metammo.constants import MOVE_DELTA, NUM_SKILLS, PASSABLE, Event, Kind, Material, Move, Skill, Style
from metammo.observation import EntityFeature as F
from metammo.observation import SelfFeature as S
from metammo.observation import System, TileChannel
from metammo.state import allocate, playable_bounds
from metammo.systems.npc import danger_of
from metammo.systems.resources import deplete
from metammo.systems.spawn import _ring_tile, open_paths, ring
from metammo.systems.spatial import SLOT_KEY

MELEE, RANGE, MAGE = Style.MELEE, Style.RANGE, Style.MAGE
OLD = 100  # time_alive past spawn immunity
#: Resources that never change health (no regeneration, no starvation), so combat, NPC and fog
#: tests see exactly the damage under test.
QUIET = dict(health_regen=0, starvation_damage=0)


# --- resources ---------------------------------------------------------------------------


def test_food_and_water_fall_by_5_per_tick():
    w = make_world("""
    . . .
    . A .
    . . .
    """)
    for k in range(1, 4):
        w.step()
        assert (w.ent.food[0], w.ent.water[0]) == (100 - 5 * k, 100 - 5 * k)
    assert w.health("A") == 100


def test_standing_on_foliage_refills_food_and_leaves_scrub():
    w = make_world("""
    . A f .
    """)
    w.ent.food[0] = 40
    w.step({"A": {"move": Move.EAST}})
    r, c = w.pos("A")
    assert (r, c) == w.at(0, 2)
    assert w.ent.food[0] == 100
    assert w.tiles.material[r, c] == Material.SCRUB
    assert w.count("A", Event.EAT) == 1
    assert [e[:2] for e in w.log(Event.EAT)] == [(Event.EAT, 0)]
    w.step()  # scrub feeds nothing
    assert w.ent.food[0] == 95
    assert w.count("A", Event.EAT) == 1


def test_water_refills_when_4_adjacent_not_diagonal():
    w = make_world("""
    # ~ # # ~
    # A # B #
    # # # # #
    """)
    w.ent.water[:2] = 30
    w.step()
    assert w.ent.water[w.slot("A")] == 100
    assert w.ent.water[w.slot("B")] == 25
    assert (w.count("A", Event.DRINK), w.count("B", Event.DRINK)) == (1, 0)
    assert w.tiles.material[w.at(0, 1)] == Material.WATER  # water never depletes


def test_health_regenerates_above_half_and_caps_at_100():
    w = make_world("""
    A # B # C # D
    """)
    a, b, c, d = (w.slot(x) for x in "ABCD")
    w.ent.health[[a, b, c, d]] = [50, 95, 50, 50]
    w.ent.food[c] = 55  # 50 after this tick: not above half
    w.ent.water[d] = 56  # 51: above half
    w.step()
    assert list(w.ent.health[[a, b, c, d]]) == [60, 100, 50, 60]


def test_empty_food_and_water_each_cost_10_health():
    w = make_world("""
    A # B # C
    """)
    a, b, c = (w.slot(x) for x in "ABC")
    w.ent.food[[a, b, c]] = [5, 5, 0]
    w.ent.water[[a, b, c]] = [100, 5, 0]
    w.step()
    assert list(w.ent.health[[a, b, c]]) == [90, 80, 80]
    assert sorted((e[1], e[3]) for e in w.log(Event.STARVE)) == [(a, 10), (b, 20), (c, 20)]
    w.step()
    assert list(w.ent.health[[a, b, c]]) == [80, 60, 60]


def test_scrub_regrows_to_foliage_at_its_scheduled_tick():
    w = make_world("""
    A .
    """)
    r, c = w.pos("A")
    w.set_material(r, c, "f")
    w.refresh()
    w.step()  # tick 1: eats, the tile becomes scrub
    assert w.tiles.material[r, c] == Material.SCRUB and w.tiles.num_regrow[0] == 1
    due = int(w.tiles.regrow_tick[0])
    assert 2 <= due < 2000
    w.step({"A": {"move": Move.EAST}})  # step off so the agent does not eat it again
    while w.state.tick < due:
        assert w.tiles.material[r, c] == Material.SCRUB
        w.step()
    assert w.tiles.material[r, c] == Material.FOLIAGE
    assert w.tiles.num_regrow[0] == 0


@pytest.mark.parametrize("material, p", [(Material.FOLIAGE, 0.025), (Material.ORE, 0.10)])
def test_regrowth_delay_is_geometric_with_mean_1_over_p(material, p):
    state = allocate(Shape(num_agents=1, max_npcs=0, max_map_size=32))
    state.rng[0] = 12345
    n, tick = 20_000, 7
    delays = np.empty(n, np.int64)
    for k in range(n):
        state.tiles.material[10, 10] = material
        state.tiles.num_regrow[0] = 0
        deplete(state.tiles, state.rng, 10, 10, tick)
        delays[k] = state.tiles.regrow_tick[0] - tick
    assert state.tiles.material[10, 10] != material  # depleted form
    assert delays.min() >= 1
    mean, sd = 1 / p, math.sqrt(1 - p) / p
    assert abs(delays.mean() - mean) < 4 * sd / math.sqrt(n)
    # geometric: P(delay = 1) = p and P(delay > k) = (1 - p)^k
    assert abs(np.mean(delays == 1) - p) < 4 * math.sqrt(p * (1 - p) / n)
    k = int(round(mean))
    assert abs(np.mean(delays > k) - (1 - p) ** k) < 0.02


def test_resources_off_leaves_food_water_and_health_alone():
    """config 'resources' (rules.md §2 'Configs'): off means no food and water loss, no
    regeneration, no starvation, no eating."""
    w = make_world("""
    ~ A f
    """, resources=False)
    w.ent.health[0] = 50
    w.ent.food[0] = 3
    w.step({"A": {"move": Move.EAST}})
    assert (w.ent.food[0], w.ent.water[0], w.health("A")) == (3, 100, 50)
    assert w.tiles.material[w.pos("A")] == Material.FOLIAGE
    assert w.count("A", Event.EAT) == 0


# --- movement ----------------------------------------------------------------------------


def test_move_into_water_or_stone_is_masked_and_a_no_op():
    w = make_world("""
    # # #
    ~ A .
    # # #
    """)
    assert list(w.view("mask_move", "A")) == [1, 0, 0, 1, 0]
    start = w.pos("A")
    for m in (Move.NORTH, Move.SOUTH, Move.WEST):
        w.step({"A": {"move": m}})
        assert w.pos("A") == start
    assert w.count("A", Event.MOVE) == 0
    w.step({"A": {"move": Move.EAST}})
    assert w.pos("A") == (start[0], start[1] + 1)
    assert w.count("A", Event.MOVE) == 1


def test_legal_moves_change_position_by_move_delta():
    w = make_world("""
    . . .
    . A .
    . . .
    """)
    for m in (Move.NORTH, Move.SOUTH, Move.SOUTH, Move.EAST, Move.WEST, Move.WEST):
        r, c = w.pos("A")
        w.step({"A": {"move": m}})
        assert w.pos("A") == (r + MOVE_DELTA[m, 0], c + MOVE_DELTA[m, 1])
        assert w.tiles.agents[w.pos("A")] == 1 and w.tiles.agents.sum() == 1


def test_exclusive_tiles_one_agent_per_tile_and_occupied_tiles_masked():
    drawing = """
    # # # # #
    # A . B #
    # # # # #
    """
    w = make_world(drawing, exclusive_tiles=True)
    w.step({"A": {"move": Move.EAST}, "B": {"move": Move.WEST}})
    mid = w.at(1, 2)
    assert [w.pos("A"), w.pos("B")].count(mid) == 1
    assert w.tiles.agents.max() == 1
    stayed = "A" if w.pos("B") == mid else "B"
    toward = Move.EAST if stayed == "A" else Move.WEST
    assert w.view("mask_move", stayed)[toward] == 0
    w.step({stayed: {"move": toward}})
    assert w.pos(stayed) != mid
    # without exclusive tiles both end on the middle tile
    w = make_world(drawing)
    assert w.view("mask_move", "A")[Move.EAST] == 1
    w.step({"A": {"move": Move.EAST}, "B": {"move": Move.WEST}})
    assert w.pos("A") == w.pos("B") == mid and w.tiles.agents[mid] == 2


def test_moving_into_an_occupied_tile_is_masked_with_exclusive_tiles():
    drawing = """
    A B .
    """
    w = make_world(drawing, exclusive_tiles=True)
    assert w.view("mask_move", "A")[Move.EAST] == 0
    w.step({"A": {"move": Move.EAST}})
    assert w.pos("A") == w.at(0, 0)
    w = make_world(drawing, exclusive_tiles=False)
    assert w.view("mask_move", "A")[Move.EAST] == 1


def test_frozen_agents_do_not_move():
    w = make_world("""
    . A . .
    """)
    w.ent.freeze[0] = 2
    w.refresh()
    assert list(w.view("mask_move", "A")) == [1, 0, 0, 0, 0]
    start = w.pos("A")
    w.step({"A": {"move": Move.EAST}})
    assert w.pos("A") == start
    # the movement system itself ignores a frozen agent's move, even one the mask allowed
    w.ent.freeze[0] = 0
    w.refresh()
    w.ent.freeze[0] = 1
    w.step({"A": {"move": Move.EAST}})
    assert w.pos("A") == start
    assert w.ent.freeze[0] == 0 and w.view("mask_move", "A")[Move.EAST] == 1
    w.step({"A": {"move": Move.EAST}})
    assert w.pos("A") == (start[0], start[1] + 1)


# --- combat ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack, target_style, attacker_level, target_level, expected",
    [
        (MELEE, MELEE, 1, 1, 10),  # int(max(15 - 5, 3.75))
        (MAGE, MELEE, 1, 1, 17),  # mage counters melee: int(22.5 - 5)
        (MELEE, RANGE, 1, 1, 17),  # melee counters range
        (RANGE, MAGE, 1, 1, 17),  # range counters mage
        (RANGE, MELEE, 1, 1, 10),  # no counter
        (MAGE, RANGE, 1, 1, 10),
        (MELEE, MAGE, 3, 2, 15),  # 25 - 10
        (MELEE, RANGE, 3, 2, 27),  # int(37.5 - 10)
        (MELEE, MELEE, 1, 10, 3),  # floor 0.25 * 15 = 3.75
        (MAGE, MELEE, 10, 1, 85),  # 1.5 * 60 - 5
    ],
)
def test_damage_formula(attack, target_style, attacker_level, target_level, expected):
    w = make_world("""
    A B
    """, age=OLD, **QUIET, styles={"B": target_style})
    w.ent.level[0, attack] = attacker_level
    w.ent.level[1, :] = target_level
    w.refresh()
    w.step({"A": {"target": "B", "style": attack}})
    assert w.health("B") == 100 - expected
    assert w.log(Event.SCORE_HIT) == [(Event.SCORE_HIT, 0, 1, expected)]
    assert w.log(Event.DAMAGED) == [(Event.DAMAGED, 1, 0, expected)]
    assert w.health("A") == 100


def test_attack_reach_is_3_chebyshev():
    w = make_world("""
    A . . B . . .
    . . . . . . .
    . . . . . . .
    . . . D C . .
    """, age=OLD, **QUIET)
    assert w.can_target("A", "B") and w.can_target("A", "D")
    assert not w.can_target("A", "C")  # Chebyshev 4
    w.step({"A": {"target": "C"}})
    assert w.health("C") == 100 and not w.log(Event.SCORE_HIT)
    w.step({"A": {"target": "D"}})
    assert w.health("D") == 90
    w.step({"A": {"target": "B"}})
    assert w.health("B") == 90


def test_spawn_immunity_against_agents_for_20_ticks():
    w = make_world("""
    A B
    """, **QUIET)
    w.ent.time_alive[0] = OLD
    w.refresh()
    for _ in range(19):
        assert not w.can_target("A", "B")
        w.step({"A": {"target_row": 1}})  # row 1 is B: masked, a no-op
        assert w.health("B") == 100
    assert w.ent.time_alive[1] == 19 and not w.can_target("A", "B")
    assert w.view("entities", "A")[0, F.IMMUNE] == 1
    w.step()
    assert w.ent.time_alive[1] == 20 and w.can_target("A", "B")
    assert w.view("entities", "A")[0, F.IMMUNE] == 0
    w.step({"A": {"target": "B"}})
    assert w.health("B") == 90


def test_npcs_hit_spawn_immune_agents():
    w = make_world("""
    # # # #
    # h A #
    # # # #
    """, **QUIET)
    assert w.ent.time_alive[0] == 0
    w.step()
    assert w.health("A") == 90
    assert w.log(Event.DAMAGED) == [(Event.DAMAGED, 0, w.slot("h0"), 10)]


@pytest.mark.parametrize("friendly_fire", [False, True])
def test_teammates_cannot_hit_each_other_unless_friendly_fire(friendly_fire):
    w = make_world("""
    A B C D
    """, age=OLD, **QUIET, team_size=2, friendly_fire=friendly_fire)
    assert w.ent.team[:4].tolist() == [0, 0, 1, 1]
    assert w.view("entities", "A")[w.row_of("A", "B"), F.TEAMMATE] == 1
    assert w.view("entities", "A")[w.row_of("A", "C"), F.TEAMMATE] == 0
    assert w.can_target("A", "C") and w.can_target("A", "D")
    assert w.can_target("A", "B") == friendly_fire
    w.step({"A": {"target": "B"}})
    assert w.health("B") == (90 if friendly_fire else 100)


def test_with_progression_each_attack_gives_6_xp_and_levels_follow_the_curve():
    w = make_world("""
    A B
    """, age=OLD, **QUIET, progression=True)
    w.step({"A": {"target": "B", "style": RANGE}})
    assert w.ent.xp[0].tolist() == [0, 6, 0] + [0] * 5  # styles, then professions
    assert w.ent.style[0] == RANGE  # main style follows the last attack on a tie
    w.ent.xp[0, RANGE] = 84
    w.step({"A": {"target": "B", "style": RANGE}})
    assert w.ent.xp[0, RANGE] == 90 and w.ent.level[0].tolist() == [1, 2, 1] + [1] * 5
    assert w.log(Event.LEVEL_UP) == [(Event.LEVEL_UP, 0, RANGE, 2)]  # target: the skill
    assert w.view("self", "A")[S.LEVEL_RANGE] == 2


@pytest.mark.parametrize("config, progression", [("mini", False), ("full", True)])
def test_progression_is_the_full_configs_and_a_system_bit(config, progression):
    """rules.md §2 "Configs": full = mini + progression. Without it agents stay at level 1."""
    w = make_world("""
    A B
    """, age=OLD, **QUIET, config=config)
    assert w.cfg.tunables.progression == progression
    assert w.view("game", "A")[System.PROGRESSION] == progression
    w.ent.xp[0, RANGE] = 84  # one attack short of level 2
    w.step({"A": {"target": "B", "style": RANGE}})
    assert w.ent.xp[0, RANGE] == (90 if progression else 84)
    assert w.ent.level[0, RANGE] == (2 if progression else 1)
    assert len(w.log(Event.LEVEL_UP)) == progression
    assert w.log(Event.SCORE_HIT) == [(Event.SCORE_HIT, 0, 1, 10)]  # the attack itself is the same


def test_defense_counts_the_highest_skill_level_professions_included():
    """rules.md §1 "Combat": defense = 5 * (highest skill level), the reference's
    ``combat.level`` over every skill."""
    w = make_world("""
    A B
    """, age=OLD, **QUIET, config="full")
    w.ent.level[1, Skill.FISHING] = 5
    w.refresh()
    w.step({"A": {"target": "B", "style": MELEE}})
    assert w.health("B") == 100 - 3  # int(max(15 - 25, 0.25 * 15))


def test_kill_credit_and_death_at_end_of_tick():
    w = make_world("""
    A B . . . . . . . . . . C
    """, age=OLD, **QUIET)
    a, b, c = 0, 1, 2
    w.ent.health[[a, b]] = 10
    w.refresh()
    w.step({"A": {"target": "B"}, "B": {"target": "A"}})
    # the victim still strikes back in the tick it is killed: both die, both are credited
    assert not w.ent.alive[a] and not w.ent.alive[b] and w.ent.alive[c]
    for killer, victim in ((a, b), (b, a)):
        assert w.count(killer, Event.PLAYER_KILL) == 1
        assert w.count(victim, Event.DEATH) == 1
        assert (Event.PLAYER_KILL, killer, victim, 0) in w.log()
        assert (Event.DEATH, victim, killer, 0) in w.log()
    assert w.tiles.agents[w.at(0, 0)] == 0 and w.tiles.agents[w.at(0, 1)] == 0
    assert w.env.terminals[[a, b, c]].tolist() == [True, True, False]
    assert w.env.rewards[a] == -1.0


def test_a_lethal_hit_kills_even_when_food_and_water_are_full():
    """rules.md §1: HP <= 0 kills at the end of the tick; the killing hit is credited. Health
    regeneration later in the same tick must not undo a hit that took health to 0."""
    w = make_world("""
    A B . . . . . . . . . . C
    """, age=OLD)  # resources on: A has full food and water
    w.ent.health[0] = 10
    w.refresh()
    w.step({"B": {"target": "A"}})
    assert w.count("B", Event.PLAYER_KILL) == 1
    assert not w.ent.alive[0]


def test_a_lethal_hit_kills_an_npc_despite_npc_regeneration():
    """An NPC hit down to exactly 0 HP dies; its 1 HP per tick regeneration must not save it."""
    w = make_world("""
    # # # #
    # p A #
    # # # #
    """, age=OLD, **QUIET)
    npc = w.slot("p0")
    w.ent.health[npc] = 10
    w.refresh()
    w.step({"A": {"target": "p0"}})
    assert w.count("A", Event.NPC_KILL) == 1
    assert not w.ent.alive[npc]


# --- death fog ---------------------------------------------------------------------------


def _fog_world(speed):
    w = make_world("""
    A . . . . .
    . . . . . B
    """, num_agents=3, fill=".", **QUIET, fog=True, fog_onset=5, fog_speed=speed,
        fog_final_size=4)
    lo, hi = playable_bounds(w.cfg)
    centre = (lo + hi) // 2
    w.add_agent("C", centre, centre)
    w.refresh()
    return w


def test_fog_damage_starts_after_onset_on_the_edge_and_spares_the_safe_square():
    w = _fog_world(1.0)
    a, b, c = 0, 1, 2
    for _ in range(5):  # ticks 1..onset: no damage anywhere
        w.step()
        assert w.ent.health[:3].tolist() == [100, 100, 100]
    expected = {a: 100, b: 100}
    for k in range(1, 11):  # tick onset + k: edge value k, ring-1 value k - 1
        w.step()
        expected[a] -= k
        expected[b] -= k - 1 if k - 1 > 0.5 else 0
        assert (w.health(a), w.health(b), w.health(c)) == (expected[a], expected[b], 100)
        assert (Event.FOG_DAMAGE, a, -1, k) in w.log(Event.FOG_DAMAGE)
    assert w.view("self", "A")[S.FOG] == (10 + 8) * 8
    assert w.count(c, Event.FOG_DAMAGE) == 0
    assert (w.health(a), w.health(b)) == (45, 55)


def test_fog_damage_is_round_of_the_value_above_half():
    w = _fog_world(0.5)
    w.step(ticks=5)
    for k in range(1, 12):
        before = w.health("A")
        w.step()
        value = 0.5 * k
        assert before - w.health("A") == (round(value) if value > 0.5 else 0), k
    assert w.health("C") == 100


# --- NPCs --------------------------------------------------------------------------------


def test_npc_kind_and_level_follow_danger_and_population_fills_10_percent_per_tick():
    env = metammo.make("sandbox", "mini", seed=3, num_agents=1, max_npcs=200, npc_count=200,
                       terrain=False, max_map_size=32, map_size=32, horizon=10_000)
    env.reset()
    ent, lo, hi = env.state.entities, *playable_bounds(env.config)
    npc = slice(1, None)
    seen = set()
    living = []
    for _ in range(12):
        fresh = np.flatnonzero(ent.alive[npc] & (ent.time_alive[npc] == 0)) + 1
        for j in fresh:  # just spawned: still on the spawn tile
            d = danger_of(ent.row[j], ent.col[j], lo, hi)
            kind = Kind.HOSTILE if d >= 0.8 else Kind.NEUTRAL if d >= 0.5 else Kind.PASSIVE
            assert ent.kind[j] == kind
            assert ent.level[j].tolist() == [int(d * 9 + 1)] * NUM_SKILLS
            assert ent.health[j] == 100
            seen.add(int(kind))
        living.append(int(ent.alive[npc].sum()))
        _, _, _, _, infos = env.step(np.zeros((1, 4), np.int32))
        assert not infos
    assert living == [min(20 * k, 200) for k in range(1, 13)]
    assert seen == {Kind.PASSIVE, Kind.NEUTRAL, Kind.HOSTILE}


def test_npc_population_refills_at_most_ceil_10_percent_per_tick():
    w = make_world("""
    A
    """, max_npcs=25, fill=".", npcs=True, npc_count=25)
    ent = w.ent
    counts = []
    for _ in range(10):
        w.step()
        counts.append(int(ent.alive[1:].sum()))
    assert counts[:8] == [3, 6, 9, 12, 15, 18, 21, 24] and counts[8:] == [25, 25]
    # free 10 slots: they come back 3 per tick
    for j in np.flatnonzero(ent.alive)[1:11]:
        ent.alive[j] = False
        ent.kind[j] = Kind.NONE
        w.tiles.npcs[ent.row[j], ent.col[j]] -= 1
    counts = []
    for _ in range(5):
        w.step()
        counts.append(int(ent.alive[1:].sum()))
    assert counts == [18, 21, 24, 25, 25]
    assert w.tiles.npcs.sum() == 25


def test_hostile_npc_attacks_an_adjacent_agent():
    w = make_world("""
    # # # #
    # h A #
    # # # #
    """, **QUIET, npc_level=3, npc_styles={"h0": MAGE})
    w.step()
    # level 3 mage vs level 1 melee: int(1.5 * 25 - 5) = 32
    assert w.health("A") == 68
    w.step()
    assert w.health("A") == 36


def test_hostile_npc_chases_the_agent_it_sees_then_attacks():
    w = make_world("""
    h . . . . A . .
    """, fill=".", **QUIET)
    h = w.slot("h0")
    a_pos = w.pos("A")
    dist = [a_pos[1] - w.ent.col[h]]
    for _ in range(2):
        w.step()
        assert w.health("A") == 100
        dist.append(a_pos[1] - w.ent.col[h])
    assert dist == [5, 4, 3]
    w.step()
    assert w.health("A") == 90


def test_passive_npc_never_attacks_even_when_hit():
    w = make_world("""
    # # # #
    # p A #
    # # # #
    """, age=OLD, **QUIET)
    for _ in range(8):
        w.step({"A": {"target": "p0"}})
        assert w.health("A") == 100
    assert w.ent.health[w.slot("p0")] < 100 and w.count("A", Event.SCORE_HIT) == 8


def test_neutral_npc_fights_back_after_being_hit():
    w = make_world("""
    # # # #
    # n A #
    # # # #
    """, age=OLD, **QUIET)
    n = w.slot("n0")
    w.step(ticks=5)
    assert w.health("A") == 100
    w.step({"A": {"target": "n0"}})
    assert w.ent.last_attacker[n] == 0 and w.ent.health[n] == 91  # 100 - 10 + 1 regen
    assert w.health("A") == 100  # the NPC decided before it was hit
    w.step()
    assert w.health("A") == 90
    w.step()
    assert w.health("A") == 80


def test_a_respawned_npc_carries_no_combat_state_of_its_slot():
    """A slot freed by a kill and refilled in the same tick holds a new NPC: it has not
    attacked or been hit, so observers must not see it in combat or attacking them."""
    w = make_world("""
    # # # #
    # n A #
    # # # #
    """, fill=".", age=OLD, **QUIET, npc_count=1)
    n = w.slot("n0")
    w.step({"A": {"target": "n0"}})  # the neutral now fights back
    w.ent.health[n] = 5
    w.step({"A": {"target": "n0"}})  # it attacks A and is killed; the slot refills at once
    assert w.count("A", Event.NPC_KILL) == 1
    assert w.ent.alive[n] and w.ent.time_alive[n] == 0 and w.ent.last_attacker[n] == -1
    # look at the new NPC from its own tile
    w.tiles.agents[w.pos("A")] -= 1
    w.ent.row[0], w.ent.col[0] = w.ent.row[n], w.ent.col[n]
    w.tiles.agents[w.pos("A")] += 1
    w.refresh()
    feats = w.view("entities", "A")[w.row_of("A", n)]
    assert feats[F.IN_COMBAT] == 0
    assert feats[F.ATTACKED_ME] == 0


# --- communication -----------------------------------------------------------------------


def test_messages_reach_teammates_only():
    w = make_world("""
    A B
    C D
    """, team_size=2)
    w.step({"A": {"comm": 42}})
    ents = w.view("entities")
    assert ents[w.slot("B"), w.row_of("B", "A"), F.MESSAGE] == 42
    assert ents[w.slot("C"), w.row_of("C", "A"), F.MESSAGE] == 0
    assert ents[w.slot("D"), w.row_of("D", "A"), F.MESSAGE] == 0
    assert w.count("A", Event.MESSAGE) == 1
    w.step()  # a token lasts one tick
    assert ents[w.slot("B"), w.row_of("B", "A"), F.MESSAGE] == 0


def test_comm_off_masks_every_token_and_drops_messages():
    w = make_world("""
    A B
    """, team_size=2, comm=False)
    mask = w.view("mask_comm", "A")
    assert mask[0] == 1 and mask[1:].sum() == 0
    w.step({"A": {"comm": 42}})
    assert w.view("entities", "B")[w.row_of("B", "A"), F.MESSAGE] == 0
    assert w.ent.message[0] == 0 and w.count("A", Event.MESSAGE) == 0


# --- spawn -------------------------------------------------------------------------------


def _ring_index(edge, r, c):
    return int(np.flatnonzero((edge[:, 0] == r) & (edge[:, 1] == c))[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_teams_spawn_together_spread_evenly_around_the_edge(seed):
    env = metammo.make("sandbox", "mini", seed=seed, num_agents=32, team_size=4, npcs=False,
                       max_map_size=32, map_size=32)
    env.reset()
    ent = env.state.entities
    lo, hi = playable_bounds(env.config)
    edge = ring(lo, hi, 0)
    spots = []
    for team in range(8):
        members = np.arange(team * 4, team * 4 + 4)
        assert (ent.team[members] == team).all()
        assert len({(ent.row[i], ent.col[i]) for i in members}) == 1
        spots.append(_ring_index(edge, ent.row[members[0]], ent.col[members[0]]))
    spots.sort()
    gaps = np.diff(spots + [spots[0] + len(edge)])
    assert set(gaps) <= {len(edge) // 8, -(-len(edge) // 8)}  # 124 / 8 = 15.5
    sides = {i // (len(edge) // 4) for i in spots}
    assert sides == {0, 1, 2, 3}
    assert env.state.tiles.agents.sum() == 32


def test_the_compiled_ring_walk_follows_ring_order():
    for lo, hi in ((7, 39), (0, 5), (3, 4)):
        for k in range((hi - lo + 1) // 2):
            tiles = ring(lo, hi, k)
            walked = [_ring_tile(lo + k, hi - 1 - k, p) for p in range(len(tiles))]
            assert walked == [tuple(t) for t in tiles.tolist()], (lo, hi, k)


@pytest.mark.parametrize("seed", [0, 1])
def test_exclusive_tiles_spawn_every_agent_on_its_own_tile(seed):
    # roomy: each team on consecutive edge tiles
    env = metammo.make("sandbox", "mini", seed=seed, num_agents=16, team_size=4, npcs=False,
                       max_map_size=32, map_size=32, exclusive_tiles=True)
    env.reset()
    ent = env.state.entities
    lo, hi = playable_bounds(env.config)
    edge = ring(lo, hi, 0)
    for team in range(4):
        idx = sorted(_ring_index(edge, ent.row[i], ent.col[i]) for i in range(team * 4, team * 4 + 4))
        span = [(k - idx[0]) % len(edge) for k in idx]
        assert sorted(span) == [0, 1, 2, 3] or sorted((k - idx[-1]) % len(edge) for k in idx) == [0, 1, 2, 3]
    # crowded: more agents than edge tiles, on real terrain
    env = metammo.make("sandbox", "mini", seed=seed, num_agents=128, team_size=4, npcs=False,
                       max_map_size=32, map_size=32, exclusive_tiles=True)
    env.reset()
    ent, mat = env.state.entities, env.state.tiles.material
    tiles = {(int(r), int(c)) for r, c in zip(ent.row[:128], ent.col[:128])}
    assert len(tiles) == 128
    assert all(PASSABLE[mat[r, c]] and lo <= r < hi and lo <= c < hi for r, c in tiles)
    assert env.state.tiles.agents.max() == 1 and env.state.tiles.agents.sum() == 128


def _square(drawing: str) -> np.ndarray:
    """A material grid from rows of LEGEND characters (the whole grid is the playable square)."""
    return np.array([[LEGEND[ch] for ch in line.split()] for line in textwrap.dedent(drawing).strip().splitlines()],
                    np.uint8)


def test_open_paths_opens_the_fewest_impassable_tiles():
    material = _square("""
    . . . . . . .
    . # # # # # .
    . # ~ ~ ~ # .
    . # ~ # ~ # .
    . # ~ ~ ~ # .
    . # # # # # .
    . . . . . . .
    """)
    assert not reachable_from_edge(material, 0, 7)[3, 3]
    before = material.copy()
    assert open_paths(material, 0, 7, [3], [3]) == 3  # the centre stone, one water, one stone
    assert reachable_from_edge(material, 0, 7)[3, 3]
    changed = np.argwhere(material != before)
    assert len(changed) == 3 and (material[tuple(changed.T)] == Material.GRASS).all()
    assert open_paths(material, 0, 7, [3], [3]) == 0, "already reachable: nothing to open"
    again = material.copy()
    assert open_paths(material, 0, 7, [0, 6], [0, 6]) == 0 and (material == again).all()


def test_open_paths_joins_several_targets_and_checks_them():
    material = _square("""
    # # # # # #
    # ~ ~ # # .
    # ~ . # . .
    # ~ ~ # # .
    # . . . . .
    # # # # # #
    """)
    before = material.copy()
    assert open_paths(material, 0, 6, [2, 2], [2, 4]) == 1  # one tile next to (2, 2); (2, 4) is open
    (r, c), = np.argwhere(material != before)
    assert abs(r - 2) + abs(c - 2) == 1 and material[r, c] == Material.GRASS
    seen = reachable_from_edge(material, 0, 6)
    assert seen[2, 2] and seen[2, 4]
    for rows, cols in (([6], [2]), ([], [])):
        with pytest.raises(ValueError, match=r"open_paths: targets must be one or more tiles inside \[0, 6\)"):
            open_paths(material, 0, 6, rows, cols)
    walled = _square("""
    # # # # #
    # . . . #
    # . . . #
    # . . . #
    # # # # #
    """)
    assert open_paths(walled, 0, 5, [2], [2]) == 1, "a ring with no way in: one ring tile opens"
    assert reachable_from_edge(walled, 0, 5)[2, 2]



def test_open_paths_can_join_just_the_cheapest_target():
    material = _square("""
    . . . . . . . . .
    . # # # # # # # .
    . # # # # # # # .
    . # # . # # . ~ .
    . # # # # # # # .
    . # # # # # # # .
    . # # # # # # # .
    . # # # # # # # .
    . . . . . . . . .
    """)
    area = np.array([(3, 3), (3, 6)]).T  # two sealed tiles: behind two stones, behind one water
    before = material.copy()
    assert open_paths(material, 0, 9, *area, every=False) == 1
    assert material[3, 7] == Material.GRASS and (material != before).sum() == 1
    seen = reachable_from_edge(material, 0, 9)
    assert seen[3, 6] and not seen[3, 3], "the dearer target stays sealed"
    assert open_paths(material, 0, 9, *area, every=False) == 0, "one target is reachable: nothing to do"
    every = before.copy()
    assert open_paths(every, 0, 9, *area) == 3  # the water, and two stones into the other
    assert reachable_from_edge(every, 0, 9)[tuple(area)].all()

# --- observation -------------------------------------------------------------------------


def test_entity_rows_nearest_first_then_by_slot():
    w = make_world("""
    . . . . . . . . . . . .
    . . . . . . . . . . . .
    . . . . D . . . . . . .
    . C . A E . B . . . p p
    . . . . . . . . . . . .
    . . . n . . . . . . . .
    """, fill=".")
    p_edge, p_far, n = w.slot("p0"), w.slot("p1"), w.slot("n2")
    ids = w.env._entity_ids[0]
    # E d2=1, D d2=2, C d2=4 and n d2=4 (slot order), B d2=9, p0 at Chebyshev 7 d2=49
    expect = [w.slot("E"), w.slot("D"), w.slot("C"), n, w.slot("B"), p_edge]
    assert p_far not in ids  # Chebyshev 8: out of view
    assert ids[:6].tolist() == expect and (ids[6:] == -1).all()
    ents = w.view("entities", "A")
    ar, ac = w.pos("A")
    for k, j in enumerate(expect):
        assert ents[k, F.PRESENT] == 1
        assert (ents[k, F.ROW], ents[k, F.COL]) == (w.ent.row[j] - ar + 7, w.ent.col[j] - ac + 7)
        assert ents[k, F.KIND] == w.ent.kind[j]
    assert (ents[6:] == 0).all()
    mask = w.view("mask_target", "A")
    assert mask[0] == 1 and (mask[7:] == 0).all()


def test_entity_rows_truncate_to_the_nearest():
    w = make_world("""
    C . . .
    . . B .
    . A . D
    """, obs_entities=2)
    assert w.env._entity_ids[0].tolist() == [w.slot("B"), w.slot("D")]


def test_entity_rows_put_entities_on_the_observers_own_tile_first_and_never_itself():
    w = make_world("""
    C . A B
    """, obs_entities=3)
    a, b, c = w.slot("A"), w.slot("B"), w.slot("C")
    w.ent.row[c], w.ent.col[c] = w.pos("A")  # tiles may hold several entities
    w.refresh()
    assert w.env._entity_ids[a].tolist() == [c, b, -1]  # distance 0, then 1; A not among them
    centre = w.env.config.shape.vision
    assert w.view("tiles", "A")[TileChannel.AGENTS, centre, centre] == 2


def test_every_entity_slot_fits_below_the_sort_keys_slot_field():
    # neighbour queries sort by distance * SLOT_KEY + slot: the largest shape must fit
    bounds = {f.name: f.metadata["hi"] for f in dataclasses.fields(Shape)}
    assert bounds["num_agents"] + bounds["max_npcs"] <= SLOT_KEY


def test_target_rows_resolve_to_the_entity_they_show():
    w = make_world("""
    B . . C
    . A . .
    . . D .
    """, age=OLD, **QUIET)
    for who in "BCD":
        k = w.row_of("A", who)
        w.step({"A": {"target_row": k + 1}})
        assert w.log(Event.SCORE_HIT) == [(Event.SCORE_HIT, 0, w.slot(who), 10)]


def test_dead_agent_row_holds_only_no_op_masks():
    w = make_world("""
    A B . . . . . . . . . . C
    """, age=OLD, **QUIET)
    w.ent.health[1] = 5
    w.refresh()
    w.step({"A": {"target": "B"}})
    assert not w.ent.alive[1]
    v = {name: w.view(name, "B") for name in ("tiles", "entities", "self", "mask_move",
                                                "mask_style", "mask_target", "mask_comm")}
    for name in ("tiles", "entities", "self"):
        assert not v[name].any(), name
    for name in ("mask_move", "mask_style", "mask_target", "mask_comm"):
        assert v[name][0] == 1 and not v[name][1:].any(), name
    assert (w.env._entity_ids[1] == -1).all()
    assert w.row_of("A", "B") is None
    w.step({"B": {"move": Move.EAST, "comm": 3}})  # a dead agent's actions do nothing
    assert w.ent.message[1] == 0 and w.pos("B") == w.at(0, 1)
