"""Job inputs and outputs: spec entries <-> JobInput/JobOutput wire shapes (jobInputType, uri, mode)."""

from __future__ import annotations

from cli.rest.common import compact

INPUT_MODES = {"ro_mount": "ReadOnlyMount", "rw_mount": "ReadWriteMount", "download": "Download",
               "direct": "Direct", "eval_mount": "EvalMount", "eval_download": "EvalDownload"}
OUTPUT_MODES = {"rw_mount": "ReadWriteMount", "upload": "Upload", "direct": "Direct"}
_ASSET_TYPES = ("uri_file", "uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model")


def _literal(value) -> dict:
    # the SDK sends str(value): Python's spelling, so True -> "True"
    return {"jobInputType": "literal", "value": value if isinstance(value, str) or value is None else str(value)}


def input_to_rest(value, refs) -> dict:
    if not isinstance(value, dict):
        return _literal(value)
    path = value.get("path")
    # an input with a path but no type is a uri_folder, as the SDK makes it
    kind = value.get("type") or ("uri_folder" if path is not None else None)
    if kind not in _ASSET_TYPES or (isinstance(path, str) and "${{" in path):
        return _literal(value.get("value", value.get("default", path)))
    return compact({"jobInputType": kind, "uri": refs.input_uri(path, kind),
                    "mode": INPUT_MODES.get(value["mode"].lower()) if value.get("mode") else None,
                    "description": value.get("description")})


def output_to_rest(value) -> dict:
    value = value or {}
    return compact({
        "jobOutputType": value.get("type", "uri_folder"), "uri": value.get("path"),
        "mode": OUTPUT_MODES.get(value["mode"].lower()) if value.get("mode") else None,
        "assetName": value.get("name"),
        # The 2025-12-01 models dropped assetVersion; the SDK still sends it as an extra wire key.
        "assetVersion": str(value["version"]) if value.get("version") is not None else None,
        "description": value.get("description"),
    })


def input_from_rest(rest: dict):
    if rest.get("jobInputType") == "literal":
        return rest.get("value")
    modes = {wire: ours for ours, wire in INPUT_MODES.items()}
    return compact({"type": rest.get("jobInputType"), "path": rest.get("uri"),
                    "mode": modes.get(rest.get("mode")), "description": rest.get("description")})


def output_from_rest(rest: dict) -> dict:
    modes = {wire: ours for ours, wire in OUTPUT_MODES.items()}
    return compact({"type": rest.get("jobOutputType"), "path": rest.get("uri"), "mode": modes.get(rest.get("mode")),
                    "name": rest.get("assetName"), "version": rest.get("assetVersion"),
                    "description": rest.get("description")})
