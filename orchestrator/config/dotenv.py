"""The ``.env`` dialect: the project's ``.env`` and services' ``env_file``.

This module owns reading KEY=VALUE files the way Docker Compose v2 does:
compose-go's ``dotenv`` parser (not python-dotenv's, which differs), and the
``format: raw`` parser Compose registers for ``env_file`` (docker run
``--env-file`` rules: every value taken literally). Values are expanded with
``interpolate.substitute``; the environment arrives as a lookup function.

What the ``.env`` dialect does, compose-go's quirks included:

* ``KEY=value``, ``KEY: value``, ``export KEY=value``; blank lines and
  ``#`` comments are skipped; a UTF-8 BOM is dropped;
* keys may hold letters, digits, ``_ . - [ ]``; a key with a space is an
  error; a bare ``KEY`` line inherits the value from the lookup, or is
  omitted when the lookup has none;
* unquoted values run to the end of the line, lose a `` #...`` comment and
  trailing blanks, and are interpolated;
* ``'single'`` quotes are literal (only ``\\'`` is unescaped);
  ``"double"`` quotes may span lines, understand ``\\n \\t \\" \\\\ \\$``
  and ``\\0NNN`` octal escapes, and are interpolated;
* interpolation asks the lookup first, then the keys defined earlier in the
  same text (so the process environment wins over the file, as in Compose);
* text after the last line break that has no ``=`` or ``:`` becomes the
  value of the empty key ``""`` (compose-go does this; Compose passes it on).

Errors are DotenvError with the file and 1-based line set. Invalid UTF-8 in
a ``.env`` file is read as U+FFFD, as Compose ends up showing it.

Must not import anything but the standard library, ``errors`` and
``interpolate``.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from typing import Callable

from orchestrator.config.errors import DotenvError, InterpolationError
from orchestrator.config.interpolate import substitute

Lookup = Callable[[str], "str | None"]
OnUnset = Callable[[str], None]

# Go's unicode.IsSpace (Python's str.isspace also counts \x1c-\x1f).
_SPACE = ("\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
          + "\u2028\u2029\u202f\u205f\u3000")
_BLANK = "\t\v\f\r \x85\xa0"  # compose-go's isSpace: no line break
_SPACES = re.compile(f"[{re.escape(_SPACE)}]*")
_BLANKS = re.compile(f"[{re.escape(_BLANK)}]*")
_EXPORT = re.compile(r"export[\t\n\f\r ]+")  # Go's \s is ASCII and has no \v
_KEY_END = re.compile(r"[=:\n]")
_KEY_OK = re.compile(rf"[A-Za-z0-9_.\-\[\]{re.escape(_BLANK)}]*")
_QUOTED = {
    '"': re.compile(r'((?:\\.|[^\\"])*)"', re.S),
    "'": re.compile(r"((?:\\.|[^\\'])*)'", re.S),
}
_ESCAPED_CHAR = re.compile(r"\\(.)", re.S)
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", '"': '"', "\\": "\\",
            "$": "$$"}  # stays literal through the interpolation that follows
FORMATS = (".env", "raw")


def _unset(name: str) -> None:
    return None


def parse(text: str, lookup: Lookup = _unset, *, file: str | None = None,
          on_unset: OnUnset | None = None, into: dict | None = None) -> dict[str, str]:
    """Parse ``.env`` text; ``lookup`` resolves ``$VAR`` and bare ``KEY``.

    ``on_unset`` hears of ``$VAR`` references that resolve to nothing (see
    ``interpolate.substitute``); ``file`` only goes into error locations.
    ``into`` receives each variable as soon as its line is parsed (and is
    returned): compose parses several --env-file files into one map that its
    lookup also reads, so a line sees what earlier lines of every file set.
    """
    return _Parser(text.removeprefix("\ufeff"), lookup, file, on_unset, into).run()


def parse_raw(text: str, lookup: Lookup = _unset, *,
              file: str | None = None) -> dict[str, str]:
    """Parse ``format: raw``: one ``KEY=VALUE`` per line, nothing expanded.

    Leading whitespace and ``#`` comment lines are skipped; the value is
    everything after the first ``=``, quotes and trailing blanks included.
    """
    out: dict[str, str] = {}
    lines = text.removeprefix("\ufeff").split("\n")
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r").lstrip(_SPACE)
        if not line or line.startswith("#"):
            continue
        key, has_value, value = line.partition("=")
        if not key:
            raise DotenvError(f"no variable name on line '{line}'").at(
                file=file, line=number)
        if " " in key or "\t" in key:
            raise DotenvError(f"variable '{key}' contains whitespaces").at(
                file=file, line=number)
        if has_value:
            out[key] = value
        elif (inherited := lookup(key)) is not None:
            out[key] = inherited
    return out


def load_file(path: str | os.PathLike, lookup: Lookup = _unset, *,
              format: str | None = None, on_unset: OnUnset | None = None,
              into: dict | None = None) -> dict[str, str]:
    """Read and parse an env file; ``format`` is None/".env" or "raw"."""
    name = os.fspath(path)
    if format not in (None, "", *FORMATS):
        raise DotenvError(f"unsupported env_file format {json.dumps(format)}",
                          hint="use .env or raw")
    data = _read(name)
    if format == "raw":
        parsed = parse_raw(_decode_strict(data, name), lookup, file=name)
        if into is None:
            return parsed
        into.update(parsed)
        return into
    return parse(data.decode("utf-8", "replace"), lookup, file=name, on_unset=on_unset, into=into)


def _read(name: str) -> bytes:
    try:
        with open(name, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise DotenvError(f"env file {name} does not exist") from None
    except IsADirectoryError:
        raise DotenvError(f"env file {name} is a directory, not a file") from None
    except OSError as e:
        raise DotenvError(f"cannot read env file {name}: {e.strerror}") from None


def _decode_strict(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DotenvError("invalid utf8 bytes").at(file=name, line=line) from None


def _expand_escapes(value: str) -> str:
    """Double-quote escapes; anything else after a backslash stays as is."""
    if "\\" not in value:
        return value
    return _ESCAPE.sub(_unescape, value)


def _unescape(m: re.Match) -> str:
    body = m.group()[1:]
    if body[0] != "0":
        return _ESCAPES[body] if body in _ESCAPES else m.group()
    # \0NNN is the octal byte NNN; compose-go rewrites it to Go's \NNN, which
    # needs exactly three octal digits up to 377 or is left as written.
    digits = body[1:]
    if len(digits) == 3 and set(digits) <= set("01234567") and int(digits, 8) < 256:
        return chr(int(digits, 8))
    return "\\" + digits


def _bad_key_char(key: str) -> str | None:
    """The first character a key may not contain (Go: letter or number)."""
    if _KEY_OK.fullmatch(key):
        return None
    for ch in key:
        if ch in _BLANK or ch in "_.-[]" or (ch.isascii() and ch.isalnum()):
            continue
        if ch.isascii() or unicodedata.category(ch)[0] not in "LN":
            return ch
    return None


class _Parser:
    """One pass over the text; ``out`` doubles as the earlier definitions."""

    def __init__(self, text: str, lookup: Lookup, file: str | None,
                 on_unset: OnUnset | None, into: dict | None = None) -> None:
        self.text = text
        self.lookup = lookup
        self.file = file
        self.on_unset = on_unset
        self.out: dict[str, str] = {} if into is None else into

    def run(self) -> dict[str, str]:
        pos = 0
        while (pos := self._statement_start(pos)) < len(self.text):
            start = pos
            key, pos, inherited = self._key(pos)
            if " " in key:
                raise self._error("key cannot contain a space", start)
            if not inherited:
                self.out[key], pos = self._value(pos, start)
            elif (value := self.lookup(key)) is not None:
                self.out[key] = value
        return self.out

    def _statement_start(self, pos: int) -> int:
        """Skip whitespace and comment lines."""
        text = self.text
        while True:
            pos = _SPACES.match(text, pos).end()
            if pos >= len(text) or text[pos] != "#":
                return pos
            newline = text.find("\n", pos)
            if newline == -1:
                return len(text)
            pos = newline

    def _key(self, pos: int) -> tuple[str, int, bool]:
        """The key, where its value starts, and whether it is a bare key."""
        text = self.text
        if _EXPORT.match(text, pos):
            pos = _BLANKS.match(text, pos + len("export")).end()
        end = _KEY_END.search(text, pos)
        stop = end.start() if end else len(text)
        bad = _bad_key_char(text[pos:stop])
        if bad is not None:
            line = text[pos:].split("\n", 1)[0]
            raise self._error(f"unexpected character {json.dumps(bad, ensure_ascii=False)}"
                              f" in variable name {json.dumps(line, ensure_ascii=False)}", pos)
        if end is None:
            if pos >= len(text):  # "export " at the very end (compose-go:
                # "zero length string")
                raise self._error('expected a variable name after "export"', pos)
            return "", pos, False  # compose-go: the empty key gets the text
        key = text[pos:stop].rstrip(_SPACE)
        return key, _BLANKS.match(text, stop + 1).end(), text[stop] == "\n"

    def _value(self, pos: int, start: int) -> tuple[str, int]:
        """The value at ``pos`` and where the next statement may start."""
        text = self.text
        if pos < len(text) and text[pos] in _QUOTED:
            return self._quoted(pos, start)
        newline = text.find("\n", pos)
        end = len(text) if newline == -1 else newline
        value = text[pos:end].split(" #", 1)[0].rstrip(_SPACE)
        return self._expand(value, start), min(end + 1, len(text))

    def _quoted(self, pos: int, start: int) -> tuple[str, int]:
        text, quote = self.text, self.text[pos]
        m = _QUOTED[quote].match(text, pos + 1)
        if m is None:
            shown = text[pos:].split("\n", 1)[0]
            raise self._error(f"unterminated quoted value {shown}", pos)
        value = m.group(1)
        if "\\" in value:  # only an escaped quote loses its backslash here
            value = _ESCAPED_CHAR.sub(lambda e: e[1] if e[1] == quote else e[0], value)
        if quote == '"':
            value = self._expand(_expand_escapes(value), start)
        return value, m.end()

    def _expand(self, value: str, start: int) -> str:
        if "$" not in value:
            return value
        try:
            return substitute(value, self._resolve, on_unset=self.on_unset)
        except InterpolationError as e:
            raise self._error(e.message, start, hint=e.hint) from e

    def _resolve(self, name: str) -> str | None:
        value = self.lookup(name)
        return self.out.get(name) if value is None else value

    def _error(self, message: str, pos: int, hint: str | None = None) -> DotenvError:
        line = self.text.count("\n", 0, pos) + 1
        return DotenvError(message, hint=hint).at(file=self.file, line=line)
