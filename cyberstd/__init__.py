"""cyberstd: gap reports of schools against cybersecurity standards frameworks such as GRIP."""

__version__ = "0.1.0"
