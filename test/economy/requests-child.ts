// A process that, on the configured database, runs the expiry of requests at argv[3] (ms since the
// epoch) or accepts the fill of request argv[3] (`expire` or `accept` in argv[2]), and stops inside
// its transaction, after writing the refunds or the award, until killed.
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/client.ts";
import { acceptFill } from "../../src/db/queries/requests.ts";
import { runRequestExpiry } from "../../src/web/requests/service.ts";

const config = loadConfig();
const db = await openDatabase(config.webapi.postgresql, config.dataDir);
const hang = async () => {
  process.stdout.write("inside\n");
  await new Promise(() => {});
};
if (process.argv[2] === "expire")
  await runRequestExpiry(db.sql, config, new Date(Number(process.argv[3])), hang);
else await acceptFill(db.sql, Number(process.argv[3]), new Date(), hang);
