"""The replay viewer (metammo/viewer/index.html) in a real browser: headless Chromium driven by
playwright opens a page written by ``python -m metammo.replay view`` from disk; the replay
loads, playing advances the tick counter, scrubbing changes the picture, clicking an agent
shows its panel, overlays draw, and a screenshot is not blank.

Skipped when ``/usr/bin/chromium`` (or the playwright package) is missing, unless the
environment sets ``METAMMO_REQUIRE_BROWSER=1`` (as CI does): then those tests fail."""

from __future__ import annotations

from pathlib import Path

import pytest

import metammo
from metammo import replay as rp
from metammo.policy import make_policy

TEMPLATE = Path(rp.__file__).parent / "viewer" / "index.html"


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    """Four teams of the scripted bot for 120 ticks, the death fog rising from tick 60."""
    env = metammo.make("sandbox", "mini", seed=0, record=True, num_agents=32, team_size=8, max_npcs=32,
                       npc_count=32, max_map_size=48, map_size=48, horizon=120, fog=True, fog_onset=60,
                       fog_speed=0.25)
    policy = make_policy("scripted", env.layout, env.head_sizes, seed=0)
    env.recorder.policies = "scripted"
    obs, _ = env.reset(0)
    state = policy.initial_state(env.num_agents)
    while env.last_replay is None:
        actions, state = policy.act(obs, state)
        obs, *_ = env.step(actions)
    assert env.last_replay.length == 120
    folder = tmp_path_factory.mktemp("viewer")
    path = env.last_replay.save(folder / ("battle" + rp.SUFFIX))
    assert rp.main(["view", str(path)]) == 0
    return folder / "battle.html"


def open_page(browser, url: str, state: str = "ready"):
    page = browser.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url)
    page.wait_for_function(f"document.body.dataset.state === '{state}'", timeout=15_000)
    return page


@pytest.fixture
def page(browser, page_file):
    page = open_page(browser, page_file.as_uri())
    yield page
    assert page.errors == []
    page.close()


def picture(page) -> str:
    return page.evaluate("document.getElementById('map').toDataURL()")


def test_the_replay_loads(page):
    length = page.evaluate("viewer.length")
    assert length > 10
    assert page.inner_text("#tick") == f"tick 0 / {length}"
    assert page.inner_text("#title") == "sandbox · mini"
    assert "policy: scripted" in page.inner_text("#facts")
    assert page.is_hidden("#error")


def test_playing_advances_the_tick_counter(page):
    page.select_option("#speed", "60")
    page.click("#play")
    page.wait_for_function("viewer.tick >= 5", timeout=10_000)
    page.click("#play")  # pause
    paused = page.evaluate("viewer.tick")
    assert page.inner_text("#tick").startswith(f"tick {paused} /") and paused >= 5
    page.wait_for_timeout(300)
    assert page.evaluate("viewer.tick") == paused and page.inner_text("#play") == "Play"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("viewer.tick") == paused + 1


def test_scrubbing_changes_the_picture(page):
    before = picture(page)
    page.eval_on_selector("#scrub", "(el) => { el.value = '60'; el.dispatchEvent(new Event('input')); }")
    assert page.evaluate("viewer.tick") == 60
    assert page.inner_text("#tick").startswith("tick 60 /")
    after = picture(page)
    assert after != before
    page.eval_on_selector("#scrub", "(el) => { el.value = '0'; el.dispatchEvent(new Event('input')); }")
    assert picture(page) == before  # scrubbing back restores the map, tile changes undone


def test_clicking_an_agent_shows_its_panel_and_trail(page):
    page.evaluate("viewer.setTick(30)")
    agent = page.evaluate("viewer.aliveAgents()")[0]
    without_trail = picture(page)
    spot = page.evaluate(f"viewer.clientPosition({agent})")
    page.mouse.click(spot["x"], spot["y"])
    assert page.evaluate("viewer.selected") == agent
    assert page.is_visible("#panel")
    assert page.text_content("#panel-title") == f"agent {agent}"
    stats = page.inner_text("#stats")
    for row in ("team", "policy\tscripted", "health", "food", "water", "kills / deaths", "damage dealt / taken"):
        assert row in stats
    assert picture(page) != without_trail  # selection ring and trail
    page.click("#deselect")
    assert page.is_hidden("#panel") and page.evaluate("viewer.selected") == -1


def test_overlays_change_the_picture(page):
    page.evaluate("viewer.setTick(140)")  # the fog has risen 20 rings
    plain = picture(page)
    page.uncheck("#show-fog")
    assert picture(page) != plain
    page.check("#show-fog")
    assert picture(page) == plain
    page.select_option("#heatmap", "all")
    assert picture(page) != plain
    team = page.eval_on_selector("#heatmap", "(el) => el.options[2].value")
    page.select_option("#heatmap", team)
    assert picture(page) != plain


def test_a_screenshot_is_not_blank(page, tmp_path):
    page.evaluate("viewer.setTick(50)")
    shot = tmp_path / "viewer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    colours = page.evaluate("""() => {
        const c = document.getElementById('map'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let k = 0; k < d.length; k += 4 * 97) seen.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
        return seen.size;
    }""")
    assert colours > 20


def test_the_bare_template_explains_how_to_embed_a_replay(browser):
    page = open_page(browser, TEMPLATE.as_uri(), state="error")
    assert "python -m metammo.replay view" in page.inner_text("#error")
    page.close()
