"""Tests of the group roll-up: rows from real results, and the JSON, CSV and HTML renderings."""
