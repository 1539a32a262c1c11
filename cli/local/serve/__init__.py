"""`ml local serve`: the local workspaces over HTTPS on loopback, for clients that believe they talk to Azure.

  client ──CONNECT host:443 (Proxy-Authorization)──▶ proxy (127.0.0.1:PORT) ──bytes──▶ gateway (TLS, uvicorn)
                                                                                       │
   login.ml.invalid      token endpoint, OpenID configuration (cli.local.serve.identity)
   management.ml.invalid ARM (+ /metadata/endpoints, the cloud metadata)  ─▶ LocalHome.handle, as in-process
   api.ml.invalid        discovery, run history, MLflow
   *.blob.ml.invalid     the blob plane (SAS-signed)

Only those hosts are tunnelled; any other CONNECT is refused (403), so a client that sends other traffic
through this proxy fails loudly instead of leaking it. The CA (cli.local.serve.certs) is made once per
ML_HOME; the credential and the tokens (cli.local.serve.identity) are the workspace's own.
"""
