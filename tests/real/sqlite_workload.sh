#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# DOC: sqlite3 with a generated workload (malloc shim `real` test).
# Builds tables with a recursive CTE, indexes, joins, aggregates, updates,
# deletes and a vacuum; every query has an ORDER BY so the output is fixed.
set -euo pipefail
sqlite3 test.db <<'SQL'
PRAGMA cache_size = -20000;
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL, blob BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
INSERT INTO item SELECT i, 'name' || (i * 7919 % 100003), i % 97, (i * 31 % 1000) / 7.0,
                        zeroblob(i % 300) FROM n;
CREATE INDEX item_grp ON item(grp, val);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 96)
INSERT INTO grp SELECT i, printf('group-%03d', i) FROM n;
SELECT g.label, count(*), round(sum(i.val), 3), max(length(i.blob))
  FROM item i JOIN grp g ON g.id = i.grp GROUP BY g.label ORDER BY g.label LIMIT 20;
SELECT name, count(*) AS c FROM item GROUP BY name HAVING c > 1 ORDER BY c DESC, name LIMIT 10;
UPDATE item SET val = val * 2, name = upper(name) WHERE id % 3 = 0;
DELETE FROM item WHERE id % 5 = 0;
SELECT count(*), round(avg(val), 4), min(name), max(name) FROM item;
SELECT grp, group_concat(id, ',') FROM (SELECT grp, id FROM item WHERE id < 400 ORDER BY id)
  GROUP BY grp ORDER BY grp LIMIT 5;
VACUUM;
PRAGMA integrity_check;
SELECT count(*) FROM item WHERE name LIKE 'NAME1%';
SQL
