"""What every ``python -m`` command line of this project shares."""

from __future__ import annotations

import sys
from typing import Callable, NoReturn


def run(main: Callable[[], int], prog: str) -> NoReturn:
    """Exit with ``main()``'s status; Ctrl-C exits with status 130 and one line on stderr (no
    traceback: the commands write their files atomically, so an interruption leaves none half
    written)."""
    try:
        status = main()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)
