"""Ingest: sources (feed files and URLs, the sample data) to normalised articles."""
