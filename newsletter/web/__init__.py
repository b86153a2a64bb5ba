"""The web app: readers' pages (unsubscribe, preferences, archive) on top of the pipeline."""
