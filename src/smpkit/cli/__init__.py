"""The `smpkit` command line."""
