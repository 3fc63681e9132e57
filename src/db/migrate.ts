import { log } from "../log.ts";
import type { Sql } from "./client.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";

// Any fixed number works; it only has to be the same for every process that migrates.
const MIGRATION_LOCK = 0x66_77_72_6e;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, all in one transaction (a failing
 * one leaves the schema as it was), under an advisory lock so two processes starting at once do not
 * race. Returns the names applied.
 */
export async function migrate(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  const applied: string[] = [];
  await sql`
    create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )
  `;
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    const done = new Set(
      (await tx<{ version: number }[]>`select version from schema_migrations`).map((r) => r.version),
    );
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.unsafe(migration.sql);
      await tx`
        insert into schema_migrations (version, name)
        values (${migration.version}, ${migration.name})
      `;
      applied.push(migration.name);
      log.info("applied migration", { migration: migration.name });
    }
  });
  return applied;
}
