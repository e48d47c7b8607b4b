"""Fixtures shared by the test modules."""

import importlib.util
import os
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def require_browser() -> None:
    """Skip (or fail, with METAMMO_REQUIRE_BROWSER=1) when no browser can be driven."""
    reason = None
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        reason = "the playwright package is not installed"
    if reason is not None:
        if os.environ.get("METAMMO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"METAMMO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium context (playwright) for a module's pages, or skip (see
    :func:`require_browser`)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1200, "height": 800})
        yield context
        context.close()


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module: the test machine's 2 cores are shared (xdist workers),
    and torch's thread pool slows down badly when another process takes a core."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
