-- Foreign key orphans (vwtui, beyond the runbook)
-- One row per foreign key of the schema, with the read-only count of its orphaned rows as
-- PostgreSQL writes it (identifiers quoted by regclass and format's %I, never by vwtui); the
-- PostgreSQL service runs each count in the same read-only session.
SELECT
  c.conrelid::regclass::text AS table_name,
  c.conname AS constraint_name,
  c.confrelid::regclass::text AS references_table,
  format(
    'SELECT count(*) AS orphan_count FROM %s ch WHERE %s AND NOT EXISTS (SELECT 1 FROM %s pa WHERE %s)',
    c.conrelid::regclass,
    (SELECT string_agg(format('ch.%I IS NOT NULL', a.attname), ' AND ')
       FROM unnest(c.conkey) AS k(attnum)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
    c.confrelid::regclass,
    (SELECT string_agg(format('pa.%I = ch.%I', pa.attname, ca.attname), ' AND ')
       FROM unnest(c.conkey, c.confkey) AS k(child_att, parent_att)
       JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_att
       JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_att)
  ) AS count_sql
FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2;
