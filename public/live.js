// Live seeder/leecher/snatch counts: elements carrying data-torrent-id and data-count="seeders|
// leechers|snatches" are updated from the server's event stream, with no reload.
(() => {
  const root = document.querySelector("[data-live-url]");
  if (!root || !window.EventSource) return;
  const ids = new Set();
  for (const el of document.querySelectorAll("[data-torrent-id]")) ids.add(el.dataset.torrentId);
  if (ids.size === 0) return;
  const url = `${root.dataset.liveUrl}?ids=${[...ids].join(",")}`;
  const source = new EventSource(url);
  source.addEventListener("counts", (event) => {
    for (const [id, seeders, leechers, snatches] of JSON.parse(event.data)) {
      const values = { seeders, leechers, snatches };
      for (const el of document.querySelectorAll(`[data-torrent-id="${id}"][data-count]`)) {
        el.textContent = String(values[el.dataset.count]);
      }
    }
  });
})();
