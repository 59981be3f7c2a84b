"""Strict reading: files -> records with source positions (front-matter, strict YAML, the cache,
secret scanning, schema errors in words, the stored aggregates under ``content/``)."""
