"""Repositories: all SQL lives here, one documented method per query, `?` parameters only."""
