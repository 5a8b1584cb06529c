-- The applicant's journey: one row per application, every move between
-- statuses, the one-time codes sent for it, the consents given and the
-- identity evidence uploaded. Timestamps are fixed-width RFC 3339 UTC text.
--
-- What the applicant typed (name, passport number, date of birth, phone,
-- email) is personal data: sealed as one JSON document (AES-256-GCM, bound
-- to the row id). The matched account is kept so later steps need not
-- match again; it is NULL when nothing matched, and such an application
-- can never pass the one-time code.

CREATE TABLE applications (
    -- A UUID, in the applicant's URLs.
    id               TEXT PRIMARY KEY NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('awaiting_otp', 'awaiting_identity', 'identity_review',
                                                     'rejected', 'ineligible', 'generating', 'issued', 'expired')),
    account_id       TEXT REFERENCES accounts (id),
    -- HMAC-SHA256 of the bearer token (the API's Authorization header and
    -- the web session's cookie); the token itself is never stored.
    token_hash       BLOB NOT NULL CHECK (length(token_hash) = 32),
    details_sealed   BLOB NOT NULL,
    -- Blind index of the phone on file the codes go to (rate limits per
    -- phone across applications); NULL when unmatched.
    phone_index      BLOB,
    authority        TEXT NOT NULL,
    purpose          TEXT NOT NULL CHECK (purpose IN ('study', 'work', 'visit', 'permanent_residence')),
    email_consent    INTEGER NOT NULL CHECK (email_consent IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    -- The applicant's own steps must be done by then (24 hours).
    expires_at       TEXT NOT NULL,
    -- When refused (ineligible, rejected): the reasons shown and emailed,
    -- sealed (they describe the applicant's finances).
    reasons_sealed   BLOB,
    -- The identity decision: who made it (staff user, or a provider) and when.
    decided_by       TEXT,
    decided_at       TEXT,
    -- The score at the decision, kept for the audit of the gate.
    score            INTEGER,
    report_number    TEXT REFERENCES reports (report_number),
    -- A generation job holding the application and until when.
    lease_owner      TEXT,
    lease_until      TEXT,
    generation_attempts INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    CHECK ((status = 'issued') = (report_number IS NOT NULL)),
    CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
);
CREATE INDEX applications_status ON applications (status, updated_at);
CREATE INDEX applications_expiry ON applications (expires_at) WHERE status IN ('awaiting_otp', 'awaiting_identity');
CREATE INDEX applications_account ON applications (account_id);

-- Every move, with its time and cause; never updated or deleted.
CREATE TABLE application_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id TEXT NOT NULL REFERENCES applications (id),
    -- NULL for the first event (the application created).
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    -- What happened: applied, code_accepted, evidence_uploaded, approved, ...
    cause          TEXT NOT NULL,
    -- Who: applicant, staff:<name>, service.
    actor          TEXT NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX application_events_by_application ON application_events (application_id, id);

-- One-time codes, only as keyed hashes bound to the application and the
-- time of issue. A code row exists for unmatched applications too, so both
-- take the same path; a code not sent is stored as a random digest that no
-- six digits match.
CREATE TABLE otp_codes (
    id             TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    digest         BLOB NOT NULL CHECK (length(digest) = 32),
    issued_at      TEXT NOT NULL,
    wrong_tries    INTEGER NOT NULL DEFAULT 0,
    used           INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    -- The phone it went to (blind index), NULL when not sent (unmatched).
    phone_index    BLOB
);
CREATE INDEX otp_codes_by_application ON otp_codes (application_id, issued_at);
CREATE INDEX otp_codes_by_phone ON otp_codes (phone_index, issued_at);

-- Each consent the applicant gave, with the version of the text shown.
CREATE TABLE application_consents (
    application_id TEXT NOT NULL REFERENCES applications (id),
    kind           TEXT NOT NULL CHECK (kind IN ('financial_data', 'email', 'cross_border')),
    text_version   TEXT NOT NULL,
    given_at       TEXT NOT NULL,
    PRIMARY KEY (application_id, kind)
);

-- The selfie and the passport's data page, re-encoded and sealed.
CREATE TABLE identity_evidence (
    application_id TEXT NOT NULL REFERENCES applications (id),
    kind           TEXT NOT NULL CHECK (kind IN ('selfie', 'passport_page')),
    media_type     TEXT NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    bytes          INTEGER NOT NULL,
    sha256         BLOB NOT NULL CHECK (length(sha256) = 32),
    image_sealed   BLOB NOT NULL,
    uploaded_at    TEXT NOT NULL,
    PRIMARY KEY (application_id, kind)
);
