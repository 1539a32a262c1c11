"""Check one HTTP exchange against the Azure ML REST contract (../shared/azureml-rest/contract).

`check_exchange(request, response)` raises AssertionError naming what broke: an operation that is not
in operations.json (method + path template), a status code the operation does not return, a missing
LRO header, a request or response body that does not validate against models.strict.schema.json,
an error body that is not an ARM ErrorResponse, or a missing x-ms-request-id. Blob-plane exchanges
(Azure Storage, no JSON contract) are checked for their request id only.
"""

from __future__ import annotations

import functools
import json

import httpx

from tests.shared_data import REST_CONTRACT

MANAGEMENT_HOSTS = {"management.ml.invalid", "management.azure.com"}
CONTRACT = REST_CONTRACT
STRICT = "models.strict.schema.json"
_LOCATIONS = "/subscriptions/{subscriptionId}/providers/Microsoft.MachineLearningServices/locations/{location}"
# Served as Azure serves them, though the 2025-12-01 client has no operation for them: LRO polling targets.
_ASYNC_STATUS = {"type": "object", "required": ["status"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "status": {"type": "string"},
    "startTime": {"type": "string"}, "endTime": {"type": "string"}, "error": {"$ref": f"{STRICT}#/$defs/ErrorDetail"},
    "percentComplete": {"type": "number"}}, "additionalProperties": False}
EXTRA_OPERATIONS = [
    {"method": "GET", "path": _LOCATIONS + "/mfeOperationsStatus/{operationId}", "request_body": None,
     "responses": {"200": _ASYNC_STATUS}, "response_headers": {}},
    {"method": "GET", "path": _LOCATIONS + "/mfeOperationResults/{operationId}", "request_body": None,
     "responses": {"200": None, "202": None, "204": None}, "response_headers": {"202": ["Location"]}},
]


def _contract():
    """The contract's schemas and operations; a test that needs them is skipped when it is absent."""
    if not CONTRACT.is_dir():
        import pytest

        pytest.skip(f"the REST contract is absent ({CONTRACT}; it lives in ../shared beside the repository)")
    return _load_contract()


@functools.cache
def _load_contract():
    import referencing

    registry = referencing.Registry().with_resources(
        (name, referencing.Resource.from_contents(json.loads((CONTRACT / name).read_text())))
        for name in ("models.schema.json", STRICT))
    operations = json.loads((CONTRACT / "operations.json").read_text()) + EXTRA_OPERATIONS
    return registry, operations


def _validator(schema):
    import jsonschema

    registry, _ = _contract()
    if isinstance(schema, str):
        schema = {"$ref": STRICT + schema}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def find_operation(method: str, path: str) -> dict:
    """The contract operation for a method and URL path (fixed segments compare case-insensitively)."""
    actual = _segments(path)
    candidates = []
    for op in _contract()[1]:
        template = _segments(op["path"])
        if op["method"] != method or len(template) != len(actual):
            continue
        if all(t.startswith("{") or t.lower() == a.lower() for t, a in zip(template, actual)):
            candidates.append((sum(t.startswith("{") for t in template), op))
    if not candidates:
        raise AssertionError(f"{method} {path}: no such operation in the REST contract")
    return min(candidates, key=lambda c: c[0])[1]


def drop_nulls(value):
    """Null members mean 'absent' on the wire; the schemas reject them (see the contract README)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def _write_only_missing(error) -> bool:
    """A required write-only property (e.g. datastore credential secrets) is never sent back."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return False
    props = error.schema.get("properties", {})
    missing = [p for p in error.validator_value if p not in error.instance]
    return bool(missing) and all(props.get(p, {}).get("writeOnly") for p in missing)


def _describe(validator, error, response: bool = False) -> list[str]:
    """Readable leaf errors; a failed discriminated oneOf is explained by the branch its discriminator picks."""
    if response and _write_only_missing(error):
        return []
    disc = error.schema.get("x-discriminator") if isinstance(error.schema, dict) else None
    where = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    if disc and isinstance(error.instance, dict):
        branch = disc["mapping"].get(error.instance.get(disc["propertyName"]))
        if branch is None:
            return [f"{where}: {disc['propertyName']}={error.instance.get(disc['propertyName'])!r} is not one"
                    f" of {sorted(disc['mapping'])}"]
        sub = _validator(branch)
        return [f"{where}{m[1:]}" for e in sub.iter_errors(error.instance) for m in _describe(sub, e, response)]
    return [f"{where}: {error.message}"]


def _without_sdk_extras(body):
    """A job body less its outputs' `assetVersion`: the 2025-12-01 models dropped it, but the SDK
    (`to_rest_data_outputs`) still sends it as an extra wire key and the service honours it."""
    outputs = ((body.get("properties") or {}).get("outputs") if isinstance(body, dict)
               and isinstance(body.get("properties"), dict) else None)
    if not isinstance(outputs, dict):
        return body
    trimmed = {k: ({f: v for f, v in o.items() if f != "assetVersion"} if isinstance(o, dict) else o)
               for k, o in outputs.items()}
    return {**body, "properties": {**body["properties"], "outputs": trimmed}}


def check_body(schema, body, what: str, *, response: bool = False) -> None:
    """Validate a body; a response may omit required write-only properties (the service never returns them)."""
    validator = _validator(schema)
    body = drop_nulls(body)
    if isinstance(body, dict) and isinstance(body.get("value"), list):
        body = {**body, "value": [_without_sdk_extras(item) for item in body["value"]]}
    else:
        body = _without_sdk_extras(body)
    problems = [m for e in validator.iter_errors(body) for m in _describe(validator, e, response)]
    if problems:
        raise AssertionError(f"{what} does not match {schema if isinstance(schema, str) else 'schema'}:\n  "
                             + "\n  ".join(problems))


def _json(content: bytes, what: str):
    try:
        return json.loads(content)
    except ValueError as exc:
        raise AssertionError(f"{what} is not JSON ({exc}): {content[:200]!r}") from None


def check_exchange(request: httpx.Request, response: httpx.Response, *, check_request: bool = True) -> None:
    """Raise AssertionError unless this request/response pair is one the REST contract allows.

    With check_request=False (tests that send bad requests on purpose) the request may be outside
    the contract; the response must still be what the contract allows, an ARM error for an error."""
    label = f"{request.method} {request.url.path} -> {response.status_code}"
    if not response.headers.get("x-ms-request-id"):
        raise AssertionError(f"{label}: no x-ms-request-id header")
    client_id = request.headers.get("x-ms-client-request-id")
    if client_id is not None and response.headers.get("x-ms-client-request-id") != client_id:
        raise AssertionError(f"{label}: x-ms-client-request-id not echoed")
    if request.url.host not in MANAGEMENT_HOSTS:
        return
    if check_request and "api-version" not in request.url.params:
        raise AssertionError(f"{label}: request without api-version")
    try:
        op = find_operation(request.method, request.url.path)
    except AssertionError:
        if check_request or response.status_code < 400:
            raise
        op = {"request_body": None}
    if check_request and op["request_body"] and request.content:
        check_body(op["request_body"], _json(request.content, f"{label}: request body"), f"{label}: request body")
    status = str(response.status_code)
    if response.status_code >= 400:
        body = _json(response.content, f"{label}: error body")
        check_body("#/$defs/ErrorResponse", body, f"{label}: error body", response=True)
        error = body.get("error") or {}
        if not (error.get("code") and error.get("message")):
            raise AssertionError(f"{label}: ARM error without code and message: {body}")
        return
    if status not in op["responses"]:
        raise AssertionError(f"{label}: status {status} is not one of {sorted(op['responses'])} for"
                             f" {op['method']} {op['path']}")
    for header in op["response_headers"].get(status, []):
        if header in ("Retry-After", "x-ms-async-operation-timeout"):
            continue  # optional hints in ARM's LRO protocol
        if header not in response.headers:
            raise AssertionError(f"{label}: missing {header} header")
    model = op["responses"][status]
    if model is None:
        if response.content:
            raise AssertionError(f"{label}: a body where the contract has none: {response.content[:200]!r}")
        return
    check_body(model, _json(response.content, f"{label}: response body"), f"{label}: response body",
               response=True)


def check_if_present(request: httpx.Request, response: httpx.Response, **options) -> None:
    """check_exchange when the contract is beside the repository; nothing otherwise.

    For tests whose subject is something else (the local service, uploads): the contract is an
    extra check on them, so they still run, unchecked, on a clone without ../shared."""
    if CONTRACT.is_dir():
        check_exchange(request, response, **options)
