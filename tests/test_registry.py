"""The game registry (:mod:`metammo.game`) with faulty third-party packages installed: broken
entry points, entry points that are no games, and names two packages claim."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import metammo
import metammo.game as registry
from metammo.game import game_class, games, packs, register
from metammo.sandbox import Sandbox
from leaderboard.suite import parse
from minigames.team_battle import TeamBattle

REPO = Path(__file__).resolve().parents[1]
BROKEN = ("[metammo.minigames]\nbroken = nonexistent_mod:Game\nnotagame = json:dumps\n"
          "[metammo.game_packs]\na_broken_pack = nonexistent_mod:PACK\n")


def write_package(root: Path, dist: str, entry_points_txt: str) -> Path:
    """A package ``dist`` as pip would install it under ``root``: only its ``*.dist-info`` folder
    with ``entry_points_txt``; returns ``root`` (the folder to put on ``sys.path``)."""
    info = root / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(entry_points_txt)
    (info / "RECORD").write_text("")
    return root


@pytest.fixture
def install(tmp_path, monkeypatch):
    """``install(dist, entry_points_txt)``: that package is installed until the test ends."""
    def install(dist: str, entry_points_txt: str) -> None:
        monkeypatch.syspath_prepend(str(write_package(tmp_path / dist, dist, entry_points_txt)))
    return install


def test_broken_plugin_does_not_stop_the_other_games(install):
    install("tp-broken", BROKEN)
    assert metammo.make("team_battle", "mini", seed=0).game.name == "team_battle"
    assert game_class("sandbox") is Sandbox
    with pytest.raises(ValueError) as err:
        metammo.make("broken", "mini")
    message = str(err.value)
    for part in ("game 'broken'", "'nonexistent_mod:Game'", "package 'tp-broken'",
                 "ModuleNotFoundError", "nonexistent_mod"):
        assert part in message, message
    with pytest.raises(ValueError, match="game 'broken': cannot load entry point"):
        games()
    # unknown names list the known ones from the entry-point names, loading none of them
    with pytest.raises(ValueError, match="unknown game 'nope'") as err:
        game_class("nope")
    assert "'broken'" in str(err.value) and "'team_battle'" in str(err.value)
    assert "mini_generalist" in str(err.value)
    with pytest.raises(ValueError, match="game name 'broken' is already registered"):
        register("broken", Sandbox)


def test_entry_point_that_is_not_a_game(install):
    install("tp-broken", BROKEN)
    with pytest.raises(ValueError) as err:
        metammo.make("notagame", "mini")
    message = str(err.value)
    for part in ("game 'notagame'", "'json:dumps'", "package 'tp-broken'", "not a subclass of metammo.game.Game"):
        assert part in message, message
    assert metammo.make("sandbox", "mini", seed=0).game.name == "sandbox"


def test_a_name_two_packages_claim_is_refused(install):
    install("tp-clash", "[metammo.minigames]\nteam_battle = metammo.sandbox:Sandbox\n")
    with pytest.raises(ValueError, match="game 'team_battle' is registered by 2 entry points") as err:
        metammo.make("team_battle", "mini")
    message = str(err.value)
    assert "'minigames.team_battle:TeamBattle' from package 'metammo'" in message, message
    assert "'metammo.sandbox:Sandbox' from package 'tp-clash'" in message, message
    assert game_class("sandbox") is Sandbox
    with pytest.raises(ValueError, match="game name 'team_battle' is already registered"):
        register("team_battle", Sandbox)


def test_broken_pack_plugin_does_not_stop_the_other_games_and_packs(install):
    install("tp-packs", "[metammo.game_packs]\nbroken_pack = nonexistent_mod:PACK\nnot_a_pack = json:dumps\n")
    assert metammo.make("team_battle", "mini", seed=0).game.name == "team_battle"
    assert [g.name for g in metammo.make("mini_generalist", "mini", seed=0).games][0] == "team_battle"
    with pytest.raises(ValueError, match=r"game pack 'broken_pack': cannot load entry point 'nonexistent_mod:PACK' "
                                         r"from package 'tp-packs' \(ModuleNotFoundError"):
        metammo.make("broken_pack", "mini")
    with pytest.raises(ValueError, match=r"game pack 'not_a_pack' must be a sequence of game names, got <function"):
        metammo.make("not_a_pack", "mini")
    with pytest.raises(ValueError, match=r"game pack 'broken_pack': cannot load"):
        packs()


def test_the_same_package_listed_twice_is_no_clash(monkeypatch):
    # a distribution on sys.path twice (an editable install and the source tree) lists its
    # entry points twice
    monkeypatch.setattr(registry, "entry_points", lambda group: [*entry_points(group=group)] * 2)
    assert game_class("team_battle") is TeamBattle
    assert games()["team_battle"] is TeamBattle
    assert "team_battle" in packs()["mini_generalist"]


def test_list_reports_a_broken_plugin_and_lists_the_rest(tmp_path):
    env = dict(os.environ)
    root = write_package(tmp_path, "tp-broken", BROKEN)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-m", "minigames", "list"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, (out.stdout, out.stderr)
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.startswith("  ")}
    assert {"sandbox", "team_battle", "survival", "mini_generalist", "full_generalist"} <= listed, out.stdout
    assert not {"broken", "notagame", "a_broken_pack"} & listed, out.stdout
    errors = out.stderr.splitlines()
    assert any("game pack 'a_broken_pack'" in line for line in errors), out.stderr
    assert any("game 'broken'" in line and "ModuleNotFoundError" in line for line in errors), out.stderr
    assert any("game 'notagame'" in line and "not a subclass" in line for line in errors), out.stderr


def test_a_suite_reads_only_the_games_it_names(install):
    install("tp-broken", BROKEN)
    scenario = {"config": "mini", "focal": "half", "background": "scripted", "episodes": 2}
    norm = {"normalize": {"mini": {"zero": "random", "one": "scripted"}}}
    suite = parse({"suite": "s", "version": 1, **norm, "scenarios": [{"game": "team_battle", **scenario}]})
    assert suite.scenarios[0].game == "team_battle"
    with pytest.raises(ValueError, match="game 'broken': cannot load entry point"):
        parse({"suite": "s", "version": 1, **norm, "scenarios": [{"game": "broken", **scenario}]})


def test_a_game_is_registered_under_its_own_name(install):
    install("tp-alias", "[metammo.minigames]\nteam_battle_alias = minigames.team_battle:TeamBattle\n")
    with pytest.raises(ValueError) as err:
        metammo.make("team_battle_alias", "mini")
    message = str(err.value)
    for part in ("game 'team_battle_alias'", "'minigames.team_battle:TeamBattle' from package 'tp-alias'",
                 "minigames.team_battle.TeamBattle", "name attribute is 'team_battle'"):
        assert part in message, message
    with pytest.raises(ValueError, match="game 'sandbox_copy': register.. gives class metammo.sandbox.Sandbox, "
                                         "whose name attribute is 'sandbox'"):
        register("sandbox_copy", Sandbox)
    assert "sandbox_copy" not in registry.game_names()
