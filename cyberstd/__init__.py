"""cyberstd: gap reports of schools against cybersecurity standards frameworks such as GRIP."""

import warnings

__version__ = "0.1.0"

# dnspython imports cryptography's DSA classes for DNSSEC algorithm 3, which cryptography
# deprecates; the warning is about dnspython's code, not the user's, and would be printed before
# every scan. Only that warning, from that module, is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"DSA is deprecated",
    module=r"dns\.dnssecalgs\.dsa",
)
