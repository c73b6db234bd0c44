"""A Jepsen-style bank test of the running platform (issue 12).

    .venv/bin/python -m bench.chaos --seconds 60 --config spread --seed 1     # one run
    .venv/bin/python -m bench.chaos --smoke                                   # make chaos-smoke
    .venv/bin/python -m bench.chaos --full                                    # make chaos

One run: a throwaway database (`tranche_chaos`) and Redis db 15; investors, offerings and
listings seeded through the real services; the production stack (the Procfile's `web` with
3 gunicorn workers, a Celery `worker` and `beat`, sandbox payment and payout providers);
client threads doing random money-moving operations with idempotency keys; a nemesis that
injects one fault every 10–20 s and heals it; a checker that verifies the money and unit
invariants every 250 ms while it all runs, and at the end every reconcile invariant plus
"each acknowledged operation happened exactly once, each failed one not at all".

Modules: `runner` (orchestration, CLI), `stack` (processes), `world` (seeding), `clients`
(operations and the retry/timeout policy), `history` (the JSONL operation log),
`nemesis` (faults), `checker` (the invariants, live and final).
"""
