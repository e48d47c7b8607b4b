"""Minigames played on the metammo engine: one file per game, the minigame API, domain
randomization and adaptive difficulty. Not built yet."""
