"""The code of the organization audit's Lambda functions, built without Docker.

Two directories, each a CDK asset:

- the **dependencies** (a Lambda layer, ``python/...``): ``requirements-lambda.txt``, the
  runtime requirements resolved and hashed by ``scripts/lock_lambda_requirements.py``,
  installed with ``pip install --target`` for the Lambda platform (manylinux wheels of the
  runtime's Python and architecture, ``--only-binary :all: --no-deps --require-hashes
  --no-compile``): the same files on every machine, whatever Python runs the build. Built once
  per lock content and target, kept under the build cache (``build/lambda`` by default);
- the **code**: the ``auditor`` package itself, copied without its caches (the handlers are
  ``auditor.lambdas.*``), one directory per content of the package.

The synthesis must be able to run offline (tests, air-gapped CI): give a prebuilt dependencies
directory (``-c org_audit_lambda_dependencies=DIR``, for example one this module built on a
machine with the index) or a folder of wheels to install from (``-c
org_audit_wheelhouse=DIR``, pip then uses nothing else). Otherwise pip reads the package
index configured on the machine, once: later syntheses find the directory in the cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS_FILE = ROOT / "requirements.txt"
LOCK_FILE = ROOT / "requirements-lambda.txt"
PACKAGE = ROOT / "auditor"
DEFAULT_CACHE = ROOT / "build" / "lambda"
LAYER_FOLDER = "python"  # where a layer's Python packages go (/opt/python on Lambda)
# Bump when the way a directory is built changes, so that no older build is taken for it.
BUILD_FORMAT = "1"
PIP = (sys.executable, "-m", "pip")


class BundleError(UsageError):
    """The Lambda code could not be built (one line, exit 2 like every bad input)."""


@dataclass(frozen=True)
class LambdaTarget:
    """Where the functions run: Lambda's architecture name and the runtime's Python."""

    architecture: str  # "arm64" or "x86_64", as Lambda names them
    python_version: str  # "3.14"

    @property
    def platform(self) -> str:
        """The wheel platform pip installs for (manylinux2014: glibc 2.17, which Lambda's
        Amazon Linux 2023 runtimes exceed)."""
        return "manylinux2014_" + {"arm64": "aarch64", "x86_64": "x86_64"}[self.architecture]

    @property
    def runtime_name(self) -> str:
        return f"python{self.python_version}"

    def __str__(self) -> str:
        return f"{self.runtime_name} on {self.architecture}"


# The locked targets (the lock holds the wheels of each). arm64 first, the default: Lambda's
# price per GB-second is 20% lower there and the auditor's only compiled wheel (PyYAML) exists.
TARGETS = (LambdaTarget("arm64", "3.14"), LambdaTarget("x86_64", "3.14"))
ARCHITECTURES = {target.architecture: target for target in TARGETS}


def target_for(architecture: str) -> LambdaTarget:
    if architecture not in ARCHITECTURES:
        raise BundleError(f"Lambda architecture {architecture!r} is not one of "
                          f"{', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[architecture]


def dependencies_dir(target: LambdaTarget, cache: Path = DEFAULT_CACHE, *,
                     wheelhouse: Path | None = None, lock: Path = LOCK_FILE,
                     pip: Sequence[str] = PIP) -> Path:
    """The layer's directory for ``target``: built once per lock content, then found again.

    A directory in the cache is complete by construction (built aside, then renamed), so a
    build that failed halfway is never taken for one."""
    if not lock.is_file():
        raise BundleError(f"no {lock.name}: run scripts/lock_lambda_requirements.py")
    key = _digest([BUILD_FORMAT.encode(), str(target).encode(), lock.read_bytes()])
    final = cache / f"dependencies-{target.architecture}-{target.runtime_name}-{key}"
    if final.is_dir():
        return final
    command = [*pip, "install", "--target", "", "--platform", target.platform,
               "--implementation", "cp", "--python-version", target.python_version,
               "--only-binary=:all:", "--no-deps", "--require-hashes", "--no-compile",
               "--disable-pip-version-check", "--quiet", "-r", str(lock)]
    if wheelhouse is not None:
        if not wheelhouse.is_dir():
            raise BundleError(f"wheelhouse {wheelhouse}: no such directory")
        command += ["--no-index", "--find-links", str(wheelhouse)]
    return _build_aside(final, lambda work: _pip_install(command, work / LAYER_FOLDER))


def prebuilt_dependencies(folder: Path) -> Path:
    """A dependencies directory built elsewhere, used as it is."""
    if not (folder / LAYER_FOLDER).is_dir():
        raise BundleError(f"Lambda dependencies {folder}: no {LAYER_FOLDER}/ folder inside "
                          "(build one with stacks.lambda_bundle.dependencies_dir)")
    return folder


def code_dir(cache: Path = DEFAULT_CACHE, package: Path = PACKAGE) -> Path:
    """A directory holding a copy of the auditor package (sources only), one per content."""
    files = sorted(path for path in package.rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts
                   and path.suffix not in (".pyc", ".pyo"))
    key = _digest(part for path in files
                  for part in (path.relative_to(package).as_posix().encode(), b"\0",
                               path.read_bytes(), b"\0"))
    final = cache / f"code-{key}"
    if final.is_dir():
        return final

    def copy(work: Path) -> None:
        for path in files:
            destination = work / package.name / path.relative_to(package)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)

    return _build_aside(final, copy)


def _pip_install(command: list[str], target: Path) -> None:
    command = list(command)
    command[command.index("--target") + 1] = str(target)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {result.returncode}"
        raise BundleError(f"building the Lambda dependencies failed (pip: {reason}); offline, "
                          "give -c org_audit_wheelhouse=DIR or -c "
                          "org_audit_lambda_dependencies=DIR")
    # What pip adds that the functions never use, and that would differ between machines.
    shutil.rmtree(target / "bin", ignore_errors=True)
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def _build_aside(final: Path, build) -> Path:
    """Build into a scratch directory beside ``final``, then rename it: all or nothing.
    Older builds of the same kind are removed (the cache keeps the current one)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=final.parent))
    try:
        build(work)
        try:
            os.replace(work, final)
        except OSError:
            if not final.is_dir():  # not another process that finished the same build first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    kind = final.name.rsplit("-", 1)[0]
    for older in final.parent.glob(f"{kind}-*"):
        if older != final and older.name.rsplit("-", 1)[0] == kind:
            shutil.rmtree(older, ignore_errors=True)
    return final


def _digest(parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:16]
