-- User data validation
SELECT 
  'users' as table_name,
  COUNT(*) as row_count,
  MIN(created_at) as oldest_record,
  MAX(created_at) as newest_record
FROM users;

-- Transaction validation
SELECT 
  'transactions' as table_name,
  COUNT(*) as row_count,
  SUM(amount) as total_amount,
  MAX(created_at) as latest_transaction
FROM transactions;

-- Data integrity checks
SELECT 
  'orphaned_records' as check_name,
  COUNT(*) as issue_count
FROM videos v
LEFT JOIN users u ON v.user_id = u.id
WHERE u.id IS NULL;

-- Index validation
SELECT 
  tablename,
  indexname,
  indexdef
FROM pg_indexes
WHERE schemaname = 'public'
ORDER BY tablename, indexname;

-- Database size
SELECT 
  pg_size_pretty(pg_database_size('serverpod')) as database_size;
