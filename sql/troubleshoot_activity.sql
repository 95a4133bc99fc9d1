-- Active sessions
SELECT pid,
  usename AS user_name,
  application_name,
  state,
  EXTRACT(EPOCH FROM (now() - COALESCE(xact_start, query_start)))::bigint AS seconds,
  wait_event_type,
  left(query, 200) AS query
FROM pg_stat_activity
WHERE state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()
  AND COALESCE(xact_start, query_start) IS NOT NULL
ORDER BY COALESCE(xact_start, query_start);

-- Blocked and blocking sessions
SELECT blocked.pid AS blocked_pid,
  EXTRACT(EPOCH FROM (now() - blocked.query_start))::bigint AS blocked_seconds,
  left(blocked.query, 200) AS blocked_query,
  blocking.pid AS blocking_pid,
  blocking.state AS blocking_state,
  left(blocking.query, 200) AS blocking_query
FROM pg_stat_activity AS blocked
CROSS JOIN LATERAL unnest(pg_blocking_pids(blocked.pid)) AS holder(pid)
JOIN pg_stat_activity AS blocking ON blocking.pid = holder.pid
ORDER BY blocked.pid, blocking.pid;

-- Database size
SELECT pg_database_size(current_database()) AS bytes;
