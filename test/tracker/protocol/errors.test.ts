import { describe, expect, test } from "bun:test";
import bencode from "bencode";
import { CLIENT_ERRORS, ClientError, failureResponse } from "../../../src/tracker/protocol/errors.ts";

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

describe("failureResponse", () => {
  test("encodes the message as a bencoded failure reason", () => {
    expect(text(failureResponse("Tracker error: try again later."))).toBe(
      "d14:failure reason31:Tracker error: try again later.e",
    );
  });

  test("counts the length in UTF-8 bytes, not characters", () => {
    const out = failureResponse("né €");
    // n(1) é(2) space(1) €(3) = 7 bytes for 4 characters.
    expect(out).toEqual(
      Uint8Array.from([
        ...new TextEncoder().encode("d14:failure reason7:n"),
        0xc3,
        0xa9,
        0x20,
        0xe2,
        0x82,
        0xac,
        0x65,
      ]),
    );
    expect(text(bencode.decode(out)["failure reason"])).toBe("né €");
  });

  test("encodes an empty message and a message with ten or more bytes of length digits", () => {
    expect(text(failureResponse(""))).toBe("d14:failure reason0:e");
    const long = "x".repeat(1234);
    expect(text(failureResponse(long))).toBe(`d14:failure reason1234:${long}e`);
  });
});

describe("CLIENT_ERRORS", () => {
  test("fixed errors carry their code, message and prebuilt body", () => {
    const cases: Array<[ClientError, string, string]> = [
      [
        CLIENT_ERRORS.unknownPasskey,
        "unknown_passkey",
        "Unknown passkey: download the .torrent again from the site.",
      ],
      [CLIENT_ERRORS.disabledAccount, "disabled_account", "Your account is disabled: contact the staff."],
      [
        CLIENT_ERRORS.downloadsPaused,
        "downloads_paused",
        "New downloads are paused: you have too many hit-and-runs. Seed what you owe (see your hit-and-runs page on the site) and they resume within the hour.",
      ],
      [
        CLIENT_ERRORS.unregisteredTorrent,
        "unregistered_torrent",
        "This torrent is not registered on this tracker: upload it or download the site's copy.",
      ],
      [
        CLIENT_ERRORS.clientNotAllowed,
        "client_not_allowed",
        "Your BitTorrent client is not allowed here: see the site's list of allowed clients.",
      ],
      [CLIENT_ERRORS.internal, "internal", "Tracker error: try again later."],
    ];
    for (const [error, code, message] of cases) {
      expect(error).toBeInstanceOf(ClientError);
      expect([error.code, error.message]).toEqual([code, message]);
      expect(error.body).toEqual(failureResponse(message));
    }
    expect(CLIENT_ERRORS.tooManyPeers.code).toBe("too_many_peers");
    expect(CLIENT_ERRORS.methodNotAllowed.code).toBe("method_not_allowed");
    expect(CLIENT_ERRORS.notFound.code).toBe("not_found");
    expect(CLIENT_ERRORS.udpNeedsPasskey.code).toBe("udp_needs_passkey");
    expect(CLIENT_ERRORS.udpNeedsPasskey.message).toContain("use the HTTP announce URL");
  });

  test("every fixed message is distinct and ends with a full stop", () => {
    const fixed = Object.values(CLIENT_ERRORS).filter((e): e is ClientError => e instanceof ClientError);
    // Twelve shared by both front ends, four the UDP tracker adds (URL data, scrape, connection id, action).
    expect(fixed).toHaveLength(16);
    expect(new Set(fixed.map((e) => e.message)).size).toBe(fixed.length);
    for (const e of fixed) expect(e.message.endsWith(".")).toBe(true);
  });

  test("malformed names the parameter", () => {
    const error = CLIENT_ERRORS.malformed("info_hash must be 20 bytes.");
    expect(error.code).toBe("malformed");
    expect(error.message).toBe("Malformed request: info_hash must be 20 bytes.");
    expect(text(error.body)).toBe("d14:failure reason46:Malformed request: info_hash must be 20 bytes.e");
  });
});
