/* COBS and CRC-16 for protocol.md frames, without heap or lookup tables. */
#include "frame.h"

uint16_t crc16_update(uint16_t crc, uint8_t byte)
{
    uint8_t i;
    crc ^= (uint16_t)byte << 8;
    for (i = 0; i < 8; i++)
        crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    return crc;
}

uint16_t crc16(const uint8_t *data, uint16_t len)
{
    uint16_t crc = 0xFFFFu;
    while (len--)
        crc = crc16_update(crc, *data++);
    return crc;
}

uint16_t frame_encode_in_place(uint8_t *buf, uint16_t body_len)
{
    /* Payload = body || crc at buf[1..n]; each 0x00 becomes the distance to the
     * next one (or to the end), starting from the code byte at buf[0].  The
     * payload is at most 254 bytes, so no run needs a 0xFF code. */
    uint16_t crc = crc16(buf + 1, body_len);
    uint16_t n = body_len + 2u;
    uint16_t code_pos = 0, j;
    buf[body_len + 1u] = (uint8_t)(crc & 0xFFu);
    buf[body_len + 2u] = (uint8_t)(crc >> 8);
    for (j = 1; j <= n; j++) {
        if (buf[j] == 0) {
            buf[code_pos] = (uint8_t)(j - code_pos);
            code_pos = j;
        }
    }
    buf[code_pos] = (uint8_t)(n + 1u - code_pos);
    buf[n + 1u] = 0;
    return (uint16_t)(n + 2u);
}

int16_t frame_decode_in_place(uint8_t *buf, uint16_t len)
{
    uint16_t i = 0, out = 0;
    uint16_t crc;
    if (len == 0 || len > FRAME_MAX_PAYLOAD + 1u)
        return -1;
    while (i < len) {
        uint8_t code = buf[i];
        uint16_t k;
        if (code == 0 || (uint16_t)(i + code) > len)
            return -1;
        for (k = 1; k < code; k++)
            buf[out++] = buf[i + k];
        i = (uint16_t)(i + code);
        if (code < 0xFFu && i < len)
            buf[out++] = 0;
    }
    if (out < 3)
        return -1;
    out = (uint16_t)(out - 2u);
    crc = crc16(buf, out);
    if ((uint8_t)(crc & 0xFFu) != buf[out] || (uint8_t)(crc >> 8) != buf[out + 1u])
        return -1;
    return (int16_t)out;
}
