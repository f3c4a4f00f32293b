#pragma once

#include <stdexcept>
#include <string>

#include "util/error.h"

namespace kiln::oci {

/// A blob whose bytes do not hash to the digest that names it: a corrupt
/// download, a tampered registry or a damaged layout. It is never a user
/// mistake, so it is not a UsageError.
class DigestMismatchError : public std::runtime_error {
 public:
  DigestMismatchError(const std::string& what, const std::string& expected,
                      const std::string& actual)
      : std::runtime_error(what + ": expected " + expected + ", got " + actual),
        expected_(expected),
        actual_(actual) {}

  const std::string& expected() const { return expected_; }
  const std::string& actual() const { return actual_; }

 private:
  std::string expected_;
  std::string actual_;
};

/// The kind of registry failure that the user has to fix.
enum class RegistryFailure {
  notFound,      // the repository, tag or manifest does not exist
  unreachable,   // TLS failed; no connection is RegistryUnreachableError
  unauthorized,  // 401 or 403 after authentication
  rejected,      // another 4xx, such as an invalid name or manifest
};

/// A registry error that ends the command, with a hint that names what to
/// check. Its text never contains credentials or tokens.
class RegistryError : public UsageError {
 public:
  RegistryError(RegistryFailure failure, const std::string& message,
                std::string hint = {})
      : UsageError(message, std::move(hint)), failure_(failure) {}

  RegistryFailure failure() const { return failure_; }

 private:
  RegistryFailure failure_;
};

}  // namespace kiln::oci
