-- Used by bench/api_benchmark.sh: turns a freshly imported campaign of pending invitations into
-- one that has been running for hours, by writing what the engine writes, in bulk. It runs in the
-- sqlite3 shell on the benchmark database only, after `temp.bench` (one row: cid, first_id,
-- cut_id, t_end, step_num, step_den, worker as host:pid) was filled by the script.
--
-- The campaign worked through its invitations in id order (as the claim does) at
-- step_num/step_den ms per invitation, ending at t_end; everything up to cut_id was processed,
-- the rest is still pending. A hash of the id picks each invitation's fate, with shares taken
-- from the rehearsal simulator's defaults (src/telegram/rehearsal/rehearsal_messenger.h):
--   h = id * 2654435761 mod 2^32 mod 1000
--   h <  20  failed: blocked the bot (403), the user is suppressed
--   h <  40  failed: never started the bot (403)
--   h <  70  skipped: suppressed (the user had blocked the bot before)
--   h <  73  unknown: the lease expired after the send may have left
--   else     delivered: sent, and 60% of those later joined (a second hash);
--            2% of them needed a second attempt after a transient error (500)
-- (the rehearsal worker itself, over 3,000 invitations: 4% failed, 96% delivered, 59% of those
-- joined, ~2% transient errors; a single campaign has no skips, so the 3% skipped stand for
-- users suppressed by earlier campaigns).
--
-- State changes go through UPDATE statements, so the schema's own triggers keep
-- invitation_counts and invitation_minutes, exactly as for the engine's writes: first every
-- delivered invitation becomes 'sent' (updated_at = sent_at, a 'sent' minute), then the joiners
-- become 'joined' (updated_at = joined_at, a 'joined' minute); failures get a 'failed' minute.
-- Not mimicked: contacts.next_message_at (the per-chat limiter, never read by the web API).

CREATE TEMP TABLE fate AS
SELECT i.id AS id,
       b.t_end - ((b.cut_id - i.id) * b.step_num) / b.step_den AS t,
       CASE
         WHEN (i.id * 2654435761) % 4294967296 % 1000 < 20 THEN 'blocked'
         WHEN (i.id * 2654435761) % 4294967296 % 1000 < 40 THEN 'not_started'
         WHEN (i.id * 2654435761) % 4294967296 % 1000 < 70 THEN 'suppressed'
         WHEN (i.id * 2654435761) % 4294967296 % 1000 < 73 THEN 'unknown'
         WHEN (i.id * 40503) % 65536 % 100 < 60 THEN 'joined'
         ELSE 'sent'
       END AS fate,
       (i.id * 40503) % 65536 % 100 >= 98 AS retried,
       20 + (i.id * 7919) % 101 AS latency
FROM invitations i, temp.bench b
WHERE i.campaign_id = b.cid AND i.id BETWEEN b.first_id AND b.cut_id;
CREATE UNIQUE INDEX temp.fate_id ON fate (id);

BEGIN;

-- Suppressed before this campaign reached them, and those who block the bot now.
INSERT INTO suppressions (key, reason, created_at)
SELECT 'id:' || c.telegram_user_id, 'blocked the bot', f.t
FROM fate f JOIN invitations i ON i.id = f.id JOIN contacts c ON c.id = i.contact_id
WHERE f.fate IN ('suppressed', 'blocked') AND c.telegram_user_id IS NOT NULL
ON CONFLICT (key) DO NOTHING;

UPDATE invitations SET state = 'skipped', last_error = 'suppressed', updated_at = f.t
FROM fate f WHERE f.id = invitations.id AND f.fate = 'suppressed';

-- Delivered: a personal link each, then 'sent'.
UPDATE invitations
SET state = 'sent', gen = 1 + f.retried, attempts = 1 + f.retried, next_attempt_at = 0,
    invite_link = 'https://t.me/+REHEARSAL' || printf('%012d', invitations.id),
    send_started_at = f.t - f.latency, claimed_by = (SELECT worker FROM temp.bench),
    sent_at = f.t, updated_at = f.t
FROM fate f WHERE f.id = invitations.id AND f.fate IN ('sent', 'joined');

-- Joins arrive 0.5-5 s later (the simulator's join delay).
UPDATE invitations
SET state = 'joined', joined_at = f.t + 500 + (invitations.id * 104729) % 4501,
    updated_at = f.t + 500 + (invitations.id * 104729) % 4501
FROM fate f WHERE f.id = invitations.id AND f.fate = 'joined';

UPDATE invitations
SET state = 'failed', gen = 1, attempts = 1, next_attempt_at = 0,
    invite_link = 'https://t.me/+REHEARSAL' || printf('%012d', invitations.id),
    send_started_at = f.t - f.latency, claimed_by = (SELECT worker FROM temp.bench),
    last_error = CASE f.fate
                   WHEN 'blocked' THEN 'REHEARSAL: Forbidden: bot was blocked by the user'
                   ELSE 'REHEARSAL: Forbidden: bot can''t initiate conversation with a user'
                 END,
    updated_at = f.t
FROM fate f WHERE f.id = invitations.id AND f.fate IN ('blocked', 'not_started');

UPDATE invitations
SET state = 'unknown', gen = 1, next_attempt_at = 0,
    invite_link = 'https://t.me/+REHEARSAL' || printf('%012d', invitations.id),
    send_started_at = f.t - f.latency, claimed_by = (SELECT worker FROM temp.bench),
    last_error = 'lease expired while its request was in flight',
    updated_at = f.t
FROM fate f WHERE f.id = invitations.id AND f.fate = 'unknown';

-- The request history, as observed from the rehearsal worker: a successful link creation
-- (request 'link') writes no attempts row, a failed one does; a failed send (500) before the
-- retried ones; then the send whose outcome the invitation shows. An 'unknown'
-- invitation has none: its worker died with the request in flight. ORDER BY keeps attempt ids
-- roughly in time order, as a live worker appends them.
INSERT INTO attempts (invitation_id, gen, worker, request, started_at, latency_ms, http_status,
                      error_code, error, outcome, account_id)
SELECT id, 1, (SELECT worker FROM temp.bench), 'link', t - 2 * latency - 5000,
       latency, 500, 500, 'REHEARSAL: Internal Server Error: restart', 'transient',
       (SELECT c.account_id FROM invitations i JOIN campaigns c ON c.id = i.campaign_id
        WHERE i.id = fate.id)
FROM fate WHERE fate <> 'suppressed' AND (id * 31337) % 65536 % 100 < 2
ORDER BY t;
INSERT INTO attempts (invitation_id, gen, worker, request, started_at, latency_ms, http_status,
                      error_code, error, outcome, account_id)
SELECT id, 1, (SELECT worker FROM temp.bench), 'send', t - latency - 5000, latency, 500,
       500, 'REHEARSAL: Internal Server Error: restart', 'transient',
       (SELECT c.account_id FROM invitations i JOIN campaigns c ON c.id = i.campaign_id
        WHERE i.id = fate.id)
FROM fate WHERE retried AND fate IN ('sent', 'joined')
ORDER BY t;
INSERT INTO attempts (invitation_id, gen, worker, request, started_at, latency_ms, http_status,
                      error_code, error, outcome, account_id)
SELECT id, 1 + (retried AND fate IN ('sent', 'joined')), (SELECT worker FROM temp.bench),
       'send', t - latency, latency,
       CASE WHEN fate IN ('blocked', 'not_started') THEN 403 ELSE 200 END,
       CASE WHEN fate IN ('blocked', 'not_started') THEN 403 ELSE 0 END,
       CASE fate
         WHEN 'blocked' THEN 'REHEARSAL: Forbidden: bot was blocked by the user'
         WHEN 'not_started' THEN 'REHEARSAL: Forbidden: bot can''t initiate conversation with a user'
       END,
       CASE WHEN fate IN ('sent', 'joined') THEN 'ok' ELSE 'permanent' END,
       (SELECT c.account_id FROM invitations i JOIN campaigns c ON c.id = i.campaign_id
        WHERE i.id = fate.id)
FROM fate WHERE fate IN ('sent', 'joined', 'blocked', 'not_started')
ORDER BY t;

COMMIT;
