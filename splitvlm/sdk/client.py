"""`Client` (blocking) and `AsyncClient` (asyncio) for the edge's Ask API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from types import TracebackType

import grpc

from splitvlm.errors import ImageNotHeld, ServerError
from splitvlm.sdk.answer import Answer
from splitvlm.sdk.images import ImageLike, image_bytes
from splitvlm.service.errors import error_from_rpc
from splitvlm.v1 import edge_pb2, edge_pb2_grpc

DEFAULT_DEADLINE_S = 30.0
OPTIONS = [("grpc.max_send_message_length", 64 << 20),
           ("grpc.max_receive_message_length", 64 << 20)]


def ask_request(image: ImageLike, question: str, plan: str, policy: Iterable[str],
                preset: str, max_new_tokens: int, image_key: str, no_cache: bool
                ) -> edge_pb2.AskRequest:
    return edge_pb2.AskRequest(
        image=image_bytes(image) if image is not None else b"", question=question, plan=plan,
        policy=list(policy), preset=preset, max_new_tokens=max_new_tokens, image_key=image_key,
        no_cache=no_cache)


class Client:
    """Blocking client. Use as a context manager, or call close()."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target, options=OPTIONS)
        self.stub = edge_pb2_grpc.EdgeStub(self.channel)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def stream(
        self, image: ImageLike, question: str, *, deadline_s: float = DEFAULT_DEADLINE_S,
        policy: Iterable[str] = (), plan: str = "auto", preset: str = "",
        max_new_tokens: int = 0, image_key: str = "", no_cache: bool = False,
    ) -> Iterator[edge_pb2.AskEvent]:
        """Events as they arrive: the plan, then each token, then the answer."""
        request = ask_request(image, question, plan, policy, preset, max_new_tokens, image_key,
                              no_cache)
        try:
            yield from self.stub.Ask(request, timeout=deadline_s)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc

    def tokens(self, image: ImageLike, question: str, **options: object) -> Iterator[str]:
        """Just the answer's words, as they are produced."""
        for event in self.stream(image, question, **options):  # type: ignore[arg-type]
            if event.HasField("token"):
                yield event.token.text

    def ask(self, image: ImageLike, question: str, **options: object) -> Answer:
        for event in self.stream(image, question, **options):  # type: ignore[arg-type]
            if event.HasField("answer"):
                return Answer.from_pb(event.answer)
        raise ServerError("the edge closed the stream without an answer")

    def session(self, image: ImageLike) -> Session:
        """A multi-turn conversation about `image` (see Session)."""
        return Session(self, image)


class Session:
    """Several questions about one image: the first turn sends it, later turns only its key
    (the edge and fog keep its pixels and visual tokens). If the edge no longer holds the
    image, the session sends it again."""

    def __init__(self, client: Client, image: ImageLike) -> None:
        self.client, self.image = client, image_bytes(image)
        self.image_key = ""
        self.turns = 0

    def ask(self, question: str, **options: object) -> Answer:
        self.turns += 1
        if self.image_key:
            try:
                return self.client.ask(None, question, image_key=self.image_key, **options)
            except ImageNotHeld:
                pass  # evicted at the edge: send the image again
        answer = self.client.ask(self.image, question, **options)
        self.image_key = answer.image_key
        return answer


class AsyncClient:
    """asyncio client: `async with AsyncClient(target) as c: await c.ask(...)`."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.aio.insecure_channel(target, options=OPTIONS)
        self.stub = edge_pb2_grpc.EdgeStub(self.channel)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def stream(
        self, image: ImageLike, question: str, *, deadline_s: float = DEFAULT_DEADLINE_S,
        policy: Iterable[str] = (), plan: str = "auto", preset: str = "",
        max_new_tokens: int = 0, image_key: str = "", no_cache: bool = False,
    ) -> AsyncIterator[edge_pb2.AskEvent]:
        request = ask_request(image, question, plan, policy, preset, max_new_tokens, image_key,
                              no_cache)
        try:
            async for event in self.stub.Ask(request, timeout=deadline_s):
                yield event
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc

    async def ask(self, image: ImageLike, question: str, **options: object) -> Answer:
        async for event in self.stream(image, question, **options):  # type: ignore[arg-type]
            if event.HasField("answer"):
                return Answer.from_pb(event.answer)
        raise ServerError("the edge closed the stream without an answer")
