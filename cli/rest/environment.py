"""Environments: image and/or conda file, or a docker build context -> EnvironmentVersion."""

from __future__ import annotations

import hashlib
import yaml

from cli.errors import UsageError
from cli.rest.common import asset_show, compact, string_values

ANONYMOUS_NAME = "CliV2AnonymousEnvironment"  # the SDK's name for every inline environment
_ROUTES = (("liveness_route", "livenessRoute"), ("readiness_route", "readinessRoute"),
           ("scoring_route", "scoringRoute"), ("startup_route", "startupRoute"))


def conda_text(conda: dict) -> str:
    """The conda file as the service stores it: the SDK re-dumps it with sorted keys, and so do we.
    Operations read the file first (operations.environment.read_conda_file): translation does no I/O."""
    if not isinstance(conda, dict):
        raise UsageError(f"conda_file: expected the file's content as a mapping, got {type(conda).__name__}")
    return yaml.safe_dump(conda, sort_keys=True, default_flow_style=False)


def to_rest(spec: dict, refs) -> dict:
    build = spec.get("build")
    inference = spec.get("inference_config")
    return {"properties": compact({
        "image": spec.get("image"),
        "condaFile": conda_text(spec["conda_file"]) if spec.get("conda_file") else None,
        "build": compact({
            "contextUri": refs.data_uri(build["path"]),
            "dockerfilePath": build.get("dockerfile_path"),
        }) if build else None,
        "osType": spec.get("os_type"),
        "inferenceConfig": {
            wire: {"port": inference[ours]["port"], "path": inference[ours]["path"]}
            for ours, wire in _ROUTES if inference.get(ours)
        } if inference else None,
        "description": spec.get("description"),
        "tags": string_values(spec["tags"]) if spec.get("tags") else None,
        "properties": string_values(spec["properties"]) if spec.get("properties") else None,
        "isAnonymous": bool(spec.get("is_anonymous")),
        "isArchived": False,
    })}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf8")).hexdigest()


def anonymous_version(spec: dict, build_hash: str | None = None) -> str:
    """The version the SDK gives an inline environment (`Environment._generate_anonymous_name_version`).

    From the image, inference config and conda file, or from the build context's object hash
    (`build_hash`) and Dockerfile path. The SDK chains the parts with `str.join`, which interleaves
    one digest between the characters of the next; kept as is, since the version must be the SDK's.
    """
    build = spec.get("build")
    if build:
        digest = _sha256(build_hash or build.get("path") or "")
        if build.get("dockerfile_path"):
            digest = digest.join(_sha256(build["dockerfile_path"]))
    else:
        digest = _sha256(spec.get("image") or "")
        if spec.get("inference_config"):
            digest = digest.join(_sha256(yaml.dump(spec["inference_config"], sort_keys=True)))
        if spec.get("conda_file"):
            digest = digest.join(_sha256(conda_text(spec["conda_file"])))
    return _sha256(digest)


def from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    build, inference = props.get("build"), props.get("inferenceConfig")
    return asset_show(
        body,
        image=props.get("image"),
        conda_file=yaml.safe_load(props["condaFile"]) if props.get("condaFile") else None,
        build=compact({"path": build.get("contextUri"), "dockerfile_path": build.get("dockerfilePath")}) if build else None,
        os_type=props.get("osType"),
        inference_config={ours: dict(inference[wire]) for ours, wire in _ROUTES if inference.get(wire)} if inference else None,
    )
