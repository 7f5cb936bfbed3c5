import type { Database } from 'better-sqlite3';

import { StoreBackendError } from '../errors.js';

/** Bumped whenever the tables change; a newer file is refused rather than misread. */
export const SCHEMA_VERSION = 1;

/*
 * kv holds the current value of every key; history holds every change
 * (revision, sub = its position within the revision) and answers watches and
 * reads at older revisions. A fresh store is at revision 1 with nothing
 * compacted, as a fresh etcd is.
 */
const schema = `
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL,
  compacted INTEGER NOT NULL
);
INSERT INTO meta (id, revision, compacted) VALUES (1, 1, 1);

CREATE TABLE kv (
  key TEXT COLLATE BINARY NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease TEXT
) WITHOUT ROWID;
CREATE INDEX kv_lease ON kv (lease) WHERE lease IS NOT NULL;

CREATE TABLE history (
  revision INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  key TEXT COLLATE BINARY NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('put', 'delete')),
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease TEXT,
  PRIMARY KEY (revision, sub)
) WITHOUT ROWID;
CREATE INDEX history_key ON history (key, revision);

CREATE TABLE leases (
  id TEXT NOT NULL PRIMARY KEY,
  ttl_ms INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX leases_expiry ON leases (expires_at);
`;

/** Sets the connection up and creates the tables on first use. */
export function prepareDatabase(db: Database): void {
  // WAL lets readers (watchers, other processes) proceed while one process
  // writes; NORMAL only syncs at checkpoints, which WAL keeps crash-consistent.
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    throw new StoreBackendError(`could not switch ${db.name} to WAL (got ${String(mode)})`, {
      cause: mode,
    });
  }
  db.pragma('synchronous = NORMAL');
  // IMMEDIATE so that two processes creating the file at once do not both run the DDL.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true });
    if (version === 0) {
      db.exec(schema);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } else if (version !== SCHEMA_VERSION) {
      throw new StoreBackendError(
        `${db.name} has schema version ${String(version)}; this Drover reads ${SCHEMA_VERSION}`,
        { cause: version },
      );
    }
  }).immediate();
}
