#!/usr/bin/env python3
"""Core use of a real campaign: the share of the machine's cores that ratchet
and everything it starts (compilers, verifiers, benchmarks) keep busy while
candidates remain.

Usage: core_use.py RATCHET CONFIG IN_FLIGHT [MAX_EVALS] [SLOTS]

SLOTS sets benchmark.slots (default: the config's, else 1).

The campaign runs in a cgroup v1 cpuacct group of its own, so other work on a
shared machine is not counted: its CPU time (cpuacct.usage) is sampled every
0.2 s. The window is from the baseline's A/A line to the last candidate's
line (the preparation before and the confirmation after are sequential by
nature). Prints one line of figures; needs root.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

CPUACCT = "/sys/fs/cgroup/cpuacct"


def main():
    ratchet, config_path, in_flight = sys.argv[1], sys.argv[2], int(sys.argv[3])
    max_evals = sys.argv[4] if len(sys.argv) > 4 else None
    slots = int(sys.argv[5]) if len(sys.argv) > 5 else None
    config_dir = os.path.dirname(os.path.abspath(config_path))
    text = open(config_path).read()
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    text = re.sub(r"\s//[^\"\n]*$", "", text, flags=re.M)
    config = json.loads(text)
    config["task"] = os.path.normpath(os.path.join(config_dir, config["task"]))
    config.setdefault("search", {})["in_flight"] = in_flight
    if slots is not None:
        config.setdefault("benchmark", {})["slots"] = slots
    work = tempfile.mkdtemp(prefix="ratchet-core-use-")
    with open(os.path.join(work, "config.json"), "w") as out:
        json.dump(config, out)
    group = os.path.join(CPUACCT, f"ratchet-core-use-{os.getpid()}")
    os.makedirs(group, exist_ok=True)

    def enter_group():
        with open(os.path.join(group, "tasks"), "w") as tasks:
            tasks.write(str(os.getpid()))

    args = [ratchet, "run", os.path.join(work, "config.json"), "--db",
            os.path.join(work, "core.db")]
    if max_evals:
        args += ["--max-evals", max_evals]
    samples = []  # (wall seconds, cpu seconds)
    done = threading.Event()

    def sample():
        while not done.is_set():
            with open(os.path.join(group, "cpuacct.usage")) as usage:
                samples.append((time.monotonic(), int(usage.read()) / 1e9))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    start = time.monotonic()
    process = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               text=True, preexec_fn=enter_group)
    sampler.start()
    first = last = None
    for line in process.stderr:
        now = time.monotonic()
        if "baseline #" in line and "A/A" in line:
            first = now
        if re.match(r"ratchet: \[\d+/\d+\] #", line):
            last = now
    process.wait()
    done.set()
    sampler.join()
    os.rmdir(group)

    def cpu_at(t):
        best = samples[0]
        for s in samples:
            if s[0] <= t:
                best = s
        return best

    if first is None or last is None:
        sys.exit(f"core_use: no candidates seen (exit {process.returncode}); see {work}")
    a, b = cpu_at(first), cpu_at(last)
    cores = os.cpu_count()
    share = (b[1] - a[1]) / ((b[0] - a[0]) * cores) if b[0] > a[0] else 0
    total = samples[-1]
    slots_used = config.get("benchmark", {}).get("slots", 1)
    print(f"in_flight {in_flight}, slots {slots_used}: candidates window {b[0] - a[0]:.1f} s, cpu {b[1] - a[1]:.1f} s, "
          f"core use {100 * share:.1f}% of {cores} cores; whole run {total[0] - start:.1f} s, "
          f"cpu {total[1]:.1f} s")


if __name__ == "__main__":
    main()
