"""Test-only: sign requests with azure-storage-blob's SharedKeyCredentialPolicy and print each
Authorization header, one per line.

Run with the SDK's interpreter: /opt/oracle/bin/python tests/client/sdk_shared_key.py < requests.json
where the JSON is {"account": ..., "key": ..., "requests": [{"method", "url", "headers"}, ...]}.
"""

import json
import sys

from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

given = json.load(sys.stdin)
policy = SharedKeyCredentialPolicy(given["account"], given["key"])
for spec in given["requests"]:
    request = HttpRequest(spec["method"], spec["url"], headers=spec["headers"])
    policy.on_request(PipelineRequest(request, PipelineContext(None)))
    print(request.headers["Authorization"])
