"""Online collectors: read a school's cloud services and write what they return as exports.

A collector only reads (HTTP GET against the service's API, after signing in), writes the
answers into the school folder's `exports/` and lists them in school.yaml, so that a scan
judges them like any other configuration export. Credentials come from the environment and
are never written anywhere.
"""
