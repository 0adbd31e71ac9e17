# Prometheus from Debian's package, on the splitvlm base (no registry to pull prom/prometheus
# from). Built by `docker-compose --profile metrics build`; needs a Debian mirror.
ARG BASE=splitvlm-base:bookworm
FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
    && install -d -o prometheus -g prometheus /var/lib/prometheus/data
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml", \
            "--storage.tsdb.path=/var/lib/prometheus/data", "--web.listen-address=:9090"]
