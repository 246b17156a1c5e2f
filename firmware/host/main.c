/*
 * Host target: the protocol core behind a simulated hardware layer, served on
 * a pseudo-terminal, so the station's own link talks to a real C process.
 *
 * The simulated hardware: two load cells (a force profile in counts, or a
 * built-in set of reps), a sample clock, a UART of limited speed (115200 baud
 * by default) and a transmit queue.  --time-scale N runs the whole simulated
 * clock (samples, UART speed, heartbeats, uptime) N times faster than real
 * time, so long sessions can be proved in a fraction of the time.
 *
 * Like an Arduino Uno (whose USB chip resets it when the port is opened),
 * the device boots when a program opens the pty: 0x00 + INFO.
 *
 * Lines on stdin inject faults and operator actions (see usage()).  The first
 * line on stdout is "pty PATH".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../core/hal.h"
#include "../core/rig.h"

#define FIRMWARE_VERSION "ref-1.0 host"
#define ADC_BITS 24
#define TXQ_SIZE 4096u
#define RXQ_SIZE 1024u
#define MAX_RATES 16
#define READER_GRACE_S 0.05 /* let the opener's flush finish before the first byte */
#define MAX_POINTS 200000

static struct {
    double scale;
    double baud;
    char serial[17];
    uint32_t boot_rate;
    uint32_t rates[MAX_RATES];
    int nrates;
    const char *link;
    /* clocks (seconds) */
    double real0;     /* real time at boot */
    double stream0;   /* simulated time of sample 0 */
    uint32_t due;     /* samples taken in this session */
    uint32_t rate;    /* mHz */
    int streaming;
    /* the cells */
    int adc_stopped, fault_reported;
    int fixed;
    int32_t fixed_l, fixed_r, last_l, last_r;
    double *pt, *pl, *pr;
    int npoints;
    /* UART */
    uint8_t txq[TXQ_SIZE];
    unsigned tx_head, tx_len;
    double tx_credit, tx_last, stall_until;
    uint8_t rxq[RXQ_SIZE];
    unsigned rx_head, rx_len;
    /* pty */
    int master;
    char slave[128];
    int connected;
    double present_since;
} g;

static volatile sig_atomic_t quit;

static double real_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double sim_now(void) { return (real_now() - g.real0) * g.scale; }

/* -- hal.h ------------------------------------------------------------------------ */
uint32_t hal_millis(void) { return (uint32_t)(uint64_t)(sim_now() * 1000.0); }

uint16_t hal_tx_free(void)
{
    unsigned free_bytes = TXQ_SIZE - g.tx_len;
    return (uint16_t)(free_bytes > 0xFFFFu ? 0xFFFFu : free_bytes);
}

void hal_tx_write(const uint8_t *data, uint16_t len)
{
    while (len-- && g.tx_len < TXQ_SIZE) {
        g.txq[(g.tx_head + g.tx_len) % TXQ_SIZE] = *data++;
        g.tx_len++;
    }
}

uint8_t hal_rx_read(uint8_t *byte)
{
    if (!g.rx_len)
        return 0;
    *byte = g.rxq[g.rx_head];
    g.rx_head = (g.rx_head + 1u) % RXQ_SIZE;
    g.rx_len--;
    return 1;
}

uint8_t hal_rate_ok(uint32_t rate_mhz)
{
    int i;
    for (i = 0; i < g.nrates; i++)
        if (g.rates[i] == rate_mhz)
            return 1;
    return 0;
}

void hal_set_rate(uint32_t rate_mhz) { g.rate = rate_mhz; }

void hal_stream(uint8_t on)
{
    g.streaming = on;
    g.due = 0;
    g.stream0 = sim_now();
}

void hal_identity(char serial[16], char firmware[16])
{
    memcpy(serial, g.serial, strnlen(g.serial, 16));
    memcpy(firmware, FIRMWARE_VERSION, strlen(FIRMWARE_VERSION));
}

/* -- the simulated cells ---------------------------------------------------------- */
static int32_t clamp24(double v)
{
    if (v > 8388607.0)
        return 8388607;
    if (v < -8388608.0)
        return -8388608;
    return (int32_t)lround(v);
}

/* Built in: 3 reps a run (a 3 s half-sine every 8 s), offsets like a real pair of cells. */
static void builtin(double t, double *l, double *r)
{
    double phase = fmod(t, 8.0), k = 0.0;
    if (phase >= 2.0 && phase < 5.0)
        k = sin(M_PI * (phase - 2.0) / 3.0);
    *l = 80000.0 + 700000.0 * k;
    *r = -40000.0 + 640000.0 * k;
}

static void profile_at(double t, double *l, double *r)
{
    int lo = 0, hi = g.npoints - 1;
    double w;
    if (g.npoints == 0) {
        builtin(t, l, r);
        return;
    }
    if (t <= g.pt[0]) {
        *l = g.pl[0]; *r = g.pr[0];
        return;
    }
    if (t >= g.pt[hi]) {
        *l = g.pl[hi]; *r = g.pr[hi];
        return;
    }
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (g.pt[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    w = (t - g.pt[lo]) / (g.pt[hi] - g.pt[lo]);
    *l = g.pl[lo] + w * (g.pl[hi] - g.pl[lo]);
    *r = g.pr[lo] + w * (g.pr[hi] - g.pr[lo]);
}

static int load_profile(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    if (!f) {
        fprintf(stderr, "cannot open profile %s: %s\n", path, strerror(errno));
        return -1;
    }
    g.pt = malloc(MAX_POINTS * sizeof(double));
    g.pl = malloc(MAX_POINTS * sizeof(double));
    g.pr = malloc(MAX_POINTS * sizeof(double));
    g.npoints = 0;
    while (fgets(line, sizeof line, f) && g.npoints < MAX_POINTS) {
        double t, l, r;
        if (line[0] == '#' || sscanf(line, "%lf,%lf,%lf", &t, &l, &r) != 3)
            continue;
        if (g.npoints && t <= g.pt[g.npoints - 1])
            continue;
        g.pt[g.npoints] = t; g.pl[g.npoints] = l; g.pr[g.npoints] = r;
        g.npoints++;
    }
    fclose(f);
    if (!g.npoints) {
        fprintf(stderr, "profile %s holds no 'time_s,left,right' lines\n", path);
        return -1;
    }
    return 0;
}

/* Take every sample whose time has come (the sample clock is the time base). */
static void take_samples(void)
{
    double now, rate_hz = g.rate / 1000.0;
    uint64_t due;
    if (!g.streaming) {
        if (g.adc_stopped && !g.fault_reported) {
            rig_fault(RIG_FAULT_ADC);
            g.fault_reported = 1;
        }
        return;
    }
    now = sim_now() - g.stream0;
    due = (uint64_t)floor(now * rate_hz) + 1u;
    while (g.due < due && g.streaming) {
        double l, r, t = g.due / rate_hz;
        if (!g.adc_stopped) {
            if (g.fixed) {
                g.last_l = g.fixed_l;
                g.last_r = g.fixed_r;
            } else {
                profile_at(t, &l, &r);
                g.last_l = clamp24(l);
                g.last_r = clamp24(r);
            }
        }
        g.due++;
        rig_sample(g.last_l, g.last_r, (uint8_t)g.adc_stopped);
    }
}

/* -- the pty ---------------------------------------------------------------------- */
static void boot(void)
{
    g.real0 = real_now();
    g.streaming = 0;
    g.rate = g.boot_rate;
    g.tx_len = 0;
    g.rx_len = 0;
    g.tx_credit = 0;
    g.tx_last = 0;
    g.fault_reported = 0;
    rig_init(g.boot_rate, ADC_BITS);
}

static int open_pty(void)
{
    struct termios tio;
    int slave;
    g.master = posix_openpt(O_RDWR | O_NOCTTY);
    if (g.master < 0 || grantpt(g.master) || unlockpt(g.master) ||
        ptsname_r(g.master, g.slave, sizeof g.slave)) {
        perror("pty");
        return -1;
    }
    /* Raw mode (no echo, no line editing) before anyone opens it; then hold no slave
     * fd, so POLLHUP on the master says whether a program has it open. */
    slave = open(g.slave, O_RDWR | O_NOCTTY);
    if (slave < 0 || tcgetattr(slave, &tio)) {
        perror(g.slave);
        return -1;
    }
    cfmakeraw(&tio);
    cfsetspeed(&tio, B115200);
    tcsetattr(slave, TCSANOW, &tio);
    close(slave);
    fcntl(g.master, F_SETFL, fcntl(g.master, F_GETFL) | O_NONBLOCK);
    if (g.link) {
        unlink(g.link);
        if (symlink(g.slave, g.link)) {
            fprintf(stderr, "cannot create link %s: %s\n", g.link, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Is a program holding the pty open?  Boot when one arrives (as an Uno does). */
static void watch_reader(double rnow)
{
    struct pollfd p = {g.master, 0, 0};
    poll(&p, 1, 0);
    if (p.revents & POLLHUP) {
        if (g.connected) {
            g.tx_len = 0; /* the port is closed: queued bytes go nowhere */
            g.streaming = 0;
        }
        g.connected = 0;
        g.present_since = 0;
        return;
    }
    if (g.connected)
        return;
    if (g.present_since == 0)
        g.present_since = rnow;
    if (rnow - g.present_since >= READER_GRACE_S) {
        g.connected = 1;
        boot();
    }
}

static void pump(void)
{
    uint8_t buf[512];
    double now = sim_now();
    ssize_t n;
    if (!g.connected)
        return;
    while (g.rx_len < RXQ_SIZE) {
        size_t room = RXQ_SIZE - g.rx_len, i;
        n = read(g.master, buf, room < sizeof buf ? room : sizeof buf);
        if (n <= 0)
            break;
        for (i = 0; i < (size_t)n; i++)
            g.rxq[(g.rx_head + g.rx_len++) % RXQ_SIZE] = buf[i];
    }
    /* The UART sends baud/10 bytes per simulated second, none while stalled. */
    if (now < g.stall_until) {
        g.tx_last = now;
        return;
    }
    g.tx_credit += (now - g.tx_last) * g.baud / 10.0;
    g.tx_last = now;
    if (g.tx_credit > TXQ_SIZE)
        g.tx_credit = TXQ_SIZE;
    while (g.tx_len && g.tx_credit >= 1.0) {
        unsigned chunk = g.tx_len, cap = (unsigned)g.tx_credit;
        if (chunk > TXQ_SIZE - g.tx_head)
            chunk = TXQ_SIZE - g.tx_head;
        if (chunk > cap)
            chunk = cap;
        n = write(g.master, g.txq + g.tx_head, chunk);
        if (n <= 0)
            break; /* the pty is full: the host is not reading */
        g.tx_head = (g.tx_head + (unsigned)n) % TXQ_SIZE;
        g.tx_len -= (unsigned)n;
        g.tx_credit -= (double)n;
    }
}

/* -- control lines on stdin ------------------------------------------------------- */
static void control(char *line)
{
    const rig_counters_t *c = rig_counters();
    double ms;
    long l, r;
    char path[200];
    if (!strncmp(line, "adc-stop", 8)) {
        g.adc_stopped = 1;
        g.fault_reported = 0;
    } else if (!strncmp(line, "adc-resume", 10)) {
        g.adc_stopped = 0;
    } else if (sscanf(line, "tx-stall %lf", &ms) == 1) {
        g.stall_until = sim_now() + ms / 1000.0;
    } else if (sscanf(line, "set %ld %ld", &l, &r) == 2) {
        g.fixed = 1;
        g.fixed_l = clamp24((double)l);
        g.fixed_r = clamp24((double)r);
    } else if (sscanf(line, "profile %199s", path) == 1) {
        g.fixed = 0;
        load_profile(path);
    } else if (!strncmp(line, "button", 6)) {
        rig_button();
    } else if (!strncmp(line, "stats", 5)) {
        printf("stats commands=%u corrupt=%u unknown=%u leadin=%u sent=%u lost=%u frames=%u "
               "connected=%d\n",
               c->commands, c->corrupt, c->unknown, c->leadin_bytes, c->samples_sent,
               c->samples_lost, c->frames_sent, g.connected);
    } else if (!strncmp(line, "quit", 4)) {
        quit = 1;
    } else if (line[0]) {
        printf("error unknown control line: %s\n", line);
    }
    fflush(stdout);
}

static void read_control(void)
{
    static char buf[512];
    static size_t len;
    ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - 1 - len);
    char *nl;
    if (n == 0) {
        quit = 1; /* the controlling test went away */
        return;
    }
    if (n < 0)
        return;
    len += (size_t)n;
    buf[len] = 0;
    while ((nl = strchr(buf, '\n'))) {
        *nl = 0;
        control(buf);
        len -= (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len + 1);
    }
    if (len == sizeof buf - 1)
        len = 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: nordic-rig-host [--rate HZ] [--rates HZ,HZ,...] [--serial S] [--time-scale N]\n"
            "                       [--baud B] [--profile FILE.csv] [--link PATH]\n"
            "stdin lines: adc-stop | adc-resume | tx-stall MS | set LEFT RIGHT | profile FILE |\n"
            "             button | stats | quit\n");
}

static void on_signal(int sig) { (void)sig; quit = 1; }

int main(int argc, char **argv)
{
    int i;
    const char *rates = "10,80,1000";
    double rate_hz = 80.0;
    g.scale = 1.0;
    g.baud = 115200.0;
    strcpy(g.serial, "NR-HOST-0001");
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
            return 2;
        }
        if (!strcmp(a, "--rate"))
            rate_hz = atof(v);
        else if (!strcmp(a, "--rates"))
            rates = v;
        else if (!strcmp(a, "--serial"))
            snprintf(g.serial, sizeof g.serial, "%s", v);
        else if (!strcmp(a, "--time-scale"))
            g.scale = atof(v);
        else if (!strcmp(a, "--baud"))
            g.baud = atof(v);
        else if (!strcmp(a, "--profile")) {
            if (load_profile(v))
                return 2;
        } else if (!strcmp(a, "--link"))
            g.link = v;
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (!(g.scale > 0) || !(g.baud > 0)) {
        fprintf(stderr, "--time-scale and --baud must be positive\n");
        return 2;
    }
    {
        char copy[256], *tok, *save = NULL;
        snprintf(copy, sizeof copy, "%s", rates);
        for (tok = strtok_r(copy, ",", &save); tok && g.nrates < MAX_RATES;
             tok = strtok_r(NULL, ",", &save))
            g.rates[g.nrates++] = (uint32_t)llround(atof(tok) * 1000.0);
    }
    g.boot_rate = (uint32_t)llround(rate_hz * 1000.0);
    if (!hal_rate_ok(g.boot_rate)) {
        fprintf(stderr, "--rate %g is not one of --rates %s\n", rate_hz, rates);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (open_pty())
        return 1;
    boot();
    printf("pty %s\n", g.link ? g.link : g.slave);
    fflush(stdout);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    while (!quit) {
        /* While nobody has the pty open the master reports POLLHUP at once: wait on stdin. */
        struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {g.master, POLLIN, 0}};
        poll(p, g.connected ? 2 : 1, g.connected ? 1 : 10);
        if (p[0].revents & (POLLIN | POLLHUP))
            read_control();
        watch_reader(real_now());
        pump();
        take_samples();
        if (g.connected) {
            rig_poll();
            pump();
        }
    }
    if (g.link)
        unlink(g.link);
    return 0;
}
