"""A clinic server made at schema 8 (roles, row-level security, views) is upgraded to 9 by
``server migrate``: recordings gain ``absent`` (in the clinicians' view too), and the
one change a recording may take, bytes filled in with their own checksum, is the only
one the server lets through."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from station.store import schema
from tests.cli_run import run_cli as cli
from tests.network.conftest import Server


def test_server_migrate_takes_a_clinic_server_from_8_to_9(
    capsys: pytest.CaptureFixture[str], role_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(role_server.url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS absent_db WITH (FORCE)")
        conn.execute("CREATE DATABASE absent_db")
    url = role_server.url_of("absent_db")
    with monkeypatch.context() as older:  # a station of schema 8 set the server up
        older.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:8])
        older.setattr(schema, "CURRENT_VERSION", 8)
        code, _, err = cli(capsys, "server", "init", url)
        assert code == 0, err
    with psycopg.connect(url, autocommit=True) as conn:
        assert (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            == b"8"
        )
        data = b"raw bytes of a test"
        sha = hashlib.sha256(data).hexdigest()
        conn.execute(
            "INSERT INTO recordings (sha256, size, kind, stored_at, data) "
            "VALUES (%s, %s, 'binary', 'x', %s)",
            (sha, len(data), data),
        )
    code, _, err = cli(capsys, "server", "migrate", url)
    assert code == 0, err
    with psycopg.connect(url, autocommit=True) as conn:
        assert (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            == str(schema.CURRENT_VERSION).encode()
        )
        clinic = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'ns_clinic' AND table_name = 'recordings'"
            )
        }
        assert "absent" in clinic
        assert conn.execute("SELECT absent FROM public.recordings").fetchall() == [(0,)]
        # A kept recording stays as it is; an absent one takes only its own bytes.
        with pytest.raises(psycopg.errors.RestrictViolation, match="never modified"):
            conn.execute("UPDATE public.recordings SET data = 'x'::bytea, size = 1")
        other = b"bytes pulled later"
        other_sha = hashlib.sha256(other).hexdigest()
        conn.execute(
            "INSERT INTO public.recordings (sha256, size, kind, stored_at, data, absent) "
            "VALUES (%s, 0, 'binary', 'x', ''::bytea, 1)",
            (other_sha,),
        )
        with pytest.raises(psycopg.errors.RestrictViolation, match="never modified"):
            conn.execute(
                "UPDATE public.recordings SET data = %s, size = %s, absent = 0 WHERE sha256 = %s",
                (b"not those bytes!!", 17, other_sha),
            )
        conn.execute(
            "UPDATE public.recordings SET data = %s, size = %s, absent = 0 WHERE sha256 = %s",
            (other, len(other), other_sha),
        )
    code, _, err = cli(capsys, "server", "migrate", url)  # again: nothing to do
    assert code == 0, err
