/*
 * The AVR target, cycle by cycle: the real firmware .elf runs in simavr with
 * two emulated HX711 and its UART on a pseudo-terminal.
 *
 * Each HX711 converts on its own clock (80 Hz with RATE high, 10 Hz low),
 * latches the force profile's value for that instant, pulls DOUT low, and
 * shifts the 24 bits out MSB first on the rising edges of PD_SCK; the 25th
 * pulse ends the read (gain 128) and DOUT goes high.  What a real chip would
 * punish is counted: a conversion replaced before it was read ("missed"), a
 * clock pulse high for more than 60 us (the chip powers down), clock pulses
 * while no data is ready.
 *
 * usage: rig-sim FIRMWARE.elf --profile FILE.csv [--speed X] [--right-lag-us N]
 *   FILE.csv lines: time_s,left_counts,right_counts (linear in between)
 *   --speed X: at most X times real time (default 1; 0: as fast as it goes)
 * stdout: "pty PATH", later "profile-end" once the simulated time passes the
 * profile's end, and a "stats ..." line for each "stats" line on stdin.
 * stdin: stats | adc-stop | adc-resume | quit
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

#include <avr_ioport.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_irq.h>
#include <sim_time.h>

#define MAX_POINTS 200000
#define PIN_SCK 4
#define PIN_DOUT_LEFT 2
#define PIN_DOUT_RIGHT 3
#define PIN_RATE 5
#define MAX_HIGH_US 60.0

typedef struct {
    avr_irq_t *dout;
    int column; /* 0 left, 1 right */
    uint32_t value;
    int ready, bit, stopped;
    unsigned long conversions, reads, missed;
} hx711_t;

static avr_t *avr;
static hx711_t chip[2];
static int fast; /* RATE pin */
static avr_cycle_count_t sck_rise;
static int sck_high;
static unsigned long long long_pulses, stray_pulses, max_high_cycles;
static double *pt, *pl, *pr;
static int npoints;
static volatile sig_atomic_t quit;

static double sim_seconds(void) { return (double)avr->cycle / (double)avr->frequency; }

static double profile(int column, double t)
{
    const double *v = column ? pr : pl;
    int lo = 0, hi = npoints - 1;
    if (t <= pt[0])
        return v[0];
    if (t >= pt[hi])
        return v[hi];
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (pt[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return v[lo] + (t - pt[lo]) / (pt[hi] - pt[lo]) * (v[hi] - v[lo]);
}

static avr_cycle_count_t period_cycles(void) { return avr->frequency / (fast ? 80u : 10u); }

static avr_cycle_count_t convert(avr_t *a, avr_cycle_count_t when, void *param)
{
    hx711_t *hx = param;
    double v;
    (void)a;
    if (!hx->stopped && hx->bit == 0) { /* a read in progress finishes first */
        if (hx->ready)
            hx->missed++;
        v = round(profile(hx->column, (double)when / (double)avr->frequency));
        if (v > 8388607.0)
            v = 8388607.0;
        if (v < -8388608.0)
            v = -8388608.0;
        hx->value = (uint32_t)(int32_t)v & 0xFFFFFFu;
        hx->ready = 1;
        hx->conversions++;
        avr_raise_irq(hx->dout, 0);
    }
    return when + period_cycles();
}

static void sck_changed(avr_irq_t *irq, uint32_t value, void *param)
{
    int i;
    (void)irq;
    (void)param;
    if (value) {
        sck_rise = avr->cycle;
        sck_high = 1;
        for (i = 0; i < 2; i++) {
            hx711_t *hx = &chip[i];
            if (!hx->ready) {
                stray_pulses++;
                continue;
            }
            if (hx->bit < 24) {
                avr_raise_irq(hx->dout, (hx->value >> (23 - hx->bit)) & 1u);
                hx->bit++;
            } else { /* 25th pulse: channel A, gain 128 next; data taken */
                hx->bit = 0;
                hx->ready = 0;
                hx->reads++;
                avr_raise_irq(hx->dout, 1);
            }
        }
    } else if (sck_high) {
        avr_cycle_count_t high = avr->cycle - sck_rise;
        if (high > max_high_cycles)
            max_high_cycles = high;
        sck_high = 0;
        if ((double)high > MAX_HIGH_US * 1e-6 * (double)avr->frequency)
            long_pulses++;
    }
}

static void rate_changed(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    fast = value != 0;
}


/* -- the UART bridge ----------------------------------------------------------------
 * Bytes the firmware sends go to the pty; when the reader falls behind, the
 * simulation waits (simulated time stands still), so no byte is ever dropped
 * and the firmware's timing is unaffected.  Bytes from the host go in while
 * the UART's receive FIFO has room (XON). */
#define OUT_SIZE 65536u
static uint8_t out_buf[OUT_SIZE];
static size_t out_len;
static uint8_t in_buf[4096];
static size_t in_len, in_pos;
static int xon = 1, master = -1;
static char slave_name[128];
static avr_irq_t *uart_in;

static unsigned long long tx_bytes;
static avr_cycle_count_t tx_last, tx_min_gap = (avr_cycle_count_t)-1;

static void uart_out(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    if (tx_bytes && avr->cycle - tx_last < tx_min_gap)
        tx_min_gap = avr->cycle - tx_last;
    tx_last = avr->cycle;
    tx_bytes++;
    if (out_len < OUT_SIZE)
        out_buf[out_len++] = (uint8_t)value;
}

static void uart_xon(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    (void)param;
    xon = 1;
}

static void uart_xoff(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    (void)param;
    xon = 0;
}

static int bridge_open(void)
{
    struct termios tio;
    int slave;
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master) ||
        ptsname_r(master, slave_name, sizeof slave_name))
        return -1;
    slave = open(slave_name, O_RDWR | O_NOCTTY);
    if (slave < 0 || tcgetattr(slave, &tio))
        return -1;
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    /* the slave stays open: no hang-up between programs that open the port */
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                            uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
                            uart_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
                            uart_xoff, NULL);
    {
        uint32_t flags = 0;
        avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
        flags &= ~(uint32_t)AVR_UART_FLAG_STDIO;
        avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    }
    return 0;
}

/* Move bytes both ways; 1 when the host has fallen far behind (the caller waits). */
static int bridge_pump(void)
{
    ssize_t n;
    if (out_len) {
        n = write(master, out_buf, out_len);
        if (n > 0) {
            memmove(out_buf, out_buf + n, out_len - (size_t)n);
            out_len -= (size_t)n;
        }
    }
    if (in_pos == in_len) {
        n = read(master, in_buf, sizeof in_buf);
        in_pos = 0;
        in_len = n > 0 ? (size_t)n : 0;
    }
    while (xon && in_pos < in_len)
        avr_raise_irq(uart_in, in_buf[in_pos++]);
    return out_len > OUT_SIZE / 2;
}

static int load_profile(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    if (!f) {
        fprintf(stderr, "cannot open profile %s: %s\n", path, strerror(errno));
        return -1;
    }
    pt = malloc(MAX_POINTS * sizeof(double));
    pl = malloc(MAX_POINTS * sizeof(double));
    pr = malloc(MAX_POINTS * sizeof(double));
    while (fgets(line, sizeof line, f) && npoints < MAX_POINTS) {
        double t, l, r;
        if (line[0] == '#' || sscanf(line, "%lf,%lf,%lf", &t, &l, &r) != 3)
            continue;
        if (npoints && t <= pt[npoints - 1])
            continue;
        pt[npoints] = t;
        pl[npoints] = l;
        pr[npoints] = r;
        npoints++;
    }
    fclose(f);
    if (!npoints) {
        fprintf(stderr, "profile %s holds no 'time_s,left,right' lines\n", path);
        return -1;
    }
    return 0;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_stats(double wall0)
{
    printf("stats sim_s=%.3f wall_s=%.3f conversions=%lu,%lu reads=%lu,%lu missed=%lu,%lu "
           "long_pulses=%llu stray_pulses=%llu max_high_us=%.2f uart_bytes=%llu "
           "uart_min_byte_us=%.1f\n",
           sim_seconds(), wall() - wall0, chip[0].conversions, chip[1].conversions, chip[0].reads,
           chip[1].reads, chip[0].missed, chip[1].missed, long_pulses, stray_pulses,
           (double)max_high_cycles * 1e6 / (double)avr->frequency, tx_bytes,
           tx_bytes > 1 ? (double)tx_min_gap * 1e6 / (double)avr->frequency : 0.0);
    fflush(stdout);
}

static void control(double wall0)
{
    static char buf[256];
    static size_t len;
    char *nl;
    ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - 1 - len);
    if (n == 0)
        quit = 1;
    if (n <= 0)
        return;
    len += (size_t)n;
    buf[len] = 0;
    while ((nl = strchr(buf, '\n'))) {
        *nl = 0;
        if (!strcmp(buf, "stats"))
            print_stats(wall0);
        else if (!strcmp(buf, "quit"))
            quit = 1;
        else if (!strcmp(buf, "adc-stop") || !strcmp(buf, "adc-resume")) {
            int stop = buf[4] == 's';
            chip[0].stopped = chip[1].stopped = stop;
            if (stop) { /* DOUT stays high: the chip does not answer */
                chip[0].ready = chip[1].ready = chip[0].bit = chip[1].bit = 0;
                avr_raise_irq(chip[0].dout, 1);
                avr_raise_irq(chip[1].dout, 1);
            }
        }
        len -= (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len + 1);
    }
    if (len == sizeof buf - 1)
        len = 0;
}

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

int main(int argc, char **argv)
{
    elf_firmware_t fw;
    const char *elf = NULL, *profile_path = NULL;
    double speed = 1.0, lag_us = 300.0, wall0;
    int i, ended = 0;
    unsigned long steps = 0;
    memset(&fw, 0, sizeof fw);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--profile") && i + 1 < argc)
            profile_path = argv[++i];
        else if (!strcmp(argv[i], "--speed") && i + 1 < argc)
            speed = atof(argv[++i]);
        else if (!strcmp(argv[i], "--right-lag-us") && i + 1 < argc)
            lag_us = atof(argv[++i]);
        else if (argv[i][0] != '-' && !elf)
            elf = argv[i];
        else {
            fprintf(stderr, "usage: rig-sim FIRMWARE.elf --profile FILE.csv [--speed X] "
                            "[--right-lag-us N]\n");
            return 2;
        }
    }
    if (!elf || !profile_path) {
        fprintf(stderr, "usage: rig-sim FIRMWARE.elf --profile FILE.csv [--speed X]\n");
        return 2;
    }
    if (load_profile(profile_path))
        return 2;
    if (elf_read_firmware(elf, &fw)) {
        fprintf(stderr, "cannot read %s\n", elf);
        return 2;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) {
        fprintf(stderr, "simavr has no atmega328p\n");
        return 2;
    }
    avr_init(avr);
    avr->frequency = 16000000;
    avr->log = 1;
    avr_load_firmware(avr, &fw);
    avr->frequency = 16000000;

    for (i = 0; i < 2; i++) {
        chip[i].column = i;
        chip[i].dout = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'),
                                     i ? PIN_DOUT_RIGHT : PIN_DOUT_LEFT);
        avr_raise_irq(chip[i].dout, 1);
    }
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), PIN_SCK),
                            sck_changed, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), PIN_RATE),
                            rate_changed, NULL);
    avr_cycle_timer_register(avr, period_cycles(), convert, &chip[0]);
    avr_cycle_timer_register(avr, period_cycles() + avr_usec_to_cycles(avr, (uint32_t)lag_us),
                             convert, &chip[1]);

    if (bridge_open()) {
        perror("pty");
        return 1;
    }
    printf("pty %s\n", slave_name);
    fflush(stdout);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    wall0 = wall();
    while (!quit) {
        int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            fprintf(stderr, "the firmware stopped (state %d)\n", state);
            break;
        }
        if (++steps % 2000 == 0 && bridge_pump()) {
            while (bridge_pump() && !quit)
                usleep(1000); /* the host is behind: simulated time waits for it */
        }
        if (steps % 20000 == 0) {
            struct pollfd p = {STDIN_FILENO, POLLIN, 0};
            if (poll(&p, 1, 0) > 0)
                control(wall0);
            if (!ended && sim_seconds() > pt[npoints - 1]) {
                ended = 1;
                printf("profile-end sim_s=%.3f\n", sim_seconds());
                fflush(stdout);
            }
            if (speed > 0) {
                double ahead = sim_seconds() / speed - (wall() - wall0);
                if (ahead > 0.002)
                    usleep((useconds_t)(ahead * 1e6));
            }
        }
    }
    print_stats(wall0);
    return 0;
}
