"""TLS probes of every TLS endpoint of a host: versions, cipher suites, certificate and key."""

from cyberstd.probes.tls import endpoints  # noqa: F401  (registers the probes)
