# The newsletter service image (used by docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY newsletter ./newsletter
COPY templates ./templates
COPY config ./config
RUN pip install ".[postgres]" && useradd --create-home newsletter && mkdir -p /app/var \
    && chown newsletter /app/var
USER newsletter
ENTRYPOINT ["newsletter"]
CMD ["--help"]
