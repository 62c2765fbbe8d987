"""gazette: publish a blog as a clean catalog, feeds, and mailed digests."""

__version__ = "0.1.0"
