"""The minigame API: :class:`Minigame`, a :class:`metammo.game.Game` whose rules are data.

A minigame declares, as class attributes: its teams (``team_size``, ``min_teams``, ``leaders``),
the config values its rules fix (``rules_config``), its domain randomization (``randomization``, see
:mod:`minigames.randomization`), its evaluation ``presets``, its adaptive-difficulty knob
(``difficulty_levels``, ``difficulty_key``, ``wins_to_raise``, see :mod:`minigames.difficulty`)
and its task (:meth:`Minigame.task`, see :mod:`metammo.tasks`). It overrides only the hooks its
rules need: :meth:`Minigame.rules` (special rules each tick), :meth:`Minigame.is_over`,
:meth:`Minigame.winners` and :meth:`Minigame.winning_score`. The base keeps the holds of the
tiles its tasks seize (``SeizeTile``, ``SeizeCenter``): :meth:`Minigame.hold`.

Each episode's config is built in this order, later entries winning: the env's base config,
the game's ``rules_config`` and ``team_size``, a draw from ``randomization`` (when ``randomize``
is on and no preset is chosen; otherwise nothing is drawn, and the keys it would draw take the
values of the game's ``eval`` preset, the reference's evaluation values, where it sets them,
else the config's), the difficulty knob, the chosen preset; config keys the user set
(``metammo.make(..., fog_onset=100)``: :attr:`metammo.config.Config.overridden`, and keys of a
hand-built config away from its preset's defaults) always win; setting the difficulty knob's
key pins the difficulty at the level of that value (or the nearest level), over
``difficulty="max"`` (so a pack at its maximum can set one game's knob), and is an error
together with a ``difficulty`` level index naming another value. The env
checks every config this can build (:meth:`Minigame.check_config`: each difficulty level with
each corner of the randomized ranges, up to :data:`MAX_CORNERS` of them) when it is made.

A preset plays one difficulty level: the level whose knob value it sets, else the hardest
(rules.md §2: evaluation presets are at maximum difficulty).

Rewards (rules.md §2): each agent's task progress increase each tick, ``death_penalty`` on
death, and at the game's end the winning score to winners alive or dying on the last tick and
-1 to the other agents still alive (games without winners skip both). The reference's
per-agent score, in the summary, is the maximum task progress + 16 for winners
(:data:`WINNER_SCORE`); :meth:`Minigame.winners` names them, in team games the whole winning
team, its dead members included, as the reference's ``TeamBattle._check_battle_winners``
(``nmmo/core/game_api.py``) returns ``config.TEAMS[winner_team]``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar, Mapping

import numpy as np
from numba import njit

from metammo.config import PRESETS, Config, Tunables, check_tunables
from metammo.game import Game
from metammo.kernels import Kernels
from metammo.observation import GameFeature
from metammo.state import State, playable_bounds
from metammo.systems.common import centre_tile
from metammo.systems.spawn import spawn_agents
from metammo.tasks import EMBED_DIM, Task, check_agent_ids, compile_tasks, score_tasks, seize_table
from minigames import randomization as dr
from minigames.difficulty import Difficulty

#: Added to a winner's task progress in the reference's evaluation score.
WINNER_SCORE = 16.0
#: Most combinations of randomized range ends :meth:`Minigame.check_config` builds per
#: difficulty level (2 ** 8: eight two-ended ranges); a larger spec has each end checked alone.
MAX_CORNERS = 256


@njit(cache=True)
def _teams_alive(alive, team_size, out):
    for t in range(out.shape[0]):
        out[t] = False
        for i in range(t * team_size, (t + 1) * team_size):
            if alive[i]:
                out[t] = True
                break


@njit(cache=True)
def _hold_tile(alive, row, col, num_agents, team_size, r, q, holds, k):
    """Count a tick's hold of tile (r, q) in row ``k`` of ``holds`` (see :meth:`Minigame._hold_tiles`)."""
    team = -1
    for i in range(num_agents):
        if alive[i] and row[i] == r and col[i] == q:
            if team >= 0 and i // team_size != team:
                return  # contested
            team = i // team_size
    if team < 0:
        return
    if team != holds[k, 2]:
        holds[k, 2], holds[k, 3] = team, 0
    holds[k, 3] += 1


class Minigame(Game):
    """Base of the built-in games; see the module docstring for what a subclass declares."""

    #: agents per team (1: free-for-all)
    team_size: ClassVar[int] = 1
    #: fewest teams the game can be played with (a last-team-standing game needs 2)
    min_teams: ClassVar[int] = 1
    #: the game's rules give each team's leader a role: marked in the state (``Entities.leader``)
    #: and the observation. Every game's leader is its team's first member (rules.md §2), which
    #: the tasks' leader predicates (``ProtectLeader``, ``AllMembersWithinRange``) read either way
    leaders: ClassVar[bool] = False
    #: config values the game's rules fix
    rules_config: ClassVar[Mapping[str, Any]] = {}
    #: domain randomization spec, applied when ``randomize`` is on
    randomization: ClassVar[Mapping[str, Any]] = {}
    #: config key the difficulty knob sets (None: the game reads :attr:`knob` itself)
    difficulty_key: ClassVar[str | None] = None
    #: episodes with winners at a level that raise the difficulty
    wins_to_raise: ClassVar[int] = 1
    #: reward on death
    death_penalty: ClassVar[float] = 0.0
    #: False for games without a win rule (no winning score, no -1 at the end)
    has_winners: ClassVar[bool] = True

    def __init__(self, randomize: bool = True, preset: str | None = None,
                 difficulty: int | str | None = None, randomization: Mapping[str, Any] | None = None):
        """Args:
            randomize, preset, difficulty: see :mod:`metammo.game`; a preset pins the
                difficulty at its level (see the module docstring), which ``difficulty`` may
                name, or give as ``"max"``.
            randomization: a spec replacing the game's own (plain data or distributions; see
                :mod:`minigames.randomization`), without the difficulty knob's key.

        Raises:
            ValueError: a bad option, a malformed randomization spec or one naming the
                difficulty knob's key, a difficulty other than the preset's; a class whose
                declarations :meth:`_check_declarations` refuses.
        """
        super().__init__(randomize, preset, difficulty)
        self._check_declarations()
        pinned = self.pinned_difficulty
        self._asked_level = pinned if dr.is_int(difficulty) else None  # a level named by its index
        if preset is not None and self.difficulty_levels:
            level = self._preset_level(preset)
            if pinned is not None and difficulty != "max" and pinned != level:
                raise ValueError(f"game {self.name!r}: preset {preset!r} plays difficulty level {level}; "
                                 f"give difficulty {level}, 'max' or None, got {difficulty!r}")
            pinned = level
        self.controller = Difficulty(self.difficulty_levels or (None,), self.wins_to_raise, pinned)
        self.spec = dr.parse(self.randomization if randomization is None else randomization)
        if self.difficulty_key in self.spec:
            raise ValueError(f"randomization of {self.difficulty_key!r}: it is game {self.name!r}'s difficulty "
                             "knob, set by the difficulty level; leave it out of the spec")
        self._user_base: Config | None = None  # the last base config _user_keys read, and its keys
        self._user: frozenset[str] = frozenset()
        self.tasks: list[Task] = []  # the episode's tasks (setup)
        self._played = self.controller.summary()
        #: calls the game's kernels (:class:`metammo.kernels.Kernels`): every episode passes them
        #: arguments of the same types (setup fixes the dtypes of what the subclass hooks return)
        self.kernels = Kernels()

    def _check_declarations(self) -> None:
        """Raise ValueError, naming the game, unless the class attributes name only tunable
        config keys (shape keys size the env's arrays, fixed for its life), leave the team size
        to ``team_size`` (an int >= 1), declare a numeric ``death_penalty``, a knob with levels
        (numbers, when it sets a config key) that each preset's knob value is one of, an int
        ``wins_to_raise`` >= 1, and a task (:meth:`task` or :meth:`assign_tasks`)."""
        allowed = sorted(Tunables.__dataclass_fields__)
        declared = [("rules_config", self.rules_config)] + [(f"preset {name!r}", values)
                                                            for name, values in self.presets.items()]
        for where, values in declared:
            if not isinstance(values, Mapping):
                raise ValueError(f"game {self.name!r}: {where} must be a mapping of config keys to values, "
                                 f"got {values!r}")
            wrong = sorted(set(values) - set(allowed))
            if wrong:
                raise ValueError(f"game {self.name!r}: {where} sets {wrong}, not tunable config keys (shape keys "
                                 f"are fixed for an env's life); tunable keys: {allowed}")
            if "team_size" in values:
                raise ValueError(f"game {self.name!r}: {where} sets 'team_size'; the class attribute team_size "
                                 f"({self.team_size}) is the game's team size")
        if not dr.is_number(self.death_penalty):
            raise ValueError(f"game {self.name!r}: death_penalty must be a number, got {self.death_penalty!r}")
        if not dr.is_int(self.team_size) or self.team_size < 1:
            raise ValueError(f"game {self.name!r}: team_size must be an int >= 1, got {self.team_size!r}")
        if self.difficulty_key is not None and self.difficulty_key not in allowed:
            raise ValueError(f"game {self.name!r}: difficulty_key {self.difficulty_key!r} is not a tunable config "
                             f"key; tunable keys: {allowed}")
        if self.difficulty_key is not None and not self.difficulty_levels:
            raise ValueError(f"game {self.name!r}: difficulty_key {self.difficulty_key!r} needs difficulty_levels, "
                             "the knob's values, easiest first")
        if self.difficulty_key is not None and not all(dr.is_number(v) for v in self.difficulty_levels):
            raise ValueError(f"game {self.name!r}: the levels of difficulty_key {self.difficulty_key!r} must be "
                             f"numbers (a value the user sets plays at the nearest level), got "
                             f"{self.difficulty_levels!r}")
        for preset in self.presets if self.difficulty_levels else ():
            self._preset_level(preset)
        cls = type(self)
        if cls.task is Minigame.task and cls.assign_tasks is Minigame.assign_tasks:
            raise ValueError(f"game {self.name!r}: define task(cfg), the task every agent plays, or "
                             "assign_tasks(cfg, rng), a task per agent")
        if not dr.is_int(self.wins_to_raise) or self.wins_to_raise < 1:
            raise ValueError(f"game {self.name!r}: wins_to_raise must be an int >= 1, got {self.wins_to_raise!r}")

    def _preset_level(self, preset: str) -> int:
        levels = self.difficulty_levels
        if self.difficulty_key not in self.presets[preset]:
            return len(levels) - 1
        value = self.presets[preset][self.difficulty_key]
        if value not in levels:
            raise ValueError(f"game {self.name!r}: preset {preset!r} sets the difficulty knob "
                             f"{self.difficulty_key!r} to {value!r}, not one of its levels {levels}")
        return levels.index(value)

    # --- config -----------------------------------------------------------------------------

    @property
    def difficulty(self) -> int:
        return self.controller.level

    def restart(self) -> None:
        """The adaptive difficulty starts again from level 0 (a pinned one keeps its level)."""
        self.controller.restart()

    @property
    def knob(self) -> Any:
        """The difficulty knob's value for this episode."""
        return self.controller.value

    def _randomizing(self) -> bool:
        return self.preset is None and self.randomize

    def _compose(self, base: Config, drawn: Mapping[str, Any], knob: Any) -> tuple[Config, frozenset[str]]:
        """The episode config from ``base``, randomized values ``drawn`` and difficulty ``knob``
        (the module docstring's order), and the keys the user set."""
        values: dict[str, Any] = {**self.rules_config, "team_size": self.team_size, **drawn}
        if not self._randomizing():  # the values the reference evaluates with, not the config's own
            values.update({key: value for key, value in self.presets.get("eval", {}).items() if key in self.spec})
        if self.difficulty_key is not None:
            values[self.difficulty_key] = knob
        if self.preset is not None:
            values.update(self.presets[self.preset])
        user = self._user_keys(base)
        values.update({key: getattr(base.tunables, key) for key in user})
        if values["team_size"] != self.team_size:
            raise ValueError(f"game {self.name!r} plays in teams of {self.team_size}; "
                             f"do not override 'team_size' (got {values['team_size']})")
        return base.replace(**values), user

    def _user_keys(self, base: Config) -> frozenset[str]:
        """The tunable keys the user set on ``base``: those given explicitly, and those away
        from the preset's defaults (a hand-built config). Kept for the last ``base`` seen: the
        env passes the same one every episode."""
        if base is not self._user_base:
            defaults = PRESETS[base.name].tunables if base.name in PRESETS else Tunables()
            self._user_base, self._user = base, frozenset(
                key for key in Tunables.__dataclass_fields__
                if key in base.overridden or getattr(base.tunables, key) != getattr(defaults, key))
        return self._user

    def _pin_to(self, value: Any) -> None:
        """The user set the knob's key to ``value``: every episode plays it (over the difficulty
        option), and the difficulty is pinned at the level of that value, else the nearest."""
        levels = self.difficulty_levels
        level = min(range(len(levels)), key=lambda k: abs(levels[k] - value))
        self.controller = Difficulty(levels, self.wins_to_raise, level, None if value == levels[level] else value)
        self._played = self.controller.summary()

    def check_config(self, base: Config) -> None:
        """Also pins the difficulty when the user set the knob's key (over ``difficulty="max"``
        and a preset's level; the summary reports the value played and its level, or the
        nearest; a ``difficulty`` level index naming another value raises), and builds, from ``base``,
        the config of each difficulty level the game can play with each corner of the
        randomized ranges (every combination of their ends; see
        :meth:`metammo.game.Game.check_config`)."""
        super().check_config(base)
        for name, values in self.presets.items():  # each value alone: what fits the env's shape is
            try:                                      # checked when the preset is chosen
                check_tunables({**self.rules_config, **values})
            except ValueError as err:
                raise ValueError(f"game {self.name!r}: preset {name!r}: {err}") from None
        if self.difficulty_key in self._user_keys(base):
            value, asked = getattr(base.tunables, self.difficulty_key), self._asked_level
            if asked is not None and value != self.difficulty_levels[asked]:
                raise ValueError(f"game {self.name!r}: {self.difficulty_key}={value!r} (its difficulty knob) and "
                                 f"difficulty={asked} ({self.difficulty_key}={self.difficulty_levels[asked]!r}) "
                                 "both set its difficulty; give one")
            self._pin_to(value)
        if base.shape.num_agents < self.min_teams * self.team_size:
            raise ValueError(f"game {self.name!r} needs at least {self.min_teams} teams of {self.team_size}: "
                             f"num_agents must be at least {self.min_teams * self.team_size}, "
                             f"got {base.shape.num_agents}")
        knobs = [self.knob]
        if self.difficulty_key and not self.controller.pinned:
            knobs = list(self.controller.levels)
        ranges = {key: dist.support() for key, dist in sorted(self.spec.items())} if self._randomizing() else {}
        if math.prod(map(len, ranges.values())) <= MAX_CORNERS:
            corners = [dict(zip(ranges, ends)) for ends in itertools.product(*ranges.values())]
        else:  # too many to build: each end alone (combinations then fail at a reset)
            corners = [{key: end} for key, ends in ranges.items() for end in ends]
        # the current level without draws first: a clash that does not depend on them reads plainly
        for knob, drawn in [(self.knob, {})] + list(itertools.product(knobs, corners)):
            try:
                self.check_episode_config(self._compose(base, drawn, knob)[0])
            except ValueError as err:
                at = f" at difficulty {self.difficulty_key}={knob!r}" if knob != self.knob else ""
                if drawn:
                    at += " with randomized " + ", ".join(f"{key}={value!r}" for key, value in drawn.items())
                raise ValueError(f"game {self.name!r} cannot play on this config{at}: {err}") from None

    def check_episode_config(self, cfg: Config) -> None:
        """Raise ValueError when the game cannot play an episode on ``cfg``, a config it built
        (default: the config's own checks suffice)."""

    def episode_config(self, base: Config, rng: np.random.Generator) -> Config:
        drawn = dr.sample(self.spec, rng) if self._randomizing() else {}
        cfg, user = self._compose(base, drawn, self.knob)
        self.randomized = {key: value for key, value in drawn.items() if key not in user}
        self._played = self.controller.summary()
        return cfg

    # --- hooks for subclasses ---------------------------------------------------------------

    def task(self, cfg: Config) -> Task:
        """The task every agent plays this episode (override :meth:`assign_tasks` for more)."""
        raise NotImplementedError

    def assign_tasks(self, cfg: Config, rng: np.random.Generator) -> tuple[list[Task], np.ndarray]:
        """``(tasks, agent_task)``: the episode's tasks and each agent's index into them."""
        return [self.task(cfg)], np.zeros(cfg.shape.num_agents, np.int64)

    def _episode_tasks(self, cfg: Config, rng: np.random.Generator) -> tuple[list[Task], np.ndarray]:
        """:meth:`assign_tasks`, checked: errors name the game (they surface at a reset, inside
        ``step`` when it auto-resets)."""
        n = cfg.shape.num_agents
        try:
            tasks, agent_task = self.assign_tasks(cfg, rng)
            tasks = list(tasks)
            if not tasks or not all(isinstance(t, Task) for t in tasks):
                raise TypeError(f"the tasks must be a non-empty list of metammo.tasks.Task (Task.from_dict "
                                f"builds one from plain data), got {tasks!r}")
            check_agent_ids(tasks, n)
        except TypeError as err:
            raise TypeError(f"game {self.name!r}: {err}") from err
        except ValueError as err:
            raise ValueError(f"game {self.name!r}: {err}") from err
        agent_task = np.asarray(agent_task)
        want = f"game {self.name!r}: assign_tasks() must give each of the {n} agents the index of its task, an int "
        if agent_task.shape != (n,) or agent_task.dtype.kind not in "iu":
            raise ValueError(f"{want}array of shape ({n},); got a {agent_task.shape} {agent_task.dtype} array")
        if agent_task.min() < 0 or agent_task.max() >= len(tasks):
            raise ValueError(f"{want}in [0, {len(tasks) - 1}]; got {agent_task.min()} to {agent_task.max()}")
        return tasks, agent_task

    def spawn(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        """Place the agents and the game's map features (default: teams around the edge). A
        game that sends agents to a tile joins it to the edge here
        (:func:`metammo.systems.spawn.open_paths`, as Race to the Center does): terrain can seal
        a tile in."""
        spawn_agents(state, cfg, rng)

    def rules(self, state: State, cfg: Config, died: np.ndarray) -> None:
        """Special rules after this tick's deaths (default none)."""

    def is_over(self, state: State, cfg: Config) -> bool:
        """Whether the game ended this tick (default: every agent is dead)."""
        return not np.count_nonzero(state.entities.alive[: cfg.shape.num_agents])

    def winners(self, state: State, cfg: Config, over: bool) -> np.ndarray:
        """``(num_agents,)`` bool: the winners at the end (default: the live agents)."""
        return state.entities.alive[: cfg.shape.num_agents].copy()

    def winning_score(self, state: State, cfg: Config) -> float:
        """Reward added to each winner at the end (default 1)."""
        return 1.0

    # --- helpers for subclasses -------------------------------------------------------------

    def teams_alive(self, state: State, cfg: Config) -> np.ndarray:
        """``(num_teams,)`` bool: teams with a live member."""
        teams = np.empty(cfg.shape.num_agents // self.team_size, np.bool_)
        self.kernels(_teams_alive, state.entities.alive, self.team_size, teams)  # every tick: compiled
        return teams

    def team_members(self, teams: np.ndarray) -> np.ndarray:
        """``(num_agents,)`` bool mask of the members of the teams in the bool mask ``teams``."""
        return np.repeat(teams, self.team_size)

    def centre(self, cfg: Config) -> int:
        """Row (= column) of the centre tile of the playable square."""
        lo, hi = playable_bounds(cfg)
        return centre_tile(lo, hi)

    # --- engine hooks -----------------------------------------------------------------------

    def setup(self, state: State, cfg: Config, rng: np.random.Generator) -> None:
        n = cfg.shape.num_agents
        self.spawn(state, cfg, rng)
        ent = state.entities
        if self.leaders:
            ent.leader[:n:self.team_size] = True
        self.spawn_row = ent.row[:n].copy()
        self.spawn_col = ent.col[:n].copy()
        num_teams = n // self.team_size
        self.leader_slot = np.arange(num_teams, dtype=np.int64) * self.team_size
        tasks, agent_task = self._episode_tasks(cfg, rng)
        if tasks != self.tasks:  # most games play the tasks of their last episode: compiled then
            self.tasks = tasks
            self._program, self._length, self._team_task = compile_tasks(tasks)
            self._no_holds = seize_table(tasks)
            self._hold_row = {tuple(t): k for k, t in enumerate(self._no_holds[:, :2].tolist())}
            self._embeddings = np.stack([t.embedding for t in tasks])
        self.agent_task = np.ascontiguousarray(agent_task, np.int64)
        self.holds = self._no_holds.copy()
        lo, hi = playable_bounds(cfg)
        c = centre_tile(lo, hi)  # the tiles on the map, as (row of holds, tile row, tile column)
        self._held_tiles = [(k, c + r, c + q) for (r, q), k in self._hold_row.items()
                            if lo <= c + r < hi and lo <= c + q < hi]
        self.progress = np.zeros(n, np.float64)
        self.best = np.zeros(n, np.float64)
        self._complete = np.zeros(n, bool)
        self._acting = np.zeros(n, bool)
        ent, inv = state.entities, state.inventory
        # score_tasks' arguments but this tick's rewards and tick: the same arrays all episode
        self._score_args = (
            self.progress, self.best, self._complete, self._acting, self.agent_task, self._program, self._length,
            self._team_task, self.team_size, ent.alive, ent.time_alive, ent.row, ent.col, ent.level, ent.xp,
            ent.gold, state.events.counts, state.events.amounts, inv.item, inv.level, inv.quantity,
            inv.equipped, state.tiles.material, lo, hi, cfg.shape.vision, self.spawn_row, self.spawn_col,
            self.holds, self.leader_slot)  # progress 0 until the first tick's update (metammo.tasks)
        self._winners = np.zeros(n, bool)

    def _evaluate(self, state: State, rewards: np.ndarray) -> None:
        self.kernels(score_tasks, *self._score_args, rewards, state.tick)

    def _hold_tiles(self, state: State, cfg: Config) -> None:
        """Count this tick's holds of the tiles in :attr:`holds`: a team whose live members
        stand on a tile with no other agent holds it (its count restarts when it takes the
        tile from another team) and its count rises by one; a contested or empty tile changes
        nothing."""
        ent, n = state.entities, cfg.shape.num_agents
        for k, r, q in self._held_tiles:
            if state.tiles.agents[r, q]:  # most ticks nobody stands there
                self.kernels(_hold_tile, ent.alive, ent.row, ent.col, n, self.team_size, r, q, self.holds, k)

    def hold(self, row: int = 0, col: int = 0) -> tuple[int, int]:
        """``(team, ticks)`` of the tile ``(row, col)`` (offsets from the centre): the team
        holding it (-1: none yet) and the ticks it has held it alone.

        Raises:
            KeyError: no task of the episode seizes that tile (only those are kept).
        """
        k = self._hold_row.get((row, col))
        if k is None:
            raise KeyError(f"no task of this episode seizes the tile ({row}, {col}); seized: {list(self._hold_row)}")
        return int(self.holds[k, 2]), int(self.holds[k, 3])

    def write_game_vector(self, game: np.ndarray, state: State, cfg: Config) -> None:
        game[:, GameFeature.TASK:GameFeature.TASK + EMBED_DIM] = self._embeddings[self.agent_task]

    def update(self, state: State, cfg: Config, died: np.ndarray, rewards: np.ndarray) -> bool:
        n = cfg.shape.num_agents
        alive = state.entities.alive[:n]
        np.logical_or(alive, died, out=self._acting)
        self.rules(state, cfg, died)
        if self._held_tiles:  # after the rules, which may kill or move agents
            self._hold_tiles(state, cfg)
        self._evaluate(state, rewards)
        if self.death_penalty:
            rewards[died] -= self.death_penalty
        over = self.is_over(state, cfg)
        if not isinstance(over, (bool, np.bool_)):
            raise TypeError(f"game {self.name!r}: is_over() must return a bool, got {over!r}")
        return bool(over)

    def finish(self, state: State, cfg: Config, rewards: np.ndarray, over: bool) -> None:
        if not self.has_winners:
            self.controller.record(False)
            return
        n = cfg.shape.num_agents
        winners = self.winners(state, cfg, over)
        if not (isinstance(winners, np.ndarray) and winners.dtype == np.bool_ and winners.shape == (n,)):
            shown = (f"a {winners.shape} {winners.dtype} array" if isinstance(winners, np.ndarray)
                     else repr(winners))
            raise TypeError(f"game {self.name!r}: winners() must return a ({n},) bool array (a mask of the "
                            f"agents), got {shown}")
        self._winners = winners
        score = self.winning_score(state, cfg)
        if not dr.is_number(score):
            raise TypeError(f"game {self.name!r}: winning_score() must return a number, got {score!r}")
        rewards[self._winners & self._acting] += score
        rewards[~self._winners & state.entities.alive[: cfg.shape.num_agents]] -= 1.0
        self.controller.record(bool(self._winners.any()))

    def scores(self) -> np.ndarray:
        """``(num_agents,)`` float64: the reference's per-agent score of the episode so far."""
        return self.best + WINNER_SCORE * self._winners

    def summary(self, state: State, cfg: Config) -> dict[str, Any]:
        """The scoring entries (winners, per-agent scores, task progress, difficulty, randomized
        values, preset) that evaluation and the leaderboard read: a game adding its own returns
        ``{**super().summary(state, cfg), ...}``."""
        scores = self.scores()
        return {
            "winners": np.flatnonzero(self._winners).tolist(),
            "scores": np.round(scores, 4).tolist(),
            "mean_score": float(scores.mean()),
            "task_progress": float(self.best.mean()),
            "tasks": sorted({t.name for t in self.tasks}),
            "difficulty": self._played,
            "randomized": self.randomized,
            "preset": self.preset,
        }
