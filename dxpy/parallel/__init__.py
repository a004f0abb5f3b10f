"""Per-core parallelism on dxpy loops (docs/parallel.md).

    pool = dxpy.parallel.ReactorPool()          # a thread + reactor + loop per core
    future = pool.run(coro, core=None)          # concurrent.futures.Future
    result = await pool.spawn(coro)             # from another loop
    loop = dxpy.parallel.get_loop()             # the current thread's loop
    dxpy.parallel.service_pool()                # the runtime's own background pool
    with dxpy.parallel.Executor(kind="thread") as ex:   # or kind="process"
        results = list(ex.map(fn, items))
    dxpy.parallel.parallel_map(fn, items, kind="process")
"""

from .executor import Executor, parallel_map
from .reactor_pool import ReactorPool, get_loop
from .service import service_pool

__all__ = ["Executor", "ReactorPool", "get_loop", "parallel_map", "service_pool"]
