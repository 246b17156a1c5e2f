/*
 * Reference rig firmware for the ATmega328P at 16 MHz (Arduino Uno / Nano):
 * two HX711 at 80 Hz (or 10 Hz), UART at 115200 baud, protocol.md version 1.
 *
 * This file is the hardware layer (hal.h): UART with interrupt-driven
 * queues, a 1 ms clock on timer 0, the serial number in EEPROM, the firmware
 * version in flash, the HX711 pair (hx711.c) and the rig's button.  The
 * protocol itself is in core/.
 *
 * The sample clock is the HX711's own conversion clock.  A conversion read
 * late is detected from the time between reads (EVENT OVERRUN for the ones
 * missed); an ADC that stops answering for 3 sample periods gets EVENT
 * FAULT 1 and, while streaming, samples flagged ADC fault (last values held)
 * at the nominal rate from the 1 ms clock, so the host's time axis goes on.
 */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <string.h>

#include "../core/hal.h"
#include "../core/rig.h"
#include "hx711.h"

#ifndef SERIAL_NUMBER
#define SERIAL_NUMBER "NR-UNO-0001"
#endif
#define BAUD 115200ul
#define UBRR_VALUE ((F_CPU / (8ul * BAUD)) - 1ul) /* double speed: 16 -> 117647 baud, 2.1 % */
#define BOOT_RATE_MHZ 80000ul
#define BUTTON PD6 /* to ground; internal pull-up */
#define LED PB5    /* Arduino D13: on while streaming */

/* The serial number belongs to the rig, not to a firmware build: it lives in EEPROM.
 * A blank EEPROM (the Arduino boot loader cannot write it) gets the build's
 * SERIAL_NUMBER at first boot; later firmware updates keep it. */
EEMEM char ee_serial[16] = SERIAL_NUMBER;
static const char build_serial[16] PROGMEM = SERIAL_NUMBER;
static const char firmware_version[] PROGMEM = "ref-1.0 avr";

static void serial_to_eeprom(void)
{
    char serial[16];
    if (eeprom_read_byte((const uint8_t *)ee_serial) != 0xFFu)
        return;
    memcpy_P(serial, build_serial, sizeof serial);
    eeprom_update_block(serial, ee_serial, sizeof serial);
}

static volatile uint32_t ms;
static volatile uint8_t rx_buf[64], rx_head, rx_tail;
static volatile uint8_t tx_buf[256], tx_head, tx_tail; /* 8-bit indices wrap by themselves */

ISR(TIMER0_COMPA_vect) { ms++; }

ISR(USART_RX_vect)
{
    uint8_t byte = UDR0, next = (uint8_t)((rx_head + 1u) & 63u);
    if (next != rx_tail) {
        rx_buf[rx_head] = byte;
        rx_head = next;
    }
}

ISR(USART_UDRE_vect)
{
    if (tx_tail == tx_head) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
        return;
    }
    UDR0 = tx_buf[tx_tail++];
}

/* -- hal.h ------------------------------------------------------------------------ */
uint32_t hal_millis(void)
{
    uint32_t now;
    cli();
    now = ms;
    sei();
    return now;
}

uint16_t hal_tx_free(void) { return (uint16_t)(255u - (uint8_t)(tx_head - tx_tail)); }

void hal_tx_write(const uint8_t *data, uint16_t len)
{
    uint8_t head = tx_head;
    while (len--) {
        tx_buf[head] = *data++;
        head++;
        tx_head = head; /* published only after its byte is stored: the ISR may be sending */
    }
    UCSR0B |= _BV(UDRIE0);
}

uint8_t hal_rx_read(uint8_t *byte)
{
    if (rx_tail == rx_head)
        return 0;
    *byte = rx_buf[rx_tail];
    rx_tail = (uint8_t)((rx_tail + 1u) & 63u);
    return 1;
}

uint8_t hal_rate_ok(uint32_t rate_mhz) { return rate_mhz == 80000ul || rate_mhz == 10000ul; }

#define SETTLE_MS 500u /* HX711 power-up or rate change: 400 ms at 10 Hz, then data */

static uint32_t period_ms = 12; /* whole ms per sample, for the watchdog */
static uint32_t last_read;      /* ms of the last conversion read */
static uint32_t quiet_ms = SETTLE_MS; /* no conversion for longer: the ADC is not answering */

void hal_set_rate(uint32_t rate_mhz)
{
    hx711_fast(rate_mhz == 80000ul);
    period_ms = 1000000ul / rate_mhz;
    last_read = hal_millis();
    quiet_ms = SETTLE_MS;
}

static uint8_t adc_dead;    /* no conversion for 3 periods */
static uint32_t fault_acc;  /* millihertz-milliseconds toward the next flagged sample */
static uint32_t fault_ms;   /* ms up to which flagged samples were made */
static int32_t held_left, held_right;
static uint8_t session_reads; /* conversions read since START (up to 2) */

void hal_stream(uint8_t on)
{
    session_reads = 0;
    if (on) {
        last_read = hal_millis();
        fault_ms = last_read;
        fault_acc = 0;
        PORTB |= _BV(LED);
    } else {
        PORTB &= (uint8_t)~_BV(LED);
    }
}

void hal_identity(char serial[16], char firmware[16])
{
    eeprom_read_block(serial, ee_serial, 16);
    if ((uint8_t)serial[0] == 0xFFu || serial[0] == 0) {
        memset(serial, 0, 16);
        memcpy(serial, "NR-UNO-UNSET", 12);
    }
    strncpy_P(firmware, firmware_version, 16);
}

/* -- the ADC pair ------------------------------------------------------------------- */
static void sample_adc(void)
{
    uint32_t now = hal_millis();
    if (hx711_ready()) {
        uint32_t gap = now - last_read;
        hx711_read(&held_left, &held_right);
        if (adc_dead) {
            adc_dead = 0;
        } else if (rig_streaming() && session_reads && gap > period_ms + period_ms / 2u + 2u) {
            /* conversions came and went unread: the index must still count them */
            rig_lost((uint16_t)((gap + period_ms / 2u) / period_ms - 1u));
        }
        last_read = now;
        quiet_ms = 3u * period_ms + 2u;
        if (session_reads < 2u)
            session_reads++;
        if (rig_streaming())
            rig_sample(held_left, held_right, 0);
        return;
    }
    if (!adc_dead && now - last_read > quiet_ms) {
        adc_dead = 1;
        fault_ms = last_read;
        fault_acc = 0;
        if (!rig_streaming())
            rig_fault(RIG_FAULT_ADC);
    }
    if (adc_dead && rig_streaming()) {
        uint32_t rate = rig_rate_mhz();
        while (fault_ms != now) {
            fault_ms++;
            fault_acc += rate;
            if (fault_acc >= 1000000ul) {
                fault_acc -= 1000000ul;
                rig_sample(held_left, held_right, 1);
            }
        }
    }
}

static void button(void)
{
    static uint8_t was_down;
    static uint32_t since;
    uint8_t down = !(PIND & _BV(BUTTON));
    uint32_t now = hal_millis();
    if (down != was_down && now - since > 20u) {
        since = now;
        was_down = down;
        if (down)
            rig_button();
    }
}

int main(void)
{
    UBRR0 = (uint16_t)UBRR_VALUE;
    UCSR0A = _BV(U2X0);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    TCCR0A = _BV(WGM01);                /* CTC: 16 MHz / 64 / 250 = 1 kHz */
    OCR0A = 249;
    TCCR0B = _BV(CS01) | _BV(CS00);
    TIMSK0 = _BV(OCIE0A);
    DDRB |= _BV(LED);
    PORTD |= _BV(BUTTON);
    serial_to_eeprom();
    hx711_init();
    hal_set_rate(BOOT_RATE_MHZ);
    sei();
    rig_init(BOOT_RATE_MHZ, 24);
    for (;;) {
        sample_adc();
        button();
        rig_poll();
    }
}
