"""contextvars across asyncio tasks, array and memoryview manipulation, and enum-keyed dispatch tables."""

import array
import asyncio
import contextvars

request_id = contextvars.ContextVar("request_id", default="none")
depth = contextvars.ContextVar("depth")


async def handler(name):
    token = request_id.set(name)
    await asyncio.sleep(0)
    seen = request_id.get()
    request_id.reset(token)
    return f"{name} saw {seen}, after reset {request_id.get()}"


async def main():
    request_id.set("main")
    results = await asyncio.gather(*(handler(f"req{i}") for i in range(3)))
    print(results, request_id.get())
    context = contextvars.copy_context()
    def inside():
        request_id.set("inside copy")
        return request_id.get()
    print(context.run(inside), request_id.get(), context[request_id])
    print(depth.get("no default given"), request_id in context, depth in context)


asyncio.run(main())
try:
    depth.get()
except LookupError as error:
    print("LookupError:", type(error).__name__)

numbers = array.array("i", range(10))
numbers.append(100)
numbers.extend([7, 8])
numbers[0] = -5
print(numbers, numbers.itemsize, numbers.typecode, numbers.count(7), numbers.index(100), sum(numbers))
doubles = array.array("d", [0.5, 1.5, 2.5])
print(doubles.tolist(), doubles.tobytes()[:8].hex(), array.array("b", b"\x01\xff").tolist())
view = memoryview(numbers)
print(view[1], view[-1], len(view), view.format, view.itemsize, view[2:5].tolist())
raw = bytearray(b"abcdefgh")
mv = memoryview(raw)
mv[0:3] = b"XYZ"
print(raw, mv[::2].tobytes(), mv.cast("H")[0], bytes(mv[4:]))
shorts = array.array("H", [1, 2, 3])
shorts.byteswap()
print(shorts.tolist(), array.array("u", "hi").tounicode())
numbers.remove(12345)
