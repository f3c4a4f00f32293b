#include "tests/common/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace kiln::test {

namespace {

constexpr int kPollMilliseconds = 50;
constexpr auto kMaxLifetime = std::chrono::seconds(60);
constexpr int kMaxConnections = 1000;
constexpr std::size_t kMaxHead = 64 * 1024;

int bindLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed");
  }
  int enabled = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &enabled, sizeof enabled);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() on 127.0.0.1 failed");
  }
  return fd;
}

int boundPort(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// Waits up to kPollMilliseconds for `fd` to be readable.
bool readable(int fd) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, kPollMilliseconds) > 0;
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

int findFreePort() {
  int fd = bindLoopback(0);
  int port = boundPort(fd);
  ::close(fd);
  return port;
}

LoopbackServer::LoopbackServer(int status, std::string body)
    : LoopbackServer(status, std::move(body), false) {}

std::unique_ptr<LoopbackServer> LoopbackServer::hanging() {
  return std::unique_ptr<LoopbackServer>(new LoopbackServer(0, {}, true));
}

LoopbackServer::LoopbackServer(int status, std::string body, bool hang)
    : status_(status), body_(std::move(body)), hang_(hang) {
  listener_ = bindLoopback(0);
  port_ = boundPort(listener_);
  if (::listen(listener_, 16) != 0) {
    ::close(listener_);
    throw std::runtime_error("listen() failed");
  }
  thread_ = std::thread([this] { serve(); });
}

LoopbackServer::~LoopbackServer() {
  stop_ = true;
  thread_.join();
  for (int client : openClients_) {
    ::close(client);
  }
  ::close(listener_);
}

std::string LoopbackServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> LoopbackServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void LoopbackServer::serve() {
  auto deadline = std::chrono::steady_clock::now() + kMaxLifetime;
  int connections = 0;
  while (!stop_ && std::chrono::steady_clock::now() < deadline &&
         connections < kMaxConnections) {
    if (!readable(listener_)) {
      continue;
    }
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    ++connections;
    handle(client);
  }
}

void LoopbackServer::handle(int client) {
  // Read the head, then any body announced by Content-Length, so that a
  // PUT's body is consumed before the response.
  std::string data;
  char buffer[4096];
  std::size_t headEnd = std::string::npos;
  while (!stop_ && headEnd == std::string::npos && data.size() < kMaxHead) {
    if (!readable(client)) {
      continue;
    }
    ssize_t count = ::read(client, buffer, sizeof buffer);
    if (count <= 0) {
      break;
    }
    data.append(buffer, static_cast<std::size_t>(count));
    headEnd = data.find("\r\n\r\n");
  }
  if (headEnd == std::string::npos) {
    ::close(client);
    return;
  }
  std::string head = data.substr(0, headEnd);
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(head);
  }

  if (hang_) {
    openClients_.push_back(client);
    return;
  }

  std::size_t bodyBytes = data.size() - headEnd - 4;
  std::size_t length = 0;
  std::size_t at = head.find("Content-Length: ");
  if (at != std::string::npos) {
    length = std::stoul(head.substr(at + 16));
  }
  while (!stop_ && bodyBytes < length) {
    if (!readable(client)) {
      continue;
    }
    ssize_t count = ::read(client, buffer, sizeof buffer);
    if (count <= 0) {
      break;
    }
    bodyBytes += static_cast<std::size_t>(count);
  }

  std::string response = "HTTP/1.1 " + std::to_string(status_) + " " +
                         reasonPhrase(status_) +
                         "\r\nContent-Length: " + std::to_string(body_.size()) +
                         "\r\nConnection: close\r\n\r\n";
  if (head.rfind("HEAD ", 0) != 0) {
    response += body_;
  }
  ::send(client, response.data(), response.size(), MSG_NOSIGNAL);
  ::close(client);
}

}  // namespace kiln::test
