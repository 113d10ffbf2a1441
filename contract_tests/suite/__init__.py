"""The checks, one module per capability (pytest collects them when the plugin is given `--hitl-url`)."""
