#!/usr/bin/env python3
"""Measure flag headroom of a corpora task (a helper for writing tasks; not used by ratchet).

usage: measure.py TASK_DIR [--runs 7] [--size N --seed S] [--variant "flags"]...

Builds gen and the program with the task's baseline flags and each variant, checks
that each variant's output matches the baseline's (task's verify mode, on the verify
inputs and the benchmark input), and times the benchmark input with runs alternating
between all builds. Prints the median CPU time (user+sys) of each build.
"""
import argparse, json, os, shutil, statistics, subprocess, tempfile

DEFAULT_VARIANTS = [
    "-O3", "-O2 -march=native", "-O3 -march=native",
    "-O3 -march=native -funroll-loops", "-O3 -march=native -ffast-math",
]

def is_num(tok):
    try:
        float(tok)
        return True
    except ValueError:
        return False

def compare(a, b, mode):
    if mode["mode"] == "exact":
        return (a == b, "bytes differ" if a != b else "")
    ta, tb = a.split(), b.split()
    if len(ta) != len(tb):
        return False, f"token count {len(ta)} vs {len(tb)}"
    worst = 0.0
    for x, y in zip(ta, tb):
        if is_num(x) and is_num(y):
            fx, fy = float(x), float(y)
            d = abs(fx - fy)
            rel = d / max(abs(fx), abs(fy)) if d else 0.0
            worst = max(worst, rel)
            if not (d <= mode["abs_tol"] or d <= mode["rel_tol"] * max(abs(fx), abs(fy))):
                return False, f"{x} vs {y}"
        elif x != y:
            return False, f"{x!r} vs {y!r}"
    return True, f"max rel diff {worst:.3g}"

def cpu_run(exe, inp, timeout):
    with open(inp, "rb") as f:
        p = subprocess.Popen([exe], stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate(timeout=timeout)
    return out, err, p.returncode

def timed(exe, inp):
    with open(inp, "rb") as f:
        pid = os.fork()
        if pid == 0:
            os.dup2(f.fileno(), 0)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            try:
                os.execv(exe, [exe])
            finally:
                os._exit(127)
        _, status, ru = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"{exe} failed with status {status}")
    return (ru.ru_utime + ru.ru_stime) * 1000.0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--size", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--variant", action="append")
    ap.add_argument("--cc", help="override compiler")
    args = ap.parse_args()
    task = json.load(open(os.path.join(args.task, "task.json")))
    tdir = os.path.abspath(args.task)
    work = tempfile.mkdtemp(prefix="measure_")
    try:
        run(args, task, tdir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

def run(args, task, tdir, work):
    gen = os.path.join(work, "gen")
    subprocess.run(["gcc", "-O2", os.path.join(tdir, task["inputs"]["generator"]), "-o", gen, "-lm"], check=True)
    def make_input(size, seed):
        path = os.path.join(work, f"in_{size}_{seed}")
        with open(path, "wb") as f:
            subprocess.run([gen, str(size), str(seed)], stdout=f, check=True)
        return path
    bench = dict(task["inputs"]["benchmark"])
    if args.size is not None: bench["size"] = args.size
    if args.seed is not None: bench["seed"] = args.seed
    bench_in = make_input(bench["size"], bench["seed"])
    verify_ins = [make_input(v["size"], v["seed"]) for v in task["inputs"]["verify"]]
    b = task["build"]
    cc = args.cc or b["compiler"]
    srcs = [os.path.join(tdir, s) for s in task["sources"]]
    variants = [" ".join(b["flags"])] + (args.variant or DEFAULT_VARIANTS)
    exes = []
    for k, v in enumerate(variants):
        exe = os.path.join(work, f"prog{k}")
        cmd = [cc] + v.split() + b["fixed_flags"] + srcs + ["-o", exe] + b["libs"]
        subprocess.run(cmd, check=True)
        exes.append(exe)
    timeout = task["run"]["timeout_ms"] / 1000.0
    ref = {}
    for inp in verify_ins + [bench_in]:
        out, err, rc = cpu_run(exes[0], inp, timeout)
        if rc != 0:
            raise SystemExit(f"baseline failed on {inp}: {err.decode()}")
        ref[inp] = out.decode()
    ok = {}
    for k, exe in enumerate(exes[1:], 1):
        notes = []
        good = True
        for inp in verify_ins + [bench_in]:
            out, err, rc = cpu_run(exe, inp, timeout)
            same, note = compare(ref[inp], out.decode(), task["verify"])
            good &= same and rc == 0
            notes.append(note)
        ok[k] = (good, "; ".join(n for n in notes if n))
    times = [[] for _ in exes]
    for r in range(args.runs):
        for k, exe in enumerate(exes):
            times[k].append(timed(exe, bench_in))
    base = statistics.median(times[0])
    print(f"task {task['name']} benchmark size {bench['size']} seed {bench['seed']} runs {args.runs}")
    for k, v in enumerate(variants):
        med = statistics.median(times[k])
        status = "baseline" if k == 0 else ("ok" if ok[k][0] else "MISMATCH") + f" ({ok[k][1]})"
        print(f"{med:8.1f} ms  x{base/med:5.2f}  [{min(times[k]):.0f}-{max(times[k]):.0f}]  {v:40s} {status}")

if __name__ == "__main__":
    main()

