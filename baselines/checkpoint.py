"""Checkpoints: save and load a policy network, and play one through the policy interface.

A checkpoint is one ``torch.save`` file holding only tensors and plain data, so it loads with
``torch.load(weights_only=True)`` and no code inside it ever runs::

    {"metadata": {...}, "state_dict": {...}, "optimizer": {...} | None, "trainer": {...} | None}

``metadata`` names the format, the architecture (a key of :data:`ARCHITECTURES`) and its
constructor kwargs, the observation layout version and size, the action head sizes, the game
pack, config and game options trained on (``game_options`` is absent from older checkpoints),
the agent steps, the git SHA and the time of writing; optionally
``decoding`` (:data:`DECODINGS`), how the policy picks actions from its distributions when
played (absent: ``"sample"``). ``optimizer`` and ``trainer`` (counters and the self-play pool)
let a run resume; ``python -m baselines.checkpoint export SOURCE TARGET [--decoding greedy]``
drops them (the shipped and submitted form).

Files are written atomically (a temporary file in the same folder, then ``os.replace``): an
interrupted write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from baselines.network import ARCHITECTURE, PolicyNetwork, sample
from metammo.cli import run
from metammo.files import plain, write_atomic
from metammo.observation import Layout

#: Value of ``metadata["format"]``.
FORMAT = "metammo-checkpoint"
#: Version of the file structure; bumped when the keys change.
FORMAT_VERSION = 1
#: ``{older layout version: configs}`` whose observation rows are byte for byte this version's, so
#: checkpoints trained on them still play: version 4 added ``System.PROGRESSION`` in a reserved
#: column of the game vector, 0 in mini as before.
READS_AS_CURRENT: dict[int, tuple[str, ...]] = {3: ("mini",)}
#: How a played checkpoint turns its distributions into actions: ``sample`` draws from them (as
#: in training), ``greedy`` takes each head's most likely allowed choice.
DECODINGS = ("sample", "greedy")
#: Registered architectures: name -> network class taking the metadata's ``kwargs``.
ARCHITECTURES: dict[str, type[torch.nn.Module]] = {ARCHITECTURE: PolicyNetwork}


@functools.cache
def git_sha() -> str:
    """The repository's HEAD commit (read once per process), or ``"unknown"`` outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def metadata(net: PolicyNetwork, game: str | list[str], config: str, agent_steps: int,
             game_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``metadata`` block for ``net`` trained on ``game`` (pack, game or list) and ``config``
    with ``game_options`` (:func:`metammo.make`'s, e.g. a Multi-task curriculum's path; see
    :func:`recorded`: plain data keeps the file loadable with ``weights_only``)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": ARCHITECTURE,
        "kwargs": net.kwargs,
        "layout_version": Layout.VERSION,
        "layout_size": net.layout.size,
        "head_sizes": list(net.head_sizes),
        "game": game if isinstance(game, str) else list(game),
        "config": config,
        "game_options": recorded(game_options),
        "agent_steps": int(agent_steps),
        "git_sha": git_sha(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def recorded(game_options: dict[str, Any] | None) -> dict[str, Any]:
    """``game_options`` as checkpoint metadata records them: JSON data, values JSON cannot hold
    (a curriculum's ``Path``, a distribution) as their ``str``."""
    return json.loads(json.dumps(plain(game_options or {}), default=str))


def save(path: str | Path, net: PolicyNetwork, meta: dict[str, Any], optimizer: dict | None = None,
         trainer: dict | None = None) -> Path:
    """Write a checkpoint atomically to ``path`` (parent folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"metadata": meta, "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
               "optimizer": optimizer, "trainer": trainer}
    return write_atomic(path, lambda f: torch.save(payload, f))


def read(path: str | Path) -> dict[str, Any]:
    """Load and check a checkpoint file without building its network.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: not a torch file, truncated, holding code or objects beyond tensors and
            plain data, or not a metammo checkpoint of a known format (the message says which).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} is not a file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch's loaders raise many types (KeyError, IndexError ...) on foreign bytes
        # of torch's messages only the weights-only unpickler's names something useful: the object
        refused = re.search(r"unsupported (?:global: )?GLOBAL (\S+?)[\s,]", str(err), re.IGNORECASE)
        detail = f": it holds {refused.group(1)}" if refused else ""
        raise ValueError(f"{path} is not a loadable torch checkpoint (truncated, not a torch file, or "
                         f"holding objects beyond tensors and plain data){detail}") from None
    if not isinstance(payload, dict) or not {"metadata", "state_dict"} <= payload.keys():
        raise ValueError(f"{path} is not a metammo checkpoint: expected a dict with 'metadata' and "
                         f"'state_dict', got {type(payload).__name__}"
                         + (f" with keys {sorted(map(str, payload))}" if isinstance(payload, dict) else ""))
    meta = payload["metadata"]
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a metammo checkpoint: metadata format is "
                         f"{meta.get('format') if isinstance(meta, dict) else meta!r}, expected {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format version {meta.get('format_version')!r} is not supported; "
                         f"this metammo reads version {FORMAT_VERSION}")
    missing = {"architecture", "kwargs", "layout_version", "layout_size", "head_sizes"} - meta.keys()
    if missing:
        raise ValueError(f"{path}: checkpoint metadata lacks {sorted(missing)}")
    kinds = {"architecture": "a name", "kwargs": "a dict", "layout_version": "an int", "layout_size": "an int",
             "head_sizes": "a list of ints"}
    ok = {"architecture": isinstance(meta["architecture"], str), "kwargs": isinstance(meta["kwargs"], dict),
          "layout_version": _is_int(meta["layout_version"]), "layout_size": _is_int(meta["layout_size"]),
          "head_sizes": isinstance(meta["head_sizes"], (list, tuple)) and all(map(_is_int, meta["head_sizes"]))}
    for key, good in ok.items():
        if not good:
            raise ValueError(f"{path}: checkpoint metadata {key!r} must be {kinds[key]}, got {meta[key]!r}")
    if meta.get("decoding", "sample") not in DECODINGS:
        raise ValueError(f"{path}: checkpoint decoding {meta['decoding']!r} is not one of {list(DECODINGS)}")
    return payload


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def build(payload: dict[str, Any], source: str = "checkpoint") -> PolicyNetwork:
    """The network of a checked ``payload`` (see :func:`read`), weights loaded, in eval mode.

    Raises:
        ValueError: an unknown architecture (lists the known ones), a layout other than this
            engine's (or one that reads as it, :data:`READS_AS_CURRENT`), bad kwargs, missing,
            unexpected or mis-shaped weights, NaN or inf weights.
    """
    meta = payload["metadata"]
    name = meta["architecture"]
    if name not in ARCHITECTURES:
        raise ValueError(f"{source}: unknown architecture {name!r}; known: {sorted(ARCHITECTURES)}")
    if meta["layout_version"] != Layout.VERSION and meta.get("config") not in READS_AS_CURRENT.get(
            meta["layout_version"], ()):
        raise ValueError(f"{source}: trained on observation layout version {meta['layout_version']}, "
                         f"this engine writes version {Layout.VERSION}")
    try:
        net = ARCHITECTURES[name](**meta["kwargs"])
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{source}: architecture {name!r} rejects kwargs {meta['kwargs']}: {err}") from None
    if net.layout.size != meta["layout_size"] or list(net.head_sizes) != list(meta["head_sizes"]):
        raise ValueError(f"{source}: layout size {meta['layout_size']} and heads {meta['head_sizes']} do not match "
                         f"the architecture's {net.layout.size} and {net.head_sizes}")
    state = payload["state_dict"]
    expected = net.state_dict()
    if not isinstance(state, dict) or set(state) != set(expected):
        got = set(state) if isinstance(state, dict) else set()
        raise ValueError(f"{source}: weights do not match {name!r}: missing {sorted(set(expected) - got)[:5]}, "
                         f"unexpected {sorted(got - set(expected))[:5]}")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor) or value.shape != expected[key].shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{source}: weight {key!r} has shape {shape}, {name!r} expects "
                             f"{tuple(expected[key].shape)}")
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ValueError(f"{source}: weight {key!r} holds NaN or inf values")
    net.load_state_dict(state)
    return net.eval()


class TorchPolicy:
    """A network played through the policy interface (``initial_state``, ``act``).

    Actions are sampled from the masked distributions with the policy's own seeded generator,
    or with ``decoding="greedy"`` each head's most likely allowed choice is taken. The LSTM
    state of a dead agent is zeroed by the network; a caller starting a new episode calls
    :meth:`initial_state` again.

    Args:
        net: the network (its layout must be the env's).
        seed: seed of the sampling generator.
        device: torch device for the forward pass.
        metadata: the checkpoint's metadata, kept for display.
        decoding: one of :data:`DECODINGS`.

    Raises:
        ValueError: an unknown ``decoding``.
    """

    def __init__(self, net: PolicyNetwork, seed: int = 0, device: str = "cpu", metadata: dict | None = None,
                 decoding: str = "sample"):
        if decoding not in DECODINGS:
            raise ValueError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")
        self.decoding = decoding
        self.net = net.to(device).eval()
        self.layout = net.layout
        self.head_sizes = np.array(net.head_sizes, np.int64)
        self.device = torch.device(device)
        self.metadata = metadata or {}
        self._generator = torch.Generator(device=self.device).manual_seed(seed)

    def initial_state(self, num_agents: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.initial_state(num_agents, self.device)

    def act(self, observations: np.ndarray, state: tuple[torch.Tensor, torch.Tensor]
            ) -> tuple[np.ndarray, tuple[torch.Tensor, torch.Tensor]]:
        """``observations`` ``(B, layout.size)`` uint8 -> actions ``(B, heads)`` int32, new state.

        Raises:
            ValueError: observations of another width than the network's layout.
        """
        if observations.ndim != 2 or observations.shape[1] != self.layout.size:
            raise ValueError(f"observations must be (agents, {self.layout.size}) for this policy's layout, "
                             f"got {observations.shape}")
        with torch.inference_mode():
            obs = torch.from_numpy(observations).to(self.device)
            logits, _, state = self.net.step(obs, state)
            if self.decoding == "greedy":  # forbidden choices have logits of -1e9
                actions = torch.stack([y.argmax(-1) for y in logits], 1)
            else:
                actions, _ = sample(logits, self._generator)
        return actions.to(torch.int32).cpu().numpy(), state


def load_policy(path: str | Path, seed: int = 0, device: str = "cpu") -> TorchPolicy:
    """A ready :class:`TorchPolicy` from the checkpoint at ``path``, acting by the checkpoint's
    ``decoding`` (see :func:`read` and :func:`build` for what is checked and raised)."""
    payload = read(path)
    meta = payload["metadata"]
    return TorchPolicy(build(payload, str(path)), seed=seed, device=device, metadata=meta,
                       decoding=meta.get("decoding", "sample"))


def export(source: str | Path, target: str | Path, decoding: str | None = None) -> Path:
    """Write ``source``'s network and metadata, without the optimizer and trainer state, to
    ``target`` (the form checkpoints ship and get submitted in: a tenth of the size), with
    ``decoding`` (one of :data:`DECODINGS`; None keeps the source's) in the metadata. The
    network is built and checked first (:func:`read`, :func:`build`); returns ``target``.

    Raises:
        ValueError: an unknown ``decoding``, a source :func:`read` or :func:`build` rejects, or
            ``target`` naming the source while it holds optimizer or trainer state (which the
            export would drop: what ``resume=`` continues a run from).
    """
    if decoding is not None and decoding not in DECODINGS:
        raise ValueError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}")
    payload = read(source)
    state = payload.get("optimizer") or payload.get("trainer")
    if state and Path(target).exists() and os.path.samefile(source, target):
        raise ValueError(f"target {str(target)!r} is the source, whose optimizer and trainer state (what resume= "
                         f"continues a run from) the export would drop; give another target")
    meta = dict(payload["metadata"])
    if decoding is not None:
        meta["decoding"] = decoding
    return save(target, build(payload, str(source)), meta)


def main(argv: list[str] | None = None) -> int:
    """``python -m baselines.checkpoint export SOURCE TARGET``: see :func:`export`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m baselines.checkpoint", description="checkpoint tools")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="weights and metadata only (no optimizer or trainer state)")
    p.add_argument("source", type=Path)
    p.add_argument("target", type=Path)
    p.add_argument("--decoding", choices=DECODINGS, help="how the exported policy picks actions when played "
                   "(default: the source's, else sample)")
    args = parser.parse_args(argv)
    try:
        print(export(args.source, args.target, args.decoding))
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    run(main, "python -m baselines.checkpoint")
