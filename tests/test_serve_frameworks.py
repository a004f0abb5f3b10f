"""Real frameworks (Starlette, FastAPI from the registry) through the ``dxpy serve`` command."""

from __future__ import annotations

import contextlib

import httpx
from fastapi import FastAPI, WebSocket
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from websockets.sync.client import connect

from .serve_support import cli_server


@contextlib.asynccontextmanager
async def lifespan(app):
    yield {"greeting": "hello from lifespan"}


async def homepage(request):
    return PlainTextResponse(request.state.greeting)


async def upload(request):
    body = await request.body()
    return JSONResponse({"size": len(body), "query": dict(request.query_params)})


async def stream(request):
    async def numbers():
        for i in range(100):
            yield f"{i}\n"
    return StreamingResponse(numbers(), media_type="text/plain")


async def echo_socket(websocket):
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper())


starlette_app = Starlette(routes=[Route("/", homepage), Route("/upload", upload, methods=["POST"]),
                                  Route("/stream", stream), WebSocketRoute("/ws", echo_socket)],
                          lifespan=lifespan)

fastapi_app = FastAPI()


class Item(BaseModel):
    name: str
    price: float


@fastapi_app.post("/items")
async def create_item(item: Item) -> dict:
    return {"name": item.name.title(), "total": item.price * 2}


@fastapi_app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict:
    return {"item_id": item_id, "q": q}


@fastapi_app.websocket("/ws")
async def fastapi_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"hello": await websocket.receive_text()})
    await websocket.close()


def test_starlette_through_dxpy_serve():
    with cli_server("tests.test_serve_frameworks:starlette_app", "--port", "0") as child:
        base = f"http://127.0.0.1:{child.port}"
        with httpx.Client(base_url=base) as client:
            assert client.get("/").text == "hello from lifespan"
            uploaded = client.post("/upload?a=b", content=(b"%d" % i for i in range(1000)))
            assert uploaded.json() == {"size": len(b"".join(b"%d" % i for i in range(1000))),
                                       "query": {"a": "b"}}
            assert client.get("/stream").text == "".join(f"{i}\n" for i in range(100))
            assert client.get("/missing").status_code == 404
        with connect(f"ws://127.0.0.1:{child.port}/ws") as ws:
            ws.send("shout")
            assert ws.recv(timeout=5) == "SHOUT"
        assert child.stop() == 0
    assert '"GET / HTTP/1.1" 200' in child.drain()  # the access log


def test_fastapi_through_dxpy_serve():
    with cli_server("tests.test_serve_frameworks:fastapi_app", "--port", "0",
                    "--no-access-log") as child:
        base = f"http://127.0.0.1:{child.port}"
        with httpx.Client(base_url=base) as client:
            assert client.post("/items", json={"name": "widget", "price": 2.5}).json() == {
                "name": "Widget", "total": 5.0}
            assert client.get("/items/7", params={"q": "x"}).json() == {"item_id": 7, "q": "x"}
            assert client.post("/items", json={"name": "widget"}).status_code == 422
        with connect(f"ws://127.0.0.1:{child.port}/ws") as ws:
            ws.send("dxpy")
            assert ws.recv(timeout=5) == '{"hello":"dxpy"}'
        assert child.stop() == 0
    assert "GET /items" not in child.drain()
