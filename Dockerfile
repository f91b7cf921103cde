# The watched drop folder as a container (README: "Watching a drop folder").
#
#   docker build -t x12-scrubber .
#   mkdir -p /srv/scrubber/inbox /srv/scrubber/out
#   docker run -d --init --name scrubber --stop-timeout 120 -v /srv/scrubber:/data x12-scrubber --workers 2
#   docker logs -f scrubber                         # JSON lines, no patient data
#   docker exec scrubber scrubber status /data/out
#   docker exec scrubber scrubber codesets add /data/icd10cm_order_addenda_2028.txt   # then: docker restart scrubber
#
# Updated code sets go to /data/codesets (SCRUBBER_DATA_DIR), on the volume: an image upgrade keeps them.
# Mount ONE volume at /data holding inbox/ and out/: files are claimed by an atomic rename,
# which needs both on the same filesystem. Arguments after the image name are added to the
# command (--workers N, --settle SECONDS, --config /data/scrubber.toml ...).
FROM python:3.11-slim

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
    && useradd --system --uid 10001 --home-dir /data scrubber \
    && mkdir -p /data/inbox /data/out /data/codesets \
    && chown -R scrubber:scrubber /data

USER scrubber
WORKDIR /data
VOLUME ["/data"]
# `docker stop` sends SIGTERM to the watcher (PID 1): it stops after the files in progress.
STOPSIGNAL SIGTERM
ENTRYPOINT ["scrubber", "watch", "/data/inbox", "--out-dir", "/data/out"]
CMD []
