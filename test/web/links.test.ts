// Links that leave the page: with siteUrl and trackerUrl at their defaults, both follow the address
// the visitor used; set, they are used as they are.
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { announceUrl, announceUrls, defaultLinksWarning, siteOrigin } from "../../src/web/links.ts";

const PASSKEY = "0123456789abcdef0123456789abcdef";
const config = (env: Record<string, string> = {}) => loadConfig({ env });

function request(url: string, host: string | null): Request {
  const headers = new Headers();
  if (host !== null) headers.set("host", host);
  return new Request(url, { headers });
}

describe("with the defaults, links follow the request", () => {
  test("the site's origin and the announce URL both name the host the member used", () => {
    const lan = request("http://192.168.1.5:8080/torrents/1/download", "192.168.1.5:8080");
    expect(siteOrigin(config(), lan)).toBe("http://192.168.1.5:8080");
    expect(announceUrl(config(), lan, PASSKEY)).toBe(`http://192.168.1.5:6969/${PASSKEY}/announce`);
    const named = request("http://tracker.example/account", "tracker.example");
    expect(siteOrigin(config(), named)).toBe("http://tracker.example");
    expect(announceUrl(config(), named, PASSKEY)).toBe(`http://tracker.example:6969/${PASSKEY}/announce`);
  });

  test("the announce URL has the tracker's port, and the request's scheme", () => {
    const other = config({ FAIRYWREN_TRACKER_PORT: "7070", FAIRYWREN_WEB_PORT: "9090" });
    const secure = request("https://site.example:9090/account", "site.example:9090");
    expect(siteOrigin(other, secure)).toBe("https://site.example:9090");
    expect(announceUrl(other, secure, PASSKEY)).toBe(`https://site.example:7070/${PASSKEY}/announce`);
  });

  test("IPv6 addresses keep their brackets", () => {
    const v6 = request("http://[2001:db8::5]:8080/", "[2001:db8::5]:8080");
    expect(siteOrigin(config(), v6)).toBe("http://[2001:db8::5]:8080");
    expect(announceUrl(config(), v6, PASSKEY)).toBe(`http://[2001:db8::5]:6969/${PASSKEY}/announce`);
  });

  test("a missing or malformed Host header is never repeated: the defaults stand", () => {
    for (const host of [null, "", "evil.example/x?", "a b", "<script>", "x".repeat(400), "[::1"]) {
      const hostile = request("http://localhost:8080/", host);
      expect(siteOrigin(config(), hostile)).toBe("http://localhost:8080");
      expect(announceUrl(config(), hostile, PASSKEY)).toBe(`http://localhost:6969/${PASSKEY}/announce`);
    }
  });
});

describe("configured, links are what the operator set", () => {
  test("siteUrl and trackerUrl win over the request's host", () => {
    const set = config({
      FAIRYWREN_SITE_URL: "https://wren.example/site",
      FAIRYWREN_TRACKER_URL: "https://t.wren.example/tr/",
    });
    const lan = request("http://192.168.1.5:8080/", "192.168.1.5:8080");
    expect(siteOrigin(set, lan)).toBe("https://wren.example/site");
    expect(announceUrl(set, lan, PASSKEY)).toBe(`https://t.wren.example/tr/${PASSKEY}/announce`);
  });

  test("each is taken on its own: a set trackerUrl with the default siteUrl", () => {
    const half = config({ FAIRYWREN_TRACKER_URL: "https://t.example" });
    const lan = request("http://10.0.0.2:8080/", "10.0.0.2:8080");
    expect(siteOrigin(half, lan)).toBe("http://10.0.0.2:8080");
    expect(announceUrl(half, lan, PASSKEY)).toBe(`https://t.example/${PASSKEY}/announce`);
  });
});

describe("the start-up warning", () => {
  test("is given when a default stands while a port listens beyond this machine", () => {
    const both = defaultLinksWarning(config());
    expect(both).toContain("siteUrl (FAIRYWREN_SITE_URL) and trackerUrl (FAIRYWREN_TRACKER_URL) are left at");
    expect(both).toContain(
      "the web site on 0.0.0.0 and the tracker on 0.0.0.0 can be reached from other machines",
    );
    expect(both).toContain("port, 6969)");
    const tracker = defaultLinksWarning(
      config({ FAIRYWREN_SITE_URL: "https://wren.example", FAIRYWREN_WEB_HOST: "127.0.0.1" }),
    );
    expect(tracker).toStartWith(
      "trackerUrl (FAIRYWREN_TRACKER_URL) is left at the default while the tracker on 0.0.0.0",
    );
    expect(
      defaultLinksWarning(config({ FAIRYWREN_WEB_HOST: "::", FAIRYWREN_TRACKER_HOST: "::1" })),
    ).toContain("the web site on :: can be reached");
  });

  test("is not given on loopback only, nor with both URLs set", () => {
    for (const host of ["127.0.0.1", "localhost", "::1", "127.0.0.2"]) {
      expect(
        defaultLinksWarning(config({ FAIRYWREN_WEB_HOST: host, FAIRYWREN_TRACKER_HOST: host })),
      ).toBeNull();
    }
    expect(
      defaultLinksWarning(
        config({
          FAIRYWREN_SITE_URL: "https://wren.example",
          FAIRYWREN_TRACKER_URL: "https://t.wren.example",
        }),
      ),
    ).toBeNull();
  });
});

describe("the UDP tracker's URL", () => {
  test("off (the default): the HTTP URL alone", () => {
    const lan = request("http://192.168.1.5:8080/", "192.168.1.5:8080");
    expect(announceUrls(config(), lan, PASSKEY)).toEqual([`http://192.168.1.5:6969/${PASSKEY}/announce`]);
  });

  test("on: the HTTP URL, then udp:// on the same host with the UDP port", () => {
    const on = config({ FAIRYWREN_UDP_PORT: "6881" });
    const lan = request("http://192.168.1.5:8080/", "192.168.1.5:8080");
    expect(announceUrls(on, lan, PASSKEY)).toEqual([
      `http://192.168.1.5:6969/${PASSKEY}/announce`,
      `udp://192.168.1.5:6881/${PASSKEY}/announce`,
    ]);
    const v6 = request("http://[2001:db8::5]:8080/", "[2001:db8::5]:8080");
    expect(announceUrls(on, v6, PASSKEY)[1]).toBe(`udp://[2001:db8::5]:6881/${PASSKEY}/announce`);
  });

  test("with trackerUrl set: its host (not its port) and its path prefix", () => {
    const set = config({
      FAIRYWREN_UDP_PORT: "6881",
      FAIRYWREN_TRACKER_URL: "https://t.wren.example:8443/tr/",
    });
    const lan = request("http://192.168.1.5:8080/", "192.168.1.5:8080");
    expect(announceUrls(set, lan, PASSKEY)).toEqual([
      `https://t.wren.example:8443/tr/${PASSKEY}/announce`,
      `udp://t.wren.example:6881/tr/${PASSKEY}/announce`,
    ]);
  });
});
