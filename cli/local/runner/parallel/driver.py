"""The driver of a parallel job: splits the input into mini-batches and feeds them to worker processes.

Run in the job's own interpreter, in the job's working folder, as a command job's command
(see __init__.py for how a parallel node becomes one):

    python driver.py --entry-script score.py --input-data <path> [--input-type uri_folder|uri_file|mltable]
        [--mini-batch-size 10|10kb] [--max-concurrency 1] [--error-threshold -1]
        [--mini-batch-error-threshold -1] [--max-retries 3] [--timeout 60] [--logging-level INFO]
        [--output-action append_row|summary_only] [--append-row-to <folder>]
        [--output-file-name parallel_run_step.txt] [--model-dir <path>] [--partition-keys '["a"]']
        -- [program arguments...]

Semantics (Azure's parallel run):
- `--max-concurrency` workers (Azure's max_concurrency_per_instance x instance_count; never more than
  there are mini-batches), each calling the entry script's
  init() once and run(mini_batch) per mini-batch; a worker's prints go to
  logs/user/stdout/localhost/process<N>.stdout.txt of the working folder.
- A mini-batch fails when run() raises, its worker dies, or it runs longer than `--timeout` seconds
  (the worker is killed and replaced, init() again). A failed mini-batch is tried again up to
  `--max-retries` times; after that its items count as failed. Items run() does not account for (it
  returned fewer elements than the mini-batch has) count as failed too.
- `--error-threshold` failed items, `--mini-batch-error-threshold` failed mini-batches are tolerated
  (-1: any number); one more fails the job at once. An init() that raises fails the job.
- append_row: every element run() returned becomes one line of <append-row-to>/<output-file-name>
  (DataFrame rows space-separated), mini-batches in input order (a uri_file output is that file
  itself); summary_only writes no results file.
- `--partition-keys` (a tabular input): one mini-batch per distinct value of those columns, run(mini_batch,
  mini_batch_context) with mini_batch_context.partition_key_value {column: value}; mini_batch_size unused.
- The scoring script sees AZUREML_MODEL_DIR (the folder holding --model-dir, the model's files) and AZUREML_BI_OUTPUT_PATH (the output folder)
  as on Azure's batch deployments.
Exit code 0 when the job succeeds, 1 when it fails (the last line says why), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # minibatch.py beside this file
import minibatch  # noqa: E402

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")


def arguments(argv):
    parser = argparse.ArgumentParser(prog="parallel driver")
    add = parser.add_argument
    add("--entry-script", required=True)
    add("--input-data", required=True)
    add("--input-type", default=None)
    add("--mini-batch-size", default="10")
    add("--max-concurrency", type=int, default=1)
    add("--error-threshold", type=int, default=-1)
    add("--mini-batch-error-threshold", type=int, default=-1)
    add("--max-retries", type=int, default=3)
    add("--timeout", type=float, default=60)
    add("--logging-level", default="INFO")
    add("--output-action", default="append_row", choices=("append_row", "summary_only"))
    add("--append-row-to", default=None)
    add("--output-file-name", default="parallel_run_step.txt")
    add("--model-dir", default=None)
    add("--partition-keys", default=None, help="a JSON list of the columns whose values make a mini-batch")
    at = argv.index("--") if "--" in argv else len(argv)
    return parser.parse_args(argv[:at]), argv[at + 1:]


def say(message):
    print(f"[parallel] {message}", flush=True)


class MiniBatch:
    def __init__(self, index, task, items):
        self.index, self.task, self.items = index, task, items
        self.attempts = 0
        self.rows = None


class Worker:
    def __init__(self, number, args, program, env, logs):
        task_read, self.task_write = os.pipe()
        self.result_read, result_write = os.pipe()
        self.number, self.batch, self.started, self.ready = number, None, None, False
        with open(os.path.join(logs, f"process{number:03d}.stdout.txt"), "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, WORKER, str(task_read), str(result_write), args.entry_script,
                 args.logging_level, *program],
                pass_fds=(task_read, result_write), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=env)
        os.close(task_read)
        os.close(result_write)
        self.tasks = os.fdopen(self.task_write, "w", encoding="utf-8")
        self.results = os.fdopen(self.result_read, "r", encoding="utf-8")

    def send(self, batch):
        self.batch, self.started = batch, time.monotonic()
        batch.attempts += 1
        self.tasks.write(json.dumps(batch.task) + "\n")
        self.tasks.flush()

    def close(self, kill=False):
        if kill and self.process.poll() is None:
            self.process.kill()
        for stream in (self.tasks, self.results):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def plan(args):
    size = minibatch.parse_size(args.mini_batch_size)
    found = minibatch.input_files(args.input_data, args.input_type)
    if isinstance(found, minibatch.Table) and size.count:
        size = minibatch.BatchSize(size=size.count)  # Azure: a tabular input's mini_batch_size is bytes
    keep = args.output_action == "append_row"
    if args.partition_keys:
        return partitions(args, found, keep)
    if isinstance(found, minibatch.Table):
        import pandas  # tabular inputs need pandas in the job's environment, as on Azure

        from worker import read_table  # noqa: the worker's reader, so both count rows alike

        rows = len(read_table(pandas, found.files, found.reader, found.options))
        total = sum(os.path.getsize(f) for f in found.files)
        ranges = minibatch.split_rows(rows, total, size)
        return [MiniBatch(i, {"id": i, "files": found.files, "reader": found.reader, "options": found.options,
                              "start": start, "stop": stop, "items": stop - start, "keep_rows": keep},
                          stop - start) for i, (start, stop) in enumerate(ranges)]
    return [MiniBatch(i, {"id": i, "files": files, "items": len(files), "keep_rows": keep}, len(files))
            for i, files in enumerate(minibatch.split_files(found, size))]


def partitions(args, found, keep):
    """partition_keys: one mini-batch per distinct value of the keys (in the order first met), its rows
    a DataFrame; run() gets a second argument whose partition_key_value names them, as on Azure."""
    keys = json.loads(args.partition_keys)
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(found, minibatch.Table):
        raise minibatch.InputError("partition_keys need a tabular input (an MLTable with a reader such as"
                                   " read_delimited)")
    import pandas

    from worker import read_table  # noqa: the worker's reader, so both see the same rows

    frame = read_table(pandas, found.files, found.reader, found.options)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise minibatch.InputError(f"partition_keys {', '.join(missing)} are not columns of the input"
                                   f" (it has {', '.join(map(str, frame.columns))})")
    batches = []
    for index, (values, rows) in enumerate(frame.groupby(keys, sort=False).indices.items()):
        values = values if isinstance(values, tuple) else (values,)
        partition = {k: (v.item() if hasattr(v, "item") else v) for k, v in zip(keys, values)}
        batches.append(MiniBatch(index, {"id": index, "files": found.files, "reader": found.reader,
                                         "options": found.options, "rows": [int(r) for r in rows],
                                         "partition": partition, "items": len(rows), "keep_rows": keep},
                                 len(rows)))
    return batches


class Driver:
    def __init__(self, args, program, batches):
        self.args, self.program, self.batches = args, program, batches
        self.queue = deque(batches)
        self.workers = {}
        self.selector = selectors.DefaultSelector()
        self.failed_items = self.failed_batches = self.done = self.processed = 0
        self.fatal = None
        self.logs = os.path.join("logs", "user", "stdout", "localhost")
        os.makedirs(self.logs, exist_ok=True)
        self.env = dict(os.environ)
        if args.model_dir:  # the model's files (a file or folder); Azure's variable names the folder holding them
            self.env["AZUREML_MODEL_DIR"] = os.path.dirname(os.path.abspath(args.model_dir.rstrip("/")))
        if args.append_row_to:
            self.env["AZUREML_BI_OUTPUT_PATH"] = os.path.dirname(os.path.abspath(
                results_file(args.append_row_to, args.output_file_name)))
        self.numbers = iter(range(10 ** 6))

    def start_worker(self):
        worker = Worker(next(self.numbers), self.args, self.program, self.env, self.logs)
        self.workers[worker.result_read] = worker
        self.selector.register(worker.results, selectors.EVENT_READ, worker)

    def retire(self, worker, kill=False):
        self.selector.unregister(worker.results)
        del self.workers[worker.result_read]
        worker.close(kill=kill)

    def run(self):
        wanted = min(max(1, self.args.max_concurrency), len(self.batches))
        for _ in range(wanted):
            self.start_worker()
        while self.done < len(self.batches) and self.fatal is None:
            for key, _ in self.selector.select(timeout=0.2):
                self.on_readable(key.data)
                if self.fatal:
                    break
            self.check_timeouts()
            self.dispatch()
        for worker in list(self.workers.values()):
            self.retire(worker, kill=self.fatal is not None)

    def on_readable(self, worker):
        line = worker.results.readline()
        if not line:  # the worker died
            batch = worker.batch
            code = worker.process.wait()
            self.retire(worker)
            if not worker.ready:
                self.fatal = f"worker {worker.number} exited with code {code} before init() finished"
                return
            if batch is not None:
                self.attempt_failed(batch, f"its worker exited with code {code}")
            self.start_worker()
            return
        message = json.loads(line)
        if "init_error" in message:
            self.fatal = f"init() of the entry script failed: {message['init_error']}"
        elif message.get("ready"):
            worker.ready = True
        else:
            batch, worker.batch = worker.batch, None
            if "error" in message:
                self.attempt_failed(batch, message["error"])
            else:
                self.succeeded(batch, message)

    def check_timeouts(self):
        now = time.monotonic()
        for worker in list(self.workers.values()):
            if worker.batch is not None and self.args.timeout > 0 and now - worker.started > self.args.timeout:
                batch = worker.batch
                self.retire(worker, kill=True)
                self.attempt_failed(batch, f"run() timed out after {self.args.timeout:g} s")
                self.start_worker()

    def dispatch(self):
        for worker in self.workers.values():
            if worker.ready and worker.batch is None and self.queue:
                worker.send(self.queue.popleft())

    def succeeded(self, batch, message):
        count = int(message.get("count", 0))
        unaccounted = max(0, batch.items - count)
        batch.rows = message.get("rows") or []
        self.processed += min(count, batch.items)
        self.done += 1
        if unaccounted:
            say(f"mini-batch {batch.index}: run() returned {count} results for {batch.items} items;"
                f" {unaccounted} count as failed")
            self.count_failures(items=unaccounted, batches=0)

    def attempt_failed(self, batch, reason):
        if batch.attempts <= self.args.max_retries:
            say(f"mini-batch {batch.index} failed ({reason}); retry {batch.attempts} of {self.args.max_retries}")
            self.queue.appendleft(batch)
            return
        say(f"mini-batch {batch.index} failed after {batch.attempts} attempts: {reason}")
        self.done += 1
        self.count_failures(items=batch.items, batches=1)

    def count_failures(self, items, batches):
        self.failed_items += items
        self.failed_batches += batches
        if 0 <= self.args.error_threshold < self.failed_items:
            self.fatal = f"{self.failed_items} items failed, more than error_threshold {self.args.error_threshold}"
        elif 0 <= self.args.mini_batch_error_threshold < self.failed_batches:
            self.fatal = (f"{self.failed_batches} mini-batches failed, more than mini_batch_error_threshold"
                          f" {self.args.mini_batch_error_threshold}")

    def write_rows(self):
        if self.args.output_action != "append_row" or not self.args.append_row_to:
            return None
        target = results_file(self.args.append_row_to, self.args.output_file_name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as out:
            for batch in self.batches:
                for row in batch.rows or []:
                    out.write(row + "\n")
        return target


def results_file(append_row_to, file_name):
    """A folder output (it exists: the runner made it) gets <file_name> in it; a uri_file output is the file."""
    append_row_to = os.path.abspath(append_row_to)
    return os.path.join(append_row_to, file_name) if os.path.isdir(append_row_to) else append_row_to


def main(argv):
    args, program = arguments(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # canceled: workers share our process group
    try:
        batches = plan(args)
    except minibatch.InputError as error:
        say(f"error: {error}")
        return 1
    items = sum(b.items for b in batches)
    by = f"partition_keys {args.partition_keys}" if args.partition_keys else f"mini_batch_size {args.mini_batch_size}"
    say(f"{items} items in {len(batches)} mini-batches ({by});"
        f" {min(max(1, args.max_concurrency), max(1, len(batches)))} workers")
    driver = Driver(args, program, batches)
    if batches:
        driver.run()
    if driver.fatal:
        say(f"failed: {driver.fatal}")
        return 1
    target = driver.write_rows()
    say(f"done: {driver.processed} of {items} items processed, {driver.failed_items} failed,"
        f" {driver.failed_batches} of {len(batches)} mini-batches failed"
        + (f"; results in {target}" if target else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
