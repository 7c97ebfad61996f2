/* linkemu: a user-space link emulator between TUN devices, for scripts/bench --links.
 *
 * Why: this kernel has no sch_netem, and a Python forwarder cannot pace ~8,500 packets/s at
 * 100 Mbit/s with sub-millisecond timing. This program owns one TUN device for the client and
 * one per mirror (it creates them; scripts/bench_lib/netlink.py moves them into network
 * namespaces and configures their addresses), and forwards IPv4 packets between the client and
 * each mirror, per direction applying what a real path does to them:
 *   - random loss (mirror -> client only: the data direction; ping shows it once per round trip),
 *   - a bottleneck of `rate` bytes/s that serialises packets one after the other,
 *   - a drop-tail queue of `queue` bytes in front of that bottleneck,
 *   - a one-way propagation delay (RTT/2) after it.
 * Link i (0-based) owns 10.200.(i+1).0/24; a packet from the client to any other address, and
 * anything but IPv4, is dropped (that is how "unreachable" fallback addresses drop SYNs).
 *
 * Usage: linkemu CLIENT_TUN TUN:DELAY_US:LOSS_PPM:RATE_BPS:QUEUE_BYTES ...
 * Prints "ready" on stdout once every TUN exists. Reads commands on stdin, one a line:
 *   "dead I"  link I drops everything from now on (a mirror that stops answering)
 *   "alive I" link I forwards again
 * Exits when stdin closes (so the emulator never outlives the bench that started it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINKS 8
#define PKT_MAX 2048
#define RING 16384 /* packets in flight per direction: 100 Mbit/s x 200 ms is ~1,700 */

struct pkt {
    int64_t due_ns; /* when it leaves the far end of the link */
    int len;
    unsigned char data[PKT_MAX];
};

struct dir {
    int64_t delay_ns;
    uint32_t loss_ppm;
    double rate; /* bytes per second; 0 = unlimited */
    int64_t queue_bytes;
    int64_t busy_until_ns; /* when the bottleneck has serialised everything queued */
    struct pkt *ring;
    unsigned head, tail; /* head: next to deliver; tail: next free */
    unsigned long long fwd, lost, tail_dropped;
};

struct link {
    int fd;
    int dead;
    struct dir up;   /* client -> mirror */
    struct dir down; /* mirror -> client */
};

static struct link links[MAX_LINKS];
static int nlinks;
static int client_fd;
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t rnd_ppm(void) { /* xorshift64*: uniform in [0, 1e6) */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)(((rng_state * 2685821657736338717ULL) >> 11) % 1000000ULL);
}

static int tun_open(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror("linkemu: /dev/net/tun");
        exit(2);
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror("linkemu: TUNSETIFF");
        exit(2);
    }
    return fd;
}

static void dir_init(struct dir *d, int64_t delay_ns, uint32_t loss, double rate, int64_t q) {
    memset(d, 0, sizeof *d);
    d->delay_ns = delay_ns;
    d->loss_ppm = loss;
    d->rate = rate;
    d->queue_bytes = q;
    d->ring = calloc(RING, sizeof(struct pkt));
    if (!d->ring) {
        fprintf(stderr, "linkemu: out of memory\n");
        exit(2);
    }
}

/* A packet arrives at the near end of the link at time t. */
static void enqueue(struct dir *d, const unsigned char *buf, int len, int64_t t, int lossy) {
    if (lossy && d->loss_ppm && rnd_ppm() < d->loss_ppm) {
        d->lost++;
        return;
    }
    if (d->busy_until_ns < t)
        d->busy_until_ns = t;
    int64_t tx_ns = d->rate > 0 ? (int64_t)(len * 1e9 / d->rate) : 0;
    /* bytes still waiting in the queue = time the bottleneck is busy x rate */
    double backlog = d->rate > 0 ? (double)(d->busy_until_ns - t) * d->rate / 1e9 : 0;
    if (backlog + len > (double)d->queue_bytes || d->tail - d->head >= RING) {
        d->tail_dropped++;
        return;
    }
    d->busy_until_ns += tx_ns;
    struct pkt *p = &d->ring[d->tail % RING];
    p->due_ns = d->busy_until_ns + d->delay_ns;
    p->len = len;
    memcpy(p->data, buf, (size_t)len);
    d->tail++;
}

/* Writes the packets that are due to fd; returns the next due time (or INT64_MAX). */
static int64_t deliver(struct dir *d, int fd, int64_t t) {
    while (d->head != d->tail) {
        struct pkt *p = &d->ring[d->head % RING];
        if (p->due_ns > t)
            return p->due_ns;
        if (write(fd, p->data, (size_t)p->len) < 0 && errno != EAGAIN && errno != EIO)
            perror("linkemu: write");
        d->fwd++;
        d->head++;
    }
    return INT64_MAX;
}

static void command(char *line) {
    int i;
    if (sscanf(line, "dead %d", &i) == 1 && i >= 0 && i < nlinks) {
        links[i].dead = 1;
    } else if (sscanf(line, "alive %d", &i) == 1 && i >= 0 && i < nlinks) {
        links[i].dead = 0;
    } else if (strncmp(line, "stats", 5) == 0) {
        for (i = 0; i < nlinks; i++)
            fprintf(stderr, "link %d: up fwd %llu lost %llu dropped %llu; down fwd %llu lost %llu dropped %llu\n",
                    i, links[i].up.fwd, links[i].up.lost, links[i].up.tail_dropped, links[i].down.fwd,
                    links[i].down.lost, links[i].down.tail_dropped);
    }
}

int main(int argc, char **argv) {
    if (argc < 3 || argc - 2 > MAX_LINKS) {
        fprintf(stderr, "usage: linkemu CLIENT_TUN TUN:DELAY_US:LOSS_PPM:RATE_BPS:QUEUE_BYTES ...\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake-ups within microseconds, not the default 50 us */
    rng_state ^= (uint64_t)now_ns();
    client_fd = tun_open(argv[1]);
    for (int i = 2; i < argc; i++) {
        char name[IFNAMSIZ + 1];
        long long delay_us, loss_ppm, rate, queue;
        if (sscanf(argv[i], "%15[^:]:%lld:%lld:%lld:%lld", name, &delay_us, &loss_ppm, &rate, &queue) != 5) {
            fprintf(stderr, "linkemu: bad link spec %s\n", argv[i]);
            return 2;
        }
        struct link *l = &links[nlinks++];
        l->fd = tun_open(name);
        dir_init(&l->up, delay_us * 1000, 0, (double)rate, queue);
        dir_init(&l->down, delay_us * 1000, (uint32_t)loss_ppm, (double)rate, queue);
    }
    printf("ready\n");
    fflush(stdout);

    struct pollfd pfd[MAX_LINKS + 2];
    char cmdbuf[256];
    size_t cmdlen = 0;
    unsigned char buf[PKT_MAX];
    for (;;) {
        int64_t t = now_ns(), next = INT64_MAX;
        for (int i = 0; i < nlinks; i++) {
            int64_t a = deliver(&links[i].up, links[i].fd, t);
            int64_t b = deliver(&links[i].down, client_fd, t);
            if (a < next)
                next = a;
            if (b < next)
                next = b;
        }
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = client_fd, .events = POLLIN};
        for (int i = 0; i < nlinks; i++)
            pfd[n++] = (struct pollfd){.fd = links[i].fd, .events = POLLIN};
        struct timespec ts = {1, 0}, *tsp = &ts;
        if (next != INT64_MAX) {
            int64_t wait = next - now_ns();
            if (wait < 0)
                wait = 0;
            ts.tv_sec = wait / 1000000000LL;
            ts.tv_nsec = wait % 1000000000LL;
        }
        if (ppoll(pfd, (nfds_t)n, tsp, NULL) < 0 && errno != EINTR) {
            perror("linkemu: ppoll");
            return 1;
        }
        if (pfd[0].revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(0, cmdbuf + cmdlen, sizeof cmdbuf - 1 - cmdlen);
            if (r <= 0)
                return 0; /* the bench is gone: so are we (and with us the TUN devices) */
            cmdlen += (size_t)r;
            cmdbuf[cmdlen] = 0;
            char *nl;
            while ((nl = strchr(cmdbuf, '\n')) != NULL) {
                *nl = 0;
                command(cmdbuf);
                cmdlen -= (size_t)(nl + 1 - cmdbuf);
                memmove(cmdbuf, nl + 1, cmdlen + 1);
            }
            if (cmdlen >= sizeof cmdbuf - 1)
                cmdlen = 0;
        }
        t = now_ns();
        /* client -> mirror: route by destination 10.200.(i+1).x */
        for (int k = 0; k < 256; k++) {
            ssize_t r = read(client_fd, buf, sizeof buf);
            if (r <= 0)
                break;
            if (r < 20 || (buf[0] >> 4) != 4 || buf[16] != 10 || buf[17] != 200)
                continue;
            int i = buf[18] - 1;
            if (i < 0 || i >= nlinks || links[i].dead)
                continue;
            enqueue(&links[i].up, buf, (int)r, t, 0);
        }
        for (int i = 0; i < nlinks; i++) {
            for (int k = 0; k < 256; k++) {
                ssize_t r = read(links[i].fd, buf, sizeof buf);
                if (r <= 0)
                    break;
                if (r < 20 || (buf[0] >> 4) != 4 || links[i].dead)
                    continue;
                enqueue(&links[i].down, buf, (int)r, t, 1);
            }
        }
    }
}
