#ifndef PINGAN_CCURL_H
#define PINGAN_CCURL_H

// libcurl from Debian's libcurl4-openssl-dev. curl_easy_setopt and curl_easy_getinfo are
// variadic, which Swift cannot call; these typed shims are the only additions.
#include <curl/curl.h>

CURLcode pingan_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode pingan_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode pingan_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode pingan_curl_setopt_write_function(CURL *handle,
    size_t (*callback)(char *data, size_t size, size_t count, void *context));
CURLcode pingan_curl_setopt_read_function(CURL *handle,
    size_t (*callback)(char *buffer, size_t size, size_t count, void *context));
CURLcode pingan_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode pingan_curl_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
CURLMcode pingan_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
