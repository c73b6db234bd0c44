"""Gunicorn settings for the Procfile's `web` process, beyond its command line
(`gunicorn config.wsgi -c config/gunicorn.py …`).

Garbage collection. Most of a worker's heap lives as long as the process: the imported
modules, Django's URL resolvers, DRF's and psycopg's caches. CPython's collector walks all
of it on every full (generation 2) collection: a pause that lands on the request in hand
and on the requests queued behind it (measured in docs/benchmarks.md, "Marketplace buy").
So each worker collects once and freezes what is left (`gc.freeze()`), when it starts and
again once warmed up, since the first requests build caches of their own: the collector
never walks those objects again. Both collections run outside any request (the second
after its response is written). A frozen object is still freed when its last reference
goes; only a reference cycle among frozen objects is never collected, which costs nothing
for objects that live as long as the process.
"""

import gc

# By then a worker has served each kind of request it commonly sees at least once.
FREEZE_AGAIN_AFTER_REQUESTS = 100


def freeze_long_lived_objects() -> None:
    gc.collect()
    gc.freeze()


def post_worker_init(worker) -> None:
    freeze_long_lived_objects()


def post_request(worker, req, environ, resp) -> None:
    if worker.nr == FREEZE_AGAIN_AFTER_REQUESTS:
        freeze_long_lived_objects()
