"""The rule engine over parsed configuration exports: selectors, expectations, verdicts."""
