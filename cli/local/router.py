"""(host, method, path template) -> handler, for every local service.

Paths are matched on the raw (still percent-encoded) path, split on '/', and each parameter is decoded
exactly once, so '%2F' in a name stays inside its segment and '%252F' stays '%2F'. Fixed segments
match case-insensitively, as ARM's do. A route's host '*' matches any host (single-host services).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

from cli.local.http import ApiError

WS = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
      "/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}")
ANY_HOST = "*"


@dataclass(frozen=True)
class Route:
    host: str
    method: str
    segments: tuple[str, ...]
    handler: Callable

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """Path parameters (decoded once) when the raw `segments` fit this route, else None."""
        params = {}
        if self.segments and self.segments[-1].endswith("*}"):  # greedy tail: '{path*}'
            fixed = len(self.segments) - 1
            if len(segments) <= fixed:
                return None
            params[self.segments[-1][1:-2]] = unquote("/".join(segments[fixed:]), errors="strict")
            segments = segments[:fixed]
        elif len(segments) != len(self.segments):
            return None
        for pattern, actual in zip(self.segments, segments):
            if pattern.startswith("{"):
                if not actual:
                    return None
                params[pattern[1:-1]] = unquote(actual, errors="strict")
            elif pattern.lower() != actual.lower():
                return None
        return params


def split(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, host: str, method: str, template: str, handler: Callable) -> None:
        """Register a handler; '{WS}' in the template stands for the workspace ARM path."""
        template = template.replace("{WS}", WS)
        self.routes.append(Route(host, method.upper(), tuple(split(template)), handler))

    def resolve(self, host: str, method: str, raw_path: str) -> tuple[Callable, dict[str, str]]:
        """The handler and path parameters of a raw (percent-encoded) path, or 404 (no such path) /
        405 (path exists, method does not) / 400 (undecodable)."""
        segments = split(raw_path)
        allowed = []
        try:
            for route in self.routes:
                if route.host not in (host, ANY_HOST):
                    continue
                params = route.match(segments)
                if params is None:
                    continue
                if route.method == method.upper():
                    return route.handler, params
                allowed.append(route.method)
        except UnicodeDecodeError:
            raise ApiError(400, "InvalidUri", f"The path '{raw_path}' is not valid UTF-8 once decoded.") from None
        shown = unquote(raw_path)
        if allowed:
            raise ApiError(405, "MethodNotAllowed",
                           f"The HTTP method '{method}' is not supported for '{shown}'.",
                           headers={"Allow": ", ".join(sorted(set(allowed)))})
        raise ApiError(404, "ResourceNotFound", f"No resource or operation at '{shown}'.")
