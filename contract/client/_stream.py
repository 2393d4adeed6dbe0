"""Chat streams: iterate typed chunks, then read the aggregated answer.

A stream is never retried once its 200 has arrived: a failure mid-way raises
`IncompleteStreamError` (connection broke, or the body ended without `data: [DONE]`) or
`APIStreamError` (an error event), and the chunks already yielded stay with the caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from contract.client._sse import ChunkReader
from contract.schemas import ChatCompletion, SearchResult, Usage

__all__ = ["AsyncChatStream", "ChatStream", "StreamAnswer"]


@dataclass
class StreamAnswer:
    """What a whole stream said: the text joined from every delta, and the latest metadata.

    Attributes:
        id: The completion id.
        model: The model that answered.
        text: Every `delta.content`, concatenated (in concise mode, the final
            `chat.completion.done` message, which holds the whole answer).
        citations: The latest `citations` seen (the API repeats them on every chunk).
        search_results: The latest `search_results` seen.
        usage: The latest `usage` (cumulative on the wire, so the last one is the total).
        finish_reason: `stop` or `length` from the final chunk.
        chunks: How many chunks arrived.
    """

    id: str | None = None
    model: str | None = None
    text: str = ""
    citations: list[str] = field(default_factory=list)
    search_results: list[SearchResult] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    chunks: int = 0

    def add(self, chunk: ChatCompletion) -> None:
        """Fold one chunk in."""
        self.chunks += 1
        self.id, self.model = chunk.id, chunk.model
        for choice in chunk.choices[:1]:
            self.text += choice.delta.content or ""
            self.finish_reason = choice.finish_reason or self.finish_reason
            if chunk.object == "chat.completion.done" and choice.message.content is not None:
                # Concise mode ends with the whole answer: it is the authority, not our join.
                self.text = choice.message.content
        if chunk.citations is not None:
            self.citations = list(chunk.citations)
        if chunk.search_results is not None:
            self.search_results = list(chunk.search_results)
        if chunk.usage is not None:
            self.usage = chunk.usage


class ChatStream:
    """A streamed chat completion; use it as a context manager and iterate it.

    ```
    with client.chat_stream(model="sonar", messages=[...]) as stream:
        for chunk in stream:
            print(chunk.choices[0].delta.content, end="")
        print(stream.answer.citations)
    ```

    Attributes:
        response: The `httpx.Response` (status 200, headers read, body streaming).
        answer: The aggregate of the chunks seen so far.
    """

    def __init__(self, response: httpx.Response, release: Callable[[], None]) -> None:
        self.response = response
        self.answer = StreamAnswer()
        self._reader = ChunkReader(response.request)
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[ChatCompletion]:
        try:
            pieces = self.response.iter_bytes()
            while True:
                try:
                    piece = next(pieces)
                except StopIteration:
                    break
                except httpx.TransportError as exc:
                    raise self._reader.broken(exc) from exc
                for chunk in self._reader.feed(piece):
                    self.answer.add(chunk)
                    yield chunk
            self._reader.close()
        finally:
            self.close()

    def until_done(self) -> StreamAnswer:
        """Read the rest of the stream and return the whole answer."""
        for _ in self:
            pass
        return self.answer

    def close(self) -> None:
        """Close the connection and give back the concurrency slot (idempotent)."""
        self.response.close()
        if self._release is not None:
            release, self._release = self._release, None
            release()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc_info: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class AsyncChatStream:
    """The async twin of `ChatStream`: `async with` and `async for`."""

    def __init__(self, response: httpx.Response, release: Callable[[], None]) -> None:
        self.response = response
        self.answer = StreamAnswer()
        self._reader = ChunkReader(response.request)
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[ChatCompletion]:
        try:
            pieces = self.response.aiter_bytes()
            while True:
                try:
                    piece = await anext(pieces)
                except StopAsyncIteration:
                    break
                except httpx.TransportError as exc:
                    raise self._reader.broken(exc) from exc
                for chunk in self._reader.feed(piece):
                    self.answer.add(chunk)
                    yield chunk
            self._reader.close()
        finally:
            await self.aclose()

    async def until_done(self) -> StreamAnswer:
        """Read the rest of the stream and return the whole answer."""
        async for _ in self:
            pass
        return self.answer

    async def aclose(self) -> None:
        """Close the connection and give back the concurrency slot (idempotent)."""
        await self.response.aclose()
        if self._release is not None:
            release, self._release = self._release, None
            release()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc_info: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()
