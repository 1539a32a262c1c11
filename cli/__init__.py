"""ml: Azure ML CLI v2 specs, validated and run on an embedded local workspace or sent to Azure."""

import sys as _sys
import types as _types

__version__ = "0.1.0"

# `import httpx` also loads httpx's own command-line tool (httpx._main, with click, rich and pygments)
# whenever those are installed: ~50 ms per `ml` call that we never use. An empty stand-in makes
# httpx take its documented fallback (its `main` raises ImportError when called).
_sys.modules.setdefault("httpx._main", _types.ModuleType("httpx._main"))
