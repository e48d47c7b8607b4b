"""Suites: the versioned, declarative lists of scenarios a submission is scored on.

A suite is a YAML file (the built-in ``quick`` and ``standard`` are in ``leaderboard/suites/``;
any other path works too)::

    suite: quick                 # name, stored with every episode
    version: 1                   # bump on any change that alters scores
    seed: 1000000                # episode e of every scenario plays seed + e
    replays: 1                   # first episodes of each scenario kept as replays, per entry
    normalize:                   # per config: which reference entries score 0 and 1
      mini: {zero: random, one: generalist}
    scenarios:                   # Melting Pot style: the submission plays the focal slots
      - {game: team_battle, config: mini, focal: half, background: scripted, episodes: 4}
      - {game: multitask, config: full, focal: all, episodes: 4}
    pvp:                         # the rating round's games (entries share the episodes)
      - {game: team_battle, config: mini, episodes: 2}

Scenarios and PvP games may also give ``overrides``, engine config keys (``{horizon: 64}``).
``focal: half``: the submission plays every other team (every other agent in games without
teams) and ``background`` the rest, sides swapping each episode (:class:`baselines.evaluate.Match`);
``focal: all``: the submission plays every agent (no ``background``). Backgrounds are reference
entries (:data:`REFERENCES`). Every episode runs with the games' evaluation settings: preset
``eval`` (held-out maps, the preset's difficulty level), randomization off.

A checkpoint plays the scenarios of the config it was trained on (its observation layout); the
registered bots play every scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUITE_DIR = Path(__file__).parent / "suites"
#: The built-in suites, by name.
SUITES = ("quick", "standard")

#: The reference entries of every leaderboard: name -> (registered policy, or None for the
#: shipped checkpoint :data:`GENERALIST`; the config it plays, None for any). They are the
#: backgrounds and the normalization points.
REFERENCES: dict[str, tuple[str | None, str | None]] = {
    "random": ("random", None),
    "scripted": ("scripted", None),
    "generalist": (None, "mini"),
}
#: The reference generalist: ``python -m baselines.train experiment=generalist_mini``.
GENERALIST = Path(__file__).parent.parent / "baselines" / "checkpoints" / "generalist_mini.pt"
#: The PvP anchor: present in every rating round, its rating fixed at the prior.
ANCHOR = "scripted"
FOCAL = ("half", "all")
CONFIGS = ("mini", "full")


@dataclass(frozen=True)
class Scenario:
    game: str
    config: str
    focal: str  # "half" or "all"
    background: str | None  # a reference entry when focal is "half"
    episodes: int
    overrides: dict  # engine config keys (e.g. a shorter horizon)

    @property
    def name(self) -> str:
        """``game/config/background`` (``game/config/alone`` for ``focal: all``)."""
        return f"{self.game}/{self.config}/{self.background or 'alone'}"

    @property
    def column(self) -> str:
        """The score table's column: ``game/config``."""
        return f"{self.game}/{self.config}"


@dataclass(frozen=True)
class PvP:
    game: str
    config: str
    episodes: int
    overrides: dict

    @property
    def name(self) -> str:
        return f"pvp/{self.game}/{self.config}"


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    seed: int
    replays: int
    normalize: dict[str, tuple[str, str]]  # config -> (zero entry, one entry)
    scenarios: tuple[Scenario, ...]
    pvp: tuple[PvP, ...]

    def scenarios_for(self, config: str | None) -> list[Scenario]:
        """The scenarios an entry playing ``config`` (None: any config) plays."""
        return [s for s in self.scenarios if config is None or s.config == config]

    def pvp_for(self, config: str | None) -> list[PvP]:
        return [p for p in self.pvp if config is None or p.config == config]


def load(name_or_path: str | Path) -> Suite:
    """The suite named ``name_or_path`` (one of :data:`SUITES`) or in that YAML file.

    Raises:
        ValueError: neither a built-in suite nor a file, or a file that breaks the format
            above; the message names the key, the bad value and what is allowed.
    """
    path = SUITE_DIR / f"{name_or_path}.yaml" if str(name_or_path) in SUITES else Path(name_or_path)
    if not path.is_file():
        raise ValueError(f"unknown suite {str(name_or_path)!r}: neither a built-in suite {list(SUITES)} nor a file")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ValueError(f"suite {path}: not valid YAML ({err})") from None
    try:
        return parse(data)
    except ValueError as err:
        raise ValueError(f"suite {path}: {err}") from None


def parse(data: Any) -> Suite:
    """The :class:`Suite` in ``data`` (a suite file's parsed YAML); raises ``ValueError``."""
    from metammo.game import game_class, game_names

    known_games = game_names()
    top = _mapping(data, "the suite", {"suite", "version", "seed", "replays", "normalize", "scenarios", "pvp"},
                   {"suite", "version", "scenarios"})
    name = top["suite"]
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"'suite' must be a name of letters, digits, - and _, got {name!r}")
    version, seed, replays = (_integer(top, key, low, default) for key, low, default in
                              (("version", 1, None), ("seed", 0, 0), ("replays", 0, 1)))

    def game_config(entry: dict, where: str) -> tuple[str, str]:
        game, config = entry["game"], entry["config"]
        for key, value in (("game", game), ("config", config)):
            if not isinstance(value, str):
                raise ValueError(f"{where}: '{key}' must be a name, got {value!r}")
        if game not in known_games:
            raise ValueError(f"{where}: unknown game {game!r}; known games: {known_games}")
        configs = game_class(game).configs
        if config not in configs:
            raise ValueError(f"{where}: game {game!r} does not support config {config!r}; "
                             f"it supports {list(configs)}")
        return game, config

    scenarios = []
    if not isinstance(top["scenarios"], list) or not top["scenarios"]:
        raise ValueError("'scenarios' must be a non-empty list")
    for i, raw in enumerate(top["scenarios"]):
        where = f"scenario {i}"
        entry = _mapping(raw, where, {"game", "config", "focal", "background", "episodes", "overrides"},
                         {"game", "config", "focal", "episodes"})
        game, config = game_config(entry, where)
        focal, background = entry["focal"], entry.get("background")
        if not isinstance(focal, str) or focal not in FOCAL:
            raise ValueError(f"{where}: 'focal' must be one of {list(FOCAL)}, got {focal!r}")
        if focal == "half" and (not isinstance(background, str) or background not in REFERENCES):
            raise ValueError(f"{where}: 'background' must be a reference entry {list(REFERENCES)} with focal: half, "
                             f"got {background!r}")
        if focal == "half" and REFERENCES[background][1] not in (None, config):
            raise ValueError(f"{where}: background {background!r} plays only the {REFERENCES[background][1]} config")
        if focal == "all" and background is not None:
            raise ValueError(f"{where}: focal: all leaves no slots for background {background!r}; drop the key")
        scenarios.append(Scenario(game, config, focal, background, _integer(entry, "episodes", 1, None, where),
                                  _overrides(entry, config, where)))
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenarios repeat: {sorted({n for n in names if names.count(n) > 1})}")

    normalize = {}
    raw_norm = top.get("normalize") or {}
    if not isinstance(raw_norm, dict):
        raise ValueError(f"'normalize' must map configs to {{zero: ENTRY, one: ENTRY}}, got {raw_norm!r}")
    for config, pair in raw_norm.items():
        if config not in CONFIGS:
            raise ValueError(f"normalize: unknown config {config!r}; configs: {list(CONFIGS)}")
        pair = _mapping(pair, f"normalize.{config}", {"zero", "one"}, {"zero", "one"})
        for key in ("zero", "one"):
            if not isinstance(pair[key], str) or pair[key] not in REFERENCES or REFERENCES[pair[key]][1] not in (None, config):
                allowed = [n for n, (_, c) in REFERENCES.items() if c in (None, config)]
                raise ValueError(f"normalize.{config}.{key} must be a reference entry playing {config}: {allowed}; "
                                 f"got {pair[key]!r}")
        if pair["zero"] == pair["one"]:
            raise ValueError(f"normalize.{config}: zero and one must be different entries, both are {pair['zero']!r}")
        normalize[config] = (pair["zero"], pair["one"])
    missing = sorted({s.config for s in scenarios} - set(normalize))
    if missing:
        raise ValueError(f"'normalize' lacks the scenarios' configs {missing}")

    pvp = []
    for i, raw in enumerate(top.get("pvp") or []):
        where = f"pvp {i}"
        entry = _mapping(raw, where, {"game", "config", "episodes", "overrides"}, {"game", "config", "episodes"})
        game, config = game_config(entry, where)
        pvp.append(PvP(game, config, _integer(entry, "episodes", 1, None, where), _overrides(entry, config, where)))
    return Suite(name, version, seed, replays, normalize, tuple(scenarios), tuple(pvp))


def _mapping(value: Any, where: str, allowed: set[str], required: set[str]) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping with keys {sorted(allowed)}, got {value!r}")
    unknown, missing = set(value) - allowed, required - set(value)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    if missing:
        raise ValueError(f"{where}: missing keys {sorted(missing)}")
    return value


def _overrides(entry: dict, config: str, where: str) -> dict:
    from metammo.config import check_overrides

    return check_overrides(config, entry.get("overrides") or {}, f"{where}: 'overrides'")


def _integer(entry: dict, key: str, low: int, default: int | None, where: str = "the suite") -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{where}: {key!r} must be an integer >= {low}, got {value!r}")
    return value
