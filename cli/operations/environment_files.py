"""Environments a job or component names as `file:<spec>`, inlined as the SDK reads them.

The SDK loads `environment: file:env.yml` through its AnonymousEnvironmentSchema, like an environment
written inline: the file's own name and version are dropped and it is registered as an anonymous
version (operations.environment.register_inline). So here the file's content simply takes the place
of the reference, before the job or component is sent.
"""

from __future__ import annotations

ENVIRONMENT = ("environment",)


def inline_file_environments(spec):
    """`spec` (a loaded Spec) with `environment: file:...` in its data, and in the data of every spec
    it includes (a pipeline's step components), replaced by that file's environment."""
    for path, included in spec.included.items():
        if path == ENVIRONMENT:
            spec.data["environment"] = {k: v for k, v in included.resolved().items() if k != "$schema"}
        else:
            inline_file_environments(included)
    return spec
