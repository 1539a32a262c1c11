"""(host, method, path template) -> handler. Fixed path segments match case-insensitively, as ARM's do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

from cli.local.http import ApiError

WS = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
      "/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}")


@dataclass(frozen=True)
class Route:
    host: str
    method: str
    segments: tuple[str, ...]
    handler: Callable

    def match(self, segments: list[str]) -> dict[str, str] | None:
        params = {}
        if self.segments and self.segments[-1].endswith("*}"):  # greedy tail: '{path*}'
            fixed = len(self.segments) - 1
            if len(segments) <= fixed:
                return None
            params[self.segments[-1][1:-2]] = unquote("/".join(segments[fixed:]))
            segments = segments[:fixed]
        elif len(segments) != len(self.segments):
            return None
        for pattern, actual in zip(self.segments, segments):
            if pattern.endswith("*}"):
                continue
            if pattern.startswith("{"):
                if not actual:
                    return None
                params[pattern[1:-1]] = unquote(actual)
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

    def resolve(self, host: str, method: str, path: str) -> tuple[Callable, dict[str, str]]:
        """The handler and path parameters, or 404 (no such path) / 405 (path exists, method does not)."""
        segments = split(path)
        allowed = []
        for route in self.routes:
            if route.host != host:
                continue
            params = route.match(segments)
            if params is None:
                continue
            if route.method == method.upper():
                return route.handler, params
            allowed.append(route.method)
        if allowed:
            raise ApiError(405, "MethodNotAllowed",
                           f"The HTTP method '{method}' is not supported for '{path}'.",
                           headers={"Allow": ", ".join(sorted(set(allowed)))})
        raise ApiError(404, "ResourceNotFound", f"No resource or operation at '{path}'.")
