"""Test-only: print the official SDK's object hash (the LocalUpload/<hash> of a datastore upload) of
each path given, one per line, with the ignore file the SDK's data/model uploads use.

Run with the SDK's interpreter: /opt/oracle/bin/python tests/client/sdk_object_hash.py <path>...
"""

import sys

from azure.ai.ml._utils._asset_utils import get_ignore_file, get_object_hash

for path in sys.argv[1:]:
    print(get_object_hash(path, get_ignore_file(path)))
