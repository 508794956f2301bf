"""Conda's match-spec dialect: parsed once (rattler, lenient) and solved in canonical form."""

from __future__ import annotations

import pytest
from rattler import MatchSpec

from twinlock.errors import CompositionError
from twinlock.model.composition import Requirement
from twinlock.spec.environment_yml import read_environment_file
from twinlock.spec.matchspec import CondaSpec, InvalidCondaSpec, to_match_spec
from twinlock.spec.parse import parse_composition

# (as written, what the solver is given): conda's and conda-lock's spellings.
DIALECT = [
    pytest.param("python=3.12.*", "python 3.12.*", id="eq-star"),
    pytest.param("ipywidgets==8.*", "ipywidgets 8.*", id="eqeq-star"),
    pytest.param("nodejs=20", "nodejs 20.*", id="eq-is-prefix"),
    pytest.param("numpy=1.2", "numpy 1.2.*", id="eq-minor"),
    pytest.param("numpy==1.2", "numpy ==1.2", id="exact"),
    pytest.param("numpy 1.2", "numpy ==1.2", id="space-version-is-exact"),
    pytest.param("numpy 1.2.* py312*", "numpy 1.2.* py312*", id="version-build"),
    pytest.param("numpy=1.2=py312_0", "numpy ==1.2 py312_0", id="eq-version-eq-build"),
    pytest.param("numpy=1.2.*=*cuda*", "numpy 1.2.* *cuda*", id="eq-star-build-glob"),
    pytest.param("numpy>=1,<2", "numpy >=1,<2", id="range-no-space"),
    pytest.param("numpy >= 1.2 , <2", "numpy >=1.2,<2", id="range-spaces"),
    pytest.param("numpy >=1.2.*", "numpy >=1.2", id="ge-star"),
    pytest.param("numpy=*", "numpy *", id="eq-any"),
    pytest.param("numpy !=1.2.*", "numpy !=1.2.*", id="not-equal-glob"),
    pytest.param("numpy ~=1.2", "numpy ~=1.2", id="compatible"),
    pytest.param("conda-forge::numpy", "conda-forge::numpy", id="channel"),
    pytest.param("conda-forge::numpy >=1", "conda-forge::numpy >=1", id="channel-version"),
    pytest.param("numpy[version='>=1',build=py*]", "numpy >=1 py*", id="brackets"),
    pytest.param('numpy[build_number=">=3"]', 'numpy[build_number=">=3"]', id="build-number"),
    pytest.param("python >=3.10=*_cpython", "python >=3.10 *_cpython", id="range-eq-build"),
    pytest.param("pip", "pip", id="bare-name"),
    pytest.param("PyYAML >=6", "pyyaml >=6", id="name-case"),
    pytest.param("conda-forge/label/rc::numpy", "conda-forge/label/rc::numpy", id="label"),
    pytest.param("numpy[subdir=linux-64]", 'numpy[subdir="linux-64"]', id="subdir"),
]


@pytest.mark.parametrize(("written", "canonical"), DIALECT)
def test_conda_dialect_is_parsed_to_what_rattler_solves(written: str, canonical: str) -> None:
    spec = CondaSpec.parse(written)
    assert (spec.written, spec.canonical) == (written, canonical)
    # The canonical form is what rattler's strict parser (the solver's) reads unchanged.
    assert str(MatchSpec(spec.canonical, strict=True)) == canonical
    assert str(to_match_spec(written)) == canonical
    # the name twinlock reports (why, explain, absent names) is the one rattler parsed
    assert Requirement(written).name == spec.name


BAD = [
    pytest.param("numpy >>1", "unable to parse version spec", id="bad-operator"),
    pytest.param("numpy ==", "unable to parse version spec", id="operator-no-version"),
    pytest.param(">=1", "missing package name", id="no-name"),
    pytest.param("numpy[foo=bar]", "invalid bracket key: foo", id="bad-bracket-key"),
    pytest.param("numpy[version=>=1", "not a valid package name", id="unclosed-bracket"),
    pytest.param("numpy 1.2 b1 extra", "is not a build string", id="four-words"),
    pytest.param("numpy=1.2=py=3", "is not a build string", id="three-equals"),
    pytest.param("numpy[md5=abc]", "unable to parse hash digest", id="bad-md5"),
]


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_specs_conda_refuses_are_refused(spec: str, message: str) -> None:
    with pytest.raises(InvalidCondaSpec, match=message):
        CondaSpec.parse(spec)


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_a_bad_spec_names_the_file_key_spec_and_fix(spec: str, message: str) -> None:
    data = {"channels": ["conda-forge"], "dependencies": ["python=3.12.*", spec]}
    with pytest.raises(CompositionError) as info:
        read_environment_file(data, source="envs/app.yml")
    (problem,) = info.value.problems
    assert (problem.source, problem.key) == ("envs/app.yml", "dependencies[1]")
    assert f"invalid match spec '{spec}'" in problem.message and message in problem.message
    assert "numpy=1.26=py312*" in problem.hint


def test_a_huge_bad_spec_is_not_echoed_whole() -> None:
    spec = "numpy " + ">" * 5000
    with pytest.raises(CompositionError) as info:
        read_environment_file({"dependencies": [spec]}, source="app.yml")
    assert len(info.value.problems[0].message) < 400


def test_inline_requirements_carry_the_canonical_form_and_keep_the_written_one() -> None:
    composition = parse_composition(
        {
            "name": "c",
            "channels": ["conda-forge"],
            "platforms": ["linux-64"],
            "environments": {
                "lab": {"prefix": "/opt/lab", "requirements": ["python=3.12.*", "ipywidgets==8.*"]}
            },
        },
        source="c.yaml",
    )
    env = composition.environments[0]
    # The lock records (and hashes) what the user wrote; the solver gets the canonical form.
    assert env.specs_on("linux-64") == ("python=3.12.*", "ipywidgets==8.*")
    assert env.solve_specs_on("linux-64") == ("python 3.12.*", "ipywidgets 8.*")


def _one_env(requirements: list[str], channels: list[str] | None = None) -> dict[str, object]:
    return {
        "name": "c",
        "channels": channels or ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {"app": {"prefix": "/opt/app", "requirements": requirements}},
    }


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("bioconda::samtools", id="prefix"),
        pytest.param("conda-forge/label/rc::numpy", id="label"),
        pytest.param("numpy[channel=bioconda]", id="bracket"),
    ],
)
def test_a_spec_naming_a_channel_the_environment_lacks_is_refused(spec: str) -> None:
    with pytest.raises(CompositionError, match="not among the environment's channels") as info:
        parse_composition(_one_env(["python", spec]), source="c.yaml")
    (problem,) = info.value.problems
    assert problem.key == "environments.app" and spec in problem.message
    assert "add" in problem.hint and "to the channels" in problem.hint


def test_a_spec_naming_one_of_the_environments_channels_is_kept() -> None:
    composition = parse_composition(
        _one_env(["bioconda::samtools", "conda-forge::numpy"], ["conda-forge", "bioconda"]),
        source="c.yaml",
    )
    assert composition.environments[0].specs == ("bioconda::samtools", "conda-forge::numpy")


@pytest.mark.slow
def test_a_channel_qualified_spec_solves_against_the_mirror(snapshot_channel: object) -> None:
    """``conda-forge::numpy`` must match records read from conda-forge's local mirror."""
    from twinlock.solve.adapter import RattlerSolver, SolveRequest
    from twinlock.solve.channels import local_channel_dir

    composition = parse_composition(
        _one_env(["python=3.11", "conda-forge::numpy <2", "astropy[version='<6',build=py311*]"]),
        source="c.yaml",
    )
    env = composition.environments[0]
    solver = RattlerSolver(
        {"https://conda.anaconda.org/conda-forge": "bundled:conda-forge-snapshot"},
        local_channel_dir,
    )
    (outcome,) = solver.solve_all([SolveRequest.for_environment(composition, env, "linux-64")])
    assert outcome.error is None and outcome.packages is not None
    got = {p.name: p for p in outcome.packages}
    assert got["numpy"].version.startswith("1.")
    assert got["numpy"].channel == "https://conda.anaconda.org/conda-forge"
    assert got["astropy"].build.startswith("py311")
