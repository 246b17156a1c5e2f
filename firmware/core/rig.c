/*
 * The device side of protocol.md: commands in, INFO/SAMPLES/EVENT/HEARTBEAT/ACK out.
 *
 * Samples go from rig_sample() into a ring and leave as SAMPLES frames of
 * 50 ms worth (1..30), sooner when the frame flags would change (so a
 * saturation flag covers exactly the saturated samples) or an overrun gap
 * follows.  A full ring loses the newest samples; the indices still count
 * them and EVENT OVERRUN tells the host where the gap is, in stream order.
 * Nothing blocks: whatever does not fit in the UART queue waits for the
 * next rig_poll().
 */
#include <string.h>

#include "frame.h"
#include "hal.h"
#include "rig.h"

#if (RIG_RING & (RIG_RING - 1u)) != 0 || RIG_RING > 32768u
#error "RIG_RING must be a power of two up to 32768"
#endif

#define MAX_PER_FRAME 30u
#define WIRE_ACK FRAME_WIRE_LEN(3u)
#define WIRE_INFO FRAME_WIRE_LEN(40u)
#define WIRE_EVENT FRAME_WIRE_LEN(8u)
#define WIRE_HEARTBEAT FRAME_WIRE_LEN(5u)
#define REPLY_ROOM (WIRE_ACK + WIRE_INFO + 1u) /* the largest reply (+ a greeting 0x00) */

typedef struct {
    uint16_t at;    /* ring position of the first sample after the gap */
    uint32_t index; /* first lost index */
    uint32_t count;
} gap_t;

static struct {
    uint32_t rate_mhz;
    int32_t max_count, min_count;
    uint8_t adc_bits;
    uint8_t frame_n;
    uint8_t streaming;  /* in a session: START acknowledged, STOP not yet */
    uint8_t accepting;  /* rig_sample() stores samples (not while draining for STOP/START) */
    uint8_t fault_seen; /* EVENT FAULT sent for the current streak of ADC-fault samples */
    uint8_t greet;      /* 0x00 + INFO due */
    uint8_t fault_code; /* EVENT FAULT due (outside sample frames) */
    uint8_t button;     /* EVENT BUTTON due */
    uint32_t next_index; /* of the next sample taken (lost ones included) */
    uint32_t send_index; /* of the next sample to send */
    uint16_t head, tail; /* free-running ring positions: stored / sent */
    int32_t left[RIG_RING], right[RIG_RING];
    uint8_t flags[RIG_RING];
    gap_t gaps[RIG_GAPS];
    uint8_t ngaps;
    uint8_t gap_open;
    gap_t open;
    uint32_t next_heartbeat;
    /* host bytes */
    uint8_t rx[RIG_RX_MAX];
    uint16_t rx_len;
    uint32_t rx_run; /* bytes in the current run, including those beyond RIG_RX_MAX */
    uint8_t synced;  /* a 0x00 has been seen */
    uint8_t cmd_ready;
    uint16_t cmd_len;
    rig_counters_t count;
    uint8_t out[FRAME_MAX_BODY + 4u];
} s;

/* -- output ------------------------------------------------------------------- */
static uint8_t *body(void) { return s.out + 1; }

static void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void send(uint16_t body_len) { hal_tx_write(s.out, frame_encode_in_place(s.out, body_len)); }

static void send_ack(uint8_t command, uint8_t status)
{
    uint8_t *b = body();
    b[0] = RIG_ACK; b[1] = command; b[2] = status;
    send(3);
}

static void send_info(void)
{
    uint8_t *b = body();
    b[0] = RIG_INFO;
    b[1] = RIG_PROTOCOL_VERSION;
    b[2] = 2;
    put_u32(b + 3, s.rate_mhz);
    b[7] = s.adc_bits;
    memset(b + 8, 0, 32);
    hal_identity((char *)b + 8, (char *)b + 24);
    send(40);
}

static void send_event(uint8_t code, uint32_t index, uint16_t arg)
{
    uint8_t *b = body();
    b[0] = RIG_EVENT; b[1] = code;
    put_u32(b + 2, index);
    put_u16(b + 6, arg);
    send(8);
}

static void send_heartbeat(uint32_t now)
{
    uint8_t *b = body();
    b[0] = RIG_HEARTBEAT;
    put_u32(b + 1, now);
    send(5);
}

/* -- samples ------------------------------------------------------------------- */
static void set_rate(uint32_t rate_mhz)
{
    uint32_t n = rate_mhz / (1000000u / RIG_FRAME_TARGET_MS); /* 50 ms of samples */
    s.rate_mhz = rate_mhz;
    s.frame_n = (uint8_t)(n < 1u ? 1u : n > MAX_PER_FRAME ? MAX_PER_FRAME : n);
}

void rig_sample(int32_t left, int32_t right, uint8_t fault)
{
    uint16_t slot;
    uint8_t flags = fault ? RIG_FLAG_ADC_FAULT : 0;
    uint32_t index;
    if (!s.accepting)
        return;
    index = s.next_index++;
    if ((uint16_t)(s.head - s.tail) >= RIG_RING || (s.gap_open && s.ngaps >= RIG_GAPS)) {
        if (!s.gap_open) {
            s.gap_open = 1;
            s.open.index = index;
            s.open.count = 0;
        }
        s.open.count++;
        s.count.samples_lost++;
        return;
    }
    if (s.gap_open) {
        s.open.at = s.head;
        s.gaps[s.ngaps++] = s.open;
        s.gap_open = 0;
    }
    if (left >= s.max_count || left <= s.min_count)
        flags |= RIG_FLAG_LEFT_SAT;
    if (right >= s.max_count || right <= s.min_count)
        flags |= RIG_FLAG_RIGHT_SAT;
    slot = s.head & (RIG_RING - 1u);
    s.left[slot] = left;
    s.right[slot] = right;
    s.flags[slot] = flags;
    s.head++;
}

void rig_lost(uint16_t n)
{
    if (!s.accepting || n == 0)
        return;
    if (!s.gap_open) {
        s.gap_open = 1;
        s.open.index = s.next_index;
        s.open.count = 0;
    }
    s.open.count += n;
    s.next_index += n;
    s.count.samples_lost += n;
}

/* Send what is due; flush: also a last short frame and a trailing gap. */
static void send_samples(uint8_t flush)
{
    for (;;) {
        uint16_t avail = (uint16_t)(s.head - s.tail);
        uint16_t n, i, need;
        uint8_t f0, *b;
        if (flush && s.gap_open && s.ngaps < RIG_GAPS) {
            s.open.at = s.head;
            s.gaps[s.ngaps++] = s.open;
            s.gap_open = 0;
        }
        if (s.ngaps && s.gaps[0].at == s.tail) {
            gap_t *g = &s.gaps[0];
            uint16_t arg = g->count > 0xFFFFu ? 0xFFFFu : (uint16_t)g->count;
            if (hal_tx_free() < WIRE_EVENT)
                return;
            send_event(RIG_EV_OVERRUN, g->index, arg);
            g->index += arg;
            g->count -= arg;
            if (g->count == 0) {
                s.send_index = g->index;
                s.ngaps--;
                memmove(&s.gaps[0], &s.gaps[1], s.ngaps * sizeof(gap_t));
            }
            continue;
        }
        if (avail == 0)
            return;
        /* 50 ms of samples a frame; up to 30 when catching up on a backlog */
        n = avail >= 2u * s.frame_n ? MAX_PER_FRAME : s.frame_n;
        if (n > avail)
            n = avail;
        if (s.ngaps && (uint16_t)(s.gaps[0].at - s.tail) < n)
            n = (uint16_t)(s.gaps[0].at - s.tail);
        f0 = s.flags[s.tail & (RIG_RING - 1u)];
        for (i = 1; i < n; i++)
            if (s.flags[(uint16_t)(s.tail + i) & (RIG_RING - 1u)] != f0)
                break;
        n = i;
        if (!(flush || n >= s.frame_n || n < avail))
            return; /* wait for a whole frame */
        need = FRAME_WIRE_LEN(7u + 8u * n);
        if ((f0 & RIG_FLAG_ADC_FAULT) && !s.fault_seen)
            need += WIRE_EVENT;
        if (hal_tx_free() < need)
            return;
        if (f0 & RIG_FLAG_ADC_FAULT) {
            if (!s.fault_seen)
                send_event(RIG_EV_FAULT, s.send_index, RIG_FAULT_ADC);
            s.fault_seen = 1;
        } else {
            s.fault_seen = 0;
        }
        b = body();
        b[0] = RIG_SAMPLES;
        put_u32(b + 1, s.send_index);
        b[5] = (uint8_t)n;
        b[6] = f0;
        for (i = 0; i < n; i++) {
            uint16_t slot = (uint16_t)(s.tail + i) & (RIG_RING - 1u);
            put_u32(b + 7 + 8u * i, (uint32_t)s.left[slot]);
            put_u32(b + 11 + 8u * i, (uint32_t)s.right[slot]);
        }
        send((uint16_t)(7u + 8u * n));
        s.tail = (uint16_t)(s.tail + n);
        s.send_index += n;
        s.count.samples_sent += n;
        s.count.frames_sent++;
    }
}

static uint8_t drained(void)
{
    return s.head == s.tail && s.ngaps == 0 && !s.gap_open;
}

static void begin_session(void)
{
    s.next_index = 0;
    s.send_index = 0;
    s.head = s.tail = 0;
    s.ngaps = 0;
    s.gap_open = 0;
    s.fault_seen = 0;
    s.streaming = 1;
    s.accepting = 1;
    hal_stream(1);
}

static void end_session(void)
{
    uint32_t now = hal_millis();
    s.streaming = 0;
    s.accepting = 0;
    hal_stream(0);
    s.next_heartbeat = now - now % 1000u + 1000u;
}

/* -- commands ------------------------------------------------------------------- */
/* Act on the command in s.rx; 0 when it must wait (for UART room or a drain). */
static uint8_t command(void)
{
    uint8_t type = s.rx[0];
    uint16_t len = s.cmd_len;
    uint8_t known = type >= RIG_GET_INFO && type <= RIG_SET_RATE;
    if (known && len != (type == RIG_SET_RATE ? 5u : 1u)) {
        s.count.corrupt++; /* protocol.md: wrong length for its type is a corrupt frame */
        return 1;
    }
    if ((type == RIG_START || type == RIG_STOP) && s.streaming) {
        s.accepting = 0; /* the samples taken so far go out first */
        send_samples(1);
        if (!drained())
            return 0;
    }
    /* samples first: a reply waits while a whole frame of them waits for the UART */
    if (s.accepting && (uint16_t)(s.head - s.tail) >= s.frame_n)
        return 0;
    if (hal_tx_free() < REPLY_ROOM)
        return 0;
    if (!known) {
        s.count.unknown++;
        send_ack(type, RIG_ACK_UNKNOWN);
        return 1;
    }
    s.count.commands++;
    switch (type) {
    case RIG_GET_INFO:
        send_ack(type, RIG_ACK_OK);
        send_info();
        break;
    case RIG_START:
        if (s.streaming)
            end_session();
        send_ack(type, RIG_ACK_OK);
        send_event(RIG_EV_STARTED, 0, 0);
        begin_session();
        break;
    case RIG_STOP:
        if (s.streaming)
            end_session();
        send_ack(type, RIG_ACK_OK);
        send_event(RIG_EV_STOPPED, s.next_index, 0);
        break;
    default: { /* SET_RATE */
        uint32_t rate = (uint32_t)s.rx[1] | ((uint32_t)s.rx[2] << 8) | ((uint32_t)s.rx[3] << 16) |
                        ((uint32_t)s.rx[4] << 24);
        if (s.streaming) {
            send_ack(type, RIG_ACK_BUSY);
        } else if (rate == 0 || !hal_rate_ok(rate)) {
            send_ack(type, RIG_ACK_BAD_ARG);
        } else {
            hal_set_rate(rate);
            set_rate(rate);
            send_ack(type, RIG_ACK_OK);
            send_info();
        }
    } break;
    }
    return 1;
}

static void end_of_run(void)
{
    int16_t n = -1;
    if (s.rx_run <= RIG_RX_MAX)
        n = frame_decode_in_place(s.rx, (uint16_t)s.rx_run);
    if (n > 0) {
        s.cmd_ready = 1;
        s.cmd_len = (uint16_t)n;
    } else if (s.synced) {
        s.count.corrupt++;
    } else {
        s.count.leadin_bytes += s.rx_run; /* the tail of a frame from before we listened */
    }
    s.rx_len = 0;
    s.rx_run = 0;
    s.synced = 1;
}

static void receive(void)
{
    uint8_t byte;
    while (!s.cmd_ready && hal_rx_read(&byte)) {
        if (byte == 0) {
            if (s.rx_run)
                end_of_run();
            else
                s.synced = 1; /* padding */
        } else {
            if (s.rx_len < RIG_RX_MAX)
                s.rx[s.rx_len++] = byte;
            if (s.rx_run != 0xFFFFFFFFu)
                s.rx_run++;
        }
    }
}

/* -- main loop -------------------------------------------------------------------- */
void rig_poll(void)
{
    uint32_t now;
    if (s.greet && hal_tx_free() >= WIRE_INFO + 1u) {
        static const uint8_t zero = 0;
        hal_tx_write(&zero, 1);
        send_info();
        s.greet = 0;
    }
    if (s.streaming)
        send_samples(!s.accepting);
    receive();
    if (s.cmd_ready && command()) {
        s.cmd_ready = 0;
        receive();
    }
    if (s.streaming)
        send_samples(!s.accepting);
    if (s.fault_code && hal_tx_free() >= WIRE_EVENT) {
        send_event(RIG_EV_FAULT, s.streaming ? s.next_index : 0, s.fault_code);
        s.fault_code = 0;
    }
    if (s.button && hal_tx_free() >= WIRE_EVENT) {
        send_event(RIG_EV_BUTTON, s.streaming ? s.next_index : 0, 0);
        s.button = 0;
    }
    now = hal_millis();
    if (!s.streaming && (int32_t)(now - s.next_heartbeat) >= 0 && hal_tx_free() >= WIRE_HEARTBEAT) {
        send_heartbeat(now);
        s.next_heartbeat += 1000u;
        if ((int32_t)(now - s.next_heartbeat) >= 0) /* far behind (a long stall): resync */
            s.next_heartbeat = now - now % 1000u + 1000u;
    }
}

void rig_init(uint32_t rate_mhz, uint8_t adc_bits)
{
    memset(&s, 0, sizeof s);
    s.adc_bits = adc_bits;
    s.max_count = (int32_t)((1ul << (adc_bits - 1u)) - 1u);
    s.min_count = -s.max_count - 1;
    set_rate(rate_mhz);
    s.greet = 1;
    s.next_heartbeat = 1000u;
}

void rig_connected(void) { s.greet = 1; }
void rig_fault(uint8_t code) { s.fault_code = code; }
void rig_button(void) { s.button = 1; }
uint8_t rig_streaming(void) { return s.streaming; }
uint32_t rig_rate_mhz(void) { return s.rate_mhz; }
const rig_counters_t *rig_counters(void) { return &s.count; }
