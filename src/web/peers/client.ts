// Client names from peer_ids. Clients announce themselves in the first bytes of their peer_id in
// one of two conventions: Azureus style, "-" + two letters + four version characters + "-"
// ("-qB4650-"), and Shadow style, one letter + up to five version characters padded with "-"
// ("S58B-----"); a few do their own thing (aria2's "A2-1-36-0-", Mainline's "M7-4-3--").

/** Azureus-style two-letter codes of the clients a private tracker meets most. */
const AZUREUS: Readonly<Record<string, string>> = {
  qB: "qBittorrent",
  TR: "Transmission",
  // rakshasa's libtorrent, the library of rTorrent: its own version, not rTorrent's.
  lt: "rTorrent (libtorrent)",
  LT: "libtorrent",
  DE: "Deluge",
  UT: "µTorrent",
  UM: "µTorrent Mac",
  UW: "µTorrent Web",
  BT: "BitTorrent",
  AZ: "Vuze",
  BI: "BiglyBT",
  KT: "KTorrent",
  FD: "Free Download Manager",
  TX: "Tixati",
  PI: "PicoTorrent",
  WW: "WebTorrent",
  WD: "WebTorrent Desktop",
  LW: "LimeWire",
  FW: "FrostWire",
  BC: "BitComet",
  XL: "Xunlei",
  SD: "Thunder",
  HL: "Halite",
  FL: "Flud",
  TL: "Tribler",
  CT: "CTorrent",
  CD: "Enhanced CTorrent",
  MO: "MonoTorrent",
  SZ: "Shareaza",
  BF: "Bitflu",
  KG: "KGet",
  OS: "OneSwarm",
  QD: "QQDownload",
  TT: "TuoTu",
  VG: "Vagaa",
  BN: "Baidu Netdisk",
  XF: "Xfplay",
  AG: "Ares",
  AR: "Arctic Torrent",
  LP: "Lphant",
  BR: "BitRocket",
  HN: "Hydranode",
  ES: "Electric Sheep",
  TN: "TorrentDotNET",
  TS: "TorrentStorm",
  UL: "uLeecher!",
  XX: "Xtorrent",
  ZT: "ZipTorrent",
};

/**
 * Clients whose four version characters are a two-digit major and a two-digit minor version
 * ("-CD0303-" is Enhanced CTorrent 3.3), not four single characters.
 */
const TWO_AND_TWO: ReadonlySet<string> = new Set(["CD"]);

/** Shadow-style first letters. */
const SHADOW: Readonly<Record<string, string>> = {
  A: "ABC",
  O: "Osprey Permaseed",
  Q: "BTQueue",
  R: "Tribler",
  S: "Shadow",
  T: "BitTornado",
  U: "UPnP NAT Bit Torrent",
};

/** A version character's value: 0-9, then A-Z as 10-35 ("-lt0D80-" is 0.13.8). */
function digit(c: string): number | null {
  if (c >= "0" && c <= "9") return c.charCodeAt(0) - 48;
  if (c >= "A" && c <= "Z") return c.charCodeAt(0) - 55;
  return null;
}

/** A Shadow-style version character: 0-9, A-Z, a-z, '.' as 0-62. */
function shadowDigit(c: string): number | null {
  const d = digit(c);
  if (d !== null) return d;
  if (c >= "a" && c <= "z") return c.charCodeAt(0) - 61;
  return c === "." ? 62 : null;
}

/**
 * The client that made a peer_id, with its version: "qBittorrent 4.6.5" for "-qB4650-",
 * "Transmission 4.0.0" for "-TR4000-", "aria2 1.36.0" for "A2-1-36-0-"; "unknown" when the
 * peer_id follows no convention we know.
 */
export function clientName(peerId: Uint8Array): string {
  const text = Buffer.from(peerId.subarray(0, 20)).toString("latin1");
  if (text[0] === "-" && text[7] === "-") {
    const code = text.slice(1, 3);
    const name = AZUREUS[code];
    if (name && TWO_AND_TWO.has(code) && /^\d{4}$/.test(text.slice(3, 7)))
      return `${name} ${Number(text.slice(3, 5))}.${Number(text.slice(5, 7))}`;
    const d = [...text.slice(3, 7)].map(digit);
    if (name && d.every((n) => n !== null)) {
      const [a, b, c, e] = d as number[];
      // The fourth character is a build number most clients leave at 0.
      return `${name} ${a}.${b}.${c}${e ? `.${e}` : ""}`;
    }
    if (name) return name;
  }
  const aria = /^A2-(\d{1,3})-(\d{1,3})-(\d{1,3})-/.exec(text);
  if (aria) return `aria2 ${Number(aria[1])}.${Number(aria[2])}.${Number(aria[3])}`;
  const mainline = /^M(\d{1,2})-(\d{1,2})-(\d{1,2})-/.exec(text);
  if (mainline) return `BitTorrent ${Number(mainline[1])}.${Number(mainline[2])}.${Number(mainline[3])}`;
  const shadow = SHADOW[text[0] ?? ""];
  const padded = /^.([0-9A-Za-z.]{1,5})(-+)/.exec(text);
  if (shadow && padded && padded[1]!.length + padded[2]!.length >= 4) {
    return `${shadow} ${[...padded[1]!].map((c) => shadowDigit(c)).join(".")}`;
  }
  return "unknown";
}
