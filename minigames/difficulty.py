"""Adaptive difficulty: one controller per game instance (rules.md §2 "Adaptive difficulty").

The controller keeps the last 100 episodes as ``(level, had winners)``. After an episode that
had winners, when the episodes won at the current level reach ``wins_to_raise``, the level goes
up one step (up to the last). Nothing else lowers or raises it. It lives on the game instance,
so it survives the env's auto-reset and an unseeded ``reset()``; a seeded reset restarts it
(:meth:`Difficulty.restart`). A pinned controller never moves (evaluation).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Sequence

#: Episodes the controller remembers.
HISTORY = 100


class Difficulty:
    """The level index into ``levels`` (knob values, easiest first).

    Args:
        levels: the knob's values, easiest first (at least one).
        wins_to_raise: wins at the current level that raise it.
        pinned: a fixed level index, or ``None`` to adapt from 0.
        value: with ``pinned``, the knob's value when it is not that level's (a value the user
            set: the level is then the nearest one).
    """

    def __init__(self, levels: Sequence[Any], wins_to_raise: int, pinned: int | None = None, value: Any = None):
        if not levels:
            raise ValueError("difficulty needs at least one level")
        if wins_to_raise < 1:
            raise ValueError(f"wins_to_raise must be >= 1, got {wins_to_raise}")
        self.levels = tuple(levels)
        self.wins_to_raise = wins_to_raise
        self.pinned = pinned is not None
        self.level = 0 if pinned is None else pinned
        self._value = value
        self.history: deque[tuple[int, bool]] = deque(maxlen=HISTORY)

    @property
    def value(self) -> Any:
        """The knob's value at the current level (or the value it was pinned with)."""
        return self.levels[self.level] if self._value is None else self._value

    def record(self, had_winners: bool) -> None:
        """Note an episode played at the current level; maybe raise the level."""
        self.history.append((self.level, had_winners))
        if self.pinned or not had_winners or self.level == len(self.levels) - 1:
            return
        wins = sum(1 for level, won in self.history if level == self.level and won)
        if wins >= self.wins_to_raise:
            self.level += 1

    def restart(self) -> None:
        """Forget the episodes played: back to level 0 (a pinned controller keeps its level)."""
        self.history.clear()
        if not self.pinned:
            self.level = 0

    def summary(self) -> dict[str, Any]:
        return {"level": self.level, "value": self.value, "levels": len(self.levels), "pinned": self.pinned}
