// Live seeder/leecher/snatch counts: elements carrying data-torrent-id and data-count="seeders|
// leechers|snatches" are updated from the server's event stream, with no reload. After htmx swaps
// in other rows (a search), the stream is reopened for the torrents now on the page.
(() => {
  const root = document.querySelector("[data-live-url]");
  if (!root || !window.EventSource) return;
  let source = null;
  let watching = "";
  function connect() {
    const ids = new Set();
    for (const el of document.querySelectorAll("[data-torrent-id]")) ids.add(el.dataset.torrentId);
    const list = [...ids].sort().join(",");
    if (list === watching) return;
    watching = list;
    if (source) source.close();
    source = null;
    if (!list) return;
    source = new EventSource(`${root.dataset.liveUrl}?ids=${list}`);
    source.addEventListener("counts", (event) => {
      for (const [id, seeders, leechers, snatches] of JSON.parse(event.data)) {
        const values = { seeders, leechers, snatches };
        for (const el of document.querySelectorAll(`[data-torrent-id="${id}"][data-count]`)) {
          el.textContent = String(values[el.dataset.count]);
        }
      }
    });
  }
  connect();
  document.body.addEventListener("htmx:afterSettle", connect);
})();
