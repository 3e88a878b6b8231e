-- Checkpoint retention for langgraph-checkpoint-postgres (tables checkpoints, checkpoint_blobs,
-- checkpoint_writes): deletes every thread whose newest checkpoint, over all of its namespaces
-- (subgraphs included), is older than the TTL. The schema has no timestamp column; a checkpoint's
-- time is `checkpoint->>'ts'` (ISO 8601 with offset). Blobs are shared by the checkpoints of a
-- thread, so only whole threads can go.
--
-- Run with psql; the connection comes from libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER,
-- PGPASSWORD, PGSSLMODE), the limits from the command line:
--   psql -X -f retention.sql -v ttl_days=30 -v batch_size=200 -v max_batches=100
-- Each batch of at most batch_size threads is its own transaction; a run deletes at most
-- batch_size * max_batches threads (oldest first) and says when more are left for the next run.
-- Running it again deletes nothing new: it is idempotent.
--
-- Concurrency: each batch first takes SHARE ROW EXCLUSIVE on `checkpoints` (self-exclusive, so two
-- runs never interleave, and it waits for in-flight checkpoint writes to commit), then deletes in one
-- statement that re-checks every thread's age on a snapshot taken after the lock. A thread resumed
-- since the run listed it, or while the batch waited for its lock, is therefore kept whole, and no
-- new checkpoint can land in a thread while its batch deletes it. Writers wait at most one batch.
-- Remaining race: a run that loaded an expired thread before its batch and writes its first new
-- checkpoint (or pending writes) only after the batch committed leaves a checkpoint whose parent
-- and older blobs are gone, i.e. a thread that restarts with partial state. It needs a thread idle
-- for the whole TTL to be resumed within the milliseconds between LangGraph loading it and saving
-- the run's input checkpoint (the whole run with durability="exit"), during the one batch that holds
-- it, once a day; the thread was due for deletion anyway. Closing it would need the writers to take
-- a lock we could wait on, which the checkpointer does not do.

\set ON_ERROR_STOP on
\set QUIET on

-- psql does not interpolate variables inside the dollar-quoted block below: hand them over as
-- custom settings (an unset variable becomes '' and fails validation with the message below).
\if :{?ttl_days} \else \set ttl_days '' \endif
\if :{?batch_size} \else \set batch_size '' \endif
\if :{?max_batches} \else \set max_batches '' \endif
SET retention.ttl_days = :'ttl_days';
SET retention.batch_size = :'batch_size';
SET retention.max_batches = :'max_batches';

-- Short, so that a batch queued behind a long transaction does not hold up every checkpoint writer
-- queued behind it; the run then fails and the Job retries it.
SET lock_timeout = '5s';

DO $retention$
DECLARE
    setting text;
    ttl_days int;
    batch_size int;
    max_batches int;
    run_cap bigint;
    cutoff timestamptz;
    candidates text[];
    found_count int;
    batch_count int;
    batch_no int;
    batch_listed text[];
    batch_expired int;
    batch_kept int;
    batch_started timestamptz;
    batch_threads int;
    batch_checkpoints bigint;
    batch_blobs bigint;
    batch_writes bigint;
    total_threads bigint := 0;
    total_checkpoints bigint := 0;
    total_blobs bigint := 0;
    total_writes bigint := 0;
    total_kept bigint := 0;
BEGIN
    FOREACH setting IN ARRAY ARRAY['ttl_days', 'batch_size', 'max_batches'] LOOP
        IF current_setting('retention.' || setting) !~ '^[1-9][0-9]{0,8}$' THEN
            RAISE EXCEPTION 'retention: % must be a positive integer (psql -v %=N), got %',
                setting, setting, quote_literal(current_setting('retention.' || setting));
        END IF;
    END LOOP;
    ttl_days := current_setting('retention.ttl_days')::int;
    batch_size := current_setting('retention.batch_size')::int;
    max_batches := current_setting('retention.max_batches')::int;
    run_cap := batch_size::bigint * max_batches;
    cutoff := now() - make_interval(days => ttl_days);

    -- A fresh database before the server's first start has no checkpoint tables yet.
    IF to_regclass('checkpoints') IS NULL OR to_regclass('checkpoint_blobs') IS NULL
            OR to_regclass('checkpoint_writes') IS NULL THEN
        RAISE NOTICE 'retention: no checkpoint tables in search_path (%), nothing to do',
            current_setting('search_path');
        RETURN;
    END IF;

    -- One scan per run lists the expired threads, oldest first; one more than the cap tells
    -- whether some are left for the next run. A checkpoint without a readable ts keeps its thread.
    SELECT coalesce(array_agg(thread_id ORDER BY newest, thread_id), '{}')
    INTO candidates
    FROM (
        SELECT thread_id, max((checkpoint ->> 'ts')::timestamptz) AS newest
        FROM checkpoints
        GROUP BY thread_id
        HAVING bool_and(coalesce((checkpoint ->> 'ts')::timestamptz < cutoff, false))
        ORDER BY newest, thread_id
        LIMIT run_cap + 1
    ) AS expired;
    found_count := cardinality(candidates);
    batch_count := ceil(least(found_count, run_cap)::numeric / batch_size)::int;
    RAISE NOTICE 'retention: cutoff=% ttl_days=% expired_threads=% more_left=%', cutoff, ttl_days,
        least(found_count, run_cap), found_count > run_cap;
    -- The listing transaction ends here, so that the batches below are transactions of their own.
    COMMIT;

    FOR batch_no IN 1 .. batch_count LOOP
        batch_listed := candidates[(batch_no - 1) * batch_size + 1 : batch_no * batch_size];
        batch_started := clock_timestamp();
        LOCK TABLE checkpoints IN SHARE ROW EXCLUSIVE MODE;
        -- This statement's snapshot is taken after the lock: the age re-check sees every checkpoint.
        WITH batch AS (
            SELECT listed.thread_id
            FROM unnest(batch_listed) AS listed(thread_id)
            WHERE NOT EXISTS (
                SELECT FROM checkpoints c
                WHERE c.thread_id = listed.thread_id
                  AND NOT coalesce((c.checkpoint ->> 'ts')::timestamptz < cutoff, false)
            )
        ), gone_checkpoints AS (
            DELETE FROM checkpoints c USING batch WHERE c.thread_id = batch.thread_id RETURNING c.thread_id
        ), gone_blobs AS (
            DELETE FROM checkpoint_blobs b USING batch WHERE b.thread_id = batch.thread_id RETURNING 1
        ), gone_writes AS (
            DELETE FROM checkpoint_writes w USING batch WHERE w.thread_id = batch.thread_id RETURNING 1
        )
        SELECT (SELECT count(*) FROM batch), (SELECT count(DISTINCT thread_id) FROM gone_checkpoints),
               (SELECT count(*) FROM gone_checkpoints), (SELECT count(*) FROM gone_blobs),
               (SELECT count(*) FROM gone_writes)
        INTO batch_expired, batch_threads, batch_checkpoints, batch_blobs, batch_writes;
        COMMIT;

        batch_kept := cardinality(batch_listed) - batch_expired;
        total_threads := total_threads + batch_threads;
        total_checkpoints := total_checkpoints + batch_checkpoints;
        total_blobs := total_blobs + batch_blobs;
        total_writes := total_writes + batch_writes;
        total_kept := total_kept + batch_kept;
        -- How long the batch held writers off (lock wait included): the figure to tune batch_size by.
        RAISE NOTICE 'retention: batch=%/% deleted_threads=% checkpoints=% checkpoint_blobs=% '
                     'checkpoint_writes=% kept_threads=% lock_ms=%',
            batch_no, batch_count, batch_threads, batch_checkpoints, batch_blobs, batch_writes, batch_kept,
            round(extract(epoch FROM clock_timestamp() - batch_started) * 1000);
    END LOOP;

    RAISE NOTICE 'retention: total batches=% deleted_threads=% checkpoints=% checkpoint_blobs=% '
                 'checkpoint_writes=% kept_threads=%',
        batch_count, total_threads, total_checkpoints, total_blobs, total_writes, total_kept;
END
$retention$;
