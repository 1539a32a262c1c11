"""The MLflow tracking data of one local workspace: experiments, runs, params, metrics, tags.

Its own SQLite file (`<workspace>/tracking.db`, WAL, busy timeout, versioned schema) so a job's
metric stream never contends with the resource store. Artifacts are plain files under the job's
folder (`<workspace>/jobs/<job>/artifacts/`). Values come back in the JSON shapes of MLflow's REST
API (service.proto), so the HTTP layer only moves them.
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from cli.local import sqlite_file
from cli.local.tracking import search
from cli.local.tracking.errors import TrackingError
from cli.local.tracking.models import LoggedModelStore, now_ms

BUSY_TIMEOUT_MS = 60_000
DEFAULT_EXPERIMENT = "Default"
PARENT_TAG, RUN_NAME_TAG, LOGGED_MODELS_TAG = "mlflow.parentRunId", "mlflow.runName", "mlflow.log-model.history"
STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")

# Each entry migrates the schema from version i to i + 1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE experiments (
        experiment_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, artifact_location TEXT NOT NULL,
        lifecycle_stage TEXT NOT NULL, creation_time INTEGER NOT NULL, last_update_time INTEGER NOT NULL
    );
    CREATE TABLE experiment_tags (
        experiment_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (experiment_id, key)
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL, run_name TEXT NOT NULL,
        user_id TEXT NOT NULL, status TEXT NOT NULL, start_time INTEGER NOT NULL, end_time INTEGER,
        lifecycle_stage TEXT NOT NULL, artifact_dir TEXT NOT NULL  -- relative to the workspace folder
    );
    CREATE INDEX runs_by_experiment ON runs (experiment_id);
    CREATE TABLE params (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
    CREATE TABLE tags (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
    CREATE TABLE metrics (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, key TEXT NOT NULL,
        value REAL, is_nan INTEGER NOT NULL, timestamp INTEGER NOT NULL, step INTEGER NOT NULL
    );
    CREATE INDEX metrics_by_key ON metrics (run_id, key, seq);
    CREATE TABLE latest_metrics (
        run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL,
        timestamp INTEGER NOT NULL, step INTEGER NOT NULL, PRIMARY KEY (run_id, key)
    );
    CREATE TABLE inputs (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, body TEXT NOT NULL);
    INSERT INTO experiments VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 0, 0)
    """,
    """
    CREATE TABLE logged_models (
        model_id TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL, name TEXT NOT NULL, model_type TEXT,
        source_run_id TEXT, status TEXT NOT NULL, status_message TEXT, lifecycle_stage TEXT NOT NULL,
        creation_time INTEGER NOT NULL, last_update_time INTEGER NOT NULL,
        artifact_dir TEXT NOT NULL  -- relative to the workspace folder
    );
    CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id);
    CREATE TABLE logged_model_tags (model_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                                    PRIMARY KEY (model_id, key));
    CREATE TABLE logged_model_params (model_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                                      PRIMARY KEY (model_id, key));
    CREATE TABLE logged_model_metrics (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, model_id TEXT NOT NULL, run_id TEXT, key TEXT NOT NULL,
        value REAL, is_nan INTEGER NOT NULL, timestamp INTEGER NOT NULL, step INTEGER NOT NULL,
        dataset_name TEXT, dataset_digest TEXT
    );
    CREATE INDEX logged_model_metrics_by_model ON logged_model_metrics (model_id, seq);
    CREATE TABLE run_models (  -- the models a run used (input) or produced (output)
        seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, model_id TEXT NOT NULL,
        direction TEXT NOT NULL, step INTEGER NOT NULL
    );
    CREATE INDEX run_models_by_run ON run_models (run_id, seq)
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _metric_value(row) -> float:
    return math.nan if row["is_nan"] else row["value"]


class TrackingStore(LoggedModelStore):
    """One workspace's tracking database. Thread-safe: one connection, one lock."""

    def __init__(self, workspace_dir: Path):
        self.root = Path(workspace_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "tracking.db"
        self._lock = threading.RLock()
        # Created whole or not at all; an empty, truncated or foreign file is exit 9, never started afresh.
        if not self.path.exists():
            sqlite_file.create(self.path, lambda conn: conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
        sqlite_file.check(self.path, "local tracking database")
        # isolation_level=None: every write transaction is an explicit BEGIN IMMEDIATE.
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                     isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _migrate(self) -> None:
        if [tuple(row) for row in self._read("SELECT version FROM schema_version")] == [(SCHEMA_VERSION,)]:
            return  # current: no write lock taken (a job's runner opens the store as its command starts)
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            current = row[0] if row else 0
            if current > SCHEMA_VERSION:
                raise TrackingError("INTERNAL_ERROR", f"tracking database {self.path} has schema version "
                                    f"{current}, newer than this ml understands ({SCHEMA_VERSION})")
            for script in MIGRATIONS[current:]:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))

    # ---- experiments

    def _experiment(self, row: sqlite3.Row) -> dict:
        tags = self._read("SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key",
                          (row["experiment_id"],))
        return {"experiment_id": str(row["experiment_id"]), "name": row["name"],
                "artifact_location": row["artifact_location"], "lifecycle_stage": row["lifecycle_stage"],
                "creation_time": row["creation_time"], "last_update_time": row["last_update_time"],
                "tags": [dict(t) for t in tags]}

    def get_experiment(self, experiment_id: str) -> dict:
        rows = self._read("SELECT * FROM experiments WHERE experiment_id = ?", (_int_id(experiment_id),))
        if not rows:
            raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={experiment_id} exists")
        return self._experiment(rows[0])

    def get_experiment_by_name(self, name: str) -> dict:
        rows = self._read("SELECT * FROM experiments WHERE name = ?", (name,))
        if not rows:
            raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name '{name}'")
        return self._experiment(rows[0])

    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: list[dict] = ()) -> str:
        if not name:
            raise TrackingError("INVALID_PARAMETER_VALUE", "Invalid experiment name: ''")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone():
                raise TrackingError("RESOURCE_ALREADY_EXISTS", f"Experiment(name={name}) already exists.")
            new_id = self._insert_experiment(conn, name, artifact_location)
            conn.executemany("INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)",
                             [(new_id, t["key"], str(t.get("value", ""))) for t in tags])
        return str(new_id)

    @staticmethod
    def _insert_experiment(conn: sqlite3.Connection, name: str, artifact_location: str | None = None) -> int:
        new_id = conn.execute("SELECT COALESCE(MAX(experiment_id), 0) + 1 FROM experiments").fetchone()[0]
        stamp = now_ms()
        conn.execute("INSERT INTO experiments VALUES (?, ?, ?, 'active', ?, ?)",
                     (new_id, name, artifact_location or f"mlflow-artifacts:/{new_id}", stamp, stamp))
        return new_id

    def ensure_experiment(self, name: str) -> str:
        """The id of the experiment called `name`, created when missing."""
        try:
            return self.get_experiment_by_name(name)["experiment_id"]
        except TrackingError:
            try:
                return self.create_experiment(name)
            except TrackingError:  # another process created it meanwhile
                return self.get_experiment_by_name(name)["experiment_id"]

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.get_experiment(experiment_id)
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)",
                         (_int_id(experiment_id), key, value))

    def search_experiments(self, view_type: str = "ACTIVE_ONLY", filter_string: str = "",
                           max_results: int = 1000, page_token: str = "") -> tuple[list[dict], str]:
        experiments = [self._experiment(r) for r in self._read("SELECT * FROM experiments ORDER BY experiment_id")]
        experiments = [e for e in experiments if search.stage_visible(e["lifecycle_stage"], view_type)]
        experiments = [e for e in experiments if search.experiment_matches(e, filter_string)]
        return search.page(experiments, max_results, page_token)

    # ---- runs

    def create_run(self, experiment_id: str, *, run_id: str | None = None, run_name: str = "",
                   user_id: str = "", start_time: int | None = None, tags: list[dict] = ()) -> dict:
        """Create a run; `run_id` is given for a job's root run and generated for the others."""
        experiment = self.get_experiment(experiment_id or "0")
        run_id = run_id or secrets.token_hex(16)
        tag_map = {t["key"]: str(t.get("value", "")) for t in tags}
        run_name = run_name or tag_map.get(RUN_NAME_TAG) or run_id
        tag_map[RUN_NAME_TAG] = run_name
        artifact_dir = self._artifact_dir_for(run_id, tag_map.get(PARENT_TAG))
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
                raise TrackingError("RESOURCE_ALREADY_EXISTS", f"Run with id={run_id} already exists.")
            self._insert_run(conn, run_id, int(experiment["experiment_id"]), run_name, user_id,
                             start_time or now_ms(), artifact_dir, tag_map)
        return self.get_run(run_id)

    @staticmethod
    def _insert_run(conn: sqlite3.Connection, run_id: str, experiment_id: int, run_name: str, user_id: str,
                    start_time: int, artifact_dir: str, tags: dict[str, str]) -> None:
        conn.execute("INSERT INTO runs VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, 'active', ?)",
                     (run_id, experiment_id, run_name, user_id, start_time, artifact_dir))
        conn.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", [(run_id, k, v) for k, v in tags.items()])

    def create_job_run(self, job_name: str, experiment_name: str = DEFAULT_EXPERIMENT) -> dict:
        """The root run of a job (run id = job name), created on first call, as it is later: its `info`.

        One write transaction (the experiment created when missing): a job's runner calls it on the
        way to starting its command."""
        with self._write() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (job_name,)).fetchone()
            if row is None:
                found = conn.execute("SELECT experiment_id FROM experiments WHERE name = ?",
                                     (experiment_name,)).fetchone()
                experiment = found[0] if found else self._insert_experiment(conn, experiment_name)
                self._insert_run(conn, job_name, experiment, job_name, "", now_ms(), f"jobs/{job_name}/artifacts",
                                 {RUN_NAME_TAG: job_name})
                row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (job_name,)).fetchone()
        return {"info": self._info(row)}

    def _artifact_dir_for(self, run_id: str, parent_id: str | None) -> str:
        # A top-level run (a job's) keeps artifacts in its job folder; a nested run in a folder
        # below its top-level ancestor's, so one job's files stay together.
        top, seen = None, set()
        while parent_id and parent_id not in seen:
            if not self._read("SELECT 1 FROM runs WHERE run_id = ?", (parent_id,)):
                break
            top = parent_id
            seen.add(top)
            tag = self._read("SELECT value FROM tags WHERE run_id = ? AND key = ?", (top, PARENT_TAG))
            parent_id = tag[0]["value"] if tag else None
        return f"jobs/{top}/runs/{run_id}/artifacts" if top else f"jobs/{run_id}/artifacts"

    def _run_row(self, run_id: str) -> sqlite3.Row:
        rows = self._read("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"Run with id={run_id} not found")
        return rows[0]

    def _info(self, row: sqlite3.Row) -> dict:
        info = {"run_id": row["run_id"], "run_uuid": row["run_id"], "run_name": row["run_name"],
                "experiment_id": str(row["experiment_id"]), "user_id": row["user_id"],
                "status": row["status"], "start_time": row["start_time"],
                "artifact_uri": f"mlflow-artifacts:/{row['experiment_id']}/{row['run_id']}/artifacts",
                "lifecycle_stage": row["lifecycle_stage"]}
        if row["end_time"] is not None:
            info["end_time"] = row["end_time"]
        return info

    def get_run(self, run_id: str) -> dict:
        info = self._info(self._run_row(run_id))
        params = self._read("SELECT key, value FROM params WHERE run_id = ? ORDER BY key", (run_id,))
        tags = self._read("SELECT key, value FROM tags WHERE run_id = ? ORDER BY key", (run_id,))
        inputs = self._read("SELECT body FROM inputs WHERE run_id = ? ORDER BY seq", (run_id,))
        model_inputs, model_outputs = self.run_models(run_id)
        return {"info": info,
                "data": {"metrics": [_metric(m) for m in self._latest_rows(run_id)],
                         "params": [dict(p) for p in params], "tags": [dict(t) for t in tags]},
                "inputs": {"dataset_inputs": [json.loads(i["body"]) for i in inputs], "model_inputs": model_inputs},
                "outputs": {"model_outputs": model_outputs}}

    def update_run(self, run_id: str, status: str | None = None, end_time: int | None = None,
                   run_name: str | None = None) -> dict:
        self._run_row(run_id)
        if status is not None and status not in STATUSES:
            raise TrackingError("INVALID_PARAMETER_VALUE", f"Invalid run status '{status}'")
        with self._write() as conn:
            if status:
                conn.execute("UPDATE runs SET status = ? WHERE run_id = ?", (status, run_id))
            if end_time is not None:
                conn.execute("UPDATE runs SET end_time = ? WHERE run_id = ?", (end_time, run_id))
            if run_name:
                conn.execute("UPDATE runs SET run_name = ? WHERE run_id = ?", (run_name, run_id))
                conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", (run_id, RUN_NAME_TAG, run_name))
        return self._info(self._run_row(run_id))

    def set_lifecycle_stage(self, run_id: str, stage: str) -> None:
        self._run_row(run_id)
        with self._write() as conn:
            conn.execute("UPDATE runs SET lifecycle_stage = ? WHERE run_id = ?", (stage, run_id))

    def _active_run(self, run_id: str) -> sqlite3.Row:
        row = self._run_row(run_id)
        if row["lifecycle_stage"] != "active":
            raise TrackingError("INVALID_PARAMETER_VALUE", f"The run {run_id} must be in the 'active' state. "
                                f"Current state is {row['lifecycle_stage']}.")
        return row

    # ---- params, metrics, tags

    def log_batch(self, run_id: str, metrics: list[dict] = (), params: list[dict] = (),
                  tags: list[dict] = ()) -> None:
        """Log everything in one transaction: all of it is stored, or none (params are immutable)."""
        self._active_run(run_id)
        with self._write() as conn:
            for param in params:
                key, value = param["key"], str(param.get("value", ""))
                old = conn.execute("SELECT value FROM params WHERE run_id = ? AND key = ?", (run_id, key)).fetchone()
                if old is None:
                    conn.execute("INSERT INTO params VALUES (?, ?, ?)", (run_id, key, value))
                elif old["value"] != value:
                    raise TrackingError(
                        "INVALID_PARAMETER_VALUE",
                        f"Changing param values is not allowed. Param with key='{key}' was already logged "
                        f"with value='{old['value']}' for run ID='{run_id}'. Attempted logging new value '{value}'.")
            for tag in tags:
                conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", (run_id, tag["key"], str(tag.get("value", ""))))
                if tag["key"] == RUN_NAME_TAG:
                    conn.execute("UPDATE runs SET run_name = ? WHERE run_id = ?", (str(tag.get("value", "")), run_id))
            for metric in metrics:
                self._insert_metric(conn, run_id, metric)

    def _insert_metric(self, conn: sqlite3.Connection, run_id: str, metric: dict) -> None:
        value, step, stamp = metric["value"], metric["step"], metric["timestamp"]
        is_nan = math.isnan(value)
        row = (run_id, metric["key"], None if is_nan else value, int(is_nan), stamp, step)
        if metric.get("model_id"):
            self.insert_model_metric(conn, run_id, metric)
            # log_model links the run's metrics to the new model by logging them again: the run's
            # history keeps one copy, as MLflow's stores do.
            if conn.execute("SELECT 1 FROM metrics WHERE run_id = ? AND key = ? AND value IS ? AND is_nan = ?"
                            " AND timestamp = ? AND step = ?", row).fetchone():
                return
        conn.execute("INSERT INTO metrics (run_id, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)", row)
        # The latest value is the one of the highest step, then the latest timestamp (as MLflow).
        conn.execute(
            "INSERT INTO latest_metrics VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET"
            " value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step"
            " WHERE (excluded.step, excluded.timestamp) >= (latest_metrics.step, latest_metrics.timestamp)", row)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._active_run(run_id)
        with self._write() as conn:
            if not conn.execute("DELETE FROM tags WHERE run_id = ? AND key = ?", (run_id, key)).rowcount:
                raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"No tag with name: {key} in run with id {run_id}")

    def log_model(self, run_id: str, model: dict) -> None:
        """Append a model's description to the run's model-history tag, as MLflow's stores do."""
        self._active_run(run_id)
        with self._write() as conn:
            old = conn.execute("SELECT value FROM tags WHERE run_id = ? AND key = ?", (run_id, LOGGED_MODELS_TAG)).fetchone()
            history = json.loads(old["value"]) if old else []
            conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)",
                         (run_id, LOGGED_MODELS_TAG, json.dumps(history + [model])))

    def log_inputs(self, run_id: str, datasets: list[dict], models: list[dict] = ()) -> None:
        self.link_models(run_id, "input", models)  # first: it checks the models exist
        with self._write() as conn:
            conn.executemany("INSERT INTO inputs (run_id, body) VALUES (?, ?)",
                             [(run_id, json.dumps(d, sort_keys=True)) for d in datasets])

    def metric_history(self, run_id: str, key: str) -> list[dict]:
        self._run_row(run_id)
        rows = self._read("SELECT * FROM metrics WHERE run_id = ? AND key = ? ORDER BY seq", (run_id, key))
        return [_metric(r) for r in rows]

    def _latest_rows(self, run_id: str) -> list[sqlite3.Row]:
        return self._read("SELECT * FROM latest_metrics WHERE run_id = ? ORDER BY key", (run_id,))

    def latest_metrics(self, run_id: str) -> dict[str, float]:
        self._run_row(run_id)
        return {r["key"]: _metric_value(r) for r in self._latest_rows(run_id)}

    def params(self, run_id: str) -> dict[str, str]:
        self._run_row(run_id)
        return {r["key"]: r["value"] for r in self._read("SELECT key, value FROM params WHERE run_id = ?", (run_id,))}

    def search_runs(self, experiment_ids: list[str], filter_string: str = "", view_type: str = "ACTIVE_ONLY",
                    max_results: int = 1000, order_by: list[str] = (), page_token: str = "") -> tuple[list[dict], str]:
        ids = [_int_id(e) for e in experiment_ids]
        marks = ",".join("?" * len(ids))
        rows = self._read(f"SELECT run_id, lifecycle_stage FROM runs WHERE experiment_id IN ({marks})", ids)
        runs = [self.get_run(r["run_id"]) for r in rows if search.stage_visible(r["lifecycle_stage"], view_type)]
        runs = [r for r in runs if search.run_matches(r, filter_string)]
        return search.page(search.order_runs(runs, order_by), max_results, page_token)

    # ---- artifacts

    def artifact_dir(self, run_id: str) -> Path:
        return self.root / self._run_row(run_id)["artifact_dir"]


def _metric(row: sqlite3.Row) -> dict:
    return {"key": row["key"], "value": _metric_value(row), "timestamp": row["timestamp"], "step": row["step"]}


def _int_id(experiment_id) -> int:
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise TrackingError("INVALID_PARAMETER_VALUE", f"Invalid experiment ID: '{experiment_id}'") from None
