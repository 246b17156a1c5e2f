/*
 * The device side of protocol.md, version 1, independent of any hardware.
 *
 * The main loop calls rig_poll() as often as it can; the ADC side calls
 * rig_sample() once per conversion while rig_streaming() is true.  All state
 * is static (no heap); sizes are set at compile time (RIG_RING, RIG_RX_MAX).
 */
#ifndef NORDIC_RIG_H
#define NORDIC_RIG_H

#include <stdint.h>

#ifndef RIG_RING
#define RIG_RING 32u /* samples buffered between the ADC and the UART; a power of two */
#endif
#ifndef RIG_RX_MAX
#define RIG_RX_MAX 64u /* longest host frame kept for its CRC check (longer: corrupt) */
#endif
#define RIG_GAPS 4u /* overruns remembered until the UART has sent their samples */

#define RIG_PROTOCOL_VERSION 1u
#define RIG_FRAME_TARGET_MS 50u /* samples per SAMPLES frame: 50 ms worth, 1..30 */

enum {
    RIG_INFO = 0x01, RIG_SAMPLES = 0x02, RIG_EVENT = 0x03, RIG_HEARTBEAT = 0x04, RIG_ACK = 0x05,
    RIG_GET_INFO = 0x81, RIG_START = 0x82, RIG_STOP = 0x83, RIG_SET_RATE = 0x84
};
enum { RIG_EV_STARTED = 1, RIG_EV_STOPPED = 2, RIG_EV_OVERRUN = 3, RIG_EV_BUTTON = 4, RIG_EV_FAULT = 5 };
enum { RIG_ACK_OK = 0, RIG_ACK_UNKNOWN = 1, RIG_ACK_BAD_ARG = 2, RIG_ACK_BUSY = 3 };
enum { RIG_FLAG_LEFT_SAT = 0x01, RIG_FLAG_RIGHT_SAT = 0x02, RIG_FLAG_ADC_FAULT = 0x04 };
enum { RIG_FAULT_ADC = 1, RIG_FAULT_SUPPLY = 2, RIG_FAULT_CLOCK_LATE = 3, RIG_FAULT_INTERNAL = 4 };

/* What the device made of the host's bytes and of its own buffer (for tests). */
typedef struct {
    uint32_t commands;       /* valid command frames acted on */
    uint32_t corrupt;        /* frames failing COBS/CRC/length (or too long to check) */
    uint32_t unknown;        /* valid frames of a type that is no command (ACK 1) */
    uint32_t leadin_bytes;   /* bytes before the first 0x00 that formed no valid frame */
    uint32_t samples_sent;
    uint32_t samples_lost;   /* overrun: taken by the ADC, no room in the ring */
    uint32_t frames_sent;    /* SAMPLES frames */
} rig_counters_t;

/* Power-on: rate in millihertz, ADC resolution; sends 0x00 + INFO. */
void rig_init(uint32_t rate_mhz, uint8_t adc_bits);
/* The host opened the port (USB DTR, pty opened): 0x00 + INFO again. */
void rig_connected(void);
/* One conversion (raw signed counts); fault: the ADC did not answer (values held). */
void rig_sample(int32_t left, int32_t right, uint8_t fault);
/* n conversions were missed (the firmware read the ADC too late): the index skips
 * them and the host gets EVENT OVERRUN, as for a full ring. */
void rig_lost(uint16_t n);
/* The ADC stopped answering while idle (or another fault): EVENT FAULT once. */
void rig_fault(uint8_t code);
/* The operator's button: EVENT BUTTON. */
void rig_button(void);
/* Read commands, send replies, samples, events and heartbeats. */
void rig_poll(void);
uint8_t rig_streaming(void);
uint32_t rig_rate_mhz(void);
const rig_counters_t *rig_counters(void);

#endif
