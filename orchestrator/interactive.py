"""A terminal joined to a container's process over a hijacked connection
(``exec``, ``run``): our stdin to it, its output to our stdout/stderr.
With a tty the local terminal is raw while it lasts and the remote one
takes our size; without one the output is docker's multiplexed frames.
Owns the terminal's state and restores it, whatever happens."""
from __future__ import annotations

import os
import select
import shutil
import struct
import sys
import termios
import tty as ttymodule


def pump(sock, *, tty: bool, stdin: bool, resize=None) -> None:
    """Until the process's output ends. ``resize(height, width)`` sets the
    remote terminal's size (called once at the start with a tty)."""
    saved = None
    source = sys.stdin.fileno() if stdin else None
    if tty and source is not None and os.isatty(source):
        saved = termios.tcgetattr(source)
        ttymodule.setraw(source)
    try:
        if tty and resize is not None:
            size = shutil.get_terminal_size()
            resize(size.lines, size.columns)
        _loop(sock, tty, source)
    finally:
        if saved is not None:
            termios.tcsetattr(source, termios.TCSADRAIN, saved)


def _loop(sock, tty: bool, source: int | None) -> None:
    frames = b""
    watched = [sock.fileno()] + ([source] if source is not None else [])
    while True:
        readable, _, _ = select.select(watched, [], [])
        if source in readable:
            data = os.read(source, 65536)
            if data:
                sock.sendall(data)
            else:  # our stdin ended: so does the process's
                watched.remove(source)
                try:
                    sock.shutdown_write()
                except OSError:
                    pass
        if sock.fileno() in readable:
            data = sock.recv(65536)
            if not data:
                return
            if tty:
                _write(sys.stdout, data)
                continue
            frames += data
            while len(frames) >= 8:
                kind, size = struct.unpack(">BxxxL", frames[:8])
                if len(frames) < 8 + size:
                    break
                _write(sys.stderr if kind == 2 else sys.stdout, frames[8:8 + size])
                frames = frames[8 + size:]


def _write(stream, data: bytes) -> None:
    stream.buffer.write(data)
    stream.flush()
