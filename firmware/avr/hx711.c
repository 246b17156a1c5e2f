/*
 * HX711 pair, bit-banged.  PD_SCK high for more than 60 us powers the chip
 * down, so each high phase runs with interrupts off (about 1 us); the UART
 * interrupts run between bits.  Both DOUT lines are sampled on the same
 * clock edge, so the two legs are read in step.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/delay.h>

#include "hx711.h"

void hx711_init(void)
{
    DDRD |= _BV(HX_SCK) | _BV(HX_RATE);
    DDRD &= (uint8_t)~(_BV(HX_DOUT_LEFT) | _BV(HX_DOUT_RIGHT));
    PORTD |= _BV(HX_DOUT_LEFT) | _BV(HX_DOUT_RIGHT); /* pull-ups: a missing chip reads "busy" */
    PORTD &= (uint8_t)~_BV(HX_SCK);                   /* SCK low: the chips run */
    hx711_fast(1);
}

void hx711_fast(uint8_t fast)
{
    if (fast)
        PORTD |= _BV(HX_RATE);
    else
        PORTD &= (uint8_t)~_BV(HX_RATE);
}

uint8_t hx711_ready(void)
{
    return (PIND & (_BV(HX_DOUT_LEFT) | _BV(HX_DOUT_RIGHT))) == 0;
}

static int32_t sign_extend(uint32_t v)
{
    return (v & 0x800000ul) ? (int32_t)(v | 0xFF000000ul) : (int32_t)v;
}

void hx711_read(int32_t *left, int32_t *right)
{
    uint32_t l = 0, r = 0;
    uint8_t i, pins;
    for (i = 0; i < 25; i++) {
        cli();
        PORTD |= _BV(HX_SCK);
        _delay_us(1);
        pins = PIND;
        PORTD &= (uint8_t)~_BV(HX_SCK);
        sei();
        if (i < 24) {
            l = (l << 1) | ((pins >> HX_DOUT_LEFT) & 1u);
            r = (r << 1) | ((pins >> HX_DOUT_RIGHT) & 1u);
        }
        _delay_us(1);
    }
    *left = sign_extend(l);
    *right = sign_extend(r);
}
