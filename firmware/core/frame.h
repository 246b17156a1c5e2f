/* Wire framing of protocol.md: COBS(body || crc16_le(body)) || 0x00. */
#ifndef NORDIC_FRAME_H
#define NORDIC_FRAME_H

#include <stdint.h>

#define FRAME_MAX_PAYLOAD 254u /* body || crc */
#define FRAME_MAX_BODY (FRAME_MAX_PAYLOAD - 2u)
/* An encoded frame with its delimiter: one code byte, payload, 0x00. */
#define FRAME_WIRE_LEN(body_len) ((uint16_t)((body_len) + 2u + 2u))

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR. */
uint16_t crc16_update(uint16_t crc, uint8_t byte);
uint16_t crc16(const uint8_t *data, uint16_t len);

/*
 * Encode in place: buf[1..body_len] holds the body; on return buf[0..n-1] is the
 * wire frame with its 0x00 delimiter and n is returned.  buf must hold
 * body_len + 4 bytes and body_len <= FRAME_MAX_BODY.
 */
uint16_t frame_encode_in_place(uint8_t *buf, uint16_t body_len);

/*
 * Decode one frame (without its delimiter) in place.  Returns the body length
 * (CRC checked and removed), or -1 when COBS or CRC fail or the frame is empty.
 */
int16_t frame_decode_in_place(uint8_t *buf, uint16_t len);

#endif
