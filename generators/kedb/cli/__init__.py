"""The command line: the only layer that prints and chooses exit codes (see ``kedb.cli.main``)."""
