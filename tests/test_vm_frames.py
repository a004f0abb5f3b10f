"""The Python frame that stands for a VM frame (``excstate.shadow_frame``): what
``sys._getframe()`` in VM code returns is the ``tb_frame`` of its traceback entries
(test_raise's ``test_attrs``), and tracebacks through it print CPython's lines and carets."""

from __future__ import annotations

from .test_vm_language_corners import same_as_cpython


def test_getframe_is_the_traceback_entrys_frame() -> None:
    printed = same_as_cpython("""
        import sys, types
        def raiser():
            raise ValueError("x")
        def attrs():
            try:
                raiser()
            except Exception as exc:
                tb = exc.__traceback__
            print(isinstance(tb.tb_next, types.TracebackType), tb.tb_frame is sys._getframe(),
                  tb.tb_next.tb_next is None, tb.tb_frame is tb.tb_frame)
            print(tb.tb_frame.f_code.co_name, tb.tb_lineno, tb.tb_next.tb_frame.f_code.co_name,
                  tb.tb_next.tb_lineno, isinstance(tb.tb_lasti, int))
            print(sys._getframe().f_globals is globals(), sys._getframe() is sys._getframe())
        attrs()
        class Other:
            _getframe = staticmethod(lambda: "not sys")
        print(Other._getframe())
    """)
    assert printed.startswith("True True True True\nattrs 7 raiser 4 True\nTrue True\n")


def test_tracebacks_through_vm_frames_keep_lines_and_carets() -> None:
    same_as_cpython("""
        import sys, traceback
        def deep(n):
            if n == 0:
                return {}["missing"] + 1
            return deep(n - 1) * 2
        try:
            deep(3)
        except KeyError:
            lines = traceback.format_exc().splitlines()
            print([line for line in lines if not line.lstrip().startswith("File ")])
        try:
            deep(0)
        except KeyError as exc:
            print([(f.name, f.lineno, f.colno, f.end_colno)
                   for f in traceback.extract_tb(exc.__traceback__)])
    """)
