"""The leaderboard's storage: one SQLite file, a versioned schema, transactional writes.

Tables (schema version :data:`SCHEMA_VERSION`, applied by :data:`MIGRATIONS` in order):

- ``submissions``: an entry, its name, the checkpoint's SHA-256 and bytes (so the file alone
  holds everything a later rating round needs), its metadata (JSON) and the config it plays;
  the reference entries have ``reference = 1`` and a registered ``policy`` or their checkpoint.
- ``episodes``: one played episode: suite, suite version, scenario, episode index, seed, length,
  details (JSON: Multi-task's category completion), the replay file's bytes when kept; a scoring
  episode names its ``focal_id`` entry, a PvP one its ``round_id``.
- ``results``: per episode and entry, its role (focal, background, pvp), agents, mean score,
  win rate and (PvP) placement.
- ``rounds`` and ``ratings``: each PvP round and the OpenSkill mu and sigma it left each entry.
- ``evaluations``: an entry's completed scoring on a suite version (written last, with its
  rating round, so a row here means every episode is stored).

Every write is one transaction (:func:`transaction`): an episode and its results land together
or not at all, so an interrupted scoring leaves whole episodes behind and a re-run resumes after
them. The file carries SQLite's ``application_id`` :data:`APPLICATION_ID` and ``user_version``
(the schema version); :func:`connect` refuses other SQLite files, newer schemas, corrupt files
and locks held too long, with :class:`LeaderboardError`.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import platformdirs

#: SQLite ``application_id`` of leaderboard files ("mmmo").
APPLICATION_ID = 0x6D6D6D6F

#: Schema migrations: MIGRATIONS[i] takes a database from version i to i + 1.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            reference INTEGER NOT NULL DEFAULT 0,
            policy TEXT,                      -- a registered policy name, or NULL for a checkpoint
            checkpoint_sha256 TEXT UNIQUE,
            checkpoint BLOB,
            config TEXT,                      -- the engine config it plays; NULL: any
            metadata TEXT NOT NULL,           -- JSON
            created_at TEXT NOT NULL,
            CHECK ((policy IS NULL) = (checkpoint IS NOT NULL))
        )""",
        """CREATE TABLE rounds (
            id INTEGER PRIMARY KEY,
            suite TEXT NOT NULL,
            suite_version INTEGER NOT NULL,
            trigger_id INTEGER NOT NULL REFERENCES submissions(id),
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE episodes (
            id INTEGER PRIMARY KEY,
            suite TEXT NOT NULL,
            suite_version INTEGER NOT NULL,
            scenario TEXT NOT NULL,
            focal_id INTEGER REFERENCES submissions(id),
            round_id INTEGER REFERENCES rounds(id),
            episode INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            length INTEGER NOT NULL,
            details TEXT NOT NULL,            -- JSON
            replay BLOB,
            created_at TEXT NOT NULL,
            CHECK ((focal_id IS NULL) != (round_id IS NULL)),
            UNIQUE (suite, suite_version, scenario, focal_id, round_id, episode)
        )""",
        """CREATE TABLE results (
            episode_id INTEGER NOT NULL REFERENCES episodes(id),
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            role TEXT NOT NULL CHECK (role IN ('focal', 'background', 'pvp')),
            agents INTEGER NOT NULL,
            score REAL NOT NULL,
            win_rate REAL NOT NULL,
            placement INTEGER,
            PRIMARY KEY (episode_id, role, submission_id)
        )""",
        """CREATE TABLE ratings (
            round_id INTEGER NOT NULL REFERENCES rounds(id),
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            mu REAL NOT NULL,
            sigma REAL NOT NULL,
            PRIMARY KEY (round_id, submission_id)
        )""",
        """CREATE TABLE evaluations (
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            suite TEXT NOT NULL,
            suite_version INTEGER NOT NULL,
            finished_at TEXT NOT NULL,
            PRIMARY KEY (submission_id, suite, suite_version)
        )""",
        "CREATE INDEX episodes_by_focal ON episodes (focal_id, suite, suite_version)",
    ],
]
#: The schema version this code reads and writes.
SCHEMA_VERSION = len(MIGRATIONS)
#: Seconds to wait for another process's lock before giving up.
LOCK_TIMEOUT = 10.0


class LeaderboardError(Exception):
    """Bad input or an unusable database; the message says what and what is allowed."""


def default_path() -> Path:
    """``leaderboard.sqlite`` in the user's data directory (platformdirs' ``user_data_path``)."""
    return platformdirs.user_data_path("metammo") / "leaderboard.sqlite"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def connect(path: str | Path, create: bool = True, timeout: float | None = None) -> sqlite3.Connection:
    """Open the leaderboard at ``path``, creating it (and its folder) when absent and ``create``,
    migrating an older schema. The connection is in autocommit mode: write through
    :func:`transaction`.

    Raises:
        LeaderboardError: ``path`` is a folder, absent with ``create`` false, in a folder that
            cannot be made or written, not a SQLite file,
            corrupt, another application's database, of a newer schema than
            :data:`SCHEMA_VERSION`, or locked by another process for over ``timeout`` seconds
            (default :data:`LOCK_TIMEOUT`).
    """
    path = Path(path)
    if path.is_dir():
        raise LeaderboardError(f"database path {path} is a folder; give a file path")
    if not path.exists():
        if not create:
            raise LeaderboardError(f"no leaderboard database at {path}; submit an entry first to create it")
        if path.parent.exists() and not path.parent.is_dir():
            raise LeaderboardError(f"cannot create the database {path}: {path.parent} is not a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # no permission, a read-only file system
            raise LeaderboardError(f"cannot create the database {path}: its folder cannot be made "
                                   f"({err.strerror})") from None
    try:
        conn = sqlite3.connect(path, timeout=LOCK_TIMEOUT if timeout is None else timeout, isolation_level=None)
    except sqlite3.OperationalError as err:  # a folder SQLite may not write in
        raise LeaderboardError(f"cannot open the database {path}: {err}") from None
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        with transaction(conn, path):
            app, version = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version"))
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app != APPLICATION_ID and (app != 0 or tables):
                raise LeaderboardError(f"{path} is a SQLite database of another application, not a metammo leaderboard")
            if version > SCHEMA_VERSION:
                raise LeaderboardError(f"{path} has schema version {version}, newer than this metammo's "
                                       f"{SCHEMA_VERSION}; upgrade metammo to read it")
            for v in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[v]:
                    conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, path: str | Path = "database") -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception; SQLite's lock and
    corruption errors become :class:`LeaderboardError`."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as err:
        raise _explain(err, path) from None
    try:
        yield conn
    except BaseException as err:
        conn.execute("ROLLBACK")
        if isinstance(err, sqlite3.DatabaseError):
            raise _explain(err, path) from None
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as err:
        conn.execute("ROLLBACK")
        raise _explain(err, path) from None


def _explain(err: sqlite3.DatabaseError, path: str | Path) -> LeaderboardError:
    text = str(err)
    if "locked" in text or "busy" in text:
        return LeaderboardError(f"{path} is locked by another process (is another submission running?): {text}")
    if isinstance(err, sqlite3.IntegrityError):
        return LeaderboardError(f"{path}: the write breaks a constraint: {text}")
    return LeaderboardError(f"{path} is corrupt or not a SQLite database: {text}")
