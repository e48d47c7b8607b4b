"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module: the test machine's 2 cores are shared (xdist workers),
    and torch's thread pool slows down badly when another process takes a core."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
