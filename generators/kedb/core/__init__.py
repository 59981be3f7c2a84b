"""What a KB is: records, program data, the KB object, findings, history and approval types.

No git, no outputs, no screen. ``kedb.core.load`` reads a KB repository strictly into these types.
Everything else in kedb imports from here; this package imports nothing above it.
"""
