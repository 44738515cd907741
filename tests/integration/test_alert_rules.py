"""deploy/: promtool (on the PATH, or fetched into .tools) accepts the alert rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy_metrics import ROOT, RULES, rule_expressions

PROMTOOL = ROOT / ".tools" / "bin" / "promtool"


@pytest.fixture(scope="module")
def promtool() -> Path:
    found = shutil.which("promtool")
    if found:
        return Path(found)
    if not PROMTOOL.exists():
        subprocess.run(
            [str(ROOT / "deploy" / "prometheus" / "fetch-promtool.sh"), str(PROMTOOL)], check=True
        )
    return PROMTOOL


def test_promtool_accepts_the_rules(promtool: Path) -> None:
    """`promtool check rules` finds every rule valid."""
    result = subprocess.run(
        [str(promtool), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rule_expressions())} rules found" in result.stdout
