/*
 * The hardware layer the protocol core needs (the only part a port rewrites).
 *
 * Everything here is called from the main loop, never from an interrupt.
 * A port (ATmega328P + HX711, the host simulation, a faster board with a
 * simultaneous 24-bit ADC) implements these and calls rig_sample() once per
 * conversion while rig_streaming() is true.
 */
#ifndef NORDIC_HAL_H
#define NORDIC_HAL_H

#include <stdint.h>

/* Milliseconds since boot (wraps modulo 2^32); drives heartbeats. */
uint32_t hal_millis(void);

/* Bytes the UART transmit queue can take now without blocking. */
uint16_t hal_tx_free(void);

/* Queue len bytes for transmission; the core never passes more than hal_tx_free(). */
void hal_tx_write(const uint8_t *data, uint16_t len);

/* One received byte into *byte: 1, or 0 when none is waiting. */
uint8_t hal_rx_read(uint8_t *byte);

/* 1 when the ADC can sample at rate_mhz (millihertz), else 0. */
uint8_t hal_rate_ok(uint32_t rate_mhz);

/* Switch the ADC to rate_mhz (already checked with hal_rate_ok). */
void hal_set_rate(uint32_t rate_mhz);

/* The sample clock starts (1) or stops (0): the next conversion is sample 0. */
void hal_stream(uint8_t on);

/* The rig's serial number and firmware version, NUL-padded to 16 bytes each. */
void hal_identity(char serial[16], char firmware[16]);

#endif
