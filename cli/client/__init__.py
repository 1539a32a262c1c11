"""The workspace client: resource paths, retries, paging, long-running operations, SAS uploads;
transports for Azure and for the embedded local workspace. Kept import-light for `ml --help`."""
