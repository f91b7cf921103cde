# The watched drop folder as a container (README: "Watching a drop folder", "In a container").
#
#   docker build -t x12-scrubber .
#   sudo install -d -o 10001 -g 10001 -m 0750 /srv/scrubber /srv/scrubber/inbox /srv/scrubber/out /srv/scrubber/codesets
#   docker run -d --init --name scrubber --restart unless-stopped --stop-timeout 120 \
#       --read-only --tmpfs /tmp:rw,nosuid,nodev,size=512m --cap-drop ALL --security-opt no-new-privileges \
#       --network none -v /srv/scrubber:/data x12-scrubber --workers 2
#   docker logs -f scrubber                         # JSON lines, no patient data
#   docker inspect --format '{{.State.Health.Status}}' scrubber      # scrubber status --health
#   docker exec scrubber scrubber status /data/out
#   docker exec scrubber scrubber codesets add /data/icd10cm_order_addenda_2028.txt   # then: docker restart scrubber
#
# The container runs as uid 10001, gid 10001 (fixed: the host folder must belong to them, as
# above; a root-owned folder stops the watcher at start with exit 2 and a line naming the uid).
# Updated code sets go to /data/codesets (SCRUBBER_DATA_DIR), on the volume: an image upgrade keeps them.
# Mount ONE volume at /data holding inbox/ and out/: files are claimed by an atomic rename,
# which needs both on the same filesystem. Arguments after the image name are added to the
# command (--workers N, --settle SECONDS, --config /data/scrubber.toml ...).
# The base image is pinned to a release (and may be pinned to its digest: FROM python:3.11.11-slim-bookworm@sha256:...).
FROM python:3.11.11-slim-bookworm

ARG SCRUBBER_UID=10001
ARG SCRUBBER_GID=10001

ENV PYTHONDONTWRITEBYTECODE=1 \
    SCRUBBER_DATA_DIR=/data/codesets \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# EXTRAS="[cluster]" adds dask and distributed (deploy/compose.yaml: scheduler, workers, watcher).
ARG EXTRAS=""
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scrubber ./scrubber
COPY maps ./maps
RUN pip install ".${EXTRAS}" \
    && groupadd --system --gid "${SCRUBBER_GID}" scrubber \
    && useradd --system --uid "${SCRUBBER_UID}" --gid "${SCRUBBER_GID}" --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin scrubber \
    && mkdir -p /data/inbox /data/out /data/codesets \
    && chown -R "${SCRUBBER_UID}:${SCRUBBER_GID}" /data \
    && chmod 0750 /data

USER ${SCRUBBER_UID}:${SCRUBBER_GID}
WORKDIR /data
VOLUME ["/data"]
# Healthy: a fresh heartbeat from the watcher, no file stuck in progress, disk space left.
HEALTHCHECK --interval=60s --timeout=30s --start-period=60s --retries=3 \
    CMD ["scrubber", "status", "/data/out", "--health"]
# `docker stop` sends SIGTERM to the watcher (PID 1, or under --init): it stops after the files in progress.
STOPSIGNAL SIGTERM
ENTRYPOINT ["scrubber", "watch", "/data/inbox", "--out-dir", "/data/out"]
CMD []
