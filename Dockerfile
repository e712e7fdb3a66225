# frontdesk in a container. Build: `docker build -t frontdesk .`; run it with compose.yaml.
# Configuration is the same FRONTDESK_* environment variables as everywhere (README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The dependencies first, in a layer of their own: a change of the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Installed in place (editable): the desk reads data/ (scope, training phrases, knowledge base,
# calendar) beside its code, which a regular install would leave behind. The classifier is
# trained into the image (seconds), so that the container starts without training and never
# needs to write into /app; it runs as an unprivileged user that owns only /data.
COPY . .
RUN pip install --no-deps -e . \
    && python -m classifier train \
    && useradd --system --uid 10001 --no-create-home --home-dir /data frontdesk \
    && mkdir -p /data \
    && chown frontdesk /data

# /data: the SQLite database, the outbox's .eml files, attachments, the IMAP watcher's position.
# The ops server listens on all of the container's addresses so that Prometheus on the compose
# network can scrape it; compose publishes it on the host's 127.0.0.1 only.
ENV FRONTDESK_DATA_DIR=/data \
    FRONTDESK_OPS_HOST=0.0.0.0 \
    FRONTDESK_OPS_PORT=9090
VOLUME ["/data"]
EXPOSE 9090
USER frontdesk

# Alive and its event loop turning (bot/ops/server.py); urlopen fails on a 503 as on no answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['FRONTDESK_OPS_PORT'] + '/healthz', timeout=4)"]

# SIGTERM (docker stop) stops `frontdesk run` cleanly: the message in hand is finished first.
CMD ["frontdesk", "run"]
