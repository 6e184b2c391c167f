# SPDX-License-Identifier: Apache-2.0
"""Classes the conformance suite runs in the python plugin's components (component_catalogue.cpp): plain and
deterministic, so that two runs of a lifecycle give the same slots."""
import numpy as np


class Echo:
    """dhub.stage.python: copies each slot."""

    def process(self, inputs, outputs):
        frame = inputs[0]
        outputs[0][:len(frame)] = frame
        return len(frame)


class Checksum:
    """dhub.sink.python: sums every byte it sees."""

    def __init__(self):
        self.total = 0

    def consume(self, inputs):
        self.total += int(inputs[0].sum(dtype=np.uint64))


class Counter:
    """dhub.source.python: slot n holds n as a little-endian uint64, then zeros."""

    def __init__(self):
        self.count = 0

    def produce(self, outputs):
        slot = outputs[0]
        slot[:] = 0
        slot[:8] = np.frombuffer(np.uint64(self.count).tobytes(), dtype=np.uint8)
        self.count += 1
        return 8
