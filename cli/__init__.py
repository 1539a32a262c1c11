"""ml: Azure ML CLI v2 specs, validated and run on an embedded local workspace or sent to Azure."""

__version__ = "0.1.0"
