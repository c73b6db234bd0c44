"""Race helpers for tests that use real threads against PostgreSQL."""

import threading

from django.db import connection


def run_concurrently(functions, timeout: float = 60):
    """Start every function at the same moment (a barrier), each in its own thread with its
    own database connection; return each one's result, or the exception it raised."""
    barrier = threading.Barrier(len(functions), timeout=timeout)
    results = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except BaseException as exc:  # the test inspects what each thread met
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing thread hung"
    return results
