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
