"""The two ways a request reaches a workspace: over HTTPS to Azure, or in-process to the local one."""
