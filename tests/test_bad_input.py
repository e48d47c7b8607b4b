"""Bad input meets a clear error (a ValueError from the library, a one-line ``parser.error`` from
a command line) naming what was wrong and what is allowed; and command-line options that are
given twice add up (``--set`` twice, each key once)."""

import json

import numpy as np
import pytest
import yaml

import metammo
from metammo import bench, rollout
from metammo.tasks import load_curriculum
from minigames.randomization import parse

#: a small, quick world for the command lines
SMALL = ["--set", "num_agents=8", "max_npcs=8", "npc_count=8", "max_map_size=32", "map_size=32"]


def cli_error(main, argv: list[str], capsys) -> str:
    """The one-line error a command line exits with (status 2), not a traceback."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


# --- the command lines ---------------------------------------------------------------------------


def test_rollout_repeated_set_adds_up(capsys):
    assert rollout.main(["--game", "sandbox", "--json", *SMALL, "--set", "horizon=3", "--set", "fog=true"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["length"] == 3  # horizon=3 was kept although --set came again


def test_bench_repeated_set_adds_up_and_takes_a_comma_list(capsys):
    """--game takes a comma list as rollout does, and the run has difficulty levels: adaptive."""
    argv = ["--game", "team_battle,sandwich", "--agents", "32", "--seconds", "0.2", "--json",
            "--set", "horizon=10", "--set", "fog=false"]
    assert bench.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["game"] == "team_battle,sandwich" and result["agents"] == 32
    assert result["overrides"] == {"horizon": 10, "fog": False}
    assert set(result["difficulty_ticks"]) <= {"team_battle", "sandwich"}
    assert result["difficulty"] == "adaptive"


def test_bench_difficulty_is_none_without_levels(capsys):
    assert bench.main(["--game", "sandbox", "--agents", "8", "--seconds", "0.1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["difficulty"] == "none"


def test_bench_help_names_packs_and_lists(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "game pack, or comma-separated games" in text


@pytest.mark.parametrize("main", [rollout.main, bench.main], ids=["rollout", "bench"])
def test_set_keys_must_be_config_keys(main, capsys):
    """--set reaches only config keys, never make's other keywords (seed, weights ...)."""
    msg = cli_error(main, ["--set", "horizon=3", "--set", "seed=1"], capsys)
    assert "--set" in msg and "unknown config key(s) ['seed']" in msg and "'horizon'" in msg


def test_bench_agent_count_comes_from_agents(capsys):
    msg = cli_error(bench.main, ["--seconds", "0.1", "--set", "num_agents=16"], capsys)
    assert msg.endswith("error: --set num_agents: give the agent count with --agents")


@pytest.mark.parametrize("slash", ["", "/"], ids=["plain", "trailing-slash"])
def test_rollout_replay_into_a_folder_fails_up_front(tmp_path, slash, capsys):
    msg = cli_error(rollout.main, ["--set", "horizon=3", *SMALL, "--replay", f"{tmp_path}{slash}"], capsys)
    assert f"--replay '{tmp_path}{slash}' is a folder; give the path of a file" in msg
    assert list(tmp_path.iterdir()) == []  # nothing ran, nothing written


@pytest.mark.parametrize("where", ["file", "long"])
def test_rollout_replay_that_cannot_be_written_fails_up_front(tmp_path, where, capsys):
    if where == "file":
        (tmp_path / "x.txt").write_text("")
        path, problem = tmp_path / "x.txt" / "ep.replay.json.xz", f"its folder {tmp_path / 'x.txt'} is not a folder"
    else:
        path, problem = tmp_path / ("e" * 300 + ".replay.json.xz"), "File name too long"
    msg = cli_error(rollout.main, ["--set", "horizon=3", *SMALL, "--replay", str(path)], capsys)
    assert msg.startswith("python -m metammo.rollout: error: --replay") and problem in msg, msg
    assert [p.name for p in tmp_path.iterdir()] == (["x.txt"] if where == "file" else [])


def test_rollout_replay_checks_every_episode_folder_its_pattern_names(tmp_path, capsys):
    (tmp_path / "d2").mkdir()
    msg = cli_error(rollout.main, ["--set", "horizon=3", *SMALL, "--episodes", "2", "--replay",
                                   str(tmp_path / "d{episode}" / "ep.replay.json.xz")], capsys)
    assert f"its folder {tmp_path / 'd1'} does not exist" in msg, msg


def test_bench_times_at_least_one_tick(capsys):
    assert bench.main(["--game", "sandbox", "--agents", "8", "--seconds", "1e-9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["env_steps"] >= 1


def test_rollout_replay_to_a_new_folder_with_a_slash_fails(tmp_path, capsys):
    msg = cli_error(rollout.main, ["--replay", f"{tmp_path}/new/"], capsys)
    assert "is a folder" in msg and not (tmp_path / "new").exists()


@pytest.mark.parametrize("main", [rollout.main, bench.main], ids=["rollout", "bench"])
def test_a_pack_cannot_be_listed_with_other_names(main, capsys):
    msg = cli_error(main, ["--game", "mini_generalist,sandbox"], capsys)
    assert "'mini_generalist' is a game pack: packs cannot be listed with other names" in msg
    assert "list game names instead" in msg and "team_battle" in msg


# --- metammo.make ------------------------------------------------------------------------------


@pytest.mark.parametrize("game", [["mini_generalist"], ("sandbox", "full_generalist")])
def test_make_pack_in_a_list(game):
    with pytest.raises(ValueError, match="is a game pack: packs cannot be listed with other names"):
        metammo.make(game)


@pytest.mark.parametrize("game", [5, None, 2.5, {"sandbox": 1}, b"sandbox"])
def test_make_game_of_another_type(game):
    with pytest.raises(ValueError, match="game must be a game or pack name or a non-empty list of game names"):
        metammo.make(game)


@pytest.mark.parametrize("weights", [["a", "b", "c", "d", "e"], 3, "11111", [True] * 5, {"team_battle": 1},
                                     [[1]] * 5], ids=["strings", "int", "str", "bools", "dict", "nested"])
def test_pack_weights_of_another_type(weights):
    with pytest.raises(ValueError) as err:
        metammo.make("mini_generalist", "mini", num_agents=32, weights=weights)
    assert str(err.value).startswith("weights must be a list of numbers, one per game (5: ['team_battle',")


def test_pack_weights_take_numpy_arrays_and_tuples():
    env = metammo.make("mini_generalist", "mini", num_agents=32, weights=np.arange(1, 6))
    np.testing.assert_allclose(env.weights, np.arange(1, 6) / 15)
    env.set_weights((1, 0, 0, 0, 0.0))
    np.testing.assert_allclose(env.weights, [1, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="weights must be a list of numbers"):
        env.set_weights(7)


def test_pack_weights_near_the_float_limit_are_normalized_without_overflow():
    env = metammo.make("mini_generalist", "mini", num_agents=32, weights=[1e308] * 4 + [0.0])
    np.testing.assert_allclose(env.weights, [0.25] * 4 + [0])
    env.reset()  # samples a game from the weights


@pytest.mark.parametrize("options", ["ab", 5, [("randomize", False)], {1: True}])
def test_game_options_must_be_a_mapping_of_names(options):
    with pytest.raises(ValueError, match=r"game_options must be a mapping of option names to values"):
        metammo.make("team_battle", "mini", num_agents=16, game_options=options)


def test_a_game_option_given_twice_is_an_error():
    with pytest.raises(ValueError, match=r"game option\(s\) \['randomize'\] given both as keyword and in game_options"):
        metammo.make("team_battle", "mini", num_agents=16, randomize=False, game_options={"randomize": True})
    env = metammo.make("team_battle", "mini", num_agents=16, game_options={"randomize": False})
    assert not env.game.randomize


def test_difficulty_takes_numpy_ints_not_bools():
    env = metammo.make("team_battle", "mini", num_agents=16, difficulty=np.int64(1))
    assert env.game.difficulty == 1 and type(env.game.pinned_difficulty) is int
    for flag in (True, np.bool_(True)):
        with pytest.raises(ValueError, match=r"difficulty must be an int in \[0, 3\] or 'max'"):
            metammo.make("team_battle", "mini", num_agents=16, difficulty=flag)


# --- curriculum files --------------------------------------------------------------------------


TASK = {"name": "t/alive", "task": {"TickGE": {"n": 5}}}
OTHER = {"name": "e/eat", "task": {"CountEvent": {"event": "eat", "n": 2}}}


def make_multitask(curriculum):
    return metammo.make("multitask", "full", game_options={"curriculum": curriculum})


@pytest.mark.parametrize("folder", [False, True], ids=["absent", "folder"])
def test_missing_curriculum_is_a_value_error_naming_the_path(tmp_path, folder):
    path = tmp_path / "c.yaml"
    if folder:
        path.mkdir()
    with pytest.raises(ValueError) as err:
        make_multitask(str(path))
    assert str(err.value) == f"curriculum {path}: " + ("is a folder, not a file" if folder else "no such file")


def test_curriculum_that_is_not_a_path():
    with pytest.raises(ValueError, match=r"curriculum must be the path of a .json, .yaml or .yml file, got 5"):
        make_multitask(5)


@pytest.mark.parametrize("data, problem", [
    ({"train": [TASK], "eval": [{**TASK, "name": "e/same"}]}, "training and evaluation tasks must be disjoint"),
    ({"train": [], "eval": [OTHER]}, "the 'train' task list is empty"),
    ({"train": [TASK], "eval": []}, "the 'eval' task list is empty"),
    ({"train": [TASK], "eval": [OTHER, {"task": TASK["task"]}]}, "every task needs a non-empty 'name'; eval entry 1 has none"),
    ({"train": [TASK], "eval": [{**OTHER, "name": " "}]}, "every task needs a non-empty 'name'; eval entry 0 has none"),
    ({"train": [TASK], "eval": [{**TASK, "name": "e/same", "task": {"MUL": [1, TASK["task"]]}}]},
     "training and evaluation tasks must be disjoint; both hold ['e/same']"),
    ({"train": [TASK, {**OTHER, "name": "t/alive"}], "eval": [{**OTHER, "task": {"TickGE": {"n": 7}}}]},
     "task names must be unique across 'train' and 'eval'; given more than once: ['t/alive']"),
], ids=["overlap", "empty-train", "empty-eval", "no-name", "blank-name", "overlap-times-one", "name-twice"])
def test_curriculum_errors_name_the_file(tmp_path, data, problem):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError) as err:
        make_multitask(path)
    assert str(err.value).startswith(f"curriculum {path}: {problem}")


@pytest.mark.parametrize("suffix, text, line", [
    (".yaml", "train: [{name: a, task: {TickGE: {n: 5}}}]\neval: [{name: b, task: {TickGE: {n: 9}}}]\n"
              "train: [{name: c, task: {TickGE: {n: 7}}}]\n", "line 3: a key given twice in one mapping: 'train'"),
    (".yaml", "train: [{name: a, task: {TickGE: {n: 5, n: 6}}}]\neval: [{name: b, task: {TickGE: {n: 9}}}]\n",
     "line 1: a key given twice in one mapping: 'n'"),
    (".yaml", "train:\n  - name: a\n    task: {TickGE: {n: 5}}\n    subject: agent\n    task: {TickGE: {n: 6}}\n"
              "eval: [{name: b, task: {TickGE: {n: 9}}}]\n", "line 5: a key given twice in one mapping: 'task'"),
    (".json", '{"train": [{"name": "a", "task": {"AND": [{"TickGE": {"n": 5}}], "AND": [{"TickGE": {"n": 6}}]}}], '
              '"eval": [{"name": "b", "task": {"TickGE": {"n": 9}}}]}', "a key given twice in one mapping: 'AND'"),
], ids=["yaml-split", "yaml-argument", "yaml-line-of-the-repeat", "json-combinator"])
def test_a_curriculum_key_given_twice_is_an_error(tmp_path, suffix, text, line):
    """The parsers would keep the last value and drop the rest without a word."""
    path = tmp_path / f"c{suffix}"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        make_multitask(path)
    assert str(err.value) == f"curriculum {path}: does not parse: {line}"


def test_a_yaml_curriculum_may_merge_keys(tmp_path):
    """A merge key (``<<``) brings keys in that the mapping's own may override: no repeat."""
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  - &hit {name: c/hit3, task: {ScoreHit: {n: 3}}}\n  - <<: *hit\n    name: c/hit5\n"
                    "    task: {ScoreHit: {n: 5}}\neval:\n  - <<: [*hit]\n    name: e/hit9\n"
                    "    task: {ScoreHit: {n: 9}}\n")
    cur = load_curriculum(path)
    assert [(t.name, t.tree) for t in cur.train + cur.eval] == [
        ("c/hit3", {"ScoreHit": {"n": 3}}), ("c/hit5", {"ScoreHit": {"n": 5}}), ("e/hit9", {"ScoreHit": {"n": 9}})]


@pytest.mark.parametrize("name", [None, 5, ["a", "b"]])
def test_a_curriculum_task_name_must_be_a_string(tmp_path, name):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"train": [{**TASK, "name": name}], "eval": [OTHER]}))
    with pytest.raises(ValueError) as err:
        make_multitask(path)
    assert str(err.value) == f"curriculum {path} (train): a task's name must be a string, got {name!r}"


@pytest.mark.parametrize("split", ["train", "eval"])
def test_a_curriculum_naming_an_agent_the_env_lacks_fails_at_make(tmp_path, split):
    see = {"name": "a/see", "task": {"CanSeeAgent": {"agent": 500}}}
    data = {"train": [TASK], "eval": [OTHER]}
    data[split] = data[split] + [see]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError) as err:
        make_multitask(path)  # not at a reset mid-run, nor only when the eval preset plays
    assert str(err.value) == (f"curriculum {path} ({split}): task 'a/see': CanSeeAgent agent 500 is not an agent "
                              "of this env; agent ids are 0..127")


# --- randomization specs -----------------------------------------------------------------------


@pytest.mark.parametrize("spec, message", [
    ({"npc_count": {"integers": [200, 64]}}, "randomization of 'npc_count': need lo <= hi, got [200, 64]"),
    ({"fog_speed": {"one_over": [9, 7]}}, "randomization of 'fog_speed': need 1 <= lo <= hi, got [9, 7]"),
    ({"fog_speed": {"one_over": [0, 7]}}, "randomization of 'fog_speed': need 1 <= lo <= hi, got [0, 7]"),
    ({"water_threshold": {"uniform": [0.2, 0.1]}}, "randomization of 'water_threshold': need lo <= hi, got [0.2, 0.1]"),
    ({"water_threshold": {"uniform": [float("nan"), 0.1]}},
     "randomization of 'water_threshold': uniform's ends must be finite numbers, got [nan, 0.1]"),
    ({"water_threshold": {"uniform": [0.1, float("inf")]}},
     "randomization of 'water_threshold': uniform's ends must be finite numbers, got [0.1, inf]"),
], ids=["integers", "one-over", "one-over-zero", "uniform", "nan", "inf"])
def test_randomization_range_messages(spec, message):
    with pytest.raises(ValueError) as err:
        parse(spec)
    assert str(err.value) == message


def test_rollout_replay_under_a_file_with_a_slash_says_it_is_a_file(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    msg = cli_error(rollout.main, ["--replay", f"{tmp_path}/afile/"], capsys)
    assert f"ends with a slash, but '{tmp_path}/afile' is a file" in msg, msg  # it said "is a folder"


def test_a_set_key_given_twice_is_refused(capsys):
    msg = cli_error(bench.main, ["--seconds", "0.1", "--set", "horizon=50", "horizon=60"], capsys)
    assert "config override 'horizon' given twice: horizon=50, then horizon=60" in msg, msg  # the last had won


@pytest.mark.parametrize("argv, named", [
    (["--agents", "0"], "--agents 0: config key 'num_agents' must be in [1, 1024]"),
    (["--agents", "100", "--game", "team_battle"],
     "game 'team_battle' cannot play on this config: config key 'team_size' must divide num_agents (100)"),
    (["--seconds", "inf"], "--seconds must be a finite number > 0, got inf"),
    (["--difficulty", "\u00b2"], "--difficulty must be a level index (0, 1, ...) or 'max', got '\u00b2'"),
    (["--set", "nope=1"], "--set {'nope': 1}: unknown config key(s) ['nope']"),  # not "--agents 128: ..."
], ids=["no-agents", "agents-off-teams", "endless", "superscript-digit", "unknown-key"])
def test_bench_names_the_option_at_fault(argv, named, capsys):
    msg = cli_error(bench.main, argv, capsys)
    assert msg.startswith(f"python -m metammo.bench: error: {named}"), msg


@pytest.mark.parametrize("kwargs, named", [
    (dict(game=["team_battle", "team_battle"]), "['team_battle'] repeated in ['team_battle', 'team_battle']"),
    (dict(autoreset="no"), "autoreset must be a bool, got 'no'"),
    (dict(record=0), "record must be a bool, got 0"),
    (dict(game="team_battle", randomize=False,
          game_options={"randomization": {"fog_onset": {"integers": [-5, 2]}}}),
     "randomization of 'fog_onset': config key 'fog_onset' must be in [0, 100000], got -5"),
], ids=["repeated-game", "autoreset-a-string", "record-an-int", "unused-spec-out-of-range"])
def test_make_refuses_what_it_used_to_take_silently(kwargs, named):
    with pytest.raises(ValueError) as err:
        metammo.make(**{"game": "sandbox", **kwargs})
    assert named in str(err.value)


@pytest.mark.parametrize("text, named", [
    ("[1]", "--game-options must be a JSON object, got '[1]'"),
    ("{x", "--game-options must be a JSON object: Expecting property name"),
    ('{"curriculum": "x.yaml"}', "no game of ['sandbox'] takes option(s) ['curriculum']"),
], ids=["a-list", "not-json", "an-option-the-game-lacks"])
def test_rollout_game_options_must_be_a_json_object_of_options_the_game_takes(text, named, capsys):
    msg = cli_error(rollout.main, ["--game-options", text], capsys)
    assert named in msg, msg


def test_ctrl_c_ends_a_command_line_with_status_130_and_one_line(capsys):
    from metammo.cli import run

    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as ended:
        run(interrupted, "python -m metammo.rollout")
    assert ended.value.code == 130
    assert capsys.readouterr().err == "python -m metammo.rollout: interrupted\n"
    with pytest.raises(SystemExit) as ended:
        run(lambda: 2, "python -m metammo.rollout")
    assert ended.value.code == 2
