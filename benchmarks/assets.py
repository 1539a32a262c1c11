"""Upload speed of a data asset folder to the local workspace, beside `cp -r` of the same folder.

    python benchmarks/assets.py [--size-mb 500] [--files 1000]

Builds a folder of random files in a temp dir, then times: `cp -r` of it; `ml data create --type
uri_folder` of it (or, while that command does not exist, the upload function through the local
client, said so in the output); and the re-create of the unchanged folder, which only hashes it.
Targets: create <= 3x cp -r; re-create <= 0.5x the first create.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_folder(root: Path, size_mb: int, count: int) -> Path:
    folder = root / "bench-data"
    folder.mkdir()
    per_file = size_mb * 1000 * 1000 // count
    for i in range(count):
        (folder / f"part-{i:05d}.bin").write_bytes(os.urandom(per_file))
    return folder


def has_data_create(env: dict) -> bool:
    probe = subprocess.run([sys.executable, "-m", "cli", "data", "create", "--help"], cwd=REPO, env=env,
                           capture_output=True)
    return probe.returncode == 0


def timed(work) -> tuple:
    """(wall seconds, CPU seconds) of `work`: its own threads' and its child processes' user+sys time."""
    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    wall, used = time.perf_counter(), cpu()
    work()
    return time.perf_counter() - wall, cpu() - used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ml-bench-") as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "ML_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO), "ML_TARGET": "local"}
        folder = build_folder(tmp_path, args.size_mb, args.files)
        subprocess.run(["cat", *map(str, sorted(folder.iterdir()))], stdout=subprocess.DEVNULL, check=True)

        copy = timed(lambda: subprocess.run(["cp", "-r", str(folder), str(tmp_path / "copy")], check=True))

        if has_data_create(env):
            how = "`ml data create` (a fresh process each time)"

            def create(version: str) -> None:
                subprocess.run([sys.executable, "-m", "cli", "data", "create", "--name", "bench", "--version",
                                version, "--path", str(folder), "--type", "uri_folder", "-o", "none"],
                               cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
        else:
            how = ("`ml data create` does not exist yet: cli.client.datastore_upload.upload_to_datastore through"
                   " the local client, in this process")
            os.environ.update(ML_HOME=env["ML_HOME"], ML_TARGET="local")
            sys.path.insert(0, str(REPO))
            from cli.client.context import resolve_target
            from cli.client.datastore_upload import upload_to_datastore
            from cli.targets import make_client

            client = make_client(resolve_target())

            def create(version: str) -> None:
                upload_to_datastore(client, folder, name="bench", version=version)

        first = timed(lambda: create("1"))
        again = timed(lambda: create("2"))

    print(f"folder: {args.files} files, {args.size_mb} MB; timed: {how}; load average {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} cores")
    print("                      wall              CPU (user+sys)")
    print(f"cp -r              {copy[0]:7.2f} s          {copy[1]:7.2f} s")
    for label, (wall, cpu), (base_wall, base_cpu), of in (("create", first, copy, "cp -r   (target <= 3x)"),
                                                          ("re-create, same", again, first, "create  (target <= 0.5x)")):
        print(f"{label:<18} {wall:7.2f} s {wall / base_wall:5.2f}x  {cpu:7.2f} s {cpu / base_cpu:5.2f}x  of {of}")


if __name__ == "__main__":
    main()
