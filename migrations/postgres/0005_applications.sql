-- The applicant's journey: one row per application, every move between
-- statuses, the one-time codes sent for it, the consents given and the
-- identity evidence uploaded. 
--
-- What the applicant typed (name, passport number, date of birth, phone,
-- email) is personal data: sealed as one JSON document (AES-256-GCM, bound
-- to the row id). The matched account is kept so later steps need not
-- match again; it is NULL when nothing matched, and such an application
-- can never pass the one-time code.

CREATE TABLE applications (
    -- A UUID, in the applicant's URLs.
    id               TEXT COLLATE "C" PRIMARY KEY,
    status           TEXT NOT NULL CHECK (status IN ('awaiting_otp', 'awaiting_identity', 'identity_review',
                                                     'rejected', 'ineligible', 'generating', 'issued', 'expired')),
    account_id       TEXT COLLATE "C" REFERENCES accounts (id),
    -- HMAC-SHA256 of the bearer token (the API's Authorization header and
    -- the web session's cookie); the token itself is never stored.
    token_hash       BYTEA NOT NULL CHECK (octet_length(token_hash) = 32),
    details_sealed   BYTEA NOT NULL,
    -- Blind index of the phone on file the codes go to (rate limits per
    -- phone across applications); NULL when unmatched.
    phone_index      BYTEA,
    authority        TEXT NOT NULL,
    purpose          TEXT NOT NULL CHECK (purpose IN ('study', 'work', 'visit', 'permanent_residence')),
    email_consent    BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    -- The applicant's own steps must be done by then (24 hours).
    expires_at       TIMESTAMPTZ NOT NULL,
    -- When refused (ineligible, rejected): the reasons shown and emailed,
    -- sealed (they describe the applicant's finances).
    reasons_sealed   BYTEA,
    -- The identity decision: who made it (staff user, or a provider) and when.
    decided_by       TEXT,
    decided_at       TIMESTAMPTZ,
    -- The score at the decision, kept for the audit of the gate.
    score            BIGINT,
    report_number    TEXT COLLATE "C" REFERENCES reports (report_number),
    -- A generation job holding the application and until when.
    lease_owner      TEXT,
    lease_until      TIMESTAMPTZ,
    generation_attempts BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    CHECK ((status = 'issued') = (report_number IS NOT NULL)),
    CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
);
CREATE INDEX applications_status ON applications (status, updated_at);
CREATE INDEX applications_expiry ON applications (expires_at) WHERE status IN ('awaiting_otp', 'awaiting_identity');
CREATE INDEX applications_account ON applications (account_id);

-- Every move, with its time and cause; never updated or deleted.
CREATE TABLE application_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id),
    -- NULL for the first event (the application created).
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    -- What happened: applied, code_accepted, evidence_uploaded, approved, ...
    cause          TEXT NOT NULL,
    -- Who: applicant, staff:<name>, service.
    actor          TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX application_events_by_application ON application_events (application_id, id);

-- One-time codes, only as keyed hashes bound to the application and the
-- time of issue. A code row exists for unmatched applications too, so both
-- take the same path; a code not sent is stored as a random digest that no
-- six digits match.
CREATE TABLE otp_codes (
    id             TEXT COLLATE "C" PRIMARY KEY,
    application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id),
    digest         BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    issued_at      TIMESTAMPTZ NOT NULL,
    wrong_tries    BIGINT NOT NULL DEFAULT 0,
    used           BOOLEAN NOT NULL DEFAULT false,
    -- The phone it went to (blind index), NULL when not sent (unmatched).
    phone_index    BYTEA
);
CREATE INDEX otp_codes_by_application ON otp_codes (application_id, issued_at);
CREATE INDEX otp_codes_by_phone ON otp_codes (phone_index, issued_at);

-- Each consent the applicant gave, with the version of the text shown.
CREATE TABLE application_consents (
    application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id),
    kind           TEXT NOT NULL CHECK (kind IN ('financial_data', 'email', 'cross_border')),
    text_version   TEXT NOT NULL,
    given_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (application_id, kind)
);

-- The selfie and the passport's data page, re-encoded and sealed.
CREATE TABLE identity_evidence (
    application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id),
    kind           TEXT NOT NULL CHECK (kind IN ('selfie', 'passport_page')),
    media_type     TEXT NOT NULL,
    width          BIGINT NOT NULL,
    height         BIGINT NOT NULL,
    bytes          BIGINT NOT NULL,
    sha256         BYTEA NOT NULL CHECK (octet_length(sha256) = 32),
    image_sealed   BYTEA NOT NULL,
    uploaded_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (application_id, kind)
);
