"""The leaderboard's static site: ``python -m leaderboard render OUT_DIR``.

Writes ``OUT_DIR/index.html`` (the template ``leaderboard/site.html`` with the board's data
embedded as JSON: a sortable table with 95% intervals per game, the Multi-task completion, the
win-rate matrix of the PvP rounds, the rating history plot and every entry's metadata) and one
replay viewer page per kept evaluation replay (``OUT_DIR/replays/EPISODE.html``, the page of
:func:`metammo.replay.page`), linked from the entries. Everything is inline: the pages open
from disk with no server and no network. Files are written atomically.
"""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from pathlib import Path

from leaderboard import board
from leaderboard.suite import Suite
from metammo.files import write_atomic
from metammo.replay import loads, page

_DATA_BLOCK = '<script id="data" type="application/json">null</script>'


def render(conn: sqlite3.Connection, suite: Suite, out_dir: str | Path) -> Path:
    """Write the site for ``suite`` into ``out_dir`` (created if needed); returns the path of
    its ``index.html``.

    Raises:
        ValueError: ``out_dir`` exists and is not a folder.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"render: {out} exists and is not a folder")
    standings = board.standings(conn, suite)
    (out / "replays").mkdir(parents=True, exist_ok=True)
    for row in standings["rows"]:
        for replay in row["replays"]:
            target = out / "replays" / f"{replay['id']}.html"
            if not target.exists():  # an episode's replay never changes
                data = board.replay_bytes(conn, replay["id"])
                write_atomic(target, page(loads(data, f"episode {replay['id']}")).encode())
            replay["href"] = f"replays/{replay['id']}.html"
    data = {**standings, "history": board.rating_history(conn, suite), "wins": board.win_matrix(conn, suite)}
    template = resources.files("leaderboard").joinpath("site.html").read_text(encoding="utf-8")
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str).replace("</", "<\\/")
    index = out / "index.html"
    write_atomic(index, template.replace(_DATA_BLOCK, _DATA_BLOCK.replace("null", text)).encode())
    return index
