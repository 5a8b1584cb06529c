-- Financial data imported from the operator's systems.
-- Money is integer minor units plus an ISO 4217 code; never floating point.
--
-- Child tables (transactions, balances, bills) carry account_id without a
-- FOREIGN KEY: `standing import` is their only writer and refuses any record
-- whose account is neither in the import nor stored, inside the same
-- transaction and under the import lock; accounts are never deleted. A
-- per-row foreign-key check cost PostgreSQL about 4 s per million rows at
-- commit, which the import throughput target cannot carry.
--
-- Identifiers are opaque: they compare byte by byte (COLLATE "C"), which
-- also keeps their indexes off the locale's slower collation.

CREATE TABLE accounts (
    id               TEXT COLLATE "C" PRIMARY KEY,
    full_name        TEXT NOT NULL,
    date_of_birth    DATE NOT NULL,
    nationality      TEXT NOT NULL,
    -- AES-256-GCM under the master key; never stored in clear.
    passport_sealed  BYTEA NOT NULL,
    -- HMAC-SHA256 blind index, for matching an applicant to an account.
    passport_index   BYTEA NOT NULL,
    passport_country TEXT NOT NULL,
    phone            TEXT NOT NULL,
    email            TEXT NOT NULL,
    opened_on        DATE NOT NULL,
    phone_since      DATE NOT NULL,
    address_since    DATE NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX accounts_passport_index ON accounts (passport_index);
CREATE INDEX accounts_phone ON accounts (phone);

CREATE TABLE transactions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    account_id   TEXT COLLATE "C" NOT NULL,
    posted_at    TIMESTAMPTZ NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    category     TEXT NOT NULL,
    merchant     TEXT
);
CREATE INDEX transactions_account_posted ON transactions (account_id, posted_at);

CREATE TABLE balances (
    account_id   TEXT COLLATE "C" NOT NULL,
    holding      TEXT COLLATE "C" NOT NULL,
    kind         TEXT NOT NULL,
    date         DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    PRIMARY KEY (account_id, holding, date)
);
CREATE INDEX balances_account_date ON balances (account_id, date);

CREATE TABLE bills (
    id           TEXT COLLATE "C" PRIMARY KEY,
    account_id   TEXT COLLATE "C" NOT NULL,
    biller       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    due_on       DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    paid_on      DATE
);
CREATE INDEX bills_account_due ON bills (account_id, due_on);

CREATE TABLE fx_rates (
    base   TEXT NOT NULL,
    quote  TEXT NOT NULL,
    date   DATE NOT NULL,
    -- Exact decimal text, e.g. 0.1932.
    rate   TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (base, quote, date)
);
