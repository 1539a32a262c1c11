"""Environments: an image, a conda file on an image, or a docker build context (uploaded)."""

from __future__ import annotations

from typing import Optional

from cli.errors import ConflictError, ResourceNotFoundError, UsageError
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


def read_conda_file(spec: dict) -> dict:
    """`spec` with a local `conda_file` path replaced by the file's content, which translation reads."""
    path = spec.get("conda_file")
    if not isinstance(path, str):
        return spec
    from pathlib import Path

    from cli.spec.yaml_source import YamlSourceError, parse_yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read conda file '{path}' ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        content, _ = parse_yaml(text, path)
    except YamlSourceError as exc:
        found = exc.diagnostics[0].format() if exc.diagnostics else f"{path}: {exc}"
        raise UsageError(f"conda file is not valid YAML: {found}") from None
    if not isinstance(content, dict):
        raise UsageError(f"conda file '{path}' is not a mapping of channels and dependencies")
    return {**spec, "conda_file": content}


def register_inline(client, inline: dict) -> str:
    """An environment written inline in a job or component, registered as the SDK does: an anonymous
    version named CliV2AnonymousEnvironment, versioned from its content (its build context uploaded
    first); returns its ARM id, which the job or component then references."""
    from cli.client.snapshot import object_hash
    from cli.rest import environment as rest
    from cli.spec.paths import is_local_path

    # the SDK ignores an inline environment's own name and version
    spec = read_conda_file({key: value for key, value in inline.items() if key not in ("name", "version")})
    if not (spec.get("image") or spec.get("build")):
        raise UsageError("an inline environment needs an image or a build context")
    context = (spec.get("build") or {}).get("path")
    build_hash = object_hash(context) if is_local_path(context) else None
    spec.update(name=rest.ANONYMOUS_NAME, version=rest.anonymous_version(spec, build_hash), is_anonymous=True)
    uploads = upload_local_path(client, spec, "environments", context)
    path = client.workspace.version("environments", spec["name"], spec["version"])
    created = client.put(path, assets.translate(client, lambda refs: rest.to_rest(spec, refs), uploads)) or {}
    return created.get("id") or path


def create(client, spec: dict, datastore: Optional[str] = None) -> dict:
    spec = read_conda_file(spec)
    if not (spec.get("image") or spec.get("build")):
        raise UsageError(f"environment '{spec['name']}' needs an image (--image/-i) or a build context (--build-context/-b)")
    build = spec.get("build") or {}
    uploads = upload_local_path(client, spec, "environments", build.get("path"), datastore)
    if spec.get("version") is None:
        # As the SDK does: first try the latest version (unchanged content keeps it), then a new one.
        latest = _latest_version(client, spec["name"])
        if latest is not None:
            try:
                return assets.create(client, "environments", {**spec, "version": latest}, uploads)
            except ConflictError:
                pass
    return assets.create(client, "environments", spec, uploads)


def _latest_version(client, name: str) -> Optional[str]:
    """The container's latestVersion (what the SDK reads); None when there is no such environment."""
    try:
        container = client.get(client.workspace.container("environments", name)) or {}
    except ResourceNotFoundError:
        return None
    latest = (container.get("properties") or {}).get("latestVersion")
    return str(latest) if latest else None
