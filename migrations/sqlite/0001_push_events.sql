-- Push events: what the tenants' warehouses pushed to the webhooks, kept
-- until the retention prunes them. The same schema as
-- migrations/postgres/0001_push_events.sql, in SQLite's types.

-- A tenant's event ids: both kinds draw from one sequence. Its row is
-- updated in the transaction that keeps an event, so a tenant's events are
-- committed in id order and a stream that reads after its last id skips none.
CREATE TABLE push_sequences (
    tenant TEXT PRIMARY KEY NOT NULL,
    last_id INTEGER NOT NULL
);

CREATE TABLE push_events (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('order', 'asn')),
    id INTEGER NOT NULL,
    -- orderNumber or asnNumber
    number TEXT NOT NULL,
    -- an ASN push's batchNo; '' when it has none
    batch_no TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the event as read: an order push equal to the latest one
    -- kept for its order is a repeat
    fingerprint BLOB NOT NULL,
    received_at_ms INTEGER NOT NULL,
    -- the content as the warehouse pushed it, read again on every replay
    content TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, id)
);

-- The latest event of an order (or ASN), for the repeat rule.
CREATE INDEX push_events_by_number ON push_events (tenant, kind, number, id);

-- An ASN batch is kept once, whenever it comes again.
CREATE UNIQUE INDEX push_events_asn_batch ON push_events (tenant, number, batch_no)
    WHERE kind = 'asn' AND batch_no <> '';

-- Retention prunes by age.
CREATE INDEX push_events_by_age ON push_events (received_at_ms);

-- The newest id the retention has pruned, per tenant and kind: a watcher
-- resuming before it has missed events.
CREATE TABLE push_pruned (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    through_id INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind)
);

-- One row per facade process, written by its health check: proves the
-- store takes commits, and shows operators which replicas are alive.
CREATE TABLE store_heartbeats (
    replica TEXT PRIMARY KEY NOT NULL,
    beat_at_ms INTEGER NOT NULL
);
