#include "core/oci/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace kiln::oci {

namespace {

// Makes the calling thread use the C.UTF-8 locale until destroyed.
// libarchive converts names from the locale's character set to UTF-8 for pax
// headers. In the "C" locale a non-ASCII name fails that conversion and gets
// a "hdrcharset=BINARY" record, so the bytes would depend on the process
// locale. C.UTF-8 is built into glibc since 2.35.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() {
    static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t(0));
    if (utf8 == locale_t(0)) {
      throw std::runtime_error(
          "the C.UTF-8 locale is missing; tar names need it (glibc 2.35+)");
    }
    previous_ = uselocale(utf8);
  }
  ~ScopedUtf8Locale() { uselocale(previous_); }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t previous_;
};

struct EntryDeleter {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

}  // namespace

long TarWriter::writeCallback(struct archive*, void* client, const void* data,
                              std::size_t size) {
  auto* self = static_cast<TarWriter*>(client);
  try {
    self->out_.write(data, size);
    return static_cast<la_ssize_t>(size);
  } catch (...) {
    // libarchive is C and cannot carry exceptions, so fail() rethrows this
    // one after libarchive returns.
    self->sinkError_ = std::current_exception();
    return -1;
  }
}

TarWriter::TarWriter(ByteSink& out) : out_(out), archive_(archive_write_new()) {
  if (archive_ == nullptr) {
    throw std::runtime_error("libarchive could not create a tar writer");
  }
  if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
      archive_write_add_filter_none(archive_) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(archive_, 10240) != ARCHIVE_OK ||
      archive_write_open(archive_, this, nullptr, writeCallback, nullptr) !=
          ARCHIVE_OK) {
    std::string error = archive_error_string(archive_) != nullptr
                            ? archive_error_string(archive_)
                            : "unknown error";
    archive_write_free(archive_);
    throw std::runtime_error("libarchive could not start a tar stream: " +
                             error);
  }
}

TarWriter::~TarWriter() {
  if (!finished_) {
    // Abandoned after an error: free without writing the end records.
    archive_write_fail(archive_);
  }
  archive_write_free(archive_);
}

void TarWriter::fail(const std::string& what) {
  if (sinkError_) {
    std::rethrow_exception(sinkError_);
  }
  const char* error = archive_error_string(archive_);
  throw std::runtime_error(what + ": " + (error != nullptr ? error : "failed"));
}

void TarWriter::writeHeader(const TarHeader& header) {
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_copy_pathname(entry.get(), header.path.c_str());
  switch (header.type) {
    case EntryType::directory:
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
      break;
    case EntryType::file:
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_size(entry.get(), header.size);
      break;
    case EntryType::symlink:
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_copy_symlink(entry.get(), header.linkTarget.c_str());
      break;
  }
  archive_entry_set_perm(entry.get(), header.mode & 07777);
  archive_entry_set_uid(entry.get(), header.uid);
  archive_entry_set_gid(entry.get(), header.gid);
  archive_entry_set_mtime(entry.get(), header.mtime, 0);
  ScopedUtf8Locale locale;
  // ARCHIVE_WARN means a name could not be converted and was stored as
  // binary; writeLayer's callers pass valid UTF-8, so treat it as an error.
  if (archive_write_header(archive_, entry.get()) != ARCHIVE_OK) {
    fail("cannot write the tar header of '" + header.path + "'");
  }
}

void TarWriter::writeData(const void* data, std::size_t size) {
  la_ssize_t written = archive_write_data(archive_, data, size);
  if (written < 0 || static_cast<std::size_t>(written) != size) {
    fail("cannot write tar data");
  }
}

void TarWriter::writeFile(TarHeader header,
                          const std::filesystem::path& source) {
  int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot read " + source.string());
  }
  try {
    writeFile(std::move(header), fd, source);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void TarWriter::writeFile(TarHeader header, int fd,
                          const std::filesystem::path& name) {
  struct stat status;
  if (::fstat(fd, &status) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot stat " + name.string());
  }
  if (!S_ISREG(status.st_mode)) {
    throw std::runtime_error(name.string() + " is not a regular file");
  }
  header.size = status.st_size;
  writeHeader(header);

  constexpr std::size_t kChunk = 256 * 1024;
  static thread_local std::vector<char> buffer(kChunk);
  std::int64_t left = header.size;
  while (left > 0) {
    std::size_t want =
        static_cast<std::size_t>(std::min<std::int64_t>(left, kChunk));
    ssize_t count = ::read(fd, buffer.data(), want);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot read " + name.string());
    }
    if (count == 0) {
      throw std::runtime_error(name.string() +
                               " became shorter while it was read");
    }
    writeData(buffer.data(), static_cast<std::size_t>(count));
    left -= count;
  }
  char extra;
  if (::read(fd, &extra, 1) > 0) {
    throw std::runtime_error(name.string() +
                             " became longer while it was read");
  }
}

void TarWriter::writeBytes(TarHeader header, std::string_view content) {
  header.size = static_cast<std::int64_t>(content.size());
  writeHeader(header);
  if (!content.empty()) {
    writeData(content.data(), content.size());
  }
}

void TarWriter::finish() {
  if (archive_write_close(archive_) != ARCHIVE_OK) {
    fail("cannot finish the tar stream");
  }
  finished_ = true;
}

}  // namespace kiln::oci
