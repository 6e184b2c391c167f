#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A live viewer: per-frame statistics of a channel, read as numpy arrays straight from shared memory.

    PYTHONPATH=build/python examples/python/viewer.py demo-<kernel pid>.raw          # a segment on this host
    PYTHONPATH=build/python examples/python/viewer.py --broker tcp://127.0.0.1:5570 cam0

It reads only the newest frame (delivery "latest"), so it never holds a lossless producer back, whatever else
reads the channel; `dhub-shm list` shows the channels of this host. Ctrl-C ends it.
"""
import argparse
import sys
import time

import numpy as np

import dhub


def numeric_view(array: np.ndarray) -> np.ndarray:
    """The numbers of a frame: a typed array as it is, a struct's numeric fields side by side, raw bytes as uint8."""
    if array.dtype.names is None:
        return array
    fields = [array[name] for name in array.dtype.names if array.dtype[name].base.kind in "iufb"]
    return np.concatenate([np.ravel(field).astype(np.float64) for field in fields]) if fields else np.zeros(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("channel", help="the channel's segment name on this host, or its name with --broker")
    parser.add_argument("--broker", help="find the channel through this broker (tcp://HOST:PORT)")
    parser.add_argument("--server-key", help="the broker's public key file (NAME.pub)")
    parser.add_argument("--client-key", help="your secret key file (NAME.key), allowlisted by the broker")
    parser.add_argument("--rate", type=float, default=2.0, help="lines per second (default 2)")
    parser.add_argument("--count", type=int, default=0, help="stop after this many lines (default: never)")
    options = parser.parse_args()

    if options.broker:
        broker = dhub.Broker(options.broker, server_key=options.server_key, client_key=options.client_key)
        consumer = broker.consumer(options.channel, name="viewer", delivery="latest")
    else:
        consumer = dhub.Consumer(options.channel, name="viewer", delivery="latest")
    layout = consumer.layout
    print(f"{options.channel}: {layout.schema_id or 'untyped bytes'}, "
          f"{layout.dtype if layout.shape is not None else 'uint8'} {layout.shape if layout.shape else ''}", flush=True)
    print(f"{'sequence':>10} {'age ms':>8} {'mean':>12} {'std':>12} {'min':>12} {'max':>12}", flush=True)
    lines, period = 0, 1.0 / options.rate
    try:
        with consumer:
            while options.count == 0 or lines < options.count:
                with consumer.read(timeout=None) as slot:
                    values = numeric_view(slot.array)
                    age_ms = (time.monotonic_ns() - slot.timestamp_ns) / 1e6
                    stats = (values.mean(), values.std(), values.min(), values.max()) if values.size else (np.nan,) * 4
                    print(f"{slot.sequence:>10} {age_ms:>8.2f} " + " ".join(f"{value:>12.5g}" for value in stats),
                          flush=True)
                    del values
                lines += 1
                time.sleep(period)
    except KeyboardInterrupt:
        pass
    except dhub.Closed:
        print("the producer closed the channel", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
