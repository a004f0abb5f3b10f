"""Richards: the classic OS task-scheduler simulation (idle, worker, two handlers, two devices).

Written from the benchmark's description: a priority-ordered list of task
control blocks, packets passed between tasks, tasks that hold, wait and
release one another.  Prints the queue and hold counts, which the original
benchmark checks (for its iteration count).
"""

I_IDLE, I_WORK, I_HANDLERA, I_HANDLERB, I_DEVA, I_DEVB = range(1, 7)
K_DEV, K_WORK = 1000, 1001
BUFSIZE = 4


class Packet:
    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.a1 = 0
        self.a2 = [0] * BUFSIZE
    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        last = queue
        while last.link is not None:
            last = last.link
        last.link = self
        return queue


class TaskState:
    def __init__(self):
        self.packet_pending = True
        self.task_waiting = False
        self.task_holding = False
    def waiting_with_packet(self):
        return self.packet_pending and self.task_waiting and not self.task_holding
    def is_held_or_suspended(self):
        return self.task_holding or (not self.packet_pending and self.task_waiting)


class Task(TaskState):
    def __init__(self, system, ident, priority, queue, record):
        super().__init__()
        self.system = system
        self.link = system.task_list
        self.ident = ident
        self.priority = priority
        self.input = queue
        self.record = record
        self.packet_pending = queue is not None
        self.task_waiting = queue is None
        system.task_list = self
        system.table[ident] = self
    def add_packet(self, packet, old):
        if self.input is None:
            self.input = packet
            self.packet_pending = True
            if self.priority > old.priority:
                return self
        else:
            packet.append_to(self.input)
        return old
    def run_task(self):
        if self.waiting_with_packet():
            message = self.input
            self.input = message.link
            if self.input is None:
                self.packet_pending = False
                self.task_waiting = False
            else:
                self.packet_pending, self.task_waiting = True, False
        else:
            message = None
        return self.fn(message)

    def wait_task(self):
        self.task_waiting = True
        return self

    def hold(self):
        self.system.hold_count += 1
        self.task_holding = True
        return self.link

    def release(self, ident):
        task = self.system.table[ident]
        task.task_holding = False
        return task if task.priority > self.priority else self

    def qpkt(self, packet):
        task = self.system.table[packet.ident]
        self.system.queue_count += 1
        packet.link = None
        packet.ident = self.ident
        return task.add_packet(packet, self)


class DeviceTask(Task):
    def fn(self, packet):
        if packet is None:
            pending = self.record["pending"]
            if pending is None:
                return self.wait_task()
            self.record["pending"] = None
            return self.qpkt(pending)
        self.record["pending"] = packet
        self.system.trace.append(packet.a1)
        return self.hold()


class HandlerTask(Task):
    def fn(self, packet):
        record = self.record
        if packet is not None:
            if packet.kind == K_WORK:
                record["work"] = packet.append_to(record["work"])
            else:
                record["device"] = packet.append_to(record["device"])
        work = record["work"]
        if work is not None:
            count = work.a1
            if count < BUFSIZE:
                device = record["device"]
                if device is not None:
                    record["device"] = device.link
                    device.a1 = work.a2[count]
                    work.a1 = count + 1
                    return self.qpkt(device)
            else:
                record["work"] = work.link
                return self.qpkt(work)
        return self.wait_task()


class IdleTask(Task):
    def fn(self, packet):
        record = self.record
        record["count"] -= 1
        if record["count"] == 0:
            return self.hold()
        if record["control"] & 1 == 0:
            record["control"] //= 2
            return self.release(I_DEVA)
        record["control"] = record["control"] // 2 ^ 0xD008
        return self.release(I_DEVB)


class WorkTask(Task):
    def fn(self, packet):
        if packet is None:
            return self.wait_task()
        record = self.record
        record["dest"] = I_HANDLERB if record["dest"] == I_HANDLERA else I_HANDLERA
        packet.ident = record["dest"]
        packet.a1 = 0
        for i in range(BUFSIZE):
            record["count"] += 1
            if record["count"] > 26:
                record["count"] = 1
            packet.a2[i] = ord("A") + record["count"] - 1
        return self.qpkt(packet)


class System:
    def __init__(self):
        self.task_list = None
        self.table = [None] * 10
        self.hold_count = 0
        self.queue_count = 0
        self.trace = []

    def schedule(self):
        task = self.task_list
        while task is not None:
            task = task.run_task() if not task.is_held_or_suspended() else task.link

    def run(self, count):
        idle = IdleTask(self, I_IDLE, 1, None, {"count": count, "control": 1})
        idle.packet_pending, idle.task_waiting = True, False  # the idle task starts running
        work = Packet(Packet(None, 0, K_WORK), 0, K_WORK)
        WorkTask(self, I_WORK, 1000, work, {"dest": I_HANDLERA, "count": 0})
        work = Packet(Packet(Packet(None, I_DEVA, K_DEV), I_DEVA, K_DEV), I_DEVA, K_DEV)
        HandlerTask(self, I_HANDLERA, 2000, work, {"work": None, "device": None})
        work = Packet(Packet(Packet(None, I_DEVB, K_DEV), I_DEVB, K_DEV), I_DEVB, K_DEV)
        HandlerTask(self, I_HANDLERB, 3000, work, {"work": None, "device": None})
        DeviceTask(self, I_DEVA, 4000, None, {"pending": None})
        DeviceTask(self, I_DEVB, 5000, None, {"pending": None})
        self.schedule()
        return self.queue_count, self.hold_count


for count in (100, 250):
    system = System()
    queued, held = system.run(count)
    print(f"count={count} queue_count={queued} hold_count={held}")
    print("device trace:", "".join(map(chr, system.trace[:40])))
