"""A JSON-RPC 2.0 dispatcher over asyncio streams-in-memory: batch calls, errors, notifications, match dispatch."""

import asyncio
import json


class RPCError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.data = code, data


class Server:
    def __init__(self):
        self.methods = {}
        self.notifications = []

    def method(self, fn):
        self.methods[fn.__name__] = fn
        return fn

    async def call(self, request):
        match request:
            case {"jsonrpc": "2.0", "method": str(name), **rest} if name in self.methods:
                params = rest.get("params", [])
                match params:
                    case list(args):
                        result = await self.methods[name](*args)
                    case dict(kwargs):
                        result = await self.methods[name](**kwargs)
                    case _:
                        raise RPCError(-32602, "Invalid params")
                return result
            case {"jsonrpc": "2.0", "method": str(name)}:
                raise RPCError(-32601, "Method not found", name)
            case _:
                raise RPCError(-32600, "Invalid Request")

    async def handle_one(self, request):
        ident = request.get("id") if isinstance(request, dict) else None
        try:
            result = await self.call(request)
        except RPCError as error:
            body = {"code": error.code, "message": str(error)}
            if error.data is not None:
                body["data"] = error.data
            return {"jsonrpc": "2.0", "error": body, "id": ident}
        except TypeError as error:
            return {"jsonrpc": "2.0", "error": {"code": -32602, "message": str(error)}, "id": ident}
        if ident is None:
            self.notifications.append(request["method"])
            return None
        return {"jsonrpc": "2.0", "result": result, "id": ident}

    async def handle(self, text):
        try:
            payload = json.loads(text)
        except json.JSONDecodeError:
            return json.dumps({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None})
        if isinstance(payload, list):
            if not payload:
                return json.dumps({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"},
                                   "id": None})
            responses = await asyncio.gather(*(self.handle_one(r) for r in payload))
            kept = [r for r in responses if r is not None]
            return json.dumps(kept) if kept else None
        response = await self.handle_one(payload)
        return None if response is None else json.dumps(response)


server = Server()


@server.method
async def subtract(minuend, subtrahend):
    await asyncio.sleep(0)
    return minuend - subtrahend


@server.method
async def echo(*values):
    return list(values)


@server.method
async def update(*values):
    return None


REQUESTS = [
    '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
    '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 2}',
    '{"jsonrpc": "2.0", "method": "update", "params": [1, 2]}',
    '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
    '{"jsonrpc": "2.0", "method": "foobar, "params": "bar"',
    '[]',
    '[1, 2]',
    '[{"jsonrpc": "2.0", "method": "echo", "params": ["a"], "id": 9}, {"jsonrpc": "2.0", "method": "update"},'
    ' {"jsonrpc": "2.0", "method": "subtract", "params": [1], "id": 10}]',
    '{"jsonrpc": "2.0", "method": "echo", "params": 5, "id": 11}',
]


async def main():
    for text in REQUESTS:
        print(await server.handle(text))
    print("notifications:", server.notifications)


asyncio.run(main())
