#!/usr/bin/env python3
"""Times the RKD angle loss, forward + backward, in serkd (Gram form) and in PyTorch (RKD's direct form).

METHOD.md §6: the direct form (lenscloth/RKD: metric/loss.py, RKdAngle, batched over images) holds
B·N²·D difference tensors and a B·N³ angle tensor per model; serkd's kernel works from N×N Gram
matrices one anchor block at a time. This script runs both at (B, N, D) = (64, 49, 192) and
(64, 196, 768) by default and prints one line per run.

Memory, as measured:
  serkd    the plan's arena (inputs, outputs, the largest kernel workspace), the largest workspace on
           its own, and the process's peak resident set (getrusage ru_maxrss), all from
           `serkd-bench rkd-angle --json`.
  PyTorch  peak resident set of a fresh child process (ru_maxrss) minus its resident set just before
           the first forward pass (after importing torch and creating the inputs). The CPU allocator
           returns large blocks to the system, so this is the high-water mark of the step itself.
           The child's address space is capped (--torch-limit-gib above what importing torch maps),
           so a configuration that does not fit fails inside PyTorch with an allocation error instead
           of driving the machine into the OOM killer; it is reported as not fitting, with the size of
           the direct form's main tensors.

Run from the repository root after a release build:

    swift build -c release --product serkd-bench
    python3 scripts/bench_rkd_angle.py [--serkd .build/release/serkd-bench] [--repeat 3]

Needs torch for the PyTorch side (skipped with a message otherwise).
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys

CONFIGS = [(64, 49, 192), (64, 196, 768)]

CHILD = r"""
import json, resource, sys, time
import torch
import torch.nn.functional as F

batch, count, width, repeats, limit = (int(v) for v in sys.argv[1:6])
torch.set_num_threads(int(sys.argv[6]))
sys.path.insert(0, sys.argv[7])
from serkd_reference import rkd_angle  # RKD's direct form, the one PyTorch users write

def vm(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

# Cap the address space at what is mapped now plus the budget, so allocations beyond it fail cleanly.
resource.setrlimit(resource.RLIMIT_AS, (vm("VmSize:") + limit, resource.RLIM_INFINITY))

result = {"batch": batch, "tokens": count, "width": width, "threads": torch.get_num_threads()}
try:
    student = torch.randn(batch, count, width, requires_grad=True)
    teacher = torch.randn(batch, count, width)
    baseline = vm("VmRSS:")
    times = []
    for _ in range(repeats):
        student.grad = None
        start = time.perf_counter()
        rkd_angle(student, teacher).backward()
        times.append(time.perf_counter() - start)
    times.sort()
    result.update(median_ms=times[len(times) // 2] * 1000, min_ms=times[0] * 1000,
                  peak_rss_delta_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline)
except (RuntimeError, MemoryError) as error:
    result["error"] = str(error).splitlines()[0][:160]
print(json.dumps(result))
"""


def mib(value):
    return f"{value / 2**20:.1f} MiB"


def run_serkd(binary, batch, count, width, repeats):
    command = [binary, "rkd-angle", "--batch", str(batch), "--tokens", str(count), "--width", str(width),
               "--repeat", str(repeats), "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_torch(batch, count, width, repeats, limit_gib, threads):
    command = [sys.executable, "-c", CHILD, str(batch), str(count), str(width), str(repeats), str(limit_gib * 2**30), str(threads),
               os.path.dirname(os.path.abspath(__file__))]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        return {"error": (completed.stderr.strip().splitlines() or ["exit status %d" % completed.returncode])[-1][:160]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serkd", default=os.path.join(".build", "release", "serkd-bench"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="PyTorch intra-op threads")
    parser.add_argument("--torch-limit-gib", type=int, default=6, help="address space PyTorch may add")
    parser.add_argument("--config", action="append", help="B,N,D (repeatable); default: 64,49,192 and 64,196,768")
    args = parser.parse_args()
    configs = [tuple(int(v) for v in c.split(",")) for c in args.config] if args.config else CONFIGS
    # Only look torch up: importing it here would grow this process by ~500 MiB, and Linux carries a
    # parent's resident set into its children's ru_maxrss across fork and exec.
    have_torch = importlib.util.find_spec("torch") is not None
    if not have_torch:
        print("torch not installed: PyTorch side skipped")

    for batch, count, width in configs:
        direct = 4 * batch * count * count * width  # one float32 B·N²·D tensor
        angles = 4 * batch * count ** 3              # one float32 B·N³ tensor
        s = run_serkd(args.serkd, batch, count, width, args.repeat)
        print(f"B={batch} N={count} D={width}  serkd: {s['median_ms']:.1f} ms median ({s['min_ms']:.1f} best), "
              f"arena {mib(s['arena_bytes'])} (workspace {mib(s['workspace_bytes'])}), max RSS {mib(s['max_rss_bytes'])}, "
              f"{s['threads']} threads")
        if not have_torch:
            continue
        t = run_torch(batch, count, width, args.repeat, args.torch_limit_gib, args.threads)
        if "error" in t:
            print(f"B={batch} N={count} D={width}  PyTorch: does not fit in {args.torch_limit_gib} GiB "
                  f"(one B·N²·D tensor is {mib(direct)}, one B·N³ tensor {mib(angles)}): {t['error']}")
        else:
            print(f"B={batch} N={count} D={width}  PyTorch: {t['median_ms']:.1f} ms median ({t['min_ms']:.1f} best), "
                  f"peak RSS +{mib(t['peak_rss_delta_bytes'])}, {t['threads']} threads")


if __name__ == "__main__":
    main()
