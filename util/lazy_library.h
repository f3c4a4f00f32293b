#pragma once

#include <mutex>
#include <string>

namespace kiln {

/// A shared library opened with dlopen on its first use. kiln defines the
/// few functions it calls from libcurl and libarchive and forwards them
/// through one of these. A build that never uploads or writes a layer then
/// does not load those libraries, and everything they link, at start-up.
class LazyLibrary {
 public:
  /// `soname` is the file to open; `package` is the Debian package that
  /// provides it, named in the error when it is missing.
  LazyLibrary(const char* soname, const char* package)
      : soname_(soname), package_(package) {}

  /// Returns the address of `name`, opening the library first if needed.
  /// Throws std::runtime_error when the library or the symbol is missing.
  void* symbol(const char* name);

 private:
  const char* soname_;
  const char* package_;
  std::once_flag once_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace kiln

/// Declares `real`, the library's own `name`, looked up on the first call.
#define KILN_FORWARD(library, name)       \
  static const auto real =                \
      reinterpret_cast<decltype(&::name)>( \
          (library).symbol(#name))
