"""Session fixtures that build real artifacts once: sample dumps and planted-key files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SARIF_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not here (it is only in the project's CI and sessions)")
    return CORPUS


@pytest.fixture(scope="session")
def samples_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """samples/make_samples.py run once per session: gcore dumps, planted files, containers."""
    if shutil.which("gcore") is None:
        pytest.skip("gdb's gcore is not installed (make test installs it)")
    out = tmp_path_factory.mktemp("samples") / "out"
    subprocess.run(
        [sys.executable, str(REPO / "samples" / "make_samples.py"), "--out", str(out)],
        check=True,
        timeout=600,
    )
    return out


@pytest.fixture(scope="session")
def manifest(samples_out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((samples_out / "manifest.json").read_text())
    return data
