"""The domain: plain functions called alike by the web, the CLI and the scheduler."""
