"""The `web` process's gunicorn settings (config/gunicorn.py) and their wiring in the Procfile."""

import gc
import os
import re
import subprocess
import weakref
from types import SimpleNamespace

import pytest
from django.conf import settings

from bench.chaos.stack import procfile_command
from config import gunicorn as web_settings


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_worker_freezes_what_it_holds_when_it_starts(unfrozen):
    web_settings.post_worker_init(SimpleNamespace(nr=0))
    assert gc.get_freeze_count() > 0


def test_it_freezes_again_once_warm_and_only_then(monkeypatch):
    worker, freezes = SimpleNamespace(nr=0), []
    monkeypatch.setattr(web_settings, "freeze_long_lived_objects", lambda: freezes.append(worker.nr))
    for served in range(1, 3 * web_settings.FREEZE_AGAIN_AFTER_REQUESTS):
        worker.nr = served
        web_settings.post_request(worker, None, {}, None)
    assert freezes == [web_settings.FREEZE_AGAIN_AFTER_REQUESTS]


def test_what_is_alive_at_the_freeze_is_frozen(unfrozen):
    warm_caches = [[number] for number in range(1_000)]  # what the first requests build and keep
    web_settings.freeze_long_lived_objects()
    assert gc.get_freeze_count() >= len(warm_caches)
    # gc.get_objects() lists what the collector still walks; frozen objects are not in it.
    walked = {id(thing) for thing in gc.get_objects()}
    assert not any(id(cache) in walked for cache in [warm_caches, *warm_caches])


class _Node:
    pass


def test_garbage_is_collected_before_the_freeze_not_kept_for_ever(unfrozen):
    node = _Node()
    node.itself = node  # a reference cycle: only the collector frees it
    alive = weakref.ref(node)
    del node
    web_settings.freeze_long_lived_objects()
    assert alive() is None


def test_the_procfile_web_process_loads_these_settings():
    env = {**os.environ, "DEBUG": "1", "PATH": f"{settings.BASE_DIR}/.venv/bin:" + os.environ["PATH"]}
    command = [*procfile_command("web", env), "--print-config"]
    result = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    hooks = dict(re.findall(r"^(post_worker_init|post_request)\s+= (\S+)$", result.stdout, re.MULTILINE))
    assert hooks == {"post_worker_init": "<post_worker_init()>", "post_request": "<post_request()>"}
