"""DNS probes of a school's domain: SOA and name servers, DNSSEC, CAA, and the MX records."""

from cyberstd.probes.dns import lookup  # noqa: F401  (registers the probes)
