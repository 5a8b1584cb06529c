-- The institution that holds a holding (a bank, a fund), as the operator's
-- export names it on each balance record. Optional: older exports lack it,
-- and the report then says the institution was not stated.
ALTER TABLE balances ADD COLUMN institution TEXT;
