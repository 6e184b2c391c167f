# SPDX-License-Identifier: Apache-2.0
"""Per-frame peak finding on dhub.waveform.f64@1 frames: a Python stage (docs/python-stages.md).

Each input slot is one waveform frame (a 64-byte header, then channels x samples doubles, channel-major; the
channel has no typed schema, so the slot arrives as its bytes, uint8). Each output slot is one example.peaks@1
record (declared in python-stage.json, so it arrives as a structured numpy value): the frame's sequence and
timestamp, how many peaks one channel has above a threshold, and the highest of them.
"""
import numpy as np

# The waveform header (sdk/formats/include/dhub/formats/waveform.hpp), as numpy sees it.
WAVEFORM_HEADER = np.dtype([("sequence", "<u8"), ("timestamp_ns", "<u8"), ("channels", "<u4"),
                            ("samples_per_channel", "<u4"), ("sample_rate_hz", "<f8"), ("reserved", "V32")])
MAX_PEAKS = 16  # the length of example.peaks@1's arrays


class Peaks:
    # The node's params beside "module" and "class" are checked against this, by dhub-kernel --validate and when
    # the node is created. No "default" would make a parameter required.
    params = [
        {"name": "threshold", "type": "number", "default": 0.5, "doc": "a peak is higher than this"},
        {"name": "channel", "type": "integer", "default": 0, "min": 0, "doc": "the channel searched"},
        {"name": "min_distance", "type": "integer", "default": 1, "min": 1,
         "doc": "samples between two peaks at least; of two closer ones the higher is kept"},
    ]

    def __init__(self, threshold, channel, min_distance):
        self.threshold = threshold
        self.channel = channel
        self.min_distance = min_distance
        self.frames = 0

    def process(self, inputs, outputs):
        frame, record = inputs[0], outputs[0]
        header = frame[:WAVEFORM_HEADER.itemsize].view(WAVEFORM_HEADER)[0]
        if self.channel >= header["channels"]:
            raise ValueError(f"frame {header['sequence']} has {header['channels']} channels; "
                             f"channel {self.channel} was asked for")
        samples = frame[WAVEFORM_HEADER.itemsize:].view("<f8").reshape(header["channels"], -1)[self.channel]

        positions = self.find(samples)
        heights = samples[positions]
        strongest = np.argsort(heights)[::-1][:MAX_PEAKS]  # the highest first
        record["sequence"] = header["sequence"]
        record["timestamp_ns"] = header["timestamp_ns"]
        record["count"] = len(positions)
        record["position"] = -1
        record["height"] = np.nan
        record["position"][:len(strongest)] = positions[strongest]
        record["height"][:len(strongest)] = heights[strongest]
        self.frames += 1
        # None: publish the whole record (False would publish nothing for this frame).

    def find(self, samples):
        """Indices of the local maxima above the threshold, at least min_distance apart."""
        inner = samples[1:-1]
        candidates = np.flatnonzero((inner > samples[:-2]) & (inner >= samples[2:]) & (inner > self.threshold)) + 1
        if self.min_distance == 1 or len(candidates) < 2:
            return candidates
        kept = []
        for index in candidates[np.argsort(samples[candidates])[::-1]]:  # highest first
            if all(abs(index - other) >= self.min_distance for other in kept):
                kept.append(index)
        return np.sort(np.array(kept, dtype=np.int64))

    def stop(self):
        print(f"peaks: {self.frames} frames searched", flush=True)
