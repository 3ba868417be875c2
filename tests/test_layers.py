"""The house's structure stays as drawn in ARCHITECTURE.md: no arrow back up, no circle, no room too big."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "check_layers.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_no_arrow_back_up_no_circle_and_no_oversized_module_or_function():
    result = run_check("--sizes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 fault(s)" in result.stderr


def test_the_check_finds_an_upward_import():
    """The checker is not blind: a service importing the real-time layer is reported."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import check_layers
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    edges = {"launch.services.wall": {"launch.realtime.sequence"}, "launch.realtime.sequence": set(),
             "launch.services.a": {"launch.services.b"}, "launch.services.b": {"launch.services.a"}}
    faults = check_layers.layer_faults(edges)
    assert any("arrow back up: launch.services.wall" in f for f in faults), faults
    assert any("circle between modules: launch.services.a <-> launch.services.b" in f for f in faults), faults
