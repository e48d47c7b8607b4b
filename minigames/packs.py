"""Named game packs (entry-point group ``metammo.game_packs``): the generalist suites of
rules.md §2, sampled uniformly by default (``metammo.make(pack, weights=...)`` to change)."""

#: The five mini games.
MINI_GENERALIST = ("team_battle", "protect_the_king", "race_to_the_center", "king_of_the_hill", "sandwich")
#: The full games.
FULL_GENERALIST = ("survival", "team_battle", "multitask")
