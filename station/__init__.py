"""Nordic Station: analysis, storage, command line and desktop app."""

__version__ = "0.1.0"
