"""One worker of a parallel job: `python worker.py <task fd> <result fd> <entry script> <logging level>
[program arguments...]`, started by driver.py in the job's interpreter, in the job's working folder.

It imports the entry script, calls its `init()` once, then for each task read from <task fd> (one JSON
line: a mini-batch) calls `run(mini_batch)` and answers one JSON line on <result fd>. The script's
prints go to this process's stdout (the worker's log); the pipes carry only the protocol. Standard
library only (pandas is imported for tabular mini-batches, which need it anyway).

A mini-batch is a list of file paths, or for a tabular input a pandas DataFrame of its rows, as on
Azure. `run()` returns a list (one element per processed item) or a DataFrame (one row per item),
or None; the answer carries its length and, for append_row, its rows as text lines.
"""

import importlib.util
import json
import logging
import os
import sys
import traceback


def load_entry(path):
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)  # as on Azure: the entry script imports its neighbours
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise AttributeError(f"the entry script {path} has no run(mini_batch) function")
    return module


class Tables:
    """The rows of a tabular input, read once per worker, sliced per mini-batch."""

    def __init__(self):
        self.frame = None

    def rows(self, task):
        import pandas

        if self.frame is None:
            self.frame = read_table(pandas, task["files"], task["reader"], task.get("options") or {})
        if "rows" in task:  # a partition: the rows holding one value of the partition keys
            return self.frame.iloc[task["rows"]].reset_index(drop=True)
        return self.frame.iloc[task["start"]:task["stop"]].reset_index(drop=True)


class MiniBatchContext:
    """The second argument of run() for partitioned inputs, as Azure's parallel run passes it."""

    def __init__(self, task):
        self.partition_key_value = dict(task["partition"])
        self.minibatch_index = task["id"]


def read_table(pandas, files, reader, options):
    frames = []
    for path in files:
        if reader == "read_parquet":
            frames.append(pandas.read_parquet(path))
        elif reader == "read_json_lines":
            frames.append(pandas.read_json(path, lines=True))
        else:
            header = options.get("header", "all_files_same_headers")
            frames.append(pandas.read_csv(path, sep=options.get("delimiter", ","),
                                          header=None if header == "no_header" else 0))
    return pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame()


def as_lines(result, keep):
    """(number of items the result accounts for, its rows as text when `keep`)."""
    if result is None:
        return 0, []
    if hasattr(result, "to_csv") and hasattr(result, "shape"):  # a pandas DataFrame (or Series)
        text = result.to_csv(sep=" ", header=False, index=False) if keep else ""
        return int(result.shape[0]), text.splitlines()
    if isinstance(result, (str, bytes)):
        result = [result]
    items = list(result)
    return len(items), [str(item) for item in items] if keep else []


def main(argv):
    task_fd, result_fd, entry, level = int(argv[0]), int(argv[1]), argv[2], argv[3]
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.argv = [entry, *argv[4:]]  # task.program_arguments, as the entry script parses them in init()
    tasks = os.fdopen(task_fd, "r", encoding="utf-8")
    results = os.fdopen(result_fd, "w", encoding="utf-8")

    def answer(message):
        results.write(json.dumps(message) + "\n")
        results.flush()

    try:
        module = load_entry(entry)
        if callable(getattr(module, "init", None)):
            module.init()
    except BaseException:
        traceback.print_exc()
        answer({"init_error": traceback.format_exc(limit=5).strip().splitlines()[-1]})
        return 1
    answer({"ready": True})
    tables = Tables()
    for line in tasks:
        task = json.loads(line)
        print(f"[ml] mini-batch {task['id']}: {task['items']} items", flush=True)
        try:
            batch = tables.rows(task) if task.get("reader") else task["files"]
            result = module.run(batch, MiniBatchContext(task)) if "partition" in task else module.run(batch)
            count, rows = as_lines(result, task.get("keep_rows", False))
        except Exception:
            traceback.print_exc()
            sys.stdout.flush()
            answer({"id": task["id"], "error": traceback.format_exc(limit=5).strip().splitlines()[-1]})
            continue
        sys.stdout.flush()
        answer({"id": task["id"], "count": count, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.stderr = sys.stdout  # one log per worker
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # the driver finished (or was stopped) while this worker was starting
        sys.exit(0)
