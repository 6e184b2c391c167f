# SPDX-License-Identifier: Apache-2.0
"""The dhub package on real channels: zero-copy views, every sync policy, C++ <-> Python round trips, views
kept past their slot, a reader killed holding a slot, Ctrl-C, flex zones, inspect, and bad input."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import dhub

REPO = pathlib.Path(__file__).resolve().parents[3]
SCHEMAS = REPO / "configs" / "schemas"
PEER = os.environ.get("DHUB_PYTHON_PEER")


def mapping_of(channel: str):
    """The address ranges this process maps of the channel's segment."""
    ranges = []
    for line in pathlib.Path("/proc/self/maps").read_text().splitlines():
        if line.split()[-1:] and f"/dhub1.{channel}" in line:
            low, high = (int(part, 16) for part in line.split()[0].split("-"))
            ranges.append((low, high))
    return ranges


def data_address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


# ---- views -------------------------------------------------------------------------------------------------


def test_a_read_is_a_view_into_the_segment_not_a_copy(channel_name):
    with dhub.Producer(channel_name, slot_bytes=4096) as producer, dhub.Consumer(channel_name) as consumer:
        with producer.write() as slot:
            slot.array[:4] = [1, 2, 3, 4]
            written_at = data_address(slot.array)
        with consumer.read(timeout=1) as slot:
            address = data_address(slot.array)
            assert list(slot.array[:4]) == [1, 2, 3, 4]
            mapped = mapping_of(channel_name)
            assert any(low <= address < high for low, high in mapped), (hex(address), mapped)
            assert any(low <= written_at < high for low, high in mapped)
            assert slot.array.base is not None and not slot.array.flags.owndata


def test_typed_views_take_dtype_shape_and_strides_from_the_stored_schema(channel_name):
    with dhub.Producer(channel_name, schema=str(SCHEMAS / "lab.thermo@2.json")) as producer, \
            dhub.Consumer(channel_name) as consumer:
        assert consumer.schema["name"] == "lab.thermo" and consumer.schema["version"] == 2
        with producer.write() as slot:
            slot.array["box_id"] = 7
            slot.array["celsius"] = [20.5, 21.0, 19.5, 22.25]
            slot.array["humidity"] = 0.25
        with consumer.read(timeout=1) as slot:
            value = slot.array
            assert value.shape == ()
            assert value.dtype.names == ("timestamp_ns", "box_id", "celsius", "humidity")
            assert value.dtype.fields["celsius"][0] == np.dtype(("<f8", (4,)))
            assert value.dtype.fields["humidity"][1] == 48 and value.dtype.itemsize == 56
            assert value["celsius"].strides == (8,)
            assert value["celsius"].tolist() == [20.5, 21.0, 19.5, 22.25]
            assert int(value["box_id"]) == 7 and float(value["humidity"]) == 0.25
            assert slot.size == 56


def test_an_ndarray_schema_gives_a_2d_array_with_row_major_strides(channel_name):
    schema = {"name": "test.frame", "version": 1, "encoding": "ndarray",
              "fields": [{"name": "pixels", "dtype": "<u2", "shape": [4, 6]}]}
    with dhub.Producer(channel_name, schema=schema) as producer, dhub.Consumer(channel_name) as consumer:
        with producer.write() as slot:
            slot.array[...] = np.arange(24, dtype=np.uint16).reshape(4, 6)
        with consumer.read(timeout=1) as slot:
            assert slot.array.dtype == np.dtype("<u2")
            assert slot.array.shape == (4, 6) and slot.array.strides == (12, 2)
            assert slot.array.sum() == sum(range(24))


def test_a_reader_of_an_older_version_sees_the_fields_it_knows(channel_name):
    with dhub.Producer(channel_name, schema=str(SCHEMAS / "lab.thermo@2.json"), sync="every") as producer, \
            dhub.Consumer(channel_name, schema=str(SCHEMAS / "lab.thermo@1.json")) as old_reader:
        with producer.write() as slot:
            slot.array["box_id"] = 3
            slot.array["humidity"] = 0.5
        with old_reader.read(timeout=1) as slot:
            assert slot.array.dtype.names == ("timestamp_ns", "box_id", "celsius")
            assert int(slot.array["box_id"]) == 3


def test_writing_to_a_read_view_is_refused(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64) as producer, dhub.Consumer(channel_name) as consumer:
        with producer.write() as slot:
            slot.array[0] = 1
        with consumer.read(timeout=1) as slot:
            with pytest.raises(ValueError, match="read-only"):
                slot.array[0] = 2
            assert slot.array[0] == 1


# ---- views kept past their slot ----------------------------------------------------------------------------


def test_a_released_slot_raises_and_a_kept_array_never_sees_the_slot_reused(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=2) as producer, dhub.Consumer(channel_name) as consumer:
        with producer.write() as slot:
            slot.array[:8] = 11
        with consumer.read(timeout=1) as slot:
            kept = slot.array[:8]          # a view of the view: kept past the block
            whole = slot.array
        with pytest.raises(dhub.SlotReleased, match="released"):
            slot.array
        # The ring has two slots: these writes reuse the one `kept` pointed into, many times over.
        for value in range(20, 40):
            with producer.write() as slot:
                slot.array[:8] = value
            with consumer.read(timeout=1) as slot:
                assert slot.array[0] == value
        assert kept.tolist() == [11] * 8 and whole[0] == 11
        assert not whole.flags.writeable


def test_an_array_kept_from_a_write_no_longer_reaches_the_channel(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=2) as producer, dhub.Consumer(channel_name) as consumer:
        with producer.write() as slot:
            kept = slot.array
            kept[0] = 1
        with pytest.raises(dhub.SlotReleased):
            slot.array
        values = []
        for value in range(2, 10):
            with producer.write(timeout=1) as slot:
                slot.array[0] = value
            kept[0] = 99                   # into the kept copy; in the ring it would overwrite unread slots
            with consumer.read(timeout=1) as read:
                values.append(int(read.array[0]))
        with consumer.read(timeout=1) as read:
            values.append(int(read.array[0]))
        assert values == list(range(1, 10))


def test_a_view_kept_from_a_burst_keeps_its_values(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=4) as producer, dhub.Consumer(channel_name) as consumer:
        with producer.write_burst(3) as burst:
            for index, array in enumerate(burst.arrays):
                array[0] = 10 + index
        with consumer.read_burst(8, timeout=1) as burst:
            assert burst.sequences == [0, 1, 2] and len(burst) == 3
            middle = burst[1]
        for value in range(50, 70):
            with producer.write() as slot:
                slot.array[0] = value
            with consumer.read(timeout=1):
                pass
        assert middle[0] == 11


# ---- every sync policy -------------------------------------------------------------------------------------


def test_single_reader_is_lossless_and_holds_the_producer_back(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=4, sync="single") as producer, \
            dhub.Consumer(channel_name) as consumer:
        for value in range(4):
            with producer.write(timeout=1) as slot:
                slot.array[0] = value
        with pytest.raises(dhub.Timeout):
            producer.write(timeout=0.05)   # the ring is full of unread slots
        seen = []
        for _ in range(4):
            with consumer.read(timeout=1) as slot:
                seen.append((slot.sequence, int(slot.array[0])))
        assert seen == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_every_reader_delivers_every_slot_to_each_reader(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=16, sync="every") as producer, \
            dhub.Consumer(channel_name, name="a") as first, dhub.Consumer(channel_name, name="b") as second:
        for value in range(10):
            with producer.write(timeout=1) as slot:
                slot.array[0] = value
        with first.read_burst(4, timeout=1) as burst:
            assert burst.sequences == [0, 1, 2, 3]
        for value in range(10, 16):
            with producer.write(timeout=1) as slot:
                slot.array[0] = value
        with pytest.raises(dhub.Timeout):  # the ring is full of what `second` has not read
            producer.write(timeout=0.05)
        producer.close()
        assert [int(copy.array[0]) for copy in _drain(first)] == list(range(4, 16))
        assert [int(copy.array[0]) for copy in _drain(second)] == list(range(16))


def _drain(consumer):
    """Every slot until Closed, each copied (iteration releases the previous slot)."""
    class Copy:
        def __init__(self, slot):
            self.array, self.sequence = slot.array.copy(), slot.sequence
    return [Copy(slot) for slot in consumer]


def test_latest_only_gives_the_newest_slot_and_counts_what_was_skipped(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=4, sync="latest") as producer, \
            dhub.Consumer(channel_name) as consumer:
        for value in range(10):
            with producer.write(timeout=1) as slot:   # never waits
                slot.array[0] = value
        with consumer.read(timeout=1) as slot:
            assert slot.sequence == 9 and slot.array[0] == 9
        assert consumer.skipped >= 9


def test_a_latest_reader_beside_a_lossless_one_never_holds_the_producer(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=4, sync="single") as producer, \
            dhub.Consumer(channel_name, name="recorder") as recorder, \
            dhub.Consumer(channel_name, name="viewer", delivery="latest") as viewer:
        for value in range(3):
            with producer.write(timeout=1) as slot:
                slot.array[0] = value
        with viewer.read(timeout=1) as slot:
            assert slot.sequence == 2 and slot.array[0] == 2
        with recorder.read(timeout=1) as slot:
            assert slot.sequence == 0 and slot.array[0] == 0


# ---- C++ <-> Python ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not PEER, reason="DHUB_PYTHON_PEER not set (run through ctest)")
@pytest.mark.parametrize("frame_bytes,burst", [(1000, 1), (4096, 32), (65537, 4)])
def test_cpp_to_python_to_cpp_byte_for_byte(channel_name, frame_bytes, burst):
    source, sink, count = channel_name + ".in", channel_name + ".out", 300
    producer = subprocess.Popen([PEER, "produce", source, str(count), str(frame_bytes)], stdout=subprocess.PIPE, text=True)
    checker = subprocess.Popen([PEER, "consume", sink, str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert producer.stdout.readline().strip() == "ready"
        with dhub.Consumer(source) as reader, dhub.Producer(sink, slot_bytes=frame_bytes, slots=8) as writer:
            copied = 0
            while copied < count:
                with reader.read_burst(burst, timeout=10) as frames, writer.write_burst(len(frames), timeout=10) as out:
                    taken = min(len(frames), len(out))
                    for index in range(taken):
                        assert frames.sizes[index] == frame_bytes
                        out[index][:frame_bytes] = frames[index]
                        out.set(index, size=frame_bytes)
                    out.commit(taken)
                    frames.release(taken)  # the rest are read again, first, next time
                copied += taken
            output, errors = checker.communicate(timeout=30)
        assert checker.returncode == 0, errors
        assert output.strip() == f"ok {count} frames"
        assert producer.wait(timeout=10) == 0
    finally:
        for process in (producer, checker):
            if process.poll() is None:
                process.kill()
                process.wait()


# ---- crashes and signals -----------------------------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, time, dhub
    consumer = dhub.Consumer(sys.argv[1], name="doomed")
    slot = consumer.read(timeout=5)
    print(slot.sequence, flush=True)
    time.sleep(60)
""")


def test_a_python_reader_killed_holding_a_slot_leaves_a_channel_that_recovers(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=4, sync="single") as producer:
        for value in range(4):
            with producer.write(timeout=1) as slot:
                slot.array[0] = value
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, channel_name], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "0"
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        # The next reader takes the single-reader seat over and is given the slot the dead one held.
        deadline = time.monotonic() + 10
        while True:
            try:
                successor = dhub.Consumer(channel_name, name="successor")
                break
            except dhub.AlreadyExists:
                assert time.monotonic() < deadline, "the dead reader's seat was never freed"
                time.sleep(0.05)
        with successor:
            seen = []
            for _ in range(4):
                with successor.read(timeout=1) as slot:
                    seen.append(slot.sequence)
            assert seen == [0, 1, 2, 3]
            with producer.write(timeout=1) as slot:   # and the producer goes on
                slot.array[0] = 4
            with successor.read(timeout=1) as slot:
                assert slot.sequence == 4


WAITER = textwrap.dedent("""
    import sys, time, dhub
    consumer = dhub.Consumer(sys.argv[1])
    print("waiting", flush=True)
    try:
        consumer.read()               # no timeout: waits for ever, with the GIL released
    except KeyboardInterrupt:
        print("interrupted", flush=True)
""")


def test_ctrl_c_interrupts_a_read_that_waits_for_ever(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64):
        waiter = subprocess.Popen([sys.executable, "-c", WAITER, channel_name], stdout=subprocess.PIPE, text=True)
        assert waiter.stdout.readline().strip() == "waiting"
        time.sleep(0.2)
        sent = time.monotonic()
        waiter.send_signal(signal.SIGINT)
        assert waiter.stdout.readline().strip() == "interrupted"
        latency = time.monotonic() - sent
        assert waiter.wait(timeout=5) == 0
        print(f"Ctrl-C to KeyboardInterrupt: {latency * 1000:.1f} ms")
        assert latency < 1.0  # the promise is 100 ms; a loaded CI machine gets slack, a hang does not


def test_a_blocked_read_lets_other_python_threads_run(channel_name):
    import threading
    with dhub.Producer(channel_name, slot_bytes=64) as producer, dhub.Consumer(channel_name) as consumer:
        result = {}

        def read():
            with consumer.read(timeout=5) as slot:
                result["value"] = int(slot.array[0])

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.1)               # the reader waits in C++; this thread must still run Python
        with producer.write() as slot:
            slot.array[0] = 42
        reader.join(timeout=5)
        assert result == {"value": 42}


# ---- flex zone, inspect, bad input -------------------------------------------------------------------------


def test_the_flex_zone_is_shared_between_producer_and_consumers(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, flex_bytes=256) as producer, dhub.Consumer(channel_name) as consumer:
        assert consumer.flex.read_json() is None
        producer.flex.write_json({"run": 17, "units": "K"})
        assert consumer.flex.read_json() == {"run": 17, "units": "K"}
        version = consumer.flex.version
        consumer.flex.write(b"calibrated")
        assert producer.flex.read() == b"calibrated" and producer.flex.version > version
        with pytest.raises(dhub.TooLarge, match="holds 256 bytes"):
            producer.flex.write(b"x" * 1000)


def test_inspect_shows_what_dhub_shm_inspect_shows(channel_name, build_dir):
    with dhub.Producer(channel_name, schema=str(SCHEMAS / "lab.thermo@1.json"), slots=4) as producer, \
            dhub.Consumer(channel_name, name="looker"):
        with producer.write() as slot:
            slot.array["box_id"] = 1
        info = dhub.inspect(channel_name)
        assert channel_name in dhub.channels()
        tool = subprocess.run([str(build_dir / "kernel" / "tools" / "shm_cli" / "dhub-shm"), "inspect", "--json",
                               channel_name], capture_output=True, text=True, check=True)
        from_tool = json.loads(tool.stdout)
        assert set(info) == set(from_tool)
        assert info["header"] == from_tool["header"]
        assert [seat["name"] for seat in info["consumers"]] == ["looker"]


def test_bad_input_is_a_clear_python_exception(channel_name):
    with pytest.raises(dhub.NotFound, match="no such channel"):
        dhub.Consumer(channel_name + ".nothing")
    with pytest.raises(dhub.InvalidArgument, match="sync 'sometimes'"):
        dhub.Producer(channel_name, sync="sometimes")
    with pytest.raises(dhub.InvalidArgument, match="/fields/0/dtype"):
        dhub.Producer(channel_name, schema={"name": "bad", "version": 1, "fields": [{"name": "x", "dtype": "=f8"}]})
    with dhub.Producer(channel_name, schema=str(SCHEMAS / "lab.thermo@1.json")):
        with pytest.raises(dhub.SchemaMismatch, match="lab.camera.mono16"):
            dhub.Consumer(channel_name, schema=str(SCHEMAS / "lab.camera.mono16@1.json"))
        with pytest.raises(dhub.SchemaMismatch, match="lab.thermo@2"):
            # a reader of a later version than the channel carries
            dhub.Consumer(channel_name, schema=str(SCHEMAS / "lab.thermo@2.json"))
        with pytest.raises(dhub.AlreadyExists, match="pid"):
            dhub.Producer(channel_name, slot_bytes=64)
    with dhub.Producer(channel_name + ".c", slot_bytes=64) as producer:
        consumer = dhub.Consumer(channel_name + ".c")
        consumer.close()
        with pytest.raises(dhub.Error, match="closed"):
            consumer.read(timeout=0)
        producer.close()
        with pytest.raises(dhub.Error, match="closed"):
            producer.write()
    assert issubclass(dhub.Timeout, dhub.Error) and dhub.Timeout.code == "timeout"


def test_a_closed_channel_ends_iteration_after_the_last_slot(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=8) as producer, dhub.Consumer(channel_name) as consumer:
        for value in range(5):
            with producer.write() as slot:
                slot.array[0] = value
        producer.close()
        assert [int(copy.array[0]) for copy in _drain(consumer)] == [0, 1, 2, 3, 4]
        with pytest.raises(dhub.Closed):
            consumer.read(timeout=0)


def test_a_loop_that_keeps_every_array_stays_correct_and_is_told_what_it_costs(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64, slots=4) as producer, dhub.Consumer(channel_name) as consumer:
        kept = []
        with pytest.warns(RuntimeWarning, match="outlived their with block"):
            for value in range(100):
                with producer.write() as slot:
                    slot.array[0] = value
                with consumer.read(timeout=1) as slot:
                    frame = slot.array     # still bound when the block ends: copied at release
                    kept.append(frame)
        assert [int(array[0]) for array in kept] == list(range(100))


def test_the_example_viewer_prints_the_statistics_of_live_frames(channel_name):
    viewer = REPO / "examples" / "python" / "viewer.py"
    schema = {"name": "test.wave", "version": 1, "encoding": "ndarray",
              "fields": [{"name": "samples", "dtype": "<f8", "shape": [256]}]}
    with dhub.Producer(channel_name, schema=schema, slots=4, sync="every") as producer:
        process = subprocess.Popen([sys.executable, str(viewer), channel_name, "--rate", "50", "--count", "3"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            with producer.write(timeout=5) as slot:   # lossless, but the viewer never holds it back
                slot.array[:] = np.arange(256)
            time.sleep(0.005)
        output, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    lines = output.splitlines()
    assert "test.wave@1" in lines[0] and lines[1].split()[:2] == ["sequence", "age"]
    rows = [line.split() for line in lines[2:]]
    assert len(rows) == 3
    for row in rows:
        assert float(row[2]) == pytest.approx(127.5) and float(row[4]) == 0 and float(row[5]) == 255


def test_a_reader_may_view_a_channel_that_makes_no_schema_claim_through_its_own_schema(channel_name):
    schema = {"name": "test.pair", "version": 1, "fields": [{"name": "a", "dtype": "<u4"}, {"name": "b", "dtype": "<f4"}]}
    with dhub.Producer(channel_name, slot_bytes=64) as producer, \
            dhub.Consumer(channel_name, schema=schema) as consumer:
        with producer.write() as slot:
            slot.array[:8] = np.frombuffer(np.array([(7, 0.5)], dtype=[("a", "<u4"), ("b", "<f4")]).tobytes(), np.uint8)
        with consumer.read(timeout=1) as slot:
            assert int(slot.array["a"]) == 7 and float(slot.array["b"]) == 0.5


def test_a_committed_slot_refuses_more_changes(channel_name):
    with dhub.Producer(channel_name, slot_bytes=64) as producer:
        slot = producer.write()
        slot.commit()
        with pytest.raises(dhub.SlotReleased, match="already committed"):
            slot.commit(size=8)
        burst = producer.write_burst(2)
        burst.abort()
        with pytest.raises(dhub.SlotReleased, match="already aborted"):
            burst.set(0, size=8)
    with pytest.raises(dhub.SlotReleased):
        slot.commit(size=8)   # after the producer closed too: an exception, never a crash


def test_closing_a_consumer_another_thread_waits_on_is_refused_not_a_crash(channel_name):
    import threading
    with dhub.Producer(channel_name, slot_bytes=64) as producer:
        consumer = dhub.Consumer(channel_name)

        def read_nothing():
            with pytest.raises(dhub.Timeout):
                consumer.read(timeout=1.0)

        reader = threading.Thread(target=read_nothing)
        reader.start()
        time.sleep(0.2)
        with pytest.raises(dhub.InvalidArgument, match="reading in another thread"):
            consumer.close()
        reader.join()
        consumer.close()
        assert consumer.closed
