"""An MLflow-compatible tracking server for local jobs: store (SQLite + artifact folders), the REST
API over it (server), and the summaries `ml job show` prints (summary)."""
