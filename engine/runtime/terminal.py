"""A terminal from the container's own devpts (child side), its master sent
to the engine over a socket pair (SCM_RIGHTS), as runc does it: inside the
container, ``tty`` then names /dev/pts/N of the container's /dev/pts.
Used by a container's PID 1 (init.py) and by exec (nsexec.py)."""
from __future__ import annotations

import fcntl
import os
import socket
import struct

TIOCGPTN = 0x80045430  # the pty's number
TIOCSPTLCK = 0x40045431  # (un)lock the slave


def open_in_container(channel: socket.socket) -> tuple[int, int, int]:
    """Open a pty from /dev/ptmx (call after the container's root is in
    place), send its master through ``channel``; returns the slave x3."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    number = struct.unpack("i", fcntl.ioctl(master, TIOCGPTN, b"\0" * 4))[0]
    slave = os.open(f"/dev/pts/{number}", os.O_RDWR | os.O_NOCTTY)
    socket.send_fds(channel, [b"m"], [master])
    os.close(master)
    channel.close()
    return slave, slave, slave


def receive_master(channel: socket.socket) -> int | None:
    """The master the child sent (None if it sent none before closing)."""
    _, fds, _, _ = socket.recv_fds(channel, 1, 1)
    return fds[0] if fds else None
