"""The app's own processes as deployed: the Procfile's `web:` and `scheduler:` command lines, their
environment (LAUNCH_CONFIG=production minus nginx), and the real migrations."""
from __future__ import annotations

import os
import subprocess

from tests.support.processes import BIN, ROOT, Proc, ProcSet


def procfile() -> dict[str, str]:
    """The Procfile's process types and commands."""
    out = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            name, _, cmd = line.partition(":")
            out[name.strip()] = cmd.strip()
    return out


def base_env(**values: str) -> dict[str, str]:
    """The environment of an app process: ours, the venv first on PATH, no test database variable."""
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


def production_env(db_url: str, redis_url: str, secret: str, **values: str) -> dict[str, str]:
    """LAUNCH_CONFIG=production as deployed, minus nginx (PROXY_FIX=0), with fast scheduler sweeps."""
    return base_env(**{"LAUNCH_CONFIG": "production", "SECRET_KEY": secret, "DATABASE_URL": db_url,
                       "REDIS_URL": redis_url, "PROXY_FIX": "0", "PUBLIC_BASE_URL": "http://127.0.0.1",
                       "SCHEDULER_SWEEP_SECONDS": "1", "WEB_CONNECTIONS": "200", **values})


def start_web(procs: ProcSet, name: str, port: int, env: dict[str, str]) -> Proc:
    """One `web:` process of the Procfile (its very command line, run by the shell as honcho does)."""
    return procs.start(name, "exec " + procfile()["web"], {**env, "PORT": str(port)}, shell=True)


def start_scheduler(procs: ProcSet, name: str, env: dict[str, str]) -> Proc:
    """The Procfile's `scheduler:` process."""
    return procs.start(name, "exec " + procfile()["scheduler"], env, shell=True)


def migrate(db_url: str) -> None:
    """`flask db upgrade`: the real migrations, in a subprocess."""
    done = subprocess.run([str(BIN / "flask"), "--app", "app.py", "db", "upgrade"], cwd=ROOT,
                          env=base_env(LAUNCH_CONFIG="development", DATABASE_URL=db_url.replace("+psycopg", ""),
                                       SCHEDULER_ENABLED="0"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"flask db upgrade failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
