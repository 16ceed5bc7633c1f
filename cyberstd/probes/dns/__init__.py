"""DNS probes of a school's domain: SOA and name servers (soa_ns), DNSSEC (dnssec), CAA (caa)
and the MX records (mx), on the look-ups of `lookup`, which the mail probes use too."""

from cyberstd.probes.dns import caa, dnssec, mx, soa_ns  # noqa: F401  (registers the probes)
