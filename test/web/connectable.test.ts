// What the prober found, shown to members: each peer of a torrent's list and each row of a member's
// history says connectable yes, no or unknown, on the page and in the API. Peers as the tracker
// saves them with the credit (tracker_peers) and probes as the prober records them (peer_probes),
// written straight into a real database; the peer list answered as the tracker Worker would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PEER_FIELDS, type PeerList } from "../../src/shared/channel.ts";
import { history, torrent } from "../economy/fixtures.ts";
import { type ApiHarness, apiHarness, expectJson } from "../helpers/api.ts";

let h: ApiHarness;
let torrentId = 0;
const members: Record<string, { id: number; token: string }> = {};
const NAMES = ["alice", "bob", "carol"] as const;
/** Each member's one peer: alice's answered the handshake, bob's did not, carol's is not probed yet. */
const PROBED: Record<string, boolean | null> = { alice: true, bob: false, carol: null };

const peerIdOf = (i: number) => new TextEncoder().encode(`-qB4650-${String(i).padStart(12, "0")}`);

beforeAll(async () => {
  h = await apiHarness();
  for (const name of NAMES) {
    const m = await h.memberWithToken(name);
    members[name] = { id: m.id, token: m.token };
  }
  torrentId = await torrent(h.db.sql, { size: 1000, seeders: 3 });
  const now = Math.floor(Date.now() / 1000);
  for (const [i, name] of NAMES.entries()) {
    const address = Buffer.from([127, 0, 0, 1]);
    const port = 20_000 + i;
    await h.db.sql`
      insert into tracker_peers (torrent_id, user_id, peer_id, kept, address, port, seeder, last_seen, uploaded,
        downloaded, left_bytes)
      values (${torrentId}, ${members[name]!.id}, ${Buffer.from(peerIdOf(i))}, false, ${address}, ${port}, true,
        ${now}, 0, 0, 0)
    `;
    if (PROBED[name] !== null)
      await h.db.sql`
        insert into peer_probes (address, port, info_hash, connectable, probed_at)
        select ${address}, ${port}, info_hash, ${PROBED[name]!}, now() from torrents where id = ${torrentId}
      `;
    await history(h.db.sql, members[name]!.id, torrentId, {
      seeding: false,
      last_announce_at: new Date(),
      completed_at: new Date(),
    });
  }
  // The tracker's peer list: the three seeders, in this order.
  h.tracker.peersOf = (id): PeerList | null => {
    if (id !== torrentId) return null;
    const rows = new Float64Array(NAMES.length * PEER_FIELDS);
    const peerIds = new Uint8Array(NAMES.length * 20);
    NAMES.forEach((name, i) => {
      rows.set([members[name]!.id, 0, 0, 0, 1, now - i], i * PEER_FIELDS);
      peerIds.set(peerIdOf(i), i * 20);
    });
    return { rows, peerIds };
  };
});

afterAll(async () => {
  await h?.close();
});

describe("connectable, as probed", () => {
  test("the peer list says yes, no or unknown for each peer, in the API and on the page", async () => {
    type Peers = { seeders: { member: { name: string } | null; connectable: string }[] };
    const list = await expectJson<Peers>(
      await h.call(`/api/v1/torrents/${torrentId}/peers`, { as: { token: members.alice!.token } }),
    );
    expect(list.seeders.map((p) => [p.member?.name, p.connectable])).toEqual([
      ["alice", "yes"],
      ["bob", "no"],
      ["carol", "unknown"],
    ]);
    const { cookie } = await h.login("alice");
    const page = await (await h.request(`/torrents/${torrentId}/swarm`, { cookie })).text();
    expect(page).toContain("<th>Connectable</th>");
    const cells = [...page.matchAll(/<td class="connectable (\w+)" data-label="Connectable">(\w+)<\/td>/g)];
    expect(cells.map((m) => [m[1], m[2]])).toEqual([
      ["yes", "yes"],
      ["no", "no"],
      ["unknown", "unknown"],
    ]);
  });

  test("each member's history says whether their peer in the swarm is connectable", async () => {
    for (const name of NAMES) {
      const body = await expectJson<{ items: { torrent: { id: number }; connectable: string }[] }>(
        await h.call(`/api/v1/users/${members[name]!.id}/history`, { as: { token: members[name]!.token } }),
      );
      const want = PROBED[name] === true ? "yes" : PROBED[name] === false ? "no" : "unknown";
      expect(body.items.map((i) => [i.torrent.id, i.connectable])).toEqual([[torrentId, want]]);
    }
    const { cookie } = await h.login("bob");
    const page = await (await h.request("/account/history", { cookie })).text();
    expect(page).toContain("<th>Connectable</th>");
    expect(page).toContain('<td class="connectable no" data-label="Connectable">no</td>');
  });
});
