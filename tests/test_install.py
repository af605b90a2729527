"""``pip install .`` gives a working ``ssm-auditor`` command.

Offline and fast: the package is built from a copy of the tree (the build writes into it) and
installed into a fresh virtual environment with ``--no-deps --no-build-isolation``; the pinned
requirements come from the development venv, made visible to the new one by a ``.pth`` file
(what ``--system-site-packages`` would do for a system-wide install). The full install with its
dependencies from PyPI is the same ``pip install`` without those options.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.html_reports import DEMO_INSTANCES

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo" / "estate"
PACKAGE_FILES = ("auditor", "stacks", "pyproject.toml", "README.md", "requirements.txt",
                 "requirements-cdk.txt")


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the package installed: its bin directory, and an environment."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name,
             **({"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / name).is_dir()
                else {}))
    venv = work / "venv"
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_NO_INPUT"] = "1"
    created = _run([sys.executable, "-m", "venv", str(venv)], work, env)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   work, env).stdout.strip()
    (Path(purelib) / "_dev_requirements.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                    "--no-index", str(source)], work, env)
    assert install.returncode == 0, install.stdout + install.stderr
    return venv / "bin", env


def test_the_console_script_answers_its_version(installed, tmp_path):
    bin_dir, env = installed
    from auditor import __version__

    result = _run([str(bin_dir / "ssm-auditor"), "--version"], tmp_path, env)
    assert (result.returncode, result.stdout) == (0, f"ssm-auditor {__version__}\n")


def test_the_installed_package_is_used_not_the_checkout(installed, tmp_path):
    bin_dir, env = installed
    where = _run([str(bin_dir / "python"), "-c", "import auditor, stacks; "
                  "print(auditor.__file__); print(stacks.__file__)"], tmp_path, env)
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert "site-packages" in path and not Path(path).is_relative_to(ROOT), path
    for absent in ("tests", "scripts", "builders"):
        probe = _run([str(bin_dir / "python"), "-c", f"import {absent}"], tmp_path, env)
        assert probe.returncode != 0, f"{absent} was installed"


def test_the_console_script_audits_the_demo_like_python_m_auditor(installed, tmp_path):
    bin_dir, env = installed
    args = ["--all", "--snapshot", str(DEMO), "--format", "json"]
    installed_run = _run([str(bin_dir / "ssm-auditor"), *args], tmp_path, env)
    checkout_run = _run([sys.executable, "-m", "auditor", *args], ROOT, env)

    assert installed_run.returncode == checkout_run.returncode == 1, installed_run.stderr
    assert installed_run.stdout == checkout_run.stdout
    assert len(json.loads(installed_run.stdout)["instances"]) == DEMO_INSTANCES  # all regions
