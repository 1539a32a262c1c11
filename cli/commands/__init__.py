"""One module per command group; `GROUPS` is the registry `cli.app` builds the command tree from."""

GROUPS = [
    # (group name, module, help)
    ("job", "cli.commands.job", "Command, pipeline, sweep, AutoML and Spark jobs."),
    ("component", "cli.commands.component", "Reusable components for pipelines."),
    ("data", "cli.commands.data", "Data assets (uri_file, uri_folder, mltable)."),
    ("model", "cli.commands.model", "Model assets."),
    ("environment", "cli.commands.environment", "Environments: images, conda files, build contexts."),
    ("compute", "cli.commands.compute", "Compute targets."),
    ("online-endpoint", "cli.commands.online_endpoint", "Online (real-time) endpoints."),
    ("online-deployment", "cli.commands.online_deployment", "Deployments behind online endpoints."),
    ("batch-endpoint", "cli.commands.batch_endpoint", "Batch endpoints."),
    ("batch-deployment", "cli.commands.batch_deployment", "Deployments behind batch endpoints."),
    ("datastore", "cli.commands.datastore", "Datastores."),
    ("schedule", "cli.commands.schedule", "Schedules that create jobs."),
    ("workspace", "cli.commands.workspace", "Workspaces."),
    ("connection", "cli.commands.connection", "Connections to external services."),
    ("registry", "cli.commands.registry", "Registries of shared assets."),
    ("local", "cli.commands.local", "The local workspace as a service (ml local serve)."),
]
