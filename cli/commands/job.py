"""`ml job`: create, follow, list and manage jobs; validate job specs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.options import FileOption, group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (ArchivedOnly, IncludeArchived, NameOption, NoWait, Overwrite, SetList,
                                            SetValues, on_workspace)

app = group_app()
add_validate(app, "job")

DEFAULT_MAX_RESULTS = 50
Stream = typer.Option(False, "--stream", "-s", help="Print the job's logs until it ends; exit 8 if it fails.")


def _follow(app, client, name: str) -> dict:
    """Stream `name` and return it as it ended; Ctrl-C leaves the job running (exit 130)."""
    from cli.errors import Interrupted
    from cli.operations.job_stream import stream

    try:
        return stream(client, name, info=app.info)
    except KeyboardInterrupt:
        raise Interrupted(f"detached; the job goes on: ml job stream -n {name}") from None


def _load(app, file: Path, overrides, skip_validation: bool):
    """The loaded Spec (a pipeline's step component files come with it)."""
    from cli.operations import specs
    from cli.operations.environment_files import inline_file_environments

    if not skip_validation:
        return inline_file_environments(specs.load("job", file, overrides, warn=app.warn_line))
    from cli.errors import SpecInvalidError
    from cli.spec.loader import check_spec

    spec, diagnostics = check_spec(file, group="job", overrides=overrides)
    if spec is None:
        raise SpecInvalidError(diagnostics)
    for diagnostic in diagnostics:  # --skip-validation: reported, not fatal
        app.warn_line(diagnostic.format())
    return inline_file_environments(spec)


@app.command("create", help="Create a job from a spec: local code and inputs are uploaded first.")
@on_workspace
def create(application, client, file: Path = FileOption,
           name: Optional[str] = typer.Option(None, "--name", "-n", help="Job name (default: generated).", show_default=False),
           set_: SetValues = SetList, stream: bool = Stream,
           save_as: Optional[Path] = typer.Option(None, "--save-as", "-a", help="Also write the created job as YAML here.", show_default=False),
           skip_validation: bool = typer.Option(False, "--skip-validation", help="Report spec errors as warnings and send anyway.")):
    from cli.operations import job

    spec = _load(application, file, set_ or (), skip_validation)
    created = job.create(client, spec.data, name=name, source=spec)
    if save_as:
        _save(created, save_as)
    application.emit(_follow(application, client, created["name"]) if stream else created)


def _save(job: dict, path: Path) -> None:
    import yaml

    from cli.errors import UsageError

    try:
        path.write_text(yaml.safe_dump(job, sort_keys=False), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--save-as {path}: {exc.strerror or exc}") from None


@app.command("show", help="Show a job, with the latest value of each MLflow metric it logged.")
@on_workspace
def show(application, client, name: str = NameOption) -> None:
    from cli.operations import job

    shown = job.show(client, name)
    if application.output == "table" and shown.get("type") == "pipeline" and not application.query:
        from cli.operations.pipeline_job import tree_rows

        shown = tree_rows(shown)  # the pipeline, then its steps as a tree
    elif application.output == "table" and shown.get("type") == "sweep" and not application.query:
        from cli.operations.sweep_job import table_row

        shown = table_row(client, shown)  # the best trial, its parameters and its metric
    application.emit(shown)


@app.command("list", help="List jobs, newest first.")
@on_workspace
def list_(application, client,
          max_results: int = typer.Option(DEFAULT_MAX_RESULTS, "--max-results", "-r", min=1, help="Return at most this many."),
          all_results: bool = typer.Option(False, "--all-results", help="Return every job."),
          include_archived: bool = IncludeArchived, archived_only: bool = ArchivedOnly,
          parent_job_name: Optional[str] = typer.Option(None, "--parent-job-name", "-p", help="List the child jobs of this job.", show_default=False)) -> None:
    from cli.operations import job

    limit = None if all_results else max_results
    items, capped = job.list_jobs(client, max_results=limit, include_archived=include_archived,
                                  archived_only=archived_only, parent=parent_job_name)
    if capped:
        application.warn(f"showing the first {limit} jobs; there are more. Use --max-results/-r N or --all-results.")
    application.emit(items, table=("name", "display_name", "status", "experiment_name", "compute", "creation_context.created_at"))


@app.command("stream", help="Print a job's logs until it ends; exit 8 if it failed or was canceled.")
@on_workspace
def stream(application, client, name: str = NameOption) -> None:
    from cli.operations import job

    job.get_body(client, name)
    _follow(application, client, name)


@app.command("cancel", help="Cancel a job.")
@on_workspace
def cancel(application, client, name: str = NameOption, no_wait: bool = NoWait) -> None:
    from cli.operations import job

    job.cancel(client, name, wait=not no_wait)
    application.info(f"cancel requested for job '{name}'")


@app.command("download", help="Download a job's logs and artifacts (default), one output, or everything (--all).")
@on_workspace
def download(application, client, name: str = NameOption,
             output_name: Optional[str] = typer.Option(None, "--output-name", help="The output to download.", show_default=False),
             all_: bool = typer.Option(False, "--all", help="Logs, artifacts and every named output."),
             download_path: Path = typer.Option(Path("."), "--download-path", "-p", help="Folder to download into."),
             overwrite: bool = Overwrite) -> None:
    from cli.operations import job

    job.download(client, name, path=download_path, output_name=output_name, all_=all_, overwrite=overwrite,
                 info=application.info)
    application.info(f"Downloaded to {download_path.resolve()}")


@app.command("archive", help="Archive a job: hidden from `ml job list` unless --include-archived.")
@on_workspace
def archive(client, name: str = NameOption) -> None:
    from cli.operations import job

    job.set_archived(client, name, True)


@app.command("restore", help="Restore an archived job.")
@on_workspace
def restore(client, name: str = NameOption) -> None:
    from cli.operations import job

    job.set_archived(client, name, False)


@app.command("update", help="Update a job's description, display_name or tags: --set tags.k=v.")
@on_workspace
def update(application, client, name: str = NameOption, set_: SetValues = SetList) -> None:
    from cli.operations import job

    application.emit(job.update(client, name, set_ or ()))
