"""The store: SQLAlchemy 2 models and the named queries; the only package that writes SQL."""
