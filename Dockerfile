# Maskwire in a container: `maskwire serve --transport http` by default, every other command by name.
# Everything it needs (the spaCy pipeline, token files, the public suffix list) is installed at build time from
# PyPI wheels; nothing is downloaded when it runs. It runs as an unprivileged user, and /data (a volume) holds the
# config (./maskwire.toml), the masking key, the ledger, the token vault and the document indexes.
#
#   docker build -t maskwire .
#   docker run --rm -v maskwire-data:/data maskwire init --dsn postgresql://reader@db.internal/crm
#   docker run --rm -v maskwire-data:/data maskwire agents add copilot --role default   # prints the token once
#   docker run -d -p 8765:8765 -v maskwire-data:/data maskwire

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mcp_server ./mcp_server
COPY connectors ./connectors
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MASKWIRE_HOME=/data
RUN useradd --system --uid 10001 --create-home --home-dir /home/maskwire --shell /usr/sbin/nologin maskwire \
    && mkdir /data && chown maskwire:maskwire /data && chmod 700 /data
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels maskwire && rm -rf /wheels
USER maskwire
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8765
ENTRYPOINT ["maskwire"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8765"]
