-- The registry of issued reports: one row per report, what a visa officer's
-- check is answered from. Rows are never deleted; a report changes state
-- once at most (valid -> revoked, or valid -> superseded).
--
-- The verification code is kept only as an HMAC-SHA256 under a key derived
-- from the master key and bound to the report number. The report JSON holds
-- the passport number and the PDF holds everything, so both are sealed
-- (AES-256-GCM, associated data naming this table, the column and the
-- number).

CREATE TABLE reports (
    -- SR-XXXX-XXXX-XXXX
    report_number      TEXT COLLATE "C" PRIMARY KEY,
    code_hash          BYTEA NOT NULL CHECK (octet_length(code_hash) = 32),
    account_id         TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    as_of              DATE NOT NULL,
    issued_at          TIMESTAMPTZ NOT NULL,
    valid_until        DATE NOT NULL,
    pdf_sha256         BYTEA NOT NULL CHECK (octet_length(pdf_sha256) = 32),
    key_id             TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'superseded')),
    revoked_at         TIMESTAMPTZ,
    revoked_reason     TEXT,
    superseded_by      TEXT COLLATE "C" REFERENCES reports (report_number),
    superseded_at      TIMESTAMPTZ,
    supersede_reason   TEXT,
    report_json_sealed BYTEA NOT NULL,
    -- What a status check shows (name, masked passport, totals), sealed
    -- apart from the report JSON so a check opens a few hundred bytes,
    -- not the whole report.
    key_facts_sealed   BYTEA NOT NULL,
    pdf_sealed         BYTEA NOT NULL,
    -- A state's details exist exactly when the report is in that state.
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revoked_reason IS NOT NULL)),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
    CHECK ((status = 'superseded') = (superseded_by IS NOT NULL AND superseded_at IS NOT NULL
                                      AND supersede_reason IS NOT NULL)),
    CHECK ((superseded_by IS NULL) = (superseded_at IS NULL) AND (superseded_at IS NULL) = (supersede_reason IS NULL)),
    CHECK (superseded_by IS NULL OR superseded_by <> report_number)
);
CREATE INDEX reports_account ON reports (account_id, issued_at);
