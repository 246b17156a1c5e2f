"""Schema version 1 exactly as shipped, frozen: tests build an old database from it by hand.

Never edit: migration 1 must keep producing this (test_database checks).
"""

STATEMENTS = (
    ("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)"),
    (
        "CREATE TABLE athletes (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    name TEXT NOT NULL CHECK (length(trim(name)) > 0),\n"
        "    name_key TEXT NOT NULL,\n"
        "    external_id TEXT UNIQUE,\n"
        "    date_of_birth TEXT CHECK (date_of_birth IS NULL OR "
        "date(date_of_birth) IS date_of_birth),\n"
        "    sex TEXT CHECK (sex IS NULL OR sex IN ('female', 'male', "
        "'other')),\n"
        "    sport TEXT,\n"
        "    team TEXT,\n"
        "    dominant_leg TEXT CHECK (dominant_leg IS NULL OR dominant_leg IN "
        "('left', 'right')),\n"
        "    lever_arm_m REAL CHECK (lever_arm_m IS NULL OR (lever_arm_m > 0 "
        "AND lever_arm_m <= 1)),\n"
        "    notes TEXT NOT NULL DEFAULT '',\n"
        "    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),\n"
        "    created_at TEXT NOT NULL,\n"
        "    updated_at TEXT NOT NULL\n"
        ")"
    ),
    ("CREATE INDEX athletes_by_name ON athletes (name_key)"),
    ("CREATE INDEX athletes_by_team ON athletes (team)"),
    (
        "CREATE TRIGGER athletes_no_delete BEFORE DELETE ON athletes BEGIN "
        "SELECT RAISE(ABORT, 'athletes are archived, never deleted'); END"
    ),
    (
        "CREATE TABLE body_mass (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    athlete_id INTEGER NOT NULL REFERENCES athletes (id),\n"
        "    measured_on TEXT NOT NULL CHECK (date(measured_on) IS "
        "measured_on),\n"
        "    kg REAL NOT NULL CHECK (kg > 0 AND kg <= 400),\n"
        "    recorded_at TEXT NOT NULL,\n"
        "    recorded_by TEXT NOT NULL\n"
        ")"
    ),
    ("CREATE INDEX body_mass_by_athlete ON body_mass (athlete_id, measured_on)"),
    (
        "CREATE TABLE injuries (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    athlete_id INTEGER NOT NULL REFERENCES athletes (id),\n"
        "    side TEXT NOT NULL CHECK (side IN ('left', 'right', 'both')),\n"
        "    occurred_on TEXT CHECK (occurred_on IS NULL OR date(occurred_on) "
        "IS occurred_on),\n"
        "    note TEXT NOT NULL DEFAULT '',\n"
        "    recorded_at TEXT NOT NULL,\n"
        "    recorded_by TEXT NOT NULL\n"
        ")"
    ),
    ("CREATE INDEX injuries_by_athlete ON injuries (athlete_id)"),
    (
        "CREATE TABLE certificates (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    sha256 TEXT NOT NULL UNIQUE,\n"
        "    device_serial TEXT,\n"
        "    created TEXT,\n"
        "    valid_until TEXT,\n"
        "    data TEXT NOT NULL,\n"
        "    imported_at TEXT NOT NULL\n"
        ")"
    ),
    (
        "CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates "
        "BEGIN SELECT RAISE(ABORT, 'certificates are kept as issued'); END"
    ),
    (
        "CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates "
        "BEGIN SELECT RAISE(ABORT, 'certificates are never deleted'); END"
    ),
    (
        "CREATE TABLE verifications (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    certificate_id INTEGER REFERENCES certificates (id),\n"
        "    device_serial TEXT,\n"
        "    performed_at TEXT NOT NULL,\n"
        "    operator TEXT,\n"
        "    passed INTEGER CHECK (passed IS NULL OR passed IN (0, 1)),\n"
        "    data TEXT NOT NULL\n"
        ")"
    ),
    (
        "CREATE TABLE recordings (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    sha256 TEXT NOT NULL UNIQUE,\n"
        "    size INTEGER NOT NULL CHECK (size = length(data)),\n"
        "    kind TEXT,\n"
        "    stored_at TEXT NOT NULL,\n"
        "    data BLOB NOT NULL\n"
        ")"
    ),
    (
        "CREATE TRIGGER recordings_no_update BEFORE UPDATE ON recordings BEGIN "
        "SELECT RAISE(ABORT, 'raw recordings are never modified'); END"
    ),
    (
        "CREATE TRIGGER recordings_no_delete BEFORE DELETE ON recordings BEGIN "
        "SELECT RAISE(ABORT, 'raw recordings are never deleted'); END"
    ),
    (
        "CREATE TABLE tests (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    athlete_id INTEGER NOT NULL REFERENCES athletes (id),\n"
        "    recorded_at TEXT NOT NULL,\n"
        "    protocol TEXT NOT NULL,\n"
        "    rig_serial TEXT,\n"
        "    certificate_id INTEGER REFERENCES certificates (id),\n"
        "    operator TEXT,\n"
        "    notes TEXT NOT NULL DEFAULT '',\n"
        "    sample_rate_hz REAL CHECK (sample_rate_hz IS NULL OR "
        "sample_rate_hz > 0),\n"
        "    duration_s REAL,\n"
        "    body_mass_kg REAL CHECK (body_mass_kg IS NULL OR (body_mass_kg > "
        "0 AND body_mass_kg <= 400)),\n"
        "    lever_arm_m REAL CHECK (lever_arm_m IS NULL OR (lever_arm_m > 0 "
        "AND lever_arm_m <= 1)),\n"
        "    recording_id INTEGER NOT NULL REFERENCES recordings (id),\n"
        "    source TEXT NOT NULL,\n"
        "    created_at TEXT NOT NULL,\n"
        "    created_by TEXT NOT NULL,\n"
        "    analysis_version TEXT,\n"
        "    analysis_settings TEXT,\n"
        "    metrics TEXT\n"
        ")"
    ),
    ("CREATE INDEX tests_by_athlete ON tests (athlete_id, recorded_at)"),
    ("CREATE INDEX tests_by_time ON tests (recorded_at)"),
    (
        "CREATE TRIGGER tests_no_delete BEFORE DELETE ON tests BEGIN SELECT "
        "RAISE(ABORT, 'tests are never deleted'); END"
    ),
    (
        "CREATE TRIGGER tests_no_update BEFORE UPDATE OF recording_id ON tests "
        "BEGIN SELECT RAISE(ABORT, 'a test keeps its raw recording'); END"
    ),
    (
        "CREATE TABLE reps (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    test_id INTEGER NOT NULL REFERENCES tests (id),\n"
        "    number INTEGER NOT NULL CHECK (number >= 1),\n"
        "    start_s REAL NOT NULL,\n"
        "    end_s REAL NOT NULL,\n"
        "    left_peak_n REAL,\n"
        "    right_peak_n REAL,\n"
        "    imbalance_pct REAL,\n"
        "    excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),\n"
        "    exclusion_reason TEXT,\n"
        "    excluded_by TEXT,\n"
        "    excluded_at TEXT,\n"
        "    CHECK (excluded = 0 OR (exclusion_reason IS NOT NULL AND "
        "excluded_by IS NOT NULL\n"
        "                            AND excluded_at IS NOT NULL)),\n"
        "    UNIQUE (test_id, number)\n"
        ")"
    ),
    (
        "CREATE TABLE audit_log (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    at TEXT NOT NULL,\n"
        "    actor TEXT NOT NULL,\n"
        "    entity TEXT NOT NULL,\n"
        "    entity_id INTEGER NOT NULL,\n"
        "    action TEXT NOT NULL,\n"
        "    before TEXT,\n"
        "    after TEXT\n"
        ")"
    ),
    ("CREATE INDEX audit_by_entity ON audit_log (entity, entity_id)"),
    (
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN "
        "SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    ),
    (
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN "
        "SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    ),
    ("INSERT INTO meta (key, value) VALUES ('pseudonym_secret', randomblob(32))"),
    ("INSERT INTO meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"),
    ("PRAGMA application_id = 1314079810"),
)
