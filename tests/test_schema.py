"""The composition JSON Schema: equal to the parser's key tables, valid for every
composition in the repository (and every one ``twinlock init`` writes from the real
spec files), shipped in the package, printed by ``twinlock schema``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from twinlock.app.schema import shipped_schema_text
from twinlock.errors import TwinlockError
from twinlock.model.platforms import KNOWN_PLATFORMS, SYSTEM_REQUIREMENT_KEYS
from twinlock.spec import schema as schema_module
from twinlock.spec.kernels import KERNEL_KEYS
from twinlock.spec.parse import ENV_KEYS, TOP_KEYS
from twinlock.spec.requirements import REQUIREMENT_KEYS
from twinlock.spec.schema import composition_schema, schema_text
from twinlock.spec.smoke import SMOKE_KEYS

from .conftest import REPO

TWINLOCK = str(REPO / ".venv" / "bin" / "twinlock")
SHARED = REPO.parent / "shared" / "specs"


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server sees it: dates stay strings."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _errors(data: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(composition_schema())
    return [e.message for e in validator.iter_errors(data)]


def _is_composition(path: Path) -> bool:
    """A YAML mapping with environments: (recipes with Jinja and environment.yml files are not)."""
    try:
        data = yaml.load(path.read_text(), _EditorLoader)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and isinstance(data.get("environments"), dict)


def _compositions() -> list[Path]:
    files = [*REPO.glob("envs/*.yaml"), *REPO.glob("tests/data/**/*.y*ml")]
    found = sorted(f for f in files if _is_composition(f))
    assert len(found) >= 3  # the bundled examples and the graph fixture at least
    return found


def test_the_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(composition_schema())


@pytest.mark.parametrize("path", _compositions(), ids=lambda p: p.name)
def test_every_composition_in_the_repository_validates(path: Path) -> None:
    assert _errors(yaml.load(path.read_text(), _EditorLoader)) == []


@pytest.mark.parametrize(
    "spec",
    sorted(SHARED.glob("repo2docker/*.yml")),
    ids=lambda p: p.name,
)
def test_compositions_init_writes_from_real_files_validate(spec: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [TWINLOCK, "init", "-f", str(spec), "--dry-run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert _errors(yaml.load(done.stdout, _EditorLoader)) == []


def _keys(node: dict[str, Any]) -> list[str]:
    return list(node["properties"])


def test_schema_keys_equal_the_parsers_tables() -> None:
    schema = composition_schema()
    defs = schema["$defs"]
    assert _keys(schema) == list(TOP_KEYS)
    assert _keys(defs["environment"]) == list(ENV_KEYS)
    assert _keys(defs["kernel"]) == list(KERNEL_KEYS)
    assert _keys(defs["requirement"]) == list(REQUIREMENT_KEYS)
    assert _keys(defs["tests"]) == list(SMOKE_KEYS)
    assert _keys(defs["system-requirements"]) == [*SYSTEM_REQUIREMENT_KEYS, *KNOWN_PLATFORMS]
    assert schema["properties"]["platforms"]["items"]["enum"] == list(KNOWN_PLATFORMS)


def test_a_key_added_to_the_parser_without_a_schema_entry_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(schema_module, "ENV_KEYS", (*ENV_KEYS, "post-link"))
    with pytest.raises(TwinlockError, match="disagree about keys: post-link"):
        composition_schema()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"enviroments": {}}, "'enviroments' was unexpected", id="top-typo"),
        pytest.param({"platforms": ["linux64"]}, "'linux64' is not one of", id="platform"),
        pytest.param(
            {"environments": {"a": {"prefix": "/a", "kernel": {"hide-natve": True}}}},
            "'hide-natve' was unexpected",
            id="kernel-typo",
        ),
        pytest.param(
            {"environments": {"a": {"prefix": "/a", "requirements": [{"requested_by": "x"}]}}},
            "is not valid under any of the given schemas",
            id="requirement-typo",
        ),
        pytest.param(
            {"system-requirements": {"osx-arm64": {"macOS": "13"}}},
            "'macOS' was unexpected",
            id="system-requirement-typo",
        ),
    ],
)
def test_the_schema_flags_typos(change: dict[str, Any], message: str) -> None:
    data = yaml.load((REPO / "envs/rsp.yaml").read_text(), _EditorLoader)
    data.update(change)
    assert any(message in e for e in _errors(data)), _errors(data)


def test_the_package_ships_the_generated_schema_and_the_cli_prints_it() -> None:
    assert shipped_schema_text() == schema_text()
    done = subprocess.run([TWINLOCK, "schema"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout == schema_text()


@pytest.mark.parametrize("path", sorted(REPO.glob("envs/*.yaml")), ids=lambda p: p.name)
def test_bundled_compositions_point_editors_at_the_schema(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    assert (path.parent / first.removeprefix(prefix)).resolve().read_text() == schema_text()
