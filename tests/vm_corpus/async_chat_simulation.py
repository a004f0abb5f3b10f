"""An in-process chat server simulation with asyncio queues per client, broadcast, join/leave and shutdown."""

import asyncio


class Room:
    def __init__(self):
        self.members = {}
        self.history = []

    async def join(self, name):
        queue = asyncio.Queue()
        self.members[name] = queue
        await self.broadcast("server", f"{name} joined")
        return queue

    async def leave(self, name):
        queue = self.members.pop(name)
        await queue.put(None)
        await self.broadcast("server", f"{name} left")

    async def broadcast(self, sender, text):
        self.history.append((sender, text))
        for name, queue in sorted(self.members.items()):
            if name != sender:
                await queue.put(f"[{sender}] {text}")


async def client(room, name, script, transcript):
    inbox = await room.join(name)

    async def reader():
        while (message := await inbox.get()) is not None:
            transcript.setdefault(name, []).append(message)

    reading = asyncio.create_task(reader())
    for text in script:
        await asyncio.sleep(0)
        await room.broadcast(name, text)
    await asyncio.sleep(0)
    await room.leave(name)
    await reading
    return len(transcript.get(name, []))


async def main():
    room, transcript = Room(), {}
    counts = await asyncio.gather(client(room, "ann", ["hi all", "bye"], transcript),
                                  client(room, "bob", ["hello"], transcript),
                                  client(room, "cy", [], transcript))
    print("received counts", counts)
    for name in sorted(transcript):
        print(name, transcript[name])
    print(len(room.history), room.history[:3], room.members)
    await room.leave("ghost")


asyncio.run(main())
