# One image for every process (web, ws, worker, beat, outbox, release): the command picks the
# Procfile line (`bin/procfile NAME`). docker-compose.yml builds it once and runs them all.

# irr's compiled packer (irr/_speedups.c, ADR 0008) needs a C compiler; build it in a
# throwaway stage so the image itself carries no compiler.
FROM python:3.11-slim AS irr-packer
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY irr/_speedups.c irr/_build.py irr/
RUN python irr/_build.py

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=irr-packer /build/irr/ irr/
# Hashed, compressed static files in the image (WhiteNoise serves them). DEBUG=1 only so the
# build needs no production secrets; STATIC_HASHED=1 picks the production storage anyway.
RUN DEBUG=1 STATIC_HASHED=1 python manage.py collectstatic --noinput
# Run as an unprivileged user; it may write only media (a shared volume in compose) and the
# static files, which the Procfile's release collects again.
RUN useradd --system --uid 10001 --no-create-home --home-dir /app tranche \
    && mkdir -p /app/media \
    && chown -R tranche /app/media /app/staticfiles
USER tranche
EXPOSE 8000 8001
CMD ["bin/procfile", "web"]
