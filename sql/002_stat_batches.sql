-- Stat batches from a tracker carry increasing sequence numbers; the highest applied one per
-- tracker run is recorded in the same transaction as its deltas, so a retried batch counts once.
create table stat_batches (
  source text primary key,
  last_seq bigint not null,
  applied_at timestamptz not null default now()
);
