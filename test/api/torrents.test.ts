import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  type ApiHarness,
  apiHarness,
  expectError,
  expectJson,
  smallTorrent,
  uploadForm,
} from "../helpers/api.ts";
import { decodeStrict } from "../helpers/bdecode.ts";

let api: ApiHarness;
let admin: { id: number; token: string };
let alice: { id: number; token: string };
let reader: { id: number; token: string };

interface Summary {
  id: number;
  title: string;
  size: number;
  created_at: string;
  creator: { id: number; name: string } | null;
  seeders: number;
  leechers: number;
  snatches: number;
}
interface Full extends Summary {
  description: string;
  info_hash: string;
  info_hash_v2: string | null;
  files: { path: string; length: number }[];
  can_edit: boolean;
  can_delete: boolean;
  info_hash_changed?: boolean;
}
interface ListPage {
  items: Summary[];
  page: number;
  limit: number;
  has_next: boolean;
}

async function upload(as: { token: string }, name: string, fields: Record<string, string> = {}) {
  return api.call("/api/v1/torrents", { as, form: uploadForm(smallTorrent(name), fields) });
}

let hashByte = 100;
/** A torrent row straight into the database (for paging and sorting), newest last. */
async function row(title: string, size: number, seeders = 0): Promise<number> {
  const hash = Buffer.alloc(20, ++hashByte);
  const [r] = await api.db.sql`
    insert into torrents (info_hash, title, size, files, creator_id, metainfo)
    values (${hash}, ${title}, ${size}, ${api.db.sql.json([{ path: "f", length: size }])}, ${admin.id},
      ${Buffer.from("d4:infod4:name1:xee")})
    returning id
  `;
  await api.db.sql`update torrent_counts set seeders = ${seeders} where torrent_id = ${r!.id}`;
  return r!.id as number;
}

beforeAll(async () => {
  api = await apiHarness({ FAIRYWREN_TRACKER_URL: "https://t.example/tr", FAIRYWREN_SITE_NAME: "Wren" });
  admin = await api.memberWithToken("admin");
  alice = await api.memberWithToken("alice", ["upload"]);
  reader = await api.memberWithToken("reader");
}, 60000);
afterAll(async () => {
  await api?.close();
});

describe("POST /api/v1/torrents", () => {
  test("stores a valid upload private with the site's source; 201 with the torrent and Location", async () => {
    const before = api.sent.length;
    const response = await upload(alice, "Debian Bookworm netinst", { description: "hello\r\nworld " });
    const body = await expectJson<Full>(response, 201);
    expect(response.headers.get("location")).toBe(`/api/v1/torrents/${body.id}`);
    expect(body.title).toBe("Debian Bookworm netinst");
    expect(body.description).toBe("hello\nworld");
    expect(body.size).toBe(40000);
    expect(body.creator).toEqual({ id: alice.id, name: "alice" });
    expect(body.info_hash_changed).toBe(true);
    expect(body.can_edit).toBe(true);
    expect(body.can_delete).toBe(false);
    expect(body.files).toEqual([{ path: "Debian Bookworm netinst", length: 40000 }]);
    const [stored] = await api.db.sql`select info_hash, metainfo from torrents where id = ${body.id}`;
    expect(body.info_hash).toBe(Buffer.from(stored!.infoHash).toString("hex"));
    const info = (decodeStrict(stored!.metainfo) as Map<string, unknown>).get("info") as Map<string, unknown>;
    expect(info.get("private")).toBe(1);
    expect(Buffer.from(info.get("source") as Uint8Array).toString()).toBe("Wren");
    expect(api.sent.slice(before).map((m) => m.kind)).toEqual(["torrent-upsert"]);
  });

  test("the title can be given", async () => {
    const body = await expectJson<Full>(await upload(alice, "raw name", { title: "  Nice title " }), 201);
    expect(body.title).toBe("Nice title");
  });

  test("a duplicate is 409 pointing at the torrent already there", async () => {
    const [existing] = await api.db.sql`select id from torrents where title = 'Debian Bookworm netinst'`;
    const response = await upload(alice, "Debian Bookworm netinst");
    const error = await expectError(response, 409, "conflict");
    expect(error.message).toContain(`torrent ${existing!.id}`);
    expect(Object.keys(error.fields!)).toEqual(["file"]);
    expect(response.headers.get("location")).toBe(`/api/v1/torrents/${existing!.id}`);
  });

  test("no file, not a torrent, a too long title: 422 naming the field; too large: 413", async () => {
    const [before] = await api.db.sql`select count(*)::int as n from torrents`;
    const none = await expectError(
      await api.call("/api/v1/torrents", { as: alice, form: uploadForm(null, { title: "x" }) }),
      422,
      "validation",
    );
    expect(Object.keys(none.fields!)).toEqual(["file"]);
    const garbage = await expectError(
      await api.call("/api/v1/torrents", { as: alice, form: uploadForm(Buffer.from("not bencode")) }),
      422,
      "validation",
    );
    expect(Object.keys(garbage.fields!)).toEqual(["file"]);
    const long = await expectError(
      await upload(alice, "long title", { title: "t".repeat(201) }),
      422,
      "validation",
    );
    expect(Object.keys(long.fields!)).toEqual(["title"]);
    const big = await expectError(
      await api.call("/api/v1/torrents", {
        as: alice,
        form: uploadForm(Buffer.alloc(11 * 1024 * 1024, 0x31)),
      }),
      413,
      "payload_too_large",
    );
    expect(Object.keys(big.fields!)).toEqual(["file"]);
    // A body announced as far too large is refused before it is read.
    const announced = await api.call("/api/v1/torrents", {
      as: alice,
      method: "POST",
      headers: {
        "content-type": "multipart/form-data; boundary=x",
        "content-length": String(50 * 1024 * 1024),
      },
    });
    await expectError(announced, 413, "payload_too_large");
    const json = await api.call("/api/v1/torrents", { as: alice, json: { file: "abc" } });
    expect([400, 422]).toContain(json.status);
    await expectError(json, json.status, json.status === 400 ? "bad_request" : "validation");
    const [after] = await api.db.sql`select count(*)::int as n from torrents`;
    expect(after!.n).toBe(before!.n);
  });

  test("without the upload role 403, anonymous 401", async () => {
    await expectError(await upload(reader, "not allowed"), 403, "forbidden");
    await expectError(
      await api.call("/api/v1/torrents", { form: uploadForm(smallTorrent("anon")) }),
      401,
      "unauthenticated",
    );
  });
});

describe("GET /api/v1/torrents", () => {
  test("pages with page and limit (at most 100), newest first", async () => {
    for (let i = 0; i < 5; i++) await row(`Paged ${i}`, 1000 + i);
    const first = await expectJson<ListPage>(
      await api.call("/api/v1/torrents?q=paged&limit=2", { as: reader }),
    );
    expect(first.items.map((t) => t.title)).toEqual(["Paged 4", "Paged 3"]);
    expect(first).toMatchObject({ page: 1, limit: 2, has_next: true });
    const third = await expectJson<ListPage>(
      await api.call("/api/v1/torrents?q=paged&limit=2&page=3&sort=date", { as: reader }),
    );
    expect(third.items.map((t) => t.title)).toEqual(["Paged 0"]);
    expect(third.has_next).toBe(false);
    const all = await expectJson<ListPage>(await api.call("/api/v1/torrents", { as: reader }));
    expect(all.limit).toBe(50);
    expect(all.items.length).toBeGreaterThanOrEqual(7);
    for (const query of [
      "limit=101",
      "limit=0",
      "page=0",
      "page=abc",
      "limit=2.5",
      "sort=bogus",
      "order=up",
    ]) {
      const error = await expectError(
        await api.call(`/api/v1/torrents?${query}`, { as: reader }),
        422,
        "validation",
      );
      expect(Object.keys(error.fields!)).toEqual([query.split("=")[0]!]);
    }
    const hundred = await expectJson<ListPage>(await api.call("/api/v1/torrents?limit=100", { as: reader }));
    expect(hundred.limit).toBe(100);
  });

  test("sort and order; search by word prefixes", async () => {
    await row("Sortable big", 9_000_000, 1);
    await row("Sortable small", 1, 50);
    const bySize = await expectJson<ListPage>(
      await api.call("/api/v1/torrents?q=sortable&sort=size&order=asc", { as: reader }),
    );
    expect(bySize.items.map((t) => t.title)).toEqual(["Sortable small", "Sortable big"]);
    const bySeeders = await expectJson<ListPage>(
      await api.call("/api/v1/torrents?q=sortable&sort=seeders", { as: reader }),
    );
    expect(bySeeders.items.map((t) => t.title)).toEqual(["Sortable small", "Sortable big"]);
    const search = await expectJson<ListPage>(
      await api.call("/api/v1/torrents?q=bookw%20deb", { as: reader }),
    );
    expect(search.items.map((t) => t.title)).toEqual(["Debian Bookworm netinst"]);
    const none = await expectJson<ListPage>(await api.call("/api/v1/torrents?q=zzzz", { as: reader }));
    expect(none.items).toEqual([]);
  });

  test("live counts from the tracker replace the stored ones", async () => {
    const id = await row("Live one", 10, 1);
    api.counts.apply([[id, 7, 3, 2]]);
    const list = await expectJson<ListPage>(await api.call("/api/v1/torrents?q=live", { as: reader }));
    expect(list.items[0]).toMatchObject({ id, seeders: 7, leechers: 3, snatches: 2 });
  });

  test("anonymous: 401", async () => {
    await expectError(await api.call("/api/v1/torrents"), 401, "unauthenticated");
  });
});

describe("GET /api/v1/torrents/:id and download", () => {
  test("the detail, with rights", async () => {
    const [r] = await api.db.sql`select id from torrents where title = 'Debian Bookworm netinst'`;
    const asReader = await expectJson<Full>(await api.call(`/api/v1/torrents/${r!.id}`, { as: reader }));
    expect(asReader).toMatchObject({ title: "Debian Bookworm netinst", can_edit: false, can_delete: false });
    expect(asReader.info_hash).toMatch(/^[0-9a-f]{40}$/);
    expect(asReader.info_hash_v2).toBeNull();
    const asAdmin = await expectJson<Full>(await api.call(`/api/v1/torrents/${r!.id}`, { as: admin }));
    expect(asAdmin).toMatchObject({ can_edit: true, can_delete: true });
    await expectError(await api.call("/api/v1/torrents/999999", { as: reader }), 404, "not_found");
    const bad = await expectError(await api.call("/api/v1/torrents/abc", { as: reader }), 422, "validation");
    expect(Object.keys(bad.fields!)).toEqual(["id"]);
    await expectError(await api.call(`/api/v1/torrents/${r!.id}`), 401, "unauthenticated");
  });

  test("download: personalised with the caller's passkey, same info hash as listed", async () => {
    const [r] = await api.db.sql`select id from torrents where title = 'Debian Bookworm netinst'`;
    const [me] = await api.db.sql`select passkey from users where id = ${reader.id}`;
    const response = await api.call(`/api/v1/torrents/${r!.id}/download`, { as: reader });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-bittorrent");
    expect(response.headers.get("content-disposition")).toBe(
      'attachment; filename="Debian Bookworm netinst.torrent"',
    );
    const bytes = Buffer.from(await response.arrayBuffer());
    const file = decodeStrict(bytes) as Map<string, unknown>;
    expect(Buffer.from(file.get("announce") as Uint8Array).toString()).toBe(
      `https://t.example/tr/${me!.passkey}/announce`,
    );
    // The info dictionary is untouched: its SHA-1 is the hash the API lists.
    const detail = await expectJson<Full>(await api.call(`/api/v1/torrents/${r!.id}`, { as: reader }));
    const start = bytes.indexOf("4:infod") + 6;
    const infoBytes = bytes.subarray(start, bytes.length - 1);
    expect(createHash("sha1").update(infoBytes).digest("hex")).toBe(detail.info_hash);
    await expectError(await api.call("/api/v1/torrents/999999/download", { as: reader }), 404, "not_found");
    await expectError(await api.call(`/api/v1/torrents/${r!.id}/download`), 401, "unauthenticated");
  });
});

describe("PATCH and DELETE /api/v1/torrents/:id", () => {
  test("the uploader edits; another member may not; a moderator may; an empty title is 422", async () => {
    const made = await expectJson<Full>(await upload(alice, "Editable"), 201);
    const edited = await expectJson<Full>(
      await api.call(`/api/v1/torrents/${made.id}`, {
        method: "PATCH",
        as: alice,
        json: { title: " Edited ", description: "new\r\ntext" },
      }),
    );
    expect(edited).toMatchObject({ title: "Edited", description: "new\ntext" });
    const onlyDescription = await expectJson<Full>(
      await api.call(`/api/v1/torrents/${made.id}`, {
        method: "PATCH",
        as: alice,
        json: { description: "d2" },
      }),
    );
    expect(onlyDescription).toMatchObject({ title: "Edited", description: "d2" });
    await expectError(
      await api.call(`/api/v1/torrents/${made.id}`, { method: "PATCH", as: reader, json: { title: "mine" } }),
      403,
      "forbidden",
    );
    expect(
      (
        await expectJson<Full>(
          await api.call(`/api/v1/torrents/${made.id}`, {
            method: "PATCH",
            as: admin,
            json: { title: "By staff" },
          }),
        )
      ).title,
    ).toBe("By staff");
    const empty = await expectError(
      await api.call(`/api/v1/torrents/${made.id}`, { method: "PATCH", as: alice, json: { title: "  " } }),
      422,
      "validation",
    );
    expect(Object.keys(empty.fields!)).toEqual(["title"]);
    await expectError(
      await api.call(`/api/v1/torrents/${made.id}`, { method: "PATCH", as: alice, json: {} }),
      422,
      "validation",
    );
    const tooLong = await expectError(
      await api.call(`/api/v1/torrents/${made.id}`, {
        method: "PATCH",
        as: alice,
        json: { title: "x".repeat(201) },
      }),
      422,
      "validation",
    );
    expect(Object.keys(tooLong.fields!)).toEqual(["title"]);
    await expectError(
      await api.call("/api/v1/torrents/999999", { method: "PATCH", as: admin, json: { title: "x" } }),
      404,
      "not_found",
    );
    const [stored] = await api.db.sql`select title from torrents where id = ${made.id}`;
    expect(stored!.title).toBe("By staff");
  });

  test("only moderators delete; the tracker forgets the torrent", async () => {
    const made = await expectJson<Full>(await upload(alice, "Deletable"), 201);
    await expectError(
      await api.call(`/api/v1/torrents/${made.id}`, { method: "DELETE", as: alice }),
      403,
      "forbidden",
    );
    await expectError(
      await api.call(`/api/v1/torrents/${made.id}`, { method: "DELETE" }),
      401,
      "unauthenticated",
    );
    const before = api.sent.length;
    const response = await api.call(`/api/v1/torrents/${made.id}`, { method: "DELETE", as: admin });
    expect(response.status).toBe(204);
    expect(api.sent.slice(before)).toEqual([{ kind: "torrent-removed", id: made.id }]);
    await expectError(await api.call(`/api/v1/torrents/${made.id}`, { as: admin }), 404, "not_found");
    await expectError(
      await api.call(`/api/v1/torrents/${made.id}`, { method: "DELETE", as: admin }),
      404,
      "not_found",
    );
  });
});

describe("live counts", () => {
  test("GET /torrents/:id/counts: live when reported, stored before", async () => {
    const id = await row("Counted", 10, 4);
    expect(await expectJson(await api.call(`/api/v1/torrents/${id}/counts`, { as: reader }))).toEqual({
      id,
      seeders: 4,
      leechers: 0,
      snatches: 0,
    });
    api.counts.apply([[id, 9, 8, 7]]);
    expect(await expectJson(await api.call(`/api/v1/torrents/${id}/counts`, { as: reader }))).toEqual({
      id,
      seeders: 9,
      leechers: 8,
      snatches: 7,
    });
    await expectError(await api.call("/api/v1/torrents/999999/counts", { as: reader }), 404, "not_found");
    await expectError(await api.call(`/api/v1/torrents/${id}/counts`), 401, "unauthenticated");
  });

  test("GET /counts?ids=: several at once, unknown ids left out, bad lists 422", async () => {
    const a = await row("Count A", 10, 1);
    const b = await row("Count B", 10, 2);
    api.counts.apply([[b, 5, 6, 1]]);
    const body = await expectJson<{ counts: unknown[] }>(
      await api.call(`/api/v1/counts?ids=${b},${a},999999,${a}`, { as: reader }),
    );
    expect(body.counts).toEqual([
      { id: a, seeders: 1, leechers: 0, snatches: 0 },
      { id: b, seeders: 5, leechers: 6, snatches: 1 },
    ]);
    expect(await expectJson(await api.call("/api/v1/counts?ids=", { as: reader }))).toEqual({ counts: [] });
    for (const ids of ["1,x", "-1", "1.5", Array.from({ length: 201 }, (_, i) => i + 1).join(",")]) {
      const error = await expectError(
        await api.call(`/api/v1/counts?ids=${ids}`, { as: reader }),
        422,
        "validation",
      );
      expect(Object.keys(error.fields!)).toEqual(["ids"]);
    }
    const missing = await expectError(await api.call("/api/v1/counts", { as: reader }), 422, "validation");
    expect(Object.keys(missing.fields!)).toEqual(["ids"]);
    await expectError(await api.call(`/api/v1/counts?ids=${a}`), 401, "unauthenticated");
  });
});
