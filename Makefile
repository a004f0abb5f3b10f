# One command sets everything up, one runs the tests (see README.md).
PYTHON ?= python3

.PHONY: setup system-deps test bench

setup: system-deps
	$(PYTHON) -m pip install -e '.[dev]'
	$(PYTHON) -m dxpy info

# liburing (for the io_uring backend) and wrk (HTTP load generator for the
# benchmarks).  Without root or apt the package still installs and falls
# back to epoll; `dxpy info` says so.
system-deps:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (dpkg -s liburing-dev wrk >/dev/null 2>&1 || \
	   (apt-get update -qq && apt-get install -y -qq liburing-dev wrk >/dev/null)) || \
	  echo "warning: apt-get could not install liburing-dev/wrk; io_uring backend may be unavailable"; \
	else \
	  echo "note: not root or no apt-get; install liburing-dev yourself for the io_uring backend"; \
	fi

test:
	$(PYTHON) -m pytest -q

bench:
	$(PYTHON) benchmarks/echo_bench.py
