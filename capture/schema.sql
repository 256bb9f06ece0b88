-- trackaudit capture store, schema version 2.
--
-- A capture is one SQLite file written by `trackaudit proxy --save` (or any
-- caller of capture.CreateStore). PRAGMA application_id marks the file as a
-- trackaudit capture and PRAGMA user_version holds the schema version; the
-- meta table repeats both for people reading the file with other tools.
-- STORE.md documents every column with example queries. Columns are only
-- ever added, never renamed or repurposed, within one schema version.

PRAGMA application_id = 1953655649; -- 0x74726b61, "trka"
PRAGMA user_version = 2;

-- meta: one row per fact about the capture as a whole. Keys: format
-- ("trackaudit-capture"), schema_version, tool, version, started
-- (RFC 3339, UTC), note.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- pages: the distinct first-party pages exchanges were attributed to.
CREATE TABLE pages (
	id    INTEGER PRIMARY KEY,
	url   TEXT NOT NULL,
	site  TEXT NOT NULL,
	title TEXT NOT NULL,
	UNIQUE (url, site, title)
);

-- exchanges: one row per HTTP request and its response, in capture order
-- (id). Text columns hold '' rather than NULL when the value is empty;
-- NULL means "absent" only where the record distinguishes it (no
-- response, no body, no headers, unknown start time, no page).
CREATE TABLE exchanges (
	id                      INTEGER PRIMARY KEY, -- capture order in this file, from 1
	source_seq              INTEGER NOT NULL,    -- Exchange.ID as numbered by its source
	started                 TEXT,                -- RFC 3339 with nanoseconds, UTC; NULL when unknown
	source                  TEXT NOT NULL,       -- "proxy", "site.har", …
	client                  TEXT NOT NULL,       -- browser or host that sent it; '' when unknown
	page_id                 INTEGER REFERENCES pages (id),
	page_by                 TEXT NOT NULL,       -- how it was tied to the page: document, pageref, referer, initiator, recent
	page_ref                TEXT NOT NULL,       -- source-scoped page id (HAR pageref)
	method                  TEXT NOT NULL,
	url                     TEXT NOT NULL,       -- absolute request URL
	host                    TEXT NOT NULL,       -- lower-case host name without port
	site                    TEXT NOT NULL,       -- registrable domain (eTLD+1) of host
	request_proto           TEXT NOT NULL,
	request_headers         TEXT,                -- JSON object: canonical name -> array of values
	request_body            BLOB,                -- decoded body, at most the body cap
	request_body_truncated  INTEGER NOT NULL,    -- 1 when request_body was cut
	status                  INTEGER,             -- NULL when there was no response
	response_proto          TEXT,
	response_headers        TEXT,                -- JSON, as request_headers
	response_body           BLOB,
	response_body_truncated INTEGER,             -- NULL when there was no response
	host_only               INTEGER NOT NULL,    -- 1 for a contact seen without content (TLS SNI, DNS)
	via                     TEXT NOT NULL,       -- for host_only rows: tls-sni or dns
	cname                   TEXT NOT NULL DEFAULT '', -- the name host is a DNS alias of (CNAME); '' when none seen
	error                   TEXT NOT NULL,       -- failure of this exchange; '' when none
	insecure                INTEGER NOT NULL,    -- 1 when the upstream certificate was not verified
	findings                TEXT NOT NULL        -- JSON array of what the detectors found; see the findings view
);
CREATE INDEX exchanges_site ON exchanges (site);
CREATE INDEX exchanges_host ON exchanges (host);
CREATE INDEX exchanges_page ON exchanges (page_id);

-- findings: what the detectors found while the capture was recorded, one
-- row per finding, read from exchanges.findings. `trackaudit report` ignores
-- it and re-runs the current detectors; it is kept for SQL queries over what
-- was seen live. (Schema 1 stored it as a table; schema 2 keeps the findings
-- of an exchange in its row, which the live proxy writes several times
-- faster, and this view gives the same columns.)
CREATE VIEW findings AS
SELECT
	e.id                                AS exchange_id,
	f.key                               AS ord,      -- position among the exchange's findings, from 0
	json_extract(f.value, '$.kind')     AS kind,     -- tracker, social-plugin, pixel-event, cookie-leak, …
	json_extract(f.value, '$.severity') AS severity, -- info, low, medium, high
	json_extract(f.value, '$.detector') AS detector,
	json_extract(f.value, '$.company')  AS company,
	json_extract(f.value, '$.product')  AS product,
	json_extract(f.value, '$.category') AS category,
	json_extract(f.value, '$.rule_id')  AS rule_id,
	json_extract(f.value, '$.event')    AS event,
	json_extract(f.value, '$.summary')  AS summary,
	json_extract(f.value, '$.evidence') AS evidence  -- JSON array of {where, label, value, secret}; values unredacted
FROM exchanges e, json_each(e.findings) f;
