#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "cache/remote/signature.h"
#include "tests/common/test_support.h"
#include "util/error.h"

using namespace kiln;

namespace {

RemoteActionEntry sampleEntry() {
  RemoteActionEntry entry;
  entry.manifest = sha256("manifest bytes");
  entry.manifestSize = 14;
  return entry;
}

}  // namespace

TEST_CASE("signature verifies a signed entry", "[signature]") {
  SigningKey key = SigningKey::generate();
  Digest actionKey = sha256("action one");
  RemoteActionEntry entry = sampleEntry();
  entry.signature = signActionEntry(key, actionKey, entry);

  CHECK(entry.signature.size() == 64);
  CHECK(verifyActionEntry(key.verifyingKey(), actionKey, entry));
}

TEST_CASE("signature rejects a tampered manifest digest", "[signature]") {
  SigningKey key = SigningKey::generate();
  Digest actionKey = sha256("action one");
  RemoteActionEntry entry = sampleEntry();
  entry.signature = signActionEntry(key, actionKey, entry);

  RemoteActionEntry tampered = entry;
  tampered.manifest = sha256("other manifest");
  CHECK_FALSE(verifyActionEntry(key.verifyingKey(), actionKey, tampered));

  RemoteActionEntry resized = entry;
  resized.manifestSize = 15;
  CHECK_FALSE(verifyActionEntry(key.verifyingKey(), actionKey, resized));

  RemoteActionEntry flipped = entry;
  flipped.signature[10] ^= 1;
  CHECK_FALSE(verifyActionEntry(key.verifyingKey(), actionKey, flipped));
}

TEST_CASE("signature rejects another key", "[signature]") {
  SigningKey signer = SigningKey::generate();
  SigningKey other = SigningKey::generate();
  Digest actionKey = sha256("action one");
  RemoteActionEntry entry = sampleEntry();
  entry.signature = signActionEntry(signer, actionKey, entry);

  CHECK_FALSE(verifyActionEntry(other.verifyingKey(), actionKey, entry));
  CHECK(signer.verifyingKey().fingerprint() !=
        other.verifyingKey().fingerprint());
}

TEST_CASE("signature rejects unsigned entries", "[signature]") {
  SigningKey key = SigningKey::generate();
  RemoteActionEntry entry = sampleEntry();
  CHECK_FALSE(verifyActionEntry(key.verifyingKey(), sha256("a"), entry));

  entry.signature = std::string(64, '\0');
  CHECK_FALSE(verifyActionEntry(key.verifyingKey(), sha256("a"), entry));

  entry.signature = "short";
  CHECK_FALSE(verifyActionEntry(key.verifyingKey(), sha256("a"), entry));
}

TEST_CASE("signature rejects replay under another key", "[signature]") {
  SigningKey key = SigningKey::generate();
  Digest original = sha256("action one");
  Digest replayed = sha256("action two");
  RemoteActionEntry entry = sampleEntry();
  entry.signature = signActionEntry(key, original, entry);

  CHECK(verifyActionEntry(key.verifyingKey(), original, entry));
  CHECK_FALSE(verifyActionEntry(key.verifyingKey(), replayed, entry));
}

TEST_CASE("signing message binds key and manifest", "[signature]") {
  RemoteActionEntry entry = sampleEntry();
  std::string message = actionSigningMessage(sha256("k"), entry);
  // Context string, 32-byte action key, 32-byte digest, 8-byte size.
  CHECK(message.size() ==
        std::string("kiln remote action entry v1\n").size() + 32 + 32 + 8);
  CHECK(message != actionSigningMessage(sha256("other"), entry));
}

TEST_CASE("signature keys round trip through PEM files", "[signature]") {
  test::TempDir dir;
  generateSigningKeyPair(dir / "kiln.key", dir / "kiln.pub");

  struct stat info {};
  REQUIRE(::stat((dir / "kiln.key").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir / "kiln.pub").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0644);
  CHECK_THAT(test::readText(dir / "kiln.key"),
             Catch::StartsWith("-----BEGIN PRIVATE KEY-----"));
  CHECK_THAT(test::readText(dir / "kiln.pub"),
             Catch::StartsWith("-----BEGIN PUBLIC KEY-----"));

  SigningKey signer = SigningKey::loadPem(dir / "kiln.key");
  VerifyingKey verifier = VerifyingKey::loadPem(dir / "kiln.pub");
  CHECK(verifier.fingerprint() == signer.verifyingKey().fingerprint());

  Digest actionKey = sha256("action");
  RemoteActionEntry entry = sampleEntry();
  entry.signature = signActionEntry(signer, actionKey, entry);
  CHECK(verifyActionEntry(verifier, actionKey, entry));
}

TEST_CASE("signature key loading rejects wrong files", "[signature]") {
  test::TempDir dir;
  generateSigningKeyPair(dir / "kiln.key", dir / "kiln.pub");
  test::writeFile(dir / "garbage.pem", "not a key\n");

  // A public key file cannot be loaded as a signing key, so a reader that
  // has only the public key cannot sign.
  CHECK_THROWS_AS(SigningKey::loadPem(dir / "kiln.pub"), UsageError);
  CHECK_THROWS_AS(SigningKey::loadPem(dir / "garbage.pem"), UsageError);
  CHECK_THROWS_AS(SigningKey::loadPem(dir / "missing.key"), UsageError);
  CHECK_THROWS_AS(VerifyingKey::loadPem(dir / "garbage.pem"), UsageError);
  CHECK_THROWS_WITH(VerifyingKey::loadPem(dir / "missing.pub"),
                    Catch::Contains("missing.pub"));
}

TEST_CASE("signature loads openssl tool keys", "[signature]") {
  test::TempDir dir;
  test::RunResult generated = test::run(
      {"openssl", "genpkey", "-algorithm", "ed25519", "-out", "plain.key"},
      dir.path());
  REQUIRE(generated.exitCode == 0);
  test::RunResult exported = test::run(
      {"openssl", "pkey", "-in", "plain.key", "-pubout", "-out", "plain.pub"},
      dir.path());
  REQUIRE(exported.exitCode == 0);

  SigningKey signer = SigningKey::loadPem(dir / "plain.key");
  VerifyingKey verifier = VerifyingKey::loadPem(dir / "plain.pub");
  RemoteActionEntry entry = sampleEntry();
  entry.signature = signActionEntry(signer, sha256("k"), entry);
  CHECK(verifyActionEntry(verifier, sha256("k"), entry));
}

TEST_CASE("encrypted key rejected without prompt", "[signature]") {
  test::TempDir dir;
  test::RunResult generated =
      test::run({"openssl", "genpkey", "-algorithm", "ed25519", "-aes256",
                 "-pass", "pass:secret", "-out", "encrypted.key"},
                dir.path());
  REQUIRE(generated.exitCode == 0);
  CHECK_THROWS_WITH(SigningKey::loadPem(dir / "encrypted.key"),
                    Catch::Contains("does not contain an Ed25519 private key"));
}
