"""A wheel that works anywhere: `pip install .` into a fresh venv scores out of the box, from any directory.

No network: the fresh venv sees this test venv's site-packages (a .pth line, so their own
.pth hooks, such as the editable install of this checkout, stay off) and the package is
installed with ``--no-deps --no-build-isolation``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS

#: What a build needs from the checkout.
SOURCES = ("classifier", "models", "pyproject.toml", "README.md")


#: The environment of the installed commands: nothing on PYTHONPATH may point back at a checkout.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, env=CLEAN_ENV, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` folder of a fresh venv into which ``pip install .`` put the package (from a copy of the sources)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    venv = base / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    pip = _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-build-isolation",
        "--ignore-installed", "--no-index", "--disable-pip-version-check", "--quiet", source,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    shutil.rmtree(source)  # nothing may be read from the sources once installed
    return venv / "bin"


def test_every_package_is_listed_for_the_build():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "classifier").rglob("__init__.py")}
    assert packages | {"classifier.models"} == set(config["packages"])
    assert config["package-dir"]["classifier.models"] == "models"


def test_the_installed_package_holds_the_shipped_models(installed, tmp_path):
    probe = _run(
        installed / "python", "-c",
        "import classifier, classifier.model as m; print(classifier.__file__); print(m.MODELS_DIR)",
        cwd=tmp_path,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    package, models = probe.stdout.split()
    venv = installed.parent
    assert Path(package).is_relative_to(venv) and Path(models).is_relative_to(venv), probe.stdout
    for name in ("hostile-fr", "sentiment-fr"):
        card = json.loads((Path(models) / name / "card.json").read_text(encoding="utf-8"))
        assert (Path(models) / name / card["artefact"]["file"]).is_file()


def test_score_text_works_from_another_directory(installed, tmp_path):
    proc = _run(installed / "classifier", "score", "--text", "Tais-toi, abruti", "--format", "jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (record,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert record["decision"] in ("review", "reject") and record["sentiment"] is not None
    assert record["model"].startswith("hostile-fr@")


def test_score_a_folder_of_pages_works_from_another_directory(installed, tmp_path):
    pages = tmp_path / "seeds"
    shutil.copytree(SEEDS, pages)
    proc = _run(installed / "classifier", "score", "seeds/", "--format", "jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert records and {r["page"].split("/")[0] for r in records} == {"seeds"}
    # the same records as the checkout gives for the same folder
    here = _run(sys.executable, "-m", "classifier", "score", "seeds/", "--format", "jsonl", cwd=tmp_path)
    assert records == [json.loads(line) for line in here.stdout.splitlines()]
