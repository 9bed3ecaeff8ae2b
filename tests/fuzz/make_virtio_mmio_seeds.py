#!/usr/bin/env python3
"""Writes the seed corpus of virtio_mmio_fuzz (tests/fuzz/corpus/virtio_mmio).

An input is one configuration byte (queue_size_max = 1 << (b & 0x7f) % 9; bit 7:
the transmit sink answers at once with queue_receive), then operations, each
an opcode byte (mod 12) and its operands, little-endian. An address is a
base byte (0: RAM region 0 at 0x10000000, 1: region 1 at 0x10011000, 2: 0,
3: 2^64 - 0x10000) and a 16-bit offset.

  0 write  width u8, offset u16 (mod 0x200), value u64
  1 read   width u8, offset u16
  2 poke   address, length u8, bytes
  3 notify queue u8 (bit 7: through the QueueNotify register)
  4 reset
  5 host receive  port u8, length u8, bytes
  6 bring-up  features u8 (bit 0 VERSION_1, bit 1 MULTIPORT), log2 size u8,
              base address, stride u16
  7 queue setup  queue u8, size u16, descriptor/available/used addresses
  8 post chain  queue u8, first descriptor u8, count u8 (1 + n % 8), then
                per descriptor: address, length u16, flags u8
  9 control message  address, port u8, event u8, value u8, first descriptor u8
 10 acknowledge interrupts
 11 status  value u8
Width bytes: 0 -> 4, 1 -> 1, 2 -> 2, 3 -> 8.
"""
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "virtio_mmio")


def addr(off, base=0):
    return struct.pack("<BH", base, off)


def bring_up(features=3, log2=4, base_off=0, stride=0x200):
    return bytes([6, features, log2]) + addr(base_off) + struct.pack("<H", stride)


def poke(off, data):
    return bytes([2]) + addr(off) + bytes([len(data)]) + data


def post(queue, first, descs):
    b = bytes([8, queue, first, len(descs) - 1])
    for off, length, flags in descs:
        b += addr(off) + struct.pack("<HB", length, flags)
    return b


def control(off, port, event, value, first):
    return bytes([9]) + addr(off) + bytes([port, event, value, first])


def notify(queue):
    return bytes([3, queue])


def receive(port, data):
    return bytes([5, port, len(data)]) + data


def read(offset, width=0):
    return bytes([1, width]) + struct.pack("<H", offset)


ACK = bytes([10])
RESET = bytes([4])
WRITABLE = 2


def multiport_handshake():
    b = bring_up()
    # Twelve page-sized buffers on the control receive queue for the device's messages.
    for i in range(12):
        b += post(2, i, [(0x2000 + 0x100 * i, 0x100, WRITABLE)])
    b += notify(2)
    b += control(0x3000, 0xFF, 0, 1, 0)  # DEVICE_READY
    for port in range(3):
        b += control(0x3010 + 0x10 * port, port, 3, 1, 1 + port)  # PORT_READY
    b += control(0x3040, 1, 6, 1, 4)  # PORT_OPEN port 1
    return b


def transmit(text, queue=5, first=0):
    return poke(0x5000, text) + post(queue, first, [(0x5000, len(text), 0)]) + notify(queue)


seeds = {
    # Bring-up, the multiport handshake, a transmit on port 1, a host reply received into a posted buffer.
    "bringup_transmit": bytes([8]) + multiport_handshake() + transmit(b"hello from the guest\n")
    + post(4, 0, [(0x6000, 64, WRITABLE)]) + notify(4) + receive(1, b"snapshot reply") + ACK + read(0),
    # Without MULTIPORT: port 0's pair only, its console always open.
    "single_port": bytes([8]) + bring_up(features=1) + transmit(b"console line\n", queue=1)
    + post(0, 0, [(0x6000, 32, WRITABLE)]) + receive(0, b"input") + ACK + read(0x70),
    # A reset between posting a chain and notifying it, then the host's bytes, then a new bring-up.
    "reset_mid_transfer": bytes([0x88]) + multiport_handshake() + poke(0x5000, b"lost?")
    + post(5, 0, [(0x5000, 5, 0)]) + RESET + notify(5) + receive(1, b"held over the reset")
    + multiport_handshake() + transmit(b"after\n") + notify(0x85),
    # A ring scribbled over: the available index runs ahead, the device must ask for a reset.
    "scribbled_ring": bytes([8]) + multiport_handshake()
    + poke(5 * 0x200 + 256 + 2, struct.pack("<H", 0x40)) + notify(5) + read(0x70) + RESET + read(0x70),
    # Bytes held for port 0 go out at DRIVER_OK onto a receive ring whose index ran ahead: the device
    # must break (NEEDS_RESET) and then transmit nothing. It used to stay active.
    "activation_on_broken_ring": bytes([8]) + poke(256 + 2, struct.pack("<H", 0x40)) + receive(0, b"x")
    + bring_up(features=1) + read(0x70) + transmit(b"still alive\n", queue=1),
}

os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
