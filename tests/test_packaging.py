"""Packaging: SPDX license with its file shipped, a changelog, the py.typed marker, CI builds."""

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_an_spdx_string_and_the_file_exists():
    project = _pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in text and "the symdiff authors" in text
    # SPDX license strings and license-files need setuptools 77.
    requires = _pyproject()["build-system"]["requires"]
    assert any(r.replace(" ", "") == "setuptools>=77" for r in requires)


def test_py_typed_marker_is_package_data():
    assert (ROOT / "symdiff" / "py.typed").exists()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["symdiff"]


def test_changelog_names_the_release_and_unreleased_work():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## Unreleased" in text and "## 0.1.0" in text
    for item in ("registry", "NumPy", "Python constructs", "Hardening"):
        assert item in text


def test_ci_builds_sdist_and_wheel_before_the_readme_test_command():
    run = (ROOT / ".ci" / "run").read_text()
    assert ".ci/build" in run
    assert run.rstrip().endswith('pip install ".[test]" && python -m pytest')
    build = (ROOT / ".ci" / "build").read_text()
    assert "python -m build" in build and "warning|deprecat" in build
    assert os.access(ROOT / ".ci" / "build", os.X_OK)


@pytest.mark.skipif(importlib.util.find_spec("build") is None, reason="needs `pip install build`")
def test_build_has_no_warning_and_ships_license_and_marker(tmp_path):
    out = tmp_path / "dist"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0 and "Could not" in proc.stdout + proc.stderr:
        pytest.skip("no package index to fetch the build backend from")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Words, not parts of paths (this test's own folder is named ..._no_warning_...).
    warned = [line for line in (proc.stdout + proc.stderr).lower().splitlines()
              if re.search(r"(?<![\w/.-])(warning|deprecat)", line)]
    assert not warned, warned
    (wheel,) = out.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "symdiff/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
