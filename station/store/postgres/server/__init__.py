"""The clinic server's security layer on PostgreSQL (issue 14 §2): group roles,
row-level security, researchers' pseudonymised views and the audit, laid over the
store's own schema.  ``nordic-station server`` (station/cli/server.py) drives it;
docs/clinic-network.md explains the design."""
