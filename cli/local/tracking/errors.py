"""The one error of the tracking API, in MLflow's terms."""

from __future__ import annotations


class TrackingError(Exception):
    """An MLflow API error: `code` is an MLflow ErrorCode name."""

    HTTP_STATUS = {"RESOURCE_DOES_NOT_EXIST": 404, "ENDPOINT_NOT_FOUND": 404,
                   "RESOURCE_ALREADY_EXISTS": 400, "INVALID_PARAMETER_VALUE": 400,
                   "BAD_REQUEST": 400, "INVALID_STATE": 500, "INTERNAL_ERROR": 500}

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message
        self.status = self.HTTP_STATUS.get(code, 500)
