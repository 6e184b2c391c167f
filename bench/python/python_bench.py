#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The dhub Python package against the C++ reader, on the same C++ producer (dhub-bench-python-feed):

  * per-slot overhead: 64-byte slots read one at a time (and in bursts) from Python, slots/s, against a C++
    reader doing the same (acquire_read / release);
  * bandwidth: 1 MiB slots summed as float64 (slot.array.sum()) against the same sum in C++.

    PYTHONPATH=build/python /usr/bin/python3 bench/python/python_bench.py --build build [--json out.json]

Prints a table (medians of alternated rounds; "of C++" is the median of the per-round ratios) and, with --json,
every round as JSON. The producer commits without rewriting the slots' bytes, so what is measured is the reader.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import dhub


def feed(build: pathlib.Path) -> str:
    return str(build / "bench" / "dhub-bench-python-feed")


def start_producer(build, channel, slots, slot_bytes, ring):
    producer = subprocess.Popen([feed(build), "produce", channel, str(slots), str(slot_bytes), str(ring)],
                                stdout=subprocess.PIPE, text=True)
    if producer.stdout.readline().strip() != "ready":
        raise RuntimeError("the producer did not start")
    return producer


def cpp_reader(build, mode, slot_bytes, slots, ring):
    channel = f"pybench.{os.getpid()}.cpp.{mode}"
    producer = start_producer(build, channel, slots, slot_bytes, ring)
    result = subprocess.run([feed(build), mode, channel, str(slots)], capture_output=True, text=True, check=True)
    producer.wait()
    return json.loads(result.stdout)


def python_reader(build, mode, slot_bytes, slots, ring, burst=1):
    channel = f"pybench.{os.getpid()}.py.{mode}.{burst}"
    producer = start_producer(build, channel, slots, slot_bytes, ring)
    total, started, done = 0.0, None, 0
    with dhub.Consumer(channel) as consumer:
        if mode == "sum":
            for _ in range(slots):
                with consumer.read(timeout=30) as slot:
                    if started is None:
                        started = time.perf_counter()
                    total += slot.array.sum()
        elif burst == 1:
            read = consumer.read
            for _ in range(slots):
                with read(timeout=30):
                    if started is None:
                        started = time.perf_counter()
        else:
            while done < slots:
                with consumer.read_burst(burst, timeout=30) as slots_read:
                    if started is None:
                        started = time.perf_counter()
                    for array in slots_read.arrays:
                        pass
                    del array  # not kept past the burst: no copy at release
                    done += len(slots_read)
    seconds = time.perf_counter() - started
    producer.wait()
    if mode == "sum":
        return {"reader": "python", "slots": slots, "gb_per_s": slots * slot_bytes / seconds / 1e9, "checksum": total}
    return {"reader": "python", "slots": slots, "slots_per_s": (slots - 1) / seconds, "burst": burst}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=pathlib.Path, default=pathlib.Path("build"))
    parser.add_argument("--slots", type=int, default=1_000_000, help="64-byte slots per reader")
    parser.add_argument("--frames", type=int, default=2000, help="1 MiB slots per reader")
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds (medians are reported)")
    parser.add_argument("--json", type=pathlib.Path)
    options = parser.parse_args()

    small, big = 64, 1 << 20
    # One round runs every reader once; rounds alternate so that a noisy neighbour (a shared VM) hits both sides
    # alike. Medians over the rounds, and the median of the per-round ratios.
    cases = {
        "cpp_64B": lambda: cpp_reader(options.build, "read", small, options.slots, 1024)["slots_per_s"],
        "python_64B": lambda: python_reader(options.build, "read", small, options.slots, 1024)["slots_per_s"],
        "python_64B_burst64": lambda: python_reader(options.build, "read", small, options.slots, 1024,
                                                    burst=64)["slots_per_s"],
        "cpp_1MiB_sum": lambda: cpp_reader(options.build, "sum", big, options.frames, 8)["gb_per_s"],
        "python_1MiB_sum": lambda: python_reader(options.build, "sum", big, options.frames, 8)["gb_per_s"],
    }
    rounds = {name: [] for name in cases}
    for _ in range(options.rounds):
        for name, run in cases.items():
            rounds[name].append(run())
    median = statistics.median
    results = {name: {"median": median(values), "rounds": values} for name, values in rounds.items()}
    for python_case, cpp_case in (("python_64B", "cpp_64B"), ("python_64B_burst64", "cpp_64B"),
                                  ("python_1MiB_sum", "cpp_1MiB_sum")):
        ratios = [p / c for p, c in zip(rounds[python_case], rounds[cpp_case])]
        results[python_case]["of_cpp"] = median(ratios)

    rows = [
        ("64 B, C++ acquire_read/release", f"{results['cpp_64B']['median']:,.0f} slots/s", "100 %"),
        ("64 B, Python `with consumer.read()`", f"{results['python_64B']['median']:,.0f} slots/s",
         f"{100 * results['python_64B']['of_cpp']:.1f} %"),
        ("64 B, Python read_burst(64), every array", f"{results['python_64B_burst64']['median']:,.0f} slots/s",
         f"{100 * results['python_64B_burst64']['of_cpp']:.1f} %"),
        ("1 MiB, C++ sum (4 running sums)", f"{results['cpp_1MiB_sum']['median']:.2f} GB/s", "100 %"),
        ("1 MiB, Python slot.array.sum()", f"{results['python_1MiB_sum']['median']:.2f} GB/s",
         f"{100 * results['python_1MiB_sum']['of_cpp']:.1f} %"),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"median of {options.rounds} alternated rounds")
    print(f"{'case':<{width}}  {'rate':>22}  {'of C++':>8}")
    for case, rate, share in rows:
        print(f"{case:<{width}}  {rate:>22}  {share:>8}")
    if options.json:
        options.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
