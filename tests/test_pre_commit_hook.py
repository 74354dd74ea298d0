"""The pre-commit hook (.pre-commit-hooks.yaml), run by the real `pre-commit` tool.

A temporary debug-storage repository uses this checkout's committed HEAD as its
hook repository, exactly as users point at a tag: pre-commit clones it and
installs dumpguard into its own environment (from the package registry, so
this test takes a minute the first time).  A commit adding a dump that holds a
private key is refused; once the dump is gone, a clean dump commits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=check, timeout=60
    )


def committed_head() -> str:
    if not (REPO / ".git").exists():
        pytest.skip("the checkout is not a git repository")
    tracked = git(REPO, "ls-tree", "--name-only", "HEAD", ".pre-commit-hooks.yaml").stdout
    if not tracked.strip():
        pytest.skip(".pre-commit-hooks.yaml is not committed yet in this checkout")
    return git(REPO, "rev-parse", "HEAD").stdout.strip()


def test_commit_with_a_key_dump_is_refused_and_allowed_once_it_is_gone(
    samples_out: Path, tmp_path: Path
) -> None:
    head = committed_head()
    storage = tmp_path / "debug-storage"
    storage.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    git(storage, "init", "-q", "-b", "main")
    (storage / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n      - id: dumpguard\n"
    )
    pre_commit = [sys.executable, "-m", "pre_commit"]
    subprocess.run([*pre_commit, "install"], cwd=storage, env=env, check=True, timeout=60)

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "commit", "-q", "-m", message],
            check=False,
            cwd=storage,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    shutil.copy(samples_out / "dumps" / "python-pem.core", storage / "crash.core")
    git(storage, "add", ".pre-commit-config.yaml", "crash.core")
    refused = commit("add crash dump")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "crash.core" in output
    assert "private key" in output
    assert git(storage, "rev-parse", "--verify", "HEAD", check=False).returncode != 0

    git(storage, "rm", "-q", "--cached", "crash.core")
    (storage / "crash.core").unlink()
    shutil.copy(samples_out / "dumps" / "sleep.core", storage / "sleep.core")
    git(storage, "add", "sleep.core")
    allowed = commit("add a clean dump")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert git(storage, "ls-tree", "--name-only", "HEAD").stdout.split() == [
        ".pre-commit-config.yaml",
        "sleep.core",
    ]
