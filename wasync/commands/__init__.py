"""One module per command; each exposes plain functions returning an exit code."""
