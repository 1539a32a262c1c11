"""What one job's token reaches on its tracking server: its own run, the runs below it, their models.

A job's server is started for its root run (run id = job name). Runs it creates through the server
(nested runs, or a fresh `mlflow.start_run()`) join the scope; a run whose `mlflow.parentRunId` chain
reaches the scope is in it too. Another job's runs, their metrics, artifacts and models are refused
as PERMISSION_DENIED, and searches return only what is in scope. Experiments are shared by the
workspace (names and ids only), as MLflow's permission model has them.
"""

from __future__ import annotations

import threading

from cli.local.tracking.errors import TrackingError

PARENT_TAG = "mlflow.parentRunId"


class RunScope:
    def __init__(self, store, root_run: str):
        self.store = store
        self._runs, self._models, self._lock = {root_run}, set(), threading.Lock()

    def add_run(self, run_id: str) -> None:
        with self._lock:
            self._runs.add(run_id)

    def add_model(self, model_id: str) -> None:
        with self._lock:
            self._models.add(model_id)

    def has_run(self, run_id: str) -> bool:
        seen, current = set(), run_id
        while current and current not in seen:
            if current in self._runs:
                if current != run_id:
                    self.add_run(run_id)
                return True
            seen.add(current)
            try:
                tags = self.store.get_run(current)["data"]["tags"]
            except TrackingError:
                return False
            current = next((t["value"] for t in tags if t["key"] == PARENT_TAG), None)
        return False

    def has_model(self, model_id: str) -> bool:
        if model_id in self._models:
            return True
        try:
            source = self.store.get_logged_model(model_id, allow_deleted=True)["info"].get("source_run_id")
        except TrackingError:
            return True  # unknown: let the store answer RESOURCE_DOES_NOT_EXIST
        return bool(source) and self.has_run(source)

    def check_run(self, run_id: str) -> None:
        if run_id and not self.has_run(str(run_id)):
            try:
                self.store.get_run(str(run_id))
            except TrackingError:
                return  # no such run: the store's own answer follows
            raise TrackingError("PERMISSION_DENIED", f"Run {run_id} belongs to another job; this job's token"
                                " reaches only its own runs.")

    def check_model(self, model_id: str) -> None:
        if model_id and not self.has_model(str(model_id)):
            raise TrackingError("PERMISSION_DENIED", f"Logged model {model_id} belongs to another job's runs.")
