"""Counts to newtons: certificates, the known-mass procedure, the fit and its figures,
quick verification and the checks the analysis and the app run before trusting a force.

No Qt and no I/O outside :mod:`calibration.live` (the port reader used by the CLI)."""
