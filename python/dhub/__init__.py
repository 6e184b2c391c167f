# SPDX-License-Identifier: Apache-2.0
"""dhub channels from Python: zero-copy numpy views of the slots of a dhub DataBlock (docs/python.md).

    import dhub

    with dhub.Consumer("cam0") as camera:           # a channel on this host
        with camera.read(timeout=1.0) as slot:        # dhub.Timeout / dhub.Closed otherwise
            print(slot.sequence, slot.array.mean())   # read-only view, typed by the channel's schema

    with dhub.Producer("lab.temps", schema="configs/schemas/lab.thermo@1.json") as out:
        with out.write() as slot:                     # leaving the block commits; an exception aborts
            slot.array["celsius"] = [20.5, 21.0, 19.8, 22.1]

    broker = dhub.Broker("tcp://daq:5570", server_key="broker.pub", client_key="me.key")
    camera = broker.consumer("cam0")                  # a channel some kernel on this host publishes
"""
from ._dhub import (  # noqa: F401  (re-exported)
    AlreadyExists,
    Broker,
    Cancelled,
    ChecksumMismatch,
    Closed,
    Consumer,
    Corrupt,
    Error,
    Flex,
    Incompatible,
    InvalidArgument,
    IoError,
    NotFound,
    NotOwner,
    Overwritten,
    PermissionDenied,
    Producer,
    ReadBurst,
    ReadSlot,
    SchemaMismatch,
    SlotReleased,
    Timeout,
    TooLarge,
    WriteBurst,
    WriteSlot,
    channels,
    inspect,
)
from ._schema import SlotLayout, layout_of  # noqa: F401

__version__ = "0.1.0"
