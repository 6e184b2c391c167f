# SPDX-License-Identifier: Apache-2.0
"""dhub.Broker against a real dhub-kernel with an embedded broker on loopback, CurveZMQ keys and an allowlist:
discovery, a consumer attached with the channel's attach secret, typed views from the segment, and refusals."""
import json
import pathlib
import socket
import subprocess
import time

import numpy as np
import pytest

import dhub


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keygen(build_dir, directory, name) -> str:
    subprocess.run([str(build_dir / "kernel" / "tools" / "keygen" / "dhub-keygen"), "--dir", str(directory), name],
                   check=True, capture_output=True)
    return (directory / f"{name}.pub").read_text().strip()


@pytest.fixture
def kernel_with_broker(build_dir, tmp_path, channel_name):
    """A dhub-kernel publishing `<channel_name>` (a sim_source waveform) through its embedded CURVE broker."""
    keys = tmp_path / "keys"
    keys.mkdir()
    keygen(build_dir, keys, "broker")
    producer_key = keygen(build_dir, keys, "kernel")
    reader_key = keygen(build_dir, keys, "reader")
    keygen(build_dir, keys, "stranger")
    (keys / "allow.json").write_text(json.dumps({"clients": [
        {"public_key": producer_key, "name": "kernel", "produce": ["*"], "consume": ["*"]},
        {"public_key": reader_key, "name": "reader", "consume": [channel_name]},
    ]}))
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    graph = {
        "schema_version": 1,
        "name": "pybroker",
        "plugin_path": [str(build_dir / "plugins")],
        "broker": {"endpoint": endpoint, "embedded": True, "secret_key": str(keys / "broker.key"),
                   "server_key": str(keys / "broker.pub"), "client_key": str(keys / "kernel.key"),
                   "allow": str(keys / "allow.json")},
        "channels": [{"name": channel_name, "slot_bytes": 8192, "slot_count": 16, "sync": "every_reader",
                      "schema": "dhub.waveform.f64@1"}],
        "nodes": [{"id": "sim", "plugin": "sim_source", "outputs": [channel_name],
                   "params": {"waveform": "counter", "channels": 2, "samples_per_channel": 64, "rate_hz": 500}}],
    }
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(graph))
    kernel = subprocess.Popen([str(build_dir / "kernel" / "dhub-kernel"), str(path), "--duration", "30"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield endpoint, keys
    finally:
        kernel.terminate()
        kernel.wait(timeout=10)


def test_a_consumer_found_through_the_broker_reads_the_kernels_channel(kernel_with_broker, channel_name):
    endpoint, keys = kernel_with_broker
    with dhub.Broker(endpoint, server_key=str(keys / "broker.pub"), client_key=str(keys / "reader.key"),
                     timeout=10) as broker:
        found = broker.discover(channel_name, timeout=10)
        assert found["name"] == channel_name and found["slot_bytes"] == 8192
        assert "attach_secret" not in found  # the secret stays inside the consumer
        with broker.consumer(channel_name, timeout=10) as consumer:
            sequences = []
            for _ in range(20):
                with consumer.read(timeout=5) as slot:
                    sequences.append(slot.sequence)
                    assert slot.size > 0 and slot.array.nbytes > 0
            assert sequences == list(range(sequences[0], sequences[0] + 20))
            assert any(entry["name"] == channel_name for entry in broker.channels())


def test_without_the_attach_secret_a_local_attach_is_refused(kernel_with_broker, channel_name):
    endpoint, keys = kernel_with_broker
    with dhub.Broker(endpoint, server_key=str(keys / "broker.pub"), client_key=str(keys / "reader.key"),
                     timeout=10) as broker:
        segment = broker.discover(channel_name, timeout=10)["segment"]
    with pytest.raises(dhub.Error, match="secret"):
        dhub.Consumer(segment)


def test_a_key_the_allowlist_does_not_name_gets_no_answer(kernel_with_broker, channel_name):
    endpoint, keys = kernel_with_broker
    with pytest.raises(dhub.Timeout, match="did not answer"):
        dhub.Broker(endpoint, server_key=str(keys / "broker.pub"), client_key=str(keys / "stranger.key"), timeout=1.5)


def test_a_channel_nobody_publishes_is_not_found_and_a_wrong_schema_is_refused(kernel_with_broker, channel_name):
    endpoint, keys = kernel_with_broker
    with dhub.Broker(endpoint, server_key=str(keys / "broker.pub"), client_key=str(keys / "reader.key"),
                     timeout=10) as broker:
        broker.discover(channel_name, timeout=10)
        with pytest.raises(dhub.Error):
            broker.consumer(channel_name + ".absent", timeout=0.3)
        wrong = {"name": "lab.other", "version": 1, "fields": [{"name": "x", "dtype": "<f8"}]}
        with pytest.raises(dhub.SchemaMismatch, match="lab.other"):
            broker.consumer(channel_name, schema=wrong, timeout=5)


def test_keys_must_come_in_pairs():
    with pytest.raises(dhub.InvalidArgument, match="both"):
        dhub.Broker("tcp://127.0.0.1:1", server_key="broker.pub")
