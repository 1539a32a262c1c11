"""The spec layer: YAML in, validated spec out. No workspace I/O."""
