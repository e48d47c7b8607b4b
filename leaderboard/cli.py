"""The leaderboard's command line.

    python -m leaderboard submit CHECKPOINT --name NAME [--suite quick|standard|FILE] [--db PATH]
    python -m leaderboard show [--suite quick|standard|FILE] [--db PATH] [--json]
    python -m leaderboard render OUT_DIR [--suite quick|standard|FILE] [--db PATH]

``submit`` checks the checkpoint (before anything runs or is written), adds the entry, scores
the reference entries on the suite if the board has not yet, scores the entry, plays its rating
round, then prints the table. Re-running an interrupted submission (same name, same checkpoint)
resumes it. ``--db`` defaults to ``leaderboard.sqlite`` in the user's data directory.

Exit codes: 0 done; 2 bad input or an unusable database (the message says what is wrong and
what is allowed; the database is left unchanged); 130 interrupted (stored episodes are kept).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leaderboard import board, db, suite as suites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leaderboard", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--suite", default="quick",
                        help=f"a built-in suite {list(suites.SUITES)} or a suite YAML file (default: quick)")
    common.add_argument("--db", type=Path, default=None, help=f"leaderboard database (default: {db.default_path()})")
    p = sub.add_parser("submit", parents=[common], help="score a checkpoint and add it to the board")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--name", required=True, help=f"entry name, 1 to {board.NAME_MAX} printable characters")
    p.add_argument("--workers", type=int, default=board.default_workers(), help="episode worker processes")
    p.add_argument("--progress", choices=["auto", "on", "off"], default="auto", help="progress bar (auto: on a TTY)")
    p = sub.add_parser("show", parents=[common], help="print the board")
    p.add_argument("--json", action="store_true", help="print the standings as JSON")
    p = sub.add_parser("render", parents=[common], help="write the static web page")
    p.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    path = args.db or db.default_path()
    try:
        suite = suites.load(args.suite)
        if args.command == "submit":
            return submit(args, suite, path)
        conn = db.connect(path, create=False)
        try:
            if args.command == "show":
                standings = board.standings(conn, suite)
                if args.json:
                    print(json.dumps(standings, indent=1))
                elif not standings["rows"]:
                    print(f"no entries scored on suite {suite.name!r} v{suite.version} in {path} yet: submit one with "
                          f"python -m leaderboard submit CHECKPOINT --name NAME --suite {args.suite}")
                else:
                    print_table(standings)
            else:
                from leaderboard.site import render

                print(render(conn, suite, args.out_dir))
        finally:
            conn.close()
    except (db.LeaderboardError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def submit(args: argparse.Namespace, suite: suites.Suite, path: Path) -> int:
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    board.check_name(args.name)
    data, meta = board.read_checkpoint(args.checkpoint)
    if not suite.scenarios_for(meta["config"]):
        raise db.LeaderboardError(f"suite {suite.name!r} has no scenarios for the {meta['config']} config this "
                                  f"checkpoint plays; configs: {sorted({s.config for s in suite.scenarios})}")
    conn = db.connect(path)
    specs = board.Specs(conn)
    try:
        new = board.claim(conn, args.name, data, meta, suite)
        pending = [e for e in board.entries(conn) if e.reference and not board.evaluated(conn, e, suite)] + [new]
        show = args.progress == "on" or (args.progress == "auto" and sys.stderr.isatty())
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), disable=not show) as bar:
            for e in pending:
                total = board.episodes_to_score(conn, e, suite) + board.pvp_episodes(conn, e, suite)
                task = bar.add_task(f"{e.name}{' (reference)' if e.reference else ''}", total=total)
                board.score(conn, e, suite, specs, args.workers, lambda: bar.advance(task))
                board.rating_round(conn, e, suite, specs, args.workers, lambda: bar.advance(task))
        print_table(board.standings(conn, suite))
        print(f"database: {path}")
    except KeyboardInterrupt:
        print(f"interrupted; the finished episodes are stored in {path}: run the same command to resume",
              file=sys.stderr)
        return 130
    finally:
        specs.close()
        conn.close()
    return 0


def print_table(standings: dict[str, Any]) -> None:
    """The board as a rich table: rank, entry, overall with its 95% interval, per-column scores,
    rating (mu, sigma, ordinal)."""
    configs = {c.split("/")[1] for c in standings["columns"]}
    table = Table(title=f"metammo leaderboard, suite {standings['suite']} v{standings['version']}: "
                        f"scores normalized random 0, reference 1 (95% CI)")
    for col in ("#", "entry", "overall"):
        table.add_column(col)
    for c in standings["columns"]:
        table.add_column(c if len(configs) > 1 else c.split("/")[0], justify="right")
    table.add_column("rating mu±sigma (ordinal)", justify="right")
    for rank, row in enumerate(standings["rows"], 1):
        r = row["rating"]
        table.add_row(str(rank), row["name"] + (" *" if row["reference"] else ""), _interval(row["overall"]),
                      *[_interval(row["scores"][c], short=True) for c in standings["columns"]],
                      f"{r['mu']:.1f}±{r['sigma']:.1f} ({r['ordinal']:.1f}){' fixed' if r['fixed'] else ''}")
    Console(width=max(120, 24 * (len(standings["columns"]) + 3))).print(table)
    for row in standings["rows"]:
        if row["completion"]:
            print(f"{row['name']}: Multi-task completion on held-out tasks: "
                  + ", ".join(f"{c} {v:.0%}" for c, v in row["completion"].items()))
    print("* reference entry")


def _interval(s: dict | None, short: bool = False) -> str:
    if s is None:
        return "-"
    if s["score"] is None:
        return "n/a"
    if short:
        return f"{s['score']:.2f}±{(s['high'] - s['low']) / 2:.2f}"
    return f"{s['score']:.2f} [{s['low']:.2f}, {s['high']:.2f}]"
