// The libcurl functions kiln calls, loaded from libcurl.so.4 on first use.
//
// Linking libcurl directly runs the constructors of everything it links
// (GnuTLS, Kerberos, LDAP...) at every start. That cost about 4 ms of CPU
// here, a tenth of a no-op build, which never talks to a server. These
// definitions replace libcurl's at link time and forward to the real ones.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include <cstdarg>

#include "util/lazy_library.h"

namespace {

kiln::LazyLibrary libcurl("libcurl.so.4", "libcurl4");

}  // namespace

extern "C" {

CURLcode curl_global_init(long flags) {
  KILN_FORWARD(libcurl, curl_global_init);
  return real(flags);
}

CURL* curl_easy_init(void) {
  KILN_FORWARD(libcurl, curl_easy_init);
  return real();
}

// curl_easy_setopt takes one argument after the option, whose type the
// option's number gives (curl.h: CURLOPTTYPE_*), as libcurl itself reads it.
CURLcode curl_easy_setopt(CURL* handle, CURLoption option, ...) {
  KILN_FORWARD(libcurl, curl_easy_setopt);
  va_list arguments;
  va_start(arguments, option);
  CURLcode result;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    result = real(handle, option, va_arg(arguments, long));
  } else if (option < CURLOPTTYPE_OFF_T) {
    // On x86-64 and arm64, object and function pointers are passed alike.
    result = real(handle, option, va_arg(arguments, void*));
  } else if (option < CURLOPTTYPE_BLOB) {
    result = real(handle, option, va_arg(arguments, curl_off_t));
  } else {
    result = real(handle, option, va_arg(arguments, void*));
  }
  va_end(arguments);
  return result;
}

// Every curl_easy_getinfo argument is a pointer to the result.
CURLcode curl_easy_getinfo(CURL* handle, CURLINFO info, ...) {
  KILN_FORWARD(libcurl, curl_easy_getinfo);
  va_list arguments;
  va_start(arguments, info);
  void* out = va_arg(arguments, void*);
  va_end(arguments);
  return real(handle, info, out);
}

CURLcode curl_easy_perform(CURL* handle) {
  KILN_FORWARD(libcurl, curl_easy_perform);
  return real(handle);
}

void curl_easy_reset(CURL* handle) {
  KILN_FORWARD(libcurl, curl_easy_reset);
  real(handle);
}

void curl_easy_cleanup(CURL* handle) {
  KILN_FORWARD(libcurl, curl_easy_cleanup);
  real(handle);
}

const char* curl_easy_strerror(CURLcode code) {
  KILN_FORWARD(libcurl, curl_easy_strerror);
  return real(code);
}

char* curl_easy_escape(CURL* handle, const char* text, int length) {
  KILN_FORWARD(libcurl, curl_easy_escape);
  return real(handle, text, length);
}

void curl_free(void* pointer) {
  KILN_FORWARD(libcurl, curl_free);
  real(pointer);
}

struct curl_slist* curl_slist_append(struct curl_slist* list,
                                     const char* text) {
  KILN_FORWARD(libcurl, curl_slist_append);
  return real(list, text);
}

void curl_slist_free_all(struct curl_slist* list) {
  KILN_FORWARD(libcurl, curl_slist_free_all);
  real(list);
}

}  // extern "C"
