"""The embedded local workspace: answers the Azure ML REST API in-process (see service.py)."""
