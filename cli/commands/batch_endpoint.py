"""`ml batch-endpoint`: create, show, list, update, delete, invoke, list-jobs; validate specs."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (Description, NameOption, NoWait, OptionalFile, OptionalName, SetList,
                                            SetValues, Yes, confirm, on_workspace)

app = group_app()
add_validate(app, "batch-endpoint")
JOB_TABLE = ("name", "display_name", "status", "experiment_name", "compute", "creation_context.created_at")


def _spec(application, file, name, description, set_) -> dict:
    from cli.operations import specs

    return specs.from_file_and_flags("batch-endpoint", file, set_ or (), {"name": name, "description": description},
                                     warn=application.warn_line)


@app.command("create", help="Create a batch endpoint from -f (or just -n).")
@on_workspace
def create(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           description: Optional[str] = Description, set_: SetValues = SetList, no_wait: bool = NoWait) -> None:
    from cli.operations import batch_endpoint

    result = batch_endpoint.create(client, _spec(application, file, name, description, set_), wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("update", help="Update a batch endpoint from -f and/or --set; its default deployment stays unless changed.")
@on_workspace
def update(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           description: Optional[str] = Description, set_: SetValues = SetList, no_wait: bool = NoWait) -> None:
    from cli.operations import batch_endpoint

    result = batch_endpoint.update(client, _spec(application, file, name, description, set_), wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("show", help="Show a batch endpoint.")
@on_workspace
def show(application, client, name: str = NameOption) -> None:
    from cli.operations import batch_endpoint

    application.emit(batch_endpoint.show(client, name))


@app.command("list", help="List batch endpoints.")
@on_workspace
def list_(application, client) -> None:
    from cli.operations import batch_endpoint

    application.emit(batch_endpoint.list_endpoints(client), table=("name", "provisioning_state", "scoring_uri"))


@app.command("delete", help="Delete a batch endpoint and its deployments (asks first; --yes to skip).")
@on_workspace
def delete(client, name: str = NameOption, yes: bool = Yes, no_wait: bool = NoWait) -> None:
    from cli.operations import batch_endpoint

    confirm(f"Are you sure you want to delete batch endpoint '{name}' and its deployments?", yes)
    batch_endpoint.delete(client, name, wait=not no_wait)


@app.command("invoke", help="Start a batch job: scoring on --input, or a pipeline component deployment's pipeline (inputs by --file/--set); prints the job (see ml job show/stream).")
@on_workspace
def invoke(application, client, name: str = NameOption,
           input_: Optional[str] = typer.Option(None, "--input", help="Data to score: a local file or folder, azureml:<data>:<version>, or a URI.", show_default=False),
           input_type: Optional[str] = typer.Option(None, "--input-type", help="uri_folder or uri_file (default: from --input).", show_default=False),
           deployment_name: Optional[str] = typer.Option(None, "--deployment-name", "--deployment", "-d", help="Deployment to use (default: the endpoint's default).", show_default=False),
           job_name: Optional[str] = typer.Option(None, "--job-name", help="Name of the job (default: generated).", show_default=False),
           experiment_name: Optional[str] = typer.Option(None, "--experiment-name", help="Experiment of the job (default: the endpoint's name).", show_default=False),
           output_path: Optional[str] = typer.Option(None, "--output-path", help="azureml://datastores/<ds>/paths/<path> for the results.", show_default=False),
           output_file_name: Optional[str] = typer.Option(None, "--output-file-name", help="Name of the results file.", show_default=False),
           mini_batch_size: Optional[int] = typer.Option(None, "--mini-batch-size", min=1, help="Files per mini-batch (overrides the deployment's).", show_default=False),
           instance_count: Optional[int] = typer.Option(None, "--instance-count", min=1, help="Instances (overrides the deployment's).", show_default=False),
           settings: Optional[List[str]] = typer.Option(None, "--set", help="Job settings as az ml takes them: output_file_name, mini_batch_size, error_threshold, instance_count, retry_settings.max_retries, retry_settings.timeout; inputs.<name>.path=, inputs.<name>.type=, inputs.<name>=<value>, outputs.<name>.path=.", show_default=False),
           file: Optional[Path] = typer.Option(None, "--file", "-f", "--f", help="A YAML with the job's `inputs:` and `outputs:` by name (paths relative to it), as for a pipeline component deployment.", show_default=False)) -> None:
    from cli.operations import batch_endpoint

    inputs, outputs = batch_endpoint.io_from_file(file) if file else ({}, {})
    rest = batch_endpoint.apply_io_settings(settings or [], inputs, outputs)
    application.emit(batch_endpoint.invoke(client, name, deployment=deployment_name, input_path=input_,
                                           input_type=input_type, job_name=job_name, experiment_name=experiment_name,
                                           output_path=output_path, output_file_name=output_file_name,
                                           settings=batch_endpoint.job_settings(rest, mini_batch_size, instance_count),
                                           inputs=inputs, outputs=outputs,
                                           base=file.resolve().parent if file else None))


@app.command("list-jobs", help="List the jobs a batch endpoint started, newest first.")
@on_workspace
def list_jobs(application, client, name: str = NameOption) -> None:
    from cli.operations import batch_endpoint

    application.emit(batch_endpoint.list_jobs(client, name), table=JOB_TABLE)
