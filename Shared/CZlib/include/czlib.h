#ifndef PINGAN_CZLIB_H
#define PINGAN_CZLIB_H

// zlib from Debian's zlib1g-dev, for gzip bodies. deflateInit2/inflateInit2 are macros Swift
// cannot call, and a whole buffer in and out is all Pingan needs, so these two functions are
// the interface; Shared/Connect/Gzip.swift wraps them.
#include <stddef.h>
#include <stdint.h>

// Results of pingan_gunzip.
enum {
    PINGAN_GZIP_OK = 0,
    PINGAN_GZIP_CORRUPT = 1,
    PINGAN_GZIP_TOO_LARGE = 2,
    PINGAN_GZIP_NO_MEMORY = 3,
};

// Compresses `length` bytes as one gzip member into a malloc'd buffer the caller frees.
// Returns 0 on success.
int pingan_gzip(const uint8_t *input, size_t length, uint8_t **output, size_t *output_length);

// Decompresses gzip data (one or more members) into a malloc'd buffer the caller frees,
// stopping with PINGAN_GZIP_TOO_LARGE as soon as the output would pass `limit` bytes.
int pingan_gunzip(const uint8_t *input, size_t length, size_t limit, uint8_t **output, size_t *output_length);

#endif
