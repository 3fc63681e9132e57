// Every numbered file in sql/, embedded as text so the compiled binary carries its schema.
// A new migration is a new file here and a new line below; a landed one is never edited.
import m001 from "../../sql/001_schema.sql" with { type: "text" };
import m002 from "../../sql/002_stat_batches.sql" with { type: "text" };
import m003 from "../../sql/003_web.sql" with { type: "text" };
import m004 from "../../sql/004_api.sql" with { type: "text" };
import m005 from "../../sql/005_large_catalogues.sql" with { type: "text" };
import m006 from "../../sql/006_credit_limits.sql" with { type: "text" };
import m007 from "../../sql/007_suspicious_transfers.sql" with { type: "text" };
import m008 from "../../sql/008_search_words.sql" with { type: "text" };
import m010 from "../../sql/010_login_guesses.sql" with { type: "text" };
import m011 from "../../sql/011_catalogue.sql" with { type: "text" };
import m012 from "../../sql/012_community.sql" with { type: "text" };
import m013 from "../../sql/013_economy.sql" with { type: "text" };
import m014 from "../../sql/014_economy_rules.sql" with { type: "text" };
import m015 from "../../sql/015_peer_lists_hot_history.sql" with { type: "text" };
import m016 from "../../sql/016_download_pauses.sql" with { type: "text" };
import m017 from "../../sql/017_live_counts.sql" with { type: "text" };
import m018 from "../../sql/018_suspicious_repeats.sql" with { type: "text" };
import m019 from "../../sql/019_tracker_peers.sql" with { type: "text" };
import m020 from "../../sql/020_waiting_claims_and_probes.sql" with { type: "text" };
import m025 from "../../sql/025_messages.sql" with { type: "text" };
import m026 from "../../sql/026_stored_markdown.sql" with { type: "text" };
import m031 from "../../sql/031_requests.sql" with { type: "text" };
import m032 from "../../sql/032_bookmarks.sql" with { type: "text" };

/** One forward-only schema change. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations in the order they apply. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "001_schema.sql", sql: m001 },
  { version: 2, name: "002_stat_batches.sql", sql: m002 },
  { version: 3, name: "003_web.sql", sql: m003 },
  { version: 4, name: "004_api.sql", sql: m004 },
  { version: 5, name: "005_large_catalogues.sql", sql: m005 },
  { version: 6, name: "006_credit_limits.sql", sql: m006 },
  { version: 7, name: "007_suspicious_transfers.sql", sql: m007 },
  { version: 8, name: "008_search_words.sql", sql: m008 },
  { version: 10, name: "010_login_guesses.sql", sql: m010 },
  { version: 11, name: "011_catalogue.sql", sql: m011 },
  { version: 12, name: "012_community.sql", sql: m012 },
  { version: 13, name: "013_economy.sql", sql: m013 },
  { version: 14, name: "014_economy_rules.sql", sql: m014 },
  { version: 15, name: "015_peer_lists_hot_history.sql", sql: m015 },
  { version: 16, name: "016_download_pauses.sql", sql: m016 },
  { version: 17, name: "017_live_counts.sql", sql: m017 },
  { version: 18, name: "018_suspicious_repeats.sql", sql: m018 },
  { version: 19, name: "019_tracker_peers.sql", sql: m019 },
  { version: 20, name: "020_waiting_claims_and_probes.sql", sql: m020 },
  { version: 25, name: "025_messages.sql", sql: m025 },
  { version: 26, name: "026_stored_markdown.sql", sql: m026 },
  { version: 31, name: "031_requests.sql", sql: m031 },
  { version: 32, name: "032_bookmarks.sql", sql: m032 },
];
