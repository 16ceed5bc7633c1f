"""Web probes of a school website: HTTPS redirect, HSTS, security headers, server versions,
privacy statement and security.txt.

One module per check family, on a shared HTTP client:
- `common`: network text made inert, numbers in each language, host name comparison;
- `errors`: the ProbeErrors an HTTP request ends in;
- `fetching`: the HTTP client (GET with an overall deadline and bounded reads, one redirect);
- `redirect`: web.https-redirect;
- `headers`: web.hsts, web.security-headers, web.server-disclosure;
- `privacy`: web.privacy-statement;
- `securitytxt`: web.security-txt.

Importing this package registers its probes, in the order above.
"""

# Registration order is the order of these imports.
from cyberstd.probes.web import redirect as redirect  # noqa: I001
from cyberstd.probes.web import headers as headers
from cyberstd.probes.web import privacy as privacy
from cyberstd.probes.web import securitytxt as securitytxt
