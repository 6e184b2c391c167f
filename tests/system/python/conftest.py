# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by the Python tests: where the build tree is, and channel names no other test uses."""
import itertools
import os
import pathlib

import pytest

_counter = itertools.count()


@pytest.fixture
def build_dir() -> pathlib.Path:
    """The build tree (ctest sets DHUB_BUILD_DIR)."""
    return pathlib.Path(os.environ.get("DHUB_BUILD_DIR", pathlib.Path(__file__).resolve().parents[3] / "build"))


@pytest.fixture
def channel_name(request) -> str:
    """A channel name of this test alone (pid and a counter: tests run in parallel under ctest)."""
    return f"pytest.{request.node.name[:40].replace('[', '.').replace(']', '')}.{os.getpid()}.{next(_counter)}"
