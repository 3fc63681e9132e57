// A process that runs the hourly bonus job for the hour before argv[2] (ms since the epoch) on the
// configured database, and stops inside its transaction, after writing the earnings, until killed.
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { runBonusHour } from "../../src/web/economy/service.ts";

const config = loadConfig();
const db = await openDatabase(config.webapi.postgresql, config.dataDir);
await runBonusHour(db.sql, config, new Date(Number(process.argv[2])), async () => {
  process.stdout.write("inside\n");
  await new Promise(() => {});
});
