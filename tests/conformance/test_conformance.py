"""Every spec of the shared corpus gets the official SDK's verdict from `ml`, or a recorded reason.

sdk_verdicts.tsv holds what azure-ai-ml says of each file (regenerate with sdk_oracle.py);
expectations.tsv lists, with a reason, each file where `ml` deliberately differs. The test fails on
any other difference, and on an expectation that no longer differs.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from cli.spec.families import BY_NAME
from cli.spec.loader import check_spec
from cli_defaults import overrides_for


HERE = Path(__file__).parent
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


def _rows(name: str) -> list[dict]:
    with open(HERE / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


SDK = [row for row in _rows("sdk_verdicts.tsv") if row["verdict"] in ("accept", "reject")]
EXPECTED = {row["path"]: row for row in _rows("expectations.tsv")}
# Families the SDK loads and ml does not model, with the command group a user would try them with.
SDK_ONLY_GROUPS = {"autoMLComponent": "component", "dataTransferComponent": "component", "modelPackage": "model",
                   "distillationJob": "job", "fineTuningJob": "job", "hdfsDatastore": "datastore",
                   "serverlessEndpoint": "serverless-endpoint"}


def _group(family: str) -> str:
    known = BY_NAME.get(family.lower())
    return known.group if known else SDK_ONLY_GROUPS[family]


@lru_cache(maxsize=None)
def ml_verdict(rel: str, family: str) -> tuple[str, tuple]:
    path = CORPUS / rel
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:
        data = None
    sets = [f"{k}={v}" for k, v in overrides_for(rel, family, data if isinstance(data, dict) else {})]
    spec, diagnostics = check_spec(path, group=_group(family), overrides=sets)
    errors = tuple(d.format() for d in diagnostics if d.is_error)
    return ("reject" if spec is None or errors else "accept"), errors


@pytest.fixture(scope="module", autouse=True)
def corpus():
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent (the shared conformance corpus lives beside the repository)")


@pytest.mark.parametrize("row", SDK, ids=[row["path"] for row in SDK])
def test_verdict_matches_the_sdk_or_the_recorded_reason(row):
    verdict, errors = ml_verdict(row["path"], row["family"])
    expected = EXPECTED.get(row["path"])
    if expected is None:
        assert verdict == row["verdict"], f"ml says {verdict}, the SDK says {row['verdict']} ({row['detail']}); ml: {errors}"
    else:
        assert verdict == expected["ml"] != row["verdict"], f"expectations.tsv says ml {expected['ml']} ({expected['reason']}); now {verdict}: {errors}"


def test_expectations_name_corpus_files():
    known = {row["path"] for row in SDK}
    assert sorted(set(EXPECTED) - known) == []

