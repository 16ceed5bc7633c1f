"""TLS probes of every TLS endpoint of a host: protocol versions (versions), cipher suites
(ciphers), certificate and key (certificates), on the endpoint judging of `endpoints`."""

from cyberstd.probes.tls import certificates, ciphers, versions  # noqa: F401  (registers the probes)
