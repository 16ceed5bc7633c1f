"""Mail probes of a school's domain, one module per family of checks.

- `spf`: `mail.spf` (the SPF record's syntax is parsed in `spfrecord`);
- `dmarc`: `mail.dmarc` and `mail.dmarc-enforced`;
- `dkim`: `mail.dkim`;
- `mtasts`: `mail.mta-sts` and `mail.tls-rpt`;
- `starttls`: `mail.starttls` (the SMTP session it runs is in `cyberstd.net.starttls`);
- `records`: what they share (tag=value records, outcomes, message pieces).

`mail.mx` is with the other DNS checks in `cyberstd.probes.dns`. Importing this package
registers every `mail.*` probe it holds, so that looking up any of them registers them all.
"""

from cyberstd.probes.mail import dkim, dmarc, mtasts, spf, starttls

__all__ = ["dkim", "dmarc", "mtasts", "spf", "starttls"]
