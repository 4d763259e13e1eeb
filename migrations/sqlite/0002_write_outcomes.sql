-- Write outcomes: one row per CreateOrder order_number / CreateAsn
-- asn_number of a tenant, so a repeat is answered from here instead of
-- reaching the warehouse again. The same schema as
-- migrations/postgres/0002_write_outcomes.sql, in SQLite's types.
CREATE TABLE write_outcomes (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('order', 'asn')),
    -- order_number or asn_number
    number TEXT NOT NULL,
    -- SHA-256 of the validated request: a repeat with another is a conflict
    fingerprint BLOB NOT NULL,
    -- in_flight: a process holds the claim until lease_until_ms;
    -- succeeded: answer is the reply, replayed until expires_at_ms;
    -- rejected: the warehouse refused (answer: its words); holds nothing;
    -- unknown: the request may have reached the warehouse: ask it first
    state TEXT NOT NULL CHECK (state IN ('in_flight', 'succeeded', 'rejected', 'unknown')),
    -- where the warehouse is asked when the outcome is unknown
    warehouse_code TEXT NOT NULL,
    -- the claim holder: a process and a random part per claim
    owner TEXT NOT NULL DEFAULT '',
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    answer TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, kind, number)
);

-- The reconciler looks for unknown outcomes and abandoned claims; pruning
-- for expired ones.
CREATE INDEX write_outcomes_by_state ON write_outcomes (state, updated_at_ms);
