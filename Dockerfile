# syntax=docker/dockerfile:1
# One image for every process (api, worker, worker-ai, beat, migrate); compose.yaml picks
# the command. Stages: deps (virtualenv) -> models (the three Hugging Face models, fetched at
# build time so that no process ever downloads at run time) -> runtime (slim, non-root).
#
#   docker build -t creator-analytics .
#   docker build --build-arg PIP_EXTRA_INDEX_URL=<PyTorch CPU wheel index> -t creator-analytics .
#
# The image installs the runtime dependencies only (requirements/base.txt, pinned with hashes;
# no test tools). torch is pinned as 2.13.0+cpu, the CPU build, which is on the PyTorch CPU
# wheel index (not on PyPI, whose x86_64 wheel is the CUDA build of several GB): pass that
# index as PIP_EXTRA_INDEX_URL.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- deps: the virtualenv with the runtime dependencies (requirements/base.txt) ----------
FROM ${PYTHON_IMAGE} AS deps
ARG PIP_EXTRA_INDEX_URL=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/base.txt /tmp/requirements.txt
RUN pip install --require-hashes ${PIP_EXTRA_INDEX_URL:+--extra-index-url "$PIP_EXTRA_INDEX_URL"} -r /tmp/requirements.txt

# --- models: download the AI models into a Hugging Face cache --------------------------
# The defaults are those of config/settings/base.py (AI_*_MODEL); a test keeps them equal.
FROM deps AS models
ARG AI_SENTIMENT_MODEL=cardiffnlp/twitter-roberta-base-sentiment-latest
ARG AI_LANGUAGE_MODEL=papluca/xlm-roberta-base-language-detection
ARG AI_CATEGORY_MODEL=facebook/bart-large-mnli
ENV HF_HOME=/opt/hf
# Loading each model the way the AI worker does fetches exactly the files it needs (one
# weights format, the tokenizer), not every format a repository carries.
RUN python -c "import os; \
from transformers import AutoModelForSequenceClassification, AutoTokenizer; \
[(AutoTokenizer.from_pretrained(os.environ[v]), AutoModelForSequenceClassification.from_pretrained(os.environ[v])) \
 for v in ('AI_SENTIMENT_MODEL', 'AI_LANGUAGE_MODEL', 'AI_CATEGORY_MODEL')]" \
    && rm -rf /opt/hf/xet /opt/hf/hub/.locks

# --- runtime: slim, non-root, gunicorn ---------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    HF_HOME=/opt/hf \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MEDIA_ROOT=/app/media
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
COPY --from=deps /opt/venv /opt/venv
COPY --from=models /opt/hf /opt/hf
WORKDIR /app
# Code belongs to root and is read-only for the app user; only media/ and exports/ are writable.
COPY . /app
# collectstatic needs the production settings to import; the key used here is thrown away.
RUN DJANGO_SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media /app/exports \
    && chown app:app /app/media /app/exports
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health/live', timeout=2).status != 200)"]
# gthread workers: the job event stream (SSE) holds a thread, not a whole process.
# WEB_CONCURRENCY (gunicorn reads it) sets the number of processes.
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "8", \
     "--timeout", "60", "--graceful-timeout", "30", \
     "--worker-tmp-dir", "/dev/shm", \
     "--forwarded-allow-ips", "*", \
     "--access-logfile", "-"]
