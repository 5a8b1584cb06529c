-- The mail outbox: every email the service must send, written in the same
-- transaction as the event that causes it (a report recorded, revoked or
-- reissued; a resend), then sent by a worker that claims it with a lease.
-- Rows are kept after sending: they are the record of what was sent.
--
-- The recipient is personal data: sealed (AES-256-GCM, bound to the row id)
-- with a blind index for search. The message itself (RFC 5322 bytes, the
-- PDF attached) is sealed too.

CREATE TABLE outbox (
    -- A UUID; also the left part of the message's Message-ID, so every
    -- attempt of one message carries the same id.
    id               TEXT COLLATE "C" PRIMARY KEY,
    -- What the message is: report_issued, report_reissued, report_revoked, ...
    kind             TEXT NOT NULL,
    -- The report the message is about, if any.
    report_number    TEXT COLLATE "C" REFERENCES reports (report_number),
    -- No personal data: our templates' subjects name the report only.
    subject          TEXT NOT NULL,
    recipient_sealed BYTEA NOT NULL,
    recipient_index  BYTEA NOT NULL CHECK (octet_length(recipient_index) = 32),
    message_sealed   BYTEA NOT NULL,
    message_bytes    BIGINT NOT NULL,
    -- Why an operator queued it (a resend), or NULL.
    reason           TEXT,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    -- Attempts started (counted when claimed, so a crash counts).
    attempts         BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    -- No new attempt starts after this; the message is then dead.
    give_up_at       TIMESTAMPTZ NOT NULL,
    -- The worker holding the message and until when; a lease that has run
    -- out (a crashed worker) lets another worker claim it.
    lease_owner      TEXT,
    lease_until      TIMESTAMPTZ,
    last_error       TEXT,
    last_attempt_at  TIMESTAMPTZ,
    sent_at          TIMESTAMPTZ,
    -- What the transport answered: the .eml file's name, or the SMTP reply.
    delivered_as     TEXT,
    -- The worker that sent it (process id and a random part).
    sent_by          TEXT,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_report ON outbox (report_number);
CREATE INDEX outbox_recipient ON outbox (recipient_index);
