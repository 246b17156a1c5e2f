/*
 * Fuzz the command parser (and everything it drives) with random bytes.
 *
 * Built with -fsanitize=address,undefined; no libFuzzer needed: a seeded
 * xorshift PRNG makes inputs of four kinds (raw noise, valid commands,
 * mutated valid commands, valid frames of any type and length), fed in
 * random chunks between random samples, with a UART queue whose room
 * changes at random.  Every byte the device sends is checked: valid COBS and
 * CRC, a device message type of the right length, SAMPLES indices that only
 * jump where an EVENT OVERRUN said so, and never more bytes than the queue
 * had room for.  Usage: fuzz-parser [EXECUTIONS] [SEED]; prints a summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/frame.h"
#include "../core/hal.h"
#include "../core/rig.h"

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static uint8_t input[1024];
static uint16_t in_len, in_pos;
static uint16_t tx_room;
static uint32_t clock_ms;
static uint8_t out_frame[300];
static uint16_t out_len;
static unsigned long failures, frames_checked;
static uint32_t expect_index;
static int have_index;

static void fail(const char *what)
{
    failures++;
    if (failures < 10)
        fprintf(stderr, "FAIL: %s\n", what);
}

static void check_frame(void)
{
    int16_t n = frame_decode_in_place(out_frame, out_len);
    uint8_t *b = out_frame;
    frames_checked++;
    if (n < 1) {
        fail("device sent a frame with bad COBS or CRC");
        return;
    }
    switch (b[0]) {
    case RIG_INFO: if (n != 40) fail("INFO length"); break;
    case RIG_EVENT:
        if (n != 8) { fail("EVENT length"); break; }
        if (b[1] == RIG_EV_OVERRUN) {
            uint32_t idx = b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 24;
            if (have_index && idx != expect_index) fail("OVERRUN index is not where samples stopped");
            expect_index = idx + (uint32_t)(b[6] | b[7] << 8);
        } else if (b[1] == RIG_EV_STARTED) {
            expect_index = 0;
            have_index = 1;
        }
        break;
    case RIG_HEARTBEAT: if (n != 5) fail("HEARTBEAT length"); break;
    case RIG_ACK: if (n != 3) fail("ACK length"); break;
    case RIG_SAMPLES: {
        uint32_t idx = b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24;
        if (b[5] < 1 || b[5] > 30 || n != 7 + 8 * b[5]) { fail("SAMPLES length"); break; }
        if (b[6] & ~7u) fail("SAMPLES reserved flag bits set");
        if (have_index && idx != expect_index) fail("SAMPLES index gap without OVERRUN");
        expect_index = idx + b[5];
    } break;
    default: fail("device sent an unknown message type");
    }
}

uint32_t hal_millis(void) { return clock_ms; }
uint16_t hal_tx_free(void) { return tx_room; }
void hal_tx_write(const uint8_t *data, uint16_t len)
{
    if (len > tx_room)
        fail("wrote more than the UART queue had room for");
    tx_room = (uint16_t)(tx_room - (len > tx_room ? tx_room : len));
    while (len--) {
        uint8_t byte = *data++;
        if (byte == 0) {
            if (out_len)
                check_frame();
            out_len = 0;
        } else if (out_len < sizeof out_frame) {
            out_frame[out_len++] = byte;
        } else {
            fail("device frame longer than 256 bytes");
        }
    }
}
uint8_t hal_rx_read(uint8_t *byte)
{
    if (in_pos >= in_len)
        return 0;
    *byte = input[in_pos++];
    return 1;
}
uint8_t hal_rate_ok(uint32_t rate_mhz) { return rate_mhz == 10000u || rate_mhz == 80000u || rate_mhz == 1000000u; }
void hal_set_rate(uint32_t rate_mhz) { (void)rate_mhz; }
void hal_stream(uint8_t on) { (void)on; }
void hal_identity(char serial[16], char firmware[16])
{
    memcpy(serial, "NR-FUZZ", 7);
    memcpy(firmware, "fuzz", 4);
}

static uint16_t put_frame(uint16_t at, const uint8_t *body, uint16_t len)
{
    uint8_t buf[FRAME_MAX_BODY + 4];
    uint16_t n;
    if (len > FRAME_MAX_BODY)
        len = FRAME_MAX_BODY;
    memcpy(buf + 1, body, len);
    n = frame_encode_in_place(buf, len);
    if (at + n > sizeof input)
        return at;
    memcpy(input + at, buf, n);
    return (uint16_t)(at + n);
}

static void make_input(void)
{
    uint16_t at = 0;
    uint32_t kind = rnd() % 4;
    uint16_t target = (uint16_t)(1 + rnd() % (sizeof input - 300));
    while (at < target) {
        uint8_t body[260];
        uint16_t len, i;
        uint32_t pick = kind == 3 ? rnd() % 3 : kind;
        if (pick == 0) { /* noise, sometimes without any zero */
            len = (uint16_t)(1 + rnd() % 64);
            for (i = 0; i < len && at < sizeof input; i++)
                input[at++] = (uint8_t)(rnd() % 5 == 0 ? 0 : rnd());
            continue;
        }
        body[0] = (uint8_t)(0x81 + rnd() % 4);
        len = body[0] == RIG_SET_RATE ? 5 : 1;
        if (pick == 2) { /* any type, any length */
            body[0] = (uint8_t)rnd();
            len = (uint16_t)(1 + rnd() % 252);
        }
        for (i = 1; i < len; i++)
            body[i] = (uint8_t)rnd();
        if (body[0] == RIG_SET_RATE && rnd() % 2) {
            static const uint32_t r[] = {10000u, 80000u, 1000000u};
            uint32_t v = r[rnd() % 3];
            body[1] = (uint8_t)v; body[2] = (uint8_t)(v >> 8); body[3] = (uint8_t)(v >> 16); body[4] = (uint8_t)(v >> 24);
        }
        {
            uint16_t start = at;
            at = put_frame(at, body, len);
            if (pick == 1 && rnd() % 4 == 0 && at > start) /* flip one bit of the encoded frame */
                input[start + rnd() % (at - start)] ^= (uint8_t)(1u << (rnd() % 8));
        }
        if (at >= sizeof input - 260)
            break;
    }
    in_len = at;
    in_pos = 0;
}

int main(int argc, char **argv)
{
    unsigned long runs = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000ul, run;
    unsigned long long bytes = 0, commands = 0, corrupt = 0, unknown = 0, lost = 0, sent = 0;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 0x9E3779B97F4A7C15ull;
    if (!rng_state)
        rng_state = 1;
    for (run = 0; run < runs; run++) {
        const rig_counters_t *c;
        uint16_t k;
        out_len = 0;
        have_index = 0;
        clock_ms = rnd();
        tx_room = 1024;
        rig_init(rnd() % 2 ? 80000u : 1000000u, (uint8_t)(rnd() % 2 ? 24 : 16));
        make_input();
        bytes += in_len;
        while (in_pos < in_len) {
            uint16_t feed_to = (uint16_t)(in_pos + 1 + rnd() % 40);
            uint16_t keep = in_len, ns;
            if (feed_to < in_len)
                in_len = feed_to;
            tx_room = (uint16_t)(rnd() % 8 == 0 ? rnd() % 64 : rnd() % 1200);
            ns = (uint16_t)(rnd() % 50);
            for (k = 0; k < ns && rig_streaming(); k++)
                rig_sample((int32_t)rnd(), (int32_t)(rnd() % 17000000) - 8500000, (uint8_t)(rnd() % 16 == 0));
            if (rnd() % 64 == 0)
                rig_fault((uint8_t)(1 + rnd() % 4));
            clock_ms += rnd() % 300;
            rig_poll();
            in_len = keep;
        }
        for (k = 0; k < 64; k++) { /* let everything queued go out */
            tx_room = 1024;
            rig_poll();
        }
        c = rig_counters();
        commands += c->commands; corrupt += c->corrupt; unknown += c->unknown;
        lost += c->samples_lost; sent += c->samples_sent;
    }
    printf("executions=%lu bytes=%llu commands=%llu corrupt=%llu unknown=%llu samples_sent=%llu "
           "samples_lost=%llu device_frames_checked=%lu failures=%lu\n",
           runs, bytes, commands, corrupt, unknown, sent, lost, frames_checked, failures);
    return failures ? 1 : 0;
}
