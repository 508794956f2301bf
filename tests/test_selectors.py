"""environment.yml selector comments (``# [linux]``) applied per platform, as conda-lock does."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from twinlock.errors import CompositionError
from twinlock.model.composition import Composition, Requirement
from twinlock.model.inputs import SolveInputs
from twinlock.model.platforms import KNOWN_PLATFORMS
from twinlock.solve.adapter import SolveRequest
from twinlock.spec.environment_yml import EnvironmentText, read_environment_file
from twinlock.spec.parse import parse_composition
from twinlock.spec.selectors import InvalidSelector, Selector, selector_in_comment

LINUX = ("linux-64", "linux-aarch64", "linux-ppc64le")
OSX = ("osx-64", "osx-arm64")


@pytest.mark.parametrize(
    ("expression", "platforms"),
    [
        pytest.param("linux", LINUX, id="linux"),
        pytest.param("osx", OSX, id="osx"),
        pytest.param("win", ("win-64",), id="win"),
        pytest.param("unix", (*LINUX, *OSX), id="unix"),
        pytest.param("linux64", ("linux-64",), id="linux64"),
        pytest.param("aarch64", ("linux-aarch64",), id="aarch64"),
        pytest.param("ppc64le", ("linux-ppc64le",), id="ppc64le"),
        pytest.param("osx64", ("osx-64",), id="osx64"),
        pytest.param("arm64", ("osx-arm64",), id="arm64"),
        pytest.param("win64", ("win-64",), id="win64"),
        pytest.param("not aarch64", tuple(p for p in KNOWN_PLATFORMS if p != "linux-aarch64")),
        pytest.param("linux64 or osx", ("linux-64", *OSX), id="or"),
        pytest.param("unix and not osx", LINUX, id="and-not"),
        pytest.param("not (linux or win)", OSX, id="parentheses"),
        pytest.param("linux or osx and win", LINUX, id="and-binds-tighter"),
        pytest.param("not not win", ("win-64",), id="double-not"),
    ],
)
def test_selector_expressions(expression: str, platforms: tuple[str, ...]) -> None:
    assert Selector.parse(expression, KNOWN_PLATFORMS).platforms == platforms


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param("py<311", "unknown selector name 'py'", id="python-version"),
        pytest.param("x86_64", "unknown selector name 'x86_64'", id="not-conda-lock-name"),
        pytest.param("linux ==", "'==' in selector", id="operator"),
        pytest.param("linux and", "ends too early", id="dangling-and"),
        pytest.param("(linux", "unbalanced parentheses|ends too early", id="unclosed"),
        pytest.param("linux osx", "unexpected 'osx'", id="two-names"),
        pytest.param("or linux", "unexpected 'or'", id="leading-or"),
    ],
)
def test_selectors_twinlock_cannot_evaluate_are_refused(expression: str, message: str) -> None:
    with pytest.raises(InvalidSelector, match=message):
        Selector.parse(expression, KNOWN_PLATFORMS)


@pytest.mark.parametrize(
    ("comment", "selector"),
    [
        pytest.param("# [linux]", "linux", id="plain"),
        pytest.param("#[win]", "win", id="no-space"),
        pytest.param("# only there [ not aarch64 ]", "not aarch64", id="text-before"),
        pytest.param("# [linux] # [osx]", "osx", id="last-wins"),
        pytest.param("# https://github.com/jupyter/notebook", None, id="url"),
        pytest.param("# see [the docs](https://x.org)", None, id="markdown-link"),
        pytest.param("# nothing here", None, id="none"),
    ],
)
def test_selector_in_comment(comment: str, selector: str | None) -> None:
    assert selector_in_comment(comment) == selector


ENV_FILE = textwrap.dedent(
    """\
    channels: [conda-forge]
    dependencies:
      - python=3.12.*
      - prmon >=3      # [linux]
      - "libcxx"       # a quoted spec [osx]
      - pytorch >=2.1.0           # [not aarch64]
      - pytorch >=2.1.0,<=2.3.1   # [aarch64]
      - ipywidgets==8.*           # https://github.com/jupyter-widgets/ipywidgets
      - tzdata  # [linux64]
      - tzdata  # [osx]
      - pip:
        - astropy-healpix
    """
)


def _read(text: str) -> tuple[Requirement, ...]:
    import yaml

    return read_environment_file(yaml.safe_load(text), source="app.yml", text=text).requirements


def test_environment_file_selectors_limit_dependencies_to_platforms() -> None:
    by_spec = {r.spec: r.platforms for r in _read(ENV_FILE)}
    assert by_spec == {
        "python=3.12.*": None,
        "prmon >=3": LINUX,
        "libcxx": OSX,
        "pytorch >=2.1.0": tuple(p for p in KNOWN_PLATFORMS if p != "linux-aarch64"),
        "pytorch >=2.1.0,<=2.3.1": ("linux-aarch64",),
        "ipywidgets==8.*": None,
        # one spec on two selector lines: one requirement, on both lines' platforms
        "tzdata": ("linux-64", *OSX),
    }


def test_without_the_text_no_selector_applies() -> None:
    import yaml

    parts = read_environment_file(yaml.safe_load(ENV_FILE), source="app.yml")
    assert all(r.platforms is None for r in parts.requirements)


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        pytest.param(
            "- numpy  # [py<311]", "dependencies[1]", "line 5: unknown selector name 'py'"
        ),
        pytest.param(
            "- numpy  # [bug 1234]", "dependencies[1]", "line 5: unknown selector name 'bug'"
        ),
        pytest.param(
            "- pip:\n    - astropy  # [linux]",
            "dependencies[1].pip[0]",
            "line 6: selector \\[linux\\] on a pip entry",
        ),
    ],
)
def test_bad_selector_lines_name_file_key_and_line(line: str, key: str, message: str) -> None:
    text = f"# header\nchannels: [conda-forge]\ndependencies:\n- python\n{line}\n"
    import yaml

    with pytest.raises(CompositionError, match=message) as info:
        read_environment_file(yaml.safe_load(text), source="app.yml", text=text)
    (problem,) = info.value.problems
    assert (problem.source, problem.key) == ("app.yml", key)
    assert problem.hint


def _composition(text: str, platforms: list[str]) -> Composition:
    import yaml

    return parse_composition(
        {
            "name": "c",
            "channels": ["conda-forge"],
            "platforms": platforms,
            "environments": {"app": {"prefix": "/opt/app", "file": "app.yml"}},
        },
        source="envs/c.yaml",
        files={"app.yml": EnvironmentText(yaml.safe_load(text), text)},
    )


def test_selected_requirements_flow_into_each_platforms_solve_and_hash() -> None:
    composition = _composition(ENV_FILE, ["linux-64", "linux-aarch64", "osx-arm64"])
    env = composition.environments[0]
    # narrowed to the environment's platforms, in its order
    assert env.requirements[1] == Requirement("prmon >=3", platforms=("linux-64", "linux-aarch64"))
    solved = {p: SolveRequest.for_environment(composition, env, p).specs for p in env.platforms}
    assert solved["linux-64"] == (
        "python 3.12.*",
        "prmon >=3",
        "pytorch >=2.1.0",
        "ipywidgets 8.*",
        "tzdata",
    )
    assert solved["linux-aarch64"] == (
        "python 3.12.*",
        "prmon >=3",
        "pytorch >=2.1.0,<=2.3.1",
        "ipywidgets 8.*",
    )
    assert solved["osx-arm64"] == (
        "python 3.12.*",
        "libcxx",
        "pytorch >=2.1.0",
        "ipywidgets 8.*",
        "tzdata",
    )
    inputs = {p: SolveInputs.for_environment(composition, env, p) for p in env.platforms}
    assert "prmon >=3" in inputs["linux-64"].specs
    assert "prmon >=3" not in inputs["osx-arm64"].specs
    # the hash covers the written specs of that platform only
    plain = _composition(ENV_FILE.replace("# [linux]", ""), ["linux-64", "osx-arm64"])
    plain_env = plain.environments[0]
    assert (
        SolveInputs.for_environment(plain, plain_env, "osx-arm64").digest()
        != inputs["osx-arm64"].digest()
    )
    assert (
        SolveInputs.for_environment(plain, plain_env, "linux-64").digest()
        == inputs["linux-64"].digest()
    )


def test_real_recipe_selectors_evaluate_or_are_refused_by_name() -> None:
    """Every selector comment in the real rubin-env meta.yaml (tests/data/envfiles)."""
    from tests.conftest import DATA

    text = (DATA / "envfiles" / "rubin-env" / "rubin-env-9.0.0.meta.yaml").read_text()
    found = {
        sel
        for line in text.splitlines()
        if "#" in line and (sel := selector_in_comment(line[line.index("#") :])) is not None
    }
    evaluated = {}
    refused = set()
    for sel in sorted(found):
        try:
            evaluated[sel] = Selector.parse(sel, ("linux-64", "linux-aarch64", "osx-arm64"))
        except InvalidSelector as exc:
            assert "unknown selector name 'python_impl'" in str(exc)
            refused.add(sel)
    assert {s: v.platforms for s, v in evaluated.items()} == {
        "aarch64": ("linux-aarch64",),
        "linux": ("linux-64", "linux-aarch64"),
        "linux64": ("linux-64",),
        "not aarch64": ("linux-64", "osx-arm64"),
        "osx": ("osx-arm64",),
    }
    assert refused == {"python_impl == 'pypy' or win or py != 311"}


COMPOSITION = """\
name: c
channels: [conda-forge]
platforms: [linux-64, osx-arm64]
environments:
  lab:
    prefix: /opt/lab
    requirements:
      - python 3.12.*
      - nodejs        # [linux]
      - spec: ipykernel   # the kernel [osx]
        reason: kernels on macs
      - tzdata  # [linux]
      - tzdata  # [osx]
  tools:
    prefix: /opt/tools
    platforms: [linux-64]
    requirements: [python, "git"]   # [osx] is not on an item line
"""


def test_inline_composition_requirements_honour_selectors_too(tmp_path: Path) -> None:
    from twinlock.spec.load import load_composition

    path = tmp_path / "c.yaml"
    path.write_text(COMPOSITION)
    composition = load_composition(path)
    lab = composition.environment("lab")
    assert [(r.spec, r.platforms) for r in lab.requirements] == [
        ("python 3.12.*", None),
        ("nodejs", ("linux-64",)),
        ("ipykernel", ("osx-arm64",)),
        ("tzdata", ("linux-64", "osx-arm64")),
    ]
    assert lab.requirements[2].reason == "kernels on macs"
    assert lab.specs_on("linux-64") == ("python 3.12.*", "nodejs", "tzdata")
    assert [r.platforms for r in composition.environment("tools").requirements] == [None, None]


def test_a_bad_inline_selector_names_the_composition_key_and_line(tmp_path: Path) -> None:
    from twinlock.spec.load import load_composition

    path = tmp_path / "c.yaml"
    path.write_text(COMPOSITION.replace("# [linux]", "# [linux and py>=312]", 1))
    with pytest.raises(CompositionError, match="line 9: ") as info:
        load_composition(path)
    (problem,) = info.value.problems
    assert problem.key == "environments.lab.requirements[1]"
    assert "'>=312'" in problem.message or "'py'" in problem.message


LAYERED = """\
name: s
channels: [conda-forge]
platforms: [linux-64, osx-arm64]
environments:
  payload:
    prefix: /opt/payload
    requirements:
      - python 3.11.*
      - numpy{base}
  extras:
    extends: payload
    prefix: same
    requirements:
      - healpy{layer}
  lab:
    prefix: /opt/lab
    requirements:
      - python 3.12.*
      - nodejs{other}
"""


@pytest.mark.parametrize(
    ("base", "layer", "other", "refused"),
    [
        pytest.param("", "  # [linux]", "", "extras", id="selector-in-a-layer"),
        pytest.param("  # [osx]", "", "", "payload", id="selector-in-an-extended-base"),
        pytest.param("", "", "  # [linux]", None, id="selector-outside-any-layer"),
    ],
)
def test_selectors_never_land_on_the_wrong_requirement_of_a_layer(
    tmp_path: Path, base: str, layer: str, other: str, refused: str | None
) -> None:
    """A layer's requirements are its base's plus its own when comments are read: refuse."""
    from twinlock.spec.load import load_composition

    path = tmp_path / "s.yaml"
    path.write_text(LAYERED.format(base=base, layer=layer, other=other))
    if refused is None:
        lab = load_composition(path).environment("lab")
        assert [r.platforms for r in lab.requirements] == [None, ("linux-64",)]
        return
    with pytest.raises(CompositionError, match=f"selector comments in {refused} cannot"):
        load_composition(path)
