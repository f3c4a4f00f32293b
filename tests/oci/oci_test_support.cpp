#include "tests/oci/oci_test_support.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>

#include "core/oci/image.h"
#include "tests/common/test_support.h"

namespace kiln::oci::test {

namespace fs = std::filesystem;

std::vector<TarEntry> readTar(const fs::path& file) {
  std::unique_ptr<archive, int (*)(archive*)> reader(archive_read_new(),
                                                     archive_read_free);
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), file.c_str(), 65536) !=
      ARCHIVE_OK) {
    throw std::runtime_error("cannot open " + file.string() + ": " +
                             archive_error_string(reader.get()));
  }
  std::vector<TarEntry> entries;
  archive_entry* entry = nullptr;
  while (true) {
    // ARCHIVE_WARN: a name that the C locale cannot show, which the UTF-8
    // getter below still returns.
    int status = archive_read_next_header(reader.get(), &entry);
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      break;
    }
    TarEntry item;
    const char* utf8 = archive_entry_pathname_utf8(entry);
    item.path = utf8 != nullptr ? utf8 : archive_entry_pathname(entry);
    if (!item.path.empty() && item.path.back() == '/') {
      item.path.pop_back();
    }
    switch (archive_entry_filetype(entry)) {
      case AE_IFDIR:
        item.type = EntryType::directory;
        break;
      case AE_IFLNK:
        item.type = EntryType::symlink;
        item.linkTarget = archive_entry_symlink(entry);
        break;
      default:
        item.type = EntryType::file;
        break;
    }
    item.mode = archive_entry_mode(entry) & 07777;
    item.uid = archive_entry_uid(entry);
    item.gid = archive_entry_gid(entry);
    item.mtime = archive_entry_mtime(entry);
    item.hasAtime = archive_entry_atime_is_set(entry);
    item.hasCtime = archive_entry_ctime_is_set(entry);
    item.uname = archive_entry_uname(entry) ? archive_entry_uname(entry) : "";
    item.gname = archive_entry_gname(entry) ? archive_entry_gname(entry) : "";
    char buffer[65536];
    la_ssize_t count;
    while ((count = archive_read_data(reader.get(), buffer, sizeof buffer)) >
           0) {
      item.content.append(buffer, static_cast<std::size_t>(count));
    }
    entries.push_back(std::move(item));
  }
  return entries;
}

int freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::size_t countFiles(const fs::path& dir) {
  std::size_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      ++count;
    }
  }
  return count;
}

void setTimes(const fs::path& path, std::int64_t atime, std::int64_t mtime) {
  timespec times[2] = {{static_cast<time_t>(atime), 0},
                       {static_cast<time_t>(mtime), 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    throw std::runtime_error("utimensat failed for " + path.string());
  }
}

void corruptFile(const fs::path& file) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  auto size = fs::file_size(file);
  stream.seekg(static_cast<std::streamoff>(size / 2));
  char byte = 0;
  stream.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  stream.seekp(static_cast<std::streamoff>(size / 2));
  stream.write(&byte, 1);
}

Descriptor buildAppImage(Layout& layout, const std::string& name,
                         Compression compression, const std::string& message) {
  if (!fs::exists(basesLayout() / "index.json")) {
    throw std::runtime_error(
        basesLayout().string() +
        " is missing; run the tests with ctest (the oci_build_bases fixture "
        "builds it) or run examples/bases/build-bases.sh " +
        basesLayout().string());
  }
  Layout bases = Layout::open(basesLayout());
  StoredImage base = bases.readImage("node20");
  layout.copyImageBlobsFrom(bases, base);

  LayerEntry server;
  server.path = "app/server.js";
  server.content =
      "console.log(require('fs').readFileSync('/app/data/hello.txt', "
      "'utf8').trim());\n";
  LayerEntry data;
  data.path = "app/data/hello.txt";
  data.content = message + "\n";
  LayerEntry current;
  current.path = "app/current";
  current.type = EntryType::symlink;
  current.linkTarget = "server.js";
  LayerOptions options;
  options.compression = compression;
  fs::path temporary = layout.temporaryPath();
  LayerResult layer = writeLayer({server, data, current}, options, temporary);
  layout.putBlobFile(temporary, layer.digest, true);

  ImageSpec spec;
  spec.base = BaseImage{base.manifest, base.config, ""};
  spec.layers = {{layer.descriptor(), layer.diffId, "kiln test app layer"}};
  spec.config.cmd = std::vector<std::string>{"node", "/app/server.js"};
  spec.config.env = {"NODE_ENV=production"};
  spec.config.workingDir = "/app";
  spec.config.user = "10001:10001";
  spec.config.exposedPorts = {"8080"};
  AssembledImage image = assembleImage(spec);
  layout.putBlob(image.config);
  layout.putBlob(image.manifest);
  layout.setImage(name, image.manifestDescriptor);
  return image.manifestDescriptor;
}

fs::path sourceDir() {
  return KILN_SOURCE_DIR;
}

fs::path basesLayout() {
  return KILN_OCI_BASES;
}

TestRegistry::TestRegistry(const fs::path& dir, const std::string& credentials)
    : dir_(dir) {
  fs::path script = sourceDir() / "tests/support/registry.sh";
  // The port may be taken between freeLoopbackPort() and the registry's
  // bind; registry.sh then fails at once, so try a few ports.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freeLoopbackPort();
    std::vector<std::string> argv = {script.string(), "start", dir.string(),
                                     std::to_string(port_)};
    if (!credentials.empty()) {
      argv.push_back("--htpasswd");
      argv.push_back(credentials);
    }
    kiln::test::RunResult result = kiln::test::run(argv, dir.parent_path());
    if (result.exitCode == 0) {
      return;
    }
    if (attempt == 4) {
      throw std::runtime_error("registry.sh start failed: " + result.output);
    }
  }
}

TestRegistry::~TestRegistry() {
  fs::path script = sourceDir() / "tests/support/registry.sh";
  kiln::test::run({script.string(), "stop", dir_.string()}, dir_.parent_path());
}

int TestRegistry::uploadCount() const {
  std::ifstream log(dir_ / "registry.log");
  static const std::regex kUpload("\"POST /v2/[^ ]*/blobs/uploads/");
  int count = 0;
  std::string line;
  while (std::getline(log, line)) {
    if (std::regex_search(line, kUpload)) {
      ++count;
    }
  }
  return count;
}

namespace {

// Counts the access-log lines of `log` that match `pattern`.
int countLogLines(const fs::path& log, const std::regex& pattern) {
  std::ifstream in(log);
  int count = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (std::regex_search(line, pattern)) {
      ++count;
    }
  }
  return count;
}

}  // namespace

int TestRegistry::completedUploadsOf(const std::string& hex) const {
  // The access log shows the request target as sent, so the ':' of the
  // digest may be percent-encoded.
  std::regex upload(
      "\"PUT /v2/[^ ]*/blobs/uploads/[^ ]*[?&]digest=sha256(:|%3A)" + hex +
      "[^ ]* HTTP/[0-9.]+\" 201 ");
  return countLogLines(dir_ / "registry.log", upload);
}

int TestRegistry::mountsOf(const std::string& hex) const {
  std::regex mount(
      "\"POST /v2/[^ ]*/blobs/uploads/\\?[^ ]*mount=sha256(:|%3A)" + hex +
      "[^ ]* HTTP/[0-9.]+\" 201 ");
  return countLogLines(dir_ / "registry.log", mount);
}

fs::path TestRegistry::blobData(const std::string& hex) const {
  return dir_ / "data/docker/registry/v2/blobs/sha256" / hex.substr(0, 2) /
         hex / "data";
}

}  // namespace kiln::oci::test
