"""The scripted reference bot (baselines/scripted.py) and the policy registry: the bot plays
the full game (harvests, equips, consumes, trades, kills), outlives random play, respects every
action mask, and works on the mini config as the subset."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import metammo
from metammo.actions import Head
from metammo.constants import Event, Kind, Material, Move
from metammo.observation import SelfFeature
from metammo.policy import RandomPolicy, make_policy, policies
from metammo.state import playable_bounds
from metammo.systems.spawn import place_npcs

HEAD_MASKS = {Head.MOVE: "mask_move", Head.STYLE: "mask_style", Head.TARGET: "mask_target",
              Head.USE: "mask_use", Head.DESTROY: "mask_destroy", Head.SELL_ITEM: "mask_sell_item",
              Head.SELL_PRICE: "mask_sell_price", Head.BUY: "mask_buy"}


def play(policy_name: str, config: str, ticks: int, seed: int = 0, check_masks: bool = False, **overrides):
    """Run ``ticks`` ticks or until the episode ends (every agent dead); return the env and the
    episode's event counts."""
    env = metammo.make("sandbox", config, seed, autoreset=False, horizon=ticks + 1, **overrides)
    policy = make_policy(policy_name, env.layout, env.head_sizes, seed=seed)
    obs, _ = env.reset()
    state = policy.initial_state(env.num_agents)
    for _ in range(ticks):
        actions, state = policy.act(obs, state)
        assert actions.shape == (env.num_agents, len(env.head_sizes))
        assert ((actions >= 0) & (actions < env.head_sizes)).all()
        if check_masks:
            for head in range(len(env.head_sizes)):
                if Head(head) in HEAD_MASKS:
                    mask = env.layout.view(obs, HEAD_MASKS[Head(head)])
                    chosen = mask[np.arange(env.num_agents), actions[:, head]]
                    assert chosen.all(), f"head {Head(head).name} chose a masked choice"
        obs, *_, infos = env.step(actions)
        if infos:
            break
    return env, env.state.events.counts[: env.num_agents].sum(axis=0)


def test_registry_lists_policies_and_rejects_unknown_names():
    assert {"random", "scripted"} <= set(policies())
    env = metammo.make("sandbox", "mini", 0, num_agents=4, max_npcs=4, npc_count=4, max_map_size=32, map_size=32)
    assert isinstance(make_policy("random", env.layout, env.head_sizes), RandomPolicy)
    with pytest.raises(ValueError, match="unknown policy 'nope'.*scripted"):
        make_policy("nope", env.layout, env.head_sizes)


def test_scripted_bot_plays_the_full_game():
    env, counts = play("scripted", "full", 400)
    for event in (Event.HARVEST, Event.EQUIP, Event.CONSUME, Event.LIST, Event.BUY, Event.NPC_KILL,
                  Event.FIRE_AMMO, Event.EAT, Event.DRINK):
        assert counts[event] > 0, event.name
    assert counts[Event.REJECTED] < counts[Event.EQUIP] + counts[Event.LIST]  # rarely refused


def test_scripted_agents_outlive_random_agents():
    lifetimes = {}
    for name in ("scripted", "random"):
        env, _ = play(name, "full", 300)
        lifetimes[name] = env.state.entities.time_alive[: env.num_agents].mean()
    assert lifetimes["scripted"] > 3 * lifetimes["random"], lifetimes


@pytest.mark.parametrize("config", ["mini", "full"])
def test_scripted_bot_respects_action_masks(config):
    play("scripted", config, 150, seed=3, check_masks=True, num_agents=32, max_npcs=32, npc_count=32,
         max_map_size=48, map_size=48)


def test_scripted_bot_is_deterministic():
    a, _ = play("scripted", "full", 60, seed=5, num_agents=16, max_npcs=16, npc_count=16, max_map_size=32, map_size=32)
    b, _ = play("scripted", "full", 60, seed=5, num_agents=16, max_npcs=16, npc_count=16, max_map_size=32, map_size=32)
    assert a.state.hash() == b.state.hash()


def test_decide_reports_which_choices_follow_from_the_observation():
    """``decide`` gives ``act``'s actions plus its sure flags (the kickstarting teacher's labels):
    whom to attack for every live agent, the style exactly when it attacks, the move unless it
    wanders, never the comm token; nothing for the dead. In Race to the Center, fed and watered
    racers' sure moves close in on the centre."""
    env = metammo.make("race_to_the_center", "mini", seed=2, randomize=False)
    obs, _ = env.reset()
    me = env.layout.view(obs, "self")
    deciding = make_policy("scripted", env.layout, env.head_sizes, seed=4)
    acting = make_policy("scripted", env.layout, env.head_sizes, seed=4)
    state_d, state_a = deciding.initial_state(env.num_agents), acting.initial_state(env.num_agents)
    actions, state_d, sure = deciding.decide(obs, state_d)
    expected, state_a = acting.act(obs, state_a)
    np.testing.assert_array_equal(actions, expected)
    np.testing.assert_array_equal(state_d, state_a)
    assert sure.dtype == bool and sure.shape == actions.shape
    alive = me[:, SelfFeature.ALIVE] > 0
    assert alive.all() and sure[:, Head.TARGET].all() and not sure[:, Head.COMM].any()
    np.testing.assert_array_equal(sure[:, Head.STYLE], actions[:, Head.TARGET] > 0)
    racing = sure[:, Head.MOVE]
    assert racing.mean() > 0.5  # at tick 0 everyone is fed: most step toward the centre
    centre = (me[:, SelfFeature.MAP_SIZE].astype(int) - 1) // 2
    step = {Move.NORTH: (-1, 0), Move.SOUTH: (1, 0), Move.EAST: (0, 1), Move.WEST: (0, -1)}
    moves = env.layout.view(obs, "mask_move")
    detours = 0
    for i in np.flatnonzero(racing):
        dr, dc = step[Move(actions[i, Head.MOVE])]
        to_r, to_c = centre[i] - int(me[i, SelfFeature.ROW]), centre[i] - int(me[i, SelfFeature.COL])
        if dr * to_r + dc * to_c <= 0:  # not closer: a way round, taken only when the straight step is blocked
            straight = (Move.SOUTH if to_r > 0 else Move.NORTH) if abs(to_r) >= abs(to_c) else (
                Move.EAST if to_c > 0 else Move.WEST)
            assert not moves[i, straight], (i, actions[i, Head.MOVE])
            detours += 1
    assert detours < racing.sum() / 4
    dead = obs.copy()
    env.layout.view(dead, "self")[:, SelfFeature.ALIVE] = 0
    _, _, sure = deciding.decide(dead, state_d)
    assert not sure.any()


def test_rollout_cli_runs_the_scripted_bot():
    out = subprocess.run(
        [sys.executable, "-m", "metammo.rollout", "--config", "full", "--policy", "scripted", "--episodes", "1",
         "--seed", "0", "--json", "--set", "horizon=50", "num_agents=16", "max_npcs=16", "npc_count=16",
         "max_map_size=32", "map_size=32"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.splitlines()[-1])
    assert summary["policy"] == "scripted" and summary["config"] == "full" and summary["length"] == 50
    bad = subprocess.run([sys.executable, "-m", "metammo.rollout", "--policy", "nope"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "unknown policy 'nope'" in bad.stderr


def move_agent(state, i: int, r: int, c: int) -> None:
    """Put live agent ``i`` on tile (r, c), keeping the tile counts right."""
    ent = state.entities
    state.tiles.agents[ent.row[i], ent.col[i]] -= 1
    ent.row[i], ent.col[i] = r, c
    state.tiles.agents[r, c] += 1


def test_king_of_the_hill_holder_stays_on_the_centre():
    """Fed and on the centre, the bot stays there (attacking what is in reach), even with an NPC
    in view that it would otherwise chase."""
    env = metammo.make("king_of_the_hill", "mini", seed=0, autoreset=False, fog=False)
    env.reset()
    state, ent = env.state, env.state.entities
    c = env.game.centre(env.config)
    move_agent(state, 0, c, c)
    slot = int(np.flatnonzero(~ent.alive[env.num_agents:])[0]) + env.num_agents
    state.tiles.material[c, c + 5] = Material.GRASS
    place_npcs(state, [slot], [c], [c + 5], [int(Kind.NEUTRAL)], [1], [0], [-1], [-1])
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    actions, _ = policy.act(env.observations, policy.initial_state(env.num_agents))
    assert env.layout.view(env.observations, "self")[0, SelfFeature.CENTRE_DISTANCE] == 0
    assert actions[0, Head.MOVE] == Move.STAY


def test_a_hungry_racer_near_the_centre_finishes_the_race():
    """Hungry (food 30, below LOW) four tiles from the centre, with foliage in view behind it:
    it can reach the centre before it starves, so it races on instead of turning back to eat."""
    env = metammo.make("race_to_the_center", "mini", seed=0, autoreset=False, terrain=False, randomize=False,
                       difficulty="max")  # map 128
    env.reset()
    state, ent = env.state, env.state.entities
    c = env.game.centre(env.config)
    for k, (r, col) in enumerate([(c - 4, c), (c - 30, c)]):  # near, and far from the centre
        move_agent(state, k, r, col)
        state.tiles.material[r - 2, col] = Material.FOLIAGE  # food two tiles away from the centre
    ent.food[:2] = ent.water[:2] = 30
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    actions, _ = policy.act(env.observations, policy.initial_state(env.num_agents))
    assert actions[0, Head.MOVE] == Move.SOUTH, "near: on to the centre"
    assert actions[1, Head.MOVE] == Move.NORTH, "far: to the food first"


def test_a_racer_walks_around_a_wall_to_the_centre():
    """A wall of stone across the straight way to the centre, open at its ends: the bot takes the
    shortest way round through the tiles in view (the greedy step alone turned back and forth
    along the wall) and reaches the centre."""
    env = metammo.make("race_to_the_center", "mini", seed=0, autoreset=False, terrain=False, randomize=False,
                       difficulty="max")  # map 128, all grass
    env.reset()
    state = env.state
    c = env.game.centre(env.config)
    move_agent(state, 0, c - 6, c)
    state.tiles.material[c - 5, c - 3:c + 4] = Material.STONE
    state.tiles.material[c - 4, c - 3:c + 4] = Material.WATER
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    memory = policy.initial_state(env.num_agents)
    for tick in range(6 + 2 * 4 + 1):  # rows to go, plus four columns out and back
        actions, memory = policy.act(env.observations, memory)
        if tick == 0:
            assert actions[0, Head.MOVE] in (Move.EAST, Move.WEST), "blocked ahead: sideways to the wall's end"
        actions[1:] = 0  # everyone else stays put
        env.step(actions)
        if (state.entities.row[0], state.entities.col[0]) == (c, c):
            break
    assert (state.entities.row[0], state.entities.col[0]) == (c, c)


@pytest.mark.parametrize("food, health, move", [(10, 100, Move.STAY), (10, 40, Move.EAST), (100, 40, Move.STAY)])
def test_a_king_of_the_hill_holder_leaves_the_centre_only_to_eat_when_hurt(food, health, move):
    """On the centre with foliage next to it: hungry (food 10) it stays while healthy (a team
    that leaves loses its hold) and steps off to eat when hurt (health 40, below HURT); hurt
    but fed, it stays, tick after tick (it used to wander off, exploring)."""
    env = metammo.make("king_of_the_hill", "mini", seed=0, autoreset=False, fog=False)
    env.reset()
    state, ent = env.state, env.state.entities
    c = env.game.centre(env.config)
    move_agent(state, 0, c, c)
    state.tiles.material[c, c + 1] = Material.FOLIAGE
    ent.food[0], ent.health[0] = food, health
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    memory = policy.initial_state(env.num_agents)
    for _ in range(20):  # the explorer's random turns would show within a few ticks
        actions, memory = policy.act(env.observations, memory)
        assert actions[0, Head.MOVE] == move



def test_the_bot_neither_flees_the_fog_before_it_rises_nor_steps_into_it():
    """The fog at tick 3 with onset 0 and speed 1: rings 0-2 risen (value 3, 2, 1: above 0), ring
    3 at 0, inner rings below. On ring 3, not fleeing (it had fled from value -1.5 on, and
    stepped back out, from tick 0 on the outer rings): heading for the edge it waits there;
    without a heading it picks one that is not into the fog."""
    env = metammo.make("sandbox", "mini", seed=0, autoreset=False, fog=True, fog_onset=0, fog_speed=1.0,
                       terrain=False, npcs=False, npc_count=0)
    env.reset()
    lo, hi = playable_bounds(env.config)
    c = (lo + hi - 1) // 2
    move_agent(env.state, 0, lo + 3, c)
    env.state.tick = 3
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    memory = policy.initial_state(env.num_agents)
    moves = set()
    for heading in [Move.NORTH] * 5 + [Move.STAY] * 20:
        memory[0, 0] = heading  # for the edge, or none
        actions, memory, sure = policy.decide(env.observations, memory)
        assert not sure[0, Head.MOVE], "explores: it does not flee from value 0"
        if heading == Move.NORTH:
            assert actions[0, Head.MOVE] == Move.STAY and memory[0, 0] == Move.NORTH
        else:
            moves.add(int(actions[0, Head.MOVE]))
    assert moves <= {Move.SOUTH, Move.EAST, Move.WEST} and len(moves) > 1


def test_a_guard_walks_to_where_it_last_saw_its_leader_and_a_fed_leader_stays():
    env = metammo.make("protect_the_king", "mini", seed=0, autoreset=False, fog=False, terrain=False, npc_count=0)
    env.reset()
    state = env.state
    c = env.game.centre(env.config)
    for i in range(8):  # team 0: leader 0, guard 1, the rest away
        move_agent(state, i, c, c - 30 if i > 1 else c)
    move_agent(state, 1, c, c + 5)  # the leader 5 tiles west: in view
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    memory = policy.initial_state(env.num_agents)
    actions, memory = policy.act(env.observations, memory)
    assert actions[0, Head.MOVE] == Move.STAY and actions[1, Head.MOVE] == Move.WEST
    lo = playable_bounds(env.config)[0]
    assert memory[1, 5:7].tolist() == [c - lo, c - lo], "where it saw the leader (in the playable square)"
    move_agent(state, 1, c + 9, c + 9)  # now out of view: 9 rows south, 9 columns east
    env.refresh_observations()
    for _ in range(5):
        actions, memory = policy.act(env.observations, memory)
        assert actions[0, Head.MOVE] == Move.STAY, "a fed leader stays"
        assert actions[1, Head.MOVE] in (Move.NORTH, Move.WEST), "to where it saw the leader"


def test_a_hungry_bot_at_the_fog_s_edge_eats_what_is_clear_of_it():
    """Foliage in the risen fog (ring 1) and clear of it (ring 6), the hungry bot on ring 3 at
    the fog's edge: it walks inward to the clear one and eats (it had aimed at the nearer one in
    the fog, refused the step into it, and starved where it stood)."""
    env = metammo.make("sandbox", "mini", seed=0, autoreset=False, fog=True, fog_onset=0, fog_speed=1.0,
                       terrain=False, npcs=False, npc_count=0, horizon=100)
    env.reset()
    state, ent = env.state, env.state.entities
    lo, hi = playable_bounds(env.config)
    c = (lo + hi - 1) // 2
    move_agent(state, 0, lo + 3, c)
    state.tiles.material[lo + 1, c] = state.tiles.material[lo + 6, c] = Material.FOLIAGE
    ent.food[0] = 20
    state.tick = 3  # rings 0-2 risen, ring 3 at 0
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    memory = policy.initial_state(env.num_agents)
    memory[0, 0] = Move.NORTH
    actions, memory = policy.act(env.observations, memory)
    assert actions[0, Head.MOVE] == Move.SOUTH


def test_the_bot_remembers_the_food_and_water_it_sees():
    env = metammo.make("sandbox", "mini", seed=0, autoreset=False, terrain=False, npcs=False, npc_count=0)
    env.reset()
    state = env.state
    lo, hi = playable_bounds(env.config)
    c = (lo + hi - 1) // 2
    move_agent(state, 0, c, c)
    state.tiles.material[c - 3, c] = Material.FOLIAGE
    state.tiles.material[c, c + 4] = Material.WATER
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    _, memory = policy.act(env.observations, policy.initial_state(env.num_agents))
    assert memory[0, 1:5].tolist() == [c - lo, c + 4 - lo, c - 3 - lo, c - lo]  # water, then foliage


def _hungry_team_battle():
    """Team Battle on open grass (no terrain, NPCs or fog) with team 0's agents 2-7 far away,
    agents 0 and 1 hungry: the env, its state and the centre tile."""
    env = metammo.make("team_battle", "mini", seed=0, autoreset=False, terrain=False, npcs=False, npc_count=0,
                       fog=False)
    env.reset()
    state = env.state
    c = env.game.centre(env.config)
    team = np.flatnonzero(state.entities.team[: env.num_agents] == state.entities.team[0])
    for i in team[2:]:
        move_agent(state, i, c + 30, c - 30)
    state.entities.food[team[:2]] = 20
    return env, state, c, team[:2]


@pytest.mark.parametrize("b_water, a_move", [(100, Move.WEST), (20, Move.EAST)])
def test_hungry_teammates_leave_the_foliage_a_teammate_is_nearer_to(b_water, a_move):
    """Foliage 3 tiles east of agent a and 1 east of its hungry teammate b, more 4 tiles west of
    a: a walks west (it walked east with b, and only one of them ate there), unless b is also
    thirsty, and so off to water first."""
    env, state, c, (a, b) = _hungry_team_battle()
    move_agent(state, a, c, c)
    move_agent(state, b, c, c + 2)
    state.entities.water[b] = b_water
    state.tiles.material[c, c + 3] = state.tiles.material[c, c - 4] = Material.FOLIAGE
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    actions, _ = policy.act(env.observations, policy.initial_state(env.num_agents))
    assert actions[a, Head.MOVE] == a_move


def test_hungry_teammates_on_one_tile_split_up_for_the_foliage_in_view():
    """Two hungry teammates on one tile, foliage 3 tiles north and 3 south: they split and both
    eat within a few ticks (they had walked north together, one ate, and the other walked the
    6 tiles back south: fed on tick 9)."""
    fed_ticks = []
    for seed in range(8):
        env, state, c, pair = _hungry_team_battle()
        for i in pair:
            move_agent(state, i, c, c)
        state.tiles.material[c - 3, c] = state.tiles.material[c + 3, c] = Material.FOLIAGE
        env.refresh_observations()
        policy = make_policy("scripted", env.layout, env.head_sizes, seed=seed)
        memory = policy.initial_state(env.num_agents)
        for tick in range(1, 10):
            actions, memory = policy.act(env.observations, memory)
            keep = np.ones(env.num_agents, bool)
            keep[pair] = False
            actions[keep] = 0  # everyone else stays put
            env.step(actions)
            if (state.entities.food[pair] > 20).all():
                break
        fed_ticks.append(tick)
    assert max(fed_ticks) <= 8 and np.mean(fed_ticks) < 7, fed_ticks


def test_a_hungry_bot_walks_around_a_wall_to_the_foliage_behind_it():
    """Foliage 2 tiles north behind a stone wall 3 tiles wide: the bot walks round the wall's end
    (6 steps) and eats (the straight step was blocked, and it stepped back and forth)."""
    env, state, c, (a, _) = _hungry_team_battle()
    move_agent(state, a, c + 10, c + 10)
    state.entities.food[a] = 40
    state.tiles.material[c + 8, c + 10] = Material.FOLIAGE
    state.tiles.material[c + 9, c + 9:c + 12] = Material.STONE
    env.refresh_observations()
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    memory = policy.initial_state(env.num_agents)
    for tick in range(6):
        actions, memory = policy.act(env.observations, memory)
        if tick == 0:
            assert actions[a, Head.MOVE] in (Move.EAST, Move.WEST)
        actions[np.arange(env.num_agents) != a] = 0
        env.step(actions)
    assert (state.entities.row[a], state.entities.col[a]) == (c + 8, c + 10) and state.entities.food[a] > 40
