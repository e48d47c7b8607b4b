"""Minigames played on the metammo engine (rules.md §2): the minigame API (:mod:`minigames.base`),
domain randomization (:mod:`minigames.randomization`), adaptive difficulty
(:mod:`minigames.difficulty`), one module per game, and the named game packs
(:mod:`minigames.packs`). Games register through the entry-point group ``metammo.minigames``
exactly as a third-party package's would; ``python -m minigames list`` shows them."""
