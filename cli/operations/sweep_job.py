"""Sweep jobs as `ml job show -o table` prints them: one row with the best trial, its parameters and metric."""

from __future__ import annotations


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def table_row(client, shown: dict) -> dict:
    """The sweep's row: status, objective, how many trials ran, and the best trial so far."""
    from cli.operations.pipeline_job import step_runs

    objective = shown.get("objective") or {}
    best = shown.get("best_trial") or {}
    metric = next(iter((best.get("metric") or {}).items()), None)
    trials = step_runs(client, shown["name"])
    return {"name": shown.get("name"), "status": shown.get("status"),
            "objective": f"{objective.get('goal', '')} {objective.get('primary_metric', '')}".strip(),
            "trials": len(trials),
            "best_trial": best.get("name", ""),
            "best_metric": f"{metric[0]}={_number(metric[1])}" if metric else "",
            "best_parameters": ", ".join(f"{k}={_number(v)}" for k, v in sorted((best.get("parameters") or {}).items()))}
