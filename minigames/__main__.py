"""``python -m minigames list``: the registered games and packs, their configs, one line each."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigames", description=__doc__)
    parser.add_argument("command", choices=["list"])
    parser.parse_args(argv)
    from metammo.game import games, packs

    known = games()
    width = max(map(len, known))
    print("games:")
    for name, game in known.items():
        print(f"  {name:<{width}}  {','.join(game.configs):<9}  {game.description}")
    print("packs:")
    for name, members in packs().items():
        print(f"  {name:<{width}}  {', '.join(members)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
