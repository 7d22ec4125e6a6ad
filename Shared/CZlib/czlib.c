#include "czlib.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int pingan_gzip(const uint8_t *input, size_t length, uint8_t **output, size_t *output_length) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    // 15 + 16: a gzip header and trailer rather than zlib's.
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return PINGAN_GZIP_NO_MEMORY;
    size_t capacity = deflateBound(&stream, (uLong)length) + 32;
    uint8_t *buffer = malloc(capacity);
    if (buffer == NULL) { deflateEnd(&stream); return PINGAN_GZIP_NO_MEMORY; }
    stream.next_in = (Bytef *)input;
    stream.avail_in = (uInt)length;
    stream.next_out = buffer;
    stream.avail_out = (uInt)capacity;
    int result = deflate(&stream, Z_FINISH);
    size_t produced = capacity - stream.avail_out;
    deflateEnd(&stream);
    if (result != Z_STREAM_END) { free(buffer); return PINGAN_GZIP_CORRUPT; }
    *output = buffer;
    *output_length = produced;
    return PINGAN_GZIP_OK;
}

int pingan_gunzip(const uint8_t *input, size_t length, size_t limit, uint8_t **output, size_t *output_length) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit2(&stream, 15 + 16) != Z_OK) return PINGAN_GZIP_NO_MEMORY;
    size_t capacity = length * 4 + 64;
    if (capacity > limit + 1) capacity = limit + 1;
    uint8_t *buffer = malloc(capacity);
    if (buffer == NULL) { inflateEnd(&stream); return PINGAN_GZIP_NO_MEMORY; }
    stream.next_in = (Bytef *)input;
    stream.avail_in = (uInt)length;
    size_t produced = 0;
    int status = PINGAN_GZIP_OK;
    for (;;) {
        if (produced == capacity) {
            if (capacity > limit) { status = PINGAN_GZIP_TOO_LARGE; break; }
            size_t grown = capacity * 2;
            if (grown > limit + 1) grown = limit + 1;
            uint8_t *larger = realloc(buffer, grown);
            if (larger == NULL) { status = PINGAN_GZIP_NO_MEMORY; break; }
            buffer = larger;
            capacity = grown;
        }
        stream.next_out = buffer + produced;
        stream.avail_out = (uInt)(capacity - produced);
        int result = inflate(&stream, Z_NO_FLUSH);
        produced = capacity - stream.avail_out;
        if (produced > limit) { status = PINGAN_GZIP_TOO_LARGE; break; }
        if (result == Z_STREAM_END) {
            if (stream.avail_in == 0) break;
            // Another gzip member follows (concatenated members are one gzip stream).
            if (inflateReset(&stream) != Z_OK) { status = PINGAN_GZIP_CORRUPT; break; }
            continue;
        }
        if (result == Z_BUF_ERROR && stream.avail_in == 0) { status = PINGAN_GZIP_CORRUPT; break; }  // truncated
        if (result != Z_OK && result != Z_BUF_ERROR) { status = PINGAN_GZIP_CORRUPT; break; }
    }
    inflateEnd(&stream);
    if (status != PINGAN_GZIP_OK) { free(buffer); return status; }
    *output = buffer;
    *output_length = produced;
    return PINGAN_GZIP_OK;
}
