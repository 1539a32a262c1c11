"""Sweep jobs on the local workspace: search spaces and samplers, early termination, and the runner
that starts trials as child jobs and reads their objective from the trials' MLflow metrics."""
