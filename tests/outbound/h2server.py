"""A local HTTP/2-only server (TLS, ALPN `h2`, as APNs is): records requests, answers as told.

Built on the `h2` state machine over asyncio in a thread. A client that does not
speak HTTP/2 gets no answer: the server offers only `h2` and reads only HTTP/2
frames, so a request recorded here proves the client used HTTP/2.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import Any

import h2.config
import h2.connection
import h2.events
import orjson

from tests.outbound.server import Handler, Recorded, Reply


class H2Server:
    """`with H2Server(handler, tls) as server:` ... `server.port`, `server.requests`."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext) -> None:
        tls.set_alpn_protocols(["h2"])
        self.handler, self.tls = handler, tls
        self.requests: list[Recorded] = []
        self.alpn: list[str | None] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=self.tls)
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._ready.set()
        self._loop.run_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        self.alpn.append(ssl_object.selected_alpn_protocol() if ssl_object else None)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, dict[str, Any]] = {}
        try:
            while True:
                data = await reader.read(65_536)
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {
                            (k.decode() if isinstance(k, bytes) else k): (
                                v.decode() if isinstance(v, bytes) else v
                            )
                            for k, v in event.headers
                        }
                        streams[event.stream_id] = {"headers": headers, "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        self._answer(conn, event.stream_id, streams.pop(event.stream_id))
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        writer.close()
                        return
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    def _answer(
        self, conn: h2.connection.H2Connection, stream_id: int, raw: dict[str, Any]
    ) -> None:
        headers = raw["headers"]
        path = headers.get(":path", "")
        recorded = Recorded(
            headers.get(":method", ""),
            path.split("?", 1)[0],
            {},
            {k: v for k, v in headers.items() if not k.startswith(":")},
            raw["body"],
        )
        self.requests.append(recorded)
        reply: Reply = self.handler(recorded)
        payload = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
        out = [(":status", str(reply.status)), ("content-length", str(len(payload)))]
        out += [(k.lower(), v) for k, v in reply.headers.items()]
        conn.send_headers(stream_id, out, end_stream=not payload)
        if payload:
            conn.send_data(stream_id, payload, end_stream=True)

    def __enter__(self) -> H2Server:
        self._thread.start()
        assert self._ready.wait(10), "the HTTP/2 server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
