"""Turn the references of a spec (azureml:..., compute names, local paths) into what REST bodies hold.

Pure: no I/O. What only the workspace knows comes in already answered: `latest` maps each
(asset type, name) named `@latest` to its version, `uploads` maps local paths to what their upload
produced. A resolver made without `latest` collects the labels a translation needs in `labels`
(answering them with the placeholder version LABEL_PLACEHOLDER), so operations can ask the
workspace for exactly those, then translate again (cli.operations.assets.translate).
"""

from __future__ import annotations

import re
from typing import Mapping, Optional, Set, Tuple

from cli.errors import UsageError
from cli.spec.paths import is_local_path
from cli.spec.references import parse_reference

_WORKSPACE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resource[Gg]roups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)$", re.IGNORECASE)
_SHORT_DATASTORE = "azureml://datastores/"
LABEL_PLACEHOLDER = "latest"  # what a collecting resolver puts where a label's version goes


class ReferenceResolver:
    """Resolves references against one workspace.

    `latest[(asset_type, name)]` is the version `name@latest` stands for (asset_type: environments,
    models, data, components, codes); with `latest` None the resolver collects the labels it meets
    in `labels` instead. `uploads` maps absolute local paths to what their upload produced: a
    datastore URI for data, a code version id (ARM id or azureml:name:version) for code folders.
    """

    def __init__(self, workspace_arm_id: str, latest: Optional[Mapping[Tuple[str, str], str]] = None,
                 uploads: Mapping[str, str] | None = None):
        match = _WORKSPACE_ID.match(workspace_arm_id.rstrip("/"))
        if not match:
            raise UsageError(f"'{workspace_arm_id}' is not a workspace ARM id")
        self.workspace_id = workspace_arm_id.rstrip("/")
        self.subscription, self.resource_group, self.workspace = match["sub"], match["rg"], match["ws"]
        self._latest = None if latest is None else dict(latest)
        self.labels: Set[Tuple[str, str]] = set()  # (asset_type, name) of each @latest met while collecting
        self._uploads = dict(uploads or {})

    def asset_id(self, value: str, asset_type: str) -> str:
        """azureml:name:version / name@latest / ARM id / registry id -> the id a body carries."""
        if value.startswith("azureml:/subscriptions/"):
            return value[len("azureml:"):]
        ref = parse_reference(value if value.startswith(("azureml:", "/")) else f"azureml:{value}")
        if ref.kind in ("arm", "registry"):
            return value
        if ref.kind == "asset":
            return f"{self.workspace_id}/{asset_type}/{ref.name}/versions/{ref.version}"
        if ref.kind == "label":
            return f"{self.workspace_id}/{asset_type}/{ref.name}/versions/{self._label(asset_type, ref.name, ref.label)}"
        if ref.kind == "asset_id":
            return f"{self.workspace_id}/{ref.asset_type}/{ref.name}/versions/{ref.version}"
        raise UsageError(f"'{value}' names no version; use azureml:{ref.name}:<version> or azureml:{ref.name}@latest")

    def _label(self, asset_type: str, name: str, label: str) -> str:
        if label != "latest":
            raise UsageError(f"label '@{label}' of {asset_type} '{name}' is not supported; use @latest or a version")
        if self._latest is None:
            self.labels.add((asset_type, name))
            return LABEL_PLACEHOLDER
        try:
            return self._latest[(asset_type, name)]
        except KeyError:
            raise UsageError(f"cannot resolve '{name}@latest': its version was not looked up first") from None

    def compute_id(self, value: str | None) -> str | None:
        """azureml:name, a bare name or an ARM id -> the compute's ARM id; none stays none."""
        if not value:
            return None
        if value.startswith(("/subscriptions/", "azureml:/subscriptions/")):
            return value.removeprefix("azureml:")
        return f"{self.workspace_id}/computes/{value.removeprefix('azureml:')}"

    def code_id(self, value: str) -> str:
        """A local code folder (already uploaded) or a code reference -> the code version's ARM id."""
        if is_local_path(value):
            value = self.uploaded(value)
        return self.asset_id(value, "codes")

    def uploaded(self, path: str) -> str:
        try:
            return self._uploads[path]
        except KeyError:
            raise UsageError(f"local path '{path}' has not been uploaded") from None

    def data_uri(self, value: str, *, long_form: bool = False) -> str:
        """A local path (uploaded) or a URI -> the URI a data/model body carries."""
        uri = self.uploaded(value) if is_local_path(value) else value
        if long_form and uri.startswith(_SHORT_DATASTORE):
            return (f"azureml://subscriptions/{self.subscription}/resourcegroups/{self.resource_group}"
                    f"/workspaces/{self.workspace}/datastores/{uri[len(_SHORT_DATASTORE):]}")
        return uri

    def input_uri(self, path: str, input_type: str) -> str:
        """A job input's path: local (uploaded), azureml:name:version (data or model ARM id), or a URI."""
        if is_local_path(path):
            uri = self.uploaded(path)
            # the SDK marks uploaded folders with a trailing slash
            return uri + "/" if input_type == "uri_folder" and not uri.endswith("/") else uri
        if path.startswith("azureml:") and not path.startswith("azureml://"):
            return self.asset_id(path, "models" if input_type in ("mlflow_model", "custom_model", "triton_model") else "data")
        return path
