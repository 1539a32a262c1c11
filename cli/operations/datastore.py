"""Datastores: create from a spec, show, list, delete."""

from __future__ import annotations

from typing import Optional


def create(client, spec: dict) -> dict:
    from cli.rest import datastore

    # As the SDK creates them: the service does not try the credentials at create time.
    return datastore.from_rest(client.put(client.workspace.datastore(spec["name"]), datastore.to_rest(spec),
                                          params={"skipValidation": True}))


def show(client, name: str) -> dict:
    from cli.rest import datastore

    return datastore.from_rest(client.get(client.workspace.datastore(name)))


def list_datastores(client, max_results: Optional[int] = None) -> list:
    from cli.rest import datastore

    return [datastore.from_rest(item) for item in client.list(client.workspace.datastore(), max_results=max_results)]


def delete(client, name: str) -> None:
    client.get(client.workspace.datastore(name))  # a missing datastore is an error (exit 3)
    client.delete(client.workspace.datastore(name))
