"""The leaderboard's static site: ``python -m leaderboard render OUT_DIR``.

Writes ``OUT_DIR/index.html`` (the template ``leaderboard/site.html`` with the board's data
embedded as JSON: a sortable table with 95% intervals per game, the Multi-task completion, the
win-rate matrix of the PvP rounds, the rating history plot and every entry's metadata) and one
replay viewer page per kept evaluation replay (``OUT_DIR/replays/EPISODE-DIGEST.html``, the page
of :func:`metammo.replay.page`; DIGEST, of the replay's bytes, ties the page to its episode across
boards, since episode ids are a database's own), linked from the entries. A render reuses the
pages it links and removes the other replay pages of the folder. Everything is inline: the pages
open from disk with no server and no network. Files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from importlib import resources
from pathlib import Path

from leaderboard import board
from leaderboard.suite import Suite
from metammo.files import write_atomic
from metammo.replay import loads, page

_DATA_BLOCK = '<script id="data" type="application/json">null</script>'
_PAGE = re.compile(r"\d+(-[0-9a-f]{16})?\.html")  # a replay page's name (before the digest: EPISODE.html)


def render(conn: sqlite3.Connection, suite: Suite, out_dir: str | Path) -> Path:
    """Write the site for ``suite`` into ``out_dir`` (created if needed); returns the path of
    its ``index.html``.

    Raises:
        ValueError: ``out_dir`` exists and is not a folder, or its folders cannot be made.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"render: {out} exists and is not a folder")
    standings = board.standings(conn, suite)
    folder = out / "replays"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file where a folder should be, or no permission
        raise ValueError(f"render: cannot create {folder} ({err.strerror})") from None
    linked = set()
    for row in standings["rows"]:
        for replay in row["replays"]:
            data = board.replay_bytes(conn, replay["id"])
            name = f"{replay['id']}-{hashlib.sha256(data).hexdigest()[:16]}.html"
            if not (folder / name).exists():  # the same bytes make the same page
                write_atomic(folder / name, page(loads(data, f"episode {replay['id']}")).encode())
            replay["href"] = f"replays/{name}"
            linked.add(name)
    for stale in folder.iterdir():  # pages of episodes no longer shown, or of another board
        if _PAGE.fullmatch(stale.name) and stale.name not in linked:
            stale.unlink()
    data = {**standings, "history": board.rating_history(conn, suite), "wins": board.win_matrix(conn, suite)}
    template = resources.files("leaderboard").joinpath("site.html").read_text(encoding="utf-8")
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str).replace("</", "<\\/")
    index = out / "index.html"
    write_atomic(index, template.replace(_DATA_BLOCK, _DATA_BLOCK.replace("null", text)).encode())
    return index
