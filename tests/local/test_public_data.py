"""The public-data cache against a loopback stand-in for anonymous blob storage: files and folders,
cache hits, a changed ETag fetched anew, offline with and without a cached copy, SAS masked."""

from __future__ import annotations

import time

import pytest

from cli.local.runner.errors import JobError
from cli.local.runner.public_data import PublicDataCache, PublicLocation, is_public
from tests.public_storage import ACCOUNT_HOST, PublicStorage

FILE_URL = f"https://{ACCOUNT_HOST}/datasets/iris.csv?sv=2021-08-06&sig=TOPSECRET"
FOLDER_URI = f"wasbs://datasets@{ACCOUNT_HOST}/nyc"


@pytest.fixture
def storage(monkeypatch):
    with PublicStorage() as server:
        server.put("datasets/iris.csv", b"sepal,petal\n1,2\n")
        server.put("datasets/nyc/2024/jan.csv", b"a\n1\n")
        server.put("datasets/nyc/feb.csv", b"b\n2\n")
        server.put("datasets/nycother.csv", b"not in the folder\n")
        monkeypatch.setenv("ML_PUBLIC_DATA_HOSTS", server.hosts_variable())
        yield server


@pytest.fixture
def cache(tmp_path):
    lines: list[str] = []
    cache = PublicDataCache(tmp_path / "cache", lines.append)
    cache.lines = lines
    return cache


def test_which_uris_are_public():
    assert is_public(FILE_URL, "blob.ml.invalid")
    assert is_public("wasbs://c@acct.blob.core.windows.net/x", "blob.ml.invalid")
    assert not is_public("https://local.blob.ml.invalid/container/x", "blob.ml.invalid")
    assert not is_public("azureml://datastores/workspaceblobstore/paths/x", "blob.ml.invalid")
    assert not is_public("/tmp/data", "blob.ml.invalid")


def test_wasbs_is_read_as_the_https_url_of_its_blob():
    location = PublicLocation.of("wasbs://nyctlc@azureopendatastorage.blob.core.windows.net/yellow")
    assert location.url == "https://azureopendatastorage.blob.core.windows.net/nyctlc/yellow"
    assert location.blob == ("https://azureopendatastorage.blob.core.windows.net", "nyctlc", "yellow")
    assert location.name == "yellow"


def test_a_file_is_fetched_once_then_served_from_the_cache(storage, cache):
    first = cache.fetch(FILE_URL, "uri_file")
    assert first.name == "iris.csv" and first.read_bytes() == b"sepal,petal\n1,2\n"
    second = cache.fetch(FILE_URL, "uri_file")
    assert second == first
    assert storage.gets("/datasets/iris.csv") == 2  # the second GET was conditional ...
    assert [s for s in storage.requests if "iris" in s[1]][1][1].endswith("sig=TOPSECRET")  # ... and kept the SAS
    assert "using the cached copy" in cache.lines[-1]
    assert all("TOPSECRET" not in line for line in cache.lines)
    assert "sig=REDACTED" in cache.lines[0]


def test_a_changed_etag_is_fetched_anew(storage, cache):
    old = cache.fetch(FILE_URL, "uri_file")
    storage.put("datasets/iris.csv", b"sepal,petal\n3,4\n")
    new = cache.fetch(FILE_URL, "uri_file")
    assert new.read_bytes() == b"sepal,petal\n3,4\n"
    assert new != old and not old.exists()  # the stale version is gone


def test_a_folder_is_listed_and_only_changed_blobs_fetched_again(storage, cache):
    folder = cache.fetch(FOLDER_URI, "uri_folder")
    assert folder.name == "nyc"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "2024/jan.csv", "feb.csv"]  # nycother.csv shares the prefix, not the folder
    gets_before = storage.gets("/datasets/nyc/")
    assert cache.fetch(FOLDER_URI, "uri_folder") == folder
    assert storage.gets("/datasets/nyc/") == gets_before  # a cache hit lists, and fetches nothing
    storage.put("datasets/nyc/feb.csv", b"b\n22\n")
    changed = cache.fetch(FOLDER_URI, "uri_folder")
    assert (changed / "feb.csv").read_bytes() == b"b\n22\n"
    assert (changed / "2024" / "jan.csv").read_bytes() == b"a\n1\n"
    assert storage.gets("/datasets/nyc/") == gets_before + 1  # only feb.csv came again
    assert "fetched 1 of the 2 files" in cache.lines[-1]


def test_a_missing_file_and_an_empty_folder_say_so(storage, cache):
    with pytest.raises(JobError, match=r"^https://examples\.blob\.core\.windows\.net/datasets/nope\.csv\?sig=REDACTED "
                                       r"does not exist$"):
        cache.fetch(f"https://{ACCOUNT_HOST}/datasets/nope.csv?sig=TOPSECRET", "uri_file")
    with pytest.raises(JobError, match="holds no files"):
        cache.fetch(f"wasbs://datasets@{ACCOUNT_HOST}/empty/", "uri_folder")


def test_offline_is_one_line_naming_the_url_and_a_cached_copy_still_serves(storage, cache, monkeypatch):
    cached = cache.fetch(FILE_URL, "uri_file")
    monkeypatch.setenv("ML_PUBLIC_DATA_HOSTS", f"{ACCOUNT_HOST}=http://127.0.0.1:9")  # nothing listens there
    started = time.monotonic()
    with pytest.raises(JobError) as raised:
        cache.fetch(f"https://{ACCOUNT_HOST}/datasets/other.csv?sig=TOPSECRET", "uri_file")
    message = str(raised.value)
    assert "\n" not in message and "TOPSECRET" not in message
    assert message.startswith(f"cannot reach https://{ACCOUNT_HOST}/datasets/other.csv?sig=REDACTED")
    assert time.monotonic() - started < 10
    assert cache.fetch(FILE_URL, "uri_file") == cached
    assert "cannot reach" in cache.lines[-1] and "using the copy cached" in cache.lines[-1]


def test_a_folder_elsewhere_than_blob_storage_is_refused_in_one_line(cache):
    with pytest.raises(JobError, match="only folders on Azure blob storage can be listed"):
        cache.fetch("https://example.org/data/", "uri_folder")
