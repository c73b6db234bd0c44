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
RUN DEBUG=1 python manage.py collectstatic --noinput
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.py", "--bind", "0.0.0.0:8000"]
