# Two commands matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install install-dev migrate seed serve check lint schema postman bench bench-buy clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# irr's compiled packer (irr/_speedups.c; irr/_build.py says why): built in place with this
# Python's C compiler. Optional: without a compiler irr falls back to pure Python (same
# results, slower xirr_many) and make only warns; under CI=true a failed build fails.
IRR_BUILD = $(BIN)/python irr/_build.py $(if $(filter true,$(CI)),,--optional)

install: $(VENV)/.runtime .env
	$(IRR_BUILD)
install-dev: $(VENV)/.dev .env
	$(IRR_BUILD)

# Local development only (gitignored, never deployed): manage.py runs with DEBUG on, so it
# needs no production secrets. Tests, CI and the benchmarks set DEBUG themselves.
.env:
	printf '# Local development settings (see the README table); not used by tests or CI.\nDEBUG=1\n' > .env

# The embedded default: SQLite, eager Celery, in-memory channel layer, no Redis needed.
run: export DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo_data --once
	# uvicorn serves HTTP and the WebSockets (/ws/) together on the embedded default.
	$(BIN)/uvicorn config.asgi:application --host 127.0.0.1 --port 8000 --reload

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: install-dev
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 $(BIN)/python manage.py spectacular --validate --fail-on-warn \
		--file /dev/null

lint: install-dev
	$(BIN)/ruff check .

schema: install-dev
	DEBUG=1 $(BIN)/python manage.py spectacular --validate --file docs/openapi.yaml

# The Postman collection in docs/postman/ (tests/core/test_postman.py checks it is current).
postman: install-dev
	DEBUG=1 $(BIN)/python -m tools.export_postman

bench: install-dev
	$(BIN)/python bench/xirr.py

# The marketplace buy bench (issue 7) with its goals checked: exits 1 and says which goal was
# missed. About 10 minutes; needs PostgreSQL, Redis and wrk. Meant for a scheduled job on a
# quiet machine, not for CI (a shared CI host's p99 moves with its neighbours).
bench-buy: install-dev
	$(BIN)/python bench/buy.py --seconds 30 --rounds 3 --offerings 200 --idempotency-keys --check

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm var/ irr/_speedups.*.so

# The Jepsen-style bank test (bench/chaos, issue 12): the real stack under load and faults.
# Needs PostgreSQL and Redis; uses its own database (tranche_chaos), Redis db 15, port 8790.
.PHONY: chaos chaos-smoke
chaos-smoke: install-dev
	$(BIN)/python -m bench.chaos --smoke

chaos: install-dev
	$(BIN)/python -m bench.chaos --full
