"""Multi-task: each agent plays its own task from a curriculum (rules.md §2).

==========  ===================================================================
teams       none
reward      the agent's task progress increase (:mod:`metammo.tasks`)
win         none; scored by task progress (completion per task category)
end         every agent dead, or the horizon
config      full
tasks       one per agent, drawn uniformly from the curriculum's training tasks;
            the ``eval`` preset draws from its held-out evaluation tasks
randomized  NPC count U[64, 192]; fog onset U[256, 1024]
==========  ===================================================================

The curriculum is a YAML or JSON file (default ``minigames/curricula/multitask.yaml``; the game
option ``curriculum`` names another) of agent tasks: the game has no teams, so a team subject or
a :data:`TEAM_PREDICATES` predicate would be an agent task under another name (and slip past the
check that held-out tasks differ from training ones) and is refused. Task names are
``category/name``; the summary's ``completion`` gives the fraction of agents that completed
their task, per category, and ``categories`` and ``completed`` give each agent's task category
and whether it completed it (so a caller can split completion by who played the agents).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from metammo.config import Config
from metammo.state import State
from metammo.tasks import PREDICATES, Task, check_agent_ids, load_curriculum
from minigames.base import Minigame
from minigames.randomization import Integers

DEFAULT_CURRICULUM = Path(__file__).parent / "curricula" / "multitask.yaml"
#: Predicates of a team and its leader: in a game without teams the agent alone, so another
#: task in disguise (``ProtectLeader`` is ``StayAlive``; ``AllMembersWithinRange`` is always 1).
TEAM_PREDICATES = ("ProtectLeader", "AllMembersWithinRange")
_TEAM_OPS = {PREDICATES[name][0] for name in TEAM_PREDICATES}


class Multitask(Minigame):
    name = "multitask"
    description = "every agent gets its own task from a curriculum; held-out tasks for evaluation"
    configs = ("full",)
    has_winners = False
    rules_config = {"fog": True}
    randomization = {"npc_count": Integers(64, 192), "fog_onset": Integers(256, 1024)}
    presets = {"eval": {"npc_count": 128, "fog_onset": 512, "map_pool": "eval"}}

    def __init__(self, curriculum: str | Path = DEFAULT_CURRICULUM, **options: Any):
        """Args:
            curriculum: the path of a curriculum file (:func:`metammo.tasks.load_curriculum`).
            options: as :class:`minigames.base.Minigame`.

        Raises:
            ValueError: as :func:`~metammo.tasks.load_curriculum`, or a team task in the
                curriculum (see the module docstring); as :class:`minigames.base.Minigame`.
        """
        super().__init__(**options)
        self.curriculum_path = curriculum
        self.curriculum = load_curriculum(curriculum)
        for split in ("train", "eval"):
            for task in getattr(self.curriculum, split):
                if task.subject == "team" or {op for op, *_ in task.program} & _TEAM_OPS:
                    raise ValueError(f"curriculum {curriculum} ({split}): task {task.name!r} is a team task, "
                                     "but Multi-task plays without teams (every agent its own team and leader): "
                                     f"use subject 'agent' and none of {sorted(TEAM_PREDICATES)} (StayAlive "
                                     "for ProtectLeader)")

    def check_config(self, base: Config) -> None:
        """Also checks that the curriculum's tasks name only agents of the env (both lists:
        a training env's curriculum is the one its evaluation reads)."""
        super().check_config(base)
        for split in ("train", "eval"):
            try:
                check_agent_ids(getattr(self.curriculum, split), base.shape.num_agents)
            except ValueError as err:
                raise ValueError(f"curriculum {self.curriculum_path} ({split}): {err}") from None

    def assign_tasks(self, cfg: Config, rng: np.random.Generator) -> tuple[list[Task], np.ndarray]:
        tasks = list(self.curriculum.eval if self.preset == "eval" else self.curriculum.train)
        return tasks, rng.integers(len(tasks), size=cfg.shape.num_agents)

    def summary(self, state: State, cfg: Config) -> dict[str, Any]:
        done = self.best >= 1.0
        category = np.array([t.name.split("/")[0] for t in self.tasks])[self.agent_task]
        completion = {c: float(done[category == c].mean()) for c in sorted(set(category))}
        return {**super().summary(state, cfg), "completion": completion, "categories": category.tolist(),
                "completed": done.tolist()}
