"""`confirmnet demo` run to completion on anvil, checked as on the in-process chain (test_demo.py);
a file of its own, so that two workers run the two seasons side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_demo import run_a_season


@pytest.mark.slow
@pytest.mark.anvil
def test_demo_runs_a_season_to_the_end_on_anvil(tmp_path: Path) -> None:
    run_a_season(tmp_path, embedded=False)
