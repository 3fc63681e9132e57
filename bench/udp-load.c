/*
 * UDP tracker load generator (BEP 15, with BEP 41 URL data) for bench/tracker-udp.ts.
 *
 *   udp-load DATA HOST PORT SECONDS PEERS STYLE BASE SEED [warmup]
 *
 * DATA holds hashes.txt, passkeys.txt and peers.txt as bench/tracker.ts writes them (the same
 * population as the HTTP benchmark). STYLE is "passkey" (URL data "/<passkey>/announce", member
 * i % members) or "plain" (no URL data: opentracker). Each request picks a peer at random: 95%
 * re-announce it (numwant 50; seeder when i % 4 == 0; uploaded = BASE + a growing counter), 5% scrape
 * its torrent. SOCKETS sockets each connect once (and again before their id is a minute old) and
 * keep WINDOW requests in flight; a request unanswered for a second is counted lost and replaced.
 * With "warmup" every peer 0..PEERS-1 announces once, in order, and the program exits.
 * Prints one line: BENCH_JSON {"requests":..,"duration_us":..,"errors":..,"lost":..}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOCKETS 16
#define WINDOW 8
#define SCRAPE_PERCENT 5
#define NUMWANT 50
#define RECONNECT_NS 50000000000LL
#define LOST_NS 1000000000LL

static uint8_t (*hashes)[20];
static char (*passkeys)[33];
static uint32_t *torrent_of, *port_of;
static size_t n_hashes, n_passkeys, n_peers;
static uint64_t rng_state;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t next_random(void) {
  /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static FILE *open_data(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
    exit(1);
  }
  return f;
}

static size_t count_lines(FILE *f) {
  size_t n = 0;
  int c;
  while ((c = fgetc(f)) != EOF)
    if (c == '\n') n++;
  rewind(f);
  return n;
}

static void load(const char *dir, size_t peers) {
  char line[256];
  FILE *f = open_data(dir, "hashes.txt");
  n_hashes = count_lines(f);
  hashes = calloc(n_hashes, 20);
  for (size_t i = 0; i < n_hashes && fgets(line, sizeof line, f); i++)
    for (int k = 0; k < 20; k++) sscanf(line + 2 * k, "%2hhx", &hashes[i][k]);
  fclose(f);
  f = open_data(dir, "passkeys.txt");
  n_passkeys = count_lines(f);
  passkeys = calloc(n_passkeys, 33);
  for (size_t i = 0; i < n_passkeys && fgets(line, sizeof line, f); i++) memcpy(passkeys[i], line, 32);
  fclose(f);
  f = open_data(dir, "peers.txt");
  torrent_of = calloc(peers, sizeof *torrent_of);
  port_of = calloc(peers, sizeof *port_of);
  for (n_peers = 0; n_peers < peers && fgets(line, sizeof line, f); n_peers++) {
    unsigned t, p;
    if (sscanf(line, "%u %u", &t, &p) != 2) break;
    torrent_of[n_peers] = t - 1;
    port_of[n_peers] = p;
  }
  fclose(f);
  if (n_peers < peers) {
    fprintf(stderr, "peers.txt has %zu peers, %zu asked for\n", n_peers, peers);
    exit(1);
  }
}

static void put32(uint8_t *p, uint32_t v) {
  v = htonl(v);
  memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return ntohl(v);
}

struct slot {
  int fd;
  uint8_t connection[8];
  int connected;
  int64_t connected_at;
  int in_flight;
  int64_t last_sent;
  uint32_t next_tid;
};

static int passkey_style;
static uint64_t base_upload, counter;

/* Peer i's announce (with URL data in passkey style) into buf; returns its length. */
static size_t announce_packet(uint8_t *buf, const uint8_t *connection, uint32_t tid, size_t i, int event) {
  memcpy(buf, connection, 8);
  put32(buf + 8, 1);
  put32(buf + 12, tid);
  memcpy(buf + 16, hashes[torrent_of[i]], 20);
  /* peer_id: client prefix, 4 bytes of i, 8 hex digits of i * 0x9e3779b1 (as bench/tracker.lua) */
  char tail[9];
  snprintf(tail, sizeof tail, "%08x", (uint32_t)(i * 0x9e3779b1u));
  memcpy(buf + 36, "-BM0001-", 8);
  buf[44] = (uint8_t)(i >> 24);
  buf[45] = (uint8_t)(i >> 16);
  buf[46] = (uint8_t)(i >> 8);
  buf[47] = (uint8_t)i;
  memcpy(buf + 48, tail, 8);
  int seeder = i % 4 == 0;
  put64(buf + 56, seeder ? 0 : 1024);                      /* downloaded */
  put64(buf + 64, seeder ? 0 : 1u << 20);                  /* left */
  put64(buf + 72, base_upload + 256 * counter++); /* uploaded: only grows */
  put32(buf + 80, (uint32_t)event);
  put32(buf + 84, 0);
  put32(buf + 88, (uint32_t)i);
  put32(buf + 92, NUMWANT);
  buf[96] = (uint8_t)(port_of[i] >> 8);
  buf[97] = (uint8_t)port_of[i];
  size_t n = 98;
  if (passkey_style) {
    char path[64];
    int len = snprintf(path, sizeof path, "/%s/announce", passkeys[i % n_passkeys]);
    buf[n++] = 2;
    buf[n++] = (uint8_t)len;
    memcpy(buf + n, path, (size_t)len);
    n += (size_t)len;
    buf[n++] = 0;
  }
  return n;
}

static size_t scrape_packet(uint8_t *buf, const uint8_t *connection, uint32_t tid, size_t i) {
  memcpy(buf, connection, 8);
  put32(buf + 8, 2);
  put32(buf + 12, tid);
  memcpy(buf + 16, hashes[torrent_of[i]], 20);
  return 36;
}

static void send_connect(struct slot *s) {
  uint8_t buf[16];
  put64(buf, 0x41727101980ULL);
  put32(buf + 8, 0);
  put32(buf + 12, 0xc0000000u | s->next_tid++);
  send(s->fd, buf, 16, 0);
  s->last_sent = now_ns();
}

int main(int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "usage: %s DATA HOST PORT SECONDS PEERS STYLE BASE SEED [warmup]\n", argv[0]);
    return 2;
  }
  const char *host = argv[2];
  int port = atoi(argv[3]);
  double seconds = atof(argv[4]);
  size_t peers = strtoull(argv[5], NULL, 10);
  passkey_style = strcmp(argv[6], "passkey") == 0;
  base_upload = strtoull(argv[7], NULL, 10);
  rng_state = strtoull(argv[8], NULL, 10);
  int warmup = argc > 9 && strcmp(argv[9], "warmup") == 0;
  load(argv[1], peers);

  struct sockaddr_storage to;
  socklen_t to_len;
  memset(&to, 0, sizeof to);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&to;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&to;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    to_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    to_len = sizeof *v6;
  } else {
    fprintf(stderr, "not an address: %s\n", host);
    return 2;
  }

  struct slot slots[SOCKETS];
  struct pollfd fds[SOCKETS];
  for (int k = 0; k < SOCKETS; k++) {
    memset(&slots[k], 0, sizeof slots[k]);
    slots[k].fd = socket(to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (slots[k].fd < 0 || connect(slots[k].fd, (struct sockaddr *)&to, to_len) != 0) {
      perror("socket");
      return 1;
    }
    fds[k].fd = slots[k].fd;
    fds[k].events = POLLIN;
    send_connect(&slots[k]);
  }

  uint64_t requests = 0, errors = 0, lost = 0;
  size_t next_warm = 0, warm_done = 0;
  int64_t start = now_ns();
  int64_t end = start + (int64_t)(seconds * 1e9);
  uint8_t buf[2048];
  for (;;) {
    int64_t now = now_ns();
    if (warmup ? warm_done >= peers : now >= end) break;
    for (int k = 0; k < SOCKETS; k++) {
      struct slot *s = &slots[k];
      if (!s->connected) {
        if (now - s->last_sent > LOST_NS) send_connect(s);
        continue;
      }
      if (s->in_flight > 0 && now - s->last_sent > LOST_NS) {
        lost += (uint64_t)s->in_flight;
        if (warmup) warm_done += (size_t)s->in_flight;
        s->in_flight = 0;
      }
      if (now - s->connected_at > RECONNECT_NS) {
        s->connected = 0;
        s->in_flight = 0;
        send_connect(s);
        continue;
      }
      while (s->in_flight < WINDOW) {
        size_t n;
        uint32_t tid = s->next_tid++ & 0x3fffffff;
        if (warmup) {
          if (next_warm >= peers) break;
          n = announce_packet(buf, s->connection, tid, next_warm++, 2);
        } else {
          size_t i = (size_t)(next_random() % peers);
          if (next_random() % 100 < SCRAPE_PERCENT)
            n = scrape_packet(buf, s->connection, tid, i);
          else
            n = announce_packet(buf, s->connection, tid, i, 0);
        }
        if (send(s->fd, buf, n, 0) < 0) break;
        s->in_flight++;
        s->last_sent = now;
      }
    }
    if (poll(fds, SOCKETS, 100) <= 0) continue;
    for (int k = 0; k < SOCKETS; k++) {
      if (!(fds[k].revents & POLLIN)) continue;
      struct slot *s = &slots[k];
      ssize_t got;
      while ((got = recv(s->fd, buf, sizeof buf, 0)) >= 8) {
        uint32_t action = get32(buf);
        uint32_t tid = get32(buf + 4);
        if (action == 0 && got >= 16 && (tid & 0xc0000000u) == 0xc0000000u) {
          memcpy(s->connection, buf + 8, 8);
          s->connected = 1;
          s->connected_at = now_ns();
          continue;
        }
        if ((tid & 0xc0000000u) != 0) continue;
        if (s->in_flight > 0) s->in_flight--;
        requests++;
        if (warmup) warm_done++;
        if (action == 3) {
          if (errors == 0) fprintf(stderr, "first error: %.*s\n", (int)(got - 8), buf + 8);
          errors++;
        }
      }
    }
  }
  int64_t elapsed = now_ns() - start;
  printf("BENCH_JSON {\"requests\":%llu,\"duration_us\":%lld,\"errors\":%llu,\"lost\":%llu}\n",
         (unsigned long long)requests, (long long)(elapsed / 1000), (unsigned long long)errors,
         (unsigned long long)lost);
  return 0;
}
