"""The one wire error (cli.local.http.ApiError) in MLflow's terms and shape."""

from __future__ import annotations

import json

from cli.local.http import ApiError


class TrackingError(ApiError):
    """An MLflow API error: `code` is an MLflow ErrorCode name; answers `{"error_code", "message"}`."""

    content_type = "application/json"
    HTTP_STATUS = {"RESOURCE_DOES_NOT_EXIST": 404, "ENDPOINT_NOT_FOUND": 404,
                   "RESOURCE_ALREADY_EXISTS": 400, "INVALID_PARAMETER_VALUE": 400,
                   "BAD_REQUEST": 400, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403,
                   "INVALID_STATE": 500, "INTERNAL_ERROR": 500}
    # the code of an error the HTTP layer raises (cli.local.app, cli.local.router), by status
    CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "ENDPOINT_NOT_FOUND",
             405: "ENDPOINT_NOT_FOUND", 415: "BAD_REQUEST", 500: "INTERNAL_ERROR"}

    def __init__(self, code: str, message: str, *, status: int | None = None, headers: dict | None = None):
        super().__init__(status or self.HTTP_STATUS.get(code, 500), code, message, headers=headers)

    @classmethod
    def http(cls, status: int, code: str, message: str, *, headers: dict | None = None) -> "TrackingError":
        """The MLflow-shaped form of an error the HTTP layer raises with an ARM-style `code`."""
        return cls(cls.CODES.get(status, "INTERNAL_ERROR"), message, status=status, headers=headers)

    def body(self) -> dict:
        return {"error_code": self.code, "message": self.message}

    def encode(self) -> bytes:
        return json.dumps(self.body()).encode()
