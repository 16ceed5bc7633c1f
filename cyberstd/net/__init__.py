"""Everything that opens a connection: TCP, TLS and STARTTLS, service banners, DNS look-ups, nmap,
the rate limit.

Probes judge; this layer only connects, speaks the protocol and reports what it saw. It imports
the model (errors, messages) and nothing above it: never the registry, a probe or the runner.
"""
