"""Server-sent events: an incremental decoder, and the rules that turn events into chat chunks.

The decoder follows the WHATWG event-stream rules: lines end in LF, CRLF or CR (possibly split
across network chunks); `:` starts a comment; a blank line dispatches the event; several `data:`
lines join with LF; an event without data (a blank keep-alive) is dropped.

On top of it, `ChunkReader` applies the API's framing: `data: [DONE]` ends the stream, an event
named `error` (or a `data` object holding an `error` envelope) raises `APIError`, anything else is
one `ChatCompletion`. A stream that ends without `[DONE]` raises `IncompleteStreamError`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import httpx

from contract.client._errors import APIError, APIStreamError, IncompleteStreamError
from contract.schemas import ChatCompletion, ErrorResponse

__all__ = ["ChunkReader", "SSEDecoder", "ServerSentEvent"]


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


@dataclass
class SSEDecoder:
    """Feed it bytes as they arrive; it returns the events completed so far.

    ```
    decoder = SSEDecoder()
    for piece in response.iter_bytes():
        for event in decoder.feed(piece):
            ...
    ```
    """

    _buffer: str = ""
    _pending_cr: bool = False
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str | None = None
    _retry: int | None = None
    _utf8: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"), repr=False
    )

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode `chunk` and return every event it completed."""
        text = self._utf8.decode(chunk)
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across chunks
        self._pending_cr = False
        self._buffer += text
        events: list[ServerSentEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return events
            line, ending = self._buffer[:cut], self._buffer[cut]
            rest = self._buffer[cut + 1 :]
            if ending == "\r":
                if rest.startswith("\n"):
                    rest = rest[1:]
                elif not rest:
                    self._pending_cr = True
            self._buffer = rest
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(self._event or "message", "\n".join(self._data), self._id, self._retry)
        self._event, self._data = "", []
        return event


def _line_end(buffer: str) -> int | None:
    positions = [p for p in (buffer.find("\n"), buffer.find("\r")) if p != -1]
    return min(positions) if positions else None


@dataclass
class ChunkReader:
    """Turns the bytes of one chat stream into `ChatCompletion` chunks, enforcing `[DONE]`."""

    request: httpx.Request | None = None
    decoder: SSEDecoder = field(default_factory=SSEDecoder)
    done: bool = False
    chunks: int = 0

    def feed(self, data: bytes) -> Iterator[ChatCompletion]:
        """The chunks completed by `data`; raises `APIError` on an error event."""
        if self.done:
            return
        for event in self.decoder.feed(data):
            if event.data.startswith("[DONE]"):
                self.done = True
                return
            chunk = self._chunk(event)
            self.chunks += 1
            yield chunk

    def feed_all(self, pieces: Iterable[bytes]) -> Iterator[ChatCompletion]:
        """Every chunk of a whole stream, then `close()`."""
        for piece in pieces:
            yield from self.feed(piece)
        self.close()

    def close(self) -> None:
        """Call at end of stream: raises `IncompleteStreamError` when `[DONE]` never came."""
        if not self.done:
            raise IncompleteStreamError(
                f"The stream ended after {self.chunks} chunk(s) without `data: [DONE]`: the answer is incomplete.",
                self.request,
                chunks=self.chunks,
            )

    def broken(self, exc: Exception) -> IncompleteStreamError:
        """The error to raise when the connection failed mid-stream."""
        return IncompleteStreamError(
            f"The stream broke after {self.chunks} chunk(s) ({type(exc).__name__}): the answer is incomplete.",
            self.request,
            chunks=self.chunks,
        )

    def _chunk(self, event: ServerSentEvent) -> ChatCompletion:
        try:
            payload = json.loads(event.data)
        except ValueError:
            if event.event == "error":
                raise APIStreamError(f"Stream error: {event.data}", self.request, body=event.data) from None
            raise APIError(f"Undecodable stream event: {event.data[:200]!r}", self.request) from None
        if event.event == "error" or (isinstance(payload, dict) and "error" in payload):
            raise _stream_error(payload, self.request)
        return ChatCompletion.model_validate(payload)


def _stream_error(payload: object, request: httpx.Request | None) -> APIStreamError:
    try:
        envelope: ErrorResponse | None = ErrorResponse.model_validate(payload)
    except ValueError:
        envelope = None
    detail = f"{envelope.error.type}: {envelope.error.message}" if envelope else json.dumps(payload)
    return APIStreamError(f"Stream error: {detail}", request, body=payload, error=envelope)
