// The libarchive functions kiln calls, loaded from libarchive.so.13 on first
// use. Only layer writing needs them, and linking libarchive directly loads
// libxml2, ICU and the compression libraries at every start.
#include <archive.h>
#include <archive_entry.h>

#include "util/lazy_library.h"

namespace {

kiln::LazyLibrary libarchive("libarchive.so.13", "libarchive13");

}  // namespace

extern "C" {

struct archive* archive_write_new(void) {
  KILN_FORWARD(libarchive, archive_write_new);
  return real();
}

int archive_write_add_filter_none(struct archive* handle) {
  KILN_FORWARD(libarchive, archive_write_add_filter_none);
  return real(handle);
}

int archive_write_set_format_pax_restricted(struct archive* handle) {
  KILN_FORWARD(libarchive, archive_write_set_format_pax_restricted);
  return real(handle);
}

int archive_write_set_bytes_per_block(struct archive* handle, int bytes) {
  KILN_FORWARD(libarchive, archive_write_set_bytes_per_block);
  return real(handle, bytes);
}

int archive_write_open(struct archive* handle, void* data,
                       archive_open_callback* open,
                       archive_write_callback* write,
                       archive_close_callback* close) {
  KILN_FORWARD(libarchive, archive_write_open);
  return real(handle, data, open, write, close);
}

int archive_write_header(struct archive* handle, struct archive_entry* entry) {
  KILN_FORWARD(libarchive, archive_write_header);
  return real(handle, entry);
}

la_ssize_t archive_write_data(struct archive* handle, const void* data,
                              size_t size) {
  KILN_FORWARD(libarchive, archive_write_data);
  return real(handle, data, size);
}

int archive_write_close(struct archive* handle) {
  KILN_FORWARD(libarchive, archive_write_close);
  return real(handle);
}

int archive_write_fail(struct archive* handle) {
  KILN_FORWARD(libarchive, archive_write_fail);
  return real(handle);
}

int archive_write_free(struct archive* handle) {
  KILN_FORWARD(libarchive, archive_write_free);
  return real(handle);
}

const char* archive_error_string(struct archive* handle) {
  KILN_FORWARD(libarchive, archive_error_string);
  return real(handle);
}

struct archive_entry* archive_entry_new(void) {
  KILN_FORWARD(libarchive, archive_entry_new);
  return real();
}

void archive_entry_free(struct archive_entry* entry) {
  KILN_FORWARD(libarchive, archive_entry_free);
  real(entry);
}

void archive_entry_copy_pathname(struct archive_entry* entry,
                                 const char* path) {
  KILN_FORWARD(libarchive, archive_entry_copy_pathname);
  real(entry, path);
}

void archive_entry_copy_symlink(struct archive_entry* entry,
                                const char* target) {
  KILN_FORWARD(libarchive, archive_entry_copy_symlink);
  real(entry, target);
}

void archive_entry_set_filetype(struct archive_entry* entry,
                                unsigned int type) {
  KILN_FORWARD(libarchive, archive_entry_set_filetype);
  real(entry, type);
}

void archive_entry_set_perm(struct archive_entry* entry, __LA_MODE_T mode) {
  KILN_FORWARD(libarchive, archive_entry_set_perm);
  real(entry, mode);
}

void archive_entry_set_size(struct archive_entry* entry, la_int64_t size) {
  KILN_FORWARD(libarchive, archive_entry_set_size);
  real(entry, size);
}

void archive_entry_set_uid(struct archive_entry* entry, la_int64_t uid) {
  KILN_FORWARD(libarchive, archive_entry_set_uid);
  real(entry, uid);
}

void archive_entry_set_gid(struct archive_entry* entry, la_int64_t gid) {
  KILN_FORWARD(libarchive, archive_entry_set_gid);
  real(entry, gid);
}

void archive_entry_set_mtime(struct archive_entry* entry, time_t seconds,
                             long nanoseconds) {
  KILN_FORWARD(libarchive, archive_entry_set_mtime);
  real(entry, seconds, nanoseconds);
}

}  // extern "C"
