"""`ml local`: the local workspace as a service. `ml local serve` answers Azure clients over HTTPS on loopback."""

from __future__ import annotations

from typing import Optional

import typer

from cli.commands.options import group_app

app = group_app()


@app.command("serve", help="Serve a local workspace over HTTPS on 127.0.0.1 (an https proxy for its hosts), so the "
                           "Azure ML SDK, MLflow and `ml` with --subscription/-g talk to it as to Azure. "
                           "--print-env prints the variables to eval in the client's shell; --verbose logs each request.")
def serve(ctx: typer.Context,
          workspace: str = typer.Option("local", "--workspace-name", "-w", help="Local workspace name."),
          port: int = typer.Option(8443, "--port", help="Port of the https proxy on 127.0.0.1 (0: any free port)."),
          print_env: bool = typer.Option(False, "--print-env", help="Print `export` lines for the client's shell "
                                         "(they hold the credential and a tracking token) and exit.")) -> None:
    """--verbose (global) logs one line per request on stderr."""
    import shlex

    from cli.targets import serve_environment, serve_local

    if print_env:
        for name, value in serve_environment(workspace, port).items():
            typer.echo(f"export {name}={shlex.quote(value)}")
        return
    serve_local(workspace, port, log=ctx.obj.error if ctx.obj.verbose else None, announce=ctx.obj.info)
