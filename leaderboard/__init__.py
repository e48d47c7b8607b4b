"""The metammo leaderboard: submit a policy checkpoint, score it across a suite of minigame
scenarios, rate it against other entries, store it, show it.

    python -m leaderboard submit CHECKPOINT --name NAME [--suite quick|standard] [--db PATH]
    python -m leaderboard show [--suite ...] [--db PATH]
    python -m leaderboard render OUT_DIR [--suite ...] [--db PATH]

Modules: :mod:`leaderboard.suite` (the declarative, versioned suites), :mod:`leaderboard.db`
(SQLite storage, migrations, transactions), :mod:`leaderboard.board` (scoring, normalization,
bootstrap intervals, OpenSkill rating rounds, standings), :mod:`leaderboard.site` (the static
page), :mod:`leaderboard.cli` (the command line).
"""
