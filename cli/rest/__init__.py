"""Pure translation between validated spec data and Azure ML REST bodies (api-version 2025-12-01).

One module per resource family, each with `to_rest(spec, refs) -> body` and
`from_rest(body) -> spec-shaped dict` (what `show` prints). No I/O beyond reading the small local
files a body embeds (an environment's conda file).
"""
