"""ml: Azure ML CLI v2 specs, validated and run on an embedded local workspace or sent to Azure.

Layers (each may import only those below it; tests/test_layers.py checks every import):

    app            the root command and the one error funnel: exceptions -> exit codes (cli.errors)
    commands       parse flags; get the Application as ctx.obj; end by returning or raising
    targets        the one place that knows local from Azure: picks the client's transport
    operations     what a verb does, in REST calls; never branches on the target, never reaches
                   into cli.local or a client's private state
    spec | rest    spec loading and validation | pure translation (no I/O: `@latest` and uploads
                   are resolved by operations before translation)
    client         one REST client (public calls only) -> transports; never imports cli.local
    local          the embedded workspace, reached only through LocalTransport (cli.targets)
    errors, names, redact   the exception tree, Azure's naming rules, secret masking: pure,
                   importable from every layer
"""

import sys as _sys
import types as _types

__version__ = "0.1.0"

# `import httpx` also loads httpx's own command-line tool (httpx._main, with click, rich and pygments)
# whenever those are installed: ~50 ms per `ml` call that we never use. An empty stand-in makes
# httpx take its documented fallback (its `main` raises ImportError when called).
_sys.modules.setdefault("httpx._main", _types.ModuleType("httpx._main"))
