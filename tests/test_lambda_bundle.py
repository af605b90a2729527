"""The Lambda code built without Docker (stacks/lambda_bundle.py): the lock follows
requirements.txt; pip really installs locked, hashed wheels for the Lambda platform, offline
from a folder of wheels; the same input gives the same files, once (cached); a failure is one
line; the code directory holds the auditor package without its caches."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from auditor.errors import UsageError
from stacks import lambda_bundle
from stacks.lambda_bundle import LambdaTarget

ROOT = Path(__file__).resolve().parents[1]
TARGET = LambdaTarget("arm64", "3.14")


def make_wheel(folder: Path, name: str = "tinypkg", version: str = "1.0",
               tag: str = "py3-none-any") -> Path:
    """A minimal valid wheel, written by hand (no build tool, no index)."""
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n".encode()}
    info = f"{name}-{version}.dist-info"
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\n"
                                 f"Version: {version}\n").encode()
    files[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              f"Tag: {tag}\n").encode()
    record = [f"{path},sha256={_b64(content)},{len(content)}" for path, content in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, content in files.items():
            archive.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), content)
    return wheel


def _b64(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()


def lock_for(folder: Path, wheel: Path, name: str = "tinypkg", version: str = "1.0") -> Path:
    lock = folder / "lock.txt"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock.write_text(f"{name}=={version} --hash=sha256:{digest}\n")
    return lock


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_lock_pins_every_requirement_at_its_version_with_hashes() -> None:
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt")
                           .read_text(), re.M))
    lock = lambda_bundle.LOCK_FILE.read_text()
    locked = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", lock, re.M))

    assert pins, "requirements.txt lists nothing"
    for name, version in pins.items():
        assert locked.get(name.lower().replace("_", "-")) == version, name
    # Every locked package has at least one hash, and only hashed wheels can be installed.
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", lock)) >= len(locked)


def test_dependencies_install_locked_wheels_offline_once_and_identically(tmp_path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    lock = lock_for(tmp_path, make_wheel(wheels))

    first = lambda_bundle.dependencies_dir(TARGET, tmp_path / "cache-a", wheelhouse=wheels,
                                           lock=lock)
    second = lambda_bundle.dependencies_dir(TARGET, tmp_path / "cache-b", wheelhouse=wheels,
                                            lock=lock)
    # Found in the cache: pip is not run again (a pip that cannot run would fail).
    again = lambda_bundle.dependencies_dir(TARGET, tmp_path / "cache-a", wheelhouse=wheels,
                                           lock=lock, pip=("/nonexistent/pip",))

    assert (first / "python" / "tinypkg" / "__init__.py").read_text() == "VERSION = '1.0'\n"
    assert tree(first) == tree(second)  # deterministic: the same files, byte for byte
    assert first.name == second.name  # named by the lock's content and the target
    assert again == first
    assert not list((first / "python").rglob("__pycache__"))  # --no-compile


def test_a_changed_lock_builds_anew_and_drops_the_older_build(tmp_path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    first = lambda_bundle.dependencies_dir(
        TARGET, tmp_path / "cache", wheelhouse=wheels,
        lock=lock_for(tmp_path, make_wheel(wheels, version="1.0")))
    second = lambda_bundle.dependencies_dir(
        TARGET, tmp_path / "cache", wheelhouse=wheels,
        lock=lock_for(tmp_path, make_wheel(wheels, version="2.0"), version="2.0"))

    assert first != second and not first.exists()
    assert "2.0" in (second / "python" / "tinypkg" / "__init__.py").read_text()


def test_a_wheel_whose_hash_is_not_the_locked_one_is_refused_in_one_line(tmp_path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    lock = tmp_path / "lock.txt"
    lock.write_text("tinypkg==1.0 --hash=sha256:" + "0" * 64 + "\n")

    with pytest.raises(UsageError) as raised:
        lambda_bundle.dependencies_dir(TARGET, tmp_path / "cache", wheelhouse=wheels,
                                       lock=lock)
    message = str(raised.value)
    assert message.startswith("building the Lambda dependencies failed (pip: ")
    assert "org_audit_wheelhouse" in message and "\n" not in message
    assert not list((tmp_path / "cache").glob("dependencies-*"))  # nothing half-built kept


def test_only_manylinux_wheels_of_the_runtime_are_taken(tmp_path) -> None:
    """A wheel built for another platform (here: Windows) is not installable for Lambda."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    lock = lock_for(tmp_path, make_wheel(wheels, tag="cp314-cp314-win_amd64"))

    with pytest.raises(UsageError, match="building the Lambda dependencies failed"):
        lambda_bundle.dependencies_dir(TARGET, tmp_path / "cache", wheelhouse=wheels,
                                       lock=lock)


def test_code_directory_holds_the_package_without_caches_and_follows_its_content(
        tmp_path) -> None:
    package = tmp_path / "src" / "auditor"
    (package / "lambdas" / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "lambdas" / "unit.py").write_text("def handler(event, context): ...\n")
    (package / "lambdas" / "__pycache__" / "unit.cpython-311.pyc").write_bytes(b"\0")

    first = lambda_bundle.code_dir(tmp_path / "cache", package)
    (package / "lambdas" / "unit.py").write_text("def handler(event, context): return 1\n")
    second = lambda_bundle.code_dir(tmp_path / "cache", package)

    assert sorted(tree(second)) == ["auditor/__init__.py", "auditor/lambdas/unit.py"]
    assert first != second and not first.exists()
    assert lambda_bundle.code_dir(tmp_path / "cache", package) == second


def test_prebuilt_dependencies_need_the_layer_folder(tmp_path) -> None:
    with pytest.raises(UsageError, match="no python/ folder inside"):
        lambda_bundle.prebuilt_dependencies(tmp_path)
    (tmp_path / "python").mkdir()
    assert lambda_bundle.prebuilt_dependencies(tmp_path) == tmp_path


def test_targets_name_lambda_platforms() -> None:
    assert [(t.platform, t.runtime_name) for t in lambda_bundle.TARGETS] == [
        ("manylinux2014_aarch64", "python3.14"), ("manylinux2014_x86_64", "python3.14")]
    with pytest.raises(UsageError, match="not one of arm64, x86_64"):
        lambda_bundle.target_for("sparc")
