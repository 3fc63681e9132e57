"""One libtorrent (rasterbar) peer for the UDP swarm suite, driven through files.

    udp-peer.py <torrent> <save dir> <address> <port> <stop file>

Adds the torrent with only its udp:// tracker (so every announce goes over UDP, with the passkey in
BEP 41 URL data), seeds or downloads, and prints a JSON line of its state every quarter second and
one per tracker alert. Once <stop file> exists it pauses the torrent (libtorrent announces
`stopped`), waits for the tracker's answer and prints a last line with "final": true.
"""
import json
import os
import sys
import time

import libtorrent as lt

torrent, save_dir, address, port, stop_file = sys.argv[1:6]

session = lt.session(
    {
        "listen_interfaces": f"{address}:{port}",
        "outgoing_interfaces": address,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        # A tracker on a loopback address with a path other than /announce is otherwise refused.
        "ssrf_mitigation": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.status_notification,
    }
)
info = lt.torrent_info(torrent)
udp = [t.url for t in info.trackers() if t.url.startswith("udp://")]
handle = session.add_torrent({"ti": info, "save_path": save_dir})
handle.replace_trackers([lt.announce_entry(url) for url in udp])
handle.force_reannounce()


def say(**fields):
    print(json.dumps(fields), flush=True)


def drain():
    replied = False
    for alert in session.pop_alerts():
        if isinstance(alert, (lt.tracker_reply_alert, lt.tracker_error_alert, lt.tracker_warning_alert)):
            say(alert=type(alert).__name__, message=alert.message())
            replied = True
    return replied


def state(**extra):
    s = handle.status()
    say(
        udp=udp,
        progress=s.progress,
        seeding=s.is_seeding,
        uploaded=s.total_payload_upload,
        downloaded=s.total_payload_download,
        peers=s.num_peers,
        **extra,
    )


while not os.path.exists(stop_file):
    drain()
    state()
    time.sleep(0.25)

state()
drain()
handle.pause(lt.torrent_handle.graceful_pause)
deadline = time.time() + 15
stopped = False
while time.time() < deadline and not stopped:
    stopped = drain()
    time.sleep(0.1)
state(final=True, stopped_answered=stopped)
