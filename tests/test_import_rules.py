"""The import rule of docs/ARCHITECTURE.md, checked on the source with ``ast``: a module of
``auditor`` imports only from its own floor or the floors below, and never the CDK; tests and
scripts share helpers only through ``builders``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Longest prefix wins. 0 is the bottom floor: plain data and facts, no I/O.
FLOORS = {
    "auditor": 0,  # errors, vocabulary, aws_facts, catalogue, model, policy_patterns, modules
    "auditor.sources": 1,
    "auditor.analysis": 2,
    "auditor.audit": 3,
    "auditor.logs": 4,
    "auditor.reports": 5,
    "auditor.prelaunch": 6,
    "auditor.remediation": 6,
    "auditor.organization": 6,
    "auditor.commands": 7,
    "auditor.lambdas": 7,  # the organization audit's Lambda handlers: entrances like commands
    "auditor.cli": 7,
    "auditor.__main__": 7,
}
CDK = ("aws_cdk", "constructs", "cdk_nag", "jsii", "stacks")


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, lazy and TYPE_CHECKING ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path, root) if path.name == "__init__.py" else \
        _module_name(path, root).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # "from auditor import catalogue" imports the module auditor.catalogue
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names
                      if (root / Path(*base.split("."), f"{alias.name}.py")).is_file()
                      or (root / Path(*base.split("."), alias.name)).is_dir()]
    return found


def floor_of(module: str) -> int | None:
    matches = [prefix for prefix in FLOORS
               if module == prefix or module.startswith(prefix + ".")]
    return FLOORS[max(matches, key=len)] if matches else None


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_every_auditor_module_has_a_floor():
    for path in _files("auditor"):
        assert floor_of(_module_name(path)) is not None, path


def test_no_module_imports_from_a_floor_above_its_own():
    breaches = []
    for path in _files("auditor"):
        module = _module_name(path)
        own = floor_of(module)
        for line, imported in _imports(path):
            floor = floor_of(imported)
            if floor is not None and own is not None and floor > own:
                breaches.append(f"{path.relative_to(ROOT)}:{line}: {module} (floor {own}) "
                                f"imports {imported} (floor {floor})")
    assert breaches == []


def test_the_auditor_never_imports_the_cdk():
    found = [f"{path.relative_to(ROOT)}:{line}: {imported}"
             for path in _files("auditor") for line, imported in _imports(path)
             if imported.split(".")[0] in CDK]
    assert found == []


def test_tests_and_scripts_share_helpers_only_through_builders():
    scripts_importing_tests = [
        f"{path.relative_to(ROOT)}:{line}: {imported}" for path in _files("scripts")
        for line, imported in _imports(path) if imported.split(".")[0] == "tests"]
    # A test may import the one script it tests, never a helper of another script.
    tests_importing_scripts = [
        f"{path.relative_to(ROOT)}:{line}: {imported}" for path in _files("tests")
        for line, imported in _imports(path)
        if imported.split(".")[0] == "scripts"
        and imported not in ("scripts", "scripts.evaluate_log_corpus")]
    builders_importing_either = [
        f"{path.relative_to(ROOT)}:{line}: {imported}" for path in _files("builders")
        for line, imported in _imports(path) if imported.split(".")[0] in ("tests", "scripts")]
    assert scripts_importing_tests == tests_importing_scripts == builders_importing_either == []


def test_the_rule_catches_a_breach(tmp_path):
    """The checker itself: a lazy import of a report by an analysis module is found."""
    source = tmp_path / "auditor" / "analysis" / "bad.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from auditor.reports import json_report\n")
    [(line, imported)] = _imports(source, tmp_path)
    assert (line, imported) == (2, "auditor.reports")
    assert floor_of(_module_name(source, tmp_path)) == 2 < floor_of(imported)
