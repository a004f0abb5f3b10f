"""The loop layer: what ``dxpy.Loop`` runs, one module per kind of object.

As in uvloop's ``handles/``, the file tree is the object model:

==================  =========================================================
``host.py``         ``OpLoop``: what these modules need from the loop they are
                    handed (they never import ``dxpy.loop``)
``stream.py``       ``StreamTransport``/``SocketTransport``: byte streams on
                    reactor operations (the pure-Python core's data path)
``pipes.py``        ``ReadPipeTransport``/``WritePipeTransport``
``datagram.py``     ``DatagramTransport`` (recvmsg/sendmsg operations)
``subprocess.py``   ``SubprocessTransport`` (child exit through a pidfd poll)
``servers.py``      accepting (multishot accept) and Unix-socket endpoints
``sock_ops.py``     ``loop.sock_*`` as reactor operations
``factories.py``    the ``_make_*_transport`` hooks ``BaseEventLoop`` calls
==================  =========================================================

The compiled core (``dxpy/core/``) has its own socket transport for the
per-message path, with the same semantics as ``stream.SocketTransport``.
"""
