"""Leaderboard: the evaluation suite, scoring and ratings, the results store, the CLI and HTML
pages. Not built yet."""
