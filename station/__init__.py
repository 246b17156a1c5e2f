"""Nordic Station: analysis, storage, command line and desktop app."""


def __getattr__(name: str) -> str:
    """``__version__`` on first use: importlib.metadata costs a command ~20 ms at start-up."""
    if name == "__version__":
        from firmware_bridge.version import package_version

        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
