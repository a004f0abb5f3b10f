"""Per-core parallelism on dxpy loops (docs/parallel.md).

    pool = dxpy.parallel.ReactorPool()          # a thread + reactor + loop per core
    future = pool.run(coro, core=None)          # concurrent.futures.Future
    result = await pool.spawn(coro)             # from another loop
    loop = dxpy.parallel.get_loop()             # the current thread's loop
    dxpy.parallel.service_pool()                # the runtime's own background pool
"""

from .reactor_pool import ReactorPool, get_loop
from .service import service_pool

__all__ = ["ReactorPool", "get_loop", "service_pool"]
