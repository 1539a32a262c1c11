"""The processes of a job: one, or one per rank of its distribution, each in its own process group.

PyTorch: instance_count x process_count_per_instance processes with the torch.distributed variables
(rendezvous on 127.0.0.1 at a free port). TensorFlow: one process per worker (worker_count, else
instance_count) and parameter server, each with its TF_CONFIG. MPI: `mpirun -np <instances x
processes per instance>` around the command, found on the job's PATH (Open MPI gets the flags it needs
to run as root and oversubscribed); without mpirun the job fails saying so.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cli.local.runner.errors import JobError
from cli.local.runner.state import process_start


@dataclass(frozen=True)
class ProcessPlan:
    argv: list[str]
    env: dict[str, str]
    log: Path


@functools.lru_cache(maxsize=1)
def _shell_path() -> str:
    return shutil.which("bash") or "/bin/sh"  # a PATH walk: once per process (forked step runners inherit it)


def shell() -> list[str]:
    return [_shell_path(), "-c"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plan(props: dict, command: str, env: dict[str, str], logs: Path) -> list[ProcessPlan]:
    distribution = props.get("distribution") or {}
    kind = distribution.get("distributionType")
    instances = int((props.get("resources") or {}).get("instanceCount") or 1)
    per_node = int(distribution.get("processCountPerInstance") or 1)
    argv = [*shell(), command]
    if not kind:
        return [ProcessPlan(argv, env, logs / "std_log.txt")]
    if kind == "PyTorch":
        world, port = instances * per_node, str(free_port())
        return [ProcessPlan(argv, {**env, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port,
                                   "WORLD_SIZE": str(world), "RANK": str(rank),
                                   "LOCAL_RANK": str(rank % per_node), "NODE_RANK": str(rank // per_node),
                                   "LOCAL_WORLD_SIZE": str(per_node), "GROUP_RANK": str(rank // per_node)},
                            logs / f"std_log_process_{rank}.txt") for rank in range(world)]
    if kind == "TensorFlow":
        workers = int(distribution.get("workerCount") or instances)
        servers = int(distribution.get("parameterServerCount") or 0)
        cluster = {"worker": [f"127.0.0.1:{free_port()}" for _ in range(workers)]}
        if servers:
            cluster["ps"] = [f"127.0.0.1:{free_port()}" for _ in range(servers)]
        tasks = [("worker", i) for i in range(workers)] + [("ps", i) for i in range(servers)]
        # Azure's shape (its distributed training guide): cluster, task, and "environment": "cloud".
        return [ProcessPlan(argv, {**env, "TF_CONFIG": json.dumps({
                    "cluster": cluster, "task": {"type": kind_, "index": index}, "environment": "cloud"})},
                            logs / f"std_log_process_{rank}.txt")
                for rank, (kind_, index) in enumerate(tasks)]
    if kind == "Mpi":
        mpirun = shutil.which("mpirun", path=env.get("PATH"))
        if not mpirun:
            raise JobError("distribution type mpi needs 'mpirun' on PATH (install Open MPI or MPICH)")
        return [ProcessPlan([mpirun, *_open_mpi_flags(mpirun, env), "-np", str(instances * per_node), *argv],
                            env, logs / "std_log.txt")]
    raise JobError(f"distribution type {kind} is not supported by local jobs")


def _open_mpi_flags(mpirun: str, env: dict[str, str]) -> list[str]:
    """Open MPI refuses root and more ranks than cores without these flags; MPICH rejects them."""
    try:
        version = subprocess.run([mpirun, "--version"], env=env, capture_output=True, text=True, timeout=10,
                                 stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        version = ""
    if "open mpi" not in version.lower() and "open rte" not in version.lower():
        return []
    return ["--allow-run-as-root", "--oversubscribe"] if os.geteuid() == 0 else ["--oversubscribe"]


def start(plans: list[ProcessPlan], cwd: Path) -> list[subprocess.Popen]:
    """Start every process in its own session; stdout and stderr go straight to its log file."""
    processes = []
    try:
        for p in plans:
            p.log.parent.mkdir(parents=True, exist_ok=True)
            with open(p.log, "ab") as log:  # the child keeps its own descriptor; nothing is buffered here
                processes.append(subprocess.Popen(p.argv, cwd=cwd, env=p.env, stdin=subprocess.DEVNULL,
                                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    except OSError as exc:
        stop(processes, grace=0)
        raise JobError(f"could not start the command: {exc}") from None
    return processes


def exit_descriptors(processes: list[subprocess.Popen]) -> dict[int, int]:
    """{index: a descriptor readable once that process has ended} (Linux pidfds), to wait on with
    select instead of polling; empty where the system has none. The caller closes them."""
    found = {}
    for index, process in enumerate(processes):
        try:
            found[index] = os.pidfd_open(process.pid)
        except (AttributeError, OSError):  # no pidfd_open (macOS, old kernels), or already reaped
            continue
    return found


def groups(processes: list[subprocess.Popen]) -> list[list]:
    return [[p.pid, process_start(p.pid)] for p in processes]


def stop(processes: list[subprocess.Popen], grace: float = 5.0) -> None:
    """SIGTERM each process group, SIGKILL what is left after `grace` seconds, and reap."""
    import time

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in processes:
            try:
                os.killpg(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            time.sleep(0.05)
    for p in processes:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
