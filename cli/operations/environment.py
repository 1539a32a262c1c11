"""Environments: an image, a conda file on an image, or a docker build context (uploaded)."""

from __future__ import annotations

from typing import Optional

from cli.errors import UsageError
from cli.operations import assets
from cli.operations.uploading import upload_local_path


def spec_from_flags(image: Optional[str], conda_file: Optional[str], build_context: Optional[str],
                    dockerfile_path: Optional[str], os_type: Optional[str], *, with_file: bool = False) -> dict:
    """The spec keys az's environment flags stand for (checked alone when no spec file completes them)."""
    if build_context and image:
        raise UsageError("give --image/-i or --build-context/-b, not both")
    if conda_file and not image and not with_file:
        raise UsageError("--conda-file/-c needs --image/-i (the image the conda environment is built on)")
    if dockerfile_path and not build_context:
        raise UsageError("--dockerfile-path/-d needs --build-context/-b")
    flags = {"image": image, "conda_file": conda_file, "os_type": os_type}
    if build_context:
        from cli.operations.specs import local_flag_path

        flags["build"] = {"path": local_flag_path(build_context), "dockerfile_path": dockerfile_path or "Dockerfile"}
    return flags


def create(client, spec: dict, datastore: Optional[str] = None) -> dict:
    if not (spec.get("image") or spec.get("build")):
        raise UsageError(f"environment '{spec['name']}' needs an image (--image/-i) or a build context (--build-context/-b)")
    build = spec.get("build") or {}
    uploads = upload_local_path(client, spec, "environments", build.get("path"), datastore)
    return assets.create(client, "environments", spec, uploads)


def register_named(client, environment: dict) -> str:
    """`azureml:<name>:<version>` of a job's or component's environment given with a name (from a
    `file:` spec): registered as the SDK does (`_try_update_latest_version`): its version when it gives
    one, else the latest version when that has the same content, else the next version."""
    from cli.errors import ConflictError, ResourceNotFoundError

    spec = {k: v for k, v in environment.items() if k != "$schema"}
    name = spec["name"]
    if spec.get("version") is None:
        try:
            latest = assets.latest_version(client, "environments", name)
        except ResourceNotFoundError:
            latest = None
        if latest is not None:
            try:
                return f"azureml:{name}:{create(client, {**spec, 'version': latest})['version']}"
            except ConflictError:
                pass  # the latest version holds other content: a new version, as the SDK makes
    return f"azureml:{name}:{create(client, spec)['version']}"


def resolve_included(client, data: dict, included=None) -> dict:
    """`data` with an environment loaded from a `file:` spec (`included`, a Spec) inlined, and a
    named inline environment registered and referenced; an unnamed one stays inline (anonymous)."""
    environment = included.resolved() if included is not None else data.get("environment")
    if isinstance(environment, dict):
        environment = {k: v for k, v in environment.items() if k != "$schema"}
        data = {**data, "environment": register_named(client, environment) if environment.get("name") else environment}
    return data
