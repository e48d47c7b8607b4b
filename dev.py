#!/usr/bin/env python3
"""Bootstrap for metammo: sets up ./.venv and runs the project's commands in it.

    python3 dev.py setup            create .venv, install torch (CPU wheel) and the project
    python3 dev.py main [overrides] setup, then the main job (overrides go to the training run)
    python3 dev.py test [args]      setup, then pytest -n auto (args are passed to pytest)
    python3 dev.py bench [args]     setup, then python -m metammo.bench with args

Standard library only; runs with the system python3 (3.10 or newer).
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

# The main job (`python3 dev.py main`): a short generalist training run on the mini config, its
# submission to the local leaderboard (runs/leaderboard.sqlite; the first submission also scores
# the reference entries), the table, and the rendered page. Each run trains with a new seed, so
# every run adds an entry. Hydra overrides on the command line go to the training run.
MAIN_TRAIN = ["experiment=generalist_mini", "trainer.total_agent_steps=400000"]
MAIN_DB = "runs/leaderboard.sqlite"
MAIN_SITE = "runs/leaderboard-site"

# Pinned so pip takes the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
TORCH_REQUIREMENT = "torch==2.13.0"

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
MARKER = VENV / ".metammo-installed"


def step(message):
    print(f"dev.py: {message}", file=sys.stderr, flush=True)


def numba_cache_dir():
    """A numba cache folder per version of the compiled sources. numba keys its on-disk cache
    on each function's own file only, so after an edit to a system module a kernel compiled
    into ``tick`` would otherwise run stale code."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] in ("metammo", "minigames", "baselines"):
            digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    current = VENV / "numba-cache" / digest.hexdigest()[:16]
    for stale in current.parent.glob("*"):
        if stale != current:
            shutil.rmtree(stale, ignore_errors=True)
    return current


def run(*args):
    """Run PYTHON with args in ROOT; raises CalledProcessError on a non-zero exit."""
    env = dict(os.environ)
    env.setdefault("WANDB_MODE", "offline")
    env.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir()))
    subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env, check=True)


def has_module(name):
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([str(PYTHON), "-c", probe], cwd=ROOT).returncode == 0


def setup():
    """Create .venv if missing, install torch if absent, then the project if pyproject changed."""
    if not PYTHON.exists():
        step(f"creating virtual environment {VENV}")
        venv.create(VENV, with_pip=True)
    if not has_module("torch"):
        step(f"installing {TORCH_REQUIREMENT}")
        run("-m", "pip", "install", "-q", TORCH_REQUIREMENT)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not MARKER.exists() or MARKER.read_text().strip() != digest:
        step("installing metammo in editable mode with the dev extra")
        run("-m", "pip", "install", "-q", "-e", ".[dev]")
        MARKER.write_text(digest + "\n")


def cmd_setup(args):
    setup()


def cmd_main(args):
    setup()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = f"runs/main/{stamp}"
    seed = int(time.time()) % 100_000
    commands = [
        ["-m", "baselines.train", *MAIN_TRAIN, f"seed={seed}", f"hydra.run.dir={run_dir}", *args],
        ["-m", "baselines.checkpoint", "export", f"{run_dir}/checkpoints/latest.pt", f"{run_dir}/policy.pt"],
        ["-m", "leaderboard", "submit", f"{run_dir}/policy.pt", "--name", f"mini-{stamp}", "--suite", "quick",
         "--db", MAIN_DB],
        ["-m", "leaderboard", "render", MAIN_SITE, "--suite", "quick", "--db", MAIN_DB],
    ]
    for command in commands:
        step("running python " + " ".join(command))
        run(*command)
    step(f"leaderboard page: {ROOT / MAIN_SITE / 'index.html'}")


def cmd_test(args):
    setup()
    # With no paths given, pytest falls back to testpaths ("tests") from pyproject.toml.
    command = ["-m", "pytest", "-n", "auto", *(args or ["tests"])]
    step("running python " + " ".join(command))
    run(*command)


def cmd_bench(args):
    setup()
    command = ["-m", "metammo.bench", *args]
    step("running python " + " ".join(command))
    run(*command)


COMMANDS = {
    "setup": (cmd_setup, "create .venv and install torch and the project (idempotent)"),
    "main": (cmd_main, "set up, then train a short generalist, submit it to runs/leaderboard.sqlite, render the page"),
    "test": (cmd_test, "set up, then run the test suite (extra args go to pytest)"),
    "bench": (cmd_bench, "set up, then run the engine benchmark (extra args go to it)"),
}


def main():
    if sys.version_info < (3, 10):
        sys.exit(f"dev.py needs Python 3.10 or newer, got {sys.version.split()[0]}")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=name == "setup")
    known, extra = parser.parse_known_args()
    if known.command == "setup" and extra:
        parser.error(f"setup takes no arguments, got {' '.join(extra)}")
    try:
        COMMANDS[known.command][0](extra)
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)


if __name__ == "__main__":
    main()
