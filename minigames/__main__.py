"""``python -m minigames list``: the registered games and packs, their configs, one line each.

A game or pack whose entry point is broken is reported on stderr (the others are still listed)
and the exit status is 1."""

from __future__ import annotations

import argparse
import sys

from metammo.cli import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigames", description=__doc__)
    parser.add_argument("command", choices=["list"])
    parser.parse_args(argv)
    from metammo.game import game_class, game_names, pack_games, pack_names

    names = game_names()
    width = max(map(len, names), default=0)
    broken = []
    print("games:")
    for name in names:
        try:
            game = game_class(name)
        except ValueError as err:
            broken.append(err)
            continue
        print(f"  {name:<{width}}  {','.join(game.configs):<9}  {game.description}")
    print("packs:")
    for name in pack_names():
        try:
            print(f"  {name:<{width}}  {', '.join(pack_games(name))}")
        except ValueError as err:
            broken.append(err)
    for err in broken:
        print(f"broken: {err}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    run(main, "python -m minigames")
