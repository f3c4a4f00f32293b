#include "util/lazy_library.h"

#include <dlfcn.h>

#include <stdexcept>

namespace kiln {

void* LazyLibrary::symbol(const char* name) {
  std::call_once(once_, [this] {
    handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* reason = ::dlerror();
      error_ = reason != nullptr ? reason : "unknown error";
    }
  });
  if (handle_ == nullptr) {
    throw std::runtime_error(std::string("failed to load ") + soname_ + " (" +
                             error_ + "); install it with: apt-get install " +
                             package_);
  }
  void* address = ::dlsym(handle_, name);
  if (address == nullptr) {
    throw std::runtime_error(std::string(soname_) + " is missing " + name +
                             "; install a newer " + package_);
  }
  return address;
}

}  // namespace kiln
