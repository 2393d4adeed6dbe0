"""The import-direction rule between the project's packages, checked by walking every import.

tests → anything; load → contract; mock_server → contract.schemas and contract.spec only;
contract.schemas → pydantic and the standard library; contract never imports mock_server, except
contract/targets.py, which serves the mock in-process as one of the contract suite's targets.
The mock and the reference client share the schema and nothing else.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("mock_server", "contract", "load", "tests")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def allowed(source: str, target: str) -> bool:
    top = target.split(".")[0]
    if top not in PROJECT_PACKAGES:
        return True
    if source.startswith("contract/schemas/"):
        return target.startswith("contract.schemas")
    if source.startswith("mock_server/"):
        return top == "mock_server" or target.startswith(("contract.schemas", "contract.spec"))
    if source == "contract/targets.py":
        return top in {"contract", "mock_server"}
    if source.startswith("contract/"):
        return top == "contract"
    if source.startswith("load/"):
        return top in {"load", "contract"}
    return True


@pytest.mark.parametrize("package", ["mock_server", "contract", "load"])
def test_imports_follow_the_layer_rule(package: str) -> None:
    violations = [
        f"{path.relative_to(ROOT)} imports {target}"
        for path in modules(package)
        for target in imports_of(path)
        if not allowed(str(path.relative_to(ROOT)), target)
    ]
    assert violations == []


def test_schemas_import_only_pydantic_and_the_standard_library() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for path in modules("contract/schemas"):
        for target in imports_of(path):
            top = target.split(".")[0]
            assert top in stdlib | {"pydantic", "contract"}, f"{path.relative_to(ROOT)} imports {target}"


def test_the_rule_catches_a_violation() -> None:
    assert not allowed("mock_server/chat.py", "contract.client")
    assert not allowed("contract/client/_client.py", "mock_server.app")
    assert not allowed("contract/schemas/chat.py", "contract.spec")
    assert allowed("mock_server/chat.py", "contract.schemas.chat")
