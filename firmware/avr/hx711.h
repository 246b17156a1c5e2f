/* Two HX711 load-cell amplifiers on one shared clock line, read in step. */
#ifndef NORDIC_HX711_H
#define NORDIC_HX711_H

#include <stdint.h>

/* Arduino Uno/Nano pins (PORTD): SCK D4, DOUT left D2, DOUT right D3, RATE D5. */
#define HX_SCK PD4
#define HX_DOUT_LEFT PD2
#define HX_DOUT_RIGHT PD3
#define HX_RATE PD5

void hx711_init(void);
/* 1 when both converters have a new conversion (both DOUT low). */
uint8_t hx711_ready(void);
/* Clock out both 24-bit conversions at once (25 pulses: channel A, gain 128). */
void hx711_read(int32_t *left, int32_t *right);
/* RATE pin high: 80 Hz; low: 10 Hz (both chips). */
void hx711_fast(uint8_t fast);

#endif
