"""MLflow 3 logged models in the tracking store: a model's info, tags, params, metrics, run links.

A model's files live beside the job that made it (`jobs/<job>/models/<model>/artifacts/`), or
under `mlflow-models/<model>/artifacts/` when no run made it. Values come back in the JSON shapes
of service.proto's LoggedModel, so the HTTP layer only moves them.
"""

from __future__ import annotations

import math
import secrets
import sqlite3
import time
import uuid
from pathlib import Path

from cli.local.tracking import search
from cli.local.tracking.errors import TrackingError

STATUSES = ("LOGGED_MODEL_STATUS_UNSPECIFIED", "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY",
            "LOGGED_MODEL_UPLOAD_FAILED")


def status_name(value) -> str:
    """A LoggedModelStatus as protobuf JSON names it, from its name or its number."""
    if isinstance(value, int) and 0 <= value < len(STATUSES):
        return STATUSES[value]
    if value in STATUSES:
        return value
    raise TrackingError("INVALID_PARAMETER_VALUE", f"Invalid logged model status '{value}'. "
                        f"Expected one of {list(STATUSES[1:])}.")


class LoggedModelStore:
    """The logged-model half of TrackingStore (which provides `_read`, `_write`, `root`)."""

    def create_logged_model(self, experiment_id: str, name: str = "", source_run_id: str = "",
                            model_type: str = "", tags: list[dict] = (), params: list[dict] = ()) -> dict:
        experiment = self.get_experiment(experiment_id)
        if experiment["lifecycle_stage"] != "active":
            raise TrackingError("INVALID_STATE", f"The experiment {experiment_id} must be in the 'active' state.")
        model_id = f"m-{uuid.uuid4().hex}"
        stamp = now_ms()
        with self._write() as conn:
            conn.execute("INSERT INTO logged_models VALUES (?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', NULL, 'active',"
                         " ?, ?, ?)", (model_id, int(experiment_id), name or f"model-{secrets.token_hex(4)}",
                                       model_type or None, source_run_id or None, stamp, stamp,
                                       self._model_dir_for(model_id, source_run_id)))
            conn.executemany("INSERT OR REPLACE INTO logged_model_tags VALUES (?, ?, ?)",
                             [(model_id, t["key"], str(t.get("value", ""))) for t in tags])
            self._insert_model_params(conn, model_id, params)
        return self.get_logged_model(model_id)

    def _model_dir_for(self, model_id: str, run_id: str) -> str:
        # Beside the job that made it, so one job's files stay together.
        rows = self._read("SELECT artifact_dir FROM runs WHERE run_id = ?", (run_id,)) if run_id else []
        if not rows:
            return f"mlflow-models/{model_id}/artifacts"
        job_folder = "/".join(rows[0]["artifact_dir"].split("/")[:2])  # jobs/<job>
        return f"{job_folder}/models/{model_id}/artifacts"

    def _model_row(self, model_id: str, allow_deleted: bool = True) -> sqlite3.Row:
        rows = self._read("SELECT * FROM logged_models WHERE model_id = ?", (model_id,))
        if not rows or (not allow_deleted and rows[0]["lifecycle_stage"] == "deleted"):
            raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"Logged model with ID '{model_id}' not found.")
        return rows[0]

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> dict:
        row = self._model_row(model_id, allow_deleted)
        tags = self._read("SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key", (model_id,))
        params = self._read("SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key", (model_id,))
        metrics = self._read("SELECT * FROM logged_model_metrics WHERE model_id = ? ORDER BY seq", (model_id,))
        info = {"model_id": model_id, "experiment_id": str(row["experiment_id"]), "name": row["name"],
                "creation_timestamp_ms": row["creation_time"], "last_updated_timestamp_ms": row["last_update_time"],
                "artifact_uri": f"mlflow-artifacts:/{row['experiment_id']}/models/{model_id}/artifacts",
                "status": row["status"], "tags": [dict(t) for t in tags]}
        for optional in ("model_type", "source_run_id", "status_message"):
            if row[optional] is not None:
                info[optional] = row[optional]
        return {"info": info, "data": {"params": [dict(p) for p in params], "metrics": [_metric(m) for m in metrics]}}

    def model_artifact_dir(self, model_id: str) -> Path:
        return self.root / self._model_row(model_id)["artifact_dir"]

    def _touch(self, conn: sqlite3.Connection, model_id: str, **columns) -> None:
        sets = "".join(f", {name} = ?" for name in columns)
        conn.execute(f"UPDATE logged_models SET last_update_time = ?{sets} WHERE model_id = ?",
                     (now_ms(), *columns.values(), model_id))

    def finalize_logged_model(self, model_id: str, status) -> dict:
        self._model_row(model_id, allow_deleted=False)
        with self._write() as conn:
            self._touch(conn, model_id, status=status_name(status))
        return self.get_logged_model(model_id)

    def delete_logged_model(self, model_id: str) -> None:
        self._model_row(model_id, allow_deleted=False)
        with self._write() as conn:
            self._touch(conn, model_id, lifecycle_stage="deleted")

    def set_logged_model_tags(self, model_id: str, tags: list[dict]) -> dict:
        self._model_row(model_id, allow_deleted=False)
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO logged_model_tags VALUES (?, ?, ?)",
                             [(model_id, t["key"], str(t.get("value", ""))) for t in tags])
            self._touch(conn, model_id)
        return self.get_logged_model(model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._model_row(model_id, allow_deleted=False)
        with self._write() as conn:
            deleted = conn.execute("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?", (model_id, key))
            if not deleted.rowcount:
                raise TrackingError("RESOURCE_DOES_NOT_EXIST",
                                    f"No tag with key '{key}' found for model with ID '{model_id}'.")
            self._touch(conn, model_id)

    def log_logged_model_params(self, model_id: str, params: list[dict]) -> None:
        self._model_row(model_id, allow_deleted=False)
        with self._write() as conn:
            self._insert_model_params(conn, model_id, params)
            self._touch(conn, model_id)

    @staticmethod
    def _insert_model_params(conn: sqlite3.Connection, model_id: str, params: list[dict]) -> None:
        for param in params:  # immutable, as a run's
            key, value = param["key"], str(param.get("value", ""))
            old = conn.execute("SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?",
                               (model_id, key)).fetchone()
            if old is None:
                conn.execute("INSERT INTO logged_model_params VALUES (?, ?, ?)", (model_id, key, value))
            elif old["value"] != value:
                raise TrackingError("INVALID_PARAMETER_VALUE", f"Changing param values is not allowed. Param "
                                    f"with key='{key}' was already logged with value='{old['value']}' for "
                                    f"model ID='{model_id}'. Attempted logging new value '{value}'.")

    @staticmethod
    def insert_model_metric(conn: sqlite3.Connection, run_id: str, metric: dict) -> None:
        """Record a run's metric against the model it names (inside the run's log transaction)."""
        if not conn.execute("SELECT 1 FROM logged_models WHERE model_id = ?", (metric["model_id"],)).fetchone():
            raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"Logged model with ID '{metric['model_id']}' not found.")
        is_nan = math.isnan(metric["value"])
        conn.execute("INSERT INTO logged_model_metrics (model_id, run_id, key, value, is_nan, timestamp, step,"
                     " dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (metric["model_id"], run_id, metric["key"], None if is_nan else metric["value"], int(is_nan),
                      metric["timestamp"], metric["step"], metric.get("dataset_name"), metric.get("dataset_digest")))

    def link_models(self, run_id: str, direction: str, models: list[dict]) -> None:
        """Record models as a run's inputs or outputs (LogInputs.models, LogOutputs.models)."""
        self._active_run(run_id)
        for model in models:
            self._model_row(model.get("model_id") or "", allow_deleted=False)
        with self._write() as conn:
            conn.executemany("INSERT INTO run_models (run_id, model_id, direction, step) VALUES (?, ?, ?, ?)",
                             [(run_id, m["model_id"], direction, int(m.get("step") or 0)) for m in models])

    def run_models(self, run_id: str) -> tuple[list[dict], list[dict]]:
        """The run's (model_inputs, model_outputs), in RunInputs/RunOutputs shape."""
        rows = self._read("SELECT * FROM run_models WHERE run_id = ? ORDER BY seq", (run_id,))
        return ([{"model_id": r["model_id"]} for r in rows if r["direction"] == "input"],
                [{"model_id": r["model_id"], "step": r["step"]} for r in rows if r["direction"] == "output"])

    def search_logged_models(self, experiment_ids: list[str], filter_string: str = "", datasets: list[dict] = (),
                             max_results: int = 100, order_by: list[dict] = (),
                             page_token: str = "") -> tuple[list[dict], str]:
        ids = [_experiment_id(e) for e in experiment_ids]
        rows = self._read(f"SELECT model_id FROM logged_models WHERE lifecycle_stage = 'active' AND experiment_id IN "
                          f"({','.join('?' * len(ids))})", ids)
        models = [self.get_logged_model(r["model_id"]) for r in rows]
        if datasets:
            models = [m for m in models if search.model_metrics_on(m, datasets)]
        models = [m for m in models if search.model_matches(m, filter_string, datasets)]
        return search.page(search.order_models(models, order_by), max_results or 100, page_token)


def _metric(row: sqlite3.Row) -> dict:
    metric = {"key": row["key"], "value": math.nan if row["is_nan"] else row["value"],
              "timestamp": row["timestamp"], "step": row["step"], "model_id": row["model_id"]}
    for optional in ("run_id", "dataset_name", "dataset_digest"):
        if row[optional] is not None:
            metric[optional] = row[optional]
    return metric


def _experiment_id(value) -> int:
    if not str(value).isdigit():
        raise TrackingError("INVALID_PARAMETER_VALUE", f"Invalid experiment ID: '{value}'")
    return int(value)


def now_ms() -> int:
    return int(time.time() * 1000)
