"""Test-only: print the official SDK's content hash of each path given, one per line.

Run with the SDK's interpreter: /opt/oracle/bin/python tests/client/sdk_content_hash.py <path>...
"""

import sys

from azure.ai.ml._utils._asset_utils import get_content_hash, get_ignore_file

for path in sys.argv[1:]:
    print(get_content_hash(path, get_ignore_file(path)))
