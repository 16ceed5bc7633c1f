"""Tests of the report renderers that have their own folder (HTML)."""
