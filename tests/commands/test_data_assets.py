"""`ml data`: create/show/list/update/archive/restore on the local workspace, as az ml behaves."""

from __future__ import annotations

import re

from tests.commands.asset_cli import WS, ml_fails, ml_json, ml_ok
from tests.conftest import run_ml

UPLOADED = re.compile(r"^azureml://subscriptions/0{8}-0{4}-0{4}-0{4}-0{12}/resourcegroups/local/workspaces/local/"
                      r"datastores/workspaceblobstore/paths/LocalUpload/[0-9a-f]{64}/")


def _file(tmp_path, name="sample.csv", text="a,b\n1,2\n"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_create_from_flags_uploads_and_show_prints_the_spec_shape(tmp_path):
    _file(tmp_path)
    created = ml_json("data", "create", "-n", "iris", "-v", "1", "--path", "sample.csv", "-t", "uri_file",
                      "--description", "a table", cwd=tmp_path)
    path = created.pop("path")
    assert UPLOADED.match(path) and path.endswith("/sample.csv")
    assert created == {"name": "iris", "version": "1", "id": f"{WS}/data/iris/versions/1", "description": "a table",
                       "tags": {}, "properties": {}, "type": "uri_file"}
    assert ml_ok("data", "show", "-n", "iris", "-v", "1", "--query", "path", "-o", "tsv") == path + "\n"
    assert ml_json("data", "show", "-n", "iris", "-l", "latest") == {**created, "path": path}


def test_create_from_a_spec_file_with_set_and_a_folder(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "part-0.csv").write_text("x\n")
    (tmp_path / "data.yml").write_text("name: parts\nversion: 3\ntype: uri_folder\npath: ./folder\ntags: {a: 1}\n")
    created = ml_json("data", "create", "-f", str(tmp_path / "data.yml"), "--set", "description=parts")
    assert (created["name"], created["version"], created["type"], created["tags"], created["description"]) == \
        ("parts", "3", "uri_folder", {"a": "1"}, "parts")
    assert UPLOADED.match(created["path"]) and created["path"].endswith("/folder")


def test_same_version_same_content_is_a_no_op_other_content_a_conflict(tmp_path):
    _file(tmp_path)
    first = ml_json("data", "create", "-n", "d", "-v", "1", "-p", "sample.csv", "-t", "uri_file", cwd=tmp_path)
    assert ml_json("data", "create", "-n", "d", "-v", "1", "-p", "sample.csv", "-t", "uri_file", cwd=tmp_path) == first
    _file(tmp_path, "other.csv", "changed\n")
    error = ml_fails(5, "data", "create", "-n", "d", "-v", "1", "-p", "other.csv", "-t", "uri_file", cwd=tmp_path)
    assert error.startswith("ml: error: (UserError) Version '1' of data 'd' already exists with different content;")
    assert "Changed: properties.dataUri." in error and len(error.splitlines()) == 1
    assert ml_json("data", "show", "-n", "d", "-v", "1") == first


def test_without_a_version_the_next_one_is_taken(tmp_path):
    _file(tmp_path)
    ml_ok("data", "create", "-n", "d", "-v", "5", "-p", "sample.csv", cwd=tmp_path)
    versions = [ml_ok("data", "create", "-n", "d", "-p", "sample.csv", "--query", "version", "-o", "tsv", cwd=tmp_path)
                for _ in range(2)]
    assert versions == ["6\n", "7\n"]
    assert ml_ok("data", "list", "-n", "d", "--query", "[].version", "-o", "tsv") == "7\n6\n5\n"


def test_archive_hides_from_list_and_latest_restore_brings_back(tmp_path):
    _file(tmp_path)
    for version in ("1", "2"):
        ml_ok("data", "create", "-n", "d", "-v", version, "-p", "sample.csv", cwd=tmp_path)
    assert ml_ok("data", "archive", "-n", "d", "-v", "2") == ""
    assert ml_ok("data", "show", "-n", "d", "-l", "latest", "--query", "version", "-o", "tsv") == "1\n"
    assert ml_ok("data", "list", "-n", "d", "--query", "[].version", "-o", "tsv") == "1\n"
    assert ml_ok("data", "list", "-n", "d", "--archived-only", "--query", "[].version", "-o", "tsv") == "2\n"
    assert ml_ok("data", "list", "-n", "d", "--include-archived", "--query", "[].version", "-o", "tsv") == "2\n1\n"
    ml_ok("data", "restore", "-n", "d", "-v", "2")
    assert ml_ok("data", "show", "-n", "d", "-l", "latest", "--query", "version", "-o", "tsv") == "2\n"
    ml_ok("data", "archive", "-n", "d", "-v", "1")
    ml_ok("data", "archive", "-n", "d", "-v", "2")
    error = ml_fails(3, "data", "show", "-n", "d", "-l", "latest")
    assert error == ("ml: error: data asset 'd' has no version that is not archived (@latest skips archived versions)\n"
                     "hint: ml data list -n d --include-archived shows its versions\n")


def test_archiving_the_asset_hides_its_name_from_list(tmp_path):
    _file(tmp_path)
    ml_ok("data", "create", "-n", "kept", "-v", "1", "-p", "sample.csv", cwd=tmp_path)
    ml_ok("data", "create", "-n", "gone", "-v", "1", "-p", "sample.csv", cwd=tmp_path)
    ml_ok("data", "archive", "-n", "gone")
    assert ml_ok("data", "list", "--query", "[].name", "-o", "tsv") == "kept\n"
    assert sorted(ml_ok("data", "list", "--include-archived", "--query", "[].name", "-o", "tsv").split()) == ["gone", "kept"]


def test_update_changes_description_and_tags_only(tmp_path):
    _file(tmp_path)
    ml_ok("data", "create", "-n", "d", "-v", "1", "-p", "sample.csv", cwd=tmp_path)
    updated = ml_json("data", "update", "-n", "d", "-v", "1", "--set", "description=new", "tags.team=ml")
    assert (updated["description"], updated["tags"]) == ("new", {"team": "ml"})
    assert ml_json("data", "show", "-n", "d", "-v", "1") == updated
    error = ml_fails(5, "data", "update", "-n", "d", "-v", "1", "--set", "type=mltable")
    assert error == ("ml: error: data asset 'd' version 1: type cannot change; versions are immutable "
                     "(only description, tags can be updated)\nhint: create a new version instead\n")


def test_remote_datastore_uri_is_kept_and_expanded(tmp_path):
    created = ml_json("data", "create", "-n", "r", "-v", "1", "-t", "uri_folder",
                      "-p", "azureml://datastores/workspaceblobstore/paths/some/folder/")
    assert created["path"] == ("azureml://subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/local"
                               "/workspaces/local/datastores/workspaceblobstore/paths/some/folder/")


def test_errors_exit_codes(tmp_path):
    assert ml_fails(3, "data", "show", "-n", "nope", "-v", "1").startswith(
        "ml: error: (ResourceNotFound) The data version 'nope:1' was not found in this workspace.")
    assert ml_fails(2, "data", "show", "-n", "d") == "ml: error: give the data asset's --version/-v or --label/-l latest\n"
    assert ml_fails(2, "data", "show", "-n", "d", "-v", "1", "-l", "latest") == \
        "ml: error: give --version/-v or --label/-l, not both\n"
    assert ml_fails(2, "data", "create", "-n", "d") == "ml: error: give a spec file with -f, or --path\n"
    assert ml_fails(2, "data", "create", "-n", "d", "-p", "missing.csv", cwd=tmp_path) == \
        f"ml: error: local path 'missing.csv' does not exist (looked for {tmp_path / 'missing.csv'})\n"
    assert ml_fails(2, "data", "list", "--include-archived", "--archived-only") == \
        "ml: error: give --include-archived or --archived-only, not both\n"


def test_tags_flag_takes_several_pairs_as_az_does(tmp_path):
    (tmp_path / "d.csv").write_text("a\n1\n")
    tags = ml_json("data", "create", "-n", "tagged", "-p", str(tmp_path / "d.csv"), "-t", "uri_file",
                   "--tags", "team=ml", "owner=me", "--query", "tags")
    assert tags == {"team": "ml", "owner": "me"}
    bad = run_ml("data", "create", "-n", "tagged", "-p", str(tmp_path / "d.csv"), "--tags", "=x")
    assert bad.returncode == 2 and bad.stderr == "ml: error: --tags =x: expected key=value\n"
